// gather.wgsl: out[c] = x[c with c[dim] replaced by index[c]], one thread per element.
//
// The coordinate space c is the index tensor's shape; out, x and index are strided
// views (index_select and integer indexing are gathers with an expanded index).
// Indices out of range are clamped and reported through `flags` (checked on readback).
// Bindings: 0 = out, 1 = x, 2 = index (i32), 3 = flags (atomic u32), 4 = Params.
// Grid: ceil(numel / WG) workgroups, folded into (x, y) past 65535.

#include "index_common.wgsl"

@compute @workgroup_size(WG)
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.head.z + wid.x) * WG + lid;
  if (i >= p.head.x) {
    return;
  }
  let o = offsets(i);
  let j = checked(index[o.index]);
  if (j < p.chunk.x || j >= p.chunk.y) {
    return;
  }
  out[o.out + o.dim_coord * o.out_dim_stride] = x[o.x + (j - p.chunk.x) * o.x_dim_stride];
}
