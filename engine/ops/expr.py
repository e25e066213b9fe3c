"""Elementwise formulas written once and evaluated two ways: as WGSL text or with tensors.

A formula is a Python function of its operands built from arithmetic operators and the
functions below, e.g. the derivative of sin, `lambda g, x, out: g * ex.cos(x)`. Called
with `Expr` operands it builds the WGSL expression of one fused elementwise kernel
(`wgsl`); called with Tensors every operator and function is the differentiable tensor
op, so the result carries a graph (what create_graph=True needs). Backward rules are
written this way (pointwise.derivative picks the evaluation), and so are forwards, so
that every WGSL function name a kernel calls comes from the one table `WGSL`.
"""

from __future__ import annotations

import math

from ..tensor import Tensor

# A formula's function: the WGSL it calls (m_*: shaders/math.wgsl, exact on every adapter).
WGSL = {
    "abs": "abs",
    "sign": "sign",
    "floor": "floor",
    "ceil": "ceil",
    "round": "round",
    "trunc": "trunc",
    "exp": "m_exp",
    "exp2": "m_exp2",
    "expm1": "m_expm1",
    "log": "m_log",
    "log2": "m_log2",
    "log10": "m_log10",
    "log1p": "m_log1p",
    "sqrt": "sqrt",
    "rsqrt": "inverseSqrt",
    "sin": "m_sin",
    "cos": "m_cos",
    "tanh": "m_tanh",
    "sigmoid": "m_sigmoid",
    "erf": "m_erf",
    "pow": "m_pow",
    "isnan": "m_is_nan",  # from the bits: compilers may fold x != x to false
    "maximum": "max",
    "minimum": "min",
    "where": "select",  # select(if_false, if_true, condition)
    "f32": "f32",
    "i32": "i32",
}

# Python numbers: the same functions on floats (constants such as log(base) in a rule).
_PYTHON = {
    "abs": abs,
    "exp": math.exp,
    "log10": lambda v: math.log10(v) if v > 0 else (-math.inf if v == 0 else math.nan),
    "log": lambda v: math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan),
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tanh": math.tanh,
    "floor": math.floor,
    "trunc": math.trunc,
    "isnan": math.isnan,
    "maximum": max,
    "minimum": min,
    "pow": lambda x, y: x**y,
}


class Expr:
    """A node of a WGSL expression: an operand, a constant, an operator or a call."""

    __slots__ = ("op", "args")

    def __init__(self, op: str, args: tuple):
        self.op = op
        self.args = args

    def __neg__(self):
        return Expr("neg", (self,))

    def __abs__(self):
        return Expr("abs", (self,))

    def __invert__(self):  # bitwise not of an integer
        return Expr("~", (self,))

    __hash__ = object.__hash__

    def __bool__(self):
        raise TypeError("a formula cannot branch on an operand's value: use where()")


def _operator(op: str, reflected: bool = False):
    def method(self, other):
        return Expr(op, (other, self) if reflected else (self, other))

    return method


# Python's operators on Exprs: (dunder name, WGSL operator or function, also reflected)
_OPERATORS = (
    ("add", "+", True),
    ("sub", "-", True),
    ("mul", "*", True),
    ("truediv", "/", True),
    ("mod", "%", True),
    ("pow", "pow", True),
    ("lt", "<", False),
    ("le", "<=", False),
    ("gt", ">", False),
    ("ge", ">=", False),
    ("eq", "==", False),
    ("ne", "!=", False),
    ("and", "&", False),
    ("or", "|", False),
    ("xor", "^", False),
)
for _name, _op, _reflected in _OPERATORS:
    setattr(Expr, f"__{_name}__", _operator(_op))
    if _reflected:
        setattr(Expr, f"__r{_name}__", _operator(_op, reflected=True))
_BINARY = {op for _, op, _ in _OPERATORS if op != "pow"}
_UNARY_OPERATORS = {"neg": "-", "~": "~", "not": "!"}


def _literal(value, wgsl_type: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if wgsl_type == "f32":
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"a formula's constant must be finite, got {value}")
        text = repr(value)
    else:
        if value != int(value):
            raise ValueError(f"the {wgsl_type} formula has the non-integer constant {value}")
        text = f"{int(value)}{'u' if wgsl_type == 'u32' else 'i'}"
    return f"({text})" if text.startswith("-") else text


