"""What is not a model: health, the OpenAPI schema, the pages for people, and what the
pages load (Pyodide from node_modules, the engine as a wheel)."""

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, JSONResponse, Response

import engine

from ..compression import compress_file_response
from ..errors import not_found
from ..openapi import openapi_schema
from ..wheel import engine_wheel

# node_modules/pyodide next to the repository root (`make node` installs it there).
DEFAULT_PYODIDE_DIR = Path(__file__).resolve().parents[2] / "node_modules" / "pyodide"
# Pyodide's files are versioned by the npm package: a year, immutable.
_LONG_CACHE = "public, max-age=31536000, immutable"
_MEDIA_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".zip": "application/zip",
}


# Browsers ask for /favicon.ico on pages without an icon link (the hub): answer it, so that
# no page logs a 404.
_FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="#0a58ca"/>'
    '<text x="8" y="12.5" font-size="12" text-anchor="middle" fill="#fff">e</text></svg>'
)


async def favicon(request):
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(_FAVICON, media_type="image/svg+xml", headers=headers)


async def health(request):
    return JSONResponse({"status": "ok", "version": engine.__version__})


async def openapi(request):
    return JSONResponse(openapi_schema())


async def _page(request, filename, what):
    page = request.app.state.settings.web_dir / filename
    if not page.is_file():
        raise not_found(what)
    # Revalidated on each visit (cheap: ETag), so that a new version is never hidden.
    response = FileResponse(page, media_type="text/html", headers={"Cache-Control": "no-cache"})
    return await compress_file_response(request.headers, response)


async def index(request):
    return await _page(request, "index.html", "the home page")


async def hub(request):
    return await _page(request, "hub.html", "the hub page")


async def train(request):
    return await _page(request, "train.html", "the training demo")


async def console(request):
    return await _page(request, "console.html", "the console page")


async def pyodide_file(request):
    """A file of the npm package `pyodide`: only files directly in its folder."""
    settings = request.app.state.settings
    folder = Path(settings.pyodide_dir or DEFAULT_PYODIDE_DIR)
    name = request.path_params["file"]
    path = folder / name
    if name.startswith(".") or "/" in name or "\\" in name or not path.is_file():
        raise not_found(f"pyodide/{name}")
    media_type = _MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    response = FileResponse(path, media_type=media_type, headers={"Cache-Control": _LONG_CACHE})
    return await compress_file_response(request.headers, response)


async def latest_wheel(request):
    """Where the engine's wheel is: {"name", "url", "sha256"}."""
    wheel = await run_in_threadpool(engine_wheel)
    body = {"name": wheel.name, "url": f"/wheels/{wheel.name}", "sha256": wheel.sha256}
    return JSONResponse(body, headers={"Cache-Control": "no-cache"})


async def wheel_file(request):
    """The engine as a pure-Python wheel, built in memory on first request; ETag = sha256."""
    wheel = await run_in_threadpool(engine_wheel)
    if request.path_params["name"] + ".whl" != wheel.name:
        raise not_found(f"the wheel {request.path_params['name']}.whl")
    etag = f'"{wheel.sha256}"'
    # Same version, new sources (a working tree): revalidate, cheap thanks to the ETag.
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(wheel.content, media_type="application/zip", headers=headers)
