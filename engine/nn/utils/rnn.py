"""Packed sequences, as ``torch.nn.utils.rnn``: a batch of sequences of different lengths.

A PackedSequence's ``data`` is the time-major concatenation of the steps: at step t, the
first ``batch_sizes[t]`` sequences (sorted by decreasing length). Packing and padding are
one gather each (``index_select``, so gradients flow both ways); the index is built on
the host from the lengths, which PyTorch also keeps on the CPU.
"""

from collections import namedtuple

import engine


class PackedSequence(
    namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])
):
    """Holds the data and the list of batch sizes of a packed sequence."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False

    def to(self, *args, **kwargs):
        return self


def _invert(permutation):
    order = permutation.tolist()
    inverse = [0] * len(order)
    for i, j in enumerate(order):
        inverse[j] = i
    return engine.tensor(inverse, dtype=engine.int64)


def _lengths_of(batch_sizes) -> list:
    sizes = batch_sizes.tolist()
    return [sum(1 for s in sizes if s > b) for b in range(sizes[0] if sizes else 0)]


def _pack_index(lengths, batch) -> list:
    """Positions in the flattened time-major (T * B) padded batch of each packed row."""
    steps = max(lengths) if lengths else 0
    return [t * batch + b for t in range(steps) for b in range(batch) if lengths[b] > t]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into (max L, B, *) (or (B, max L, *)), padded."""
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            pad = engine.full((missing, *s.shape[1:]), padding_value, dtype=s.dtype)
            s = engine.cat([s, pad] if padding_side == "right" else [pad, s])
        padded.append(s)
    return engine.stack(padded, 0 if batch_first else 1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *)) of sequences of the given lengths."""
    lengths = [
        int(n) for n in (lengths.tolist() if isinstance(lengths, engine.Tensor) else lengths)
    ]
    batch = input.shape[0 if batch_first else 1]
    if len(lengths) != batch:
        raise RuntimeError(
            f"pack_padded_sequence: expected {batch} lengths (the batch size), got {len(lengths)}"
        )
    if any(n <= 0 for n in lengths):
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    if batch_first:
        input = input.transpose(0, 1)
    if max(lengths) > input.shape[0]:
        raise RuntimeError(
            f"pack_padded_sequence: a length {max(lengths)} is longer than the sequence "
            f"dimension {input.shape[0]}"
        )
    sorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX exportability."
            )
    else:
        order = sorted(range(batch), key=lambda b: -lengths[b])
        sorted_indices = engine.tensor(order, dtype=engine.int64)
        input = input.index_select(1, sorted_indices)
        lengths = [lengths[b] for b in order]
    steps = max(lengths)
    batch_sizes = engine.tensor(
        [sum(1 for n in lengths if n > t) for t in range(steps)], dtype=engine.int64
    )
    flat = input.reshape(input.shape[0] * batch, *input.shape[2:])
    data = flat.index_select(0, engine.tensor(_pack_index(lengths, batch), dtype=engine.int64))
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def _packed_to_padded(sequence, padding_value=0.0, total_length=None):
    """(padded (T, B, *) in the packed (sorted) order, the lengths in that order)."""
    data, batch_sizes = sequence.data, sequence.batch_sizes
    lengths = _lengths_of(batch_sizes)
    batch = len(lengths)
    steps = len(batch_sizes.tolist()) if total_length is None else total_length
    if total_length is not None and total_length < max(lengths):
        raise ValueError(
            "Expected total_length to be at least the length of the longest sequence in "
            f"input, but got total_length={total_length} and max sequence length being "
            f"{max(lengths)}"
        )
    where = {pos: k for k, pos in enumerate(_pack_index(lengths, batch))}
    pad_row = data.shape[0]
    index = [where.get(pos, pad_row) for pos in range(steps * batch)]
    filler = engine.full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    rows = engine.cat([data, filler]).index_select(0, engine.tensor(index, dtype=engine.int64))
    return rows.view(steps, batch, *data.shape[1:]), lengths


def _padded_to_packed(padded, like):
    """Pack `padded` (T, B, *) in the packed order with the lengths of PackedSequence `like`."""
    lengths = _lengths_of(like.batch_sizes)
    batch = padded.shape[1]
    flat = padded.reshape(padded.shape[0] * batch, *padded.shape[2:])
    data = flat.index_select(0, engine.tensor(_pack_index(lengths, batch), dtype=engine.int64))
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """(padded batch (T, B, *) or (B, T, *), lengths (B)) of a PackedSequence, in the
    original batch order."""
    padded, lengths = _packed_to_padded(sequence, padding_value, total_length)
    lengths = engine.tensor(lengths, dtype=engine.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths.index_select(0, sequence.unsorted_indices)
    return (padded.transpose(0, 1) if batch_first else padded), lengths


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (L_i, *) of decreasing lengths (any order if not enforced)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[b, : int(n)] for b, n in enumerate(lengths.tolist())]


def unpack_sequence(packed_sequences):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
