"""Bearer tokens: an owner's token lets its holder push and delete under that owner's name.

A token is `wgt_` and 32 random bytes in URL-safe base64: the prefix makes a leaked token easy
to recognise (secret scanners) and keeps it from starting with `-`, which command-line parsers
would take for an option. Only its sha256 is stored, so a copy of the
database does not hand out write access; a plain hash suffices because the token is random,
not a password someone chose.
"""

import hashlib
import secrets

from starlette.concurrency import run_in_threadpool

from .errors import ApiError

TOKEN_PREFIX = "wgt_"


def new_token():
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _unauthorized(message, error=None):
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": challenge})


async def require_owner(request, owner):
    """Return if the request carries a token of `owner`: else 401 (no valid token) or 403."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("this request needs 'Authorization: Bearer <token>'")
    token_owner = await run_in_threadpool(request.app.state.metadata.token_owner, hash_token(token))
    if token_owner is None:
        raise _unauthorized("the token is not valid", error="invalid_token")
    if token_owner != owner:
        raise ApiError(
            403, "forbidden", f"this token writes for {token_owner!r}, not for {owner!r}"
        )
