"""engine/ops/matmul.py against PyTorch: shapes, batching, broadcasting, transposes, grads."""

import pytest
import torch

import engine
from tests.conftest import assert_close, check_grads, randn, to_engine

SHAPES = [
    ((4, 3), (3, 5)),
    ((33, 17), (17, 65)),  # edges of the 32x32 tiles
    ((1, 1), (1, 1)),
    ((5,), (5,)),
    ((5,), (5, 2)),
    ((3, 5), (5,)),
    ((2, 3, 4), (4, 5)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (2, 4, 3)),
]


@pytest.mark.parametrize("shape_a,shape_b", SHAPES)
def test_matmul(shape_a, shape_b):
    check_grads(
        lambda a, b: a @ b,
        lambda a, b: a @ b,
        randn(*shape_a),
        randn(*shape_b),
        rtol=1e-4,
        atol=1e-4,
    )


def test_transposed_and_sliced_operands_are_not_copied_and_correct():
    a, b = randn(6, 4), randn(5, 6)
    check_grads(lambda x, y: x.t() @ y.t(), lambda x, y: x.t() @ y.t(), a, b, rtol=1e-4)
    check_grads(
        lambda x, y: x[::2, 1:] @ y[1:4, :3],
        lambda x, y: x[::2, 1:] @ y[1:4, :3],
        randn(6, 4),
        randn(5, 6),
        rtol=1e-4,
    )


def test_mm_bmm_dot_outer():
    check_grads(engine.mm, torch.mm, randn(3, 4), randn(4, 2), rtol=1e-4)
    check_grads(engine.bmm, torch.bmm, randn(2, 3, 4), randn(2, 4, 2), rtol=1e-4)
    check_grads(engine.dot, torch.dot, randn(6), randn(6), rtol=1e-4)
    check_grads(engine.outer, torch.outer, randn(3), randn(4))
    with pytest.raises(RuntimeError, match="bmm"):
        engine.bmm(to_engine(randn(3, 4)), to_engine(randn(4, 2)))


def test_linear_with_and_without_bias():
    x, w, b = randn(5, 3), randn(4, 3), randn(4)
    check_grads(
        lambda x, w, b: engine.ops.matmul.linear(x, w, b),
        torch.nn.functional.linear,
        x,
        w,
        b,
        rtol=1e-4,
    )
    check_grads(
        lambda x, w: engine.ops.matmul.linear(x, w), torch.nn.functional.linear, x, w, rtol=1e-4
    )
    check_grads(
        lambda x, w, b: engine.ops.matmul.linear(x, w, b),
        torch.nn.functional.linear,
        randn(2, 5, 3),
        w,
        b,
        rtol=1e-4,
    )


def test_shape_errors_name_both_shapes():
    with pytest.raises(RuntimeError, match=r"3x4 and 5x2"):
        to_engine(randn(3, 4)) @ to_engine(randn(5, 2))
    with pytest.raises(RuntimeError, match="linear"):
        engine.ops.matmul.linear(to_engine(randn(3, 4)), to_engine(randn(2, 5)))


@pytest.mark.parametrize(
    "equation,shapes",
    [
        ("ij,jk->ik", [(3, 4), (4, 5)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("i,i->", [(5,), (5,)]),
        ("i,j->ij", [(3,), (4,)]),
        ("bi,bi->b", [(3, 4), (3, 4)]),
        ("ij->ji", [(3, 4)]),
        ("ij->", [(3, 4)]),
        ("ij,kj->ik", [(3, 4), (5, 4)]),
        ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
        ("ij,jk", [(3, 4), (4, 2)]),
    ],
)
def test_einsum(equation, shapes):
    arrays = [randn(*s) for s in shapes]
    check_grads(
        lambda *xs: engine.einsum(equation, *xs),
        lambda *xs: torch.einsum(equation, *xs),
        *arrays,
        rtol=1e-4,
        atol=1e-4,
    )


def test_larger_matmul_accuracy():
    a, b = randn(70, 130), randn(130, 90)
    assert_close(
        to_engine(a) @ to_engine(b), torch.from_numpy(a) @ torch.from_numpy(b), rtol=1e-4, atol=1e-4
    )
