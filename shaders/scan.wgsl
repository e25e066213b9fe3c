// scan.wgsl: out = the running sum (PROD false) or product (PROD true) of x along one
// dim, one thread per row. REVERSE runs from the end (the backward of cumsum).
//
// x and out are contiguous (outer, n, inner): row r = (o, i) holds elements
// o * n * inner + k * inner + i for k < n. Each thread walks its row serially: no
// workgroup memory or barriers (docs/architecture.md, Facts about the adapters).
// Bindings and Params: engine/ops/scan.py SCAN.
// Grid: run(r) for each r < threads = outer * inner.

fn run(r: u32) {
  let base = (r / p.inner) * p.n * p.inner + r % p.inner;
  var acc = T(0);
  if (PROD) {
    acc = T(1);
  }
  for (var j = 0u; j < p.n; j++) {
    var k = j;
    if (REVERSE) {
      k = p.n - 1u - j;
    }
    let e = base + k * p.inner;
    if (PROD) {
      acc = acc * x[p.x_offset + e];
    } else {
      acc = acc + x[p.x_offset + e];
    }
    out[e] = acc;
  }
}
