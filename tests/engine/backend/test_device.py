"""engine/backend: batching, the buffer pool, the upload hazard, errors from the GPU."""

import pytest

import engine
from engine.backend import device as device_module
from engine.backend import get_device
from engine.backend.device import check_power_preference, size_class, staging_layout


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


def test_staging_layout_widens_regions_to_words_and_aligns_them_to_256_bytes():
    copies, size = staging_layout([("a", 0, 8), ("b", 3, 5), ("c", 6, 0), ("d", 1000, 300)])
    # (handle, copy offset, staging offset, copy size, skip, nbytes)
    assert copies == [
        ("a", 0, 0, 8, 0, 8),
        ("b", 0, 256, 8, 3, 5),
        ("c", 4, 512, 4, 2, 0),  # an empty region still copies one word
        ("d", 1000, 768, 300, 0, 300),
    ]
    assert size == 768 + 512


def test_reads_of_unaligned_ranges_return_their_bytes_and_reuse_the_staging_buffer():
    dev = get_device()
    data = bytes(range(64))
    buffer = dev.upload(data)
    assert bytes(dev.read(buffer, 0, 4)) == data[:4]  # also ends a pending index check
    free = list(dev._staging[256])
    assert bytes(dev.read(buffer, 3, 5)) == data[3:8]
    assert bytes(dev.read(buffer, 61, 3)) == data[61:64]
    assert bytes(dev.read(buffer, 0, 0)) == b""
    assert dev._staging[256] == free  # the same staging buffer, back in its pool
    dev.free(buffer)


def test_dispatch_state_is_one_encoder_and_pass_until_the_submit():
    dev = get_device()
    x = engine.ones(100)
    dev.flush()
    assert (dev._encoder, dev._pass) == (None, None)
    y = x + 1
    assert dev._encoder is not None and dev._pass is not None
    encoder = dev._encoder
    y = y * 2
    assert dev._encoder is encoder  # one encoder and one pass for the whole batch
    submits = dev.stats["submits"]
    assert y.tolist() == [4.0] * 100
    assert dev.stats["submits"] == submits + 1
    assert (dev._encoder, dev._pass) == (None, None)


def test_a_failed_submit_drops_its_batch_and_the_next_one_starts_clean(monkeypatch):
    dev = get_device()
    x = engine.ones(10)
    dev.flush()

    def fail(encoder):
        raise RuntimeError("submit failed")

    monkeypatch.setattr(dev, "_submit_encoder", fail)
    y = x + 1
    with pytest.raises(RuntimeError, match="submit failed"):
        dev.flush()
    assert (dev._encoder, dev._pass, dev._pending) == (None, None, 0)
    monkeypatch.undo()
    assert (x * 3).tolist() == [3.0] * 10
    del y


def test_bind_groups_are_cached_across_steps(monkeypatch):
    dev = get_device()
    created = []
    create = dev._create_bind_group
    monkeypatch.setattr(dev, "_create_bind_group", lambda *a: created.append(a) or create(*a))
    x = engine.ones(1000)
    counts = []
    for _ in range(8):
        before = len(created)
        assert ((x + 1) * 2).sum().item() == 4000.0
        counts.append(len(created) - before)
    # once the pool hands out the same buffers in the same order (a few steps), every
    # dispatch finds its bind group: same kernel, buffers and uniform offset
    assert counts[0] > 0 and counts[4:] == [0, 0, 0, 0]


def test_bind_group_cache_evicts_its_oldest_entries(monkeypatch):
    dev = get_device()
    monkeypatch.setattr(device_module, "BIND_GROUP_CACHE_SIZE", 4)
    monkeypatch.setattr(dev, "_bind_groups", {})
    offsets = []
    create = dev._create_bind_group
    monkeypatch.setattr(dev, "_create_bind_group", lambda *a: offsets.append(a[2]) or create(*a))
    x = engine.ones(100)
    dev.flush()
    offsets.clear()
    y = x
    for _ in range(6):  # 6 dispatches of one batch: 6 uniform offsets, 6 bind groups
        y = y + 1
    assert len(offsets) == 6 and len(set(offsets)) == 6
    assert [key[1] for key in dev._bind_groups] == offsets[2:]
    assert y.tolist() == [7.0] * 100


def test_destroying_a_buffer_drops_the_bind_groups_that_bind_it(monkeypatch):
    dev = get_device()
    monkeypatch.setattr(dev, "_bind_groups", {})
    kept = engine.ones(300)
    doomed = kept + 1
    assert (kept * 2).sum().item() == 600.0
    kept_buffer, doomed_buffer = kept._storage.buffer, doomed._storage.buffer

    def binding(buffer):
        return [key for key in dev._bind_groups if any(b[0] is buffer for b in key[3:])]

    assert binding(doomed_buffer) and binding(kept_buffer)
    del doomed  # its buffer goes back to the pool; trim destroys the pool
    pooled = {b for free in dev._pool.values() for b in free}
    assert doomed_buffer in pooled and kept_buffer not in pooled
    survivors = [k for k in dev._bind_groups if not any(b[0] in pooled for b in k[3:])]
    dev.trim(0)
    assert list(dev._bind_groups) == survivors  # in their order, the cache's age
    assert binding(doomed_buffer) == [] and binding(kept_buffer)
    assert doomed_buffer not in dev._buffers
    assert (kept + 2).tolist() == [3.0] * 300


def test_limits_and_power_preference_checks():
    dev = get_device()
    assert dev.uniform_alignment == dev.limits["min-uniform-buffer-offset-alignment"]
    assert dev.storage_alignment == dev.limits["min-storage-buffer-offset-alignment"]
    assert dev.max_binding_size == dev.limits["max-storage-buffer-binding-size"]
    assert check_power_preference("low-power") == "low-power"
    with pytest.raises(ValueError, match="got 'fastest'"):
        check_power_preference("fastest")
