// cumprod_backward.wgsl: the gradient of out = cumprod(x) along one dim, exact with
// zeros in x: gx[k] = prod(x[j], j < k) * sum over m >= k of g[m] * prod(x[j], k < j <= m).
//
// x, g and gx are contiguous (outer, n, inner) (scan.wgsl's layout); one thread per
// element walks its row (O(n) each, O(n^2) per row: rows are short in practice).
// Bindings and Params: engine/ops/scan.py CUMPROD_BACKWARD.
// Grid: run(e) for each e < threads = outer * n * inner.

fn run(e: u32) {
  let i = e % p.inner;
  let k = (e / p.inner) % p.n;
  let base = (e / (p.inner * p.n)) * p.n * p.inner + i;
  var left = 1.0;
  for (var j = 0u; j < k; j++) {
    left *= x[p.x_offset + base + j * p.inner];
  }
  var acc = 0.0;
  var right = 1.0;
  for (var m = k; m < p.n; m++) {
    if (m > k) {
      right *= x[p.x_offset + base + m * p.inner];
    }
    acc += g[p.g_offset + base + m * p.inner] * right;
  }
  gx[e] = left * acc;
}
