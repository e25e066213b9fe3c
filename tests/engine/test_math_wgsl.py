"""shaders/math.wgsl (m_exp, m_log, m_sin, m_pow...) against PyTorch on dense ranges and at
the edges (0, -0, +-inf, NaN, subnormals, tiny, huge), through the ops that call them.

The adapters' builtins differ: SwiftShader's sin and cos are off by 2e-4 relative, its log(0)
is -88 and its expm1(100) NaN. These tests hold every adapter to math.wgsl's accuracy, a few
ulps: `rtol` below is far tighter than the suite's 1e-5. `atol` only absorbs a result that an
adapter flushes from subnormal to 0 (WGSL allows it), except for sin and cos, which are held to
2^-23 absolute near their zeros.
"""

import ast
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import engine
from tests.conftest import to_engine

ROOT = Path(__file__).resolve().parents[2]
F32 = np.float32
TINY = 1e-37  # below the smallest normal float (1.18e-38): subnormal results may flush to 0
EDGES = np.array(
    [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1e-40, -1e-40, 1e-38, 1.1754944e-38]
    + [1e-30, -1e-30, 1e-20, 1e-10, -1e-10, 1e-7, -1e-7, 3e-8, -3e-8, 1e-6, -1e-6, 1e-3, -1e-3]
    + [0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 3.0, 10.0, -10.0, 17.0, -17.0, 20.0, -20.0, 50.0, -50.0]
    + [88.0, 88.72283, 88.72284, 88.8, 89.0, -87.3, -88.0, -100.0, -103.9, -104.0, -110.0]
    + [100.0, 127.9, 128.0, -149.0, -150.0, 1e4, -1e4, 5e4, 1e6, -1e6, 1e20, -1e20, 3e38, -3e38]
    + [3.4028235e38, -3.4028235e38],
    F32,
)


def dense(lo, hi, n=1 << 17):
    return np.linspace(lo, hi, n, dtype=np.float64).astype(F32)


def geometric(lo, hi, n=1 << 17):
    return np.geomspace(lo, hi, n).astype(F32)


def check(got, want, rtol, atol):
    """torch's closeness (|got - want| <= atol + rtol |want|, NaN matches NaN, infinities match
    exactly), and where PyTorch gives an exact 0, a 0 of the same sign."""
    got = torch.from_numpy(np.asarray(got))
    want = torch.from_numpy(np.asarray(want))
    torch.testing.assert_close(got, want, rtol=rtol, atol=atol, equal_nan=True)
    zeros = (want == 0) & (got == 0)
    assert torch.equal(torch.signbit(got[zeros]), torch.signbit(want[zeros])), "sign of zero"


