// adam.wgsl: one Adam/AdamW step for one parameter, fused (torch.optim.Adam's math).
//
//   g = -grad if maximize else grad
//   param *= 1 - lr * wd                   (decoupled weight decay, AdamW)
//   g += wd * param                        (L2 weight decay, Adam)
//   m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
//   vmax = max(vmax, v)                    (amsgrad; the denominator then uses vmax)
//   param -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
// Every tensor is contiguous; offsets are in elements.
// Bindings: 0 = param, 1 = grad, 2 = m, 3 = v, then vmax (amsgrad only), then Params.
// Grid: ceil(numel / WG) workgroups, folded into (x, y) past 65535.

override WG: u32 = 64u;

struct Params {
  head: vec4<u32>,     // numel, workgroups along x, maximize, decoupled weight decay
  offsets: vec4<u32>,  // param, grad, m, v
  extra: vec4<u32>,    // vmax offset, unused...
  h: vec4<f32>,        // lr, beta1, beta2, eps
  h2: vec4<f32>,       // weight decay, bias correction 1, sqrt(bias correction 2), unused
}

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
{{AMSGRAD_BINDING}}
@group(0) @binding({{PARAMS_BINDING}}) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.head.y + wid.x) * WG + lid;
  if (i >= p.head.x) {
    return;
  }
  let lr = p.h.x;
  let beta1 = p.h.y;
  let beta2 = p.h.z;
  let wd = p.h2.x;
  var w = param[p.offsets.x + i];
  var g = grad[p.offsets.y + i];
  if (p.head.z != 0u) {
    g = -g;
  }
  if (p.head.w != 0u) {
    w = w * (1.0 - lr * wd);
  } else {
    g = g + wd * w;
  }
  let mi = p.offsets.z + i;
  let vi = p.offsets.w + i;
  let m_new = m[mi] + (1.0 - beta1) * (g - m[mi]);
  let v_new = v[vi] * beta2 + (1.0 - beta2) * g * g;
  m[mi] = m_new;
  v[vi] = v_new;
  var second = v_new;
  {{AMSGRAD_UPDATE}}
  let denom = sqrt(second) / p.h2.z + p.h.w;
  param[p.offsets.x + i] = w - (lr / p.h2.y) * m_new / denom;
}
