// reduce.wgsl: out[o] = REDUCE over r of x[o, r], one thread per output element.
//
// The input view is (outer dims..., reduced dims...); engine/ops/reduction.py moves
// the reduced dims last and merges dims where strides allow. Each thread walks its
// reduced elements serially: no workgroup memory or barriers, which CPU adapters
// (lavapipe, SwiftShader) handle far better than tree reductions.
// Bindings: 0 = out values, 1 = x (storage, read), then out indices (i32; only in
//           the variants that return indices), then Params (uniform), always last.
// Grid: ceil(num_out / WG) workgroups, folded into (x, y) past 65535.

override WG: u32 = 64u;

struct Params {
  head: vec4<u32>,              // num_out, reduce_size, outer_ndim, inner_ndim
  extra: vec4<u32>,             // workgroups along x, x offset, scale (f32 bits), unused
  outer_shape: array<vec4<u32>, 2>,
  outer_strides: array<vec4<u32>, 2>,
  inner_shape: array<vec4<u32>, 2>,
  inner_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<storage, read_write> out: array<{{OUT_T}}>;
@group(0) @binding(1) var<storage, read> x: array<{{IN_T}}>;
{{INDEX_BINDING}}
@group(0) @binding({{PARAMS_BINDING}}) var<uniform> p: Params;

fn outer_offset(o: u32) -> u32 {
  var rem = o;
  var off = p.extra.y;
  for (var d = p.head.z; d > 0u; d--) {
    let dim = d - 1u;
    let n = p.outer_shape[dim / 4u][dim % 4u];
    off += (rem % n) * p.outer_strides[dim / 4u][dim % 4u];
    rem = rem / n;
  }
  return off;
}

fn inner_offset(r: u32) -> u32 {
  var rem = r;
  var off = 0u;
  for (var d = p.head.w; d > 0u; d--) {
    let dim = d - 1u;
    let n = p.inner_shape[dim / 4u][dim % 4u];
    off += (rem % n) * p.inner_strides[dim / 4u][dim % 4u];
    rem = rem / n;
  }
  return off;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = (wid.y * p.extra.x + wid.x) * WG + lid;
  if (o >= p.head.x) {
    return;
  }
  let base = outer_offset(o);
  let size = p.head.y;
  let single = p.head.w == 1u;
  let step = p.inner_strides[0].x;
  var off = base;
  var acc: {{ACC_T}} = {{LOAD}};
  var best = 0i;
  var scaled_sum = 1.0;  // logsumexp: sum of exp(x - acc) so far, acc being the running max
  for (var r = 1u; r < size; r++) {
    off = base + r * step;
    if (!single) {
      off = base + inner_offset(r);
    }
    let v: {{ACC_T}} = {{LOAD}};
    {{STEP}}
  }
  let scale = bitcast<f32>(p.extra.z);
  out[o] = {{FINAL}};
  {{WRITE_INDEX}}
}
