// elementwise.wgsl: out[i] = EXPR(x0[i], x1[i], ...) over a broadcast, strided index space.
//
// Specialized by engine/ops/_elementwise.py: the element types, how each operand is
// loaded (contiguous, strided, or a scalar from the uniform block) and the expression,
// which may call math.wgsl's functions (m_exp, m_log, m_sin, m_pow...).
// Bindings: 0 = out (storage, read_write); 1.. = tensor inputs (storage, read);
//           last = Params (uniform).
// Grid: ceil(numel / WG) workgroups of WG threads, folded into (x, y) past 65535.

override WG: u32 = 64u;

struct Params {
  head: vec4<u32>,                        // numel, ndim, workgroups along x, unused
  shape: array<vec4<u32>, 2>,             // up to 8 dims, innermost last
  strides: array<vec4<u32>, {{NSTRIDES}}>,  // operand k, dim d at [2k + d / 4][d % 4]
  offsets: array<vec4<u32>, {{NOFFSETS}}>,  // operand k at [k / 4][k % 4]
  scalars: vec4<u32>,                     // raw bits of scalar operands
}

@group(0) @binding(0) var<storage, read_write> out: array<{{OUT_T}}>;
{{INPUT_BINDINGS}}
@group(0) @binding({{PARAMS_BINDING}}) var<uniform> p: Params;

// Element offset of flat index i in operand k's strided view.
fn offset_of(k: u32, i: u32) -> u32 {
  var rem = i;
  var off = p.offsets[k / 4u][k % 4u];
  for (var d = p.head.y; d > 0u; d--) {
    let dim = d - 1u;
    let n = p.shape[dim / 4u][dim % 4u];
    off += (rem % n) * p.strides[2u * k + dim / 4u][dim % 4u];
    rem = rem / n;
  }
  return off;
}

#include "math.wgsl"
{{FUNCTIONS}}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.head.z + wid.x) * WG + lid;
  if (i >= p.head.x) {
    return;
  }
{{LOADS}}
  out[{{OUT_INDEX}}] = {{EXPR}};
}
