"""Creating tensors: from Python data, constant fills, ranges and random draws."""

from __future__ import annotations

import array
import math

from ..backend.kernel import Kernel, write
from ..dtypes import bool_, category_of_scalar, float32, int32, promote, to_dtype
from ..random import default_generator
from ..tensor import Tensor
from . import expr as ex
from .launch import elementwise


def _size(size) -> tuple:
    """Accept zeros(2, 3), zeros((2, 3)) and zeros([2, 3])."""
    if (
        len(size) == 1
        and isinstance(size[0], (tuple, list))
        or (len(size) == 1 and type(size[0]).__name__ == "Size")
    ):
        size = size[0]
    shape = tuple(int(n) for n in size)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {shape}")
    return shape


def _finish(t: Tensor, requires_grad: bool) -> Tensor:
    if requires_grad:
        t.requires_grad_(True)
    return t


def _pack(values, dt) -> bytes:
    if dt is float32:
        return array.array("f", values).tobytes()
    if dt is int32:
        try:
            return array.array("i", values).tobytes()
        except OverflowError:
            raise OverflowError(
                "value out of range for int32 (int64 tensors are stored as 32-bit integers)"
            ) from None
    return array.array("I", [1 if v else 0 for v in values]).tobytes()


def _flatten(data):
    """(flat values, shape) of nested lists/tuples; ragged input is an error."""
    if isinstance(data, (list, tuple)):
        if not data:
            return [], (0,)
        parts = [_flatten(x) for x in data]
        inner = parts[0][1]
        if any(p[1] != inner for p in parts):
            raise ValueError(f"expected sequence of length {inner} at dim 1 (got a ragged list)")
        return [v for p in parts for v in p[0]], (len(data), *inner)
    if isinstance(data, Tensor):
        if data.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return [data.item()], ()
    if isinstance(data, (bool, int, float)):
        return [data], ()
    if hasattr(data, "item") and hasattr(data, "dtype") and getattr(data, "shape", None) == ():
        return [data.item()], ()
    raise TypeError(f"can't convert {type(data).__name__} to a tensor")


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor copying `data` (nested lists, numbers, a Tensor or a NumPy array)."""
    if isinstance(data, Tensor):
        t = data.detach().clone()
        return _finish(t if dtype is None else t.to(dtype), requires_grad)
    if hasattr(data, "__array_interface__") and hasattr(data, "dtype"):
        return _finish(from_numpy(data, dtype), requires_grad)
    values, shape = _flatten(data)
    if dtype is None:
        cats = [category_of_scalar(v) for v in values] or [2]
        dt = promote(*cats)
    else:
        dt = to_dtype(dtype)
    if dt is float32:
        values = [float(v) for v in values]
    elif dt is int32:
        values = [int(v) for v in values]
    return _finish(Tensor._from_bytes(_pack(values, dt), shape, dt), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    if isinstance(data, Tensor) and (dtype is None or to_dtype(dtype) is data.dtype):
        return data
    return tensor(data, dtype=dtype)


def from_numpy(ndarray, dtype=None) -> Tensor:
    """A tensor copying a NumPy array (the GPU cannot share host memory)."""
    import numpy

    arr = numpy.asarray(ndarray)
    kind = arr.dtype.kind
    if dtype is not None:
        dt = to_dtype(dtype)
    elif kind == "b":
        dt = bool_
    elif kind in "iu":
        dt = int32
    elif kind == "f":
        dt = float32
    else:
        raise TypeError(f"can't convert np.ndarray of type {arr.dtype} to an engine tensor")
    if dt is float32:
        flat = numpy.ascontiguousarray(arr, dtype=numpy.float32)
    elif dt is int32:
        if arr.size and kind in "iu" and (arr.min() < -(2**31) or arr.max() >= 2**31):
            raise OverflowError("integer values do not fit in 32 bits")
        flat = numpy.ascontiguousarray(arr, dtype=numpy.int32)
    else:
        flat = numpy.ascontiguousarray(arr != 0, dtype=numpy.uint32)
    return Tensor._from_bytes(flat.tobytes(), tuple(arr.shape), dt)


def frombuffer(buffer, dtype=float32, count=-1, offset=0, requires_grad=False) -> Tensor:
    """A 1-D tensor copying the raw bytes of `buffer` (bool: one byte per element)."""
    dt = to_dtype(dtype)
    raw = memoryview(buffer).cast("B")[offset:]
    if dt is bool_:
        n = len(raw) if count < 0 else count
        values = array.array("I", raw[:n].tolist()).tobytes()
    else:
        n = len(raw) // 4 if count < 0 else count
        if count < 0 and len(raw) % 4:
            raise ValueError(
                f"buffer length ({len(raw)} bytes) must be a multiple of the element size (4)"
            )
        values = raw[: 4 * n]
    return _finish(Tensor._from_bytes(values, (n,), dt), requires_grad)


def fill_(t: Tensor, value) -> Tensor:
    """Set every element of `t` (any view) to `value`, in place."""
    ctype = t.dtype.wgsl
    return elementwise("x0", [value], [ctype], t.dtype, shape=t._shape, out=t)


def _default_fill_dtype(value):
    return promote(category_of_scalar(value))


def empty(*size, dtype=None, device=None, requires_grad=False, **_) -> Tensor:
    dt = float32 if dtype is None else to_dtype(dtype)
    return _finish(Tensor._empty(_size(size), dt), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dt = _default_fill_dtype(fill_value) if dtype is None else to_dtype(dtype)
    t = Tensor._empty(_size((size,)), dt)
    return _finish(fill_(t, fill_value), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(_size(size), 0, dtype=dtype or float32, requires_grad=requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(_size(size), 1, dtype=dtype or float32, requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False, **_) -> Tensor:
    return empty(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def zeros_like(t, dtype=None, device=None, requires_grad=False, **_) -> Tensor:
    return full(t.shape, 0, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False, **_) -> Tensor:
    return full(t.shape, 1, dtype=dtype or t.dtype, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False, **_) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from `start` (inclusive) to `end` (exclusive) by `step`."""
    if end is None:
        start, end = 0, start
    start, end, step = (x.item() if isinstance(x, Tensor) else x for x in (start, end, step))
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    n = max(math.ceil((end - start) / step), 0)
    dt = promote(*(category_of_scalar(x) for x in (start, end, step)), 1)
    dt = dt if dtype is None else to_dtype(dtype)
    index = ex.f32(ex.INDEX) if dt is float32 else ex.i32(ex.INDEX)
    t = _index_fill((n,), dt, lambda start, step: start + index * step, [start, step])
    return _finish(t, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    """`steps` evenly spaced values from `start` to `end`, both included."""
    dt = float32 if dtype is None else to_dtype(dtype)
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    if steps == 1:
        return full((1,), start, dtype=dt, requires_grad=requires_grad)
    step = (end - start) / max(steps - 1, 1)

    # as PyTorch: the first half counts up from start, the second half down from end
    def value(start, end, step):
        up = start + ex.f32(ex.INDEX) * step
        down = end - ex.f32(ex.u32(steps - 1 - ex.INDEX)) * step
        return ex.where(ex.u32(ex.INDEX) < ex.u32(steps // 2), up, down)

    t = _index_fill((steps,), float32, value, [float(start), float(end), step])
    return _finish(t if dt is float32 else t.to(dt), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    m = n if m is None else m
    dt = float32 if dtype is None else to_dtype(dtype)
    cols = max(m, 1)
    diagonal = ex.u32(ex.INDEX / cols) == ex.u32(ex.INDEX % cols)
    t = _index_fill((n, m), dt, lambda: ex.where(diagonal, 1, 0), [])
    return _finish(t, requires_grad)


def _index_fill(shape, dt, formula, scalars) -> Tensor:
    """A new contiguous tensor with out[i] = formula(*scalars), a formula of ex.INDEX (= i)."""
    text, used, _ = ex.wgsl(formula, ("value",) * len(scalars), dt.wgsl)
    return elementwise(text, [scalars[k] for k in used], [dt.wgsl] * len(used), dt, shape=shape)


# ---- random -----------------------------------------------------------------------

# distribution -> (its number in random.wgsl's `draw`, the WGSL type it yields)
_DISTRIBUTIONS = {
    "uniform": (0, "f32"),
    "normal": (1, "f32"),
    "randint": (2, "i32"),
    "bernoulli": (3, "f32"),
}

RANDOM = Kernel(
    "random",
    bindings=(write("out", "OUT_T"),),
    params="numel, seed_lo, seed_hi, offset_lo, offset_hi: u32; a, b: f32",
    types=("OUT_T",),
    consts="DIST: u32",
)


def random_(t: Tensor, kind: str, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill `t` in place with draws of distribution `kind` with parameters (a, b)."""
    numel = t.numel()
    if numel == 0:
        return t
    dist, out_t = _DISTRIBUTIONS[kind]
    direct = t.is_contiguous() and t._offset == 0 and t.dtype.wgsl == out_t
    target = t if direct else Tensor._empty(t._shape, float32 if out_t == "f32" else int32)
    threads = -(-numel // 4)
    seed, offset = (generator or default_generator)._advance(threads)
    RANDOM(
        threads=threads,
        out=target,
        OUT_T=out_t,
        DIST=dist,
        numel=numel,
        seed_lo=seed & 0xFFFFFFFF,
        seed_hi=seed >> 32,
        offset_lo=offset & 0xFFFFFFFF,
        offset_hi=(offset >> 32) & 0xFFFFFFFF,
        a=a,
        b=b,
    )
    if not direct:
        t.copy_(target)
    return t


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples in [0, 1)."""
    t = Tensor._empty(_size(size), float32 if dtype is None else to_dtype(dtype))
    return _finish(random_(t, "uniform", 0.0, 1.0, generator), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    t = Tensor._empty(_size(size), float32 if dtype is None else to_dtype(dtype))
    return _finish(random_(t, "normal", 0.0, 1.0, generator), requires_grad)


def randint(
    low=0, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False
) -> Tensor:
    """Integers drawn uniformly from [low, high)."""
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high <= low:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    t = Tensor._empty(_size((size,)), int32 if dtype is None else to_dtype(dtype))
    return random_(t, "randint", float(low), float(high), generator)


def rand_like(t, dtype=None, **kwargs) -> Tensor:
    return rand(t.shape, dtype=dtype or t.dtype, **kwargs)


def randn_like(t, dtype=None, **kwargs) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, **kwargs)


def randint_like(t, low=0, high=None, dtype=None, **kwargs) -> Tensor:
    return randint(low, high, t.shape, dtype=dtype or t.dtype, **kwargs)


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0..n-1 (drawn on the host from the seeded generator)."""
    order = list(range(n))
    (generator or default_generator)._python_random().shuffle(order)
    return tensor(order, dtype=int32 if dtype is None else dtype)


def bernoulli(input: Tensor, p=None, generator=None) -> Tensor:
    """Samples of 0/1 with probability `input` (elementwise) or the scalar `p`."""
    u = rand(input.shape, generator=generator)
    threshold = input if p is None else p
    return (u < threshold).to(input.dtype)


def uniform_(t, a=0.0, b=1.0, generator=None):
    return random_(t, "uniform", float(a), float(b), generator)


def normal_(t, mean=0.0, std=1.0, generator=None):
    return random_(t, "normal", float(mean), float(std), generator)


def bernoulli_(t, p=0.5, generator=None):
    return random_(t, "bernoulli", float(p), 0.0, generator)
