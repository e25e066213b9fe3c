"""Elementwise ops with PyTorch broadcasting and type promotion, each beside its backward.

Forwards and derivatives are formulas (engine/ops/expr.py): Python functions of their
operands, written once. A unary op is one table row, its forward `f(x)` beside its
derivative `f(grad, input, output)`; binary and ternary ops follow as small functions.
`derivative` evaluates a rule: as one fused kernel in a plain backward pass, or with
differentiable tensor ops under create_graph=True, so that gradients of gradients exist.
"""

from __future__ import annotations

import math

from .. import autograd
from ..autograd import sum_to
from ..backend.kernel import convert
from ..dtypes import bool_, category_of_scalar, float32, int32, promote
from ..tensor import Tensor
from . import expr as ex
from .launch import elementwise


def _category(x) -> int:
    return x.dtype.category if isinstance(x, Tensor) else category_of_scalar(x)


def _needs(x) -> bool:
    return isinstance(x, Tensor) and x.requires_grad


def _check_operand(name, x):
    if not isinstance(x, (Tensor, bool, int, float)):
        raise TypeError(f"{name}(): expected a Tensor or a number, got {type(x).__name__}")


def map_(expr, operands, compute, out_dtype, out=None):
    """Dispatch `expr` with every operand converted to the dtype `compute`."""
    return elementwise(expr, operands, [compute.wgsl] * len(operands), out_dtype, out=out)


def _kinds(operands) -> tuple:
    return tuple(
        ["bool" if isinstance(x, Tensor) and x.dtype is bool_ else "value" for x in operands]
    )


def formula_map(formula, operands, compute, out_dtype, out=None, *, raw_bools=False):
    """Dispatch the formula `formula(*operands)` (see expr), computed in dtype `compute`.

    A bool tensor operand is a condition in the formula, unless `raw_bools`: then it is its
    stored 0/1 (u32), for arithmetic and comparisons on bool tensors. The formula's value
    has out_dtype's WGSL type (a bool-valued formula ends in `ex.bits`)."""
    kinds = ("value",) * len(operands) if raw_bools else _kinds(operands)
    text, used, _ = ex.wgsl(formula, kinds, compute.wgsl)
    if out is not None:
        text, out_dtype = convert(text, out_dtype.wgsl, out.dtype.wgsl), out.dtype
    return map_(text, [operands[k] for k in used], compute, out_dtype, out=out)


def derivative(rule, *operands):
    """The derivative formula `rule` (see expr) at `operands`: the one source of a backward.

    Under create_graph (gradients recorded and an operand requires one) it is evaluated
    with differentiable tensor ops, so that the gradient has a graph; otherwise as one
    fused float32 kernel (or no kernel at all when it returns an operand unchanged).
    """
    if autograd.is_grad_enabled() and any(_needs(x) for x in operands):
        return rule(*operands)
    text, used, same = ex.wgsl(rule, _kinds(operands))
    if same is not None and isinstance(operands[same], Tensor):
        if operands[same].dtype is float32:
            return operands[same]
    return map_(text, [operands[k] for k in used], float32, float32)


# ---- unary -------------------------------------------------------------------------

LN2 = math.log(2.0)
LN10 = math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _zero_grad(g, x, out):
    """The derivative of a step function, as PyTorch gives it: zero everywhere (even
    where the incoming gradient is inf or NaN)."""
    return ex.where(g == g, 0.0, 0.0)


def _silu_grad(g, x, out):
    s = ex.sigmoid(x)
    return g * s * (1.0 + x * (1.0 - s))


