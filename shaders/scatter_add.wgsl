// scatter_add.wgsl: out[c with c[dim] replaced by index[c]] += src[c], one thread per c.
//
// The coordinate space c is the index tensor's shape; out is updated in place.
// Floats accumulate with a compare-exchange loop on their bit pattern (WGSL has no
// float atomics), so the order of additions, and the last bits, may vary run to run.
// Indices out of range are clamped and reported through `flags` (checked on readback).
// Bindings: 0 = out (atomic), 1 = src, 2 = index (i32), 3 = flags (atomic u32), 4 = Params.
// Grid: ceil(numel / WG) workgroups, folded into (x, y) past 65535.

#include "index_common.wgsl"

@compute @workgroup_size(WG)
fn scatter_add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.head.z + wid.x) * WG + lid;
  if (i >= p.head.x) {
    return;
  }
  let o = offsets(i);
  let j = checked(index[o.index]);
  let value = x[o.x + o.dim_coord * o.x_dim_stride];
  let dst = o.out + j * o.out_dim_stride;
  {{ACCUMULATE}}
}
