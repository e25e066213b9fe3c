"""Checks on what arrives in a URL: owner and model names, version numbers, query integers.

Names end up in URLs, file names of downloads and log lines, so they are held to a
strict pattern rather than escaped everywhere they go.
"""

import re

from .errors import ApiError

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)

# SQLite integers are 64-bit signed; anything larger cannot name a row.
MAX_INTEGER = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")  # int() would also take "+1", " 1", "1_0" and "١"


def check_name(kind, value):
    """`value` if it is a valid owner or model name (`kind` says which), else 400."""
    if not _NAME.fullmatch(value) or ".." in value:
        raise ApiError(
            400,
            "invalid_name",
            f"{kind} {value!r} must match {NAME_PATTERN} and not contain '..'",
        )
    return value


def parse_version(text, allow_latest=True):
    """A version number from the URL, or None for "latest" (if allowed), else 400."""
    if allow_latest and text == "latest":
        return None
    if _DIGITS.fullmatch(text) and 1 <= int(text) <= MAX_INTEGER:
        return int(text)
    expected = "a positive integer or 'latest'" if allow_latest else "a positive integer"
    raise ApiError(400, "invalid_version", f"version {text!r} is not {expected}")


def parse_query_int(params, key, default, minimum, maximum):
    """The integer query parameter `key` within [minimum, maximum], else 400."""
    text = params.get(key)
    if text is None:
        return default
    if _DIGITS.fullmatch(text) and minimum <= int(text) <= maximum:
        return int(text)
    raise ApiError(
        400,
        f"invalid_{key}",
        f"{key} must be an integer from {minimum} to {maximum}, got {text!r}",
    )


def owner_and_name(request):
    """The checked {owner} and {name} of the request's path."""
    return (
        check_name("owner", request.path_params["owner"]),
        check_name("model name", request.path_params["name"]),
    )
