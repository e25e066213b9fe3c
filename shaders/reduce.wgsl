// reduce.wgsl: out[o] = REDUCE over r of x[o, r], one thread per output element.
//
// Each thread walks its reduced elements serially: no workgroup memory or barriers,
// which CPU adapters (lavapipe, SwiftShader) handle far better than tree reductions,
// and which fills a GPU whenever there are many outputs. The reductions: reduce_common.wgsl.
// Grid: run(i) for each i < threads (one thread per output).

#include "reduce_common.wgsl"

fn run(o: u32) {
  let base = outer_offset(o);
  var s = State(load(base), 0i, 1.0);
  for (var r = 1u; r < p.reduce_size; r++) {
    step(&s, load(element_offset(base, r)), r);
  }
  finish(o, s);
}
