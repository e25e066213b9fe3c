// cross_entropy_backward.wgsl: d loss / d x[i, c] = g_i * (softmax(x_i)[c] - [c == t_i]),
// with softmax(x_i)[c] = exp(x[i, c] - lse_i) from the forward's saved logsumexp, g_i
// the incoming gradient (of row i for 'none', else the scalar, divided by the count
// for 'mean'), and 0 for rows whose label is ignore_index.
// Bindings and Params: engine/ops/loss.py CROSS_ENTROPY_BACKWARD.
// Grid: ceil(N * C / WG) workgroups, folded into (x, y) past 65535.

#include "cross_entropy_common.wgsl"

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = flat_id(wid, nwg, lid);
  let classes = p.classes;
  if (k >= p.rows * classes) {
    return;
  }
  let i = k / classes;
  let c = k % classes;
  let t = label(i);
  if (t == p.ignore_index || t < 0 || t >= i32(classes)) {
    grad[k] = 0.0;
    return;
  }
  var g = grad_out[p.grad_out_offset];
  if (p.reduction == 0u) {
    g = grad_out[p.grad_out_offset + i];
  } else if (p.reduction == 1u) {
    g = g / count[0];
  }
  let hit = select(0.0, 1.0, u32(t) == c);
  grad[k] = g * (exp(logit(i, c) - lse[i]) - hit);
}
