"""Second derivatives of every differentiable op against PyTorch.

For each op f and inputs x_1..x_n: the first derivatives g_i = d<f(x), u>/dx_i for a
random upstream u, computed with create_graph=True (and once without, through the fused
backward kernels), then the second derivatives d(sum_i <g_i, v_i>)/dx_j for random v_i,
against torch.autograd.grad applied twice in float64. Inputs stay away from the points
where an op is not differentiable (0 for abs and relu, integers for frac, ties for max).
An op whose first derivative has no graph where PyTorch's has one fails here: its second
derivative comes out as zero.
"""

import numpy as np
import pytest
import torch

import engine
from tests.conftest import to_engine

F = "nn.functional"
RTOL, ATOL = 2e-4, 2e-5


def _module(m, path):
    for part in path.split("."):
        m = getattr(m, part)
    return m


def functional(m):
    return _module(m, F)


# ---- inputs ---------------------------------------------------------------------------
# An input spec is (kind, shape); kinds: "any" (normal, |x| >= 0.2), "pos" (in [0.5, 2.5]),
# "prob" (in [0.1, 0.9]), "frac" (x.25 .. x.75), and their "c_" forms for float inputs
# that need no gradient (targets, weights).


def _sample(kind, shape, rng):
    kind = kind.removeprefix("c_")
    if kind == "any":
        x = rng.standard_normal(shape)
        return np.where(np.abs(x) < 0.2, np.sign(x + 1e-9) * 0.2 + x, x)
    if kind == "pos":
        return rng.uniform(0.5, 2.5, shape)
    if kind == "prob":
        return rng.uniform(0.1, 0.9, shape)
    if kind == "frac":
        return rng.integers(-3, 3, shape) + rng.uniform(0.25, 0.75, shape)
    raise ValueError(kind)


def any_(*shape):
    return ("any", shape)


def pos(*shape):
    return ("pos", shape)


def prob(*shape):
    return ("prob", shape)


def const(kind, *shape):
    return ("c_" + kind, shape)


def sq(t):
    """t * t: makes the second derivative of a linear op nonzero, so that its backward
    has to be differentiable itself."""
    return t * t


# ---- the cases -------------------------------------------------------------------------
# (id, fn(m, *inputs) with m the module, engine or torch, input specs)

UNARY = {
    "neg": "any",
    "abs": "any",
    "exp": "any",
    "exp2": "any",
    "expm1": "any",
    "log": "pos",
    "log2": "pos",
    "log10": "pos",
    "log1p": "pos",
    "sqrt": "pos",
    "rsqrt": "pos",
    "reciprocal": "pos",
    "square": "any",
    "sin": "any",
    "cos": "any",
    "tanh": "any",
    "sigmoid": "any",
    "relu": "any",
    "silu": "any",
    "erf": "any",
    "frac": "frac",
    # step functions: zero gradients, as in PyTorch
    "sign": "any",
    "floor": "any",
    "ceil": "any",
    "round": "any",
    "trunc": "any",
}


def _unary_case(name, kind):
    if name == "silu":  # torch has it in nn.functional only
        return (name, lambda m, x: sq(functional(m).silu(x)), [(kind, (3, 5))])
    return (name, lambda m, x: sq(getattr(m, name)(x)), [(kind, (3, 5))])


