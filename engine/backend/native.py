"""The device over wgpu-py (Vulkan, Metal or DX12): the native backend."""

from __future__ import annotations

import os

import wgpu

from .device import Device, Kernel

_STORAGE = wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_SRC | wgpu.BufferUsage.COPY_DST
_UNIFORM = wgpu.BufferUsage.UNIFORM | wgpu.BufferUsage.COPY_DST
_STAGING = wgpu.BufferUsage.MAP_READ | wgpu.BufferUsage.COPY_DST
BIND_GROUP_CACHE_SIZE = 4096


def request_adapter(power_preference: str | None = None):
    """The adapter chosen by argument, else `ENGINE_POWER_PREFERENCE`, else high-performance."""
    preference = power_preference or os.environ.get("ENGINE_POWER_PREFERENCE", "high-performance")
    if preference not in ("high-performance", "low-power"):
        raise ValueError(
            f"power_preference must be 'high-performance' or 'low-power', got {preference!r}"
        )
    adapter = wgpu.gpu.request_adapter_sync(power_preference=preference)
    if adapter is None:
        raise RuntimeError(
            "no WebGPU adapter found: install a Vulkan, Metal or DX12 driver "
            "(on Linux without a GPU: Mesa's lavapipe, `make test` sets it up)"
        )
    return adapter


class NativeDevice(Device):
    """A `Device` whose hooks call wgpu-py directly."""

    def __init__(self, power_preference: str | None = None):
        super().__init__()
        self.adapter = request_adapter(power_preference)
        limits = self.adapter.limits
        wanted = {
            name: limits[name]
            for name in (
                "max-storage-buffer-binding-size",
                "max-buffer-size",
                "max-storage-buffers-per-shader-stage",
                "max-compute-workgroup-storage-size",
                "max-compute-invocations-per-workgroup",
                "max-compute-workgroup-size-x",
            )
        }
        self.device = self.adapter.request_device_sync(required_limits=wanted)
        self.queue = self.device.queue
        self.limits = dict(self.device.limits)
        self.uniform_alignment = self.limits["min-uniform-buffer-offset-alignment"]
        self.storage_alignment = self.limits["min-storage-buffer-offset-alignment"]
        self.max_binding_size = self.limits["max-storage-buffer-binding-size"]
        self._encoder = None
        self._pass = None
        self._staging: dict[int, list] = {}
        self._bind_groups: dict[tuple, object] = {}

    # ---- hooks ---------------------------------------------------------------
    def _create_storage(self, size):
        return self.device.create_buffer(size=size, usage=_STORAGE)

    def _create_uniform(self, size):
        return self.device.create_buffer(size=size, usage=_UNIFORM)

    def _destroy(self, handle):
        for key in [k for k in self._bind_groups if any(h[0] is handle for h in k[3:])]:
            del self._bind_groups[key]
        handle.destroy()

    def _write(self, handle, offset, data):
        self.queue.write_buffer(handle, offset, data)

    def compile(self, name, code, entry_point, constants):
        module = self.device.create_shader_module(label=name, code=code)
        pipeline = self.device.create_compute_pipeline(
            label=name,
            layout="auto",
            compute={"module": module, "entry_point": entry_point, "constants": constants},
        )
        return Kernel(name, pipeline, pipeline.get_bind_group_layout(0))

    def _record(self, kernel, handles, uniform_offset, uniform_size, groups):
        # A training loop repeats the same dispatches on the same pooled buffers at the
        # same uniform offsets, so bind groups are cached: creating one through wgpu-py
        # costs more than recording the dispatch itself.
        key = (kernel, uniform_offset, uniform_size, *handles)
        bind_group = self._bind_groups.get(key)
        if bind_group is None:
            entries = [
                {"binding": i, "resource": {"buffer": h, "offset": offset, "size": size}}
                for i, (h, offset, size) in enumerate(handles)
            ]
            entries.append(
                {
                    "binding": len(handles),
                    "resource": {
                        "buffer": self._uniform_buffer,
                        "offset": uniform_offset,
                        "size": uniform_size,
                    },
                }
            )
            bind_group = self.device.create_bind_group(layout=kernel.layout, entries=entries)
            if len(self._bind_groups) >= BIND_GROUP_CACHE_SIZE:
                self._bind_groups.pop(next(iter(self._bind_groups)))  # the oldest entry
            self._bind_groups[key] = bind_group
        if self._pass is None:
            if self._encoder is None:
                self._encoder = self.device.create_command_encoder()
            self._pass = self._encoder.begin_compute_pass()
        self._pass.set_pipeline(kernel.pipeline)
        self._pass.set_bind_group(0, bind_group)
        self._pass.dispatch_workgroups(*groups)

    def _end_pass(self):
        if self._pass is not None:
            compute_pass, self._pass = self._pass, None
            compute_pass.end()
        if self._encoder is None:
            self._encoder = self.device.create_command_encoder()
        return self._encoder

    def _submit(self):
        encoder = self._end_pass()
        self._encoder = None  # a validation error below must not poison later batches
        self.queue.submit([encoder.finish()])

    def _read(self, regions):
        # one staging buffer, one submit and one mapping for all regions; copies must
        # start and end on 4-byte boundaries: widen each, then slice back
        copies, size = [], 0
        for handle, offset, nbytes in regions:
            copy_offset = offset - offset % 4
            copy_size = max(-(-(offset + nbytes - copy_offset) // 4) * 4, 4)
            copies.append((handle, copy_offset, size, copy_size, offset - copy_offset, nbytes))
            size += -(-copy_size // 256) * 256
        free = self._staging.get(size)
        staging = free.pop() if free else self.device.create_buffer(size=size, usage=_STAGING)
        encoder = self._end_pass()
        for handle, copy_offset, at, copy_size, _, _ in copies:
            encoder.copy_buffer_to_buffer(handle, copy_offset, staging, at, copy_size)
        self._encoder = None
        self.queue.submit([encoder.finish()])
        staging.map_sync(wgpu.MapMode.READ, 0, size)
        data = memoryview(staging.read_mapped(0, size, copy=True)).cast("B")
        staging.unmap()
        self._staging.setdefault(size, []).append(staging)
        return [data[at + skip : at + skip + nbytes] for _, _, at, _, skip, nbytes in copies]

    # ---- information ---------------------------------------------------------
    @property
    def is_cpu(self):
        return self.adapter.info.get("adapter_type", "").lower() == "cpu"

    def info(self):
        info = self.adapter.info
        return {
            "backend": info.get("backend_type", ""),
            "vendor": info.get("vendor", ""),
            "device": info.get("device", ""),
            "description": info.get("description", ""),
            "adapter_type": info.get("adapter_type", ""),
            "api": "wgpu-py " + wgpu.__version__,
            "limits": self.limits,
            "features": sorted(self.adapter.features),
        }
