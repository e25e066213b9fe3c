"""What the image classification datasets share: pixels on the GPU, labels in Python."""

import functools
import struct

import engine
from engine.utils.data import Dataset


def pixels_to_tensor(pixels, shape, max_value):
    """A float32 tensor of `shape` holding `pixels` (one unsigned byte each) / `max_value`.

    Python would take seconds to build MNIST's 47 million floats one by one. Instead each of
    the four bytes of a float32 is looked up per pixel value with `bytes.translate` and
    interleaved by a strided copy, both running in C: about half a second for all of MNIST,
    and the values are exactly float32(pixel / max_value).
    """
    pixels = bytes(pixels)
    floats = bytearray(4 * len(pixels))
    for position, table in enumerate(_byte_tables(max_value)):
        floats[position::4] = pixels.translate(table)
    return engine.frombuffer(floats, dtype=engine.float32).reshape(shape)


@functools.cache
def _byte_tables(max_value):
    """For each byte position of a little-endian float32, that byte of k / max_value, k < 256."""
    encoded = [struct.pack("<f", k / max_value) for k in range(256)]
    return [bytes(value[position] for value in encoded) for position in range(4)]


class ImageClassification(Dataset):
    """Grayscale images with integer labels, like torchvision's MNIST.

    `data` is a float32 tensor (N, H, W) with values in [0, 1] and `targets` an int64 tensor
    (N,). Item `i` is `(image, label)`: the image a (1, H, W) view of `data` passed through
    `transform`, the label a Python int passed through `target_transform`.
    """

    def __init__(self, data, labels, transform=None, target_transform=None):
        self.data = data
        self.targets = engine.tensor(labels, dtype=engine.int64)
        # Kept in Python as well, so that fetching an item never waits for a GPU readback.
        self._labels = list(labels)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self._labels)

    def __getitem__(self, index):
        label = self._labels[index]
        image = self.data[index].unsqueeze(0)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label