# name: (dense inputs, rtol, atol)
UNARY = {
    "exp": ([dense(-104, 89), dense(-1, 1)], 1e-6, TINY),
    "exp2": ([dense(-150, 128.5), dense(-1, 1)], 1e-6, TINY),
    "expm1": ([dense(-20, 89), dense(-1, 1), dense(-1e-4, 1e-4), geometric(1e-30, 1)], 1e-6, TINY),
    "log": ([dense(1e-6, 10), dense(0.5, 2), geometric(1e-45, 3.4e38)], 1e-6, TINY),
    "log2": ([dense(1e-6, 10), dense(0.5, 2), geometric(1e-45, 3.4e38)], 1e-6, TINY),
    "log10": ([dense(1e-6, 10), dense(0.5, 2), geometric(1e-45, 3.4e38)], 1e-6, TINY),
    "log1p": ([dense(-0.999, 10), dense(-1e-3, 1e-3), geometric(1e-30, 3.4e38)], 1e-6, TINY),
    "sin": (
        [dense(-10, 10), dense(-5.1e4, 5.1e4), dense(-1e7, 1e7), geometric(1, 3e38)],
        1e-6,
        1.2e-7,
    ),
    "cos": (
        [dense(-10, 10), dense(-5.1e4, 5.1e4), dense(-1e7, 1e7), geometric(1, 3e38)],
        1e-6,
        1.2e-7,
    ),
    "tanh": ([dense(-20, 20), dense(-1, 1), geometric(1e-30, 1)], 1e-6, TINY),
    "sigmoid": ([dense(-100, 100), dense(-1, 1)], 1e-6, TINY),
    "erf": ([dense(-6, 6), dense(-1, 1), geometric(1e-30, 1)], 1e-6, TINY),
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_matches_torch_on_dense_ranges_and_edges(name):
    ranges, rtol, atol = UNARY[name]
    x = np.concatenate([*ranges, -ranges[-1], EDGES])
    got = getattr(engine, name)(to_engine(x)).numpy()
    want = getattr(torch, name)(torch.from_numpy(x)).numpy()
    check(got, want, rtol, atol)


def test_sin_cos_near_multiples_of_half_pi():
    """The reduction keeps relative precision where sin or cos is near 0 (Cody-Waite below
    5e4, Payne-Hanek above)."""
    rng = np.random.default_rng(0)
    k = rng.integers(-30000, 30000, 1 << 17)
    x = (k * (np.pi / 2) + rng.uniform(-1e-3, 1e-3, k.size)).astype(F32)
    far = (np.float64(2.0) ** rng.uniform(15, 127.9, 1 << 17)).astype(F32)
    x = np.concatenate([x, far, -far])
    for name in ("sin", "cos"):
        got = getattr(engine, name)(to_engine(x)).numpy()
        want = getattr(torch, name)(torch.from_numpy(x)).numpy()
        check(got, want, 1e-6, 1e-9)


def test_the_failures_swiftshader_builtins_gave():
    """The values that failed on SwiftShader's builtins (issue #8)."""
    x = to_engine(np.array([0.0, -0.0, 1e-45, -1.0, np.inf, np.nan], F32))
    check(
        engine.log(x).numpy(),
        np.array([-np.inf, -np.inf, -103.27893, np.nan, np.inf, np.nan], F32),
        1e-6,
        0,
    )
    y = np.array([100.0, 89.0, np.inf, -1e-6, 1e-6, -np.inf], F32)
    check(engine.expm1(to_engine(y)).numpy(), torch.expm1(torch.from_numpy(y)).numpy(), 1e-6, 0)
    z = np.array([1.0, 2.0, 1e4, 3e38], F32)
    for name in ("sin", "cos"):
        got = getattr(engine, name)(to_engine(z)).numpy()
        check(got, getattr(torch, name)(torch.from_numpy(z)).numpy(), 1e-6, 0)
    # binary cross-entropy clamps log at -100: 100 for a probability of 0, not -log(0) = 88
    p = np.array([0.0, 1e-30, 0.5, 1.0], F32)
    target = np.array([1.0, 1.0, 0.0, 0.0], F32)
    got = engine.nn.functional.binary_cross_entropy(
        to_engine(p), to_engine(target), reduction="none"
    )
    want = torch.nn.functional.binary_cross_entropy(
        torch.from_numpy(p), torch.from_numpy(target), reduction="none"
    )
    check(got.numpy(), want.numpy(), 1e-6, 0)


POW_SPECIAL = np.array(
    [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 1.5, -1.5, 3.0, -3.0, 1e-30, 1e30]
    + [1e-45, 16777217.0, np.inf, -np.inf, np.nan],
    F32,
)


def test_pow_special_cases_match_torch():
    """Every pair of special bases and exponents: C99's pow, as PyTorch (x^0 = 1^y = 1 even
    for NaN, signed zeros and infinities for odd integer exponents, NaN for a negative base to
    a non-integer power)."""
    x, y = (a.ravel() for a in np.meshgrid(POW_SPECIAL, POW_SPECIAL))
    got = engine.pow(to_engine(x), to_engine(y)).numpy()
    check(got, torch.pow(torch.from_numpy(x), torch.from_numpy(y)).numpy(), 1e-6, TINY)


def test_pow_matches_torch_on_dense_ranges():
    rng = np.random.default_rng(0)
    n = 1 << 17
    x = np.concatenate([np.geomspace(1e-3, 1e3, n), rng.uniform(0, 4, n)]).astype(F32)
    y = rng.uniform(-12, 12, 2 * n).astype(F32)
    # a negative base to integer powers, and |y log2 x| up to 64 (results from 1e-19 to 1e19)
    xn = -rng.uniform(0, 4, n).astype(F32)
    yn = np.round(rng.uniform(-20, 20, n)).astype(F32)
    xb = rng.uniform(0.5, 2, n).astype(F32)
    yb = (rng.uniform(-64, 64, n) / np.log2(xb.astype(np.float64))).astype(F32)
    x, y = np.concatenate([x, xn, xb]), np.concatenate([y, yn, yb])
    got = engine.pow(to_engine(x), to_engine(y)).numpy()
    check(got, torch.pow(torch.from_numpy(x), torch.from_numpy(y)).numpy(), 1e-6, TINY)


def test_pow_near_overflow_and_underflow():
    """Results from 2^-149 to 2^128: y log2 x is carried beyond float precision (a float
    product would be off by |y log2 x| ulps, 1e-5 near 2^127)."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 2, 1 << 17).astype(F32)
    y = (rng.uniform(-149, 128, x.size) / np.log2(x.astype(np.float64))).astype(F32)
    got = engine.pow(to_engine(x), to_engine(y)).numpy()
    check(got, torch.pow(torch.from_numpy(x), torch.from_numpy(y)).numpy(), 1e-6, TINY)


def test_logsumexp_softmax_and_cross_entropy_at_extremes():
    x = np.array([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf], [88.0, 89.0, -104.0]], F32)
    t = torch.from_numpy(x)
    check(engine.logsumexp(to_engine(x), dim=1).numpy(), torch.logsumexp(t, 1).numpy(), 1e-6, 0)
    rows = [0, 2]
    check(
        engine.softmax(to_engine(x[rows]), dim=1).numpy(),
        torch.softmax(t[rows], 1).numpy(),
        1e-6,
        TINY,
    )
    logits = np.array([[30.0, -30.0, 0.0], [1e-3, 2e-3, 0.0]], F32)
    labels = np.array([1, 2])
    got = engine.nn.functional.cross_entropy(to_engine(logits), engine.tensor(labels.tolist()))
    want = torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels))
    check(np.float32(got.item()), np.float32(want.item()), 1e-6, 0)


# A call of a WGSL builtin that math.wgsl replaces (not preceded by a name character or a
# dot, so m_exp(, math.exp( and x.exp( are not).
_BUILTIN = re.compile(
    r"(?<![\w.])(exp|exp2|log|log2|sin|cos|tan|tanh|sinh|cosh|asin|acos|atan|atan2"
    r"|asinh|acosh|atanh|pow)\s*\("
)


def test_no_kernel_calls_a_builtin_transcendental():
    """Every shader and every WGSL expression in engine/ uses math.wgsl's functions."""
    found = []
    for path in sorted((ROOT / "shaders").glob("*.wgsl")):
        if path.name == "math.wgsl":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if _BUILTIN.search(line.split("//")[0]):
                found.append(f"{path.name}:{number}: {line.strip()}")
    for path in sorted((ROOT / "engine").rglob("*.py")):
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and _BUILTIN.search(node.value)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not found, "builtin transcendentals (use math.wgsl's m_*):\n" + "\n".join(found)
