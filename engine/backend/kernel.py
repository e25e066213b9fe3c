"""The one way to write a kernel: a WGSL file plus a declaration of its interface.

A `Kernel` names its shader (`shaders/<name>.wgsl`), its storage bindings (name, access,
element type, optional or not), its uniform parameters by name and type, the types and
constants it is specialized on, and how its grid is sized. From that it generates the
part of the WGSL that must match the Python side, prepended to the shader:

- `alias` lines for the type parameters and `const` lines for the constants,
  including `HAS_<NAME>` for each optional binding;
- `struct Params` laid out by WGSL's uniform rules, with `p: Params` bound last;
- the `@group(0) @binding(i)` lines, numbered in declaration order over the bindings
  present (an absent optional binding becomes a one-element `var<private>` of the same
  name, so the shader's `if (HAS_X) { ... }` type-checks with or without it);
- the grid: `override WG` (the workgroup size, 64 on CPU adapters and 256 on GPUs) and,
  for a kernel of independent threads (grid "threads", the default), the entry point
  itself: `main` computes the thread's index over a grid folded into (x, y) and calls the
  shader's `fn run(i: u32)` for each i below `p.threads`. Kernels that cooperate within a
  workgroup (grid "workgroups") write their own `main` and get `flat_id(wid, nwg, lid)`;
  grid "tiles" kernels fix their own `@workgroup_size` and are launched with `groups`.

Launching packs the parameters by name with one precompiled `struct.Struct`, binds tensors
(over only the range they touch when their buffer is larger than one binding may be, with
`<name>_offset` filled in automatically), sizes the grid, compiles the pipeline once per
specialization and records the dispatch. No other module packs uniforms or writes
binding lines: docs/architecture.md, "From a tensor op to a dispatch".
"""

from __future__ import annotations

import operator
import re
import struct
from pathlib import Path

from . import get_device
from .device import Buffer

_HERE = Path(__file__).resolve().parent
# a wheel ships the shaders inside the package; a source checkout has them at the top
_SHADER_DIRS = (_HERE.parent / "shaders", _HERE.parent.parent / "shaders")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_INCLUDE = re.compile(r'^#include "([\w.]+\.wgsl)"$', re.MULTILINE)
MAX_GROUPS = 65535

_templates: dict[str, str] = {}


def template(name: str) -> str:
    """The text of `shaders/<name>.wgsl`, with its `#include "x.wgsl"` lines expanded."""
    text = _templates.get(name)
    if text is None:
        for folder in _SHADER_DIRS:
            path = folder / f"{name}.wgsl"
            if path.is_file():
                text = path.read_text()
                break
        else:
            raise FileNotFoundError(f"shader template {name}.wgsl not found in {_SHADER_DIRS}")
        text = _INCLUDE.sub(lambda m: template(m.group(1)[: -len(".wgsl")]), text)
        _templates[name] = text
    return text


def specialize(text: str, values: dict) -> str:
    """Replace every `{{NAME}}` in `text`; a missing value is an error, not a silent blank."""

    def fill(match):
        key = match.group(1)
        if key not in values:
            raise KeyError(f"shader placeholder {{{{{key}}}}} has no value")
        return str(values[key])

    return _PLACEHOLDER.sub(fill, text)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def fold(num_groups: int) -> tuple:
    """A grid of at least `num_groups` workgroups, folded past 65535 into y."""
    if num_groups <= MAX_GROUPS:
        return (max(num_groups, 1), 1, 1)
    return (MAX_GROUPS, ceil_div(num_groups, MAX_GROUPS), 1)


def workgroup_size() -> int:
    """Threads per workgroup of the 1-D kernels: 64 on CPU adapters, 256 on GPUs."""
    return 64 if get_device().is_cpu else 256


def bind(t, dev=None):
    """(binding, element offset) for passing tensor view `t` to a kernel on `dev`.

    Small buffers are bound whole. A buffer larger than the adapter's largest storage
    binding (128 MiB by default in WebGPU) is bound only over the span `t` touches,
    starting at an aligned byte offset; the element offset is then relative to it.
    """
    buffer = t._storage.buffer
    dev = dev or get_device()
    if buffer.size <= dev.max_binding_size:
        return buffer, t._offset
    last = t._offset + sum((n - 1) * s for n, s in zip(t._shape, t._strides, strict=True))
    start = (t._offset * 4) // dev.storage_alignment * dev.storage_alignment
    size = max((last + 1) * 4 - start, 4)
    if size > dev.max_binding_size:
        raise NotImplementedError(
            f"a tensor view spanning {size} bytes: larger than the adapter's largest storage "
            f"binding ({dev.max_binding_size} bytes)"
        )
    return (buffer, start, size), t._offset - start // 4


