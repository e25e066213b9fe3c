"""The engine as a pure-Python wheel for Pyodide, built in memory from the installed package.

A page installs it with `await pyodide.loadPackage("/wheels/<name>")`. The wheel holds the
`engine` package as imported here (its Python files, the shipped digits data), its WGSL
kernels as `engine/shaders/` (already inside the package in a wheel install, else copied
from the repository's top-level `shaders/`), and the `.dist-info` files that make it a
wheel (PEP 427): METADATA, WHEEL and RECORD (a sha256 per file). It declares no
dependencies: in the browser the engine talks to `navigator.gpu`, not to wgpu-py.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import engine

DIST_NAME = "webgpu_engine"
# Files in the package that the browser never needs.
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
_SKIPPED_DIRS = ("__pycache__",)
# Fixed timestamps: the same sources give the same bytes, hence the same ETag.
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Wheel:
    name: str  # webgpu_engine-<version>-py3-none-any.whl
    content: bytes
    sha256: str  # hex digest of `content`, used as the ETag


def wheel_name(version: str | None = None) -> str:
    return f"{DIST_NAME}-{version or engine.__version__}-py3-none-any.whl"


def _package_files(package_dir: Path, shaders_dir: Path | None):
    """(archive path, file) for every file of the package, shaders included, sorted."""
    files = {}
    for path in package_dir.rglob("*"):
        relative = path.relative_to(package_dir)
        if not path.is_file() or path.suffix in _SKIPPED_SUFFIXES:
            continue
        if any(part in _SKIPPED_DIRS for part in relative.parts):
            continue
        files[f"engine/{relative.as_posix()}"] = path
    if shaders_dir is not None:
        for path in shaders_dir.glob("*.wgsl"):
            files[f"engine/shaders/{path.name}"] = path
    return sorted(files.items())


def _shaders_dir(package_dir: Path) -> Path | None:
    """The repository's shaders/ when the package does not ship its own (source checkout)."""
    if (package_dir / "shaders").is_dir():
        return None
    repo_shaders = package_dir.parent / "shaders"
    if not repo_shaders.is_dir():
        raise FileNotFoundError(f"no WGSL shaders next to {package_dir}")
    return repo_shaders


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _metadata(version: str) -> str:
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {DIST_NAME.replace('_', '-')}\n"
        f"Version: {version}\n"
        "Summary: A PyTorch-style tensor and autograd engine on WebGPU (browser build)\n"
        "License: MIT\n"
    )


def _wheel_file() -> str:
    return "Wheel-Version: 1.0\nGenerator: server.wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def build_wheel(package_dir: Path | None = None, version: str | None = None) -> Wheel:
    """The wheel of the engine in `package_dir` (default: the imported `engine`)."""
    package_dir = Path(package_dir or Path(engine.__file__).parent)
    version = version or engine.__version__
    dist_info = f"{DIST_NAME}-{version}.dist-info"
    entries = [
        (name, path.read_bytes())
        for name, path in _package_files(package_dir, _shaders_dir(package_dir))
    ]
    entries.append((f"{dist_info}/METADATA", _metadata(version).encode()))
    entries.append((f"{dist_info}/WHEEL", _wheel_file().encode()))
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in entries)
    record += f"{dist_info}/RECORD,,\n"
    entries.append((f"{dist_info}/RECORD", record.encode()))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    content = buffer.getvalue()
    return Wheel(wheel_name(version), content, hashlib.sha256(content).hexdigest())


@functools.cache
def engine_wheel() -> Wheel:
    """The wheel of the imported engine, built once per process (on first request)."""
    return build_wheel()
