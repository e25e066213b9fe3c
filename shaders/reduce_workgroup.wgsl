// reduce_workgroup.wgsl: out[o] = REDUCE over r of x[o, r], one workgroup per output.
//
// For GPUs when there are few outputs and long reductions (a full sum, a loss): the
// WG threads of a workgroup each reduce a strided share (r = lid, lid + WG, ...) of
// the output's elements, then combine their partial results in a tree in workgroup
// memory. CPU adapters use reduce.wgsl instead: barriers are costly there.
// The reductions: reduce_common.wgsl.
// Grid: num_out workgroups, folded into (x, y) past 65535.

#include "reduce_common.wgsl"

var<workgroup> parts: array<State, WG>;
var<workgroup> part_has: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let o = wid.y * nwg.x + wid.x;  // the same for the whole workgroup
  if (o >= p.num_out) {
    return;
  }
  let base = outer_offset(o);
  let size = p.reduce_size;
  var s: State;
  s.best = i32(lid);
  s.scaled_sum = 1.0;
  let has = lid < size;
  if (has) {
    s.acc = load(element_offset(base, lid));
    for (var r = lid + WG; r < size; r += WG) {
      step(&s, load(element_offset(base, r)), r);
    }
  }
  parts[lid] = s;
  part_has[lid] = select(0u, 1u, has);
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride && part_has[lid + stride] != 0u) {
      var mine = parts[lid];
      if (part_has[lid] == 0u) {
        mine = parts[lid + stride];
      } else {
        combine(&mine, parts[lid + stride]);
      }
      parts[lid] = mine;
      part_has[lid] = 1u;
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    finish(o, parts[0]);
  }
}
