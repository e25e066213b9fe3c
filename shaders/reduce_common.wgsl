// reduce_common.wgsl: what reduce.wgsl and reduce_workgroup.wgsl share (included, never
// compiled alone): the Params block, the bindings and the offset walks.
// The input view is (outer dims..., reduced dims...): engine/ops/launch.py moves the
// reduced dims last and merges dims where strides allow.
// Bindings: 0 = out values, 1 = x (storage, read), then the second output (argmax/argmin
//           indices, or the sum of exponentials of max_sumexp) when asked, then Params.
// logsumexp and max_sumexp call math.wgsl's m_exp and m_log.

#include "math.wgsl"

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

// Offset of the first reduced element of output o.
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

// Offset of the r-th reduced element, relative to the output's base offset.
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

// The element offset of reduced element r: one multiply when the reduced dims merged
// into one, the general walk otherwise.
fn element_offset(base: u32, r: u32) -> u32 {
  if (p.head.w == 1u) {
    return base + r * p.inner_strides[0].x;
  }
  return base + inner_offset(r);
}
