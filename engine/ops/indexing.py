"""Indexing by tensors: gather, scatter_add, index_select, integer and boolean indexing.

gather and scatter_add are the two kernels (shaders/gather.wgsl, scatter_add.wgsl);
index_select and integer indexing are gathers with an expanded index, and each is
the other's backward. Out-of-range indices are detected on the GPU and raise
IndexError at the next readback (like CUDA's device-side asserts).
"""

from __future__ import annotations

from .. import autograd
from ..backend import get_device
from ..backend.kernel import Kernel, read, write
from ..dtypes import bool_, float32, int32
from ..tensor import Tensor
from .creation import tensor, zeros
from .launch import MAX_DIMS, broadcast_shapes
from .movement import _slice, select, unsqueeze
from .pointwise import clone, copy_into, where

# threads: the coordinate space (index's elements); dim_size: out's (gather: x's) along dim
_PARAMS = (
    "ndim, dim, dim_size, out_offset, x_offset, index_offset, chunk_lo, chunk_hi: u32;"
    f" shape[{MAX_DIMS}], out_strides[{MAX_DIMS}], x_strides[{MAX_DIMS}],"
    f" index_strides[{MAX_DIMS}]: u32"
)
GATHER = Kernel(
    "gather",
    bindings=(
        write("out", "OUT_T"),
        read("x", "X_T"),
        read("index", "i32"),
        write("flags", "atomic<u32>"),
    ),
    params=_PARAMS,
    types=("OUT_T", "X_T"),
)
SCATTER_ADD = Kernel(
    "scatter_add",
    bindings=(
        write("out", "atomic<ATOM_T>"),  # float32 through its bits (u32), int32 as i32
        read("x", "X_T"),
        read("index", "i32"),
        write("flags", "atomic<u32>"),
    ),
    params=_PARAMS,
    types=("ATOM_T", "X_T"),
    consts="FLOAT: bool",
)


def _check_index(op: str, index: Tensor):
    if not isinstance(index, Tensor) or index.dtype is not int32:
        dt = index.dtype if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"{op}(): Expected dtype int64 (int32 storage) for index, got {dt}")


def _dispatch(entry: str, out: Tensor, x: Tensor, index: Tensor, dim: int, dim_size: int):
    """One gather or scatter_add dispatch over the coordinate space of `index`.

    A gather whose table `x` is larger than one storage binding runs once per chunk of
    rows along `dim`, each dispatch binding only its chunk.
    """
    numel = index.numel()
    if numel == 0:
        return
    if index.ndim > MAX_DIMS:
        raise NotImplementedError(f"{entry} with more than {MAX_DIMS} dimensions")
    dev = get_device()
    if entry == "gather":
        kernel, types = GATHER, {"OUT_T": out.dtype.wgsl, "X_T": x.dtype.wgsl}
        chunks = _chunks(x, dim, dev.max_binding_size)
    else:
        is_float = out.dtype is float32
        kernel = SCATTER_ADD
        types = {"ATOM_T": "u32" if is_float else "i32", "X_T": x.dtype.wgsl, "FLOAT": is_float}
        chunks = [(0, dim_size)]
    shared = {
        "ndim": index.ndim,
        "dim": dim,
        "dim_size": dim_size,
        "shape": index.shape,
        "out_strides": out._strides,
        "x_strides": x._strides,
        "index_strides": index._strides,
    }
    for lo, hi in chunks:
        part = x if (lo, hi) == (0, dim_size) else _rows(x, dim, lo, hi)
        kernel(
            threads=numel,
            **types,
            **shared,
            out=out,
            x=part,
            index=index,
            flags=dev.flags(),
            chunk_lo=lo,
            chunk_hi=hi,
        )


def _rows(x: Tensor, dim: int, lo: int, hi: int) -> Tensor:
    """The raw view of x with positions [lo, hi) along dim (no autograd)."""
    shape = x.shape[:dim] + (hi - lo,) + x.shape[dim + 1 :]
    return x._view(shape, x._strides, x._offset + lo * x._strides[dim])


