"""Stateless neural-network functions, as in ``torch.nn.functional``.

Each function is composed from engine functions and Tensor methods, plus the fused
kernels the engine exposes for the hot paths (``engine._linear``: matmul with the bias
added in the same dispatch; ``engine._cross_entropy``); each op is at least one GPU
kernel dispatch, so the compositions are kept short.
"""

import warnings

import engine

# --------------------------------------------------------------------- layers


def linear(input, weight, bias=None):
    r"""Apply an affine map: :math:`y = x A^T + b`.

    Shapes: ``input`` :math:`(*, H_{in})`, ``weight`` :math:`(H_{out}, H_{in})`,
    ``bias`` :math:`(H_{out})`, output :math:`(*, H_{out})`.
    """
    # One fused dispatch (matmul + bias) with its own backward rule.
    return engine._linear(input, weight, bias)


def _no_inplace(function_name, inplace):
    if inplace:
        raise NotImplementedError(f"{function_name}(inplace=True) is not supported by the engine")


def relu(input, inplace=False):
    r""":math:`\text{ReLU}(x) = \max(0, x)`, elementwise."""
    _no_inplace("relu", inplace)
    return engine.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    r""":math:`\text{LeakyReLU}(x) = x` if :math:`x > 0`, else
    :math:`\text{negative\_slope} \cdot x`."""
    _no_inplace("leaky_relu", inplace)
    return input.leaky_relu(negative_slope)


def gelu(input, approximate="none"):
    r""":math:`\text{GELU}(x) = x \cdot \Phi(x)`, with :math:`\Phi` the standard normal CDF.

    ``approximate="none"``: :math:`\Phi(x) = \frac{1}{2}(1 + \text{erf}(x / \sqrt{2}))`.
    ``approximate="tanh"``:
    :math:`\Phi(x) \approx \frac{1}{2}(1 + \tanh(\sqrt{2/\pi}\,(x + 0.044715\,x^3)))`.
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return input.gelu(approximate)


def sigmoid(input):
    r""":math:`\sigma(x) = 1 / (1 + e^{-x})`, elementwise."""
    return engine.sigmoid(input)


def silu(input, inplace=False):
    r""":math:`\text{SiLU}(x) = x \cdot \sigma(x)`, elementwise."""
    _no_inplace("silu", inplace)
    return engine.silu(input)


def tanh(input):
    r""":math:`\tanh(x)`, elementwise."""
    return engine.tanh(input)


def _implicit_softmax_dim(name, ndim):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    r""":math:`\text{Softmax}(x_i) = \frac{e^{x_i}}{\sum_j e^{x_j}}` along ``dim``.

    The output has the shape of the input; slices along ``dim`` sum to 1.
    """
    if dim is None:
        dim = _implicit_softmax_dim("softmax", input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return engine.softmax(input, dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    r""":math:`\text{LogSoftmax}(x_i) = x_i - \log \sum_j e^{x_j}` along ``dim``."""
    if dim is None:
        dim = _implicit_softmax_dim("log_softmax", input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return engine.log_softmax(input, dim)


def dropout(input, p=0.5, training=True, inplace=False):
    r"""Zero each element with probability ``p`` and scale the rest by :math:`1/(1-p)`
    (training only; the identity otherwise), so that the expected value is unchanged."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _no_inplace("dropout", inplace)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep_scaled = (engine.rand_like(input) >= p).float() * (1.0 / (1.0 - p))
    return input * keep_scaled


def one_hot(tensor, num_classes=-1):
    r"""Turn integer class indices of shape :math:`(*)` into a ``long`` tensor of shape
    :math:`(*, \text{num\_classes})` with a single 1 per row.

    ``num_classes=-1`` means one more than the largest index (a GPU readback).
    """
    if tensor.dtype not in (engine.int32, engine.int64):
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        num_classes = int(tensor.max().item()) + 1 if tensor.numel() > 0 else 0
    classes = engine.arange(num_classes, dtype=tensor.dtype)
    return (tensor.unsqueeze(-1) == classes).long()


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type=2.0,
    scale_grad_by_freq=False,
    sparse=False,
):
    r"""The rows of ``weight`` at the ids in ``input``: engine/nn/modules/sparse.py."""
    from .modules import sparse as _sparse  # a real cycle: the modules import functional

    return _sparse.embedding(
        input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse
    )


