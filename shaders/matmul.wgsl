// matmul.wgsl: c[b] = a[b] @ b[b] (+ bias), register-blocked.
//
// a: (batch, M, K) and b: (batch, K, N) are strided views (a transpose costs nothing);
// c: (batch, M, N) contiguous. Each thread computes 16 elements of c, keeping them in
// registers and reading a and b straight from storage: no workgroup memory and no
// barriers, the variant that CPU adapters run fastest and that is still reasonable on
// GPUs (docs/architecture.md, Facts about the adapters).
// Bindings and Params: engine/ops/matmul.py MATMUL (bias: length N, optional).
// Grid: (ceil(N / 32), ceil(M / 32), batch) workgroups of 8x8 threads.

@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = p.m;
  let N = p.n;
  let K = p.k;
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
    a_row[i] = p.a_offset + batch * p.a_batch_stride + min(row0 + 8u * i, M - 1u) * p.a_row_stride;
    b_col[i] = p.b_offset + batch * p.b_batch_stride + min(col0 + 8u * i, N - 1u) * p.b_col_stride;
  }
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < K; k++) {
    let ak = k * p.a_k_stride;
    let bk = k * p.b_k_stride;
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
          var value = acc[i][j];
          if (HAS_BIAS) {
            value += bias[p.bias_offset + col * p.bias_stride];
          }
          c[c_base + row * N + col] = value;
        }
      }
    }
  }
}
