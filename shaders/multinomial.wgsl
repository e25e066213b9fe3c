// multinomial.wgsl: draws with replacement by inverse CDF: sample t of row r is the
// first category whose running total exceeds u[t] * total (a binary search), so a
// category of weight zero is never drawn.
//
// cdf: contiguous (rows, n) running sums of the weights; u: (rows, samples) uniform
// in [0, 1); out: (rows, samples) category numbers.
// Bindings and Params: engine/ops/sorting.py MULTINOMIAL.
// Grid: run(t) for each t < threads = rows * samples.

fn run(t: u32) {
  let row = (t / p.samples) * p.n;
  let goal = u[t] * cdf[row + p.n - 1u];
  var lo = 0u;
  var hi = p.n;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (cdf[row + mid] > goal) {
      hi = mid;
    } else {
      lo = mid + 1u;
    }
  }
  // rounding put the goal at the total: the last category of nonzero weight
  if (lo >= p.n) {
    lo = p.n - 1u;
    while (lo > 0u && cdf[row + lo] == cdf[row + lo - 1u]) {
      lo -= 1u;
    }
  }
  out[t] = i32(lo);
}
