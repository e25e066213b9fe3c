// rnn_cell_backward.wgsl: the backward of rnn_cell.wgsl for one time step: the gradient
// reaching h (dh from the next step's hidden product + dh2 from the output sequence +
// the carry, each optional) times the derivative of the nonlinearity at h. With
// LENGTHS an ended sequence passes its gradient on through `carry` instead.
// Bindings and Params: engine/ops/recurrent.py RNN_CELL_BACKWARD.
// Grid: run(e) for each e < threads = batch * hidden.

fn run(e: u32) {
  var dht = 0.0;
  if (HAS_DH) {
    dht += dh[p.dh_offset + e];
  }
  if (HAS_DH2) {
    dht += dh2[p.dh2_offset + e];
  }
  if (HAS_CARRY_IN) {
    dht += carry_in[p.carry_in_offset + e];
  }
  if (HAS_LENGTHS) {
    if (i32(p.t) >= lengths[p.lengths_offset + e / p.hidden]) {
      dgates[p.dgates_offset + e] = 0.0;
      carry[e] = dht;
      return;
    }
  }
  let hv = h[p.h_offset + e];
  if (RELU) {
    dgates[p.dgates_offset + e] = select(0.0, dht, hv > 0.0);
  } else {
    dgates[p.dgates_offset + e] = dht * (1.0 - hv * hv);
  }
  carry[e] = 0.0;
}
