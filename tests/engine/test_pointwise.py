"""engine/ops/pointwise.py against PyTorch: values, broadcasting, views, dtypes, gradients."""

import numpy as np
import pytest
import torch

import engine
from tests.conftest import assert_close, check_grads, randn, to_engine, to_torch

# (name, positive inputs only)
UNARY = [
    ("neg", False),
    ("abs", False),
    ("exp", False),
    ("exp2", False),
    ("expm1", False),
    ("log", True),
    ("log2", True),
    ("log10", True),
    ("log1p", True),
    ("sqrt", True),
    ("rsqrt", True),
    ("reciprocal", True),
    ("square", False),
    ("sin", False),
    ("cos", False),
    ("tanh", False),
    ("sigmoid", False),
    ("relu", False),
    ("erf", False),
]


@pytest.mark.parametrize("name,positive", UNARY)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
def test_unary_forward_and_backward(name, positive, shape):
    x = randn(*shape, low=0.1 if positive else None)
    check_grads(getattr(engine, name), getattr(torch, name), x)


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "round", "trunc"])
def test_unary_without_gradient(name):
    x = randn(4, 5) * 3
    assert_close(getattr(engine, name)(to_engine(x)), getattr(torch, name)(to_torch(x)))


def test_unary_extreme_values_are_stable():
    x = np.array([-100.0, -20.0, -1e-6, 0.0, 1e-6, 20.0, 100.0], np.float32)
    for name in ("tanh", "sigmoid", "erf", "expm1", "log1p"):
        xs = np.abs(x) if name == "log1p" else x
        assert_close(getattr(engine, name)(to_engine(xs)), getattr(torch, name)(to_torch(xs)))


def test_unary_on_non_contiguous_view():
    x = randn(4, 6)
    check_grads(lambda a: a.t()[1:, ::2].exp(), lambda a: a.t()[1:, ::2].exp(), x)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(approximate):
    x = randn(5, 6) * 2
    check_grads(
        lambda a: (
            engine.nn.functional.gelu(a, approximate=approximate)
            if hasattr(engine, "nn")
            else engine.ops.pointwise.gelu(a, approximate)
        ),
        lambda a: torch.nn.functional.gelu(a, approximate=approximate),
        x,
    )


def test_leaky_relu_and_silu():
    x = randn(4, 5)
    check_grads(
        lambda a: engine.ops.pointwise.leaky_relu(a, 0.2),
        lambda a: torch.nn.functional.leaky_relu(a, 0.2),
        x,
    )
    check_grads(engine.silu, torch.nn.functional.silu, x)


BINARY = [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
    ("maximum", lambda a, b: a.maximum(b)),
    ("minimum", lambda a, b: a.minimum(b)),
    ("pow", lambda a, b: a.abs() ** b),
]
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((5,), ()), ((1,), (2, 3))]


@pytest.mark.parametrize("name,fn", BINARY)
@pytest.mark.parametrize("shape_a,shape_b", SHAPES)
def test_binary_broadcasting_forward_and_backward(name, fn, shape_a, shape_b):
    a = randn(*shape_a, low=0.5)
    b = randn(*shape_b, low=0.5)
    check_grads(fn, fn, a, b)


@pytest.mark.parametrize("name,fn", BINARY[:4])
def test_binary_with_python_scalars(name, fn):
    a = randn(3, 4, low=0.5)
    check_grads(lambda x: fn(x, 2.5), lambda x: fn(x, 2.5), a)
    check_grads(lambda x: fn(1.5, x), lambda x: fn(1.5, x), a)


def test_binary_on_transposed_and_sliced_views():
    a = randn(6, 4)
    b = randn(4, 6)
    check_grads(
        lambda x, y: x.t()[:, 1:] * y[:, ::1][:, 1:],
        lambda x, y: x.t()[:, 1:] * y[:, ::1][:, 1:],
        a,
        b,
    )


def test_pow_scalar_exponents():
    x = randn(3, 4)
    for e in (2, 3, 0.5, -1, 1.7):
        base = np.abs(x) + 0.1 if e in (0.5, 1.7) else x
        check_grads(lambda a, e=e: a**e, lambda a, e=e: a**e, base)
    check_grads(lambda a: 2.0**a, lambda a: 2.0**a, x)
    assert_close(to_engine(np.array([-2.0, -3.0], np.float32)) ** 2, np.array([4.0, 9.0]))


def test_integer_pow_with_any_exponent():
    a = np.array([[-3, 2, 0], [5, -1, 7]], np.int32)
    for e in (0, 1, 2, 3, 4, 5):
        result = to_engine(a) ** e
        assert result.dtype == engine.int32
        assert_close(result, torch.from_numpy(a) ** e)