def _emit(node, wgsl_type: str, names: dict) -> str:
    if not isinstance(node, Expr):
        return _literal(node, wgsl_type)
    op, args = node.op, node.args
    if op == "operand":
        return names[args[0]]
    if op == "index":
        return "i"
    parts = [_emit(a, wgsl_type, names) for a in args]
    if op in _BINARY:
        return f"({parts[0]} {op} {parts[1]})"
    if op in _UNARY_OPERATORS:
        return f"({_UNARY_OPERATORS[op]}{parts[0]})"
    if op == "bits":
        return f"select(0u, 1u, {parts[0]})"
    if op == "where":
        condition, if_true, if_false = parts
        return f"select({if_false}, {if_true}, {condition})"
    if op in ("f32", "i32"):  # a conversion: constants inside have the other type
        return f"{op}({_emit(args[0], 'i32' if op == 'f32' else 'f32', names)})"
    if op == "u32":  # index arithmetic: constants inside are u32
        return f"u32({_emit(args[0], 'u32', names)})"
    return f"{WGSL[op]}({', '.join(parts)})"


def _operands(node, found: set):
    if isinstance(node, Expr):
        if node.op == "operand":
            found.add(node.args[0])
        else:
            for a in node.args:
                _operands(a, found)


_compiled: dict = {}


def wgsl(formula, kinds, wgsl_type: str = "f32"):
    """(WGSL text, indices of the operands it reads, index of the operand it returns as is).

    `kinds[k]` is "bool" for a boolean operand (read as 0.0 / 1.0, seen by the formula as
    a condition) and "value" otherwise; operand k is called x<j> in the text, j its place
    among the operands read. Formulas that hold no values (no closure, no defaults) are
    built once: every value they need must be an operand.
    """
    key = (_identity(formula), tuple(kinds), wgsl_type)
    hit = _compiled.get(key)
    if hit is not None:
        return hit
    leaves = [Expr("operand", (k,)) for k in range(len(kinds))]
    value = formula(*leaves)
    found: set = set()
    _operands(value, found)
    used = sorted(found)
    zero = _literal(0, wgsl_type)
    names = {k: f"(x{j} != {zero})" if kinds[k] == "bool" else f"x{j}" for j, k in enumerate(used)}
    same = next((k for k, leaf in enumerate(leaves) if value is leaf), None)
    hit = (_emit(value, wgsl_type, names), tuple(used), same)
    if key[0] is not None:
        _compiled[key] = hit
    return hit


def _identity(formula):
    """What makes a formula the same one again: its code, when it holds no values of its
    own (a lambda written inside a function is a new object at every call), else None."""
    code = getattr(formula, "__code__", None)
    if code is None:
        return formula  # a _Function
    if formula.__closure__ is None and formula.__defaults__ is None:
        return code, formula.__module__
    return None


def _pointwise():
    from . import pointwise  # a real cycle: pointwise writes its formulas with this module

    return pointwise


class _Function:
    """A formula's function: an Expr call for Expr arguments, the pointwise op of the same
    name for Tensors, the `_PYTHON` one for numbers."""

    def __init__(self, name: str):
        self.__name__ = name
        self.__doc__ = f"{name} of an Expr (WGSL `{WGSL[name]}`), a Tensor or a number."

    def __call__(self, *args):
        if any(isinstance(a, Expr) for a in args):
            return Expr(self.__name__, args)
        if any(isinstance(a, Tensor) for a in args):
            return getattr(_pointwise(), self.__name__)(*args)
        return _PYTHON[self.__name__](*args)

    def __repr__(self):
        return f"<formula function {self.__name__}>"


abs_ = _Function("abs")
sign = _Function("sign")
floor = _Function("floor")
ceil = _Function("ceil")
round_ = _Function("round")
trunc = _Function("trunc")
exp = _Function("exp")
exp2 = _Function("exp2")
expm1 = _Function("expm1")
log = _Function("log")
log2 = _Function("log2")
log10 = _Function("log10")
log1p = _Function("log1p")
sqrt = _Function("sqrt")
rsqrt = _Function("rsqrt")
sin = _Function("sin")
cos = _Function("cos")
tanh = _Function("tanh")
sigmoid = _Function("sigmoid")
erf = _Function("erf")
pow_ = _Function("pow")
isnan = _Function("isnan")
maximum = _Function("maximum")
minimum = _Function("minimum")
f32 = _Function("f32")
i32 = _Function("i32")


# The thread's flat index into the output (u32): for the fills of engine.ops.creation.
INDEX = Expr("index", ())


def u32(value):
    """`value` (the INDEX, or index arithmetic with integer constants) as a u32."""
    return Expr("u32", (value,))


def not_(condition):
    """The negation of a condition (Python's `not` cannot be overloaded)."""
    return Expr("not", (condition,))


def bits(condition):
    """A condition as the 0/1 that bool tensors store (u32): what a bool-valued op writes."""
    return Expr("bits", (condition,))


def where(condition, if_true, if_false):
    """`if_true` where `condition` holds, else `if_false` (WGSL select, or tensor where)."""
    if any(isinstance(a, Expr) for a in (condition, if_true, if_false)):
        return Expr("where", (condition, if_true, if_false))
    if isinstance(condition, Tensor):
        return _pointwise().where(condition, if_true, if_false)
    return if_true if condition else if_false