def _chunks(x: Tensor, dim: int, limit: int) -> list:
    """Ranges of positions along `dim` whose slab of x fits in one binding."""
    size = x.shape[dim]
    span = 4 * (1 + sum((n - 1) * s for n, s in zip(x.shape, x._strides, strict=True)))
    if span + 256 <= limit or size <= 1:
        return [(0, size)]
    if x._strides[dim] != max(x._strides):
        raise NotImplementedError(
            f"gathering along dim {dim} from a tensor larger than one storage binding "
            f"({limit} bytes) unless dim is its outermost one"
        )
    inner = span - 4 * (size - 1) * x._strides[dim]
    step = max(1, (limit - 256 - inner) // (4 * x._strides[dim]) + 1)
    return [(lo, min(lo + step, size)) for lo in range(0, size, step)]


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad=False) -> Tensor:
    """out[i][j][k] = input[i][index[i][j][k]][k] (for dim=1); out has index's shape."""
    _check_index("gather", index)
    d = input._wrap_dim(dim)
    if index.ndim != input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in range(input.ndim):
        if k != d and index.shape[k] > input.shape[k]:
            raise RuntimeError(
                f"Size does not match at dimension {k} expected index {list(index.shape)} to be "
                f"smaller than self {list(input.shape)} apart from dimension {d}"
            )
    out = Tensor._empty(index.shape, input.dtype)
    _dispatch("gather", out, input, index, d, input.shape[d])

    def grad_fn(g, o):
        return (scatter_add(zeros(input.shape), d, index, g), None)

    return autograd.record(out, "GatherBackward0", (input, index), grad_fn)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of input with src[i][j][k] added at out[i][index[i][j][k]][k] (for dim=1)."""
    out = clone(input.detach())
    _scatter_add_into(out, dim, index, src)

    def grad_fn(g, o):
        return (
            g if input.requires_grad else None,
            None,
            gather(g, dim, index) if src.requires_grad else None,
        )

    return autograd.record(out, "ScatterAddBackward0", (input, index, src), grad_fn)


def _scatter_add_into(out: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    _check_index("scatter_add", index)
    d = out._wrap_dim(dim)
    if index.ndim != out.ndim or src.ndim != out.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    for k in range(out.ndim):
        if index.shape[k] > src.shape[k] or (k != d and index.shape[k] > out.shape[k]):
            raise RuntimeError(
                f"Expected index {list(index.shape)} to be smaller than self {list(out.shape)} "
                f"apart from dimension {d} and to be smaller size than src {list(src.shape)}"
            )
    if src.dtype is not out.dtype:
        src = src.to(out.dtype)
    _dispatch("scatter_add", out, src, index, d, out.shape[d])
    return out


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of input at positions `index` (1-D) along `dim`."""
    _check_index("index_select", index)
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = input._wrap_dim(dim)
    index = index.reshape(-1)
    shape = list(input.shape)
    shape[d] = index.shape[0]
    # view the index as the full output shape: stride 1 along dim, 0 elsewhere
    strides = [0] * input.ndim
    strides[d] = index._strides[0]
    full_index = index._view(tuple(shape), tuple(strides))
    out = Tensor._empty(tuple(shape), input.dtype)
    _dispatch("gather", out, input, full_index, d, input.shape[d])

    def grad_fn(g, o):
        return (scatter_add(zeros(input.shape), d, full_index, g), None)

    return autograd.record(out, "IndexSelectBackward0", (input, index), grad_fn)


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the nonzero elements (reads the tensor back: its size depends on data)."""
    flat = input.reshape(-1)._flat_values()
    shape = input.shape
    coords = []
    for i, v in enumerate(flat):
        if v:
            c, rem = [], i
            for n in reversed(shape):
                c.append(rem % n)
                rem //= n
            coords.append(c[::-1])
    if as_tuple:
        return tuple(tensor([c[k] for c in coords], dtype=int32) for k in range(max(input.ndim, 1)))
    return tensor(coords, dtype=int32).reshape(len(coords), input.ndim)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of input where the (broadcast) boolean mask is True, as a 1-D tensor."""
    if mask.dtype is not bool_:
        raise RuntimeError("masked_select: expected a bool mask")
    shape = broadcast_shapes(input.shape, mask.shape)
    flat_index = nonzero(mask.expand(shape).reshape(-1), as_tuple=True)[0]
    return index_select(input.expand(shape).reshape(-1), 0, flat_index)


# ---- subscripts: t[key] and t[key] = value ---------------------------------------------


