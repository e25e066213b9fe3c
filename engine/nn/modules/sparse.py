"""Embedding and EmbeddingBag: lookup tables of vectors, as ``torch.nn.modules.sparse``.

``embedding`` and ``embedding_bag`` (re-exported by ``engine.nn.functional``) are a gather
of table rows (out-of-range ids raise IndexError at the next readback, as gather does) with
their own backward: one scatter-add of the output gradient into the table, with the
padding row's gradient zeroed and, with ``scale_grad_by_freq``, each row's gradient divided
by how often its id occurs. A bag sums its rows with one more scatter-add.
"""

import engine

from .. import init
from ..parameter import Parameter
from .module import Module, _check_device


def _check_ids(input, op):
    if not isinstance(input, engine.Tensor) or input.dtype is not engine.int64:
        got = input.dtype if isinstance(input, engine.Tensor) else type(input).__name__
        raise RuntimeError(
            f"{op}: Expected tensor for argument #1 'indices' to have one of the following "
            f"scalar types: Long, Int; but got {got} instead"
        )


def _renorm_(weight, ids, max_norm, norm_type):
    """Rescale in place the rows of `weight` that `ids` use whose norm exceeds max_norm."""
    with engine.no_grad():
        num = weight.shape[0]
        used = engine.zeros(num).scatter_add(0, ids, engine.ones(ids.shape)) > 0
        norms = weight.norm(norm_type, dim=1)
        scale = engine.where(used & (norms > max_norm), max_norm / (norms + 1e-7), 1.0)
        weight.mul_(scale.unsqueeze(1))


def _lookup(ids, weight, padding_idx, scale_grad_by_freq):
    """weight[ids] for flat ids (L,), shape (L, D), with the embedding backward."""
    num, dim = weight.shape
    rows = engine.index_select(weight.detach(), 0, ids)
    if not (engine.is_grad_enabled() and weight.requires_grad):
        return rows

    def grad_fn(g, o):
        g = g.reshape(-1, dim)
        if padding_idx is not None:
            g = g.masked_fill((ids == padding_idx).unsqueeze(1), 0.0)
        if scale_grad_by_freq:
            counts = engine.zeros(num).scatter_add(0, ids, engine.ones(ids.shape))
            g = g / counts.gather(0, ids).unsqueeze(1)
        index = ids.unsqueeze(1).expand(ids.shape[0], dim)
        return (engine.zeros(num, dim).scatter_add(0, index, g),)

    return engine.autograd.record(rows, "EmbeddingBackward0", (weight,), grad_fn)


