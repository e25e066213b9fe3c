"""The device over wgpu-py (Vulkan, Metal or DX12): the native backend."""

from __future__ import annotations

import os

import wgpu

from .device import REQUESTED_LIMITS, Device, Pipeline, check_power_preference


def request_adapter(power_preference: str | None = None):
    """The adapter chosen by argument, else `ENGINE_POWER_PREFERENCE`, else high-performance."""
    preference = power_preference or os.environ.get("ENGINE_POWER_PREFERENCE", "high-performance")
    adapter = wgpu.gpu.request_adapter_sync(power_preference=check_power_preference(preference))
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
        wanted = {name: self.adapter.limits[name] for name in REQUESTED_LIMITS}
        self.device = self.adapter.request_device_sync(required_limits=wanted)
        self.queue = self.device.queue
        self._use_limits(dict(self.device.limits))

    # ---- hooks ---------------------------------------------------------------
    def _create_buffer(self, size, usage):
        return self.device.create_buffer(size=size, usage=usage)

    def _write(self, handle, offset, data):
        self.queue.write_buffer(handle, offset, data)

    def compile(self, name, code, entry_point, constants):
        module = self.device.create_shader_module(label=name, code=code)
        pipeline = self.device.create_compute_pipeline(
            label=name,
            layout="auto",
            compute={"module": module, "entry_point": entry_point, "constants": constants},
        )
        return Pipeline(name, pipeline, pipeline.get_bind_group_layout(0))

    def _create_bind_group(self, layout, bindings, uniform_offset, uniform_size):
        entries = [
            {"binding": i, "resource": {"buffer": h, "offset": offset, "size": size}}
            for i, (h, offset, size) in enumerate(bindings)
        ]
        uniform = {"buffer": self._uniform_buffer, "offset": uniform_offset, "size": uniform_size}
        entries.append({"binding": len(bindings), "resource": uniform})
        return self.device.create_bind_group(layout=layout, entries=entries)

    def _create_encoder(self):
        return self.device.create_command_encoder()

    def _begin_pass(self, encoder):
        return encoder.begin_compute_pass()

    def _encode_dispatch(self, compute_pass, pipeline, bind_group, groups):
        compute_pass.set_pipeline(pipeline)
        compute_pass.set_bind_group(0, bind_group)
        compute_pass.dispatch_workgroups(*groups)

    def _encode_copy(self, encoder, source, source_offset, target, target_offset, size):
        encoder.copy_buffer_to_buffer(source, source_offset, target, target_offset, size)

    def _submit_encoder(self, encoder):
        self.queue.submit([encoder.finish()])

    def _read(self, regions):
        # one staging buffer, one submit and one mapping for all regions
        staging, size, copies = self._copy_to_staging(regions)
        staging.map_sync(wgpu.MapMode.READ, 0, size)
        data = memoryview(staging.read_mapped(0, size, copy=True)).cast("B")
        staging.unmap()
        return self._read_done(staging, size, copies, data)

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
