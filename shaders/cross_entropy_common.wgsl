// cross_entropy_common.wgsl: the Params block of cross_entropy.wgsl and
// cross_entropy_backward.wgsl, and math.wgsl's m_exp and m_log (included, never compiled
// alone).

#include "math.wgsl"

override WG: u32 = 64u;

struct Params {
  head: vec4<u32>,    // N rows, C classes, reduction (0 none, 1 mean, 2 sum), workgroups along x
  x: vec4<u32>,       // row stride, class stride, offset, unused
  label: vec4<u32>,   // stride, offset, ignore_index (i32 bits), grad_out offset
}

// The logit of row i, class c.
fn logit(i: u32, c: u32) -> f32 {
  return x[p.x.z + i * p.x.x + c * p.x.y];
}