def _padding(padding_idx, num_embeddings):
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx % num_embeddings


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type=2.0,
    scale_grad_by_freq=False,
    sparse=False,
):
    r"""Look up the rows of ``weight`` (:math:`(\text{num\_embeddings}, D)`) at the ids in
    ``input`` (any shape, integer): output :math:`(*, D)`. The row at ``padding_idx`` gets
    no gradient; with ``max_norm`` the rows used are renormalized in place first."""
    _check_ids(input, "embedding")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D, got shape {tuple(weight.shape)}")
    if sparse:
        raise NotImplementedError("embedding(sparse=True): sparse gradients are not supported")
    padding_idx = _padding(padding_idx, weight.shape[0])
    ids = input.reshape(-1)
    if max_norm is not None:
        _renorm_(weight, ids, max_norm, norm_type)
    rows = _lookup(ids, weight, padding_idx, scale_grad_by_freq)
    return rows.reshape(*input.shape, weight.shape[1])


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
    r"""Sums or means of bags of embedding rows: ``input`` :math:`(B, N)` (B bags of N ids)
    or 1-D ids with ``offsets`` (the start of each bag). Output :math:`(B, D)`; an empty bag
    gives zeros; ids equal to ``padding_idx`` are left out of their bag (and of its count)."""
    _check_ids(input, "embedding_bag")
    if mode not in ("sum", "mean"):
        if mode == "max":
            raise NotImplementedError("embedding_bag(mode='max') is not implemented")
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub."
        )
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(
            f"embedding_bag: per_sample_weights of shape {tuple(per_sample_weights.shape)} "
            f"must have the shape of input {tuple(input.shape)}"
        )
    num, dim = weight.shape
    padding_idx = _padding(padding_idx, num)
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None")
        bags, n = input.shape
        ids = input.reshape(-1)
        bag_of = engine.arange(bags * n, dtype=engine.int64) // max(n, 1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        _check_ids(offsets, "embedding_bag (offsets)")
        ids = input
        starts = offsets[:-1] if include_last_offset else offsets
        bags = starts.shape[0]
        # bag of position j: the number of bags after the first that start at or before j
        positions = engine.arange(ids.shape[0], dtype=engine.int64).unsqueeze(1)
        bag_of = (positions >= starts[1:].unsqueeze(0)).long().sum(1)
    else:
        raise ValueError(
            f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}"
        )
    if max_norm is not None:
        _renorm_(weight, ids, max_norm, norm_type)
    rows = _lookup(ids, weight, padding_idx, scale_grad_by_freq)
    weights = None if per_sample_weights is None else per_sample_weights.reshape(-1, 1)
    if padding_idx is not None:
        keep = (ids != padding_idx).float().unsqueeze(1)
        weights = keep if weights is None else weights * keep
    if weights is not None:
        rows = rows * weights
    index = bag_of.unsqueeze(1).expand(ids.shape[0], dim)
    out = engine.zeros(bags, dim).scatter_add(0, index, rows)
    if mode == "mean":
        ones = engine.ones(ids.shape[0], 1) if weights is None else weights
        counts = engine.zeros(bags, 1).scatter_add(0, bag_of.unsqueeze(1), ones)
        out = out / counts.clamp(min=1.0)
    return out


class Embedding(Module):
    r"""A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``.

    Args:
        num_embeddings: size of the table. embedding_dim: size of each vector.
        padding_idx: this row gets no gradient (and starts as zeros).
        max_norm: rows looked up with a larger ``norm_type``-norm are renormalized in place.
        scale_grad_by_freq: divide each row's gradient by its id's count in the batch.

    Shape: input :math:`(*)` integer ids, output :math:`(*, \text{embedding\_dim})`.

    Attributes:
        weight: learnable :math:`(\text{num\_embeddings}, \text{embedding\_dim})`, drawn
            from :math:`\mathcal{N}(0, 1)`.
    """

    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        padding_idx=None,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        sparse=False,
        _weight=None,
        _freeze=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        _check_device(device)
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _padding(padding_idx, num_embeddings)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(engine.empty(num_embeddings, embedding_dim), not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError(
                    "Shape of weight does not match num_embeddings and embedding_dim"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with engine.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        return embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze=True,
        padding_idx=None,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        sparse=False,
    ):
        """An Embedding holding `embeddings` (2-D); frozen (no gradient) unless freeze=False."""
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(
            rows,
            cols,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=embeddings,
            _freeze=freeze,
        )


class EmbeddingBag(Module):
    r"""Sums or means of bags of embedding rows (``mode`` "sum" or "mean"), without
    materializing the rows of every bag separately for the caller.

    Shape: input :math:`(B, N)`, or 1-D ids with ``offsets`` :math:`(B)`; output
    :math:`(B, \text{embedding\_dim})`.
    """

    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        mode="mean",
        sparse=False,
        _weight=None,
        include_last_offset=False,
        padding_idx=None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        _check_device(device)
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset
        self.padding_idx = _padding(padding_idx, num_embeddings)
        if _weight is None:
            self.weight = Parameter(engine.empty(num_embeddings, embedding_dim))
            self.reset_parameters()
        else:
            self.weight = Parameter(_weight)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with engine.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze=True,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        mode="mean",
        sparse=False,
        include_last_offset=False,
        padding_idx=None,
    ):
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(
            rows,
            cols,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            mode,
            sparse,
            embeddings,
            include_last_offset,
            padding_idx,
        )
        bag.weight.requires_grad = not freeze
        return bag
