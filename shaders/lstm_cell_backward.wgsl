// lstm_cell_backward.wgsl: the backward of lstm_cell.wgsl for one time step, fused.
//
// The gradient reaching h is dh (from the next step's hidden product, optional) + dh2
// (the output sequence's gradient at this step, optional) + the carried dstate_in[1];
// dstate_in[0] is the gradient reaching c. Writes dgates (the pre-activation gradient,
// of gi and gh alike, gate order i, f, g, o) and dstate = (gradient of c_prev, carry).
// The activations are recomputed from gi + gh and c_prev. With LENGTHS, an ended
// sequence passes both gradients through (the forward kept its state).
// Bindings and Params: engine/ops/recurrent.py LSTM_CELL_BACKWARD.
// Grid: run(e) for each e < threads = batch * hidden.

#include "math.wgsl"

fn run(e: u32) {
  let H = p.hidden;
  let n = p.batch * H;
  let b = e / H;
  let j = e % H;
  var dht = dstate_in[p.dstate_in_offset + n + e];
  if (HAS_DH) {
    dht += dh[p.dh_offset + e];
  }
  if (HAS_DH2) {
    dht += dh2[p.dh2_offset + e];
  }
  let dc = dstate_in[p.dstate_in_offset + e];
  let gb = p.dgates_offset + b * 4u * H + j;
  if (HAS_LENGTHS) {
    if (i32(p.t) >= lengths[p.lengths_offset + b]) {
      for (var k = 0u; k < 4u; k++) {
        dgates[gb + k * H] = 0.0;
      }
      dstate[e] = dc;
      dstate[n + e] = dht;
      return;
    }
  }
  let ri = p.gi_offset + b * 4u * H + j;
  let rh = p.gh_offset + b * 4u * H + j;
  let i = m_sigmoid(gi[ri] + gh[rh]);
  let f = m_sigmoid(gi[ri + H] + gh[rh + H]);
  let g = m_tanh(gi[ri + 2u * H] + gh[rh + 2u * H]);
  let o = m_sigmoid(gi[ri + 3u * H] + gh[rh + 3u * H]);
  let cp = c_prev[p.c_prev_offset + e];
  let tc = m_tanh(f * cp + i * g);
  let dct = dc + dht * o * (1.0 - tc * tc);
  dgates[gb] = dct * g * i * (1.0 - i);
  dgates[gb + H] = dct * cp * f * (1.0 - f);
  dgates[gb + 2u * H] = dct * i * (1.0 - g * g);
  dgates[gb + 3u * H] = dht * tc * o * (1.0 - o);
  dstate[e] = dct * f;
  dstate[n + e] = 0.0;
}
