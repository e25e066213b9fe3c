// sgd.wgsl: one SGD step for one parameter, fused (torch.optim.SGD's math).
//
//   g = -grad if maximize else grad;  g += wd * param
//   buf = g on the first step, else momentum * buf + (1 - dampening) * g
//   g = g + momentum * buf (nesterov) or buf
//   param -= lr * g
// Every tensor is contiguous; offsets are in elements.
// Bindings: 0 = param, 1 = grad, then buf (momentum only), then Params.
// Grid: ceil(numel / WG) workgroups, folded into (x, y) past 65535.

override WG: u32 = 64u;

struct Params {
  head: vec4<u32>,     // numel, workgroups along x, maximize, nesterov
  offsets: vec4<u32>,  // param, grad, buf, first step
  h: vec4<f32>,        // lr, momentum, dampening, weight decay
}

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
{{MOMENTUM_BINDING}}
@group(0) @binding({{PARAMS_BINDING}}) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.head.y + wid.x) * WG + lid;
  if (i >= p.head.x) {
    return;
  }
  let w = param[p.offsets.x + i];
  var g = grad[p.offsets.y + i];
  if (p.head.z != 0u) {
    g = -g;
  }
  g = g + p.h.w * w;
  {{MOMENTUM_UPDATE}}
  param[p.offsets.x + i] = w - p.h.x * g;
}
