// gather.wgsl: out[c] = x[c with c[dim] replaced by index[c]], one thread per element.
//
// The coordinate space c is the index tensor's shape; out, x and index are strided
// views (index_select and integer indexing are gathers with an expanded index).
// Indices out of range are clamped and reported through `flags` (checked on readback).
// Grid: ceil(numel / WG) workgroups, folded into (x, y) past 65535.

#include "index_common.wgsl"

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = flat_id(wid, nwg, lid);
  if (i >= p.numel) {
    return;
  }
  let o = offsets(i);
  let j = checked(index[o.index]);
  if (j < p.chunk_lo || j >= p.chunk_hi) {
    return;
  }
  out[o.out + o.dim_coord * o.out_dim_stride] = x[o.x + (j - p.chunk_lo) * o.x_dim_stride];
}
