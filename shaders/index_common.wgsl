// index_common.wgsl: what gather.wgsl and scatter_add.wgsl share (included, never
// compiled alone): the Params block, the coordinate walk and the index check.
// Bindings (both): 0 = out, 1 = x (gather) or src (scatter_add), 2 = index (i32),
//                 3 = flags (atomic u32), 4 = Params.

override WG: u32 = 64u;

struct Params {
  head: vec4<u32>,     // numel (of the coordinate space), ndim, workgroups along x, dim
  extra: vec4<u32>,    // size of out (gather: x) along dim, out offset, x offset, index offset
  chunk: vec4<u32>,    // gather: only indices in [x, y) are handled by this dispatch (x is bound
                       // from index x on), so that a table larger than one binding is gathered
                       // in several dispatches
  shape: array<vec4<u32>, 2>,
  out_strides: array<vec4<u32>, 2>,
  x_strides: array<vec4<u32>, 2>,
  index_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<storage, read_write> out: array<{{OUT_T}}>;
@group(0) @binding(1) var<storage, read> x: array<{{X_T}}>;
@group(0) @binding(2) var<storage, read> index: array<i32>;
@group(0) @binding(3) var<storage, read_write> flags: array<atomic<u32>>;
@group(0) @binding(4) var<uniform> p: Params;

struct Offsets {
  out: u32,
  x: u32,
  index: u32,
  dim_coord: u32,   // c[dim] itself
  out_dim_stride: u32,
  x_dim_stride: u32,
}

fn offsets(i: u32) -> Offsets {
  var o = Offsets(p.extra.y, p.extra.z, p.extra.w, 0u, 0u, 0u);
  var rem = i;
  for (var d = p.head.y; d > 0u; d--) {
    let dim = d - 1u;
    let n = p.shape[dim / 4u][dim % 4u];
    let c = rem % n;
    rem = rem / n;
    let so = p.out_strides[dim / 4u][dim % 4u];
    let sx = p.x_strides[dim / 4u][dim % 4u];
    o.index += c * p.index_strides[dim / 4u][dim % 4u];
    if (dim == p.head.w) {
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
  let size = i32(p.extra.x);
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

