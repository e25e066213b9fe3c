"""The 8x8 handwritten digits of scikit-learn's `load_digits`, shipped inside the engine.

1797 images of the digits 0-9, each 8x8 pixels valued 0..16 (the test set of the UCI ML
"Optical Recognition of Handwritten Digits" data; see DIGITS_LICENSE.txt). They ship with
the package so that a web page can train on them without downloading anything.

`digits.bin.gz` is gzip of:

    4 bytes         b"DGTS"
    4 bytes         N = 1797, unsigned little-endian
    N bytes         the labels, 0..9
    N * 64 bytes    the pixels, 0..16, image after image, row after row

in the order of scikit-learn's `digits.csv.gz`.
"""

import functools
import gzip
import importlib.resources
import random
import struct

from engine.datasets.images import ImageClassification, pixels_to_tensor

SIDE = 8
PIXELS = SIDE * SIDE
MAX_VALUE = 16
COUNT = 1797
TRAIN_COUNT = 1437


@functools.cache
def _read():
    """The labels and the pixels of all the digits, as bytes."""
    packed = importlib.resources.files(__package__).joinpath("digits.bin.gz").read_bytes()
    raw = gzip.decompress(packed)
    magic, count = struct.unpack_from("<4sI", raw)
    if magic != b"DGTS" or count != COUNT or len(raw) != 8 + count * (1 + PIXELS):
        raise ValueError("engine/datasets/digits.bin.gz is damaged; reinstall the engine")
    return raw[8 : 8 + count], raw[8 + count :]


@functools.cache
def _split_indices(train):
    """The indices of the train (1437) or test (360) digits, in file order.

    A seeded shuffle in pure Python: the same split natively and in the browser.
    """
    indices = list(range(COUNT))
    random.Random(0).shuffle(indices)
    chosen = indices[:TRAIN_COUNT] if train else indices[TRAIN_COUNT:]
    return tuple(sorted(chosen))


def _select(train):
    """The labels and pixels (bytes) of the split `train` (None: every digit)."""
    labels, pixels = _read()
    if train is None:
        return labels, pixels
    indices = _split_indices(train)
    chosen_labels = bytes(labels[i] for i in indices)
    chosen_pixels = b"".join(pixels[i * PIXELS : (i + 1) * PIXELS] for i in indices)
    return chosen_labels, chosen_pixels


def load_digits(train=None):
    """The digits as plain Python lists, without touching the GPU.

    Returns `(images, labels)`: `images` a list of lists of 64 floats in [0, 1] (the pixels
    row by row, divided by 16), `labels` a list of ints 0..9. `train=None` gives all 1797
    digits in scikit-learn's order; True or False gives the split that `Digits` uses.
    """
    labels, pixels = _select(train)
    values = [value / MAX_VALUE for value in pixels]
    images = [values[i * PIXELS : (i + 1) * PIXELS] for i in range(len(labels))]
    return images, list(labels)


class Digits(ImageClassification):
    """The 8x8 digits as a Dataset: 1437 train or 360 test images.

    `data` is float32 (N, 8, 8) in [0, 1] (pixels divided by 16), `targets` int64 (N,).
    Item `i` is `(image, label)` with `image` of shape (1, 8, 8). `root` is accepted for
    torchvision compatibility and ignored: the data ship with the engine.
    """

    def __init__(self, root=None, train=True, transform=None, target_transform=None):
        labels, pixels = _select(bool(train))
        self.root = root
        self.train = bool(train)
        data = pixels_to_tensor(pixels, (len(labels), SIDE, SIDE), MAX_VALUE)
        super().__init__(data, list(labels), transform, target_transform)
