// index_common.wgsl: what gather.wgsl and scatter_add.wgsl share (included, never
// compiled alone): the Params block, the coordinate walk and the index check.
// Bindings and Params (both): engine/ops/indexing.py. A gather whose table x is larger
// than one binding runs in several dispatches, each handling only the indices in
// [chunk_lo, chunk_hi) with x bound from position chunk_lo along dim.

struct Offsets {
  out: u32,
  x: u32,
  index: u32,
  dim_coord: u32,   // c[dim] itself
  out_dim_stride: u32,
  x_dim_stride: u32,
}

fn offsets(i: u32) -> Offsets {
  var o = Offsets(p.out_offset, p.x_offset, p.index_offset, 0u, 0u, 0u);
  var rem = i;
  for (var d = p.ndim; d > 0u; d--) {
    let dim = d - 1u;
    let n = p.shape[dim / 4u][dim % 4u];
    let c = rem % n;
    rem = rem / n;
    let so = p.out_strides[dim / 4u][dim % 4u];
    let sx = p.x_strides[dim / 4u][dim % 4u];
    o.index += c * p.index_strides[dim / 4u][dim % 4u];
    if (dim == p.dim) {
      o.dim_coord = c;
      o.out_dim_stride = so;
      o.x_dim_stride = sx;
    } else {
      o.out += c * so;
      o.x += c * sx;
    }
  }
  return o;
}

// index[...] as a valid coordinate along dim (negative counts from the end).
fn checked(j: i32) -> u32 {
  let size = i32(p.dim_size);
  var k = j;
  if (k < 0) {
    k += size;
  }
  if (k < 0 || k >= size) {
    atomicStore(&flags[0], 1u);
    return u32(clamp(k, 0, size - 1));
  }
  return u32(k);
}