CASES = [_unary_case(name, kind) for name, kind in UNARY.items()]
CASES += [
    ("unary_method", lambda m, x: x.exp().sin(), [any_(3, 5)]),
    ("gelu", lambda m, x: functional(m).gelu(x), [any_(3, 5)]),
    ("gelu_tanh", lambda m, x: functional(m).gelu(x, approximate="tanh"), [any_(3, 5)]),
    ("leaky_relu", lambda m, x: sq(functional(m).leaky_relu(x, 0.2)), [any_(3, 5)]),
    ("clamp_min", lambda m, x: sq(x.clamp(min=-0.1)), [any_(3, 5)]),
    ("clamp_max", lambda m, x: sq(x.clamp(max=0.1)), [any_(3, 5)]),
    ("clamp_both", lambda m, x: sq(m.clamp(x, -0.5, 0.5)), [any_(3, 5)]),
    ("clamp_tensor", lambda m, x, lo: sq(m.clamp(x, min=lo)), [any_(3, 5), any_(3, 5)]),
    ("pow_2", lambda m, x: x**2, [any_(3, 5)]),
    ("pow_3", lambda m, x: x**3, [any_(3, 5)]),
    ("pow_half", lambda m, x: x**0.5, [pos(3, 5)]),
    ("pow_minus_1", lambda m, x: x**-1, [pos(3, 5)]),
    ("pow_2_5", lambda m, x: m.pow(x, 2.5), [pos(3, 5)]),
    ("pow_1", lambda m, x: sq(x**1), [any_(3, 5)]),
    ("pow_0", lambda m, x: x**0 * x, [any_(3, 5)]),
    ("rpow", lambda m, x: 2.5**x, [any_(3, 5)]),
    ("pow_tensor", lambda m, x, y: x**y, [pos(3, 5), any_(3, 5)]),
    ("pow_tensor_broadcast", lambda m, x, y: m.pow(x, y), [pos(3, 5), any_(5)]),
    ("add", lambda m, x, y: sq(x + y), [any_(3, 5), any_(3, 5)]),
    ("add_alpha", lambda m, x, y: sq(m.add(x, y, alpha=2.5)), [any_(3, 5), any_(3, 5)]),
    ("add_broadcast", lambda m, x, y: sq(x + y), [any_(3, 5), any_(3, 1)]),
    ("add_scalar", lambda m, x: sq(x + 1.5), [any_(3, 5)]),
    ("sub", lambda m, x, y: sq(x - y), [any_(3, 5), any_(1, 5)]),
    ("sub_alpha", lambda m, x, y: sq(m.sub(x, y, alpha=0.5)), [any_(3, 5), any_(5)]),
    ("rsub", lambda m, x: sq(2.0 - x), [any_(3, 5)]),
    ("mul", lambda m, x, y: x * y, [any_(3, 5), any_(3, 5)]),
    ("mul_broadcast", lambda m, x, y: x * y, [any_(3, 5), any_(2, 1, 1)]),
    ("mul_self", lambda m, x: x * x * x, [any_(3, 5)]),
    ("div", lambda m, x, y: x / y, [any_(3, 5), pos(3, 5)]),
    ("div_broadcast", lambda m, x, y: x / y, [any_(3, 1), pos(5)]),
    ("rdiv", lambda m, x: 1.5 / x, [pos(3, 5)]),
    ("remainder", lambda m, x: sq(m.remainder(x, 0.7)), [any_(3, 5)]),
    ("remainder_tensor", lambda m, x, y: sq(x % y), [any_(3, 5), pos(5)]),
    ("fmod", lambda m, x: sq(m.fmod(x, 0.7)), [any_(3, 5)]),
    ("fmod_tensor", lambda m, x, y: sq(m.fmod(x, y)), [any_(3, 5), any_(3, 1)]),
    ("maximum", lambda m, x, y: sq(m.maximum(x, y)), [any_(3, 5), any_(3, 5)]),
    ("minimum", lambda m, x, y: sq(m.minimum(x, y)), [any_(3, 5), any_(1, 5)]),
    ("max_binary", lambda m, x, y: sq(m.max(x, y)), [any_(3, 5), any_(3, 5)]),
    (
        "where",
        lambda m, x, y, c: sq(m.where(c > 0, x, y)),
        [any_(3, 5), any_(5), const("any", 3, 5)],
    ),
    ("where_scalar", lambda m, x, c: sq(m.where(c > 0, x, 0.5)), [any_(3, 5), const("any", 3, 5)]),
    ("masked_fill", lambda m, x, c: sq(x.masked_fill(c > 0, 2.0)), [any_(3, 5), const("any", 5)]),
    ("lerp", lambda m, a, b, w: m.lerp(a, b, w), [any_(3, 5), any_(3, 5), prob(3, 5)]),
    ("lerp_scalar", lambda m, a, b: sq(m.lerp(a, b, 0.3)), [any_(3, 5), any_(5)]),
    ("addcmul", lambda m, a, b, c: m.addcmul(a, b, c, value=0.5), [any_(3, 5)] * 3),
    (
        "addcdiv",
        lambda m, a, b, c: m.addcdiv(a, b, c, value=0.5),
        [any_(3, 5), any_(3, 5), pos(3, 5)],
    ),
    ("clone", lambda m, x: sq(x.clone()), [any_(3, 5)]),
    # in-place ops on a non-leaf compute out of place and rebind the tensor
    ("inplace_unary", lambda m, x: sq((x * 1.0).sin_().exp_()), [any_(3, 5)]),
    ("inplace_arithmetic", lambda m, x, y: (x * 1.0).mul_(y).add_(x).div_(2.0), [any_(3, 5)] * 2),
    ("inplace_pow_clamp", lambda m, x: (x * 1.0).clamp_(min=-0.3).pow_(3), [any_(3, 5)]),
    # reductions
    ("sum", lambda m, x: sq(x.sum()), [any_(3, 5)]),
    ("sum_dim", lambda m, x: sq(x.sum(1)), [any_(3, 5)]),
    ("sum_dims_keepdim", lambda m, x: sq(x.sum((0, 2), keepdim=True)), [any_(3, 5, 2)]),
    ("mean", lambda m, x: x.mean() ** 2, [any_(3, 5)]),
    ("mean_dim", lambda m, x: sq(x.mean(0)), [any_(3, 5)]),
    ("mean_keepdim", lambda m, x: sq(x.mean(-1, keepdim=True)), [any_(3, 5)]),
    ("prod", lambda m, x: x.prod(), [any_(3, 5)]),
    ("prod_dim", lambda m, x: x.prod(1), [any_(3, 5)]),
    ("amax", lambda m, x: sq(x.amax(1)), [any_(3, 5)]),
    ("amin", lambda m, x: sq(m.amin(x, 0)), [any_(3, 5)]),
    ("max_all", lambda m, x: sq(x.max()), [any_(3, 5)]),
    ("max_dim", lambda m, x: sq(x.max(1).values), [any_(3, 5)]),
    ("min_dim_keepdim", lambda m, x: sq(m.min(x, 0, keepdim=True)[0]), [any_(3, 5)]),
    ("var", lambda m, x: x.var(), [any_(3, 5)]),
    ("var_dim", lambda m, x: x.var(1), [any_(3, 5)]),
    ("var_correction_0", lambda m, x: m.var(x, 0, correction=0), [any_(3, 5)]),
    ("std", lambda m, x: x.std(), [any_(3, 5)]),
    ("std_dim", lambda m, x: x.std(0, keepdim=True), [any_(3, 5)]),
    ("var_mean", lambda m, x: m.var_mean(x, 1)[0] * m.var_mean(x, 1)[1], [any_(3, 5)]),
    ("std_mean", lambda m, x: m.std_mean(x, 0)[0] * m.std_mean(x, 0)[1], [any_(3, 5)]),
    ("norm", lambda m, x: x.norm(), [any_(3, 5)]),
    ("norm_dim", lambda m, x: m.norm(x, dim=1), [any_(3, 5)]),
    ("norm_1", lambda m, x: sq(x.norm(p=1)), [any_(3, 5)]),
    ("norm_inf", lambda m, x: sq(x.norm(p=float("inf"))), [any_(3, 5)]),
    ("norm_3", lambda m, x: x.norm(p=3), [any_(3, 5)]),
    ("logsumexp", lambda m, x: m.logsumexp(x, 1), [any_(3, 5)]),
    ("logsumexp_keepdim", lambda m, x: x.logsumexp(0, keepdim=True), [any_(3, 5)]),
    ("softmax", lambda m, x: m.softmax(x, 1), [any_(3, 5)]),
    ("softmax_dim0", lambda m, x: x.softmax(0), [any_(3, 5)]),
    ("log_softmax", lambda m, x: m.log_softmax(x, 1), [any_(3, 5)]),
    ("log_softmax_dim0", lambda m, x: x.log_softmax(0), [any_(3, 5)]),
    ("f_softmax", lambda m, x: functional(m).softmax(x, dim=-1), [any_(2, 3, 5)]),
    ("f_log_softmax", lambda m, x: functional(m).log_softmax(x, dim=1), [any_(2, 3, 5)]),
    # products
    ("matmul", lambda m, a, b: a @ b, [any_(3, 5), any_(5, 4)]),
    ("matmul_batched", lambda m, a, b: m.matmul(a, b), [any_(2, 3, 5), any_(5, 4)]),
    ("matmul_vector", lambda m, a, b: a @ b, [any_(3, 5), any_(5)]),
    ("matmul_vector_left", lambda m, a, b: sq(a @ b), [any_(5), any_(5, 3)]),
    ("mm", lambda m, a, b: m.mm(a, b), [any_(3, 5), any_(5, 2)]),
    ("bmm", lambda m, a, b: m.bmm(a, b), [any_(2, 3, 5), any_(2, 5, 4)]),
    ("dot", lambda m, a, b: sq(m.dot(a, b)), [any_(5), any_(5)]),
    ("outer", lambda m, a, b: m.outer(a, b), [any_(3), any_(5)]),
    ("einsum", lambda m, a, b: m.einsum("ij,jk->ik", a, b), [any_(3, 5), any_(5, 2)]),
    (
        "linear",
        lambda m, x, w, b: functional(m).linear(x, w, b),
        [any_(3, 5), any_(4, 5), any_(4)],
    ),
    ("linear_no_bias", lambda m, x, w: functional(m).linear(x, w), [any_(2, 3, 5), any_(4, 5)]),
    (
        "linear_sq",
        lambda m, x, w, b: sq(functional(m).linear(x, w, b)),
        [any_(3, 5), any_(2, 5), any_(2)],
    ),
    # movement
    ("view", lambda m, x: sq(x.view(5, 3)), [any_(3, 5)]),
    ("view_infer", lambda m, x: sq(x.view(-1)), [any_(3, 5)]),
    ("reshape", lambda m, x: sq(x.t().reshape(15)), [any_(3, 5)]),
    ("flatten", lambda m, x: sq(x.flatten(1)), [any_(2, 3, 5)]),
    ("unflatten", lambda m, x: sq(x.unflatten(1, (5, 1))), [any_(3, 5)]),
    ("permute", lambda m, x: sq(x.permute(2, 0, 1)), [any_(2, 3, 5)]),
    ("transpose", lambda m, x: sq(x.transpose(0, 1)), [any_(3, 5)]),
    ("t", lambda m, x: sq(x.t()) * m.arange(3.0), [any_(3, 5)]),
    ("T", lambda m, x: sq(x.T), [any_(3, 5)]),
    ("movedim", lambda m, x: sq(m.movedim(x, 0, 2)), [any_(2, 3, 5)]),
    ("unsqueeze", lambda m, x: sq(x.unsqueeze(1)), [any_(3, 5)]),
    ("squeeze", lambda m, x: sq(x.squeeze(1)), [any_(3, 1, 5)]),
    ("expand", lambda m, x: sq(x.expand(4, 3, 5)) * m.arange(5.0), [any_(3, 1)]),
    ("broadcast_to", lambda m, x: sq(m.broadcast_to(x, (3, 5))), [any_(5)]),
    ("narrow", lambda m, x: sq(x.narrow(1, 1, 3)), [any_(3, 5)]),
    ("select", lambda m, x: sq(x.select(1, 2)), [any_(3, 5)]),
    ("slice", lambda m, x: sq(x[1:, ::2]), [any_(3, 5)]),
    ("index_int", lambda m, x: sq(x[1]), [any_(3, 5)]),
    ("index_tensor", lambda m, x: sq(x[m.tensor([2, 0, 2])]), [any_(3, 5)]),
    ("index_two_tensors", lambda m, x: sq(x[m.tensor([2, 0]), m.tensor([1, 4])]), [any_(3, 5)]),
    ("index_mask", lambda m, x, c: sq(x[c > 0]), [any_(3, 5), const("any", 3, 5)]),
    ("masked_select", lambda m, x, c: sq(m.masked_select(x, c > 0)), [any_(3, 5), const("any", 5)]),
    ("unbind", lambda m, x: sq(x.unbind(1)[1]) + x.unbind(1)[3], [any_(3, 5)]),
    ("split", lambda m, x: sq(x.split(2, 1)[2]) * x.split(2, 1)[0][:, :1], [any_(3, 5)]),
    ("split_sizes", lambda m, x: sq(m.split(x, [1, 2], 0)[1]), [any_(3, 5)]),
    ("chunk", lambda m, x: sq(x.chunk(2, 0)[0]), [any_(3, 5)]),
    ("tensor_split", lambda m, x: sq(m.tensor_split(x, 2, 1)[1]), [any_(3, 5)]),
    ("contiguous", lambda m, x: sq(x.t().contiguous()), [any_(3, 5)]),
    ("cat", lambda m, x, y: sq(m.cat([x, y, x], 1)), [any_(3, 5), any_(3, 2)]),
    ("stack", lambda m, x, y: sq(m.stack([x, y], 2)), [any_(3, 5), any_(3, 5)]),
    ("hstack", lambda m, x, y: sq(m.hstack([x, y])), [any_(3, 5), any_(3, 1)]),
    ("vstack", lambda m, x, y: sq(m.vstack([x, y])), [any_(3, 5), any_(5)]),
    ("gather", lambda m, x: sq(x.gather(1, m.tensor([[0, 4], [2, 2], [1, 0]]))), [any_(3, 5)]),
    (
        "scatter_add",
        lambda m, x, s: sq(x.scatter_add(0, m.tensor([[2, 0, 1, 2, 2]]), s)),
        [any_(3, 5), any_(1, 5)],
    ),
    ("index_select", lambda m, x: sq(x.index_select(1, m.tensor([4, 0, 4]))), [any_(3, 5)]),
    # nn.functional activations
    ("f_relu", lambda m, x: sq(functional(m).relu(x)), [any_(3, 5)]),
    ("f_sigmoid", lambda m, x: functional(m).sigmoid(x), [any_(3, 5)]),
    ("f_tanh", lambda m, x: functional(m).tanh(x), [any_(3, 5)]),
    # losses
    ("mse_loss", lambda m, x, y: functional(m).mse_loss(x, y), [any_(3, 5), const("any", 3, 5)]),
    (
        "mse_loss_squared",
        lambda m, x, y: functional(m).mse_loss(x, y) ** 2,
        [any_(3, 5), const("any", 3, 5)],
    ),
    (
        "mse_loss_both",
        lambda m, x, y: functional(m).mse_loss(x, y, reduction="sum") ** 2,
        [any_(3, 5), any_(3, 5)],
    ),
    (
        "mse_loss_none",
        lambda m, x, y: functional(m).mse_loss(x, y, reduction="none"),
        [any_(3, 5), any_(3, 5)],
    ),
    ("l1_loss", lambda m, x, y: functional(m).l1_loss(x, y) ** 2, [any_(3, 5), const("any", 3, 5)]),
    (
        "bce",
        lambda m, x, y: functional(m).binary_cross_entropy(x, y),
        [prob(3, 5), const("prob", 3, 5)],
    ),
    (
        "bce_weight_sum",
        lambda m, x, y, w: functional(m).binary_cross_entropy(x, y, w, reduction="sum"),
        [prob(3, 5), const("prob", 3, 5), const("pos", 3, 5)],
    ),
    (
        "bce_with_logits",
        lambda m, x, y: functional(m).binary_cross_entropy_with_logits(x, y),
        [any_(3, 5), const("prob", 3, 5)],
    ),
    (
        "bce_with_logits_pos_weight",
        lambda m, x, y, p: functional(m).binary_cross_entropy_with_logits(
            x, y, pos_weight=p, reduction="none"
        ),
        [any_(3, 5), const("prob", 3, 5), const("pos", 5)],
    ),
    (
        "cross_entropy",
        lambda m, x: functional(m).cross_entropy(x, m.tensor([1, 0, 4])),
        [any_(3, 5)],
    ),
    (
        "cross_entropy_sum_ignore",
        lambda m, x: functional(m).cross_entropy(x, m.tensor([1, -100, 4]), reduction="sum"),
        [any_(3, 5)],
    ),
    (
        "cross_entropy_none",
        lambda m, x: functional(m).cross_entropy(x, m.tensor([3, 0, 2]), reduction="none"),
        [any_(3, 5)],
    ),
    (
        "cross_entropy_squared",
        lambda m, x: functional(m).cross_entropy(x, m.tensor([3, 0, 2])) ** 2,
        [any_(3, 5)],
    ),
    (
        "cross_entropy_weight",
        lambda m, x, w: functional(m).cross_entropy(x, m.tensor([1, 0, 4]), weight=w),
        [any_(3, 5), const("pos", 5)],
    ),
    (
        "cross_entropy_smoothing",
        lambda m, x: functional(m).cross_entropy(x, m.tensor([1, 0, 4]), label_smoothing=0.1),
        [any_(3, 5)],
    ),
    (
        "cross_entropy_probabilities",
        lambda m, x, p: functional(m).cross_entropy(x, p),
        [any_(3, 5), const("prob", 3, 5)],
    ),
    (
        "cross_entropy_3d",
        lambda m, x: functional(m).cross_entropy(x, m.tensor([[1, 0], [2, 2], [0, 1]])),
        [any_(3, 3, 2)],
    ),
    (
        "nll_loss",
        lambda m, x: functional(m).nll_loss(x.log_softmax(1), m.tensor([1, 0, 4])),
        [any_(3, 5)],
    ),
    (
        "nll_loss_weight_ignore",
        lambda m, x, w: functional(m).nll_loss(
            m.log_softmax(x, 1), m.tensor([1, 2, 4]), weight=w, ignore_index=2
        ),
        [any_(3, 5), const("pos", 5)],
    ),
    ("nll_loss_raw", lambda m, x: sq(functional(m).nll_loss(x, m.tensor([1, 0, 4]))), [any_(3, 5)]),
]


