// sgd.wgsl: one SGD step for one parameter, fused (torch.optim.SGD's math).
//
//   g = -grad if maximize else grad;  g += wd * param
//   buf = g on the first step, else momentum * buf + (1 - dampening) * g
//   g = g + momentum * buf (nesterov) or buf
//   param -= lr * g
// Every tensor is contiguous; offsets are in elements.
// Bindings and Params: engine/ops/fused.py SGD (buf only with momentum).
// Grid: ceil(numel / WG) workgroups, folded into (x, y) past 65535.

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = flat_id(wid, nwg, lid);
  if (i >= p.numel) {
    return;
  }
  let w = param[p.param_offset + i];
  var g = grad[p.grad_offset + i];
  if (p.maximize != 0u) {
    g = -g;
  }
  g = g + p.weight_decay * w;
  if (HAS_BUF) {
    let bi = p.buf_offset + i;
    var b = g;
    if (p.first_step == 0u) {
      b = p.momentum * buf[bi] + (1.0 - p.dampening) * g;
    }
    buf[bi] = b;
    g = select(b, g + p.momentum * b, p.nesterov != 0u);
  }
  param[p.param_offset + i] = w - p.lr * g;
}
