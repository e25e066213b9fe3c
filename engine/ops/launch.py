"""Turn tensor operations into dispatches: the elementwise and reduction launchers.

Both launchers work on strided views, so broadcasting, transposes and slices cost no
copies. Before specializing a kernel they merge dimensions that are contiguous for
every operand: most calls collapse to one dimension and then index memory directly.
"""

from __future__ import annotations

import math

from ..backend import get_device
from ..backend.kernel import (
    Kernel,
    bind,
    operand_loads,
    read,
    scalar_bits,
    write,
)
from ..dtypes import bool_, dtype, float32, int32
from ..tensor import Tensor

MAX_DIMS = 8


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


MAX_INPUTS = 8  # tensor inputs with a binding of their own: 9 storage bindings of 10
_elementwise_kernels: dict = {}


def _elementwise_kernel(num_inputs: int, num_views: int) -> Kernel:
    """The elementwise Kernel with `num_inputs` input bindings over `num_views` views."""
    kernel = _elementwise_kernels.get((num_inputs, num_views))
    if kernel is None:
        kernel = Kernel(
            "elementwise",
            bindings=(
                write("out", "OUT_T"),
                *(read(f"in{j}", f"IN{j}_T") for j in range(1, num_inputs + 1)),
            ),
            # view k's strides at [k ndim, (k + 1) ndim); scalars: raw bits of scalar operands
            params=f"ndim: u32; shape[{MAX_DIMS}], strides[{MAX_DIMS * num_views}],"
            f" offsets[{num_views}], scalars[4]: u32",
            types=("OUT_T", *(f"IN{j}_T" for j in range(1, num_inputs + 1))),
            consts="OUT_CONTIGUOUS: bool",
            snippets=("LOADS", "EXPR"),
        )
        _elementwise_kernels[(num_inputs, num_views)] = kernel
    return kernel


def elementwise(expr: str, operands, compute, out_dtype: dtype, shape=None, out=None) -> Tensor:
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
    strides = [out_strides] + [broadcast_strides(t, shape) for t in tensors]
    cshape, cstrides = collapse(shape, strides)
    ndim = len(cshape)

    dev = get_device()
    out_binding, out_offset = bind(out, dev)
    out_start = out_offset - out._offset  # minus the bound range's start, in elements
    values = {"out": out_binding, "OUT_T": out_dtype.wgsl}
    scalars, loads, offsets = [], [], [out_offset]
    k = num_inputs = 0
    for x, ctype in zip(operands, compute, strict=True):
        if isinstance(x, Tensor):
            k += 1
            s = cstrides[k]
            mode = "c" if ndim == 1 and s[0] == 1 else ("z" if ndim == 1 and s[0] == 0 else "s")
            # an input in the output's buffer (in-place ops) is read through `out`: WebGPU
            # forbids binding one buffer as read-only and read-write in the same dispatch
            if x._storage.buffer is out._storage.buffer:
                offsets.append(x._offset + out_start)
                name = "out"
            else:
                binding, offset = bind(x, dev)
                offsets.append(offset)
                num_inputs += 1
                name = f"in{num_inputs}"
                values[name] = binding
                values[f"IN{num_inputs}_T"] = x.dtype.wgsl
            loads.append((x.dtype.wgsl, ctype, mode, name))
        else:
            loads.append((None, ctype, len(scalars), None))
            scalars.append(scalar_bits(x, ctype))
    if num_inputs > MAX_INPUTS:
        raise NotImplementedError(f"elementwise kernels with more than {MAX_INPUTS} inputs")
    loads_key = tuple(loads)
    text = _loads_text.get(loads_key)
    if text is None:
        text = _loads_text[loads_key] = operand_loads(loads_key)
    flat_strides = [n for st in cstrides for n in st]  # view k, dim d at k * ndim + d
    _elementwise_kernel(num_inputs, len(offsets))(
        threads=numel,
        **values,
        OUT_CONTIGUOUS=ndim == 1 and cstrides[0][0] == 1,
        LOADS=text,
        EXPR=expr,
        ndim=ndim,
        shape=cshape,
        strides=flat_strides,
        offsets=offsets,
        scalars=scalars,
    )
    return out


