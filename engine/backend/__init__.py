"""The only package that talks to WebGPU: one `Device` per process, chosen lazily.

Natively the device is wgpu-py's (`native.py`); under Pyodide it is the browser's
`navigator.gpu` (`browser.py`). Everything above this package is identical in both.
"""

from __future__ import annotations

import sys

from .device import Buffer, Device, Pipeline

_device: Device | None = None
_power_preference: str | None = None


def set_power_preference(preference: str) -> None:
    """Choose 'high-performance' or 'low-power' before the first GPU use."""
    global _power_preference
    if _device is not None:
        raise RuntimeError("the device already exists: set the power preference before any GPU use")
    _power_preference = preference


def get_device() -> Device:
    """The process's device, created on first use."""
    global _device
    if _device is None:
        if sys.platform == "emscripten":
            from .browser import BrowserDevice

            _device = BrowserDevice(_power_preference)
        else:
            from .native import NativeDevice

            _device = NativeDevice(_power_preference)
    return _device


__all__ = ["Buffer", "Device", "Pipeline", "get_device", "set_power_preference"]
