// gather.wgsl: out[c] = x[c with c[dim] replaced by index[c]], one thread per element.
//
// The coordinate space c is the index tensor's shape; out, x and index are strided
// views (index_select and integer indexing are gathers with an expanded index).
// Indices out of range are clamped and reported through `flags` (checked on readback).
// Grid: run(i) for each i < threads (one thread per index element).

#include "index_common.wgsl"

fn run(i: u32) {
  let o = offsets(i);
  let j = checked(index[o.index]);
  if (j < p.chunk_lo || j >= p.chunk_hi) {
    return;
  }
  out[o.out + o.dim_coord * o.out_dim_stride] = x[o.x + (j - p.chunk_lo) * o.x_dim_stride];
}
