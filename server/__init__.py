"""The model exchange: a Starlette app where people push, browse and pull models.

    from server import Settings, create_app
    app = create_app(Settings(data_dir="data"))

or from the command line, `python -m server` (see `server.__main__`). The routes are in
`server.app`, the storage behind them in `server.storage`.
"""

from .app import create_app
from .settings import Settings