# name: (forward f(x), derivative f(grad, input, output), float only)
UNARY = {
    "neg": (lambda x: -x, lambda g, x, out: -g, False),
    "abs": (lambda x: ex.abs_(x), lambda g, x, out: g * ex.sign(x), False),
    "exp": (lambda x: ex.exp(x), lambda g, x, out: g * out, True),
    "exp2": (lambda x: ex.exp2(x), lambda g, x, out: g * out * LN2, True),
    "expm1": (lambda x: ex.expm1(x), lambda g, x, out: g * (out + 1.0), True),
    "log": (lambda x: ex.log(x), lambda g, x, out: g / x, True),
    "log2": (lambda x: ex.log2(x), lambda g, x, out: g / (x * LN2), True),
    "log10": (lambda x: ex.log10(x), lambda g, x, out: g / (x * LN10), True),
    "log1p": (lambda x: ex.log1p(x), lambda g, x, out: g / (1.0 + x), True),
    "sqrt": (lambda x: ex.sqrt(x), lambda g, x, out: g * 0.5 / out, True),
    "rsqrt": (lambda x: ex.rsqrt(x), lambda g, x, out: -0.5 * g * out * out * out, True),
    "reciprocal": (lambda x: 1.0 / x, lambda g, x, out: -g * out * out, True),
    "square": (lambda x: x * x, lambda g, x, out: 2.0 * g * x, False),
    "sin": (lambda x: ex.sin(x), lambda g, x, out: g * ex.cos(x), True),
    "cos": (lambda x: ex.cos(x), lambda g, x, out: -g * ex.sin(x), True),
    "tanh": (lambda x: ex.tanh(x), lambda g, x, out: g * (1.0 - out * out), True),
    "sigmoid": (lambda x: ex.sigmoid(x), lambda g, x, out: g * out * (1.0 - out), True),
    "relu": (lambda x: ex.maximum(x, 0), lambda g, x, out: ex.where(out > 0.0, g, 0.0), False),
    "silu": (lambda x: x * ex.sigmoid(x), _silu_grad, True),
    "erf": (lambda x: ex.erf(x), lambda g, x, out: g * TWO_OVER_SQRT_PI * ex.exp(-x * x), True),
    "sign": (lambda x: ex.sign(x), _zero_grad, False),
    "floor": (lambda x: ex.floor(x), _zero_grad, False),
    "ceil": (lambda x: ex.ceil(x), _zero_grad, False),
    "round": (lambda x: ex.round_(x), _zero_grad, False),
    "trunc": (lambda x: ex.trunc(x), _zero_grad, False),
    "frac": (lambda x: x - ex.trunc(x), lambda g, x, out: g, True),
}
_INT_IDENTITY = ("floor", "ceil", "round", "trunc")


