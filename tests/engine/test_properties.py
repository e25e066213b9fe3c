"""Property tests: random shapes, broadcasts and strided views against NumPy.

The launchers merge dimensions, fold grids and pick load modes from the strides: these
tests draw the layouts at random so that a mistake there cannot hide behind the few
shapes the other tests spell out.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from tests.conftest import assert_close

shapes = st.lists(st.integers(1, 5), min_size=0, max_size=4).map(tuple)


@st.composite
def strided_view(draw, shape):
    """(engine tensor, NumPy array) of `shape` with the same values, the tensor seen
    through a random permutation and random slicing of a bigger one (so usually not
    contiguous, and usually with an offset)."""
    ndim = len(shape)
    perm = draw(st.permutations(range(ndim)))  # view dim d is storage dim perm[d]
    steps = [draw(st.integers(1, 2)) for _ in range(ndim)]
    parent = [shape[d] * steps[d] + draw(st.integers(0, 1)) for d in range(ndim)]
    storage_shape = [0] * ndim
    for d in range(ndim):
        storage_shape[perm[d]] = parent[d]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    base = rng.standard_normal(storage_shape, dtype=np.float32)
    index = tuple(
        slice(1 if parent[d] > shape[d] * steps[d] else 0, None, steps[d]) for d in range(ndim)
    )
    index = tuple(
        slice(sl.start, sl.start + shape[d] * steps[d], steps[d]) for d, sl in enumerate(index)
    )
    expected = base.transpose(perm)[index]
    view = engine.from_numpy(base)
    view = view.permute(perm)[index] if ndim else view
    assert tuple(view.shape) == expected.shape == tuple(shape)
    return view, expected


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_binary_ops_on_random_broadcast_views(data):
    shape = data.draw(shapes)
    # the other operand broadcasts: some dims dropped from the front, some set to 1
    cut = data.draw(st.integers(0, len(shape)))
    other_shape = tuple(n if data.draw(st.booleans()) else 1 for n in shape[cut:])
    a, a_np = data.draw(strided_view(shape))
    b, b_np = data.draw(strided_view(other_shape))
    assert_close(a * b + a, a_np * b_np + a_np)
    assert_close(engine.maximum(a, b), np.maximum(a_np, b_np))
    assert_close(a > b, a_np > b_np)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_reductions_on_random_views(data):
    shape = data.draw(shapes.filter(lambda s: len(s) > 0))
    x, x_np = data.draw(strided_view(shape))
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    keepdim = data.draw(st.booleans())
    assert_close(
        x.sum(dims, keepdim=keepdim), x_np.sum(tuple(dims), keepdims=keepdim), rtol=1e-5, atol=1e-5
    )
    assert_close(x.amax(dims, keepdim=keepdim), x_np.max(tuple(dims), keepdims=keepdim))
    d = dims[0]
    assert_close(x.argmax(d), x_np.argmax(d))
    assert_close(x.softmax(d), np.exp(x_np) / np.exp(x_np).sum(d, keepdims=True), atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_reshape_and_contiguous_of_random_views(data):
    shape = data.draw(shapes)
    x, x_np = data.draw(strided_view(shape))
    assert_close(x.contiguous(), x_np)
    assert_close(x.reshape(-1), x_np.reshape(-1))
    assert x.contiguous().is_contiguous()


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_matmul_of_random_views(data):
    m, k, n = (data.draw(st.integers(1, 9)) for _ in range(3))
    batch = data.draw(st.lists(st.integers(1, 3), max_size=2).map(tuple))
    a, a_np = data.draw(strided_view(batch + (m, k)))
    b, b_np = data.draw(strided_view((k, n)))
    assert_close(a @ b, a_np @ b_np, rtol=1e-4, atol=1e-5)
