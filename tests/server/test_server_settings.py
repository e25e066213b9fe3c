"""Settings (server/settings.py): defaults, then the environment, then the command line."""

from pathlib import Path

import pytest

from server.settings import DEFAULT_MAX_UPLOAD_BYTES, Settings


def test_defaults():
    settings = Settings.from_env({})
    assert (settings.host, settings.port, settings.data_dir) == ("127.0.0.1", 8000, Path("data"))
    assert settings.max_upload_bytes == DEFAULT_MAX_UPLOAD_BYTES == 256 * 1024 * 1024
    assert (settings.web_dir / "..").resolve() == Path(__file__).resolve().parents[2]


def test_environment_then_arguments():
    environ = {
        "ENGINE_SERVER_HOST": "0.0.0.0",
        "ENGINE_SERVER_PORT": "9000",
        "ENGINE_DATA_DIR": "/srv/models",
        "ENGINE_MAX_UPLOAD_BYTES": "1000",
    }
    settings = Settings.from_env(environ)
    assert settings == Settings("0.0.0.0", 9000, Path("/srv/models"), 1000)
    settings = Settings.from_env(environ, port=9001, data_dir=None)
    assert (settings.port, settings.data_dir) == (9001, Path("/srv/models"))


def test_frozen_and_checked():
    with pytest.raises(AttributeError):
        Settings().port = 1
    with pytest.raises(ValueError):
        Settings(max_upload_bytes=0)