def unary(name: str, x: Tensor, out: Tensor | None = None) -> Tensor:
    """Apply the UNARY op `name` to `x` (into `out` when given) and record its backward."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    forward, rule, float_only = UNARY[name]
    if x.dtype is bool_ and name in ("neg", "sign"):
        raise RuntimeError(f"{name}(): not supported for bool tensors")
    compute = float32 if float_only or x.dtype is bool_ else x.dtype
    if not float_only and x.dtype is int32 and name in _INT_IDENTITY:
        forward = _identity
    result = formula_map(forward, [x], compute, compute, out=out)
    if rule is not None:
        autograd.record(
            result, name.capitalize() + "Backward0", (x,), lambda g, o: (derivative(rule, g, x, o),)
        )
    return result


def _identity(x):
    return x


def _make_unary(name):
    def op(input, *, out=None):
        return unary(name, input, out=out)

    op.__name__ = name
    text = ex.wgsl(UNARY[name][0], ("value",))[0]
    op.__doc__ = f"Elementwise {name}: `{text}` with x0 = input."
    return op


for _name in UNARY:
    globals()[_name] = _make_unary(_name)

SQRT1_2 = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _gelu(x):
    return 0.5 * x * (1.0 + ex.erf(x * SQRT1_2))


def _gelu_grad(g, x):
    return g * (0.5 * (1.0 + ex.erf(x * SQRT1_2)) + x * INV_SQRT_2PI * ex.exp(-0.5 * x * x))


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + ex.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))


def _gelu_tanh_grad(g, x):
    t = ex.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
    inner_grad = SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * x * x)
    return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * inner_grad)


_GELU = {"none": (_gelu, _gelu_grad), "tanh": (_gelu_tanh, _gelu_tanh_grad)}


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """GELU: x * Phi(x) (approximate='tanh': the tanh formula)."""
    if approximate not in _GELU:
        raise ValueError(f"gelu(): approximate must be 'none' or 'tanh', got {approximate!r}")
    forward, rule = _GELU[approximate]
    out = formula_map(forward, [input], float32, float32)
    return autograd.record(
        out, "GeluBackward0", (input,), lambda g, o: (derivative(rule, g, input),)
    )


def _leaky_relu(x, slope):
    return ex.where(x > 0.0, x, x * slope)


def _leaky_relu_grad(g, x, slope):
    return ex.where(x > 0.0, g, g * slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    out = formula_map(_leaky_relu, [input, negative_slope], float32, float32)
    return autograd.record(
        out,
        "LeakyReluBackward0",
        (input,),
        lambda g, o: (derivative(_leaky_relu_grad, g, input, negative_slope),),
    )


def clamp(input: Tensor, min=None, max=None) -> Tensor:
    """Limit every element to [min, max] (either bound may be None or a tensor)."""
    if min is None and max is None:
        raise RuntimeError("clamp(): At least one of 'min' or 'max' must not be None")
    out = input
    if min is not None:
        out = _clamp_to(out, min, "max")
    if max is not None:
        out = _clamp_to(out, max, "min")
    return out


clip = clamp

# fn: (forward, d/d input, d/d bound) of clamping to one bound (max: from below). At a
# tie the input gets the gradient, as in PyTorch's clamp.
_CLAMP = {
    "max": (
        lambda x, b: ex.maximum(x, b),
        lambda g, x, b: ex.where(x >= b, g, 0.0),
        lambda g, x, b: ex.where(x < b, g, 0.0),
    ),
    "min": (
        lambda x, b: ex.minimum(x, b),
        lambda g, x, b: ex.where(x <= b, g, 0.0),
        lambda g, x, b: ex.where(x > b, g, 0.0),
    ),
}


def _clamp_to(x: Tensor, bound, fn: str) -> Tensor:
    """x clamped to one bound, a number or a tensor (broadcast)."""
    dt = _binary_dtype("clamp", x, bound)
    forward, rule, bound_rule = _CLAMP[fn]
    out = formula_map(forward, [x, bound], dt, dt)

    def grad_fn(g, o):
        return (
            sum_to(derivative(rule, g, x, bound), x.shape) if _needs(x) else None,
            sum_to(derivative(bound_rule, g, x, bound), bound.shape) if _needs(bound) else None,
        )

    return autograd.record(out, "ClampBackward1", (x, bound), grad_fn)


# exponents with a cheaper forward than pow_
_POW_SPECIAL = {
    1: lambda x, e: x,
    2: lambda x, e: x * x,
    3: lambda x, e: x * x * x,
    0.5: lambda x, e: ex.sqrt(x),
    -1: lambda x, e: 1.0 / x,
}


def _pow(x, e):
    return ex.pow_(x, e)


def _int_pow(x, e):
    return ex.i32(ex.round_(ex.pow_(ex.f32(x), ex.f32(e))))


def _pow_grad(g, x, e):  # d x^e / d x, 0 where e == 0 (as PyTorch: x^0 is 1 even at x = 0)
    return ex.where(e == 0.0, g * 0.0, g * e * ex.pow_(x, e - 1.0))


def _pow_exponent_grad(g, x, e, out):  # d x^e / d e, 0 at x == 0 (0^e is 0 or 1 there)
    return ex.where((x == 0.0) & (e >= 0.0), 0.0, g * out * ex.log(x))


def _rpow_grad(g, out, base):  # d base^e / d e
    return g * out * ex.log(base)


def pow(input, exponent) -> Tensor:
    """input ** exponent elementwise (either may be a number)."""
    if not isinstance(input, Tensor):
        return _rpow(input, exponent)
    if not isinstance(exponent, Tensor):
        forward = _POW_SPECIAL.get(exponent, _pow)
        if input.dtype is not float32 and isinstance(exponent, int) and exponent >= 0:
            forward = _POW_SPECIAL.get(exponent, _int_pow)
            return formula_map(forward, [input, exponent], int32, int32)
        out = formula_map(forward, [input, exponent], float32, float32)
        e = float(exponent)
        return autograd.record(
            out, "PowBackward0", (input,), lambda g, o: (derivative(_pow_grad, g, input, e),)
        )
    out = formula_map(_pow, [input, exponent], float32, float32)

    def grad_fn(g, o):
        ga = (
            sum_to(derivative(_pow_grad, g, input, exponent), input.shape)
            if _needs(input)
            else None
        )
        gb = (
            sum_to(derivative(_pow_exponent_grad, g, input, exponent, o), exponent.shape)
            if _needs(exponent)
            else None
        )
        return ga, gb

    return autograd.record(out, "PowBackward1", (input, exponent), grad_fn)


def _rpow(base, exponent: Tensor) -> Tensor:
    out = formula_map(_pow, [base, exponent], float32, float32)
    base = float(base)
    return autograd.record(
        out, "PowBackward2", (exponent,), lambda g, o: (derivative(_rpow_grad, g, o, base),)
    )


# ---- binary ------------------------------------------------------------------------


def _binary_dtype(name, a, b):
    _check_operand(name, a)
    _check_operand(name, b)
    return promote(_category(a), _category(b))


def _result(name, formula, operands, compute, out=None):
    """formula(*operands) in dtype `compute` (bool tensors as their 0/1), into `out` if given."""
    if out is not None and compute.category > out.dtype.category:
        raise RuntimeError(
            f"{name}: result type {compute.name} can't be cast to the desired output type "
            f"{out.dtype.name}"
        )
    return formula_map(formula, operands, compute, compute, out=out, raw_bools=True)


# the arithmetic of the binary ops (bool tensors: on their 0/1, as PyTorch's | and &)
_ARITHMETIC = {
    "plus": lambda a, b: a + b,
    "plus_scaled": lambda a, b, alpha: a + b * alpha,
    "minus": lambda a, b: a - b,
    "minus_scaled": lambda a, b, alpha: a - b * alpha,
    "times": lambda a, b: a * b,
    "over": lambda a, b: a / b,
    "truncated": lambda a, b: ex.trunc(a / b),
    "either": lambda a, b: a | b,
    "both": lambda a, b: a & b,
}


def add(input, other, *, alpha=1, out=None) -> Tensor:
    """input + alpha * other, broadcast."""
    dt = _binary_dtype("add", input, other)
    if dt is bool_:
        result = _result("add", _ARITHMETIC["either"], [input, other], dt, out)
    elif alpha == 1:
        result = _result("add", _ARITHMETIC["plus"], [input, other], dt, out)
    else:
        result = _result("add", _ARITHMETIC["plus_scaled"], [input, other, alpha], dt, out)

    def grad_fn(g, o):
        return (
            sum_to(g, input.shape) if _needs(input) else None,
            sum_to(g if alpha == 1 else g * alpha, other.shape) if _needs(other) else None,
        )

    return autograd.record(result, "AddBackward0", (input, other), grad_fn)


def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """input - alpha * other, broadcast."""
    dt = _binary_dtype("sub", input, other)
    if dt is bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported")
    if alpha == 1:
        result = _result("sub", _ARITHMETIC["minus"], [input, other], dt, out)
    else:
        result = _result("sub", _ARITHMETIC["minus_scaled"], [input, other, alpha], dt, out)

    def grad_fn(g, o):
        return (
            sum_to(g, input.shape) if _needs(input) else None,
            sum_to(g * -alpha, other.shape) if _needs(other) else None,
        )

    return autograd.record(result, "SubBackward0", (input, other), grad_fn)


def mul(input, other, *, out=None) -> Tensor:
    dt = _binary_dtype("mul", input, other)
    formula = _ARITHMETIC["both" if dt is bool_ else "times"]
    result = _result("mul", formula, [input, other], dt, out)

    def grad_fn(g, o):
        return (
            sum_to(g * other, input.shape) if _needs(input) else None,
            sum_to(g * input, other.shape) if _needs(other) else None,
        )

    return autograd.record(result, "MulBackward0", (input, other), grad_fn)


def div(input, other, *, rounding_mode=None, out=None) -> Tensor:
    """input / other: true division (float) unless rounding_mode is 'trunc' or 'floor'."""
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        dt = _binary_dtype("div", input, other)
        formula = _ARITHMETIC["truncated" if dt is float32 else "over"]
        return _result("div", formula, [input, other], dt, out)
    if rounding_mode is not None:
        raise ValueError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
            f"but found '{rounding_mode}'"
        )
    _binary_dtype("div", input, other)
    result = _result("div", _ARITHMETIC["over"], [input, other], float32, out)

    def grad_fn(g, o):
        ga = sum_to(derivative(_div_grad, g, other), input.shape) if _needs(input) else None
        gb = (
            sum_to(derivative(_div_divisor_grad, g, other, o), other.shape)
            if _needs(other)
            else None
        )
        return ga, gb

    return autograd.record(result, "DivBackward0", (input, other), grad_fn)


def _div_grad(g, b):
    return g / b


def _div_divisor_grad(g, b, out):  # d (a / b) / d b = -a / b^2
    return -g * out / b


true_divide = divide = div
multiply = mul
subtract = sub


def _int_floor_divide(a, b):  # integer division rounds toward zero: one less when signs differ
    return ex.where((a % b != 0) & ((a < 0) != (b < 0)), a / b - 1, a / b)


def _int_remainder(a, b):  # the sign of b, as Python's %
    return ex.where((a % b != 0) & ((a % b < 0) != (b < 0)), a % b + b, a % b)


def _int_fmod(a, b):  # the sign of a, as C's %
    return a % b


def floor_divide(input, other) -> Tensor:
    dt = _binary_dtype("floor_divide", input, other)
    if dt is float32:
        return formula_map(lambda a, b: ex.floor(a / b), [input, other], dt, dt)
    return formula_map(_int_floor_divide, [input, other], int32, int32, raw_bools=True)


def _modulus(name, input, other) -> Tensor:
    """input - rounding(input / other) * other for float operands, with its backward."""
    forward, rule = _MODULUS[name]
    out = formula_map(forward, [input, other], float32, float32)

    def grad_fn(g, o):
        return (
            sum_to(g, input.shape) if _needs(input) else None,
            sum_to(derivative(rule, g, input, other), other.shape) if _needs(other) else None,
        )

    return autograd.record(out, name.capitalize() + "Backward0", (input, other), grad_fn)


# name: (forward, d/d other), the rounding being piecewise constant
_MODULUS = {
    "remainder": (lambda a, b: a - ex.floor(a / b) * b, lambda g, a, b: -g * ex.floor(a / b)),
    "fmod": (lambda a, b: a - ex.trunc(a / b) * b, lambda g, a, b: -g * ex.trunc(a / b)),
}


def remainder(input, other) -> Tensor:
    """Python-style modulus: the result has the sign of `other`."""
    dt = _binary_dtype("remainder", input, other)
    if dt is float32:
        return _modulus("remainder", input, other)
    return formula_map(_int_remainder, [input, other], int32, int32, raw_bools=True)


def fmod(input, other) -> Tensor:
    """C-style modulus: the result has the sign of `input`."""
    dt = _binary_dtype("fmod", input, other)
    if dt is float32:
        return _modulus("fmod", input, other)
    return formula_map(_int_fmod, [input, other], dt, dt, raw_bools=True)


def _extremum(name, input, other):
    dt = _binary_dtype(name, input, other)
    forward, rule = _EXTREMA[name]
    out = formula_map(forward, [input, other], dt, dt)

    def grad_fn(g, o):
        return (
            sum_to(derivative(rule, g, input, other), input.shape) if _needs(input) else None,
            sum_to(derivative(rule, g, other, input), other.shape) if _needs(other) else None,
        )

    return autograd.record(out, name.capitalize() + "Backward0", (input, other), grad_fn)


# name: (forward, d/da of f(a, b)): ties share the gradient equally, as in PyTorch
_EXTREMA = {
    "maximum": (
        lambda a, b: ex.maximum(a, b),
        lambda g, a, b: ex.where(a > b, g, ex.where(a == b, 0.5 * g, 0.0)),
    ),
    "minimum": (
        lambda a, b: ex.minimum(a, b),
        lambda g, a, b: ex.where(a < b, g, ex.where(a == b, 0.5 * g, 0.0)),
    ),
}


def maximum(input, other) -> Tensor:
    return _extremum("maximum", input, other)


def minimum(input, other) -> Tensor:
    return _extremum("minimum", input, other)


_COMPARISONS = {
    "eq": lambda a, b: ex.bits(a == b),
    "ne": lambda a, b: ex.bits(a != b),
    "lt": lambda a, b: ex.bits(a < b),
    "le": lambda a, b: ex.bits(a <= b),
    "gt": lambda a, b: ex.bits(a > b),
    "ge": lambda a, b: ex.bits(a >= b),
}


# Float comparisons say outright what NaN gives (true for ne, false for the others):
# WGSL lets a compiler assume that no operand is NaN, and lavapipe's does.
_FLOAT_COMPARISONS = {
    "eq": lambda a, b: ex.bits((a == b) & ex.not_(ex.isnan(a) | ex.isnan(b))),
    "ne": lambda a, b: ex.bits((a != b) | ex.isnan(a) | ex.isnan(b)),
    "lt": lambda a, b: ex.bits((a < b) & ex.not_(ex.isnan(a) | ex.isnan(b))),
    "le": lambda a, b: ex.bits((a <= b) & ex.not_(ex.isnan(a) | ex.isnan(b))),
    "gt": lambda a, b: ex.bits((a > b) & ex.not_(ex.isnan(a) | ex.isnan(b))),
    "ge": lambda a, b: ex.bits((a >= b) & ex.not_(ex.isnan(a) | ex.isnan(b))),
}


def _compare(name, input, other):
    dt = _binary_dtype(name, input, other)
    formulas = _FLOAT_COMPARISONS if dt is float32 else _COMPARISONS
    return formula_map(formulas[name], [input, other], dt, bool_, raw_bools=True)


def eq(input, other):
    return _compare("eq", input, other)


def ne(input, other):
    return _compare("ne", input, other)


def lt(input, other):
    return _compare("lt", input, other)


def le(input, other):
    return _compare("le", input, other)


def gt(input, other):
    return _compare("gt", input, other)


def ge(input, other):
    return _compare("ge", input, other)


less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne


FLOAT_MAX = 3.4028234663852886e38


def _float_test(formula, input):
    return formula_map(formula, [input], float32, bool_)


def isnan(input):
    return _float_test(lambda x: ex.bits(ex.isnan(x)), input)


def isinf(input):
    return _float_test(lambda x: ex.bits(ex.abs_(x) > FLOAT_MAX), input)


def isfinite(input):
    return _float_test(lambda x: ex.bits((ex.abs_(x) <= FLOAT_MAX) & ex.not_(ex.isnan(x))), input)


# logical ops see their operands as conditions (nonzero is true)
_LOGICAL = {
    "not": lambda a: ex.bits(ex.not_(a)),
    "and": lambda a, b: ex.bits(a & b),
    "or": lambda a, b: ex.bits(a | b),
    "xor": lambda a, b: ex.bits(a != b),
}


def logical_not(input):
    return formula_map(_LOGICAL["not"], [_as_bool(input)], bool_, bool_)


def logical_and(input, other):
    return formula_map(_LOGICAL["and"], [_as_bool(input), _as_bool(other)], bool_, bool_)


def logical_or(input, other):
    return formula_map(_LOGICAL["or"], [_as_bool(input), _as_bool(other)], bool_, bool_)


def logical_xor(input, other):
    return formula_map(_LOGICAL["xor"], [_as_bool(input), _as_bool(other)], bool_, bool_)


def _as_bool(x):
    """x as a bool tensor (nonzero is true), so that a formula sees it as a condition."""
    return x if not isinstance(x, Tensor) or x.dtype is bool_ else ne(x, 0)


# bitwise ops on the stored integers (bool tensors: their 0/1)
_BITWISE = {
    "bitwise_and": lambda a, b: a & b,
    "bitwise_or": lambda a, b: a | b,
    "bitwise_xor": lambda a, b: a ^ b,
}


def _bitwise(name, input, other):
    dt = _binary_dtype(name, input, other)
    if dt is float32:
        raise RuntimeError(f"{name} is only supported for integer and bool tensors")
    return formula_map(_BITWISE[name], [input, other], dt, dt, raw_bools=True)


def bitwise_and(input, other):
    return _bitwise("bitwise_and", input, other)


def bitwise_or(input, other):
    return _bitwise("bitwise_or", input, other)


def bitwise_xor(input, other):
    return _bitwise("bitwise_xor", input, other)


def _complement(x):
    return ~x


def bitwise_not(input):
    if input.dtype is bool_:
        return logical_not(input)
    if input.dtype is float32:
        raise RuntimeError("bitwise_not is only supported for integer and bool tensors")
    return formula_map(_complement, [input], int32, int32)


# ---- ternary -----------------------------------------------------------------------


def _select(condition, a, b):
    return ex.where(condition, a, b)


def _select_bits(condition, a, b):  # bool a and b are conditions too
    return ex.bits(ex.where(condition, a, b))


def where(condition, input=None, other=None) -> Tensor:
    """Elementwise `input if condition else other`, all three broadcast."""
    if input is None and other is None:
        from .indexing import nonzero  # a real cycle: indexing is built on pointwise

        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor) or condition.dtype is not bool_:
        raise RuntimeError("where expected condition to be a boolean tensor")
    dt = _binary_dtype("where", input, other)
    out = formula_map(
        _select if dt is not bool_ else _select_bits, [condition, input, other], dt, dt
    )

    def grad_fn(g, o):
        return (
            None,
            sum_to(derivative(_where_true_grad, g, condition), input.shape)
            if _needs(input)
            else None,
            sum_to(derivative(_where_false_grad, g, condition), other.shape)
            if _needs(other)
            else None,
        )

    return autograd.record(out, "WhereBackward0", (condition, input, other), grad_fn)


def _where_true_grad(g, condition):
    return ex.where(condition, g, 0.0)


def _where_false_grad(g, condition):
    return ex.where(condition, 0.0, g)


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """`value` where `mask` is True, else `input` (mask broadcasts to input)."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError("masked_fill only supports a 0-dimensional value tensor")
        value = value.item()
    if mask.dtype is not bool_:
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype}"
        )
    out = where(mask, _scalar_as(value, input.dtype), input)
    if tuple(out.shape) != tuple(input.shape):
        raise RuntimeError(
            f"masked_fill: mask of shape {tuple(mask.shape)} does not broadcast "
            f"to input of shape {tuple(input.shape)}"
        )
    return out


