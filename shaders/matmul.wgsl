// matmul.wgsl: c[b] = a[b] @ b[b] (+ bias), register-blocked.
//
// a: (batch, M, K) and b: (batch, K, N) are strided views (a transpose costs nothing);
// c: (batch, M, N) contiguous. Each thread computes 16 elements of c, keeping them in
// registers and reading a and b straight from storage: no workgroup memory and no
// barriers, the variant that CPU adapters run fastest (shared/WEBGPU.md) and that is
// still reasonable on GPUs.
// Bindings: 0 = c, 1 = a, 2 = b, then bias (length N, only when specialized with one),
//           then Params (uniform), always last.
// Grid: (ceil(N / 32), ceil(M / 32), batch) workgroups of 8x8 threads.

struct Params {
  dims: vec4<u32>,  // M, N, K, batch
  a: vec4<u32>,     // batch stride, row stride, k stride, offset
  b: vec4<u32>,     // batch stride, k stride, column stride, offset
  bias: vec4<u32>,  // offset, stride, unused, unused
}

@group(0) @binding(0) var<storage, read_write> c: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
{{BIAS_BINDING}}
@group(0) @binding({{PARAMS_BINDING}}) var<uniform> p: Params;

@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = p.dims.x;
  let N = p.dims.y;
  let K = p.dims.z;
  // thread (x, y) of a workgroup owns rows y, y+8, y+16, y+24 and columns x, x+8, ... of
  // the workgroup's 32x32 tile: neighbouring threads touch neighbouring columns, which
  // SIMD lanes (CPU adapters) and memory coalescing (GPUs) both want
  let row0 = wid.y * 32u + lid.y;
  let col0 = wid.x * 32u + lid.x;
  if (row0 >= M || col0 >= N) {
    return;
  }
  let batch = wid.z;
  // rows and columns past the edge re-read the last valid one; their results are dropped
  var a_row: vec4<u32>;
  var b_col: vec4<u32>;
  for (var i = 0u; i < 4u; i++) {
    a_row[i] = p.a.w + batch * p.a.x + min(row0 + 8u * i, M - 1u) * p.a.y;
    b_col[i] = p.b.w + batch * p.b.x + min(col0 + 8u * i, N - 1u) * p.b.z;
  }
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < K; k++) {
    let ak = k * p.a.z;
    let bk = k * p.b.y;
    let bv = vec4<f32>(b[b_col.x + bk], b[b_col.y + bk], b[b_col.z + bk], b[b_col.w + bk]);
    acc[0] += a[a_row.x + ak] * bv;
    acc[1] += a[a_row.y + ak] * bv;
    acc[2] += a[a_row.z + ak] * bv;
    acc[3] += a[a_row.w + ak] * bv;
  }
  let c_base = batch * M * N;
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + 8u * i;
    if (row < M) {
      for (var j = 0u; j < 4u; j++) {
        let col = col0 + 8u * j;
        if (col < N) {
          c[c_base + row * N + col] = acc[i][j]{{BIAS_TERM}};
        }
      }
    }
  }
}
