"""Elementwise ops with PyTorch broadcasting and type promotion, each beside its backward.

A unary op is one table row: its WGSL expression (`x0` is the input) and the WGSL
expression of its backward (`x0` is the incoming gradient, `x1` the saved input or
output), so a forward and its derivative are read together. Binary and ternary ops
follow as small functions. Every backward is a single fused dispatch.
"""

from __future__ import annotations

from .. import autograd
from ..dtypes import bool_, category_of_scalar, float32, int32, promote
from ..tensor import Tensor
from .launch import convert, elementwise
from .reduction import sum_to

_ZERO = {"f32": "0.0", "i32": "0i", "u32": "0u"}
_ONE = {"f32": "1.0", "i32": "1i", "u32": "1u"}


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


def _backward_map(expr, *operands):
    """One fused float32 kernel for a backward expression.

    A fused kernel is not differentiable itself: under create_graph (gradients of
    gradients) an op needs a composite backward, or it says it has none.
    """
    if autograd.is_grad_enabled() and any(_needs(x) for x in operands):
        raise NotImplementedError(
            f"higher-order gradients (create_graph=True) through the backward `{expr}`"
        )
    return map_(expr, operands, float32, float32)


# ---- unary -------------------------------------------------------------------------
# name: (forward, backward or None if not differentiable, saved for backward, float only)
UNARY = {
    "neg": ("-x0", "-x0", None, False),
    "abs": ("abs(x0)", "x0 * sign(x1)", "input", False),
    "exp": ("m_exp(x0)", "x0 * x1", "output", True),
    "exp2": ("m_exp2(x0)", "x0 * x1 * 0.6931471805599453", "output", True),
    "expm1": ("m_expm1(x0)", "x0 * (x1 + 1.0)", "output", True),
    "log": ("m_log(x0)", "x0 / x1", "input", True),
    "log2": ("m_log2(x0)", "x0 / (x1 * 0.6931471805599453)", "input", True),
    "log10": ("m_log10(x0)", "x0 / (x1 * 2.302585092994046)", "input", True),
    "log1p": ("m_log1p(x0)", "x0 / (1.0 + x1)", "input", True),
    "sqrt": ("sqrt(x0)", "x0 * 0.5 / x1", "output", True),
    "rsqrt": ("inverseSqrt(x0)", "-0.5 * x0 * x1 * x1 * x1", "output", True),
    "reciprocal": ("1.0 / x0", "-x0 * x1 * x1", "output", True),
    "square": ("x0 * x0", "2.0 * x0 * x1", "input", False),
    "sin": ("m_sin(x0)", "x0 * m_cos(x1)", "input", True),
    "cos": ("m_cos(x0)", "-x0 * m_sin(x1)", "input", True),
    "tanh": ("m_tanh(x0)", "x0 * (1.0 - x1 * x1)", "output", True),
    "sigmoid": ("m_sigmoid(x0)", "x0 * x1 * (1.0 - x1)", "output", True),
    "relu": ("max(x0, {zero})", "select(0.0, x0, x1 > 0.0)", "output", False),
    "silu": (
        "x0 * m_sigmoid(x0)",
        "x0 * m_sigmoid(x1) * (1.0 + x1 * (1.0 - m_sigmoid(x1)))",
        "input",
        True,
    ),
    "erf": ("m_erf(x0)", "x0 * 1.1283791670955126 * m_exp(-x1 * x1)", "input", True),
    "sign": ("sign(x0)", None, None, False),
    "floor": ("floor(x0)", None, None, False),
    "ceil": ("ceil(x0)", None, None, False),
    "round": ("round(x0)", None, None, False),
    "trunc": ("trunc(x0)", None, None, False),
    "frac": ("fract(x0)", "x0", None, True),
}
_INT_IDENTITY = ("floor", "ceil", "round", "trunc")

