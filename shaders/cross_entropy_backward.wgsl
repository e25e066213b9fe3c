// cross_entropy_backward.wgsl: d loss / d x[i, c] = g_i * (softmax(x_i)[c] - [c == t_i]),
// with softmax(x_i)[c] = exp(x[i, c] - lse_i) from the forward's saved logsumexp, g_i
// the incoming gradient (of row i for 'none', else the scalar, divided by the count
// for 'mean'), and 0 for rows whose label is ignore_index.
// Bindings: 0 = grad (N, C contiguous), 1 = x, 2 = labels (i32), 3 = lse, 4 = count,
//           5 = grad_out (1 or N), 6 = Params.
// Grid: ceil(N * C / WG) workgroups, folded into (x, y) past 65535.

@group(0) @binding(0) var<storage, read_write> grad: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read> count: array<f32>;
@group(0) @binding(5) var<storage, read> grad_out: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

#include "cross_entropy_common.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let k = (wid.y * p.head.w + wid.x) * WG + lid;
  let classes = p.head.y;
  if (k >= p.head.x * classes) {
    return;
  }
  let i = k / classes;
  let c = k % classes;
  let t = labels[p.label.y + i * p.label.x];
  if (t == bitcast<i32>(p.label.z) || t < 0 || t >= i32(classes)) {
    grad[k] = 0.0;
    return;
  }
  var g = grad_out[p.label.w];
  if (p.head.z == 0u) {
    g = grad_out[p.label.w + i];
  } else if (p.head.z == 1u) {
    g = g / count[0];
  }
  let hit = select(0.0, 1.0, u32(t) == c);
  grad[k] = g * (m_exp(logit(i, c) - lse[i]) - hit);
}
