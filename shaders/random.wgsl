// random.wgsl: counter-based random numbers (Philox4x32-10), four per thread.
//
// Thread t hashes the counter (t, 0, offset_lo, offset_hi) under the key (seed_lo,
// seed_hi) into four 32-bit words and turns them into out[4t .. 4t+3] with DIST.
// The same seed and offset give the same numbers on every adapter, natively and in
// the browser. The generator on the host advances `offset` by the thread count.
// Bindings: 0 = out (contiguous), 1 = Params (uniform).
// Grid: ceil(numel / (4 WG)) workgroups, folded into (x, y) past 65535.

override WG: u32 = 64u;

struct Params {
  head: vec4<u32>,  // numel, workgroups along x, unused, unused
  key: vec4<u32>,   // seed_lo, seed_hi, offset_lo, offset_hi
  args: vec4<f32>,  // distribution parameters (low/high, mean/std, p)
}

@group(0) @binding(0) var<storage, read_write> out: array<{{OUT_T}}>;
@group(0) @binding(1) var<uniform> p: Params;

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

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * p.head.y + wid.x) * WG + lid;
  if (4u * t >= p.head.x) {
    return;
  }
  let words = philox(vec4<u32>(t, 0u, p.key.z, p.key.w), p.key.xy);
  let values = {{DIST}};
  for (var j = 0u; j < 4u; j++) {
    let i = 4u * t + j;
    if (i < p.head.x) {
      out[i] = values[j];
    }
  }
}
