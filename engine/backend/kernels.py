"""WGSL kernels: load a template from shaders/, specialize it, cache the pipeline.

A template marks its specialization points with `{{NAME}}` and may pull in a shared
file with a line `#include "other.wgsl"`; `kernel()` replaces
each with the given text and compiles the result once per distinct specialization.
Workgroup sizes are WGSL `override` constants (`WG`), set at pipeline creation.
"""

from __future__ import annotations

import re
from pathlib import Path

from .device import Device, Kernel

_HERE = Path(__file__).resolve().parent
# a wheel ships the shaders inside the package; a source checkout has them at the top
_SHADER_DIRS = (_HERE.parent / "shaders", _HERE.parent.parent / "shaders")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_INCLUDE = re.compile(r'^#include "([\w.]+\.wgsl)"$', re.MULTILINE)

_templates: dict[str, str] = {}


def template(name: str) -> str:
    """The text of `shaders/<name>.wgsl`."""
    text = _templates.get(name)
    if text is None:
        for folder in _SHADER_DIRS:
            path = folder / f"{name}.wgsl"
            if path.is_file():
                text = path.read_text()
                break
        else:
            raise FileNotFoundError(f"shader template {name}.wgsl not found in {_SHADER_DIRS}")
        text = _INCLUDE.sub(lambda m: template(m.group(1)[: -len(".wgsl")]), text)
        _templates[name] = text
    return text


def specialize(text: str, values: dict) -> str:
    """Replace every `{{NAME}}` in `text`; a missing value is an error, not a silent blank."""

    def fill(match):
        key = match.group(1)
        if key not in values:
            raise KeyError(f"shader placeholder {{{{{key}}}}} has no value")
        return str(values[key])

    return _PLACEHOLDER.sub(fill, text)


class KernelCache:
    """Compiled kernels of one device, keyed by (template, entry point, specialization)."""

    def __init__(self, device: Device):
        self.device = device
        self._kernels: dict[tuple, Kernel] = {}

    def get(self, name: str, entry_point: str = "main", workgroup_size: int = 64, **values):
        key = (name, entry_point, workgroup_size, tuple(sorted(values.items())))
        kernel = self._kernels.get(key)
        if kernel is None:
            code = specialize(template(name), values)
            label = f"{name}:{entry_point}"
            constants = {"WG": workgroup_size} if "override WG" in code else {}
            kernel = self.device.compile(label, code, entry_point, constants)
            self._kernels[key] = kernel
        return kernel
