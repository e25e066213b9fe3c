// topk.wgsl: the k first elements of each row of x in sorted order, with their
// positions (sort is topk with k = n), by ranking: one thread per element counts the
// elements of its row that come before it, and writes itself at that rank if it is
// below k. Ties keep their order (stable); NaN sorts as the largest value, as PyTorch.
//
// O(n) per thread and no barriers or workgroup memory, which CPU adapters want; rows
// are short in sequence code (a vocabulary). x contiguous (outer, n, inner); values and
// indices contiguous (outer, k, inner).
// Bindings and Params: engine/ops/sorting.py TOPK. DESCENDING: largest first.
// Grid: run(e) for each e < threads = outer * n * inner.

#include "math.wgsl"

fn nan_of(a: T) -> bool {
  if (FLOAT) {
    return m_is_nan(f32(a));
  }
  return false;
}

// a strictly greater than b, NaN above everything
fn greater(a: T, b: T) -> bool {
  let na = nan_of(a);
  let nb = nan_of(b);
  return (na && !nb) || (!na && !nb && a > b);
}

fn before(a: T, b: T) -> bool {
  if (DESCENDING) {
    return greater(a, b);
  }
  return greater(b, a);
}

fn run(e: u32) {
  let i = e % p.inner;
  let j = (e / p.inner) % p.n;
  let o = e / (p.inner * p.n);
  let base = p.x_offset + o * p.n * p.inner + i;
  let v = x[base + j * p.inner];
  var rank = 0u;
  for (var m = 0u; m < p.n; m++) {
    let w = x[base + m * p.inner];
    // w comes first if it sorts strictly before v, or ties with v at a smaller position
    if (before(w, v) || (m < j && !before(v, w))) {
      rank += 1u;
    }
  }
  if (rank < p.k) {
    let dst = o * p.k * p.inner + rank * p.inner + i;
    values[dst] = v;
    indices[dst] = i32(j);
  }
}
