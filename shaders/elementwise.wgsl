// elementwise.wgsl: out[i] = EXPR(x0[i], x1[i], ...) over a broadcast, strided index space.
//
// Specialized by engine/ops/launch.py `elementwise()`: the element types, how each operand
// is loaded (LOADS: contiguous, strided, broadcast, or a scalar from the uniform block,
// written by engine/backend/kernel.py `operand_loads`) and the expression EXPR, which may
// call math.wgsl's functions (m_exp, m_log, m_sin, m_pow...).
// Bindings and Params: launch.py `_elementwise_kernel`: out, then the tensor inputs that
// are not read through out. View k's strides are strides[k ndim ..], its offset offsets[k].
// Grid: run(i) for each i < threads (one thread per output element).

// Element offset of flat index i in view k's strided layout.
fn offset_of(k: u32, i: u32) -> u32 {
  var rem = i;
  var off = p.offsets[k / 4u][k % 4u];
  for (var d = p.ndim; d > 0u; d--) {
    let dim = d - 1u;
    let n = p.shape[dim / 4u][dim % 4u];
    let s = k * p.ndim + dim;
    off += (rem % n) * p.strides[s / 4u][s % 4u];
    rem = rem / n;
  }
  return off;
}

#include "math.wgsl"

fn run(i: u32) {
{{LOADS}}
  var o: u32;
  if (OUT_CONTIGUOUS) {
    o = p.offsets[0][0] + i;
  } else {
    o = offset_of(0u, i);
  }
  out[o] = {{EXPR}};
}
