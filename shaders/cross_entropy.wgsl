// cross_entropy.wgsl: loss_i = logsumexp(x_i) - x[i, t_i] for logits x (N, C) and class
// indices t (N), rows whose label is ignore_index giving 0; then the mean over the
// counted rows, the sum, or the N losses ('none').
//
// One thread per row computes the row's logsumexp in one pass (a running maximum
// rescales the sum) and saves it for the backward. For 'mean' and 'sum' the grid is a
// single workgroup whose threads stride over the rows and add their partial sums in a
// tree; for 'none' each thread writes its own rows' losses.
// A label outside [0, C) that is not ignore_index sets `flags` (IndexError on readback).
// Bindings and Params: engine/ops/loss.py CROSS_ENTROPY (lse: saved for the backward;
// count: the rows not ignored).
// Grid: 1 workgroup ('mean'/'sum') or ceil(N / WG) ('none').

#include "cross_entropy_common.wgsl"

var<workgroup> part_loss: array<f32, WG>;
var<workgroup> part_count: array<f32, WG>;

// The loss of row i (0 when ignored); `counted` says whether it counts for the mean.
fn row_loss(i: u32, counted: ptr<function, f32>) -> f32 {
  let classes = p.classes;
  var top = logit(i, 0u);
  var total = 1.0;
  for (var c = 1u; c < classes; c++) {
    let v = logit(i, c);
    if (v > top) {
      total = total * m_exp(top - v) + 1.0;
      top = v;
    } else {
      total = total + m_exp(v - top);
    }
  }
  let row_lse = top + m_log(total);
  lse[i] = row_lse;
  let t = label(i);
  if (t == p.ignore_index) {
    *counted = 0.0;
    return 0.0;
  }
  if (t < 0 || t >= i32(classes)) {
    atomicStore(&flags[0], 1u);
    *counted = 0.0;
    return 0.0;
  }
  *counted = 1.0;
  return row_lse - logit(i, u32(t));
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let rows = p.rows;
  var counted = 0.0;
  if (p.reduction == 0u) {
    let i = flat_id(wid, nwg, lid);
    if (i < rows) {
      loss[i] = row_loss(i, &counted);
    }
    return;
  }
  var total = 0.0;
  var n = 0.0;
  for (var i = lid; i < rows; i += WG) {
    total += row_loss(i, &counted);
    n += counted;
  }
  part_loss[lid] = total;
  part_count[lid] = n;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      part_loss[lid] += part_loss[lid + stride];
      part_count[lid] += part_count[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    count[0] = part_count[0];
    loss[0] = select(part_loss[0], part_loss[0] / part_count[0], p.reduction == 1u);
  }
}