_loads_text: dict = {}


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


# ---- reductions ---------------------------------------------------------------------

# the reductions of reduce_common.wgsl, by their number there (its OP)
_REDUCTIONS = {
    "sum": 0,
    "mean": 1,
    "prod": 2,
    "max": 3,
    "min": 4,
    "any": 5,
    "all": 6,
    "logsumexp": 7,  # one pass: a running maximum and the sum of exponentials rescaled to it
    "max_sumexp": 8,  # the same pass, returning the maximum (and the rescaled sum as second)
}
_REDUCE = {
    variant: Kernel(
        shader,
        bindings=(
            write("out", "OUT_T"),
            read("x", "IN_T"),
            write("second", "SECOND_T", optional=True),
        ),
        params="num_out, reduce_size, outer_ndim, inner_ndim, x_offset: u32; scale: f32;"
        f" outer_shape[{MAX_DIMS}], outer_strides[{MAX_DIMS}], inner_shape[{MAX_DIMS}],"
        f" inner_strides[{MAX_DIMS}]: u32",
        types=("OUT_T", "IN_T", "ACC_T", "SECOND_T"),
        consts="OP: u32; BOOL_ACC: bool",
        grid="threads" if variant == "serial" else "workgroups",
    )
    for variant, shader in (("serial", "reduce"), ("workgroup", "reduce_workgroup"))
}

# Reductions this long with this few outputs use one workgroup per output on GPUs.
WORKGROUP_REDUCE_MIN_SIZE = 1024
WORKGROUP_REDUCE_MAX_OUTPUTS = 4096
# None: choose by adapter; "serial" or "workgroup" forces a variant (tests use it).
force_reduce_variant = None


# the dtype of the second output some reductions can also write
_SECOND_OUTPUT = {"max": int32, "min": int32, "max_sumexp": float32}


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
    second_dtype = _SECOND_OUTPUT.get(op)
    index = Tensor._empty(final_shape, second_dtype) if with_index else None
    if num_out == 0:
        return (out, index) if with_index else out
    if reduce_size == 0:
        if op in ("max", "min") or with_index:
            raise RuntimeError(f"{op}(): cannot reduce over an empty dimension")
        empty = {"sum": 0, "mean": float("nan"), "prod": 1, "any": 0, "all": 1}[op]
        return elementwise("x0", [empty], [out_dtype.wgsl], out_dtype, shape=out._shape, out=out)

    outer_shape, (outer_strides,) = collapse(out_shape, [[x._strides[d] for d in kept]])
    inner_shape, (inner_strides,) = collapse(
        [x._shape[d] for d in dims], [[x._strides[d] for d in dims]]
    )
    acc_t = "f32" if out_dtype is float32 else ("u32" if out_dtype is bool_ else "i32")
    if op in ("any", "all"):
        acc_t = "u32"
    variant = force_reduce_variant
    if variant is None:
        many = num_out > WORKGROUP_REDUCE_MAX_OUTPUTS or reduce_size < WORKGROUP_REDUCE_MIN_SIZE
        variant = "serial" if get_device().is_cpu or many else "workgroup"
    grid = {"threads": num_out} if variant == "serial" else {"workgroups": num_out}
    _REDUCE[variant](
        **grid,
        out=out,
        x=x,
        second=index,
        OUT_T=out_dtype.wgsl,
        IN_T=x.dtype.wgsl,
        ACC_T=acc_t,
        SECOND_T=second_dtype.wgsl if with_index else "i32",
        OP=_REDUCTIONS[op],
        BOOL_ACC=acc_t == "u32",
        num_out=num_out,
        reduce_size=reduce_size,
        outer_ndim=len(outer_shape),
        inner_ndim=len(inner_shape),
        scale=1.0 / reduce_size,
        outer_shape=outer_shape,
        outer_strides=outer_strides,
        inner_shape=inner_shape,
        inner_strides=inner_strides,
    )
    return (out, index) if with_index else out
