"""Views and movement: reshape, permute, expand, slicing, cat/stack/split.

Views share storage and only change (shape, strides, offset); their backward rules
map the gradient back the same way. cat/stack write each input into a slice of
one new tensor with the elementwise copy kernel.
"""

from __future__ import annotations

import math

from .. import autograd
from ..autograd import sum_to
from ..dtypes import promote
from ..tensor import Tensor, contiguous_strides
from .creation import zeros
from .pointwise import clone, copy_into


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def _infer_shape(shape, numel: int, op: str, input_shape) -> tuple:
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(n for n in shape if n != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if n == -1 else n for n in shape)
    elif known != numel:
        raise RuntimeError(
            f"{op}: shape '{list(shape)}' is invalid for input of size {numel} "
            f"(input shape {tuple(input_shape)})"
        )
    return shape


def _view_strides(old_shape, old_strides, new_shape):
    """Strides viewing (old_shape, old_strides) as new_shape, or None if impossible.

    PyTorch's computeStride: walk matching chunks of dims that are contiguous
    among themselves.
    """
    if not old_shape:
        return contiguous_strides(new_shape)
    numel = math.prod(old_shape)
    if numel == 0:
        return contiguous_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base = old_strides[-1]
    tensor_numel = view_numel = 1
    for d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[d]
        if d == 0 or (old_shape[d - 1] != 1 and old_strides[d - 1] != tensor_numel * chunk_base):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                chunk_base = old_strides[d - 1]
                tensor_numel = view_numel = 1
    return tuple(new_strides) if view_d == -1 else None


def view(input: Tensor, *shape) -> Tensor:
    """The same data seen with another shape; fails where strides do not allow it."""
    if (
        len(shape) == 1
        and not isinstance(shape[0], (int, tuple, list))
        and hasattr(shape[0], "name")
    ):
        raise NotImplementedError("view(dtype) reinterpretation is not implemented")
    shape = _infer_shape(_shape_arg(shape), input.numel(), "view", input.shape)
    strides = _view_strides(input.shape, input._strides, shape)
    if strides is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    out = input._view(shape, strides)
    return autograd.record(out, "ViewBackward0", (input,), lambda g, o: (g.reshape(input.shape),))


def reshape(input: Tensor, *shape) -> Tensor:
    """A view with the new shape when strides allow it, else a contiguous copy."""
    shape = _infer_shape(_shape_arg(shape), input.numel(), "reshape", input.shape)
    if _view_strides(input.shape, input._strides, shape) is None:
        input = contiguous(input)
    return view(input, shape)


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    return input if input.is_contiguous() else clone(input)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if input.ndim == 0:
        return reshape(input, 1)
    start, end = input._wrap_dim(start_dim), input._wrap_dim(end_dim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = (
        input.shape[:start] + (math.prod(input.shape[start : end + 1]),) + input.shape[end + 1 :]
    )
    return reshape(input, shape)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    d = input._wrap_dim(dim)
    sizes = _infer_shape(tuple(sizes), input.shape[d], "unflatten", input.shape)
    return view(input, input.shape[:d] + sizes + input.shape[d + 1 :])


def permute(input: Tensor, *dims) -> Tensor:
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is not "
            f"equal to len(dims) = {len(dims)}"
        )
    dims = tuple(input._wrap_dim(d) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    out = input._view(tuple(input.shape[d] for d in dims), tuple(input._strides[d] for d in dims))
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return autograd.record(out, "PermuteBackward0", (input,), lambda g, o: (permute(g, inverse),))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    if input.ndim == 0:
        return input
    dims = list(range(input.ndim))
    a, b = input._wrap_dim(dim0), input._wrap_dim(dim1)
    dims[a], dims[b] = dims[b], dims[a]
    return permute(input, dims)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def movedim(input: Tensor, source: int, destination: int) -> Tensor:
    dims = list(range(input.ndim))
    s = input._wrap_dim(source)
    dims.remove(s)
    dims.insert(input._wrap_dim(destination), s)
    return permute(input, dims)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    d = input._wrap_dim(dim, input.ndim + 1)
    shape = input.shape[:d] + (1,) + input.shape[d:]
    inner = input._strides[d] * input.shape[d] if d < input.ndim else 1
    strides = input._strides[:d] + (inner,) + input._strides[d:]
    out = input._view(shape, strides)
    return autograd.record(
        out, "UnsqueezeBackward0", (input,), lambda g, o: (g.reshape(input.shape),)
    )


def squeeze(input: Tensor, dim=None) -> Tensor:
    if dim is None:
        dims = {d for d, n in enumerate(input.shape) if n == 1}
    else:
        dims = {input._wrap_dim(d) for d in ((dim,) if isinstance(dim, int) else dim)}
        dims = {d for d in dims if input.ndim and input.shape[d] == 1}
    keep = [d for d in range(input.ndim) if d not in dims]
    out = input._view(tuple(input.shape[d] for d in keep), tuple(input._strides[d] for d in keep))
    return autograd.record(
        out, "SqueezeBackward0", (input,), lambda g, o: (g.reshape(input.shape),)
    )


def expand(input: Tensor, *sizes) -> Tensor:
    """A broadcast view: size-1 dims repeat with stride 0 (-1 keeps a size)."""
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({input.ndim})"
        )
    pad = len(sizes) - input.ndim
    shape, strides = [], []
    for i, n in enumerate(sizes):
        j = i - pad
        if j < 0:
            if n < 0:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
            shape.append(n)
            strides.append(0)
            continue
        own = input.shape[j]
        if n == -1 or n == own:
            shape.append(own)
            strides.append(input._strides[j])
        elif own == 1:
            shape.append(n)
            strides.append(0)
        else:
            raise RuntimeError(
                f"The expanded size of the tensor ({n}) must match the existing size ({own}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(input.shape)}"
            )
    if tuple(shape) == tuple(input.shape):
        return input
    out = input._view(tuple(shape), tuple(strides))
    return autograd.record(out, "ExpandBackward0", (input,), lambda g, o: (sum_to(g, input.shape),))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other.shape)