def embedding_bag(
    input,
    weight,
    offsets=None,
    max_norm=None,
    norm_type=2,
    scale_grad_by_freq=False,
    mode="mean",
    sparse=False,
    per_sample_weights=None,
    include_last_offset=False,
    padding_idx=None,
):
    r"""Sums or means of bags of rows of ``weight``: engine/nn/modules/sparse.py."""
    from .modules import sparse as _sparse  # a real cycle: the modules import functional

    return _sparse.embedding_bag(
        input,
        weight,
        offsets,
        max_norm,
        norm_type,
        scale_grad_by_freq,
        mode,
        sparse,
        per_sample_weights,
        include_last_offset,
        padding_idx,
    )


# --------------------------------------------------------------------- losses


def _legacy_reduction(size_average, reduce):
    warnings.warn(
        "size_average and reduce args will be deprecated, please use reduction instead.",
        stacklevel=3,
    )
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _resolve_reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    return reduction


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _warn_if_broadcast(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )


def _pointwise_loss(elementwise, weight, reduction):
    if weight is None:
        return _reduce(elementwise, reduction)
    if tuple(weight.shape) != tuple(elementwise.shape):
        raise ValueError("Weights and input must have the same size.")
    weighted = elementwise * weight
    if reduction == "mean":
        return weighted.sum() / weight.sum()
    return _reduce(weighted, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r"""Mean squared error: :math:`\ell_n = (x_n - y_n)^2`, then reduced.

    ``input`` and ``target`` broadcast (with a warning if their shapes differ).
    With ``weight`` (same shape as input), ``mean`` is :math:`\sum w_n \ell_n / \sum w_n`.
    """
    _warn_if_broadcast(input, target)
    reduction = _resolve_reduction(size_average, reduce, reduction)
    difference = input - target
    return _pointwise_loss(difference * difference, weight, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r"""Mean absolute error: :math:`\ell_n = |x_n - y_n|`, then reduced."""
    _warn_if_broadcast(input, target)
    reduction = _resolve_reduction(size_average, reduce, reduction)
    return _pointwise_loss((input - target).abs(), weight, reduction)


def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    r"""Binary cross entropy between probabilities ``input`` and ``target``:

    .. math::
        \ell_n = -w_n \left[ y_n \log x_n + (1 - y_n) \log (1 - x_n) \right]

    Each log is clamped to be :math:`\ge -100`, as in PyTorch, so that the loss
    stays finite at :math:`x_n \in \{0, 1\}`. Shapes: input, target and the
    optional ``weight`` (broadcast) are :math:`(*)`.
    """
    reduction = _resolve_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size."
        )
    log_p = engine.log(input).clamp(min=-100.0)
    log_not_p = engine.log(1.0 - input).clamp(min=-100.0)
    # y log p + (1 - y) log(1 - p), written with one multiplication by y.
    loss = -(log_not_p + target * (log_p - log_not_p))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input,
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction="mean",
    pos_weight=None,
):
    r"""Sigmoid followed by binary cross entropy, computed stably from logits ``x``:

    .. math::
        \ell_n = -w_n \left[ p_c\, y_n \log \sigma(x_n) + (1 - y_n) \log (1 - \sigma(x_n)) \right]
               = w_n \left[ (1 - y_n)\, x_n + (1 + (p_c - 1) y_n)\,\text{softplus}(-x_n) \right]

    where :math:`\text{softplus}(-x) = \log(1 + e^{-|x|}) + \max(-x, 0)` and ``pos_weight``
    :math:`p_c` (default 1) broadcasts along the last (class) dimension.
    """
    reduction = _resolve_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Target size ({target.shape}) must be the same as input size ({input.shape})"
        )
    softplus_of_negative = engine.log((-input.abs()).exp() + 1.0) + engine.relu(-input)
    if pos_weight is not None:
        log_weight = (pos_weight - 1.0) * target + 1.0
        softplus_of_negative = softplus_of_negative * log_weight
    loss = (1.0 - target) * input + softplus_of_negative
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _class_dim(input):
    return 1 if input.dim() >= 2 else 0


def _broadcast_class_weight(weight, input):
    """View a per-class weight (C,) so that it broadcasts along dim 1 of input."""
    if input.dim() <= 2:
        return weight
    return weight.view([1, weight.shape[0]] + [1] * (input.dim() - 2))


