"""Install the op functions as Tensor methods and operators (t.exp(), t + u, t[0], ...).

Where a method comes from: every row of `pointwise.UNARY` is `t.name()` and `t.name_()`
(grep `"exp":` to land on exp's forward and derivative); every other method is one line of
the tables below (`_METHODS`, `_INPLACE`, `_DIRECT`) or of `install()`.

In-place methods (`add_`, `mul_`, ...) write straight into the tensor when no graph
is being recorded (the optimizer and init path). Under autograd, an in-place op on
a non-leaf computes the result out of place and rebinds the tensor to it, so saved
tensors keep their values; other views of the old data do not see the change.
"""

from __future__ import annotations

from .. import autograd
from ..dtypes import bool_, float32, int32, to_dtype
from ..tensor import Tensor, device
from . import creation, indexing, matmul, movement, pointwise, rearrange, reduction, scan, sorting
from .pointwise import copy_into


def _needs_graph(self, args, kwargs) -> bool:
    if not autograd.is_grad_enabled():
        return False
    values = (self, *args, *kwargs.values())
    return any(isinstance(v, Tensor) and v.requires_grad for v in values)


def _inplace(name, fn):
    """t.name_(...): fn(t, ...) computed into t itself."""

    def method(self, *args, **kwargs):
        if _needs_graph(self, args, kwargs):
            if self.is_leaf and self.requires_grad:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation."
                )
            # the graph keeps the old value under a separate identity; self becomes the result
            before = self._view(self.shape, self._strides)
            before.requires_grad, before.grad_fn = self.requires_grad, self.grad_fn
            args = tuple(before if a is self else a for a in args)
            result = fn(before, *args, **kwargs)
            self.data = result if result.dtype is self.dtype else result.to(self.dtype)
            self.grad_fn, self.requires_grad = result.grad_fn, True
            return self
        with autograd.no_grad():
            result = fn(self, *args, **kwargs)
            if result is not self:
                if tuple(result.shape) != tuple(self.shape):
                    raise RuntimeError(
                        f"{name}: output with shape {list(self.shape)} doesn't match the "
                        f"broadcast shape {list(result.shape)}"
                    )
                if result.dtype.category > self.dtype.category:
                    raise RuntimeError(
                        f"{name}: result type {result.dtype.name.capitalize()} can't be cast to "
                        f"the desired output type {self.dtype.name.capitalize()}"
                    )
                copy_into(self, result)
        return self

    method.__name__ = name
    return method


def _direct(name, fn):
    """add_, mul_, addcmul_, ...: one kernel writing into self when no graph is recorded."""
    fallback = _inplace(name, fn)

    def method(self, *args, **kwargs):
        if _needs_graph(self, args, kwargs) or self.dtype is not float32 and name in _FLOAT_ONLY:
            return fallback(self, *args, **kwargs)
        with autograd.no_grad():
            fn(self, *args, out=self, **kwargs)
        return self

    method.__name__ = name
    return method


def _to(self, *args, **kwargs):
    """t.to(dtype) / t.to(device) / t.to(other): only a dtype changes anything."""
    dt = kwargs.get("dtype")
    for a in args:
        if isinstance(a, Tensor):
            dt = a.dtype
        elif isinstance(a, (str, device)):
            device(a)  # validates the name
        elif a is not None:
            dt = a
    return self if dt is None else pointwise.to_dtype(self, to_dtype(dt))


def _type(self, dtype=None, **kwargs):
    if dtype is None:
        return {
            float32: "engine.FloatTensor",
            int32: "engine.IntTensor",
            bool_: "engine.BoolTensor",
        }[self.dtype]
    return _to(self, dtype)


def _double(self):
    raise NotImplementedError("float64 tensors: WebGPU has float32 only (use .float())")


def _half(self):
    raise NotImplementedError("float16 tensors are not implemented yet")


def _comparable(other) -> bool:
    return isinstance(other, (Tensor, bool, int, float))


def _reversed(fn):
    return lambda self, other: fn(other, self)


def _new(factory):
    def method(self, *args, dtype=None, device=None, requires_grad=False, **kwargs):
        return factory(*args, dtype=dtype or self.dtype, requires_grad=requires_grad, **kwargs)

    return method