def broadcast_to(input: Tensor, shape) -> Tensor:
    return expand(input, tuple(shape))


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    d = input._wrap_dim(dim)
    return _slice(input, d, start, start + length, 1)


def _slice(input: Tensor, d: int, start, stop, step) -> Tensor:
    size = input.shape[d]
    start, stop, step = slice(start, stop, step).indices(size)
    if step <= 0:
        raise ValueError("step must be greater than zero")
    length = max(0, -(-(stop - start) // step))
    shape = input.shape[:d] + (length,) + input.shape[d + 1 :]
    strides = input._strides[:d] + (input._strides[d] * step,) + input._strides[d + 1 :]
    offset = input._offset + (start * input._strides[d] if length else 0)
    out = input._view(shape, strides, offset)
    return autograd.record(
        out,
        "SliceBackward0",
        (input,),
        lambda g, o: (_embed(g, input.shape, lambda z: _slice(z, d, start, stop, step)),),
    )


def select(input: Tensor, dim: int, index: int) -> Tensor:
    d = input._wrap_dim(dim)
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {d} with size {size}")
    index %= size
    shape = input.shape[:d] + input.shape[d + 1 :]
    strides = input._strides[:d] + input._strides[d + 1 :]
    out = input._view(shape, strides, input._offset + index * input._strides[d])
    return autograd.record(
        out,
        "SelectBackward0",
        (input,),
        lambda g, o: (_embed(g, input.shape, lambda z: select(z, d, index)),),
    )


def _embed(g: Tensor, shape, region) -> Tensor:
    """A zero tensor of `shape` with `g` written into `region(that tensor)`.

    Differentiable itself (its backward takes the same region), for create_graph.
    """
    out = zeros(shape)
    copy_into(region(out), g)
    return autograd.record(out, "EmbedBackward0", (g,), lambda gg, o: (region(gg),))


def unbind(input: Tensor, dim: int = 0):
    d = input._wrap_dim(dim)
    return tuple(select(input, d, i) for i in range(input.shape[d]))


def split(tensor: Tensor, split_size_or_sections, dim: int = 0):
    """Views of consecutive pieces along `dim`: equal `split_size` ones or given sizes."""
    d = tensor._wrap_dim(dim)
    size = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size:
            raise RuntimeError("split_size can only be 0 if dimension size is 0")
        sections = [min(step, size - i) for i in range(0, size, step)] if size else [0]
    else:
        sections = list(split_size_or_sections)
        if sum(sections) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                f"size at dimension {d}), but got split_sizes={sections}"
            )
    pieces, start = [], 0
    for n in sections:
        pieces.append(narrow(tensor, d, start, n))
        start += n
    return tuple(pieces)


def chunk(input: Tensor, chunks: int, dim: int = 0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0")
    d = input._wrap_dim(dim)
    step = -(-input.shape[d] // chunks) if input.shape[d] else 1
    return split(input, step, d)


def tensor_split(input: Tensor, sections: int, dim: int = 0):
    d = input._wrap_dim(dim)
    size = input.shape[d]
    base, extra = divmod(size, sections)
    return split(input, [base + 1 if i < extra else base for i in range(sections)], d)


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dim (all other sizes must match)."""
    tensors = [t for t in tensors]
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    # PyTorch skips 1-D empty tensors in cat
    parts = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ref = parts[0]
    d = ref._wrap_dim(dim)
    for i, t in enumerate(parts):
        if t.ndim != ref.ndim or any(
            a != b for k, (a, b) in enumerate(zip(t.shape, ref.shape, strict=True)) if k != d
        ):
            raise RuntimeError(
                f"cat(): sizes of tensors must match except in dimension {d}. Expected "
                f"{tuple(ref.shape)} (up to dim {d}) but got {tuple(t.shape)} for tensor number {i}"
            )
    dt = promote(*(t.dtype.category for t in parts))
    shape = list(ref.shape)
    shape[d] = sum(t.shape[d] for t in parts)
    out = Tensor._empty(tuple(shape), dt)
    start = 0
    for t in parts:
        copy_into(_slice_raw(out, d, start, t.shape[d]), t)
        start += t.shape[d]
    sizes = [t.shape[d] for t in parts]

    def grad_fn(g, o):
        pieces = split(g, sizes, d)
        return tuple(pieces)

    return autograd.record(out, "CatBackward0", tuple(parts), grad_fn)


concat = concatenate = cat


def _slice_raw(t: Tensor, d: int, start: int, length: int) -> Tensor:
    shape = t.shape[:d] + (length,) + t.shape[d + 1 :]
    return t._view(shape, t._strides, t._offset + start * t._strides[d])


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if tuple(t.shape) != tuple(tensors[0].shape):
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at "
                f"entry 0 and {list(t.shape)} at entry {i}"
            )
    d = tensors[0]._wrap_dim(dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def hstack(tensors):
    tensors = list(tensors)
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([t if t.ndim > 1 else unsqueeze(t, 0) for t in tensors], 0)