# ---- WGSL text for values and conversions ------------------------------------------


def convert(expr: str, src: str, dst: str) -> str:
    """WGSL for converting `expr` from WGSL type `src` to `dst` (bool is u32 0/1)."""
    if src == dst:
        return expr
    if dst == "u32":
        zero = "0.0" if src == "f32" else "0i"
        return f"select(0u, 1u, {expr} != {zero})"
    return f"{dst}({expr})"


def scalar_bits(value, wgsl: str) -> int:
    """The raw 32 bits of a Python number as WGSL type `wgsl`."""
    if wgsl == "f32":
        return struct.unpack("<I", struct.pack("<f", float(value)))[0]
    if wgsl == "i32":
        value = int(value)
        if not -(2**31) <= value < 2**31:
            raise OverflowError(f"value {value} does not fit in a 32-bit integer")
        return value & 0xFFFFFFFF
    return int(value) & 0xFFFFFFFF


def operand_loads(operands) -> str:
    """The `let x<n> = ...;` lines of elementwise.wgsl: operand n, described as
    (storage type or None for a scalar, compute type, mode, name of its binding), is read
    from view k's layout (mode "c" contiguous, "z" broadcast, "s" strided) or, for a
    scalar, from `p.scalars[mode]`, then converted to its compute type."""
    lines, k = [], 0
    for n, (storage_t, ctype, mode, name) in enumerate(operands):
        if storage_t is None:
            raw = f"p.scalars[{mode // 4}][{mode % 4}]"
            value = raw if ctype == "u32" else f"bitcast<{ctype}>({raw})"
        else:
            k += 1
            offset = f"p.offsets[{k // 4}][{k % 4}]"
            index = {"c": f"{offset} + i", "z": offset, "s": f"offset_of({k}u, i)"}[mode]
            value = convert(f"{name}[{index}]", storage_t, ctype)
        lines.append(f"  let x{n} = {value};")
    return "\n".join(lines)


def _literal(value, wgsl: str) -> str:
    if wgsl == "bool":
        return "true" if value else "false"
    if wgsl == "f32":
        return repr(float(value))
    return f"{int(value)}{'u' if wgsl == 'u32' else 'i'}"


# ---- declarations ------------------------------------------------------------------


class Binding:
    """A storage binding: `array<type>` named `name`, read-only or read-write."""

    __slots__ = ("name", "access", "type", "optional")

    def __init__(self, name: str, access: str, type: str, optional: bool):
        self.name, self.access, self.type, self.optional = name, access, type, optional


def read(name: str, type: str = "f32", *, optional: bool = False) -> Binding:
    return Binding(name, "read", type, optional)


def write(name: str, type: str = "f32", *, optional: bool = False) -> Binding:
    """A read-write binding (WebGPU has no write-only storage buffers)."""
    return Binding(name, "read_write", type, optional)


def _fields(text: str) -> list:
    """[(name, type, array length or 0)] from "a, b: u32; shape[8]: u32; lr: f32"."""
    fields = []
    for group in filter(None, (g.strip() for g in text.split(";"))):
        names, _, type = group.rpartition(":")
        for name in (n.strip() for n in names.split(",")):
            name, _, count = name.partition("[")
            fields.append((name, type.strip(), int(count.rstrip("]")) if count else 0))
    return fields


_FORMAT = {"u32": "I", "i32": "i", "f32": "f"}
_ZEROS = (0,) * 256  # the padding of arrays given fewer values than their length

# The entry point of a grid "threads" kernel: run(i) for every i < p.threads.
_THREADS_MAIN = """
@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i < p.threads) {
    run(i);
  }
}
"""