def test_frac_keeps_the_sign_of_its_input():
    x = np.array([-2.75, -0.5, 0.0, 0.25, 3.5, -7.0], np.float32)
    check_grads(engine.frac, torch.frac, x)


def test_integer_arithmetic_and_promotion():
    a = np.array([[-7, 3], [8, -2]], np.int32)
    b = np.array([[2, -3], [3, 5]], np.int32)
    ea, eb, ta, tb = to_engine(a), to_engine(b), torch.from_numpy(a), torch.from_numpy(b)
    assert (ea + eb).dtype == engine.int32
    assert_close(ea + eb, ta + tb)
    assert_close(ea * 3, ta * 3)
    assert_close(ea // eb, ta // tb)
    assert_close(ea % eb, ta % tb)
    assert_close(ea / eb, ta / tb)  # true division gives float
    assert (ea + 0.5).dtype == engine.float32
    assert_close(ea + 0.5, ta + 0.5)


def test_float_floor_divide_and_remainder():
    a = randn(4, 4) * 5
    b = randn(4, 4, low=0.5) * np.sign(randn(4, 4))
    assert_close(to_engine(a) // to_engine(b), to_torch(a) // to_torch(b))
    assert_close(to_engine(a) % to_engine(b), to_torch(a) % to_torch(b), atol=1e-5)


def test_float_remainder_and_fmod_gradients():
    a = randn(4, 4) * 5
    b = (randn(4, low=0.5) * np.sign(randn(4))).astype(np.float32)
    for name in ("remainder", "fmod"):
        check_grads(getattr(engine, name), getattr(torch, name), a, b, atol=1e-5)
        check_grads(
            lambda x, n=name: getattr(engine, n)(x, 1.5),
            lambda x, n=name: getattr(torch, n)(x, 1.5),
            a,
        )


def test_comparisons_and_logic():
    a = randn(3, 4)
    b = randn(4)
    ea, eb, ta, tb = to_engine(a), to_engine(b), to_torch(a), to_torch(b)
    for op in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        result = getattr(ea, op)(eb)
        assert result.dtype == engine.bool
        assert_close(result, getattr(ta, op)(tb))
    assert_close(ea > 0, ta > 0)
    m1, m2 = ea > 0, eb > 0
    assert_close(m1 & m2, (ta > 0) & (tb > 0))
    assert_close(m1 | m2, (ta > 0) | (tb > 0))
    assert_close(~m1, ~(ta > 0))
    assert_close(engine.logical_xor(m1, m2), torch.logical_xor(ta > 0, tb > 0))


def test_where_and_masked_fill():
    c = randn(3, 4) > 0
    a, b = randn(3, 4), randn(4)
    check_grads(
        lambda x, y: engine.where(to_engine(c), x, y),
        lambda x, y: torch.where(torch.from_numpy(c), x, y),
        a,
        b,
    )
    check_grads(
        lambda x: x.masked_fill(to_engine(c), -1.5),
        lambda x: x.masked_fill(torch.from_numpy(c), -1.5),
        a,
    )
    with pytest.raises(RuntimeError, match="bool"):
        engine.where(to_engine(a), to_engine(a), to_engine(a))


def test_clamp():
    x = randn(4, 5)
    check_grads(lambda a: a.clamp(-0.5, 0.5), lambda a: a.clamp(-0.5, 0.5), x)
    check_grads(lambda a: a.clamp(min=0.1), lambda a: a.clamp(min=0.1), x)
    lo = randn(5) - 1
    check_grads(lambda a, b: a.clamp(min=b), lambda a, b: a.clamp(min=b), x, lo)


def test_fused_lerp_addcmul_addcdiv():
    a, b, c = randn(3, 4), randn(3, 4), randn(4, low=0.5)
    check_grads(lambda x, y: engine.lerp(x, y, 0.3), lambda x, y: torch.lerp(x, y, 0.3), a, b)
    check_grads(
        lambda x, y, z: engine.addcmul(x, y, z, value=0.5),
        lambda x, y, z: torch.addcmul(x, y, z, value=0.5),
        a,
        b,
        c,
    )
    check_grads(
        lambda x, y, z: engine.addcdiv(x, y, z, value=-2),
        lambda x, y, z: torch.addcdiv(x, y, z, value=-2),
        a,
        b,
        c,
    )


def test_in_place_ops_without_grad():
    x = randn(3, 4)
    y = randn(4)
    e, t = to_engine(x), to_torch(x)
    e.add_(to_engine(y), alpha=2).mul_(0.5).sub_(1).div_(3)
    t.add_(to_torch(y), alpha=2).mul_(0.5).sub_(1).div_(3)
    assert_close(e, t)
    e.addcmul_(e, e, value=0.1).addcdiv_(e, e.abs() + 1, value=0.2).lerp_(e * 2, 0.25)
    t.addcmul_(t, t, value=0.1).addcdiv_(t, t.abs() + 1, value=0.2).lerp_(t * 2, 0.25)
    assert_close(e, t)
    e.clamp_(-0.2, 0.3).exp_()
    t.clamp_(-0.2, 0.3).exp_()
    assert_close(e, t)
    view = e[:, 1]
    view.zero_()
    assert_close(e[:, 1], np.zeros(3, np.float32))
    e.fill_(2.0)
    assert_close(e, np.full((3, 4), 2.0, np.float32))


def test_in_place_errors():
    x = to_engine(randn(3, 4), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.add_(1)
    i = to_engine(np.ones((3, 4), np.int32))
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(0.5)
    with pytest.raises(RuntimeError, match="shape"):
        to_engine(randn(4)).add_(to_engine(randn(3, 4)))


def test_in_place_on_non_leaf_keeps_gradients_right():
    a = randn(3, 4)
    x = to_engine(a, requires_grad=True)
    t = to_torch(a, requires_grad=True)
    y = x * 2
    y.mul_(y)  # the old y is saved by mul: it must not be overwritten
    (y.sum()).backward()
    ty = t * 2
    ty = ty * ty
    ty.sum().backward()
    assert_close(x.grad, t.grad)


def test_shape_mismatch_names_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5,\)"):
        to_engine(randn(3, 4)) + to_engine(randn(5))


def test_type_conversions():
    x = np.array([-1.7, 0.0, 2.5], np.float32)
    e = to_engine(x)
    assert_close(e.long(), torch.from_numpy(x).long().int())
    assert_close(e.bool(), torch.from_numpy(x).bool())
    assert_close(e.bool().float(), torch.from_numpy(x).bool().float())
    assert e.to(engine.int64).dtype is engine.int32
    with pytest.raises(NotImplementedError, match="float64"):
        e.double()


def test_large_tensor_uses_a_folded_grid():
    n = 65535 * 64 + 7  # more workgroups than one grid dimension holds on CPU adapters
    x = engine.ones(n)
    assert (x * 2).sum().item() == 2 * n


def test_in_place_with_an_overlapping_input_reads_the_old_values():
    e = engine.arange(10).float()
    n = np.arange(10, dtype=np.float32)
    e[1:] += e[:-1]  # the input overlaps the written range: NumPy's semantics, old values
    n[1:] += n[:-1]
    assert_close(e, n)
    e2 = engine.arange(6).float()
    e2[1:].copy_(e2[:-1])
    assert e2.tolist() == [0.0, 0.0, 1.0, 2.0, 3.0, 4.0]


def test_pow_gradient_is_zero_where_the_exponent_is_zero_even_at_zero():
    import torch

    values = [0.0, 1.5, -2.0]
    for exponent in (0, 0.0):
        x = engine.tensor(values, requires_grad=True)
        (x**exponent).sum().backward()
        xt = torch.tensor(values, requires_grad=True)
        (xt**exponent).sum().backward()
        assert x.grad.tolist() == xt.grad.tolist()
    x, e = engine.tensor(values, requires_grad=True), engine.tensor([0.0, 2.0, 0.0])
    (x**e).sum().backward()
    xt, et = torch.tensor(values, requires_grad=True), torch.tensor([0.0, 2.0, 0.0])
    (xt**et).sum().backward()
    assert x.grad.tolist() == xt.grad.tolist()


@pytest.mark.parametrize("bound", ["min", "max"])
def test_clamp_to_a_tensor_bound_gives_ties_to_the_input(bound):
    values, limits = [-1.0, 0.5, 2.0, 0.0], [0.0, 0.5, 1.0, 0.0]
    weights = [1.0, 2.0, 3.0, 4.0]
    x, b = engine.tensor(values, requires_grad=True), engine.tensor(limits, requires_grad=True)
    (x.clamp(**{bound: b}) * engine.tensor(weights)).sum().backward()
    xt, bt = torch.tensor(values, requires_grad=True), torch.tensor(limits, requires_grad=True)
    (xt.clamp(**{bound: bt}) * torch.tensor(weights)).sum().backward()
    assert x.grad.tolist() == xt.grad.tolist()
    assert b.grad.tolist() == bt.grad.tolist()


_INTS, _DIVISORS = [-7, -3, 0, 3, 7, 5], [2, -2, 3, -4, -3, 5]
_BOOLS, _BOOLS2 = [True, False, True, False, True, True], [True, True, False, False, False, True]
_SPECIAL = [-1.5, 0.0, float("nan"), float("inf"), -float("inf"), 2.0]

# integer, bool and NaN semantics of the elementwise ops, each against torch on both drivers
_SEMANTICS = {
    "floor_divide": lambda m: m.floor_divide(m.tensor(_INTS), m.tensor(_DIVISORS)),
    "remainder": lambda m: m.remainder(m.tensor(_INTS), m.tensor(_DIVISORS)),
    "fmod": lambda m: m.fmod(m.tensor(_INTS), m.tensor(_DIVISORS)),
    "div_trunc": lambda m: m.div(m.tensor(_INTS), m.tensor(_DIVISORS), rounding_mode="trunc"),
    "div_floor": lambda m: m.div(m.tensor(_INTS), m.tensor(_DIVISORS), rounding_mode="floor"),
    "add_alpha": lambda m: m.add(m.tensor(_INTS), m.tensor(_DIVISORS), alpha=3),
    "sub_alpha": lambda m: m.sub(m.tensor(_SPECIAL), 2.0, alpha=0.5),
    "add_out": lambda m: m.add(m.tensor(_INTS), m.tensor(_DIVISORS), out=m.zeros(6)),
    "bool_add": lambda m: m.tensor(_BOOLS) + m.tensor(_BOOLS2),
    "bool_mul": lambda m: m.tensor(_BOOLS) * m.tensor(_BOOLS2),
    "int_times_bool": lambda m: m.tensor(_INTS) * m.tensor(_BOOLS),
    "bool_lt": lambda m: m.tensor(_BOOLS) < m.tensor(_BOOLS2),
    "bool_eq": lambda m: m.tensor(_BOOLS) == m.tensor(_BOOLS2),
    "int_ge": lambda m: m.tensor(_INTS) >= m.tensor(_DIVISORS),
    "int_eq_float": lambda m: m.tensor(_INTS) == 3.0,
    "nan_ne": lambda m: m.tensor(_SPECIAL) != 0.0,
    "nan_eq": lambda m: m.tensor(_SPECIAL) == m.tensor(_SPECIAL),
    "nan_lt": lambda m: m.tensor(_SPECIAL) < 1.0,
    "isnan": lambda m: m.isnan(m.tensor(_SPECIAL)),
    "isinf": lambda m: m.isinf(m.tensor(_SPECIAL)),
    "isfinite": lambda m: m.isfinite(m.tensor(_SPECIAL)),
    "logical_not": lambda m: m.logical_not(m.tensor(_INTS)),
    "logical_and": lambda m: m.logical_and(m.tensor(_INTS), m.tensor(_DIVISORS)),
    "logical_or_nan": lambda m: m.logical_or(m.tensor(_SPECIAL), m.tensor([0.0] * 6)),
    "logical_xor": lambda m: m.logical_xor(m.tensor(_BOOLS), m.tensor(_BOOLS2)),
    "bitwise_and": lambda m: m.tensor(_INTS) & m.tensor(_DIVISORS),
    "bitwise_or": lambda m: m.tensor(_INTS) | m.tensor(_DIVISORS),
    "bitwise_xor_bool": lambda m: m.tensor(_BOOLS) ^ m.tensor(_BOOLS2),
    "bitwise_not": lambda m: ~m.tensor(_INTS),
    "bitwise_not_bool": lambda m: ~m.tensor(_BOOLS),
    "bitwise_and_fn": lambda m: m.bitwise_and(m.tensor(_INTS), m.tensor(_DIVISORS)),
    "bitwise_xor_fn": lambda m: m.bitwise_xor(m.tensor(_BOOLS), m.tensor(_BOOLS2)),
    "bitwise_or_fn": lambda m: m.bitwise_or(m.tensor(_INTS), 6),
    "bitwise_not_fn": lambda m: m.bitwise_not(m.tensor(_INTS)),
    "where_float": lambda m: m.where(m.tensor(_BOOLS), m.tensor(_SPECIAL), 0.0),
    "where_bool": lambda m: m.where(m.tensor(_BOOLS), m.tensor(_BOOLS2), m.tensor(_BOOLS)),
    "where_int": lambda m: m.where(m.tensor(_BOOLS2), m.tensor(_INTS), m.tensor(_DIVISORS)),
}


@pytest.mark.parametrize("name", list(_SEMANTICS))
def test_integer_bool_and_nan_semantics_match_torch(name):
    got, want = _SEMANTICS[name](engine), _SEMANTICS[name](torch)
    assert str(got.tolist()) == str(want.tolist())
    assert got.dtype.name == str(want.dtype).replace("torch.", "").replace("int64", "int32")
