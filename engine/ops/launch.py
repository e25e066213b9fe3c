"""Turn tensor operations into dispatches: the elementwise and reduction launchers.

Both launchers work on strided views, so broadcasting, transposes and slices cost no
copies. Before specializing a kernel they merge dimensions that are contiguous for
every operand: most calls collapse to one dimension and then index memory directly.
"""

from __future__ import annotations

import math
import struct

from ..backend import get_device, get_kernel
from ..dtypes import bool_, dtype, float32, int32
from ..tensor import Tensor

MAX_DIMS = 8
_MAX_GROUPS = 65535


def broadcast_shapes(*shapes) -> tuple:
    """The broadcast of `shapes` under NumPy/PyTorch rules, or a ValueError."""
    ndim = max((len(s) for s in shapes), default=0)
    result = []
    for i in range(ndim):
        size = 1
        for s in shapes:
            j = i - ndim + len(s)
            if j < 0 or s[j] == 1:
                continue
            if size != 1 and s[j] != size:
                raise ValueError(
                    "shapes " + ", ".join(str(tuple(x)) for x in shapes) + " cannot be broadcast"
                )
            size = s[j]
        result.append(size)
    return tuple(result)


def broadcast_strides(t: Tensor, shape) -> tuple:
    """Strides that read `t` as if expanded to `shape` (0 along broadcast dims)."""
    pad = len(shape) - t.ndim
    strides = []
    for i, n in enumerate(shape):
        j = i - pad
        if j < 0 or t._shape[j] == 1 and n != 1:
            strides.append(0)
        else:
            strides.append(t._strides[j])
    return tuple(strides)


def collapse(shape, stride_lists):
    """Merge dims that are contiguous in every stride list; drop size-1 dims."""
    dims = [i for i, n in enumerate(shape) if n != 1]
    if not dims:
        return [1], [[0] for _ in stride_lists]
    new_shape = [shape[dims[0]]]
    new_strides = [[s[dims[0]]] for s in stride_lists]
    for i in dims[1:]:
        n = shape[i]
        if all(ns[-1] == s[i] * n for ns, s in zip(new_strides, stride_lists, strict=True)):
            new_shape[-1] *= n
            for ns, s in zip(new_strides, stride_lists, strict=True):
                ns[-1] = s[i]
        else:
            new_shape.append(n)
            for ns, s in zip(new_strides, stride_lists, strict=True):
                ns.append(s[i])
    return new_shape, new_strides


