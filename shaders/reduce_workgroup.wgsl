// reduce_workgroup.wgsl: out[o] = REDUCE over r of x[o, r], one workgroup per output.
//
// For GPUs when there are few outputs and long reductions (a full sum, a loss): the
// WG threads of a workgroup each reduce a strided share (r = lid, lid + WG, ...) of
// the output's elements, then combine their partial results in a tree in workgroup
// memory. CPU adapters use reduce.wgsl instead: barriers are costly there.
// Bindings: reduce_common.wgsl.
// Grid: num_out workgroups, folded into (x, y) past 65535.

#include "reduce_common.wgsl"

var<workgroup> part_acc: array<{{ACC_T}}, WG>;
var<workgroup> part_best: array<i32, WG>;
var<workgroup> part_sum: array<f32, WG>;
var<workgroup> part_has: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.y * p.extra.x + wid.x;  // the same for the whole workgroup
  if (o >= p.head.x) {
    return;
  }
  let base = outer_offset(o);
  let size = p.head.y;
  var acc: {{ACC_T}};
  var best = i32(lid);
  var scaled_sum = 1.0;  // logsumexp: sum of exp(x - acc) so far, acc being the running max
  let has = lid < size;
  if (has) {
    var off = element_offset(base, lid);
    acc = {{LOAD}};
    for (var r = lid + WG; r < size; r += WG) {
      off = element_offset(base, r);
      let v: {{ACC_T}} = {{LOAD}};
      {{STEP}}
    }
  }
  part_acc[lid] = acc;
  part_best[lid] = best;
  part_sum[lid] = scaled_sum;
  part_has[lid] = select(0u, 1u, has);
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride && part_has[lid + stride] != 0u) {
      let other = part_acc[lid + stride];
      let other_best = part_best[lid + stride];
      let other_sum = part_sum[lid + stride];
      acc = part_acc[lid];
      best = part_best[lid];
      scaled_sum = part_sum[lid];
      if (part_has[lid] == 0u) {
        acc = other;
        best = other_best;
        scaled_sum = other_sum;
      } else {
        {{COMBINE}}
      }
      part_acc[lid] = acc;
      part_best[lid] = best;
      part_sum[lid] = scaled_sum;
      part_has[lid] = 1u;
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    acc = part_acc[0];
    best = part_best[0];
    scaled_sum = part_sum[0];
    let scale = bitcast<f32>(p.extra.z);
    out[o] = {{FINAL}};
    {{WRITE_INDEX}}
  }
}
