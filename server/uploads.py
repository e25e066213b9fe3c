"""Receiving one pushed safetensors file: streamed to a temporary file, hashed, checked.

The body is never held whole in memory: chunks are written to `<data_dir>/tmp/` while the
sha256 is computed, and the upload is refused with 413 as soon as it grows past the cap
(or at once when its Content-Length says it will). Then the header is read back and checked
by `engine.serialization.parse_header`. Whatever goes wrong, the temporary file is removed:
only a checked, synced file ever reaches the blob store.
"""

import hashlib
import os
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from engine.serialization import MAX_HEADER_SIZE, parse_header

from .errors import ApiError

# The most that a file's "__metadata__" may hold: entries, and UTF-8 bytes of keys and values
# together. Every version record carries it, so it is kept far below the header's own limit
# (100 MB); beyond it a push is refused with 422 metadata_too_large.
MAX_METADATA_ENTRIES = 256
MAX_METADATA_BYTES = 256 * 1024

# An upload still in tmp/ after this long was cut off by a crash: no request is that slow.
STALE_UPLOAD_SECONDS = 24 * 3600

# Chunks are gathered up to this size before one write + hash in a worker thread: large
# enough that the thread hand-off costs little, small enough to bound memory per upload.
WRITE_BATCH_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    path: Path  # the checked file, in <data_dir>/tmp/
    sha256: str
    size: int
    metadata: dict
    tensors: dict


def _too_large(limit):
    return ApiError(413, "too_large", f"the upload exceeds the limit of {limit} bytes")


def _invalid(message):
    return ApiError(422, "invalid_safetensors", message)


def _declared_length(request, limit):
    """The Content-Length, if any; 413 right away if it is over `limit`."""
    text = request.headers.get("content-length")
    if text is None:
        return None  # chunked: the limit is enforced while reading
    if not text.isascii() or not text.isdigit():
        raise ApiError(400, "invalid_content_length", f"Content-Length {text!r} is not a number")
    if int(text) > limit:
        raise _too_large(limit)
    return int(text)


def _check_header_length(first_bytes, file_size):
    """Fail fast on a header length that cannot fit, before the rest of the body arrives."""
    (header_size,) = struct.unpack("<Q", first_bytes)
    if header_size > MAX_HEADER_SIZE or 8 + header_size > file_size:
        parse_header(first_bytes, file_size=file_size)  # raises, naming the problem


def _write(file, hasher, chunks):
    for chunk in chunks:
        hasher.update(chunk)
        file.write(chunk)


async def _spool(request, file, declared, limit):
    """Copy the body into `file`; (sha256 hex digest, size)."""
    hasher, size, first, batch, batch_size = hashlib.sha256(), 0, b"", [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            if len(first) < 8 and chunk:
                first += chunk[: 8 - len(first)]
                if len(first) == 8 and declared is not None:
                    try:
                        _check_header_length(first, declared)
                    except ValueError as error:
                        raise _invalid(str(error)) from None
            batch.append(chunk)
            batch_size += len(chunk)
            if batch_size >= WRITE_BATCH_BYTES:
                await run_in_threadpool(_write, file, hasher, batch)
                batch, batch_size = [], 0
    except ClientDisconnect:
        raise ApiError(400, "client_disconnected", "the client went away mid-upload") from None
    await run_in_threadpool(_write, file, hasher, batch)
    return hasher.hexdigest(), size


def _read_header(path, size):
    """Parse the header of the received file: (metadata, tensors), or 422."""
    if size == 0:
        raise _invalid("the body is empty: expected one safetensors file")
    with open(path, "rb") as file:
        prefix = file.read(8)
        if len(prefix) == 8:
            (header_size,) = struct.unpack("<Q", prefix)
            if header_size <= MAX_HEADER_SIZE:
                prefix += file.read(min(header_size, size - 8))
    try:
        header, _ = parse_header(prefix, file_size=size)
    except ValueError as error:
        raise _invalid(str(error)) from None
    except RecursionError:
        # parse_header lets json's RecursionError through on deeply nested headers.
        raise _invalid("header is not valid JSON: nested too deeply") from None
    metadata = header.pop("__metadata__", {})
    _check_metadata_size(metadata)
    tensors = {
        name: {"dtype": entry["dtype"], "shape": entry["shape"]} for name, entry in header.items()
    }
    return metadata, tensors


def _check_metadata_size(metadata):
    if len(metadata) > MAX_METADATA_ENTRIES:
        raise ApiError(
            422,
            "metadata_too_large",
            f"__metadata__ has {len(metadata)} entries, more than the limit of "
            f"{MAX_METADATA_ENTRIES}",
        )
    size = sum(len(key.encode()) + len(value.encode()) for key, value in metadata.items())
    if size > MAX_METADATA_BYTES:
        raise ApiError(
            422,
            "metadata_too_large",
            f"__metadata__ holds {size} bytes of keys and values, more than the limit of "
            f"{MAX_METADATA_BYTES}",
        )


def _sync_and_close(file):
    # Synced here, outside the store's write lock, so that pushes queue only for the rename.
    file.flush()
    os.fsync(file.fileno())
    file.close()


async def receive_upload(request, settings):
    """The request body as a checked `Upload`; the caller owns (and removes) `upload.path`."""
    limit = settings.max_upload_bytes
    declared = _declared_length(request, limit)
    fd, name = tempfile.mkstemp(dir=settings.data_dir / "tmp", suffix=".upload")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as file:
            sha256, size = await _spool(request, file, declared, limit)
            await run_in_threadpool(_sync_and_close, file)
        metadata, tensors = await run_in_threadpool(_read_header, path, size)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Upload(path, sha256, size, metadata, tensors)


def remove_stale_uploads(tmp_dir):
    """Delete what a crashed server left in `tmp_dir`. Only old files go: another server
    process sharing the data directory may be receiving into the fresh ones."""
    cutoff = time.time() - STALE_UPLOAD_SECONDS
    for path in Path(tmp_dir).glob("*.upload"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            pass  # removed meanwhile by its own request