_METHODS = {
    # conversion
    "to": _to,
    "type": _type,
    "float": lambda self, **kw: pointwise.to_dtype(self, float32),
    "int": lambda self, **kw: pointwise.to_dtype(self, int32),
    "long": lambda self, **kw: pointwise.to_dtype(self, int32),
    "bool": lambda self, **kw: pointwise.to_dtype(self, bool_),
    "double": _double,
    "half": _half,
    "type_as": lambda self, other: pointwise.to_dtype(self, other.dtype),
    "clone": pointwise.clone,
    "contiguous": movement.contiguous,
    # views
    "view": movement.view,
    "view_as": lambda self, other: movement.view(self, other.shape),
    "reshape": movement.reshape,
    "reshape_as": lambda self, other: movement.reshape(self, other.shape),
    "flatten": movement.flatten,
    "unflatten": movement.unflatten,
    "permute": movement.permute,
    "transpose": movement.transpose,
    "swapaxes": movement.transpose,
    "t": movement.t,
    "movedim": movement.movedim,
    "unsqueeze": movement.unsqueeze,
    "squeeze": movement.squeeze,
    "expand": movement.expand,
    "expand_as": movement.expand_as,
    "broadcast_to": movement.broadcast_to,
    "narrow": movement.narrow,
    "select": movement.select,
    "unbind": movement.unbind,
    "split": movement.split,
    "chunk": movement.chunk,
    "tensor_split": movement.tensor_split,
    # arithmetic
    "add": pointwise.add,
    "sub": pointwise.sub,
    "subtract": pointwise.sub,
    "mul": pointwise.mul,
    "multiply": pointwise.mul,
    "div": pointwise.div,
    "divide": pointwise.div,
    "true_divide": pointwise.div,
    "floor_divide": pointwise.floor_divide,
    "remainder": pointwise.remainder,
    "fmod": pointwise.fmod,
    "pow": pointwise.pow,
    "maximum": pointwise.maximum,
    "minimum": pointwise.minimum,
    "clamp": pointwise.clamp,
    "clip": pointwise.clamp,
    "clamp_min": lambda self, min: pointwise.clamp(self, min=min),
    "clamp_max": lambda self, max: pointwise.clamp(self, max=max),
    "gelu": pointwise.gelu,
    "leaky_relu": pointwise.leaky_relu,
    "lerp": pointwise.lerp,
    "addcmul": pointwise.addcmul,
    "addcdiv": pointwise.addcdiv,
    "where": lambda self, condition, other: pointwise.where(condition, self, other),
    "masked_fill": pointwise.masked_fill,
    # comparisons and logic
    "eq": pointwise.eq,
    "ne": pointwise.ne,
    "lt": pointwise.lt,
    "le": pointwise.le,
    "gt": pointwise.gt,
    "ge": pointwise.ge,
    "isnan": pointwise.isnan,
    "isinf": pointwise.isinf,
    "isfinite": pointwise.isfinite,
    "logical_not": pointwise.logical_not,
    "logical_and": pointwise.logical_and,
    "logical_or": pointwise.logical_or,
    "logical_xor": pointwise.logical_xor,
    "bitwise_not": pointwise.bitwise_not,
    "equal": lambda self, other: (
        tuple(self.shape) == tuple(other.shape)
        and bool(reduction.all(pointwise.eq(self, other)).item())
    ),
    "allclose": lambda self, other, rtol=1e-5, atol=1e-8, equal_nan=False: _allclose(
        self, other, rtol, atol
    ),
    # reductions
    "sum": reduction.sum,
    "mean": reduction.mean,
    "prod": reduction.prod,
    "max": reduction.max,
    "min": reduction.min,
    "amax": reduction.amax,
    "amin": reduction.amin,
    "argmax": reduction.argmax,
    "argmin": reduction.argmin,
    "all": reduction.all,
    "any": reduction.any,
    "var": reduction.var,
    "std": reduction.std,
    "norm": reduction.norm,
    "logsumexp": reduction.logsumexp,
    "softmax": reduction.softmax,
    "log_softmax": reduction.log_softmax,
    # products
    "matmul": matmul.matmul,
    "mm": matmul.mm,
    "bmm": matmul.bmm,
    "dot": matmul.dot,
    "outer": matmul.outer,
    # indexing
    "gather": indexing.gather,
    "scatter_add": indexing.scatter_add,
    "index_select": indexing.index_select,
    "nonzero": indexing.nonzero,
    "masked_select": indexing.masked_select,
    "__getitem__": indexing.getitem,
    # ordering, running reductions, rearranging (sequence code)
    "argsort": sorting.argsort,
    "cumprod": scan.cumprod,
    "cumsum": scan.cumsum,
    "flip": rearrange.flip,
    "fliplr": rearrange.fliplr,
    "flipud": rearrange.flipud,
    "msort": sorting.msort,
    "multinomial": sorting.multinomial,
    "repeat_interleave": rearrange.repeat_interleave,
    "roll": rearrange.roll,
    "sort": sorting.sort,
    "topk": sorting.topk,
    "tril": rearrange.tril,
    "triu": rearrange.triu,
    "__setitem__": indexing.setitem,
    # new tensors like this one
    "new_zeros": _new(creation.zeros),
    "new_ones": _new(creation.ones),
    "new_empty": _new(creation.empty),
    "new_full": _new(creation.full),
    "new_tensor": lambda self, data, dtype=None, **kw: creation.tensor(
        data, dtype=dtype or self.dtype
    ),
    # operators
    "__add__": pointwise.add,
    "__radd__": _reversed(pointwise.add),
    "__sub__": pointwise.sub,
    "__rsub__": _reversed(pointwise.sub),
    "__mul__": pointwise.mul,
    "__rmul__": _reversed(pointwise.mul),
    "__truediv__": pointwise.div,
    "__rtruediv__": _reversed(pointwise.div),
    "__floordiv__": pointwise.floor_divide,
    "__rfloordiv__": _reversed(pointwise.floor_divide),
    "__mod__": pointwise.remainder,
    "__rmod__": _reversed(pointwise.remainder),
    "__pow__": pointwise.pow,
    "__rpow__": _reversed(pointwise.pow),
    "__matmul__": matmul.matmul,
    "__rmatmul__": _reversed(matmul.matmul),
    "__neg__": lambda self: pointwise.unary("neg", self),
    "__pos__": lambda self: self,
    "__abs__": lambda self: pointwise.unary("abs", self),
    "__invert__": pointwise.bitwise_not,
    "__and__": lambda self, other: pointwise.bitwise_and(self, other),
    "__or__": lambda self, other: pointwise.bitwise_or(self, other),
    "__xor__": lambda self, other: pointwise.bitwise_xor(self, other),
    "__rand__": lambda self, other: pointwise.bitwise_and(other, self),
    "__ror__": lambda self, other: pointwise.bitwise_or(other, self),
    "__eq__": lambda self, other: pointwise.eq(self, other) if _comparable(other) else False,
    "__ne__": lambda self, other: pointwise.ne(self, other) if _comparable(other) else True,
    "__lt__": pointwise.lt,
    "__le__": pointwise.le,
    "__gt__": pointwise.gt,
    "__ge__": pointwise.ge,
}

