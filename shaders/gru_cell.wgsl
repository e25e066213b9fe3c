// gru_cell.wgsl: one GRU time step after the hidden-state product, fused:
// r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z), n = tanh(gi_n + r * gh_n),
// h = (1 - z) * n + z * h_prev (PyTorch's gate order r, z, n; gh includes b_hh).
//
// gi, gh: (batch, 3 * hidden) rows. With LENGTHS an ended sequence keeps h = h_prev.
// Bindings and Params: engine/ops/recurrent.py GRU_CELL.
// Grid: run(e) for each e < threads = batch * hidden.

#include "math.wgsl"

fn run(e: u32) {
  let H = p.hidden;
  let b = e / H;
  let j = e % H;
  let hp = h_prev[p.h_prev_offset + e];
  if (HAS_LENGTHS) {
    if (i32(p.t) >= lengths[p.lengths_offset + b]) {
      h[p.h_offset + e] = hp;
      return;
    }
  }
  let ri = p.gi_offset + b * 3u * H + j;
  let rh = p.gh_offset + b * 3u * H + j;
  let r = m_sigmoid(gi[ri] + gh[rh]);
  let z = m_sigmoid(gi[ri + H] + gh[rh + H]);
  let nn = m_tanh(gi[ri + 2u * H] + r * gh[rh + 2u * H]);
  h[p.h_offset + e] = (1.0 - z) * nn + z * hp;
}
