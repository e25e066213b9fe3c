// reduce.wgsl: out[o] = REDUCE over r of x[o, r], one thread per output element.
//
// Each thread walks its reduced elements serially: no workgroup memory or barriers,
// which CPU adapters (lavapipe, SwiftShader) handle far better than tree reductions,
// and which fills a GPU whenever there are many outputs. The reductions: reduce_common.wgsl.
// Grid: ceil(num_out / WG) workgroups, folded into (x, y) past 65535.

#include "reduce_common.wgsl"

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let o = flat_id(wid, nwg, lid);
  if (o >= p.num_out) {
    return;
  }
  let base = outer_offset(o);
  var s = State(load(base), 0i, 1.0);
  for (var r = 1u; r < p.reduce_size; r++) {
    step(&s, load(element_offset(base, r)), r);
  }
  finish(o, s);
}
