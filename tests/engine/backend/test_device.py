"""engine/backend: batching, the buffer pool, the upload hazard, errors from the GPU."""

import pytest

import engine
from engine.backend import get_device
from engine.backend.device import size_class


def test_size_classes_cover_requests():
    for n in (1, 255, 256, 257, 1000, 4096, 1 << 20, (1 << 20) + 1, 3_000_000):
        assert size_class(n) >= n
    assert size_class(3_000_000) < 3_000_000 * 1.1


def test_ops_are_batched_into_one_submit():
    dev = get_device()
    x = engine.ones(1000)
    dev.flush()
    submits = dev.stats["submits"]
    y = x
    for _ in range(50):
        y = y * 1.01 + 0.5
    assert dev.stats["submits"] == submits  # nothing submitted yet
    y.sum().item()
    assert dev.stats["submits"] == submits + 1


def test_pool_reuses_buffers_in_steady_state():
    dev = get_device()
    x = engine.randn(256, 64)
    for _ in range(3):
        (x * 2 + 1).sum().item()
    allocated = dev.stats["allocated"]
    for _ in range(10):
        (x * 2 + 1).sum().item()
    assert dev.stats["allocated"] == allocated


def test_upload_into_a_recycled_buffer_does_not_overtake_pending_work():
    # writeBuffer runs before commands pending in the encoder: an upload must never land
    # in a buffer that a pending dispatch still reads
    a = engine.full((4096,), 1.0)
    b = a * 2  # pending: reads a
    del a  # a's buffer goes back to the pool while the dispatch that reads it is pending
    c = engine.tensor([5.0] * 4096)  # an upload of the same size
    assert b.sum().item() == 8192.0
    assert c.sum().item() == 5.0 * 4096


def test_many_dispatches_cross_the_batch_limit():
    dev = get_device()
    y = engine.zeros(10)
    for _ in range(dev.max_dispatches_per_batch + 50):
        y = y + 1
    assert y.tolist() == [float(dev.max_dispatches_per_batch + 50)] * 10


def test_gpu_validation_errors_become_python_exceptions():
    from engine.ops.launch import elementwise

    with pytest.raises(Exception, match="(?i)validation|parsing"):
        elementwise("nonsense(", [engine.ones(3)], ["f32"], engine.float32)
    assert (engine.ones(3) + 1).tolist() == [2.0, 2.0, 2.0]  # the device is still usable


def test_views_of_buffers_larger_than_a_binding_are_bound_by_range(monkeypatch):
    # WebGPU caps one storage binding (128 MiB by default): views of bigger buffers (a whole
    # data set in one tensor) bind only the span they touch. Shrink the cap to test it.
    dev = get_device()
    big = engine.arange(20000).float().reshape(100, 200)
    monkeypatch.setattr(dev, "max_binding_size", 4096)
    rows = big[engine.tensor([3, 97])]  # a gather in chunks of rows, each bound by range
    assert rows[:, :3].tolist() == [[600.0, 601.0, 602.0], [19400.0, 19401.0, 19402.0]]
    assert (big[50, 10:20] * 2).tolist() == [2.0 * v for v in range(10010, 10020)]
    assert big[99].sum().item() == sum(range(19800, 20000))
    assert (big[7:9, :4] @ big[0:4, :2]).shape == (2, 2)
    assert big.t()[engine.tensor([1]), :2].tolist() == [[1.0, 201.0]]  # dim 1 of big: chunked
    with pytest.raises(NotImplementedError, match="largest storage binding"):
        big.sum()


def test_trim_returns_pooled_buffers_but_keeps_pending_ones():
    dev = get_device()
    source = engine.ones(10_000)
    pending = source * 3  # recorded, not submitted: reads source's buffer
    del source  # its buffer is back in the pool while the pending dispatch still reads it
    scratch = [engine.ones(50_000 + i) for i in range(3)]
    del scratch
    before = len(dev._buffers)
    dev.trim(0)
    assert len(dev._buffers) < before
    assert pending.sum().item() == 30_000.0  # the pending batch survived the trim
    assert (engine.ones(50_000) * 2).sum().item() == 100_000.0  # pool refills on demand


def test_adapter_choice_by_environment_and_api():
    import os
    import subprocess
    import sys

    def run(code, **env):
        return subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}
        )

    ok = run(
        "import engine; print(engine.ones(2).sum().item())", ENGINE_POWER_PREFERENCE="low-power"
    )
    assert ok.returncode == 0 and ok.stdout.strip() == "2.0"
    bad = run("import engine; engine.ones(1)", ENGINE_POWER_PREFERENCE="fastest")
    assert bad.returncode != 0 and "power_preference" in bad.stderr
    api = run(
        "import engine; engine.set_power_preference('low-power'); "
        "print(engine.device_info()['backend'])"
    )
    assert api.returncode == 0 and api.stdout.strip()
    with pytest.raises(RuntimeError, match="already exists"):
        engine.set_power_preference("low-power")