# ---- the check -------------------------------------------------------------------------


def _inputs(specs, seed):
    rng = np.random.default_rng(seed)
    arrays = [_sample(kind, shape, rng).astype(np.float32) for kind, shape in specs]
    grads = [not kind.startswith("c_") for kind, _ in specs]
    xs = [to_engine(a, requires_grad=g) for a, g in zip(arrays, grads, strict=True)]
    ts = [
        torch.tensor(a, dtype=torch.float64, requires_grad=g)
        for a, g in zip(arrays, grads, strict=True)
    ]
    return rng, xs, ts, grads


def _close(actual, expected, what):
    got = actual.numpy() if isinstance(actual, engine.Tensor) else np.asarray(actual)
    want = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    assert got.shape == tuple(want.shape), f"{what}: shape {got.shape} != {tuple(want.shape)}"
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=what)


def _engine_grad(outputs, inputs, grad_outputs=None, **kwargs):
    return engine.autograd.grad(outputs, inputs, grad_outputs, allow_unused=True, **kwargs)


def check_second_order(fn, specs, seed=0):
    rng, xs, ts, grads = _inputs(specs, seed)
    out = fn(engine, *xs)
    ref = fn(torch, *ts)
    _close(out, ref, "forward")
    u = rng.standard_normal(tuple(ref.shape)).astype(np.float32)
    eu, tu = to_engine(u), torch.tensor(u, dtype=torch.float64)
    diff_e = [x for x, g in zip(xs, grads, strict=True) if g]
    diff_t = [t for t, g in zip(ts, grads, strict=True) if g]

    # first derivatives, without a graph (the fused kernels) and with one
    fused = _engine_grad(out, diff_e, eu, retain_graph=True)
    first = _engine_grad(out, diff_e, eu, create_graph=True)
    expected = torch.autograd.grad(ref, diff_t, tu, create_graph=True, allow_unused=True)
    for i, (a, b, want) in enumerate(zip(fused, first, expected, strict=True)):
        want = torch.zeros_like(diff_t[i]) if want is None else want
        _close(a, want, f"first derivative {i} (fused)")
        _close(b, want, f"first derivative {i} (create_graph)")

    # second derivatives: d <first, v> / d inputs
    vs = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for t in diff_t]
    e_terms = [(g * to_engine(v)).sum() for g, v in zip(first, vs, strict=True) if g is not None]
    t_terms = [
        (g * torch.tensor(v, dtype=torch.float64)).sum()
        for g, v in zip(expected, vs, strict=True)
        if g is not None and g.requires_grad
    ]
    e_total = sum(e_terms[1:], e_terms[0])
    if e_total.requires_grad:
        second = _engine_grad(e_total, diff_e)
    else:
        second = [None] * len(diff_e)
    if t_terms:
        t_second = torch.autograd.grad(sum(t_terms), diff_t, allow_unused=True)
    else:
        t_second = [None] * len(diff_t)
    for i, (a, want) in enumerate(zip(second, t_second, strict=True)):
        want = torch.zeros_like(diff_t[i]) if want is None else want
        if a is None:
            a = np.zeros(tuple(want.shape), np.float32)
        _close(a, want, f"second derivative {i}")