class Kernel:
    """A WGSL compute kernel and its interface, launched by calling it with named values.

    `bindings`: `read(...)`/`write(...)` in binding order. `params`: the uniform block as
    "name, name: type; name[n]: type; ..." with types u32, i32, f32; `name[n]` is an array
    of n values (`array<vec4<T>, ceil(n / 4)>`, element d at `[d / 4u][d % 4u]`).
    `types`: names of WGSL type parameters (`alias NAME = <type>;`). `consts`: specialization
    constants in the same syntax as params (types u32, i32, f32, bool). `snippets`: names
    of `{{NAME}}` placeholders in the shader that take WGSL text. `grid`: "threads",
    "workgroups" or "tiles" (the module's docstring).
    """

    def __init__(
        self,
        shader: str,
        *,
        bindings,
        params: str = "",
        types=(),
        consts: str = "",
        snippets=(),
        grid: str = "threads",
    ):
        if grid not in ("threads", "workgroups", "tiles"):
            raise ValueError(f"kernel {shader}: grid {grid!r}")
        self.shader, self.grid = shader, grid
        self.bindings = tuple(bindings)
        self.params = _fields(("threads: u32;" if grid == "threads" else "") + params)
        self.types = tuple(types)
        self.consts = [(name, type) for name, type, _ in _fields(consts)]
        self.snippets = tuple(snippets)
        names = [b.name for b in self.bindings] + [p[0] for p in self.params]
        names += [*self.types, *(c[0] for c in self.consts), *self.snippets]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"kernel {shader}: names declared twice: {sorted(duplicates)}")
        self._names = frozenset(names)
        self._spec_names = (*self.types, *(c[0] for c in self.consts), *self.snippets)
        self._auto_offsets = {
            b.name: f"{b.name}_offset" for b in self.bindings if f"{b.name}_offset" in names
        }
        self._struct, self._wgsl_fields = self._layout()
        # the hot path's lookups, precomputed: (binding name, optional, its `_offset` param)
        self._binding_plan = tuple(
            (b.name, b.optional, self._auto_offsets.get(b.name)) for b in self.bindings
        )
        self._pack = self._packer()
        names = self._spec_names
        if len(names) > 1:
            self._spec_of = operator.itemgetter(*names)
        elif names:
            self._spec_of = lambda v, name=names[0]: (v[name],)
        else:
            self._spec_of = lambda v: ()
        self._pipelines: dict = {}
        self._device = None
        self._wg = 1

    # ---- the uniform block ---------------------------------------------------------
    def _layout(self):
        """The `struct.Struct` that packs Params and its WGSL fields, by WGSL's uniform
        layout rules: scalars 4-byte aligned, arrays of vec4 16-byte aligned."""
        fmt, fields, offset = "<", [], 0
        for name, type, count in self.params:
            if type not in _FORMAT:
                raise ValueError(f"kernel {self.shader}: parameter {name} has type {type!r}")
            if count:
                pad, vecs = -offset % 16, ceil_div(count, 4)
                fmt += "x" * pad + _FORMAT[type] * count + "x" * (4 * (4 * vecs - count))
                offset += pad + 16 * vecs
                fields.append(f"  {name}: array<vec4<{type}>, {vecs}>,")
            else:
                fmt += _FORMAT[type]
                offset += 4
                fields.append(f"  {name}: {type},")
        if not fields:  # WGSL has no empty structs
            fmt, fields, offset = "<I", ["  unused: u32,"], 4
        return struct.Struct(fmt + "x" * (-offset % 16)), fields

    def _packer(self):
        """A function values -> the packed uniform block, generated once per kernel (one
        `struct.pack` call with every array spread and zero-padded in place: the hot path)."""
        args = []
        for name, _, count in self.params:
            if count:
                args += [f"*v[{name!r}]", f"*Z[len(v[{name!r}]):{count}]"]
            else:
                args.append(f"v[{name!r}]")
        namespace = {"S": self._struct, "Z": _ZEROS}
        exec(f"def pack(v):\n    return S.pack({', '.join(args)})\n", namespace)
        return namespace["pack"]

    def pack(self, values: dict) -> bytes:
        """The uniform block for `values` (parameter name -> number or sequence)."""
        try:
            return self._pack(values)
        except KeyError as missing:
            raise TypeError(f"kernel {self.shader}: no value for parameter {missing}") from None
        except struct.error:
            for name, _, count in self.params:
                if count and len(values[name]) > count:
                    n = len(values[name])
                    raise ValueError(
                        f"kernel {self.shader}: {n} values for {name}[{count}]"
                    ) from None
            raise

    # ---- WGSL ----------------------------------------------------------------------
    def source(self, spec: dict, present: set) -> str:
        """The full WGSL for one specialization (`spec`: type, const and snippet values)."""
        lines = [f"// generated by engine/backend/kernel.py from shaders/{self.shader}.wgsl"]
        lines += [f"alias {name} = {spec[name]};" for name in self.types]
        for name, type in self.consts:
            lines.append(f"const {name}: {type} = {_literal(spec[name], type)};")
        for b in self.bindings:
            if b.optional:
                lines.append(
                    f"const HAS_{b.name.upper()}: bool = {_literal(b.name in present, 'bool')};"
                )
        if self.grid != "tiles":
            lines.append("override WG: u32 = 64u;")
        lines += ["", "struct Params {", *self._wgsl_fields, "}", ""]
        slot = 0
        for b in self.bindings:
            if b.name in present:
                storage = f"var<storage, {b.access}> {b.name}: array<{b.type}>;"
                lines.append(f"@group(0) @binding({slot}) {storage}")
                slot += 1
            else:
                lines.append(f"var<private> {b.name}: array<{b.type}, 1>;  // absent")
        lines.append(f"@group(0) @binding({slot}) var<uniform> p: Params;")
        if self.grid == "workgroups":
            lines += [
                "",
                "// thread `lid` of workgroup `wid` in a grid `nwg` folded into (x, y): its index",
                "fn flat_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {",
                "  return (wid.y * nwg.x + wid.x) * WG + lid;",
                "}",
            ]
        body = specialize(template(self.shader), {n: spec[n] for n in self.snippets})
        if self.grid == "threads":
            body += _THREADS_MAIN
        return "\n".join(lines) + "\n\n" + body

    # ---- launching -----------------------------------------------------------------
    def __call__(self, *, threads=None, workgroups=None, groups=None, **values) -> None:
        """Record one dispatch. Give by name the bindings (tensors, Buffers, (Buffer, byte
        offset, byte size) ranges, or None for an absent optional one), the parameters,
        types, constants and snippets; and the grid as `threads` (one per thread),
        `workgroups` (a count) or `groups` ((x, y, z))."""
        dev = get_device()
        if self._device is not dev:  # a new device: its own pipelines and workgroup size
            self._pipelines, self._device = {}, dev
            self._wg = 1 if self.grid == "tiles" else workgroup_size()
        buffers, present = [], []
        for name, optional, auto in self._binding_plan:
            value = values.get(name)
            if value is None:
                if not optional:
                    raise TypeError(f"kernel {self.shader}: no tensor for binding {name!r}")
                if auto is not None:
                    values.setdefault(auto, 0)
                continue
            present.append(name)
            if not isinstance(value, (Buffer, tuple)):  # a tensor view; else already bound
                value, offset = bind(value, dev)
                if auto is not None:
                    values.setdefault(auto, offset)
            buffers.append(value)
        try:
            spec = self._spec_of(values)
        except KeyError as missing:
            raise TypeError(f"kernel {self.shader}: no value for {missing}") from None
        wg = self._wg
        if self.grid == "threads":
            if threads is None or workgroups is not None or groups is not None:
                raise TypeError(f"kernel {self.shader}: launched with threads=n only")
            values["threads"] = threads
            groups = fold(ceil_div(threads, wg))
        elif groups is None:
            if workgroups is None:
                if threads is None:
                    raise TypeError(f"kernel {self.shader}: give threads, workgroups or groups")
                workgroups = ceil_div(threads, wg)
            groups = fold(workgroups)
        key = (spec, tuple(present))
        pipeline = self._pipelines.get(key) or self._compile(key, values)
        dev.dispatch(pipeline, buffers, self.pack(values), groups)

    def _compile(self, key, values):
        """Compile the pipeline for key = (spec values, bindings present) on this device.

        The names of a launch are checked here, once per specialization: a name that is
        not declared is an error (a misspelt one otherwise shows as a missing value)."""
        if not self._names.issuperset(values):
            unknown = sorted(values.keys() - self._names)
            raise TypeError(f"kernel {self.shader}: unknown names {unknown}")
        spec, present = key
        code = self.source(dict(zip(self._spec_names, spec, strict=True)), set(present))
        constants = {} if self.grid == "tiles" else {"WG": self._wg}
        pipeline = self._device.compile(self.shader, code, "main", constants)
        self._pipelines[key] = pipeline
        return pipeline
