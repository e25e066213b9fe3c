"""The only package that talks to WebGPU: one `Device` per process, chosen lazily.

Natively the device is wgpu-py's (`native.py`); under Pyodide it is the browser's
`navigator.gpu` (`browser.py`). Everything above this package is identical in both.
"""

from __future__ import annotations

import sys

from .device import Buffer, Device, Kernel
from .kernels import KernelCache

_device: Device | None = None
_kernels: KernelCache | None = None
_power_preference: str | None = None


def set_power_preference(preference: str) -> None:
    """Choose 'high-performance' or 'low-power' before the first GPU use."""
    global _power_preference
    if _device is not None:
        raise RuntimeError("the device already exists: set the power preference before any GPU use")
    _power_preference = preference


def get_device() -> Device:
    """The process's device, created on first use."""
    global _device, _kernels
    if _device is None:
        if sys.platform == "emscripten":
            from .browser import BrowserDevice

            _device = BrowserDevice(_power_preference)
        else:
            from .native import NativeDevice

            _device = NativeDevice(_power_preference)
        _kernels = KernelCache(_device)
    return _device


def get_kernel(name: str, entry_point: str = "main", workgroup_size: int = 64, **values) -> Kernel:
    """A compiled kernel of `shaders/<name>.wgsl` with its placeholders filled."""
    if _kernels is None:
        get_device()
    return _kernels.get(name, entry_point, workgroup_size, **values)


__all__ = ["Buffer", "Device", "Kernel", "get_device", "get_kernel", "set_power_preference"]
