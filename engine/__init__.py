"""engine: a PyTorch-style tensor and autograd library whose every computation is a
WGSL compute shader run through WebGPU (natively via wgpu-py, in the browser via Pyodide).

    import engine as torch
"""

from __future__ import annotations

from . import autograd
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import get_device as _get_device
from .backend import set_power_preference
from .dtypes import bool_ as bool
from .dtypes import dtype, float32, int32
from .ops import creation as _creation
from .ops import fused as _fused
from .ops import indexing as _indexing
from .ops import loss as _loss
from .ops import matmul as _matmul
from .ops import movement as _movement
from .ops import pointwise as _pointwise
from .ops import rearrange as _rearrange
from .ops import reduction as _reduction
from .ops import scan as _scan
from .ops import sorting as _sorting
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .tensor import Size, Tensor, device, is_tensor

__version__ = "0.1.0"

float = float32
int = int32
int64 = long = int32  # WGSL has no 64-bit integers: stored as 32 bits

# creation
tensor = _creation.tensor
as_tensor = _creation.as_tensor
from_numpy = _creation.from_numpy
frombuffer = _creation.frombuffer
empty = _creation.empty
zeros = _creation.zeros
ones = _creation.ones
full = _creation.full
empty_like = _creation.empty_like
zeros_like = _creation.zeros_like
ones_like = _creation.ones_like
full_like = _creation.full_like
arange = _creation.arange
linspace = _creation.linspace
eye = _creation.eye
rand = _creation.rand
randn = _creation.randn
randint = _creation.randint
rand_like = _creation.rand_like
randn_like = _creation.randn_like
randint_like = _creation.randint_like
randperm = _creation.randperm
bernoulli = _creation.bernoulli

# elementwise
for _name in _pointwise.UNARY:
    globals()[_name] = getattr(_pointwise, _name)
add = _pointwise.add
sub = subtract = _pointwise.sub
mul = multiply = _pointwise.mul
div = divide = true_divide = _pointwise.div
floor_divide = _pointwise.floor_divide
remainder = _pointwise.remainder
fmod = _pointwise.fmod
pow = _pointwise.pow
maximum = _pointwise.maximum
minimum = _pointwise.minimum
clamp = clip = _pointwise.clamp
lerp = _pointwise.lerp
addcmul = _pointwise.addcmul
addcdiv = _pointwise.addcdiv
where = _pointwise.where
masked_fill = _pointwise.masked_fill
eq, ne, lt, le, gt, ge = (
    _pointwise.eq,
    _pointwise.ne,
    _pointwise.lt,
    _pointwise.le,
    _pointwise.gt,
    _pointwise.ge,
)
isnan, isinf, isfinite = _pointwise.isnan, _pointwise.isinf, _pointwise.isfinite
logical_not, logical_and = _pointwise.logical_not, _pointwise.logical_and
logical_or, logical_xor = _pointwise.logical_or, _pointwise.logical_xor
bitwise_and, bitwise_or = _pointwise.bitwise_and, _pointwise.bitwise_or
bitwise_xor, bitwise_not = _pointwise.bitwise_xor, _pointwise.bitwise_not
clone = _pointwise.clone

# reductions
sum = _reduction.sum
mean = _reduction.mean
prod = _reduction.prod
max = _reduction.max
min = _reduction.min
amax = _reduction.amax
amin = _reduction.amin
argmax = _reduction.argmax
argmin = _reduction.argmin
all = _reduction.all
any = _reduction.any
var = _reduction.var
std = _reduction.std
var_mean = _reduction.var_mean
std_mean = _reduction.std_mean
norm = _reduction.norm
logsumexp = _reduction.logsumexp
softmax = _reduction.softmax
log_softmax = _reduction.log_softmax

# movement
reshape = _movement.reshape
flatten = _movement.flatten
unflatten = _movement.unflatten
permute = _movement.permute
transpose = swapaxes = _movement.transpose
t = _movement.t
movedim = _movement.movedim
squeeze = _movement.squeeze
unsqueeze = _movement.unsqueeze
narrow = _movement.narrow
select = _movement.select
unbind = _movement.unbind
split = _movement.split
chunk = _movement.chunk
tensor_split = _movement.tensor_split
cat = concat = concatenate = _movement.cat
stack = _movement.stack
hstack = _movement.hstack
vstack = _movement.vstack
broadcast_to = _movement.broadcast_to

# products
matmul = _matmul.matmul
mm = _matmul.mm
bmm = _matmul.bmm
outer = ger = _matmul.outer
dot = _matmul.dot
einsum = _matmul.einsum

# fused optimizer steps (torch._fused_adam_ / torch._fused_sgd_ counterparts)
_fused_adam_ = _fused.adam_step_
_fused_sgd_ = _fused.sgd_step_
_fusable = _fused.fusable
# fused kernels behind engine.nn.functional's hot paths (like PyTorch's torch._C._nn)
_cross_entropy = _loss.cross_entropy
_linear = _matmul.linear

# indexing
gather = _indexing.gather
scatter_add = _indexing.scatter_add
index_select = _indexing.index_select
nonzero = _indexing.nonzero
masked_select = _indexing.masked_select

# ordering, running reductions, rearranging (sequence code)
argsort = _sorting.argsort
cumprod = _scan.cumprod
cumsum = _scan.cumsum
flip = _rearrange.flip
fliplr = _rearrange.fliplr
flipud = _rearrange.flipud
msort = _sorting.msort
multinomial = _sorting.multinomial
repeat_interleave = _rearrange.repeat_interleave
roll = _rearrange.roll
sort = _sorting.sort
topk = _sorting.topk
tril = _rearrange.tril
triu = _rearrange.triu


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return input.allclose(other, rtol, atol, equal_nan)


def equal(input, other):
    return input.equal(other)


def broadcast_shapes(*shapes):
    from .ops.launch import broadcast_shapes as _broadcast

    return Size(_broadcast(*shapes))


def synchronize() -> None:
    """Submit all pending GPU work (it runs asynchronously; readbacks wait for it)."""
    _get_device().flush()


def device_info() -> dict:
    """Which adapter, backend (Vulkan/Metal/DX12/WebGPU) and limits are in use."""
    return _get_device().info()


def _lazy(name):
    import importlib

    return importlib.import_module(f".{name}", __name__)


def __getattr__(name):
    # subpackages load on first use: `engine.nn`, `engine.optim`, ...
    if name in ("nn", "optim", "utils", "datasets", "serialization", "hub", "distributions"):
        module = _lazy(name)
        globals()[name] = module
        return module
    if name in ("save", "load"):
        return getattr(_lazy("serialization"), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
