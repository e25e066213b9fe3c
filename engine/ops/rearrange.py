"""Rearranging elements: flip, roll, repeat_interleave, tril and triu.

All are compositions of existing kernels with their backward rules for free: flip is a
gather per flipped dim with a reversed index made on the GPU, roll joins two slices,
repeat_interleave is an expand-and-copy (an int count) or a gather (counts in a
tensor, read back once: the output's size depends on them), tril/triu select with a
mask made over the thread index.
"""

from __future__ import annotations

from ..dtypes import bool_, int32
from ..tensor import Tensor
from . import expr as ex
from .creation import _index_fill, arange, tensor
from .indexing import index_select
from .movement import cat, narrow
from .pointwise import logical_and, where


def _dims_arg(dims) -> tuple:
    return (dims,) if isinstance(dims, int) else tuple(dims)


def flip(input: Tensor, dims) -> Tensor:
    """input with the order of its elements reversed along each of `dims`."""
    dims = [input._wrap_dim(d) for d in _dims_arg(dims)]
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"flip(): dims has a repeated dim: {dims}")
    out = input
    for d in dims:
        n = input.shape[d]
        if n > 1:
            out = index_select(out, d, arange(n - 1, -1, -1, dtype=int32))
    return out.clone() if out is input else out


def fliplr(input: Tensor) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError("fliplr(): input must be at least 2-d")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    if input.ndim < 1:
        raise RuntimeError("flipud(): input must be at least 1-d")
    return flip(input, 0)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """input with its elements shifted cyclically by `shifts` along `dims`."""
    shifts = _dims_arg(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(
                f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, dims: 0"
            )
        return roll(input.flatten(), shifts, 0).reshape(input.shape)
    dims = _dims_arg(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}"
        )
    out = input
    for shift, dim in zip(shifts, dims, strict=True):
        d = input._wrap_dim(dim)
        n = input.shape[d]
        s = int(shift) % n if n else 0
        if s:
            out = cat([narrow(out, d, n - s, s), narrow(out, d, 0, n - s)], d)
    return out.clone() if out is input else out


def repeat_interleave(input: Tensor, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Each element (each slice along `dim`) repeated `repeats` times in place."""
    if repeats is None:  # repeat_interleave(counts): the positions, each repeated
        counts = input
        if counts.ndim > 1:
            raise RuntimeError("repeat_interleave(): repeats must be 0-dim or 1-dim tensor")
        return repeat_interleave(arange(counts.numel(), dtype=int32), counts.reshape(-1), 0)
    x = input.flatten() if dim is None else input
    d = 0 if dim is None else x._wrap_dim(dim)
    n = x.shape[d] if x.ndim else 1
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1:
            raise RuntimeError("repeat_interleave(): repeats must be 0-dim or 1-dim tensor")
        if repeats.dtype not in (int32,) or repeats.dtype is bool_:
            raise RuntimeError(
                f"repeat_interleave(): repeats has to be Long or Int tensor, got {repeats.dtype}"
            )
        if repeats.numel() == 1:
            repeats = int(repeats.item())
        else:
            if repeats.numel() != n:
                raise RuntimeError(
                    "repeats must have the same size as input along dim, but got "
                    f"repeats.size(0) = {repeats.numel()} and input.size({d}) = {n}"
                )
            counts = repeats.tolist()
            if any(c < 0 for c in counts):
                raise RuntimeError("repeat_interleave(): repeats can not be negative")
            index = [i for i, c in enumerate(counts) for _ in range(c)]
            if output_size is not None and output_size != len(index):
                raise RuntimeError(
                    f"repeat_interleave(): output_size {output_size} but the repeats sum to "
                    f"{len(index)}"
                )
            return index_select(x, d, tensor(index, dtype=int32))
    repeats = int(repeats)
    if repeats < 0:
        raise RuntimeError("repeat_interleave(): repeats can not be negative")
    if x.ndim == 0:
        x = x.reshape(1)
    shape = list(x.shape)
    grown = x.unsqueeze(d + 1).expand(*shape[: d + 1], repeats, *shape[d + 1 :])
    shape[d] *= repeats
    return grown.reshape(shape)


def _triangle(op: str, input: Tensor, diagonal: int, lower: bool) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
    rows, cols = input.shape[-2:]
    if rows * cols == 0:
        return input.clone()
    diagonal = int(diagonal)

    # col - row <= diagonal (tril) or >= diagonal (triu), over the thread index, in u32:
    # col + rows against row + rows + diagonal (clamped at 0, which keeps the answer)
    shift = max(rows + diagonal, 0)

    def keep():
        left = ex.u32(ex.INDEX % cols) + rows
        right = ex.u32(ex.INDEX / cols) + shift
        return ex.bits(left <= right if lower else left >= right)

    mask = _index_fill((rows, cols), bool_, keep, [])
    if input.dtype is bool_:
        return logical_and(mask, input)
    return where(mask, input, 0.0 if input.dtype.category == 2 else 0)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (col - row <= diagonal); the rest zero."""
    return _triangle("tril", input, diagonal, lower=True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (col - row >= diagonal); the rest zero."""
    return _triangle("triu", input, diagonal, lower=False)