def _check_class_target(input, target):
    if input.dim() == 1:
        if target.dim() != 0:
            raise ValueError(
                f"Expected a 0-dimensional target for a 1-dimensional input, got {target.shape}"
            )
        return
    if input.dim() == 0:
        raise ValueError("Expected an input with at least 1 dimension (the classes), got 0")
    target_batch = target.shape[0] if target.dim() > 0 else None
    if target_batch != input.shape[0]:
        raise ValueError(
            f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
            f"({target_batch})."
        )
    expected = (input.shape[0],) + tuple(input.shape)[2:]
    if tuple(target.shape) != expected:
        raise RuntimeError(f"Expected target size {expected}, got {tuple(target.shape)}")


def _nll_from_log_probs(log_probs, target, weight, ignore_index, reduction, label_smoothing):
    r"""Negative log likelihood of class indices, with optional label smoothing.

    Per element (ignored targets contribute 0):

    .. math::
        \ell_n = -(1 - \epsilon)\, w_{y_n} \log p_{n, y_n}
                 - \frac{\epsilon}{C} \sum_c w_c \log p_{n, c}

    and ``mean`` divides the sum by :math:`\sum_n w_{y_n}` over non-ignored elements.
    """
    _check_class_target(log_probs, target)
    class_dim = _class_dim(log_probs)
    num_classes = log_probs.shape[class_dim]
    ignored = target == ignore_index
    safe_target = target.masked_fill(ignored, 0)
    picked = log_probs.gather(class_dim, safe_target.unsqueeze(class_dim)).squeeze(class_dim)
    if weight is None:
        target_weight = (target != ignore_index).float()
    else:
        target_weight = weight.index_select(0, safe_target.flatten()).view(tuple(target.shape))
        target_weight = target_weight.masked_fill(ignored, 0.0)
    loss = -(picked * target_weight)
    if label_smoothing > 0.0:
        if weight is None:
            smooth = log_probs.sum(class_dim)
        else:
            smooth = (log_probs * _broadcast_class_weight(weight, log_probs)).sum(class_dim)
        smooth = smooth.masked_fill(ignored, 0.0)
        loss = loss * (1.0 - label_smoothing) - smooth * (label_smoothing / num_classes)
    if reduction == "mean":
        return loss.sum() / target_weight.sum()
    return _reduce(loss, reduction)


def nll_loss(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
):
    r"""Negative log likelihood loss, for ``input`` holding log-probabilities:

    .. math::
        \ell_n = -w_{y_n} x_{n, y_n} \quad (0 \text{ if } y_n = \text{ignore\_index})

    ``mean`` divides by :math:`\sum_n w_{y_n}` over non-ignored targets.

    Shapes: input :math:`(N, C)`, :math:`(C)` or :math:`(N, C, d_1, \ldots)`; target of
    class indices :math:`(N)`, :math:`()` or :math:`(N, d_1, \ldots)`; weight :math:`(C)`.
    """
    reduction = _resolve_reduction(size_average, reduce, reduction)
    return _nll_from_log_probs(input, target, weight, ignore_index, reduction, 0.0)


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
):
    r"""Cross entropy between logits ``input`` and ``target``: ``log_softmax`` over the
    class dimension (dim 1, or 0 for unbatched input) followed by the negative log
    likelihood.

    ``target`` is either class indices (integer tensor, shape of input without the
    class dimension; see :func:`nll_loss`, including ``ignore_index`` and
    ``label_smoothing`` :math:`\epsilon`) or class probabilities (float tensor, same
    shape as input):

    .. math::
        \ell_n = -\sum_c w_c\, \tilde y_{n,c} \log \text{softmax}(x_n)_c, \qquad
        \tilde y = (1 - \epsilon)\, y + \epsilon / C

    and ``mean`` over probability targets divides by the number of elements :math:`N`.
    """
    reduction = _resolve_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = _class_dim(input)
    if (
        input.ndim == 2
        and target.dtype is engine.int64
        and weight is None
        and label_smoothing == 0.0
        and tuple(target.shape) == (input.shape[0],)
        and input.shape[0] > 0
    ):
        # the common case, fused into one dispatch forward and one backward
        return engine._cross_entropy(input, target, ignore_index, reduction)
    log_probs = engine.log_softmax(input, class_dim)
    if target.dtype in (engine.int32, engine.int64):
        return _nll_from_log_probs(
            log_probs, target, weight, ignore_index, reduction, label_smoothing
        )
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(
            "Expected target of class indices or of class probabilities with the input's "
            f"shape {tuple(input.shape)}, got {tuple(target.shape)}"
        )
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / input.shape[class_dim]
    weighted = log_probs * target
    if weight is not None:
        weighted = weighted * _broadcast_class_weight(weight, input)
    return _reduce(-weighted.sum(class_dim), reduction)
