// adam.wgsl: one Adam/AdamW step for one parameter, fused (torch.optim.Adam's math).
//
//   g = -grad if maximize else grad
//   param *= 1 - lr * wd                   (decoupled weight decay, AdamW)
//   g += wd * param                        (L2 weight decay, Adam)
//   m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
//   vmax = max(vmax, v)                    (amsgrad; the denominator then uses vmax)
//   param -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
// Every tensor is contiguous; offsets are in elements.
// Bindings and Params: engine/ops/fused.py ADAM (vmax only with amsgrad).
// Grid: run(i) for each i < threads (one thread per element).

fn run(i: u32) {
  var w = param[p.param_offset + i];
  var g = grad[p.grad_offset + i];
  if (p.maximize != 0u) {
    g = -g;
  }
  if (p.decoupled_weight_decay != 0u) {
    w = w * (1.0 - p.lr * p.weight_decay);
  } else {
    g = g + p.weight_decay * w;
  }
  let mi = p.m_offset + i;
  let vi = p.v_offset + i;
  let m_new = m[mi] + (1.0 - p.beta1) * (g - m[mi]);
  let v_new = v[vi] * p.beta2 + (1.0 - p.beta2) * g * g;
  m[mi] = m_new;
  v[vi] = v_new;
  var second = v_new;
  if (HAS_VMAX) {
    let vm = max(vmax[p.vmax_offset + i], v_new);
    vmax[p.vmax_offset + i] = vm;
    second = vm;
  }
  let denom = sqrt(second) / p.sqrt_bias_correction2 + p.eps;
  param[p.param_offset + i] = w - (p.lr / p.bias_correction1) * m_new / denom;
}
