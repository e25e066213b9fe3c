// random.wgsl: counter-based random numbers (Philox4x32-10), four per thread.
//
// Thread t hashes the counter (t, 0, offset_lo, offset_hi) under the key (seed_lo,
// seed_hi) into four 32-bit words and turns them into out[4t .. 4t+3] with DIST.
// The same seed and offset give the same numbers on every adapter, natively and in
// the browser. The generator on the host advances `offset` by the thread count.
// Bindings and Params: engine/ops/creation.py RANDOM; DIST picks the distribution.
// Grid: run(t) for each t < threads = ceil(numel / 4).

#include "math.wgsl"

fn philox(counter: vec4<u32>, seed: vec2<u32>) -> vec4<u32> {
  var ctr = counter;
  var key = seed;
  for (var round = 0u; round < 10u; round++) {
    let hi0 = m_mulhi(0xD2511F53u, ctr.x);
    let lo0 = 0xD2511F53u * ctr.x;
    let hi1 = m_mulhi(0xCD9E8D57u, ctr.z);
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

// Four standard normals by Box-Muller on two pairs of words. log and (cos, sin) of the
// angle in turns come from math.wgsl, not the adapter's coarse builtins (SwiftShader's cos
// and sin are off by up to 2^-11), so the normals are the same natively and in the browser.
fn normals(w: vec4<u32>) -> vec4<f32> {
  let r0 = sqrt(-2.0 * m_log(unit(w.x) + 1.0 / 16777216.0));
  let r1 = sqrt(-2.0 * m_log(unit(w.z) + 1.0 / 16777216.0));
  let cs0 = m_cos_sin_turns(unit(w.y));
  let cs1 = m_cos_sin_turns(unit(w.w));
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
