"""Every error the API answers has one shape: {"error": {"code": snake_case, "message": text}}."""

import logging

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

log = logging.getLogger("server")

# Codes for the errors Starlette raises itself (unknown path, wrong method).
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


class ApiError(Exception):
    """Raised anywhere in a request to answer with an error; see `handle_api_error`."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def not_found(what):
    return ApiError(404, "not_found", f"{what} not found")


def error_response(status, code, message, headers=None):
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


async def handle_api_error(request, error):
    return error_response(error.status, error.code, error.message, error.headers)


async def handle_http_exception(request, error):
    code = _HTTP_CODES.get(error.status_code, f"http_{error.status_code}")
    return error_response(error.status_code, code, error.detail, error.headers)


async def handle_unexpected(request, error):
    log.exception("unhandled error in %s %s", request.method, request.url.path, exc_info=error)
    return error_response(500, "internal_error", "internal server error")


EXCEPTION_HANDLERS = {
    ApiError: handle_api_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
