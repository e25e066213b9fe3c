// scatter_add.wgsl: out[c with c[dim] replaced by index[c]] += src[c], one thread per c.
//
// The coordinate space c is the index tensor's shape; out is updated in place.
// Floats accumulate with a compare-exchange loop on their bit pattern (WGSL has no
// float atomics), so the order of additions, and the last bits, may vary run to run.
// Indices out of range are clamped and reported through `flags` (checked on readback).
// Grid: run(i) for each i < threads (one thread per index element).

#include "index_common.wgsl"

fn run(i: u32) {
  let o = offsets(i);
  let j = checked(index[o.index]);
  let value = x[o.x + o.dim_coord * o.x_dim_stride];
  let dst = o.out + j * o.out_dim_stride;
  if (FLOAT) {  // WGSL has no float atomics: a compare-exchange loop on the bits
    loop {
      let old = atomicLoad(&out[dst]);
      let sum = bitcast<ATOM_T>(bitcast<f32>(old) + f32(value));
      if (atomicCompareExchangeWeak(&out[dst], old, sum).exchanged) {
        break;
      }
    }
  } else {
    atomicAdd(&out[dst], ATOM_T(value));
  }
}
