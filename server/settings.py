"""The server's one settings object, built from the environment and the command line."""

import os
from dataclasses import dataclass, field
from pathlib import Path

# The pages: inside the package in a wheel (server/web), next to it in the repository.
_HERE = Path(__file__).resolve().parent
DEFAULT_WEB_DIR = _HERE / "web" if (_HERE / "web").is_dir() else _HERE.parent / "web"

DEFAULT_MAX_UPLOAD_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Everything that varies between deployments; passed to `create_app`, never global."""

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    web_dir: Path = field(default=DEFAULT_WEB_DIR)
    # The npm package `pyodide` the pages load; None: node_modules/pyodide of the repository.
    pyodide_dir: Path | None = None

    def __post_init__(self):
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "web_dir", Path(self.web_dir))
        if self.pyodide_dir is not None:
            object.__setattr__(self, "pyodide_dir", Path(self.pyodide_dir))
        if self.max_upload_bytes < 1:
            raise ValueError(f"max_upload_bytes must be >= 1, got {self.max_upload_bytes}")

    @classmethod
    def from_env(cls, environ=None, **overrides):
        """Settings from `ENGINE_SERVER_HOST`, `ENGINE_SERVER_PORT`, `ENGINE_DATA_DIR` and
        `ENGINE_MAX_UPLOAD_BYTES`, then `overrides` (command-line values; None means unset)."""
        environ = os.environ if environ is None else environ
        values = {}
        for key, variable, convert in [
            ("host", "ENGINE_SERVER_HOST", str),
            ("port", "ENGINE_SERVER_PORT", int),
            ("data_dir", "ENGINE_DATA_DIR", Path),
            ("max_upload_bytes", "ENGINE_MAX_UPLOAD_BYTES", int),
        ]:
            if environ.get(variable):
                values[key] = convert(environ[variable])
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)
