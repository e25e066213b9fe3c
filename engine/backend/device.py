"""The device interface every backend implements, and the logic they share.

A `Device` owns three things that make GPU work cheap from Python:

- a caching pool of storage buffers in size classes, so a steady-state training
  loop never allocates from the driver;
- one pending batch of compute dispatches, recorded into a single command encoder
  and submitted only when data must leave the GPU or the batch is full;
- one uniform "ring": the small parameter block of every dispatch in the batch is
  packed into a host bytearray and written with one `writeBuffer` just before the
  batch is submitted.

It also caches bind groups and reuses staging buffers for readbacks. A backend only
implements the `backend hook` methods, each a call or two into its WebGPU API, and maps
the staging buffer in its `_read`.

Ordering hazard (docs/architecture.md, The device layer): `writeBuffer` executes before
every command still pending in the unsubmitted encoder. Uploads therefore only ever target
a buffer that no pending dispatch touches (`Buffer.batch` records the last batch that used
it), and the uniform ring is written right before its own batch is submitted.
"""

from __future__ import annotations

MIN_BUFFER_SIZE = 256
UNIFORM_RING_SIZE = 1 << 18
BIND_GROUP_CACHE_SIZE = 4096
# GPUBufferUsage flags (the WebGPU spec's numbers, which wgpu-py uses too)
STORAGE_USAGE = 0x0080 | 0x0004 | 0x0008  # STORAGE | COPY_SRC | COPY_DST
UNIFORM_USAGE = 0x0040 | 0x0008  # UNIFORM | COPY_DST
STAGING_USAGE = 0x0001 | 0x0008  # MAP_READ | COPY_DST
# limits a device asks for at its adapter's maximum (wgpu-py's names, the keys of `limits`)
REQUESTED_LIMITS = (
    "max-storage-buffer-binding-size",
    "max-buffer-size",
    "max-storage-buffers-per-shader-stage",
    "max-compute-workgroup-storage-size",
    "max-compute-invocations-per-workgroup",
    "max-compute-workgroup-size-x",
)
# free buffers kept for reuse; past this the largest ones go back to the driver
POOL_LIMIT = 512 << 20