_INPLACE = {
    "pow_": pointwise.pow,
    "clamp_": pointwise.clamp,
    "clip_": pointwise.clamp,
    "clamp_min_": lambda self, min: pointwise.clamp(self, min=min),
    "clamp_max_": lambda self, max: pointwise.clamp(self, max=max),
    "masked_fill_": pointwise.masked_fill,
    "copy_": lambda self, src, non_blocking=False: movement.expand(
        src if isinstance(src, Tensor) else creation.tensor(src), self.shape
    ),
    "zero_": lambda self: creation.zeros(self.shape, dtype=self.dtype),
    "fill_": lambda self, value: creation.full(self.shape, value, dtype=self.dtype),
    "scatter_add_": indexing.scatter_add,
    "leaky_relu_": pointwise.leaky_relu,
}

_DIRECT = {
    "add_": pointwise.add,
    "sub_": pointwise.sub,
    "mul_": pointwise.mul,
    "div_": pointwise.div,
    "lerp_": pointwise.lerp,
    "addcmul_": pointwise.addcmul,
    "addcdiv_": pointwise.addcdiv,
}
_FLOAT_ONLY = ("lerp_", "addcmul_", "addcdiv_")


def _unary_method(name):
    def method(self):
        return pointwise.unary(name, self)

    method.__name__ = name
    return method


def _unary_inplace(name):
    fallback = _inplace(name + "_", lambda self: pointwise.unary(name, self))

    def method(self):
        if _needs_graph(self, (), {}):
            return fallback(self)
        with autograd.no_grad():
            pointwise.unary(name, self, out=self)
        return self

    method.__name__ = name + "_"
    return method


def _allclose(a, b, rtol, atol):
    diff = (a - b).abs()
    limit = atol + rtol * (b if isinstance(b, Tensor) else creation.tensor(b)).abs()
    return bool(reduction.all(diff <= limit).item())


def _fast_fill(self, value):
    if _needs_graph(self, (), {}):
        return _inplace("fill_", _INPLACE["fill_"])(self, value)
    return creation.fill_(self, value)


def _fast_zero(self):
    return _fast_fill(self, 0)


def _fast_copy(self, src, non_blocking=False):
    if _needs_graph(self, (src,), {}):
        return _inplace("copy_", _INPLACE["copy_"])(self, src)
    copy_into(self, src)
    return self


def _random_method(fn):
    def method(self, *args, **kwargs):
        if self.requires_grad and self.is_leaf and autograd.is_grad_enabled():
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        return fn(self, *args, **kwargs)

    return method


def install() -> None:
    """Attach every method; run once, by engine.ops at import."""
    for name, fn in _METHODS.items():
        setattr(Tensor, name, fn)
    for name in pointwise.UNARY:
        setattr(Tensor, name, _unary_method(name))
        setattr(Tensor, name + "_", _unary_inplace(name))
    for name, fn in _INPLACE.items():
        setattr(Tensor, name, _inplace(name, fn))
    for name, fn in _DIRECT.items():
        setattr(Tensor, name, _direct(name, fn))
    Tensor.fill_ = _fast_fill
    Tensor.zero_ = _fast_zero
    Tensor.copy_ = _fast_copy
    Tensor.uniform_ = _random_method(creation.uniform_)
    Tensor.normal_ = _random_method(creation.normal_)
    Tensor.bernoulli_ = _random_method(creation.bernoulli_)
    Tensor.__iadd__ = Tensor.add_
    Tensor.__isub__ = Tensor.sub_
    Tensor.__imul__ = Tensor.mul_
    Tensor.__itruediv__ = Tensor.div_
    Tensor.T = property(lambda self: movement.permute(self, list(range(self.ndim))[::-1]))
    Tensor.mT = property(lambda self: movement.transpose(self, -2, -1))
    Tensor.H = Tensor.T