def grid(num_groups: int) -> tuple:
    """A dispatch grid with at least `num_groups` workgroups, folded past 65535 in x."""
    if num_groups <= _MAX_GROUPS:
        return (max(num_groups, 1), 1, 1)
    return (_MAX_GROUPS, -(-num_groups // _MAX_GROUPS), 1)


def workgroup_size() -> int:
    return 64 if get_device().is_cpu else 256


def bind(t: Tensor):
    """(binding, element offset) for passing `t` to a kernel.

    Small buffers are bound whole. A buffer larger than the adapter's largest storage
    binding (128 MiB by default in WebGPU) is bound only over the span `t` touches,
    starting at an aligned byte offset; the element offset is then relative to it.
    """
    buffer = t._storage.buffer
    dev = get_device()
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


def _pad(values, n, fill=0):
    return list(values) + [fill] * (n - len(values))


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


_elementwise_kernels: dict = {}


def elementwise(
    expr: str, operands, compute, out_dtype: dtype, shape=None, out=None, functions: str = ""
) -> Tensor:
    """Dispatch `out = expr(x0, x1, ...)` over the broadcast of `operands`.

    `operands` are tensors or Python numbers; `compute[k]` is the WGSL type operand k
    is converted to before `expr` sees it as `x{k}`; `expr` yields a value of
    `out_dtype`'s WGSL type. `out`, when given, is written in place (any view).
    """
    tensors = [x for x in operands if isinstance(x, Tensor)]
    if shape is None:
        shape = broadcast_shapes(*(t._shape for t in tensors))
    if out is None:
        out = Tensor._empty(shape, out_dtype)
    elif tuple(out._shape) != tuple(shape):
        raise RuntimeError(
            f"output with shape {tuple(out._shape)} doesn't match the broadcast "
            f"shape {tuple(shape)}"
        )
    numel = math.prod(shape)
    if numel == 0:
        return out
    if len(shape) > MAX_DIMS:
        raise NotImplementedError(f"tensors with more than {MAX_DIMS} dimensions")
    out_strides = out._strides if len(out._shape) == len(shape) else broadcast_strides(out, shape)
    operands = [_unaliased(x, out, shape, out_strides) for x in operands]
    tensors = [x for x in operands if isinstance(x, Tensor)]
    views = [out, *tensors]
    strides = [out_strides] + [broadcast_strides(t, shape) for t in tensors]
    cshape, cstrides = collapse(shape, strides)
    ndim = len(cshape)

    scalars, loads_key = [], []
    out_binding, out_offset = bind(out)
    out_start = out_offset - out._offset  # minus the bound range's start, in elements
    buffers, offsets = [out_binding], [out_offset]
    k = 0
    for x, ctype in zip(operands, compute, strict=True):
        if isinstance(x, Tensor):
            k += 1
            s = cstrides[k]
            mode = "c" if ndim == 1 and s[0] == 1 else ("z" if ndim == 1 and s[0] == 0 else "s")
            # an input in the output's buffer (in-place ops) is read through `out`: WebGPU
            # forbids binding one buffer as read-only and read-write in the same dispatch
            aliased = x._storage.buffer is out._storage.buffer
            if aliased:
                offsets.append(x._offset + out_start)
            else:
                binding, offset = bind(x)
                buffers.append(binding)
                offsets.append(offset)
            loads_key.append((x.dtype.wgsl, ctype, mode, aliased))
        else:
            loads_key.append((None, ctype, len(scalars), False))
            scalars.append(scalar_bits(x, ctype))
    out_mode = "c" if ndim == 1 and cstrides[0][0] == 1 else "s"
    key = (expr, out_dtype.wgsl, out_mode, tuple(loads_key), functions)
    wg = workgroup_size()
    kernel = _elementwise_kernels.get((key, wg))
    if kernel is None:
        kernel = _compile_elementwise(key, len(views), wg)
        _elementwise_kernels[(key, wg)] = kernel

    groups = grid(-(-numel // wg))
    params = [numel, ndim, groups[0], 0]
    params += _pad(cshape, 8, 1)
    for s in cstrides:
        params += _pad(s, 8)
    params += _pad(offsets, -(-len(views) // 4) * 4)
    params += _pad(scalars, 4)
    get_device().dispatch(kernel, buffers, struct.pack(f"<{len(params)}I", *params), groups)
    return out


def _unaliased(x, out: Tensor, shape, out_strides):
    """`x`, or a copy of it when it shares out's buffer but not out's exact layout.

    An input read through the very view being written is safe: each thread reads its
    element before writing it. Any other overlap (`t[1:] += t[:-1]`) would race.
    """
    if not isinstance(x, Tensor) or x._storage.buffer is not out._storage.buffer:
        return x
    if x._offset == out._offset and broadcast_strides(x, shape) == tuple(out_strides):
        return x
    return elementwise("x0", [x], [x.dtype.wgsl], x.dtype)


def _compile_elementwise(key, num_views, wg):
    expr, out_t, out_mode, loads_key, functions = key
    bindings, loads = [], []
    k = 0
    for n, (storage_t, ctype, mode, aliased) in enumerate(loads_key):
        if storage_t is None:
            raw = f"p.scalars[{mode}]"
            value = raw if ctype == "u32" else f"bitcast<{ctype}>({raw})"
        else:
            k += 1
            if aliased:
                name = "out"
            else:
                name = f"in{k}"
                binding = len(bindings) + 1
                bindings.append(
                    f"@group(0) @binding({binding}) var<storage, read> {name}: array<{storage_t}>;"
                )
            offset = f"p.offsets[{k // 4}][{k % 4}]"
            index = {"c": f"{offset} + i", "z": offset, "s": f"offset_of({k}u, i)"}[mode]
            value = convert(f"{name}[{index}]", storage_t, ctype)
        loads.append(f"  let x{n} = {value};")
    out_index = "p.offsets[0][0] + i" if out_mode == "c" else "offset_of(0u, i)"
    return get_kernel(
        "elementwise",
        workgroup_size=wg,
        NSTRIDES=2 * num_views,
        NOFFSETS=-(-num_views // 4),
        OUT_T=out_t,
        INPUT_BINDINGS="\n".join(bindings),
        PARAMS_BINDING=len(bindings) + 1,
        FUNCTIONS=functions,
        LOADS="\n".join(loads),
        OUT_INDEX=out_index,
        EXPR=expr,
    )


# ---- reductions ---------------------------------------------------------------------

# For each reduction: (accumulate step, final value, combine rule). `v` is the next
# element, `acc` starts as the first one, `best` is the index of the extreme value so
# far, `scaled_sum` the sum of exp(x - acc). The combine rule merges another partial
# result (`other`, `other_best`, `other_sum`) into this one (reduce_workgroup.wgsl).
_EXTREME_STEP = "if (v {cmp} acc || (v != v && acc == acc)) {{ acc = v; best = i32(r); }}"
_EXTREME_COMBINE = (
    "if (other {cmp} acc || (other == acc && other_best < best) || (other != other && acc == acc))"
    " {{ acc = other; best = other_best; }}"
)
_SUMEXP_STEP = (
    "if (v > acc) { scaled_sum = scaled_sum * m_exp(acc - v) + 1.0; acc = v; }"
    " else { scaled_sum = scaled_sum + m_exp(v - acc); }"
)
_SUMEXP_COMBINE = (
    "let top = max(acc, other);"
    " scaled_sum = scaled_sum * m_exp(acc - top) + other_sum * m_exp(other - top); acc = top;"
)
_REDUCTIONS = {
    "sum": ("acc = acc + v;", "acc", "acc = acc + other;"),
    "mean": ("acc = acc + v;", "acc * scale", "acc = acc + other;"),
    "prod": ("acc = acc * v;", "acc", "acc = acc * other;"),
    "max": (_EXTREME_STEP.format(cmp=">"), "acc", _EXTREME_COMBINE.format(cmp=">")),
    "min": (_EXTREME_STEP.format(cmp="<"), "acc", _EXTREME_COMBINE.format(cmp="<")),
    "any": ("acc = max(acc, v);", "acc", "acc = max(acc, other);"),
    "all": ("acc = min(acc, v);", "acc", "acc = min(acc, other);"),
    # one pass: a running maximum and the sum of exponentials rescaled to it
    "logsumexp": (
        _SUMEXP_STEP,
        "select(acc + m_log(scaled_sum), acc, acc < -3.4028234e38)",
        _SUMEXP_COMBINE,
    ),
    # the same pass, returning the maximum (and the rescaled sum as second output)
    "max_sumexp": (_SUMEXP_STEP, "acc", _SUMEXP_COMBINE),
}

# Reductions this long with this few outputs use one workgroup per output on GPUs.
WORKGROUP_REDUCE_MIN_SIZE = 1024
WORKGROUP_REDUCE_MAX_OUTPUTS = 4096
# None: choose by adapter; "serial" or "workgroup" forces a variant (tests use it).
force_reduce_variant = None


# the second output some reductions can also write: (its dtype, its WGSL value)
_SECOND_OUTPUT = {
    "max": (int32, "best"),
    "min": (int32, "best"),
    "max_sumexp": (float32, "scaled_sum"),
}


def reduce(op: str, x: Tensor, dims, keepdim: bool, out_dtype: dtype, with_index=False):
    """Reduce `x` over `dims` with `op`; returns values, and with `with_index` also the
    op's second output: the i32 indices of max/min, the sum of exp(x - max) of max_sumexp."""
    ndim = x.ndim
    dims = sorted({x._wrap_dim(d) for d in dims}) if ndim else []
    kept = [d for d in range(ndim) if d not in dims]
    out_shape = [x._shape[d] for d in kept]
    keep_shape = [1 if d in dims else x._shape[d] for d in range(ndim)]
    final_shape = keep_shape if keepdim else out_shape
    reduce_size = math.prod(x._shape[d] for d in dims)
    num_out = math.prod(out_shape)
    out = Tensor._empty(final_shape, out_dtype)
    second_dtype, second_value = _SECOND_OUTPUT.get(op, (None, None))
    index = Tensor._empty(final_shape, second_dtype) if with_index else None
    if num_out == 0:
        return (out, index) if with_index else out
    if reduce_size == 0:
        if op in ("max", "min") or with_index:
            raise RuntimeError(f"{op}(): cannot reduce over an empty dimension")
        from .creation import fill_

        fill_(out, {"sum": 0, "mean": float("nan"), "prod": 1, "any": 0, "all": 1}[op])
        return out

    outer_shape, (outer_strides,) = collapse(out_shape, [[x._strides[d] for d in kept]])
    inner_shape, (inner_strides,) = collapse(
        [x._shape[d] for d in dims], [[x._strides[d] for d in dims]]
    )
    acc_t = "f32" if out_dtype is float32 else ("u32" if out_dtype is bool_ else "i32")
    if op in ("any", "all"):
        acc_t = "u32"
    step, final, combine = _REDUCTIONS[op]
    wg = workgroup_size()
    variant = force_reduce_variant
    if variant is None:
        many = num_out > WORKGROUP_REDUCE_MAX_OUTPUTS or reduce_size < WORKGROUP_REDUCE_MIN_SIZE
        variant = "serial" if get_device().is_cpu or many else "workgroup"
    source = convert("x[off]", x.dtype.wgsl, acc_t)
    kernel = get_kernel(
        "reduce" if variant == "serial" else "reduce_workgroup",
        workgroup_size=wg,
        COMBINE=combine,
        OUT_T=out_dtype.wgsl,
        IN_T=x.dtype.wgsl,
        ACC_T=acc_t,
        STEP=step,
        FINAL=convert(final, acc_t, out_dtype.wgsl),
        INDEX_BINDING=(
            f"@group(0) @binding(2) var<storage, read_write> out_index: array<{second_dtype.wgsl}>;"
            if with_index
            else ""
        ),
        PARAMS_BINDING=3 if with_index else 2,
        WRITE_INDEX=f"out_index[o] = {second_value};" if with_index else "",
        LOAD=source,
    )
    groups = grid(-(-num_out // wg) if variant == "serial" else num_out)
    scale = struct.unpack("<I", struct.pack("<f", 1.0 / reduce_size))[0]
    params = [num_out, reduce_size, len(outer_shape), len(inner_shape)]
    x_binding, x_offset = bind(x)
    params += [groups[0], x_offset, scale, 0]
    params += _pad(outer_shape, 8, 1) + _pad(outer_strides, 8)
    params += _pad(inner_shape, 8, 1) + _pad(inner_strides, 8)
    buffers = [out._storage.buffer, x_binding]
    if with_index:
        buffers.append(index._storage.buffer)
    get_device().dispatch(kernel, buffers, struct.pack(f"<{len(params)}I", *params), groups)
    return (out, index) if with_index else out
