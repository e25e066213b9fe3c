"""default_collate: merge a list of samples into a batch."""

import collections.abc

import engine

_ERROR_FORMAT = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _is_numpy(value):
    # Recognised by duck typing: the engine never imports NumPy.
    return type(value).__module__ == "numpy" and hasattr(value, "tolist")


def default_convert(data):
    """Turn NumPy arrays (also inside lists, tuples and dicts) into engine tensors;
    leave everything else as it is. Used when batching is off (``batch_size=None``)."""
    if _is_numpy(data) and getattr(data, "dtype", None) is not None:
        if data.dtype.kind in "SUO":
            return data
        return engine.tensor(data.tolist())
    if isinstance(data, collections.abc.Mapping):
        return type(data)({key: default_convert(value) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(value) for value in data)
    return data


def default_collate(batch):
    r"""Merge a list of samples into one batch, recursively:

    * tensors :math:`(*)` are stacked into :math:`(B, *)`;
    * NumPy arrays become tensors and are stacked;
    * Python floats, ints and bools become 1-D tensors of length :math:`B`;
    * strings are returned as a list;
    * dicts, named tuples, tuples and lists are collated field by field (tuples and
      lists come back as lists, as in PyTorch).
    """
    elem = batch[0]
    if isinstance(elem, engine.Tensor):
        return engine.stack(list(batch), 0)
    if _is_numpy(elem):
        if getattr(elem, "dtype", None) is not None and elem.dtype.kind in "SUO":
            raise TypeError(_ERROR_FORMAT.format(elem.dtype))
        return engine.tensor([value.tolist() for value in batch])
    if isinstance(elem, bool):
        return engine.tensor(list(batch), dtype=engine.bool)
    if isinstance(elem, int):
        return engine.tensor(list(batch), dtype=engine.int64)
    if isinstance(elem, float):
        return engine.tensor(list(batch), dtype=engine.float32)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(_ERROR_FORMAT.format(type(elem)))
