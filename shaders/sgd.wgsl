// sgd.wgsl: one SGD step for one parameter, fused (torch.optim.SGD's math).
//
//   g = -grad if maximize else grad;  g += wd * param
//   buf = g on the first step, else momentum * buf + (1 - dampening) * g
//   g = g + momentum * buf (nesterov) or buf
//   param -= lr * g
// Every tensor is contiguous; offsets are in elements.
// Bindings and Params: engine/ops/fused.py SGD (buf only with momentum).
// Grid: run(i) for each i < threads (one thread per element).

fn run(i: u32) {
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
