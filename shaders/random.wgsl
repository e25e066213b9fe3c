// random.wgsl: counter-based random numbers (Philox4x32-10), four per thread.
//
// Thread t hashes the counter (t, 0, offset_lo, offset_hi) under the key (seed_lo,
// seed_hi) into four 32-bit words and turns them into out[4t .. 4t+3] with DIST.
// The same seed and offset give the same numbers on every adapter, natively and in
// the browser. The generator on the host advances `offset` by the thread count.
// Bindings and Params: engine/ops/creation.py RANDOM; DIST picks the distribution.
// Grid: run(t) for each t < threads = ceil(numel / 4).

// High 32 bits of a 32x32-bit product, from 16-bit halves (WGSL has no u64).
fn mulhi(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let lo_lo = a_lo * b_lo;
  let hi_lo = a_hi * b_lo;
  let lo_hi = a_lo * b_hi;
  let cross = (lo_lo >> 16u) + (hi_lo & 0xffffu) + (lo_hi & 0xffffu);
  return a_hi * b_hi + (hi_lo >> 16u) + (lo_hi >> 16u) + (cross >> 16u);
}

fn philox(counter: vec4<u32>, seed: vec2<u32>) -> vec4<u32> {
  var ctr = counter;
  var key = seed;
  for (var round = 0u; round < 10u; round++) {
    let hi0 = mulhi(0xD2511F53u, ctr.x);
    let lo0 = 0xD2511F53u * ctr.x;
    let hi1 = mulhi(0xCD9E8D57u, ctr.z);
    let lo1 = 0xCD9E8D57u * ctr.z;
    ctr = vec4<u32>(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
    key += vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
  }
  return ctr;
}

// Uniform in [0, 1) with 24 random bits.
fn unit(w: u32) -> f32 {
  return f32(w >> 8u) * (1.0 / 16777216.0);
}

// log(x) for x in (0, 1], Cephes' logf: an exact split of the bits into exponent and
// mantissa, then a polynomial. Only +, - and * (correctly rounded in WGSL), so every
// adapter gives the same value to an ulp or so; the builtin log, cos and sin may be off
// by far more (WGSL allows cos and sin an absolute error of 2^-11, and SwiftShader's are
// that coarse), and the normals would then differ between the browser and native.
fn portable_log(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  var e = f32(i32(bits >> 23u) - 126);
  var m = bitcast<f32>((bits & 0x007fffffu) | 0x3f000000u);  // x = m 2^e, m in [0.5, 1)
  if (m < 0.70710678118654752) {
    e -= 1.0;
    m = m + m - 1.0;  // exact
  } else {
    m = m - 1.0;  // exact
  }
  let z = m * m;
  var y = 7.0376836292e-2;
  y = y * m - 1.1514610310e-1;
  y = y * m + 1.1676998740e-1;
  y = y * m - 1.2420140846e-1;
  y = y * m + 1.4249322787e-1;
  y = y * m - 1.6668057665e-1;
  y = y * m + 2.0000714765e-1;
  y = y * m - 2.4999993993e-1;
  y = y * m + 3.3333331174e-1;
  y = y * m * z - 2.12194440e-4 * e - 0.5 * z;
  return m + y + 0.693359375 * e;
}

// (cos, sin) of the angle u turns, u in [0, 1), Cephes' polynomials on [-pi/4, pi/4]:
// u is reduced by quarter turns exactly (u 4 - round(u 4)), then rotated back.
fn portable_cos_sin(u: f32) -> vec2<f32> {
  let quarters = round(u * 4.0);
  let a = (u * 4.0 - quarters) * 1.5707963267948966;
  let z = a * a;
  let s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * a + a;
  let c = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2)
    * z * z - 0.5 * z + 1.0;
  switch (u32(quarters) & 3u) {
    case 0u: { return vec2<f32>(c, s); }
    case 1u: { return vec2<f32>(-s, c); }
    case 2u: { return vec2<f32>(-c, -s); }
    default: { return vec2<f32>(s, -c); }
  }
}

// Four standard normals by Box-Muller on two pairs of words.
fn normals(w: vec4<u32>) -> vec4<f32> {
  let r0 = sqrt(-2.0 * portable_log(unit(w.x) + 1.0 / 16777216.0));
  let r1 = sqrt(-2.0 * portable_log(unit(w.z) + 1.0 / 16777216.0));
  let cs0 = portable_cos_sin(unit(w.y));
  let cs1 = portable_cos_sin(unit(w.w));
  return vec4<f32>(r0 * cs0.x, r0 * cs0.y, r1 * cs1.x, r1 * cs1.y);
}

// The four values of words under distribution DIST with parameters (a, b).
fn draw(words: vec4<u32>, a: f32, b: f32) -> vec4<OUT_T> {
  let u = vec4<f32>(unit(words.x), unit(words.y), unit(words.z), unit(words.w));
  switch (DIST) {
    case 0u: { return vec4<OUT_T>(u * (b - a) + a); }                          // uniform(a, b)
    case 1u: { return vec4<OUT_T>(normals(words) * b + a); }                   // normal(a, b)
    case 2u: { return vec4<OUT_T>(floor(u * (b - a) + a)); }                   // randint(a, b)
    default: { return vec4<OUT_T>(select(vec4<f32>(0.0), vec4<f32>(1.0), u < vec4<f32>(a))); }
  }
}

fn run(t: u32) {
  let words = philox(vec4<u32>(t, 0u, p.offset_lo, p.offset_hi), vec2<u32>(p.seed_lo, p.seed_hi));
  let values = draw(words, p.a, p.b);
  for (var j = 0u; j < 4u; j++) {
    let i = 4u * t + j;
    if (i < p.numel) {
      out[i] = values[j];
    }
  }
}