def _normalize_key(x: Tensor, key) -> list:
    """The key as a list with Ellipsis expanded and lists turned into index tensors."""
    if not isinstance(key, tuple):
        key = (key,)
    items = []
    for k in key:
        if isinstance(k, (list, range)):
            k = tensor(list(k), dtype=int32)
        elif isinstance(k, Tensor) and k.dtype is float32:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        items.append(k)
    consumed = sum(
        (k.ndim if isinstance(k, Tensor) and k.dtype is bool_ else 1)
        for k in items
        if k is not None and k is not Ellipsis
    )
    if consumed > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    ellipses = [i for i, k in enumerate(items) if k is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if ellipses:
        i = ellipses[0]
        items[i : i + 1] = [slice(None)] * (x.ndim - consumed)
    return items


def _basic(x: Tensor, items):
    """Apply ints, slices and None; return the view and [(dim, index tensor)] left over."""
    result, dim, advanced = x, 0, []
    for k in items:
        if k is None:
            result = unsqueeze(result, dim)
            dim += 1
        elif isinstance(k, bool):
            raise NotImplementedError("indexing with a Python bool")
        elif isinstance(k, int) or (isinstance(k, Tensor) and k.ndim == 0 and k.dtype is int32):
            result = select(result, dim, int(k))
        elif isinstance(k, slice):
            result = _slice(result, dim, k.start, k.stop, 1 if k.step is None else k.step)
            dim += 1
        elif isinstance(k, Tensor):
            advanced.append((dim, k))
            dim += k.ndim if k.dtype is bool_ else 1
        else:
            raise IndexError(
                f"only integers, slices, None, Ellipsis and integer or boolean "
                f"tensors are valid indices (got {type(k).__name__})"
            )
    return result, advanced


def getitem(x: Tensor, key) -> Tensor:
    """t[key]: basic indexing gives a view; index tensors gather (one or adjacent dims)."""
    result, advanced = _basic(x, _normalize_key(x, key))
    if not advanced:
        return result
    if len(advanced) == 1 and advanced[0][1].dtype is bool_:
        d, mask = advanced[0]
        if tuple(mask.shape) != tuple(result.shape[d : d + mask.ndim]):
            raise IndexError(
                f"The shape of the mask {tuple(mask.shape)} does not match the "
                f"shape of the indexed tensor {tuple(result.shape)}"
            )
        flat = result.flatten(d, d + mask.ndim - 1) if mask.ndim else result.unsqueeze(d)
        (positions,) = nonzero(mask.reshape(-1), as_tuple=True)
        return index_select(flat, d, positions)
    dims = [d for d, _ in advanced]
    if any(t.dtype is bool_ for _, t in advanced) or dims != list(
        range(dims[0], dims[0] + len(dims))
    ):
        raise NotImplementedError(
            "indexing with several index tensors that are not on adjacent "
            "dims, or mixing boolean and integer index tensors"
        )
    d = dims[0]
    index = advanced[0][1]
    if len(advanced) > 1:
        # several adjacent index tensors: one flat index into the merged dims
        sizes = [result.shape[k] for k in dims]
        flat = None
        for (_, idx), size in zip(advanced, sizes, strict=True):
            idx = where(idx < 0, idx + size, idx)
            flat = idx if flat is None else flat * size + idx
        index = flat
        result = result.flatten(d, d + len(dims) - 1)
    picked = index_select(result, d, index.reshape(-1))
    return picked.reshape(result.shape[:d] + tuple(index.shape) + result.shape[d + 1 :])


def setitem(x: Tensor, key, value) -> None:
    """t[key] = value for basic indexing and boolean masks, in place."""
    if autograd.is_grad_enabled() and (x.requires_grad or getattr(value, "requires_grad", False)):
        raise NotImplementedError(
            "assigning into a tensor that requires grad (t[key] = value) is not supported "
            "with autograd; use torch.where or wrap in torch.no_grad()"
        )
    result, advanced = _basic(x, _normalize_key(x, key))
    if not advanced:
        copy_into(result, value)
        return
    if len(advanced) == 1 and advanced[0][1].dtype is bool_ and not isinstance(value, Tensor):
        d, mask = advanced[0]
        if d != 0 or tuple(mask.shape) != tuple(result.shape[: mask.ndim]):
            raise NotImplementedError("boolean-mask assignment with a mask after other indices")
        m = mask.reshape(tuple(mask.shape) + (1,) * (result.ndim - mask.ndim))
        copy_into(result, where(m.expand(result.shape), value, result))
        return
    raise NotImplementedError(
        "assignment through index tensors (t[index_tensor] = value); "
        "use scatter_add or index_put-style ops"
    )
