// reduce_common.wgsl: what reduce.wgsl and reduce_workgroup.wgsl share (included, never
// compiled alone): the reductions themselves and the offset walks.
// The input view is (outer dims..., reduced dims...): engine/ops/launch.py moves the
// reduced dims last and merges dims where strides allow.
// Bindings and Params: engine/ops/launch.py REDUCE. `second` is the optional second
// output: the argmax/argmin indices (i32), or the sum of exp(x - max) of max_sumexp.

#include "math.wgsl"

// OP, the reduction: 0 sum, 1 mean, 2 prod, 3 max, 4 min, 5 any, 6 all, 7 logsumexp,
// 8 max_sumexp (the running maximum, with the sum of exponentials rescaled to it).
const SUM = 0u;
const MEAN = 1u;
const PROD = 2u;
const MAX = 3u;
const MIN = 4u;
const ANY = 5u;
const ALL = 6u;
const LOGSUMEXP = 7u;
const MAX_SUMEXP = 8u;

// A partial result: `acc` starts as the first element, `best` is the position of the
// extreme value so far (max, min), `scaled_sum` the sum of exp(x - acc) (logsumexp).
struct State {
  acc: ACC_T,
  best: i32,
  scaled_sum: f32,
}

// x[off] as the accumulator type (a bool accumulator counts nonzero elements as 1).
fn load(off: u32) -> ACC_T {
  if (BOOL_ACC) {
    return ACC_T(select(0u, 1u, x[off] != IN_T(0)));
  }
  return ACC_T(x[off]);
}

// Fold element v, the r-th reduced one, into s. NaN wins max and min, as in PyTorch.
fn step(s: ptr<function, State>, v: ACC_T, r: u32) {
  let acc = (*s).acc;
  switch (OP) {
    case SUM, MEAN: { (*s).acc = acc + v; }
    case PROD: { (*s).acc = acc * v; }
    case MAX: {
      if (v > acc || (v != v && acc == acc)) {
        (*s).acc = v;
        (*s).best = i32(r);
      }
    }
    case MIN: {
      if (v < acc || (v != v && acc == acc)) {
        (*s).acc = v;
        (*s).best = i32(r);
      }
    }
    case ANY: { (*s).acc = max(acc, v); }
    case ALL: { (*s).acc = min(acc, v); }
    default: {  // LOGSUMEXP, MAX_SUMEXP: one pass, rescaling the sum to a running maximum
      let a = f32(acc);
      let b = f32(v);
      if (b > a) {
        (*s).scaled_sum = (*s).scaled_sum * m_exp(a - b) + 1.0;
        (*s).acc = v;
      } else {
        (*s).scaled_sum = (*s).scaled_sum + m_exp(b - a);
      }
    }
  }
}

// Merge another partial result o into s (reduce_workgroup.wgsl's tree).
fn combine(s: ptr<function, State>, o: State) {
  let acc = (*s).acc;
  switch (OP) {
    case SUM, MEAN: { (*s).acc = acc + o.acc; }
    case PROD: { (*s).acc = acc * o.acc; }
    case MAX: {
      if (o.acc > acc || (o.acc == acc && o.best < (*s).best) || (o.acc != o.acc && acc == acc)) {
        (*s).acc = o.acc;
        (*s).best = o.best;
      }
    }
    case MIN: {
      if (o.acc < acc || (o.acc == acc && o.best < (*s).best) || (o.acc != o.acc && acc == acc)) {
        (*s).acc = o.acc;
        (*s).best = o.best;
      }
    }
    case ANY: { (*s).acc = max(acc, o.acc); }
    case ALL: { (*s).acc = min(acc, o.acc); }
    default: {
      let top = max(f32(acc), f32(o.acc));
      (*s).scaled_sum = (*s).scaled_sum * m_exp(f32(acc) - top) + o.scaled_sum * m_exp(f32(o.acc) - top);
      (*s).acc = ACC_T(top);
    }
  }
}

// Write output o (and the second output when bound).
fn finish(o: u32, s: State) {
  let a = f32(s.acc);
  switch (OP) {
    case MEAN: { out[o] = OUT_T(a * p.scale); }
    case LOGSUMEXP: { out[o] = OUT_T(select(a + m_log(s.scaled_sum), a, a < -3.4028234e38)); }
    default: { out[o] = OUT_T(s.acc); }
  }
  if (HAS_SECOND) {
    second[o] = select(SECOND_T(s.best), SECOND_T(s.scaled_sum), OP == MAX_SUMEXP);
  }
}

// Offset of the first reduced element of output o.
fn outer_offset(o: u32) -> u32 {
  var rem = o;
  var off = p.x_offset;
  for (var d = p.outer_ndim; d > 0u; d--) {
    let dim = d - 1u;
    let n = p.outer_shape[dim / 4u][dim % 4u];
    off += (rem % n) * p.outer_strides[dim / 4u][dim % 4u];
    rem = rem / n;
  }
  return off;
}

// Offset of the r-th reduced element, relative to the output's base offset.
fn inner_offset(r: u32) -> u32 {
  var rem = r;
  var off = 0u;
  for (var d = p.inner_ndim; d > 0u; d--) {
    let dim = d - 1u;
    let n = p.inner_shape[dim / 4u][dim % 4u];
    off += (rem % n) * p.inner_strides[dim / 4u][dim % 4u];
    rem = rem / n;
  }
  return off;
}

// The element offset of reduced element r: one multiply when the reduced dims merged
// into one, the general walk otherwise.
fn element_offset(base: u32, r: u32) -> u32 {
  if (p.inner_ndim == 1u) {
    return base + r * p.inner_strides[0].x;
  }
  return base + inner_offset(r);
}