@pytest.mark.parametrize("name,fn,specs", CASES, ids=[c[0] for c in CASES])
def test_second_derivative(name, fn, specs):
    check_second_order(fn, specs)


def test_the_cases_cover_every_unary_op_with_a_derivative():
    from engine.ops import pointwise

    x = engine.ones(2, requires_grad=True)
    differentiable = {name for name in pointwise.UNARY if getattr(x, name)().requires_grad}
    assert differentiable == set(UNARY)


def test_third_derivative_of_sin_and_tanh():
    x = engine.tensor([0.3, -1.2, 2.0], requires_grad=True)
    t = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64, requires_grad=True)
    for name in ("sin", "tanh", "sigmoid", "exp"):
        e, r = getattr(x, name)().sum(), getattr(t, name)().sum()
        for order in range(3):
            (e,) = engine.autograd.grad(e, [x], create_graph=True)
            (r,) = torch.autograd.grad(r, [t], create_graph=True)
            _close(e, r, f"{name} derivative {order + 1}")
            e, r = e.sum(), r.sum()


def test_known_bugs_of_issue_8():
    x = engine.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    (g,) = engine.autograd.grad(x.mean() ** 2, [x], create_graph=True)
    assert g.requires_grad
    for fn in (lambda t: t.softmax(1), lambda t: t.log_softmax(1)):
        (g,) = engine.autograd.grad(
            (fn(x) * engine.tensor([1.0, 2.0, 3.0])).sum(), [x], create_graph=True
        )
        assert g.requires_grad
    xs = engine.tensor([0.3, -0.7, 1.1, 0.2], requires_grad=True)
    ts = torch.tensor([0.3, -0.7, 1.1, 0.2], dtype=torch.float64, requires_grad=True)
    loss_e = engine.nn.functional.mse_loss(xs, engine.zeros(4)) ** 2
    loss_t = torch.nn.functional.mse_loss(ts, torch.zeros(4, dtype=torch.float64)) ** 2
    (ge,) = engine.autograd.grad(loss_e, [xs], create_graph=True)
    (gt,) = torch.autograd.grad(loss_t, [ts], create_graph=True)
    (he,) = engine.autograd.grad(ge.sum(), [xs])
    (ht,) = torch.autograd.grad(gt.sum(), [ts])
    _close(he, ht, "second derivative of mse_loss ** 2")