def _scalar_as(value, dt):
    return float(value) if dt is float32 else (int(value) if dt is int32 else bool(value))


def _ternary(name, formula, rules, operands, out=None) -> Tensor:
    """An op of three or four operands fused into one kernel; `rules[k]` is (the derivative
    for operand k, the indices of the operands it takes after the incoming gradient)."""
    result = formula_map(formula, operands, float32, float32, out=out)

    def grad_fn(g, o):
        grads = []
        for x, (rule, args) in zip(operands, rules, strict=False):
            if not _needs(x):
                grads.append(None)
            else:
                grads.append(sum_to(derivative(rule, g, *(operands[k] for k in args)), x.shape))
        return tuple(grads)

    return autograd.record(result, name, tuple(operands[: len(rules)]), grad_fn)


def lerp(input, end, weight, *, out=None) -> Tensor:
    """input + weight * (end - input), fused into one kernel."""
    return _ternary("LerpBackward0", _lerp, _LERP_GRADS, [input, end, weight], out)


def _lerp(a, b, w):
    return a + w * (b - a)


_LERP_GRADS = (
    (lambda g, w: g * (1.0 - w), (2,)),
    (lambda g, w: g * w, (2,)),
    (lambda g, a, b: g * (b - a), (0, 1)),
)


def addcmul(input, tensor1, tensor2, *, value=1, out=None) -> Tensor:
    """input + value * tensor1 * tensor2, fused into one kernel."""
    operands = [input, tensor1, tensor2, value]
    return _ternary("AddcmulBackward0", _addcmul, _ADDCMUL_GRADS, operands, out)


