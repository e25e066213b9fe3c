// rnn_cell.wgsl: one Elman RNN time step after the hidden-state product, fused:
// h = tanh(gi + gh) (relu with RELU). With LENGTHS an ended sequence keeps h = h_prev.
// Bindings and Params: engine/ops/recurrent.py RNN_CELL.
// Grid: run(e) for each e < threads = batch * hidden.

#include "math.wgsl"

fn run(e: u32) {
  if (HAS_LENGTHS) {
    if (i32(p.t) >= lengths[p.lengths_offset + e / p.hidden]) {
      h[p.h_offset + e] = h_prev[p.h_prev_offset + e];
      return;
    }
  }
  let a = gi[p.gi_offset + e] + gh[p.gh_offset + e];
  if (RELU) {
    h[p.h_offset + e] = max(a, 0.0);
  } else {
    h[p.h_offset + e] = m_tanh(a);
  }
}