def test_a_fused_backward_is_one_dispatch():
    """Without create_graph, the backward of an elementwise op stays one fused kernel."""
    dev = engine._get_device()
    x = engine.randn(3, 5).abs().add_(0.5).requires_grad_()
    u = engine.randn(3, 5)
    cases = {name: lambda t, n=name: getattr(t, n)() for name in UNARY}
    cases.update(
        gelu=lambda t: t.gelu(),
        gelu_tanh=lambda t: t.gelu("tanh"),
        leaky_relu=lambda t: t.leaky_relu(0.1),
        clamp=lambda t: t.clamp(min=0.7),
        pow=lambda t: t**2.5,
        rpow=lambda t: 2.0**t,
        softmax_out=lambda t: t.softmax(1),
        log_softmax_out=lambda t: t.log_softmax(1),
    )
    # frac's is the incoming gradient itself; softmax: g * out, its sum and one map;
    # log_softmax: the sum of g and one map
    expected = {"frac": 0, "softmax_out": 3, "log_softmax_out": 2}
    for name, fn in cases.items():
        y = fn(x)
        engine.synchronize()
        before = dev.stats["dispatches"]
        engine.autograd.grad(y, [x], u)
        assert dev.stats["dispatches"] - before == expected.get(name, 1), name


def test_mean_backward_is_one_dispatch():
    dev = engine._get_device()
    x = engine.randn(3, 5, requires_grad=True)
    y, u = x.mean(1), engine.ones(3)
    before = dev.stats["dispatches"]
    engine.autograd.grad(y, [x], u)
    assert dev.stats["dispatches"] - before == 1


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_second_derivative(reduction):
    labels = [1, -100, 4, 0]
    check_second_order(
        lambda m, x: (
            engine._cross_entropy(x, engine.tensor(labels), reduction=reduction)
            if m is engine
            else torch.nn.functional.cross_entropy(x, torch.tensor(labels), reduction=reduction)
        ),
        [any_(4, 5)],
    )


