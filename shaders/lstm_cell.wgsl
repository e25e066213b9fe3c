// lstm_cell.wgsl: one LSTM time step after the hidden-state product, fused: the gate
// nonlinearities and the state update, c = f * c_prev + i * g, h = o * tanh(c).
//
// gi: the input projection of this step (x W_ih^T + b_ih), gh: h_prev W_hh^T + b_hh, both
// (batch, 4 * hidden) rows in PyTorch's gate order i, f, g, o. One thread per (b, j).
// With LENGTHS (a PackedSequence), a sequence that has ended (t >= lengths[b]) keeps its
// state: h = h_prev, c = c_prev.
// Bindings and Params: engine/ops/recurrent.py LSTM_CELL.
// Grid: run(e) for each e < threads = batch * hidden.

#include "math.wgsl"

fn run(e: u32) {
  let b = e / p.hidden;
  let j = e % p.hidden;
  let cp = c_prev[p.c_prev_offset + e];
  if (HAS_LENGTHS) {
    if (i32(p.t) >= lengths[p.lengths_offset + b]) {
      h[p.h_offset + e] = h_prev[p.h_prev_offset + e];
      c[p.c_offset + e] = cp;
      return;
    }
  }
  let H = p.hidden;
  let ri = p.gi_offset + b * 4u * H + j;
  let rh = p.gh_offset + b * 4u * H + j;
  let i = m_sigmoid(gi[ri] + gh[rh]);
  let f = m_sigmoid(gi[ri + H] + gh[rh + H]);
  let g = m_tanh(gi[ri + 2u * H] + gh[rh + 2u * H]);
  let o = m_sigmoid(gi[ri + 3u * H] + gh[rh + 3u * H]);
  let cn = f * cp + i * g;
  c[p.c_offset + e] = cn;
  h[p.h_offset + e] = o * m_tanh(cn);
}