def _addcmul(a, t1, t2, v):
    return a + v * t1 * t2


_ADDCMUL_GRADS = (
    (lambda g: g, ()),
    (lambda g, t2, v: g * t2 * v, (2, 3)),
    (lambda g, t1, v: g * t1 * v, (1, 3)),
)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None) -> Tensor:
    """input + value * tensor1 / tensor2, fused into one kernel."""
    operands = [input, tensor1, tensor2, value]
    return _ternary("AddcdivBackward0", _addcdiv, _ADDCDIV_GRADS, operands, out)


def _addcdiv(a, t1, t2, v):
    return a + v * t1 / t2


_ADDCDIV_GRADS = (
    (lambda g: g, ()),
    (lambda g, t2, v: g * v / t2, (2, 3)),
    (lambda g, t1, t2, v: -g * v * t1 / (t2 * t2), (1, 2, 3)),
)


# ---- type conversion and copies ------------------------------------------------------


def to_dtype(x: Tensor, dt) -> Tensor:
    """A copy of `x` converted to `dt` (the same tensor if it already has it)."""
    if x.dtype is dt:
        return x
    # only float32 tensors carry gradients, and this changes the dtype: nothing to record
    return elementwise(convert("x0", x.dtype.wgsl, dt.wgsl), [x], [x.dtype.wgsl], dt)


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A contiguous copy with its own storage; gradients flow back to `input`."""
    out = elementwise("x0", [input], [input.dtype.wgsl], input.dtype)
    return autograd.record(out, "CloneBackward0", (input,), lambda g, o: (g,))


def copy_into(dst: Tensor, src) -> Tensor:
    """Write `src` (broadcast, converted) into the view `dst`, without autograd."""
    src_t = src.dtype.wgsl if isinstance(src, Tensor) else dst.dtype.wgsl
    expr = convert("x0", src_t, dst.dtype.wgsl)
    return elementwise(expr, [src], [src_t], dst.dtype, shape=dst._shape, out=dst)