def size_class(nbytes: int) -> int:
    """Round a request up to its pool size class: powers of two, then eighths of one."""
    if nbytes <= MIN_BUFFER_SIZE:
        return MIN_BUFFER_SIZE
    power = 1 << (nbytes - 1).bit_length()
    if power <= 1 << 20:
        return power
    step = power // 16
    return -(-nbytes // step) * step


def check_power_preference(preference: str) -> str:
    """`preference` if it is a WebGPU power preference, else ValueError."""
    if preference not in ("high-performance", "low-power"):
        raise ValueError(
            f"power_preference must be 'high-performance' or 'low-power', got {preference!r}"
        )
    return preference


def staging_layout(regions):
    """Where each region ((handle, offset, nbytes)) goes in one staging buffer, and its size.

    Copies must start and end on 4-byte boundaries: each region is widened to them, and
    placed at the next 256-byte boundary. Returns (copies, size) with one
    (handle, copy_offset, staging_offset, copy_size, skip, nbytes) per region: its bytes are
    `skip` bytes into the copy, that is at `staging_offset + skip` of the staging buffer.
    """
    copies, size = [], 0
    for handle, offset, nbytes in regions:
        copy_offset = offset - offset % 4
        copy_size = max(-(-(offset + nbytes - copy_offset) // 4) * 4, 4)
        copies.append((handle, copy_offset, size, copy_size, offset - copy_offset, nbytes))
        size += -(-copy_size // 256) * 256
    return copies, size


class Buffer:
    """A pooled GPU storage buffer: the backend's handle, its size, its last batch."""

    __slots__ = ("handle", "size", "batch")

    def __init__(self, handle, size: int):
        self.handle = handle
        self.size = size
        self.batch = -1


class Pipeline:
    """A compiled compute pipeline and the bind-group layout its dispatches use."""

    __slots__ = ("name", "pipeline", "layout")

    def __init__(self, name, pipeline, layout):
        self.name = name
        self.pipeline = pipeline
        self.layout = layout


class Device:
    """Shared device logic; subclasses implement the `backend hooks` below (`_destroy` and
    `_end_pass` default to the call that wgpu-py and JS spell alike)."""

    max_dispatches_per_batch = 1024

    def __init__(self):
        self._pool: dict[int, list[Buffer]] = {}
        # Every buffer stays reachable from here. A tensor in a reference cycle is freed by
        # the garbage collector, which runs the finalizers of everything only reachable
        # through the cycle: wgpu-py's would release the native buffer that Storage.__del__
        # just returned to the pool.
        self._buffers: set[Buffer] = set()
        self._free_bytes = 0
        self._batch = 0
        self._pending = 0
        self._uniforms = bytearray()
        self._uniform_buffer = None
        # (pipeline, uniform offset, uniform size, *(Buffer, offset, size) bindings) -> bind
        # group, oldest first
        self._bind_groups: dict[tuple, object] = {}
        self._encoder = None  # the pending batch's command encoder
        self._pass = None  # its open compute pass
        self._staging: dict[int, list] = {}  # free staging buffers by size
        self.stats = {"allocated": 0, "allocated_bytes": 0, "dispatches": 0, "submits": 0}
        self._flags: Buffer | None = None
        self._flags_dirty = False

    def _use_limits(self, limits: dict) -> None:
        """Adopt the device's `limits` (wgpu-py's names); backends call it at creation."""
        self.limits = limits
        self.uniform_alignment = limits["min-uniform-buffer-offset-alignment"]
        self.storage_alignment = limits["min-storage-buffer-offset-alignment"]
        self.max_binding_size = limits["max-storage-buffer-binding-size"]

    # ---- backend hooks -------------------------------------------------------
    def _create_buffer(self, size: int, usage: int):
        raise NotImplementedError

    def _destroy(self, handle) -> None:
        handle.destroy()  # the same method in wgpu-py and in JS

    def _write(self, handle, offset: int, data) -> None:
        raise NotImplementedError

    def _create_bind_group(self, layout, bindings, uniform_offset: int, uniform_size: int):
        """A bind group of `bindings` ((handle, offset, size) each) at 0, 1, ... and the
        range of the uniform ring after them."""
        raise NotImplementedError

    def _create_encoder(self):
        raise NotImplementedError

    def _begin_pass(self, encoder):
        raise NotImplementedError

    def _encode_dispatch(self, compute_pass, pipeline, bind_group, groups) -> None:
        raise NotImplementedError

    def _end_pass(self, compute_pass) -> None:
        compute_pass.end()  # the same method in wgpu-py and in JS

    def _encode_copy(self, encoder, source, source_offset, target, target_offset, size):
        raise NotImplementedError

    def _submit_encoder(self, encoder) -> None:
        """Finish `encoder` and submit its command buffer."""
        raise NotImplementedError

    def _read(self, regions) -> list:
        """Submit pending work plus copies of `regions` ((handle, offset, nbytes) each)
        to a staging buffer (`_copy_to_staging`), map it, and return the bytes of each
        region (`_read_done`)."""
        raise NotImplementedError

    def _read_async(self, regions):
        """`_read` for `read_async`: submit now, return an awaitable of the region bytes.

        The submit must happen before this returns (other coroutines may record work
        while the caller awaits); the default reads synchronously."""
        results = self._read(regions)

        async def done():
            return results

        return done()

    def compile(self, name: str, code: str, entry_point: str, constants: dict) -> Pipeline:
        raise NotImplementedError

    # ---- buffers -------------------------------------------------------------
    def alloc(self, nbytes: int, for_upload: bool = False) -> Buffer:
        """A storage buffer of at least `nbytes` from the pool (or the driver).

        `for_upload`: the caller will `writeBuffer` into it, so it must not be
        used by any dispatch of the pending batch.
        """
        size = size_class(max(nbytes, 4))
        free = self._pool.get(size)
        if free:
            if not for_upload:
                self._free_bytes -= size
                return free.pop()
            for i in range(len(free) - 1, -1, -1):
                if free[i].batch != self._batch:
                    self._free_bytes -= size
                    return free.pop(i)
        self.stats["allocated"] += 1
        self.stats["allocated_bytes"] += size
        buffer = Buffer(self._create_buffer(size, STORAGE_USAGE), size)
        self._buffers.add(buffer)
        return buffer

    def free(self, buffer: Buffer) -> None:
        """Return a buffer to the pool (called when a tensor storage is collected)."""
        self._pool.setdefault(buffer.size, []).append(buffer)
        self._free_bytes += buffer.size
        if self._free_bytes > POOL_LIMIT:
            self.trim(POOL_LIMIT // 2)

    def trim(self, keep_bytes: int = 0) -> None:
        """Destroy pooled buffers, largest first, until at most `keep_bytes` stay free.

        Buffers that the pending batch uses are kept: destroying one would drop the
        whole command buffer at submit.
        """
        destroyed = set()
        for size in sorted(self._pool, reverse=True):
            free = self._pool[size]
            kept = []
            for buffer in free:
                if self._free_bytes <= keep_bytes or buffer.batch == self._batch:
                    kept.append(buffer)
                    continue
                destroyed.add(buffer)
                self._buffers.discard(buffer)
                self._free_bytes -= size
            self._pool[size] = kept
        if destroyed:
            # the cached bind groups that bind a destroyed buffer go with it
            for key in [k for k in self._bind_groups if any(b[0] in destroyed for b in k[3:])]:
                del self._bind_groups[key]
            for buffer in destroyed:
                self._destroy(buffer.handle)

    def upload(self, data) -> Buffer:
        """A new buffer holding `data` (a bytes-like object)."""
        nbytes = len(memoryview(data).cast("B"))
        buffer = self.alloc(nbytes, for_upload=True)
        if nbytes:
            self._write(buffer.handle, 0, data)
        return buffer

    def read(self, buffer: Buffer, offset: int, nbytes: int) -> memoryview:
        """Bytes `[offset, offset + nbytes)` of `buffer`, after all pending work.

        When index kernels ran since the last readback, their error flag is read in the
        same submit and an out-of-range index raises IndexError here.
        """
        regions, check_flags = self._read_regions(buffer, offset, nbytes)
        try:
            results = self._read(regions)
        finally:
            self._after_submit()
        if check_flags:
            self._flags_dirty = False
        return self._read_result(results, check_flags)

    async def read_async(self, buffer: Buffer, offset: int, nbytes: int) -> memoryview:
        """The awaitable twin of `read` (the browser maps buffers asynchronously)."""
        regions, check_flags = self._read_regions(buffer, offset, nbytes)
        try:
            pending = self._read_async(regions)
        finally:
            self._after_submit()
        # other coroutines may dispatch (and set the flag) while this one waits
        if check_flags:
            self._flags_dirty = False
        try:
            results = await pending
        except BaseException:
            self._flags_dirty = self._flags_dirty or check_flags
            raise
        return self._read_result(results, check_flags)

    def _read_regions(self, buffer: Buffer, offset: int, nbytes: int):
        self._flush_uniforms()
        regions = [(buffer.handle, offset, nbytes)]
        check_flags = self._flags_dirty
        if check_flags:
            regions.append((self._flags.handle, 0, 4))
        return regions, check_flags

    def _read_result(self, results, check_flags: bool) -> memoryview:
        if check_flags:
            if bytes(results[1]) != bytes(4):
                self._write(self._flags.handle, 0, bytes(4))
                raise IndexError(
                    "index out of range in gather/index_select/scatter_add/indexing "
                    "(detected on the GPU; the result was computed with clamped indices)"
                )
        return results[0]

    def flags(self) -> Buffer:
        """The error-flag word that index kernels set when an index is out of range."""
        if self._flags is None:
            self._flags = self.upload(bytes(4))
        self._flags_dirty = True
        return self._flags

    # ---- dispatch ------------------------------------------------------------
    def dispatch(self, pipeline: Pipeline, buffers, params: bytes, groups) -> None:
        """Record one dispatch of `pipeline` over `buffers` with its uniform `params`.

        `groups` is the (x, y, z) workgroup grid. Nothing reaches the GPU until
        `flush()` or a readback.
        """
        align = self.uniform_alignment
        start = -(-len(self._uniforms) // align) * align
        if (
            start + len(params) > UNIFORM_RING_SIZE
            or self._pending >= self.max_dispatches_per_batch
        ):
            self.flush()
            start = 0
        if self._uniform_buffer is None:
            self._uniform_buffer = self._create_buffer(UNIFORM_RING_SIZE, UNIFORM_USAGE)
        if start > len(self._uniforms):
            self._uniforms.extend(bytes(start - len(self._uniforms)))
        self._uniforms.extend(params)
        batch = self._batch
        bindings = []
        for b in buffers:
            # a binding is a whole Buffer or (Buffer, byte offset, byte size) for a range
            if isinstance(b, tuple):
                b[0].batch = batch
                bindings.append(b)
            else:
                b.batch = batch
                bindings.append((b, 0, b.size))
        self._record(pipeline, bindings, start, len(params), groups)
        self._pending += 1
        self.stats["dispatches"] += 1

    def _record(self, pipeline: Pipeline, bindings, uniform_offset: int, uniform_size: int, groups):
        # A training loop repeats the same dispatches on the same pooled buffers at the
        # same uniform offsets, so bind groups are cached: creating one costs more than
        # recording the dispatch itself.
        key = (pipeline, uniform_offset, uniform_size, *bindings)
        bind_group = self._bind_groups.get(key)
        if bind_group is None:
            bind_group = self._create_bind_group(
                pipeline.layout,
                [(b.handle, offset, size) for b, offset, size in bindings],
                uniform_offset,
                uniform_size,
            )
            if len(self._bind_groups) >= BIND_GROUP_CACHE_SIZE:
                self._bind_groups.pop(next(iter(self._bind_groups)))  # the oldest entry
            self._bind_groups[key] = bind_group
        if self._pass is None:
            if self._encoder is None:
                self._encoder = self._create_encoder()
            self._pass = self._begin_pass(self._encoder)
        self._encode_dispatch(self._pass, pipeline.pipeline, bind_group, groups)

    def flush(self) -> None:
        """Submit the pending batch (no-op when nothing is pending)."""
        if self._pending:
            self._flush_uniforms()
            try:
                self._submit()
            finally:  # a failed batch is dropped whole; the next one starts clean
                self._after_submit()

    def _submit(self) -> None:
        """Submit the pending batch's encoder (`flush` and the readbacks add the rest)."""
        self._submit_encoder(self._take_encoder())

    def _take_encoder(self):
        """The pending batch's encoder, its compute pass ended; a new one when none is open.

        The device forgets it before anything is recorded into it or submitted: a
        validation error there must not poison later batches."""
        if self._pass is not None:
            compute_pass, self._pass = self._pass, None
            self._end_pass(compute_pass)
        encoder, self._encoder = self._encoder, None
        return self._create_encoder() if encoder is None else encoder

    def _copy_to_staging(self, regions):
        """Copy `regions` after the pending work into one staging buffer and submit.

        Returns (staging, size, copies) for `_read_done` once the backend has mapped it."""
        copies, size = staging_layout(regions)
        free = self._staging.get(size)
        staging = free.pop() if free else self._create_buffer(size, STAGING_USAGE)
        encoder = self._take_encoder()
        for handle, copy_offset, at, copy_size, _, _ in copies:
            self._encode_copy(encoder, handle, copy_offset, staging, at, copy_size)
        self._submit_encoder(encoder)
        return staging, size, copies

    def _read_done(self, staging, size: int, copies, data: memoryview) -> list:
        """Each region's bytes from `data` (staging's mapped bytes); staging is reused."""
        self._staging.setdefault(size, []).append(staging)
        return [data[at + skip : at + skip + nbytes] for _, _, at, _, skip, nbytes in copies]

    def _flush_uniforms(self) -> None:
        if self._uniforms:
            self._write(self._uniform_buffer, 0, self._uniforms)
            self._uniforms = bytearray()

    def _after_submit(self) -> None:
        self._pending = 0
        self._batch += 1
        self.stats["submits"] += 1

    # ---- information ---------------------------------------------------------
    def info(self) -> dict:
        raise NotImplementedError

    @property
    def is_cpu(self) -> bool:
        """True for software adapters (lavapipe, SwiftShader): kernel variants differ."""
        return False
