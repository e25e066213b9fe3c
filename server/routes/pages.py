"""What is not a model: health, the OpenAPI schema, and the pages for people."""

from starlette.responses import FileResponse, HTMLResponse, JSONResponse

import engine

from ..errors import not_found
from ..openapi import openapi_schema

INDEX_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>webgpu-engine</title></head>
<body>
<h1>webgpu-engine</h1>
<p>A model exchange for the engine.</p>
<ul>
<li><a href="/hub">Browse the models</a></li>
<li><a href="/api/openapi.json">The API (OpenAPI schema)</a></li>
</ul>
</body>
</html>
"""


async def health(request):
    return JSONResponse({"status": "ok", "version": engine.__version__})


async def openapi(request):
    return JSONResponse(openapi_schema())


async def index(request):
    return HTMLResponse(INDEX_HTML)


async def hub(request):
    page = request.app.state.settings.web_dir / "hub.html"
    if not page.is_file():
        raise not_found("the hub page")
    return FileResponse(page, media_type="text/html")
