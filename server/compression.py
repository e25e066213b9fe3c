"""gzip for the files the pages load, compressed once and kept in memory.

Pyodide's WebAssembly module is 9.6 MB and 3.5 MB gzipped: the first visit of a page loads
a third of the bytes. Compressing it takes half a second of CPU, so each file is compressed
once per version (path, mtime, size) in a worker thread and the result is cached; a
middleware that compressed every response anew would spend that half-second per visitor.

Only files are compressed, never the model exchange's downloads: those answer Range
requests and carry the file's sha256 as their ETag, which an encoding would break. Files
that are already compressed (zip, wheels, images) are sent as they are. Brotli would save a
little more, but it is not in the standard library; gzip is understood by every browser.
"""

import gzip
import os
import threading
from collections import OrderedDict

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

COMPRESSIBLE_SUFFIXES = frozenset(
    {".wasm", ".js", ".mjs", ".css", ".html", ".json", ".map", ".svg", ".txt", ".ts"}
)
MIN_SIZE = 1024  # below this the gzip header and the CPU cost outweigh the saving
LEVEL = 6  # zlib's default: level 9 saves 1% more on pyodide.asm.wasm for twice the time


def accepts_gzip(headers):
    """Whether an Accept-Encoding header admits gzip (q=0 refuses it, as RFC 9110 says)."""
    for part in headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        quality = params.strip().lower()
        if quality.startswith("q="):
            try:
                return float(quality[2:]) > 0
            except ValueError:
                return False
        return True
    return False


class GzipCache:
    """The gzip bytes of files, least recently used dropped past `max_bytes` in all."""

    def __init__(self, max_bytes=64 * 1024 * 1024):
        self.max_bytes = max_bytes
        self._entries = OrderedDict()  # (path, mtime_ns, size) -> bytes
        self._total = 0
        self._lock = threading.Lock()

    def get(self, path, stat_result):
        key = (os.fspath(path), stat_result.st_mtime_ns, stat_result.st_size)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        with open(path, "rb") as file:
            body = gzip.compress(file.read(), compresslevel=LEVEL, mtime=0)
        with self._lock:
            if key not in self._entries:
                # A newer version of the same file replaces the old one.
                for old in [k for k in self._entries if k[0] == key[0]]:
                    self._total -= len(self._entries.pop(old))
                self._entries[key] = body
                self._total += len(body)
                while self._total > self.max_bytes and len(self._entries) > 1:
                    _, dropped = self._entries.popitem(last=False)
                    self._total -= len(dropped)
        return body


_CACHE = GzipCache()


def _gzip_etag(etag):
    # A different representation needs a different strong validator (RFC 9110 8.8.3).
    return etag[:-1] + '-gzip"' if etag.endswith('"') else etag + "-gzip"


def _matches(request_headers, etag):
    tags = [tag.strip() for tag in request_headers.get("if-none-match", "").split(",")]
    return etag in tags or "*" in tags


async def compress_file_response(request_headers, response, cache=_CACHE):
    """`response` (a 200 FileResponse) gzipped when the client takes it and it pays off, or
    a 304 when the client's copy (If-None-Match) is current."""
    if not isinstance(response, FileResponse) or response.status_code != 200:
        return response
    path = response.path
    if response.stat_result is None:
        response.stat_result = await run_in_threadpool(os.stat, path)
        response.set_stat_headers(response.stat_result)
    size = response.stat_result.st_size
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    compressible = suffix in COMPRESSIBLE_SUFFIXES and size >= MIN_SIZE
    if compressible:
        response.headers["vary"] = "Accept-Encoding"
    # A Range request is about the bytes of the file itself: answer it uncompressed.
    if not compressible or not accepts_gzip(request_headers) or "range" in request_headers:
        if _matches(request_headers, response.headers["etag"]):
            return Response(status_code=304, headers=_without_body_headers(response.headers))
        return response

    headers = _without_body_headers(response.headers)
    headers["content-encoding"] = "gzip"
    headers["etag"] = _gzip_etag(response.headers["etag"])
    if _matches(request_headers, headers["etag"]):
        return Response(status_code=304, headers=headers)
    body = await run_in_threadpool(cache.get, path, response.stat_result)
    return Response(body, headers=headers, media_type=response.media_type)


def _without_body_headers(headers):
    dropped = ("content-length", "accept-ranges", "content-type")
    return {key: value for key, value in headers.items() if key not in dropped}


class CompressedStaticFiles(StaticFiles):
    """Starlette's StaticFiles, gzipped through the cache, revalidated on every use.

    The files under /static are not versioned in their names, so browsers are told to
    revalidate (`no-cache`): a cheap 304 thanks to the ETag, and never a stale script.
    """

    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["cache-control"] = "no-cache"
        return await compress_file_response(Headers(scope=scope), response)
