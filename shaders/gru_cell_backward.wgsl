// gru_cell_backward.wgsl: the backward of gru_cell.wgsl for one time step, fused.
//
// The gradient reaching h is dh (the next step's hidden product, optional) + dh2 (the
// output sequence's, optional) + dh3 (the next step's direct part, optional). Writes
// dgi, dgh (they differ in the n gate: dgh_n = dgi_n * r) and dh_prev (the direct part,
// z * dh; the hidden product's part is added by the next step). Activations are
// recomputed from gi, gh. With LENGTHS an ended sequence passes its gradient through.
// Bindings and Params: engine/ops/recurrent.py GRU_CELL_BACKWARD.
// Grid: run(e) for each e < threads = batch * hidden.

#include "math.wgsl"

fn run(e: u32) {
  let H = p.hidden;
  let b = e / H;
  let j = e % H;
  var dht = 0.0;
  if (HAS_DH) {
    dht += dh[p.dh_offset + e];
  }
  if (HAS_DH2) {
    dht += dh2[p.dh2_offset + e];
  }
  if (HAS_DH3) {
    dht += dh3[p.dh3_offset + e];
  }
  let gb = b * 3u * H + j;
  if (HAS_LENGTHS) {
    if (i32(p.t) >= lengths[p.lengths_offset + b]) {
      for (var k = 0u; k < 3u; k++) {
        dgi[p.dgi_offset + gb + k * H] = 0.0;
        dgh[p.dgh_offset + gb + k * H] = 0.0;
      }
      dh_prev[e] = dht;
      return;
    }
  }
  let ri = p.gi_offset + gb;
  let rh = p.gh_offset + gb;
  let r = m_sigmoid(gi[ri] + gh[rh]);
  let z = m_sigmoid(gi[ri + H] + gh[rh + H]);
  let ahn = gh[rh + 2u * H];
  let nn = m_tanh(gi[ri + 2u * H] + r * ahn);
  let hp = h_prev[p.h_prev_offset + e];
  let dan = dht * (1.0 - z) * (1.0 - nn * nn);
  let dar = dan * ahn * r * (1.0 - r);
  let daz = dht * (hp - nn) * z * (1.0 - z);
  dgi[p.dgi_offset + gb] = dar;
  dgi[p.dgi_offset + gb + H] = daz;
  dgi[p.dgi_offset + gb + 2u * H] = dan;
  dgh[p.dgh_offset + gb] = dar;
  dgh[p.dgh_offset + gb + H] = daz;
  dgh[p.dgh_offset + gb + 2u * H] = dan * r;
  dh_prev[e] = dht * z;
}
