"""Tests of engine/datasets: the shipped 8x8 digits and the MNIST IDX reader."""

import gzip
import hashlib
import pathlib
import struct

import numpy as np
import pytest

import engine
from engine.datasets import MNIST, Digits, load_digits
from engine.utils.data import Dataset

# The first two rows of scikit-learn's sklearn/datasets/data/digits.csv.gz (64 pixels, label).
FIRST_ROWS = [
    "0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,"
    "0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0,0",
    "0,0,0,12,13,5,0,0,0,0,0,11,16,9,0,0,0,0,3,15,16,6,0,0,0,7,15,16,16,2,0,0,0,0,1,16,"
    "16,3,0,0,0,0,1,16,16,6,0,0,0,0,1,16,16,6,0,0,0,0,0,11,16,10,0,0,1",
]
# sha256 of every value of that CSV as one byte each, row after row (64 pixels, then label).
CSV_SHA256 = "68aea062d35a127749050fa0e52dca09d6569ac08092c925610e0954e172dde2"
# sha256 of the 360 test-split labels as bytes.
TEST_LABELS_SHA256 = "35ab6e29450433cd0f80491876f8295ef3d5c1f0c85023ce4338357da6af8e5e"
LABEL_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]

MNIST_DIR = pathlib.Path(__file__).resolve().parents[3] / "data" / "mnist"


def parse_row(row):
    values = [int(v) for v in row.split(",")]
    return values[:64], values[64]


def test_load_digits_matches_scikit_learn_csv():
    images, labels = load_digits()
    assert len(images) == len(labels) == 1797
    assert all(len(image) == 64 for image in images)
    for index, row in enumerate(FIRST_ROWS):
        pixels, label = parse_row(row)
        assert images[index] == [p / 16 for p in pixels]
        assert labels[index] == label
    as_csv = b"".join(
        bytes(round(v * 16) for v in image) + bytes([label]) for image, label in zip(images, labels)
    )
    assert hashlib.sha256(as_csv).hexdigest() == CSV_SHA256
    assert [labels.count(digit) for digit in range(10)] == LABEL_COUNTS


def test_digits_split_is_fixed_and_partitions_the_data():
    train_images, train_labels = load_digits(train=True)
    test_images, test_labels = load_digits(train=False)
    assert len(train_labels) == 1437 and len(test_labels) == 360
    everything, _ = load_digits()
    keys = lambda images: sorted(tuple(image) for image in images)  # noqa: E731
    assert keys(train_images + test_images) == keys(everything)
    # Pins the split: a change here would silently change every published accuracy.
    assert test_images[:6] == [everything[i] for i in (0, 2, 3, 4, 6, 25)]
    assert hashlib.sha256(bytes(test_labels)).hexdigest() == TEST_LABELS_SHA256
    assert load_digits(train=False) == (test_images, test_labels)


def test_digits_dataset():
    train, test = Digits(train=True), Digits(root="ignored", train=False)
    assert isinstance(train, Dataset)
    assert len(train) == 1437 and len(test) == 360
    assert tuple(train.data.shape) == (1437, 8, 8) and train.data.dtype == engine.float32
    assert tuple(train.targets.shape) == (1437,) and train.targets.dtype == engine.int64

    images, labels = load_digits(train=True)
    np.testing.assert_allclose(
        np.array(train.data.tolist()), np.array(images).reshape(1437, 8, 8), rtol=1e-6
    )
    assert train.targets.tolist() == labels

    image, label = train[1]
    assert tuple(image.shape) == (1, 8, 8)
    assert isinstance(label, int) and label == labels[1]
    np.testing.assert_allclose(np.array(image.tolist()).ravel(), images[1], rtol=1e-6)
    assert test[-1][1] == load_digits(train=False)[1][-1]


def test_digits_transforms():
    dataset = Digits(transform=lambda image: image.reshape(64), target_transform=str)
    image, label = dataset[0]
    assert tuple(image.shape) == (64,)
    assert label == str(load_digits(train=True)[1][0])


def idx_bytes(type_code, dims, values):
    """An IDX file: magic number, big-endian dimensions, then the values as bytes."""
    header = struct.pack(">HBB", 0, type_code, len(dims)) + struct.pack(f">{len(dims)}I", *dims)
    return header + bytes(values)


