// reduce.wgsl: out[o] = REDUCE over r of x[o, r], one thread per output element.
//
// Each thread walks its reduced elements serially: no workgroup memory or barriers,
// which CPU adapters (lavapipe, SwiftShader) handle far better than tree reductions,
// and which fills a GPU whenever there are many outputs. Bindings: reduce_common.wgsl.
// Grid: ceil(num_out / WG) workgroups, folded into (x, y) past 65535.

#include "reduce_common.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = (wid.y * p.extra.x + wid.x) * WG + lid;
  if (o >= p.head.x) {
    return;
  }
  let base = outer_offset(o);
  let size = p.head.y;
  var off = base;
  var acc: {{ACC_T}} = {{LOAD}};
  var best = 0i;
  var scaled_sum = 1.0;  // logsumexp: sum of exp(x - acc) so far, acc being the running max
  for (var r = 1u; r < size; r++) {
    off = element_offset(base, r);
    let v: {{ACC_T}} = {{LOAD}};
    {{STEP}}
  }
  let scale = bitcast<f32>(p.extra.z);
  out[o] = {{FINAL}};
  {{WRITE_INDEX}}
}
