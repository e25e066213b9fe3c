"""Tensor: a view (shape, strides, offset, dtype) of a storage buffer on the GPU.

Views (reshape, permute, transpose, expand, slicing) share their storage and never
copy. The op methods (`t.exp()`, `t + u`, `t.sum()`...) are the functions of
`engine.ops`, installed on the class by `engine/ops/methods.py`.
"""

from __future__ import annotations

import array
import math
import sys

from . import autograd
from .backend import get_device
from .dtypes import bool_, dtype, float32, int32, to_dtype


class Size(tuple):
    """A tensor shape: a tuple of ints (torch.Size)."""

    def numel(self) -> int:
        return math.prod(self)

    def __repr__(self):
        return f"engine.Size({list(self)})"


class device:
    """The place tensors live: always the WebGPU adapter of this process.

    'cpu', 'cuda', 'gpu', 'mps' and 'webgpu' are all accepted so that scripts written
    with `.to(device)` run unchanged; every one of them means the WebGPU device.
    """

    NAMES = ("webgpu", "cpu", "cuda", "gpu", "mps")

    def __init__(self, type="webgpu", index=None):
        if isinstance(type, device):
            type = type.type
        name = str(type).split(":")[0]
        if name not in self.NAMES:
            raise RuntimeError(f"Expected one of {', '.join(self.NAMES)} device type, got {type!r}")
        self.type = "webgpu"
        self.index = index

    def __eq__(self, other):
        return isinstance(other, (device, str))

    def __hash__(self):
        return hash("webgpu")

    def __repr__(self):
        return "device(type='webgpu')"

    def __str__(self):
        return "webgpu"


class Storage:
    """A GPU buffer owned by one or more tensors; returned to the pool when collected."""

    __slots__ = ("buffer", "device", "__weakref__")

    def __init__(self, buffer, dev):
        self.buffer = buffer
        self.device = dev

    def __del__(self):
        try:
            self.device.free(self.buffer)
        except Exception:  # interpreter shutdown: the pool may already be gone
            pass


def contiguous_strides(shape) -> tuple:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


