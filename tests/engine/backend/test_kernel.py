"""The kernel declaration (engine/backend/kernel.py): generated WGSL, packing by name, grids,
optional bindings, and the errors of a launch that does not match its declaration."""

import struct

import pytest

import engine
from engine.backend import kernel as K

# A shader that copies its uniform block into `out`, so the test reads back what the GPU saw.
ECHO = """
@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = flat_id(wid, nwg, lid);
  if (i > 0u) {
    return;
  }
  out[0] = f32(p.count);
  out[1] = f32(p.shift);
  out[2] = p.scale;
  for (var d = 0u; d < 5u; d++) {
    out[3u + d] = f32(p.shape[d / 4u][d % 4u]);
  }
  out[8] = p.bias;
  out[9] = x[p.x_offset];
  out[10] = select(0.0, extra[0], HAS_EXTRA);
  out[11] = f32(MODE);
  out[12] = f32(nwg.x);
}
"""


@pytest.fixture
def echo(monkeypatch):
    monkeypatch.setitem(K._templates, "test_echo", ECHO)
    return K.Kernel(
        "test_echo",
        bindings=(K.write("out"), K.read("x"), K.read("extra", optional=True)),
        params="count: u32; shift: i32; scale: f32; shape[5]: u32; bias: f32; x_offset: u32",
        consts="MODE: u32",
        grid="workgroups",
    )


def _launch(echo, **extra):
    out = engine.zeros(13)
    x = engine.arange(10, dtype=engine.float32)[3:]  # a view: x_offset comes from binding it
    values = dict(count=7, shift=-3, scale=0.25, shape=[2, 3, 4, 5, 6], bias=1.5, MODE=2)
    echo(threads=1, out=out, x=x, **{**values, **extra})
    return out.tolist()


def test_parameters_reach_the_shader_by_name(echo):
    got = _launch(echo)
    assert got[:9] == [7.0, -3.0, 0.25, 2.0, 3.0, 4.0, 5.0, 6.0, 1.5]
    assert got[9] == 3.0  # x[x_offset] is the view's first element
    assert got[10] == 0.0  # no `extra`: HAS_EXTRA is false
    assert got[11] == 2.0


def test_optional_binding_present(echo):
    assert _launch(echo, extra=engine.tensor([42.0]))[10] == 42.0


def test_grid_from_threads_workgroups_groups(echo):
    wg = K.workgroup_size()
    assert _launch(echo)[12] == 1.0
    out = engine.zeros(13)
    values = dict(count=1, shift=0, scale=0.0, shape=[], bias=0.0, MODE=0)
    echo(threads=3 * wg + 1, out=out, x=engine.ones(1), **values)
    assert out.tolist()[12] == 4.0
    echo(workgroups=5, out=out, x=engine.ones(1), **values)
    assert out.tolist()[12] == 5.0
    echo(groups=(2, 1, 1), out=out, x=engine.ones(1), **values)
    assert out.tolist()[12] == 2.0


def test_threads_grid_runs_each_index_once(monkeypatch):
    monkeypatch.setitem(
        K._templates, "test_iota", "fn run(i: u32) {\n  out[i] = f32(i) + p.start;\n}\n"
    )
    iota = K.Kernel("test_iota", bindings=(K.write("out"),), params="start: f32")
    wg = K.workgroup_size()
    out = engine.full((2 * wg + 3,), -1.0)
    iota(threads=2 * wg + 1, out=out, start=0.5)
    expected = [i + 0.5 for i in range(2 * wg + 1)] + [-1.0, -1.0]
    assert out.tolist() == expected
    with pytest.raises(TypeError, match="threads=n only"):
        iota(workgroups=1, out=out, start=0.0)


def test_fold_past_65535_workgroups():
    assert K.fold(0) == (1, 1, 1)
    assert K.fold(65535) == (65535, 1, 1)
    assert K.fold(65536) == (65535, 2, 1)
    assert K.fold(65535 * 3 + 1) == (65535, 4, 1)


def test_layout_follows_wgsl_uniform_rules(echo):
    # count, shift, scale at 0, 4, 8; shape (2 vec4) aligned to 16; bias at 48; x_offset 52
    assert echo._struct.size == 64
    packed = echo.pack(dict(count=1, shift=-1, scale=2.0, shape=[9, 8], bias=0.5, x_offset=3))
    assert struct.unpack_from("<Iif", packed, 0) == (1, -1, 2.0)
    assert struct.unpack_from("<8I", packed, 16) == (9, 8, 0, 0, 0, 0, 0, 0)
    assert struct.unpack_from("<fI", packed, 48) == (0.5, 3)
    source = echo.source({"MODE": 1}, {"out", "x"})
    assert "shape: array<vec4<u32>, 2>," in source
    assert "@group(0) @binding(2) var<uniform> p: Params;" in source
    assert "var<private> extra: array<f32, 1>;" in source
    assert "const HAS_EXTRA: bool = false;" in source


def test_launch_errors_name_the_kernel_and_the_value(echo):
    out, x = engine.zeros(13), engine.ones(1)
    values = dict(count=1, shift=0, scale=0.0, shape=[], bias=0.0, MODE=0)
    with pytest.raises(TypeError, match="test_echo.*'count'"):
        echo(threads=1, out=out, x=x, **{k: v for k, v in values.items() if k != "count"})
    with pytest.raises(TypeError, match="test_echo.*unknown names.*'colour'"):
        echo(threads=1, out=out, x=x, colour=1, **{**values, "MODE": 9})  # checked at compile
    with pytest.raises(TypeError, match="test_echo.*binding 'x'"):
        echo(threads=1, out=out, **values)
    with pytest.raises(TypeError, match="test_echo.*'MODE'"):
        echo(threads=1, out=out, x=x, **{k: v for k, v in values.items() if k != "MODE"})
    with pytest.raises(ValueError, match="6 values for shape\\[5\\]"):
        echo(threads=1, out=out, x=x, **{**values, "shape": [1] * 6})
    with pytest.raises(TypeError, match="give threads, workgroups or groups"):
        echo(out=out, x=x, **values)


def test_declaration_errors():
    with pytest.raises(ValueError, match="declared twice.*'n'"):
        K.Kernel("x", bindings=(K.read("n"),), params="n: u32")
    with pytest.raises(ValueError, match="parameter n has type 'f64'"):
        K.Kernel("x", bindings=(), params="n: f64")
    with pytest.raises(ValueError, match="grid 'rows'"):
        K.Kernel("x", bindings=(), grid="rows")
