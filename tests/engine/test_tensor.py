"""engine/tensor.py: metadata, readback, printing, devices, pickling."""

import pickle

import numpy as np
import pytest

import engine
from tests.conftest import assert_close, randn, to_engine


def test_metadata():
    x = engine.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and isinstance(x.shape, engine.Size)
    assert x.size() == (2, 3, 4) and x.size(-1) == 4 and x.dim() == 3 and x.ndim == 3
    assert x.numel() == 24 and x.stride() == (12, 4, 1) and x.is_contiguous()
    assert not x.transpose(0, 2).is_contiguous()
    assert x.T.shape == (4, 3, 2)
    assert x.dtype is engine.float32 and x.is_floating_point()
    assert len(x) == 2 and x.device == engine.device("cuda") and str(x.device) == "webgpu"
    assert x.to("cpu") is x and x.cpu() is x
    with pytest.raises(RuntimeError, match="device type"):
        engine.device("tpu")


def test_item_tolist_numpy_and_conversions():
    x = to_engine(randn(2, 3))
    assert_close(x, x.numpy())
    assert engine.tensor(2.5).item() == 2.5 and float(engine.tensor(2.5)) == 2.5
    assert int(engine.tensor(7)) == 7 and bool(engine.tensor(True))
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    assert [row.tolist() for row in x] == x.tolist()
    assert list(range(10))[engine.tensor(3)] == 3


def test_repr_looks_like_pytorch():
    assert repr(engine.tensor([1.0, 2.5])) == "tensor([1.0000, 2.5000])"
    assert repr(engine.tensor([1, 2])) == "tensor([1, 2], dtype=engine.int32)"
    assert "requires_grad=True" in repr(engine.ones(1, requires_grad=True))
    assert f"{engine.tensor(1.23456):.2f}" == "1.23"


def test_pickle_round_trip():
    x = to_engine(randn(3, 2), requires_grad=True)
    y = pickle.loads(pickle.dumps(x))
    assert_close(y, x.detach().numpy())
    assert y.requires_grad


def test_engine_imports_without_numpy(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "import engine\n"
        "x = engine.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)\n"
        "(x @ x).sum().backward()\n"
        "print(x.grad.tolist())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[[7.0, 11.0], [9.0, 13.0]]"  # ones @ x.T + x.T @ ones


def test_device_info_reports_the_adapter():
    info = engine.device_info()
    assert info["backend"] and info["limits"]["max-storage-buffer-binding-size"] > 0
    assert "adapter_type" in info


def test_numpy_is_a_copy():
    x = engine.ones(3)
    arr = x.numpy()
    arr[0] = 5
    assert x.tolist() == [1.0, 1.0, 1.0]
    assert np.asarray(x.numpy()).dtype == np.float32


def test_tensor_constructor_like_torch_tensor():
    assert engine.Tensor([[1, 2], [3, 4]]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert engine.Tensor(2, 3).shape == (2, 3)
    assert engine.Tensor().shape == (0,)
    assert engine.Tensor([1, 2]).dtype is engine.float32
