"""What the engine needs from a web page besides the GPU: HTTP through the page's `fetch`,
the page's origin, and blocking on a promise where the browser can (JSPI).

Like browser.py, this module exists only under Pyodide (it imports `js` and `pyodide`);
`engine.hub` imports it lazily there, so that only `engine/backend/` touches JavaScript.
"""

from __future__ import annotations

import js
from pyodide.ffi import can_run_sync, run_sync
from pyodide.http import pyfetch


def origin():
    """The page's origin (e.g. "http://127.0.0.1:8000"), or None for a file:// page."""
    value = getattr(getattr(js, "location", None), "origin", None)
    return value if value and value != "null" else None


def can_block():
    """Whether Python may wait for a promise here: JSPI, and a stack entered asynchronously."""
    return can_run_sync()


def block_on(awaitable):
    """Wait for `awaitable` from synchronous code (only where `can_block()`)."""
    return run_sync(awaitable)


async def fetch(method, url, body=None, headers=None):
    """One HTTP request: (status, headers with lower-case names, body bytes), whatever the
    status. Raises ConnectionError when fetch itself fails (no server there, offline, or a
    request the browser refused, such as one another origin does not allow)."""
    # "no-cache": the browser may keep a response but must ask the server whether it is
    # current (a 304 costs nothing); a URL such as ".../latest/file" changes meaning.
    options = {"method": method, "headers": headers or {}, "cache": "no-cache"}
    if method != "GET":
        # a write follows no redirect: the answer (status 0, "opaqueredirect") is an error
        options["redirect"] = "manual"
    if body is not None:
        options["body"] = body  # bytes arrive in JS as a Uint8Array
    try:
        response = await pyfetch(url, **options)
        data = await response.bytes()
    except OSError as error:
        raise ConnectionError(str(error)) from None
    names = {name.lower(): value for name, value in response.headers.items()}
    return response.status, names, data
