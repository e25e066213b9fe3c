// cross_entropy_common.wgsl: what cross_entropy.wgsl and cross_entropy_backward.wgsl
// share (included, never compiled alone), with math.wgsl's m_exp and m_log.
// Params: engine/ops/loss.py.

#include "math.wgsl"

// The logit of row i, class c.
fn logit(i: u32, c: u32) -> f32 {
  return x[p.x_offset + i * p.x_row_stride + c * p.x_class_stride];
}

// The label of row i.
fn label(i: u32) -> i32 {
  return labels[p.labels_offset + i * p.labels_stride];
}