def write_mnist(folder, images, labels, compress=False, prefix="train"):
    count = len(labels)
    files = {
        f"{prefix}-images-idx3-ubyte": idx_bytes(0x08, (count, 2, 3), images),
        f"{prefix}-labels-idx1-ubyte": idx_bytes(0x08, (count,), labels),
    }
    for name, content in files.items():
        if compress:
            (folder / (name + ".gz")).write_bytes(gzip.compress(content))
        else:
            (folder / name).write_bytes(content)


IMAGES = list(range(0, 256, 17)) + [255, 0]  # 3 images of 2x3 pixels
LABELS = [7, 0, 9]


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("train", [True, False], ids=["train", "test"])
def test_mnist_reads_idx_files(tmp_path, compress, train):
    write_mnist(tmp_path, IMAGES, LABELS, compress, prefix="train" if train else "t10k")
    dataset = MNIST(tmp_path, train=train)
    assert len(dataset) == 3
    assert tuple(dataset.data.shape) == (3, 2, 3) and dataset.data.dtype == engine.float32
    np.testing.assert_allclose(
        np.array(dataset.data.tolist()), np.array(IMAGES).reshape(3, 2, 3) / 255, rtol=1e-6
    )
    assert dataset.targets.dtype == engine.int64 and dataset.targets.tolist() == LABELS
    image, label = dataset[2]
    assert tuple(image.shape) == (1, 2, 3) and label == 9


def test_mnist_missing_file(tmp_path):
    write_mnist(tmp_path, IMAGES, LABELS)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match=r"train-labels-idx1-ubyte.*make mnist"):
        MNIST(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"t10k-images-idx3-ubyte"):
        MNIST(tmp_path, train=False)


@pytest.mark.parametrize(
    "name, content, message",
    [
        pytest.param(
            "train-images-idx3-ubyte",
            idx_bytes(0x08, (3, 2), IMAGES),
            r"bad magic number 0x00000802, expected 0x00000803",
            id="images-with-2-dims",
        ),
        pytest.param(
            "train-labels-idx1-ubyte",
            idx_bytes(0x0D, (3,), LABELS),
            r"bad magic number 0x00000d01",
            id="labels-of-floats",
        ),
        pytest.param(
            "train-images-idx3-ubyte",
            idx_bytes(0x08, (3, 2, 3), IMAGES[:-1]),
            r"truncated: dimensions \[3, 2, 3\] need 18 bytes of data, found 17",
            id="truncated-data",
        ),
        pytest.param("train-labels-idx1-ubyte", b"\x00\x00\x08", r"truncated", id="no-header"),
        pytest.param(
            "train-labels-idx1-ubyte",
            idx_bytes(0x08, (3,), LABELS + [1]),
            r"trailing bytes",
            id="trailing-bytes",
        ),
        pytest.param(
            "train-labels-idx1-ubyte",
            idx_bytes(0x08, (2,), LABELS[:2]),
            r"2 labels for 3 images",
            id="count-mismatch",
        ),
        pytest.param(
            "train-labels-idx1-ubyte",
            idx_bytes(0x08, (3,), [1, 2, 10]),
            r"label 10 is not a digit",
            id="bad-label",
        ),
    ],
)
def test_mnist_rejects_bad_files(tmp_path, name, content, message):
    write_mnist(tmp_path, IMAGES, LABELS)
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        MNIST(tmp_path)
    assert name in str(error.value)


def test_mnist_rejects_damaged_gzip(tmp_path):
    write_mnist(tmp_path, IMAGES, LABELS, compress=True)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-6])
    with pytest.raises(ValueError, match=r"damaged gzip"):
        MNIST(tmp_path)


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="real MNIST absent (`make mnist` fetches it)")
def test_real_mnist():
    train, test = MNIST(MNIST_DIR, train=True), MNIST(MNIST_DIR, train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert tuple(train.data.shape) == (60000, 28, 28)
    # The first training digit of MNIST is a 5, the first test digit a 7.
    assert train[0][1] == 5 and test[0][1] == 7
    first = np.array(train[0][0].tolist())
    assert first.shape == (1, 28, 28) and 0.0 <= first.min() and first.max() == 1.0


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="real MNIST absent (`make mnist` fetches it)")
def test_real_mnist_items_feed_ops():
    # The training images fill 188 MB, more than one storage binding may hold on many
    # adapters (128 MiB on lavapipe and by WebGPU's default): ops on an item must still work.
    train = MNIST(MNIST_DIR, train=True)
    image, _ = train[59999]
    expected = sum(sum(row) for row in image.tolist()[0])
    assert (image * 2).sum().item() == pytest.approx(2 * expected, rel=1e-5)