def test_second_derivative_through_a_linear_layer_and_mlp():
    """A gradient penalty, the usual reason for create_graph: d/dw of |d loss / d x|^2."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    w1 = rng.standard_normal((6, 5)).astype(np.float32) * 0.5
    b1 = rng.standard_normal(6).astype(np.float32) * 0.1
    w2 = rng.standard_normal((3, 6)).astype(np.float32) * 0.5
    labels = [0, 2, 1, 1]

    def run(m, tensors):
        xx, a, b, c = tensors
        F_ = functional(m)
        hidden = F_.gelu(F_.linear(xx, a, b))
        loss = F_.cross_entropy(F_.linear(hidden, c), m.tensor(labels))
        (gx,) = m.autograd.grad(loss, [xx], create_graph=True)
        penalty = (gx * gx).sum()
        return m.autograd.grad(penalty, [a, b, c])

    got = run(engine, [to_engine(v, requires_grad=True) for v in (x, w1, b1, w2)])
    want = run(
        torch,
        [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, w1, b1, w2)],
    )
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        _close(a, b, f"penalty gradient {i}")


def test_create_graph_gradient_is_differentiable_wrt_the_upstream_gradient():
    """The gradient of a gradient with respect to grad_outputs (double backward trick)."""
    x = engine.tensor([0.2, -0.4, 1.5], requires_grad=True)
    u = engine.tensor([1.0, 2.0, -1.0], requires_grad=True)
    t = torch.tensor([0.2, -0.4, 1.5], dtype=torch.float64, requires_grad=True)
    tu = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64, requires_grad=True)
    for name in ("sin", "sigmoid", "relu", "exp", "erf", "silu"):

        def fn(m, name=name):
            return functional(m).silu if name == "silu" else getattr(m, name)

        (ge,) = engine.autograd.grad(fn(engine)(x), [x], u, create_graph=True)
        (gt,) = torch.autograd.grad(fn(torch)(t), [t], tu, create_graph=True)
        (de,) = engine.autograd.grad((ge * ge).sum(), [u])
        (dt,) = torch.autograd.grad((gt * gt).sum(), [tu])
        _close(de, dt, name)
