"""The Starlette application: every path the server answers, in one table."""

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, Route

from .compression import CompressedStaticFiles
from .errors import EXCEPTION_HANDLERS
from .routes import download, models, pages, push
from .storage import open_storage
from .uploads import remove_stale_uploads

MODEL = "/api/models/{owner}/{name}"
VERSION = MODEL + "/versions/{version}"


# Pages on other origins may use the API too (engine.hub in someone's notebook page): reading
# is open anyway, and writing needs a bearer token that the page itself must hold (no cookies,
# so no cross-site request forgery). ETag must be readable: the client checks downloads with it.
_CORS = Middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_methods=["GET", "HEAD", "POST", "DELETE"],
    allow_headers=["Authorization", "Content-Type", "Range", "If-None-Match"],
    expose_headers=["ETag", "Content-Length", "Content-Range", "Accept-Ranges"],
    max_age=3600,
)


def create_app(settings):
    """The app for `settings` (a `server.settings.Settings`), with its storage opened."""
    static = settings.web_dir / "static"
    routes = [
        Route("/", pages.index),
        Route("/hub", pages.hub),
        Route("/demos/train", pages.train),
        Route("/console", pages.console),
        Route("/pyodide/{file}", pages.pyodide_file),
        Route("/wheels/latest.json", pages.latest_wheel),
        Route("/wheels/{name}.whl", pages.wheel_file),
        Route("/favicon.ico", pages.favicon),
        Mount("/static", CompressedStaticFiles(directory=static, check_dir=False)),
        Route("/api/health", pages.health),
        Route("/api/openapi.json", pages.openapi),
        Route("/api/models", models.list_models),
        Route(MODEL, models.get_model, methods=["GET"]),
        Route(MODEL, models.delete_model, methods=["DELETE"]),
        Route(MODEL + "/versions", push.push_version, methods=["POST"]),
        Route(VERSION, models.get_version, methods=["GET"]),
        Route(VERSION, models.delete_version, methods=["DELETE"]),
        Route(VERSION + "/file", download.download_version, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS, middleware=[_CORS])
    app.state.settings = settings
    app.state.metadata, app.state.blobs = open_storage(settings)
    remove_stale_uploads(settings.data_dir / "tmp")
    return app
