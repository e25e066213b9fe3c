// cross_entropy_backward.wgsl: d loss / d x[i, c] = g_i * (softmax(x_i)[c] - [c == t_i]),
// with softmax(x_i)[c] = exp(x[i, c] - lse_i) from the forward's saved logsumexp, g_i
// the incoming gradient (of row i for 'none', else the scalar, divided by the count
// for 'mean'), and 0 for rows whose label is ignore_index.
// Bindings and Params: engine/ops/loss.py CROSS_ENTROPY_BACKWARD.
// Grid: run(i) for each i < threads (one thread per logit).

#include "cross_entropy_common.wgsl"

fn run(k: u32) {
  let classes = p.classes;
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
  grad[k] = g * (m_exp(logit(i, c) - lse[i]) - hit);
}