class Tensor:
    """An n-dimensional array on the GPU with optional gradient tracking."""

    __slots__ = (
        "_storage",
        "_shape",
        "_strides",
        "_offset",
        "dtype",
        "requires_grad",
        "grad",
        "grad_fn",
        "_retains_grad",
        "__weakref__",
        "__dict__",
    )

    def __init__(self, storage=None, shape=None, strides=None, offset=0, dtype=float32):
        if not isinstance(storage, Storage):
            # torch.Tensor(data) / torch.Tensor(2, 3): a float32 tensor from data or a shape
            from .ops.creation import empty, tensor  # a real cycle: ops are built on Tensor

            args = (0,) if storage is None else (storage,) if shape is None else (storage, shape)
            if all(isinstance(a, int) for a in args):
                made = empty(*args)
            else:
                made = tensor(storage, dtype=float32)
            storage, shape, strides, offset = made._storage, made._shape, made._strides, 0
        self._storage = storage
        self._shape = Size(shape)
        self._strides = contiguous_strides(shape) if strides is None else tuple(strides)
        self._offset = offset
        self.dtype = dtype
        self.requires_grad = False
        self.grad = None
        self.grad_fn = None
        self._retains_grad = False

    # ---- construction ----------------------------------------------------------
    @staticmethod
    def _empty(shape, dtype=float32) -> Tensor:
        """A new contiguous tensor with uninitialized contents."""
        dev = get_device()
        numel = math.prod(shape)
        return Tensor(Storage(dev.alloc(numel * 4), dev), shape, None, 0, dtype)

    @staticmethod
    def _from_bytes(data, shape, dtype) -> Tensor:
        """A new tensor holding `data`: the raw 32-bit elements, little-endian."""
        dev = get_device()
        return Tensor(Storage(dev.upload(data), dev), shape, None, 0, dtype)

    @staticmethod
    def _make_subclass(cls, data: Tensor, require_grad: bool = False) -> Tensor:
        """An instance of `cls` (a Tensor subclass) sharing `data`'s storage."""
        t = object.__new__(cls)
        Tensor.__init__(t, data._storage, data._shape, data._strides, data._offset, data.dtype)
        t.requires_grad = require_grad
        return t

    def _view(self, shape, strides, offset=None) -> Tensor:
        """A tensor sharing this one's storage (no autograd: callers record it)."""
        return Tensor(
            self._storage, shape, strides, self._offset if offset is None else offset, self.dtype
        )

    # ---- metadata --------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return self._shape

    def size(self, dim=None):
        if dim is None:
            return self._shape
        return self._shape[self._wrap_dim(dim)]

    def stride(self, dim=None):
        if dim is None:
            return self._strides
        return self._strides[self._wrap_dim(dim)]

    def storage_offset(self) -> int:
        return self._offset

    def dim(self) -> int:
        return len(self._shape)

    ndimension = dim

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def numel(self) -> int:
        return math.prod(self._shape)

    nelement = numel

    def element_size(self) -> int:
        return 4

    @property
    def device(self) -> device:
        return device()

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_contiguous(self) -> bool:
        expected = 1
        for n, s in zip(reversed(self._shape), reversed(self._strides), strict=True):
            if n != 1 and s != expected:
                return False
            expected *= n
        return True

    def _wrap_dim(self, dim: int, ndim: int | None = None) -> int:
        n = self.ndim if ndim is None else ndim
        bound = max(n, 1)
        if not -bound <= dim < bound:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], "
                f"but got {dim})"
            )
        return dim % bound

    def _owns_data(self) -> bool:
        """True when no other tensor shares this one's storage (safe to adopt as .grad)."""
        return sys.getrefcount(self._storage) <= 2 and self.is_contiguous() and self._offset == 0

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._shape[0]))

    def __hash__(self):
        return id(self)

    # ---- autograd ----------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not self.is_leaf and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if not self.is_leaf:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def detach(self) -> Tensor:
        """The same data without a graph: shares storage, requires no gradient."""
        return self._view(self._shape, self._strides)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        return self.detach()

    @data.setter
    def data(self, other: Tensor) -> None:
        self._storage, self._shape, self._strides = other._storage, other._shape, other._strides
        self._offset, self.dtype = other._offset, other.dtype

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the `.grad` of the leaves."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    # ---- reading back --------------------------------------------------------------
    def _tobytes(self, raw=None) -> bytes:
        """The elements in row-major order, little-endian; bool as one byte each."""
        raw = self._read_raw() if raw is None else raw
        if self.dtype is bool_:
            flags = array.array("I")
            flags.frombytes(raw)
            return bytes(flags.tolist())
        return bytes(raw)

    def _read_raw(self) -> memoryview:
        t = self if self.is_contiguous() else self.contiguous()
        n = t.numel()
        if n == 0:
            return memoryview(b"")
        dev = t._storage.device
        return dev.read(t._storage.buffer, t._offset * 4, n * 4)

    def _flat_values(self, raw=None) -> list:
        values = array.array(self.dtype.typecode)
        values.frombytes(self._read_raw() if raw is None else raw)
        values = values.tolist()
        if self.dtype is bool_:
            return [v != 0 for v in values]
        return values

    def tolist(self):
        """The data as (nested) Python lists of floats, ints or bools."""
        values = self._flat_values()
        if not self._shape:
            return values[0]
        return _nest(values, self._shape)

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self.numel() != 1:
            raise RuntimeError(
                f"a Tensor with {self.numel()} elements cannot be converted to Scalar"
            )
        return self._flat_values()[0]

    # awaitable twins of every readback, for browsers without JSPI (docs/architecture.md,
    # The browser bridge)
    async def _read_raw_async(self) -> memoryview:
        t = self if self.is_contiguous() else self.contiguous()
        n = t.numel()
        if n == 0:
            return memoryview(b"")
        return await t._storage.device.read_async(t._storage.buffer, t._offset * 4, n * 4)

    async def _tobytes_async(self) -> bytes:
        return self._tobytes(await self._read_raw_async())

    async def tolist_async(self):
        """`await t.tolist_async()`: `tolist()` without blocking on the GPU."""
        values = self._flat_values(await self._read_raw_async())
        return _nest(values, self._shape) if self._shape else values[0]

    async def item_async(self):
        """`await t.item_async()`: `item()` without blocking on the GPU."""
        if self.numel() != 1:
            raise RuntimeError(
                f"a Tensor with {self.numel()} elements cannot be converted to Scalar"
            )
        return self._flat_values(await self._read_raw_async())[0]

    def numpy(self, *, force=False):
        """A NumPy array copy of the data (native only; NumPy is optional)."""
        import numpy

        np_dtype = {float32: numpy.float32, int32: numpy.int32, bool_: numpy.uint32}[self.dtype]
        flat = numpy.frombuffer(bytes(self._read_raw()), dtype=np_dtype)
        if self.dtype is bool_:
            flat = flat.astype(bool)
        return flat.reshape(tuple(self._shape)).copy()

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *args, **kwargs) -> Tensor:
        return self

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.numel()} values is ambiguous")
        return bool(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __repr__(self):
        body = _format(self.tolist(), self.dtype) if self.numel() <= 1000 else "..."
        extras = []
        if self.dtype is not float32:
            extras.append(f"dtype={self.dtype!r}")
        if self.numel() == 0 and self.ndim != 1:
            extras.append(f"size={tuple(self._shape)}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        head = "tensor(" + body
        return head + "".join(", " + e for e in extras) + ")"

    def __format__(self, spec):
        if self.ndim == 0:
            return format(self.item(), spec)
        return repr(self)

    def __reduce_ex__(self, protocol):
        return (
            _rebuild,
            (self._tobytes(), tuple(self._shape), self.dtype.name, self.requires_grad),
        )


def _rebuild(data, shape, dtype_name, requires_grad):
    from .ops.creation import frombuffer  # a real cycle: ops are built on Tensor

    t = frombuffer(data, dtype=to_dtype(dtype_name)).reshape(shape)
    return t.requires_grad_(requires_grad) if requires_grad else t


def _nest(values, shape):
    if len(shape) == 1:
        return list(values)
    step = math.prod(shape[1:])
    return [_nest(values[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def _format(data, dt: dtype) -> str:
    if dt is float32:

        def scalar(v):
            if math.isnan(v) or math.isinf(v):
                return {"nan": "nan", "inf": "inf", "-inf": "-inf"}[str(v)]
            return f"{v:.4f}"
    elif dt is bool_:
        scalar = str
    else:
        scalar = str

    def fmt(x, depth):
        if not isinstance(x, list):
            return scalar(x)
        inner = [fmt(v, depth + 1) for v in x]
        sep = "," + "\n" * (1 if x and isinstance(x[0], list) else 0)
        sep = sep + (" " * (depth + 8) if sep.endswith("\n") else " ")
        return "[" + sep.join(inner) + "]"

    return fmt(data, 0)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)
