// math.wgsl: the transcendental functions the kernels use, m_exp, m_log, m_sin... (included,
// never compiled alone).
//
// WGSL lets an adapter's builtins be coarse: cos and sin may be off by 2^-11 absolute, and
// SwiftShader's are; its log(0) is -88 instead of -inf and its exp(NaN) is inf, and the
// accuracy of pow, expm1-style formulas and large arguments varies from driver to driver.
// These are Cephes' float algorithms (an exact range reduction, then a polynomial) written
// with +, -, *, / and bit operations only, which WGSL rounds correctly, so every adapter
// gives the same values to an ulp or two, natively and in the browser. Edge cases are
// IEEE-754's, as PyTorch gives them: log(0) = -inf, log(-1) = NaN, exp(100) = inf,
// expm1(100) = inf, sin(inf) = NaN, NaN in gives NaN out, signed zeros are kept...
// Subnormal inputs are split from their bits, never scaled, since an adapter may flush them.
//
// Infinities and NaNs are made from bits at run time (`let`): WGSL rejects a
// const-expression whose value is not a finite float.

fn m_inf() -> f32 {
  let bits = 0x7f800000u;
  return bitcast<f32>(bits);
}

fn m_nan() -> f32 {
  let bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

// NaN, told from the bits (a compiler may assume `x != x` is false).
fn m_is_nan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

// 2^n for n in [-126, 127], exactly.
fn m_pow2i(n: i32) -> f32 {
  return bitcast<f32>(u32(n + 127) << 23u);
}

// x 2^n for n in [-252, 254], in two exact scalings so that results near overflow or in the
// subnormal range come out right.
fn m_ldexp(x: f32, n: i32) -> f32 {
  let half = n / 2;
  return x * m_pow2i(half) * m_pow2i(n - half);
}

// The top 12 significant bits of x (by masking, so exact on every adapter): x = hi + (x - hi)
// with both parts of at most 12 bits, whose products with 12-bit numbers are exact.
fn m_split_hi(x: f32) -> f32 {
  return bitcast<f32>(bitcast<u32>(x) & 0xfffff000u);
}

// High 32 bits of a 32x32-bit product, from 16-bit halves (WGSL has no u64).
fn m_mulhi(a: u32, b: u32) -> u32 {
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

// ---- exponentials ------------------------------------------------------------------

// exp(r) - 1 - r for |r| <= ln(2) / 2: Cephes' expf polynomial, r^2 P(r).
fn m_exp_poly(r: f32) -> f32 {
  let p = ((((1.9875691500e-4 * r + 1.3981999507e-3) * r + 8.3334519073e-3) * r
    + 4.1665795894e-2) * r + 1.6666665459e-1) * r + 5.0000001201e-1;
  return p * (r * r);
}

// 2^f for |f| <= 1/2: Cephes' exp2f polynomial.
fn m_exp2_poly(f: f32) -> f32 {
  return (((((1.535336188319500e-4 * f + 1.339887440266574e-3) * f + 9.618437357674640e-3) * f
    + 5.550332471162809e-2) * f + 2.402264791363012e-1) * f + 6.931472028550421e-1) * f + 1.0;
}

// x = n ln(2) + r with |r| <= ln(2) / 2: Cody-Waite, ln(2) = 0.693359375 (9 bits, so that
// n times it is exact) - 2.12194440e-4. Returns (r, n).
fn m_exp_reduce(x: f32) -> vec2<f32> {
  let n = floor(x * 1.4426950408889634 + 0.5);
  return vec2<f32>(x - n * 0.693359375 + n * 2.12194440e-4, n);
}

fn m_exp(x: f32) -> f32 {
  if (x > 88.8) {
    return m_inf();
  }
  if (x < -104.0) {
    return 0.0;
  }
  let rn = m_exp_reduce(x);
  return m_ldexp(m_exp_poly(rn.x) + rn.x + 1.0, i32(rn.y));
}

fn m_exp2(x: f32) -> f32 {
  if (x > 128.0) {
    return m_inf();
  }
  if (x < -151.0) {
    return 0.0;
  }
  let n = floor(x + 0.5);
  return m_ldexp(m_exp2_poly(x - n), i32(n));
}

// exp(x) - 1, accurate near 0: the polynomial itself for |x| <= ln(2) / 2, else
// 2^n (exp(r) - 1) + (2^n - 1) after the reduction.
fn m_expm1(x: f32) -> f32 {
  if (x > 88.8) {
    return m_inf();
  }
  if (x < -17.5) {
    return -1.0;  // exp(x) is below half an ulp of 1
  }
  if (abs(x) <= 0.34657359) {
    return select(m_exp_poly(x) + x, x, x == 0.0);  // keeps -0
  }
  if (x > 20.0) {
    return m_exp(x) - 1.0;
  }
  let rn = m_exp_reduce(x);
  let t = m_pow2i(i32(rn.y));
  return t * (m_exp_poly(rn.x) + rn.x) + (t - 1.0);
}

// ---- logarithms --------------------------------------------------------------------

// For a finite x > 0: x = 2^e (1 + m) with 1 + m in [sqrt(1/2), sqrt(2)), and
// log(1 + m) = m + p - z / 2 with z = m^2, p = m z P(m): Cephes' logf polynomial.
// Returns (m, p, z, e); each logarithm adds the parts in its own order.
fn m_log_parts(x: f32) -> vec4<f32> {
  var bits = bitcast<u32>(x);
  var e = i32(bits >> 23u) - 126;
  if (e == -126) {  // subnormal: shift the mantissa's leading 1 into the hidden bit
    let shift = countLeadingZeros(bits) - 8u;
    bits = bits << shift;
    e = -125 - i32(shift);
  }
  var m = bitcast<f32>((bits & 0x007fffffu) | 0x3f000000u);  // x = m 2^e, m in [0.5, 1)
  var ef = f32(e);
  if (m < 0.70710678118654752) {
    ef -= 1.0;
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
  return vec4<f32>(m, y * m * z, z, ef);
}

// Whether x is not a finite number > 0 (0, negative, inf or NaN), from its bits.
fn m_log_edge(x: f32) -> bool {
  return bitcast<u32>(x) - 1u >= 0x7f7fffffu;
}

// The logarithm of such an x: -inf at +-0, +inf at +inf, NaN below 0 and at NaN.
fn m_log_edge_value(x: f32) -> f32 {
  if ((bitcast<u32>(x) & 0x7fffffffu) == 0u) {  // not x == 0.0: an adapter may flush -1e-45
    return -m_inf();
  }
  if (bitcast<u32>(x) == 0x7f800000u) {
    return x;
  }
  return m_nan();
}

fn m_log(x: f32) -> f32 {
  if (m_log_edge(x)) {
    return m_log_edge_value(x);
  }
  let q = m_log_parts(x);
  // ln(2) = 0.693359375 - 2.12194440e-4: e times the first part is exact
  let y = q.y - 2.12194440e-4 * q.w - 0.5 * q.z;
  return q.x + y + 0.693359375 * q.w;
}

// Cephes' log2f: log2(1 + m) = (m + y) (1 + 0.44269504...), smallest terms first.
fn m_log2(x: f32) -> f32 {
  if (m_log_edge(x)) {
    return m_log_edge_value(x);
  }
  let q = m_log_parts(x);
  let y = q.y - 0.5 * q.z;
  return y * 0.44269504088896341 + q.x * 0.44269504088896341 + y + q.x + q.w;
}

// Cephes' log10f: log10(e) and log10(2) each in two parts, smallest terms first.
fn m_log10(x: f32) -> f32 {
  if (m_log_edge(x)) {
    return m_log_edge_value(x);
  }
  let q = m_log_parts(x);
  let s = q.x + (q.y - 0.5 * q.z);
  return s * 7.00731903251827651e-4 + s * 0.43359375 + q.w * 2.48745663981195214e-4
    + q.w * 0.30078125;
}

// log(1 + x), accurate near 0: log(u) x / (u - 1) with u = 1 + x rounded, which cancels
// u's rounding error (Goldberg). u - 1 and u's side of 1 are taken from u's bits:
// adapters fold float expressions algebraically (Mesa 25 turns (1 + x) - 1 into x, Mesa 22
// 1 + x == 1 into x == 0 and 1 + x < 1 into x < 0), which would undo the correction.
// Outside (-1/2, 1) none is needed (1 + x is exact below, log(u) >= log(2) above).
fn m_log1p(x: f32) -> f32 {
  let u = 1.0 + x;
  if (!(x > -0.5 && x < 1.0)) {
    return m_log(u);  // NaN too
  }
  let bits = bitcast<u32>(u);
  let below = bits < 0x3f800000u;  // u = (2^23 + mantissa) 2^-24 below 1, 2^-23 above
  let mantissa = i32(bits & 0x007fffffu);
  let d = f32(mantissa - select(0, 0x800000, below))
    * select(1.1920928955078125e-7, 5.9604644775390625e-8, below);
  if (d == 0.0) {
    return x;  // u rounded to 1: log1p(x) = x to float precision (keeps -0)
  }
  return m_log(u) * (x / d);
}

// ---- powers ------------------------------------------------------------------------

// acc + t as (integer, fraction in [-1/2, 1/2]): the integer parts add exactly and each
// fraction sum rounds by at most 2^-25.
fn m_acc_turns(acc: vec2<f32>, t: f32) -> vec2<f32> {
  let k = round(t);
  let s = acc.y + (t - k);  // t - round(t) is exact
  let j = round(s);
  return vec2<f32>(acc.x + k + j, s - j);
}

// log2(1 + i/32) for i = -9..13 as a 12-bit head and the rest.
fn m_log2_table_hi(k: u32) -> f32 {
  const v = array<f32, 23>(-0.476318359375, -0.4149169921875, -0.3560791015625,
    -0.2994384765625, -0.24505615234375, -0.192626953125, -0.1419677734375,
    -0.093109130859375, -0.0457916259765625, 0.0, 0.0443878173828125, 0.087432861328125,
    0.1292724609375, 0.169921875, 0.20941162109375, 0.2479248046875, 0.285400390625,
    0.3218994140625, 0.3575439453125, 0.3922119140625, 0.4261474609375, 0.4593505859375,
    0.4918212890625);
  return v[k];
}

fn m_log2_table_lo(k: u32) -> f32 {
  const v = array<f32, 23>(-1.1968456965405494e-4, -1.2050709483446553e-4,
    -6.470866355812177e-5, -1.2180529301986098e-4, -5.634549233946018e-5,
    -1.8124817870557308e-5, -5.123143637320027e-5, -2.7353209475222684e-7,
    -1.2063636859238613e-5, 0.0, 6.301975645328639e-6, 2.997992305608932e-5,
    1.0556007509876508e-5, 3.1264423796528718e-6, 4.1744533518794924e-5,
    2.7087560283689527e-6, 1.8282372593603213e-6, 2.8680824470939115e-5, 8.059305400820449e-6,
    1.0550871957093477e-4, 1.1729376274161041e-4, 8.103269647108391e-5, 3.180726707796566e-5);
  return v[k];
}

// x^y for a finite x > 0 and a finite y: 2^(y log2 x). A float y log2 x would be off by
// |y log2 x| 2^-24, and x^y by that many ulps: 1e-5 near 2^127. Instead (Cephes' powf idea)
// x = 2^e c (1 + r) with c = 1 + i/32 from a table and |r| <= 1/64, so that log2 x =
// e + s_hi + s_lo with s_hi of 12 bits and s_lo known to ~2^-40; then y = y_hi + y_lo (12
// bits each), and the exact products y_hi e, y_lo e, y_hi s_hi, y_lo s_hi and the small y s_lo
// are summed as integer + fraction. Only exact steps (no error-free transformation that an
// adapter's algebraic simplifications could undo, as Mesa's do (1 + x) - 1 -> x).
fn m_pow_positive(x: f32, y: f32) -> f32 {
  var bits = bitcast<u32>(x);
  var e = i32(bits >> 23u) - 127;
  if (e == -127) {  // subnormal: shift the mantissa's leading 1 into the hidden bit
    let shift = countLeadingZeros(bits) - 8u;
    bits = bits << shift;
    e = -126 - i32(shift);
  }
  var mb = (bits & 0x007fffffu) | 0x3f800000u;  // x = 2^e M, M in [1, 2)
  if (mb > 0x3fb504f3u) {  // M > sqrt(2): M / 2, so that x near 1 has e = 0
    mb -= 0x00800000u;
    e += 1;
  }
  let big_m = bitcast<f32>(mb);
  let i = round((big_m - 1.0) * 32.0);  // -9..13
  let c = 1.0 + i * 0.03125;  // 6 bits: its products with 12-bit numbers are exact
  let d = big_m - c;  // exact
  // r = d / c = r1 + r2: r2 from the exact remainder d - r1 c
  let r1 = d / c;
  let r1_hi = m_split_hi(r1);
  let r1_lo = r1 - r1_hi;
  let r2 = ((d - r1_hi * c) - r1_lo * c) / c;
  // log(1 + r) = r + p, p = -r^2/2 + r^3/3 - r^4/4 + r^5/5 (to 2^-40 for |r| <= 1/64);
  // log2(e) = 1.44287109375 (12 bits) - 1.7605286e-4
  let p = r1 * r1 * (((0.2 * r1 - 0.25) * r1 + 0.33333333333333333) * r1 - 0.5);
  let k = u32(i32(i) + 9);
  let t = m_log2_table_hi(k);
  let head = r1_hi * 1.44287109375;  // exact
  let rest = m_log2_table_lo(k) + r1_lo * 1.44287109375
    + (r1 * -1.7605286103659264e-4 + (r2 + p) * 1.4426950408889634);
  let s = t + head + rest;  // log2(c (1 + r)), rounded
  let s_hi = m_split_hi(s);
  let s_lo = ((t - s_hi) + head) + rest;  // (t - s_hi) + head is exact: it is about s - s_hi
  let ef = f32(e);
  let w = y * (ef + s);
  if (w > 129.0) {
    return m_inf();
  }
  if (w < -152.0) {
    return 0.0;
  }
  let y_hi = m_split_hi(y);
  let y_lo = y - y_hi;
  var acc = m_acc_turns(vec2<f32>(0.0, 0.0), y_hi * ef);
  acc = m_acc_turns(acc, y_lo * ef);
  acc = m_acc_turns(acc, y_hi * s_hi);
  acc = m_acc_turns(acc, y_lo * s_hi);
  acc = m_acc_turns(acc, y * s_lo);
  return m_ldexp(m_exp2_poly(acc.y), i32(acc.x));
}

// x^y with C99's special cases, as PyTorch: x^0 = 1 and 1^y = 1 even for NaN; (-1)^+-inf = 1;
// a negative finite x to a non-integer y is NaN; 0^y and inf^y are 0 or inf, with x's sign
// when y is an odd integer; x^+-inf is 0 or inf by |x| against 1. Zeros and signs are read
// from the bits: an adapter may flush a subnormal x or y to 0 in comparisons (SwiftShader
// does), but 1e-45^0.5 is not 0 and (-1)^1e-45 is NaN.
fn m_pow(x: f32, y: f32) -> f32 {
  let x_bits = bitcast<u32>(x);
  let y_bits = bitcast<u32>(y);
  if ((y_bits & 0x7fffffffu) == 0u || x == 1.0) {
    return 1.0;
  }
  if (m_is_nan(x) || m_is_nan(y)) {
    return m_nan();
  }
  let x_abs = x_bits & 0x7fffffffu;
  let y_neg = y_bits >= 0x80000000u;
  let ax = abs(x);
  let ay = abs(y);
  let y_int = ay >= 1.0 && floor(y) == y;  // y != 0 here; +-inf count as even integers
  let y_odd = y_int && ay < 16777216.0 && fract(ay * 0.5) != 0.0;
  var r: f32;
  if ((y_bits & 0x7fffffffu) == 0x7f800000u) {
    if (ax == 1.0) {
      return 1.0;
    }
    r = select(0.0, m_inf(), (ax > 1.0) != y_neg);
  } else if (x_abs == 0u || x_abs == 0x7f800000u) {
    r = select(0.0, m_inf(), (x_abs == 0u) == y_neg);
  } else if (x_bits >= 0x80000000u && !y_int) {
    return m_nan();
  } else {
    r = m_pow_positive(bitcast<f32>(x_abs), y);
  }
  return select(r, -r, y_odd && x_bits >= 0x80000000u);  // x's sign bit: -0 too
}

// ---- sine and cosine ---------------------------------------------------------------

// (cos, sin) of a + q pi/2 for |a| <= pi/4 (a little more is fine): Cephes' sinf and cosf
// polynomials, rotated by q quarter turns.
fn m_cos_sin_reduced(a: f32, q: u32) -> vec2<f32> {
  let z = a * a;
  let s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * a + a;
  let c = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2)
    * z * z - 0.5 * z + 1.0;
  switch (q & 3u) {
    case 0u: { return vec2<f32>(c, s); }
    case 1u: { return vec2<f32>(-s, c); }
    case 2u: { return vec2<f32>(-c, -s); }
    default: { return vec2<f32>(s, -c); }
  }
}

// (cos, sin) of the angle u turns, u in [0, 1): reduced by quarter turns exactly
// (4 u - round(4 u)), so without any error from pi.
fn m_cos_sin_turns(u: f32) -> vec2<f32> {
  let quarters = round(u * 4.0);
  return m_cos_sin_reduced((u * 4.0 - quarters) * 1.5707963267948966, u32(quarters));
}

// 32 bits of 2/pi's binary expansion from bit `start` - 31 on (bit 1 is the first after the
// point; start = 31 gives the first word, smaller starts the zeros before the point).
fn m_two_over_pi_bits(start: u32) -> u32 {
  const words = array<u32, 9>(0u, 0xa2f9836eu, 0x4e441529u, 0xfc2757d1u, 0xf534ddc0u,
    0xdb629599u, 0x3c439041u, 0xfe5163abu, 0xdebbc561u);
  let k = start / 32u;
  let o = start % 32u;
  if (o == 0u) {
    return words[k];
  }
  return (words[k] << o) | (words[k + 1u] >> (32u - o));
}

// (cos, sin) of a finite ax >= 2^15: Payne-Hanek. ax = mant 2^k with mant of 24 bits; the bits
// of 2/pi before bit k - 1 only add multiples of 4 quarter turns, so a 96-bit window from
// bit k - 1 on, times mant, gives ax 2/pi modulo 4, in 32-bit limbs, to about 2^-70.
fn m_cos_sin_far(ax: f32) -> vec2<f32> {
  let bits = bitcast<u32>(ax);
  let mant = (bits & 0x007fffffu) | 0x00800000u;
  let start = (bits >> 23u) - 120u;  // k - 1 + 31, k being the exponent field - 150
  let w2 = m_two_over_pi_bits(start);
  let w1 = m_two_over_pi_bits(start + 32u);
  let w0 = m_two_over_pi_bits(start + 64u);
  // p = mant (w2 w1 w0), its low 96 bits as p2 p1 p0: ax 2/pi = p 2^-94 modulo 4
  let p0 = mant * w0;
  let l1 = mant * w1;
  let p1 = m_mulhi(mant, w0) + l1;
  let p2 = m_mulhi(mant, w1) + mant * w2 + select(0u, 1u, p1 < l1);
  var q = p2 >> 30u;  // bits 95 and 94: the quarter turns
  // the fraction of a quarter turn: bits 93..30 of p as hi:lo
  var hi = (p2 << 2u) | (p1 >> 30u);
  var lo = (p1 << 2u) | (p0 >> 30u);
  var flip = 1.0;
  if (hi >= 0x80000000u) {  // past half a quarter: one more quarter and 1 - fraction back
    q += 1u;
    lo = ~lo + 1u;
    hi = ~hi + select(0u, 1u, lo == 0u);
    flip = -1.0;
  }
  var scale = -32;
  if (hi == 0u) {
    hi = lo;
    lo = 0u;
    scale = -64;
  }
  let lz = countLeadingZeros(hi);
  if (lz != 0u) {
    hi = (hi << lz) | (lo >> (32u - lz));
  }
  let f = f32(hi) * m_pow2i(scale - i32(lz));
  return m_cos_sin_reduced(flip * f * 1.5707963267948966, q);
}

// (cos x, sin x). x = q pi/2 + a with |a| <= pi/4: Cody-Waite for |x| < 5e4, with pi/2 in
// four parts, the first three of at most 9 bits so that q times them is exact (q < 2^15);
// Payne-Hanek beyond. NaN at +-inf and NaN.
fn m_cos_sin(x: f32) -> vec2<f32> {
  let ax = abs(x);
  if (ax < 5.0e4) {
    let q = round(x * 0.63661977236758134);
    let a = x - q * 1.5703125 - q * 4.8351287841796875e-4 - q * 3.1385570764541626e-7
      - q * 6.0771006282767e-11;
    return m_cos_sin_reduced(a, u32(i32(q)));
  }
  if ((bitcast<u32>(x) & 0x7fffffffu) >= 0x7f800000u) {
    return vec2<f32>(m_nan(), m_nan());
  }
  let cs = m_cos_sin_far(ax);
  return vec2<f32>(cs.x, select(cs.y, -cs.y, x < 0.0));
}

fn m_sin(x: f32) -> f32 {
  return select(m_cos_sin(x).y, x, x == 0.0);  // keeps -0
}

fn m_cos(x: f32) -> f32 {
  return m_cos_sin(x).x;
}

// ---- tanh, sigmoid, erf ------------------------------------------------------------

// Cephes' tanhf: a polynomial below 0.625, 1 - 2 / (exp(2 |x|) + 1) from there.
fn m_tanh(x: f32) -> f32 {
  let ax = abs(x);
  if (ax >= 0.625) {
    let t = 1.0 - 2.0 / (m_exp(ax + ax) + 1.0);
    return select(t, -t, x < 0.0);
  }
  let z = x * x;
  let t = ((((-5.70498872745e-3 * z + 2.06390887954e-2) * z - 5.37397155531e-2) * z
    + 1.33314422036e-1) * z - 3.33332819422e-1) * z * x + x;
  return select(t, x, x == 0.0);  // keeps -0
}

// 1 / (1 + exp(-x)), as exp(x) / (1 + exp(x)) below 0 so that tiny results keep their
// precision and nothing overflows.
fn m_sigmoid(x: f32) -> f32 {
  let e = m_exp(-abs(x));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, x >= 0.0);
}

fn m_erf(x: f32) -> f32 {
  let a = abs(x);
  if (a < 1.0) {
    // Cephes erff: a polynomial in x^2, accurate to float precision for |x| < 1
    let z = x * x;
    return x * ((((((7.853861353153693e-5 * z - 8.010193625184903e-4) * z
      + 5.188327685732524e-3) * z - 2.685381193529856e-2) * z + 1.128358514861418e-1) * z
      - 3.761262582423300e-1) * z + 1.128379165726710);
  }
  // Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7 (erf is near 1 here)
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t
    + 0.254829592) * t;
  return sign(x) * (1.0 - poly * m_exp(-a * a));
}