# Backward rules written with differentiable tensor ops, used under create_graph=True so
# that gradients of gradients exist: f(grad, input, output) -> input gradient.
HIGHER_ORDER = {
    "neg": lambda g, x, o: -g,
    "abs": lambda g, x, o: g * x.sign(),
    "exp": lambda g, x, o: g * o,
    "log": lambda g, x, o: g / x,
    "sqrt": lambda g, x, o: g * 0.5 / o,
    "square": lambda g, x, o: g * 2.0 * x,
    "reciprocal": lambda g, x, o: -g * o * o,
    "sin": lambda g, x, o: g * x.cos(),
    "cos": lambda g, x, o: -g * x.sin(),
    "tanh": lambda g, x, o: g * (1.0 - o * o),
    "sigmoid": lambda g, x, o: g * o * (1.0 - o),
    "relu": lambda g, x, o: g * (o > 0).float(),
}


def unary(name: str, x: Tensor, out: Tensor | None = None) -> Tensor:
    """Apply the UNARY op `name` to `x` (into `out` when given) and record its backward."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    forward, backward, saved, float_only = UNARY[name]
    if x.dtype is bool_ and name in ("neg", "sign"):
        raise RuntimeError(f"{name}(): not supported for bool tensors")
    compute = float32 if float_only or x.dtype is bool_ else x.dtype
    if not float_only and x.dtype is int32 and name in _INT_IDENTITY:
        forward = "x0"
    expr = forward.format(zero=_ZERO[compute.wgsl])
    if out is not None:
        expr = convert(expr, compute.wgsl, out.dtype.wgsl)
    result = map_(expr, [x], compute, compute if out is None else out.dtype, out=out)
    if backward is not None:

        def grad_fn(g, output):
            if autograd.is_grad_enabled() and name in HIGHER_ORDER:
                return (HIGHER_ORDER[name](g, x, output),)
            other = x if saved == "input" else output
            return (
                _backward_map(backward, g) if saved is None else _backward_map(backward, g, other),
            )

        autograd.record(result, name.capitalize() + "Backward0", (x,), grad_fn)
    return result


def _make_unary(name):
    def op(input, *, out=None):
        return unary(name, input, out=out)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name}: `{UNARY[name][0].format(zero='0')}` with x0 = input."
    return op


for _name in UNARY:
    globals()[_name] = _make_unary(_name)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """GELU: x * Phi(x) (approximate='tanh': the tanh formula)."""
    if approximate == "none":
        fwd = "0.5 * x0 * (1.0 + m_erf(x0 * 0.7071067811865476))"
        bwd = (
            "x0 * (0.5 * (1.0 + m_erf(x1 * 0.7071067811865476))"
            " + x1 * 0.3989422804014327 * m_exp(-0.5 * x1 * x1))"
        )
    elif approximate == "tanh":
        inner = "0.7978845608028654 * (x{i} + 0.044715 * x{i} * x{i} * x{i})"
        fwd = f"0.5 * x0 * (1.0 + m_tanh({inner.format(i=0)}))"
        t = f"m_tanh({inner.format(i=1)})"
        bwd = (
            f"x0 * (0.5 * (1.0 + {t}) + 0.5 * x1 * (1.0 - {t} * {t})"
            " * 0.7978845608028654 * (1.0 + 0.134145 * x1 * x1))"
        )
    else:
        raise ValueError(f"gelu(): approximate must be 'none' or 'tanh', got {approximate!r}")
    out = map_(fwd, [input], float32, float32)
    return autograd.record(
        out, "GeluBackward0", (input,), lambda g, o: (_backward_map(bwd, g, input),)
    )


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    out = map_("select(x0 * x1, x0, x0 > 0.0)", [input, negative_slope], float32, float32)
    return autograd.record(
        out,
        "LeakyReluBackward0",
        (input,),
        lambda g, o: (_backward_map("select(x0 * x2, x0, x1 > 0.0)", g, input, negative_slope),),
    )


def clamp(input: Tensor, min=None, max=None) -> Tensor:
    """Limit every element to [min, max] (either bound may be None or a tensor)."""
    if min is None and max is None:
        raise RuntimeError("clamp(): At least one of 'min' or 'max' must not be None")
    out = input
    if min is not None:
        out = maximum(out, min) if isinstance(min, Tensor) else _clamp_scalar(out, min, "max")
    if max is not None:
        out = minimum(out, max) if isinstance(max, Tensor) else _clamp_scalar(out, max, "min")
    return out


clip = clamp


def _clamp_scalar(x: Tensor, bound, fn: str) -> Tensor:
    dt = promote(x.dtype.category, category_of_scalar(bound))
    out = map_(f"{fn}(x0, x1)", [x, bound], dt, dt)
    cmp = ">=" if fn == "max" else "<="
    return autograd.record(
        out,
        "ClampBackward1",
        (x,),
        lambda g, o: (_backward_map(f"select(0.0, x0, x1 {cmp} x2)", g, x, bound),),
    )


def pow(input, exponent) -> Tensor:
    """input ** exponent elementwise (either may be a number)."""
    if not isinstance(input, Tensor):
        return _rpow(input, exponent)
    if not isinstance(exponent, Tensor):
        special = {1: "x0", 2: "x0 * x0", 3: "x0 * x0 * x0", 0.5: "sqrt(x0)", -1: "1.0 / x0"}
        if input.dtype is not float32 and isinstance(exponent, int) and exponent >= 0:
            out = map_(
                special.get(exponent, "m_pow(x0, f32(x1))").replace("1.0", "1i"),
                [input, exponent],
                int32,
                int32,
            )
            return out
        out = map_(special.get(exponent, "m_pow(x0, x1)"), [input, exponent], float32, float32)

        def grad_fn(g, o):
            if autograd.is_grad_enabled():  # create_graph: stay differentiable
                return (g * exponent * pow(input, exponent - 1),)
            return (_backward_map("x0 * x2 * m_pow(x1, x2 - 1.0)", g, input, float(exponent)),)

        return autograd.record(out, "PowBackward0", (input,), grad_fn)
    out = map_("m_pow(x0, x1)", [input, exponent], float32, float32)

    def grad_fn(g, o):
        ga = (
            sum_to(_backward_map("x0 * x2 * m_pow(x1, x2 - 1.0)", g, input, exponent), input.shape)
            if _needs(input)
            else None
        )
        gb = (
            sum_to(
                _backward_map(
                    "select(x0 * x1 * m_log(x2), 0.0, x2 == 0.0 && x3 >= 0.0)",
                    g,
                    o,
                    input,
                    exponent,
                ),
                exponent.shape,
            )
            if _needs(exponent)
            else None
        )
        return ga, gb

    return autograd.record(out, "PowBackward1", (input, exponent), grad_fn)


def _rpow(base, exponent: Tensor) -> Tensor:
    out = map_("m_pow(x0, x1)", [base, exponent], float32, float32)
    return autograd.record(
        out,
        "PowBackward2",
        (exponent,),
        lambda g, o: (_backward_map("x0 * x1 * m_log(x2)", g, o, float(base)),),
    )


# ---- binary ------------------------------------------------------------------------


def _binary_dtype(name, a, b):
    _check_operand(name, a)
    _check_operand(name, b)
    return promote(_category(a), _category(b))


def _result(name, expr, a, b, compute, out_dtype, out=None):
    if out is not None:
        if compute.category > out.dtype.category and not name.startswith(
            ("eq", "ne", "lt", "le", "gt", "ge")
        ):
            raise RuntimeError(
                f"{name}: result type {compute.name} can't be cast to the desired output type "
                f"{out.dtype.name}"
            )
        expr = convert(expr, out_dtype.wgsl, out.dtype.wgsl)
        return map_(expr, [a, b], compute, out.dtype, out=out)
    return map_(expr, [a, b], compute, out_dtype)


def add(input, other, *, alpha=1, out=None) -> Tensor:
    """input + alpha * other, broadcast."""
    dt = _binary_dtype("add", input, other)
    if dt is bool_:
        dt = bool_
        expr = "x0 | x1"
    else:
        expr = "x0 + x1" if alpha == 1 else f"x0 + x1 * {dt.wgsl}({alpha})"
    result = _result("add", expr, input, other, dt, dt, out)

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
    expr = "x0 - x1" if alpha == 1 else f"x0 - x1 * {dt.wgsl}({alpha})"
    result = _result("sub", expr, input, other, dt, dt, out)

    def grad_fn(g, o):
        return (
            sum_to(g, input.shape) if _needs(input) else None,
            sum_to(g * -alpha, other.shape) if _needs(other) else None,
        )

    return autograd.record(result, "SubBackward0", (input, other), grad_fn)


def rsub(input, other, alpha=1) -> Tensor:
    return sub(other, input, alpha=alpha)


def mul(input, other, *, out=None) -> Tensor:
    dt = _binary_dtype("mul", input, other)
    result = _result("mul", "x0 & x1" if dt is bool_ else "x0 * x1", input, other, dt, dt, out)

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
        if dt is float32:
            return _result("div", "trunc(x0 / x1)", input, other, dt, dt, out)
        return _result("div", "x0 / x1", input, other, dt, dt, out)
    if rounding_mode is not None:
        raise ValueError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
            f"but found '{rounding_mode}'"
        )
    _binary_dtype("div", input, other)
    result = _result("div", "x0 / x1", input, other, float32, float32, out)

    def grad_fn(g, o):
        ga = sum_to(g / other, input.shape) if _needs(input) else None
        gb = (
            sum_to(_backward_map("-x0 * x1 / x2", g, o, other), other.shape)
            if _needs(other)
            else None
        )
        return ga, gb

    return autograd.record(result, "DivBackward0", (input, other), grad_fn)


true_divide = divide = div
multiply = mul
subtract = sub


def floor_divide(input, other) -> Tensor:
    dt = _binary_dtype("floor_divide", input, other)
    if dt is float32:
        return map_("floor(x0 / x1)", [input, other], dt, dt)
    expr = "select(x0 / x1, x0 / x1 - 1i, (x0 % x1 != 0i) && ((x0 < 0i) != (x1 < 0i)))"
    return map_(expr, [input, other], int32, int32)


def remainder(input, other) -> Tensor:
    """Python-style modulus: the result has the sign of `other`."""
    dt = _binary_dtype("remainder", input, other)
    if dt is float32:
        out = map_("x0 - floor(x0 / x1) * x1", [input, other], dt, dt)
        return autograd.record(
            out,
            "RemainderBackward0",
            (input,),
            lambda g, o: (sum_to(g, input.shape),) if isinstance(input, Tensor) else (None,),
        )
    expr = "select(x0 % x1, x0 % x1 + x1, (x0 % x1 != 0i) && ((x0 % x1 < 0i) != (x1 < 0i)))"
    return map_(expr, [input, other], int32, int32)


def fmod(input, other) -> Tensor:
    dt = _binary_dtype("fmod", input, other)
    return map_("x0 - trunc(x0 / x1) * x1" if dt is float32 else "x0 % x1", [input, other], dt, dt)


def _extremum(name, fn, input, other):
    dt = _binary_dtype(name, input, other)
    out = map_(f"{fn}(x0, x1)", [input, other], dt, dt)
    cmp = ">" if fn == "max" else "<"

    def grad_fn(g, o):
        # ties share the gradient equally, as in PyTorch
        mine = f"select(select(0.0, 0.5 * x0, x1 == x2), x0, x1 {cmp} x2)"
        return (
            sum_to(_backward_map(mine, g, input, other), input.shape) if _needs(input) else None,
            sum_to(_backward_map(mine, g, other, input), other.shape) if _needs(other) else None,
        )

    return autograd.record(out, name.capitalize() + "Backward0", (input, other), grad_fn)


def maximum(input, other) -> Tensor:
    return _extremum("maximum", "max", input, other)


def minimum(input, other) -> Tensor:
    return _extremum("minimum", "min", input, other)


def _compare(name, op, input, other):
    dt = _binary_dtype(name, input, other)
    return map_(f"select(0u, 1u, x0 {op} x1)", [input, other], dt, bool_)


def eq(input, other):
    return _compare("eq", "==", input, other)


def ne(input, other):
    return _compare("ne", "!=", input, other)


def lt(input, other):
    return _compare("lt", "<", input, other)


def le(input, other):
    return _compare("le", "<=", input, other)


def gt(input, other):
    return _compare("gt", ">", input, other)


def ge(input, other):
    return _compare("ge", ">=", input, other)


less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne


def isnan(input):
    return map_("select(0u, 1u, x0 != x0)", [input], float32, bool_)


def isinf(input):
    return map_("select(0u, 1u, abs(x0) > 3.4028234663852886e38)", [input], float32, bool_)


def isfinite(input):
    return map_("select(0u, 1u, abs(x0) <= 3.4028234663852886e38)", [input], float32, bool_)


def logical_not(input):
    return map_("1u - x0", [input], bool_, bool_)


def logical_and(input, other):
    return map_("x0 & x1", [input, other], bool_, bool_)


def logical_or(input, other):
    return map_("x0 | x1", [input, other], bool_, bool_)


def logical_xor(input, other):
    return map_("x0 ^ x1", [input, other], bool_, bool_)


def _bitwise(name, op, input, other):
    dt = _binary_dtype(name, input, other)
    if dt is float32:
        raise RuntimeError(f"{name} is only supported for integer and bool tensors")
    return map_(f"x0 {op} x1", [input, other], dt, dt)


def bitwise_and(input, other):
    return _bitwise("bitwise_and", "&", input, other)


def bitwise_or(input, other):
    return _bitwise("bitwise_or", "|", input, other)


def bitwise_xor(input, other):
    return _bitwise("bitwise_xor", "^", input, other)


def bitwise_not(input):
    if input.dtype is bool_:
        return logical_not(input)
    if input.dtype is float32:
        raise RuntimeError("bitwise_not is only supported for integer and bool tensors")
    return map_("~x0", [input], int32, int32)


# ---- ternary -----------------------------------------------------------------------


def where(condition, input=None, other=None) -> Tensor:
    """Elementwise `input if condition else other`, all three broadcast."""
    if input is None and other is None:
        from .indexing import nonzero

        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor) or condition.dtype is not bool_:
        raise RuntimeError("where expected condition to be a boolean tensor")
    dt = _binary_dtype("where", input, other)
    out = elementwise(
        "select(x2, x1, x0 != 0u)", [condition, input, other], ["u32", dt.wgsl, dt.wgsl], dt
    )

    def grad_fn(g, o):
        return (
            None,
            sum_to(_backward_map("select(0.0, x0, x1 != 0.0)", g, condition.float()), input.shape)
            if _needs(input)
            else None,
            sum_to(_backward_map("select(x0, 0.0, x1 != 0.0)", g, condition.float()), other.shape)
            if _needs(other)
            else None,
        )

    return autograd.record(out, "WhereBackward0", (condition, input, other), grad_fn)


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


def lerp(input, end, weight, *, out=None) -> Tensor:
    """input + weight * (end - input), fused into one kernel."""
    out = map_("x0 + x2 * (x1 - x0)", [input, end, weight], float32, float32, out=out)

    def grad_fn(g, o):
        return (
            sum_to(_backward_map("x0 * (1.0 - x1)", g, weight), input.shape)
            if _needs(input)
            else None,
            sum_to(_backward_map("x0 * x1", g, weight), end.shape) if _needs(end) else None,
            sum_to(_backward_map("x0 * (x2 - x1)", g, input, end), weight.shape)
            if _needs(weight)
            else None,
        )

    return autograd.record(out, "LerpBackward0", (input, end, weight), grad_fn)


def addcmul(input, tensor1, tensor2, *, value=1, out=None) -> Tensor:
    """input + value * tensor1 * tensor2, fused into one kernel."""
    out = map_("x0 + x3 * x1 * x2", [input, tensor1, tensor2, value], float32, float32, out=out)

    def grad_fn(g, o):
        return (
            sum_to(g, input.shape) if _needs(input) else None,
            sum_to(_backward_map("x0 * x1 * x2", g, tensor2, value), tensor1.shape)
            if _needs(tensor1)
            else None,
            sum_to(_backward_map("x0 * x1 * x2", g, tensor1, value), tensor2.shape)
            if _needs(tensor2)
            else None,
        )

    return autograd.record(out, "AddcmulBackward0", (input, tensor1, tensor2), grad_fn)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None) -> Tensor:
    """input + value * tensor1 / tensor2, fused into one kernel."""
    out = map_("x0 + x3 * x1 / x2", [input, tensor1, tensor2, value], float32, float32, out=out)

    def grad_fn(g, o):
        return (
            sum_to(g, input.shape) if _needs(input) else None,
            sum_to(_backward_map("x0 * x2 / x1", g, tensor2, value), tensor1.shape)
            if _needs(tensor1)
            else None,
            sum_to(
                _backward_map("-x0 * x3 * x1 / (x2 * x2)", g, tensor1, tensor2, value),
                tensor2.shape,
            )
            if _needs(tensor2)
            else None,
        )

    return autograd.record(out, "AddcdivBackward0", (input, tensor1, tensor2), grad_fn)


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
