"""MNIST read from its four IDX files in pure Python (struct, gzip).

The files are not shipped; `make mnist` fetches them into data/mnist. An IDX file is a
4-byte magic number (two zero bytes, a type code, 0x08 for unsigned bytes, and the number of
dimensions), the dimensions as big-endian uint32, then the values in C order.
"""

import gzip
import os
import struct

from engine.datasets.images import ImageClassification, pixels_to_tensor

UNSIGNED_BYTE = 0x08


def _find(root, name):
    """The path of IDX file `name` (plain or .gz) in `root` or torchvision's `root`/MNIST/raw."""
    folders = [root, os.path.join(root, "MNIST", "raw")]
    for folder in folders:
        for candidate in (name, name + ".gz"):
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                return path
    raise FileNotFoundError(
        f"MNIST file {name!r} (or {name + '.gz'!r}) not found in {os.fspath(root)!r}; "
        "`make mnist` fetches the four files into data/mnist"
    )


def read_idx(path, ndim):
    """The dimensions and the raw bytes of the unsigned-byte IDX file at `path`.

    Raises ValueError naming the file if the magic number is not that of an unsigned-byte
    array with `ndim` dimensions, or if the data do not have exactly the announced size.
    """
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as file:
            content = file.read()
    except (gzip.BadGzipFile, EOFError) as error:
        raise ValueError(f"{path}: damaged gzip file ({error})") from None
    expected_magic = (UNSIGNED_BYTE << 8) | ndim
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise ValueError(f"{path}: truncated, {len(content)} bytes is less than an IDX header")
    (magic,) = struct.unpack_from(">I", content)
    if magic != expected_magic:
        raise ValueError(
            f"{path}: bad magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"(unsigned bytes, {ndim} dimensions)"
        )
    dims = struct.unpack_from(f">{ndim}I", content, 4)
    size = 1
    for dim in dims:
        size *= dim
    if len(content) - header_size != size:
        state = "truncated" if len(content) - header_size < size else "has trailing bytes"
        raise ValueError(
            f"{path}: {state}: dimensions {list(dims)} need {size} bytes of data, "
            f"found {len(content) - header_size}"
        )
    return dims, memoryview(content)[header_size:]


class MNIST(ImageClassification):
    """MNIST from the IDX files in the folder `root`: 60000 train or 10000 test digits.

    `data` is float32 (N, 28, 28) in [0, 1] (pixels divided by 255), `targets` int64 (N,).
    Item `i` is `(image, label)` with `image` of shape (1, 28, 28).
    """

    def __init__(self, root, train=True, transform=None, target_transform=None):
        prefix = "train" if train else "t10k"
        self.root = root
        self.train = bool(train)
        image_path = _find(root, f"{prefix}-images-idx3-ubyte")
        label_path = _find(root, f"{prefix}-labels-idx1-ubyte")
        (count, rows, cols), pixels = read_idx(image_path, 3)
        (label_count,), labels = read_idx(label_path, 1)
        if label_count != count:
            raise ValueError(f"{label_path}: {label_count} labels for {count} images")
        if count and max(labels) > 9:
            raise ValueError(f"{label_path}: label {max(labels)} is not a digit")
        data = pixels_to_tensor(pixels, (count, rows, cols), 255)
        super().__init__(data, list(labels), transform, target_transform)
