"""The OpenAPI description of the API, served at /api/openapi.json.

Written by hand so that it says exactly what the handlers do; the fuzz test in
tests/server drives every operation from it and fails on any answer it does not describe.
"""

import engine
from engine.serialization import ITEMSIZE

from .routes.models import DEFAULT_LIMIT, MAX_LIMIT
from .storage.base import SUMMARY_ENTRIES, SUMMARY_KEY_CHARS, SUMMARY_VALUE_CHARS
from .uploads import MAX_METADATA_BYTES, MAX_METADATA_ENTRIES
from .validation import MAX_INTEGER, NAME_PATTERN

JSON = "application/json"


def _ref(kind, name):
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema_name, description):
    return {"description": description, "content": {JSON: {"schema": _ref("schemas", schema_name)}}}


def _header(description, schema=None):
    return {"description": description, "schema": schema or {"type": "string"}}


_ERRORS = {
    "BadRequest": "A malformed name, version, query parameter or request",
    "Unauthorized": "No token, or one that is not valid",
    "Forbidden": "The token belongs to another owner",
    "NotFound": "No such model or version",
    "TooLarge": "The upload exceeds the server's size limit",
    "InvalidFile": "The body is not a valid safetensors file; the message says what is wrong",
    "RangeNotSatisfiable": "The requested range lies past the end of the file",
}

_FILE_HEADERS = {
    "ETag": _header('The sha256 of the file, quoted: "<sha256>"'),
    "Cache-Control": _header("Immutable for a numbered version; no-cache for latest"),
    "Accept-Ranges": _header("Always bytes"),
    "Content-Length": _header("Bytes in this response", {"type": "integer", "minimum": 0}),
    "Content-Disposition": _header("attachment; filename=<owner>-<name>-v<n>.safetensors"),
}

_SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                    "message": {"type": "string"},
                },
            }
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "version"],
        "additionalProperties": False,
        "properties": {
            "status": {"type": "string", "enum": ["ok"]},
            "version": {"type": "string", "description": "The engine's version"},
        },
    },
    "Metadata": {
        "type": "object",
        "description": (
            'The safetensors "__metadata__" of the file ({} if none): at most '
            f"{MAX_METADATA_ENTRIES} entries and {MAX_METADATA_BYTES} bytes of UTF-8 keys "
            "and values (a push beyond that is refused with 422 metadata_too_large)"
        ),
        "additionalProperties": {"type": "string"},
    },
    "Tensor": {
        "type": "object",
        "required": ["dtype", "shape"],
        "additionalProperties": False,
        "properties": {
            "dtype": {"type": "string", "enum": list(ITEMSIZE)},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        },
    },
    "Version": {
        "type": "object",
        "required": [
            "owner",
            "name",
            "version",
            "sha256",
            "size",
            "created_at",
            "metadata",
            "tensors",
        ],
        "additionalProperties": False,
        "properties": {
            "owner": {"type": "string", "pattern": NAME_PATTERN},
            "name": {"type": "string", "pattern": NAME_PATTERN},
            "version": {"type": "integer", "minimum": 1},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "size": {"type": "integer", "minimum": 8},
            "created_at": {"type": "string", "format": "date-time"},
            "metadata": _ref("schemas", "Metadata"),
            "tensors": {"type": "object", "additionalProperties": _ref("schemas", "Tensor")},
        },
    },
    "ModelSummary": {
        "type": "object",
        "required": [
            "owner",
            "name",
            "latest_version",
            "versions",
            "created_at",
            "updated_at",
            "metadata",
            "metadata_truncated",
        ],
        "additionalProperties": False,
        "properties": {
            "owner": {"type": "string", "pattern": NAME_PATTERN},
            "name": {"type": "string", "pattern": NAME_PATTERN},
            "latest_version": {"type": "integer", "minimum": 1},
            "versions": {"type": "integer", "minimum": 1, "description": "How many versions"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {
                "type": "string",
                "format": "date-time",
                "description": "When the latest version was pushed",
            },
            "metadata": {
                "type": "object",
                "description": (
                    "A summary of the latest version's metadata: its first "
                    f"{SUMMARY_ENTRIES} entries with a key of at most {SUMMARY_KEY_CHARS} "
                    f"and a value of at most {SUMMARY_VALUE_CHARS} characters. The whole "
                    "metadata is on the version's own route"
                ),
                "additionalProperties": {"type": "string"},
            },
            "metadata_truncated": {
                "type": "boolean",
                "description": "Whether the summary leaves out entries of the metadata",
            },
        },
    },
    "ModelList": {
        "type": "object",
        "required": ["models", "total", "limit", "offset"],
        "additionalProperties": False,
        "properties": {
            "models": {"type": "array", "items": _ref("schemas", "ModelSummary")},
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            "offset": {"type": "integer", "minimum": 0},
        },
    },
    "Model": {
        "type": "object",
        "required": ["owner", "name", "created_at", "updated_at", "versions"],
        "additionalProperties": False,
        "properties": {
            "owner": {"type": "string", "pattern": NAME_PATTERN},
            "name": {"type": "string", "pattern": NAME_PATTERN},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "versions": {
                "type": "array",
                "minItems": 1,
                "items": _ref("schemas", "Version"),
                "description": "Oldest first",
            },
        },
    },
}

_NAME_SCHEMA = {"type": "string", "pattern": NAME_PATTERN, "description": "Must not contain '..'"}

_PARAMETERS = {
    "owner": {
        "name": "owner",
        "in": "path",
        "required": True,
        "schema": _NAME_SCHEMA,
        "example": "alice",
    },
    "name": {
        "name": "name",
        "in": "path",
        "required": True,
        "schema": _NAME_SCHEMA,
        "example": "mlp",
    },
    "version": {
        "name": "version",
        "in": "path",
        "required": True,
        "description": "A version number (from 1) or latest",
        "schema": {"type": "string", "pattern": "^(latest|[1-9][0-9]{0,17})$"},
        "example": "latest",
    },
    "versionNumber": {
        "name": "version",
        "in": "path",
        "required": True,
        "description": "A version number (from 1)",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER},
        "example": 1,
    },
}


def _errors(*names):
    statuses = {
        "BadRequest": "400",
        "Unauthorized": "401",
        "Forbidden": "403",
        "NotFound": "404",
        "TooLarge": "413",
        "InvalidFile": "422",
        "RangeNotSatisfiable": "416",
    }
    return {statuses[name]: _ref("responses", name) for name in names}


_MODEL_PARAMETERS = [_ref("parameters", "owner"), _ref("parameters", "name")]

_PATHS = {
    "/api/health": {
        "get": {
            "operationId": "health",
            "summary": "Whether the server is up, and the engine's version",
            "responses": {"200": _json("Health", "The server is up")},
        }
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "The OpenAPI document",
                    "content": {JSON: {"schema": {"type": "object"}}},
                }
            },
        }
    },
    "/api/models": {
        "get": {
            "operationId": "listModels",
            "summary": "Models, newest first (by the time of their latest version)",
            "parameters": [
                {
                    "name": "q",
                    "in": "query",
                    "description": "A case-insensitive substring of owner/name",
                    "schema": {"type": "string"},
                },
                {
                    "name": "owner",
                    "in": "query",
                    "description": "Only this owner's models",
                    "schema": _NAME_SCHEMA,
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_LIMIT,
                        "default": DEFAULT_LIMIT,
                    },
                },
                {
                    "name": "offset",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": MAX_INTEGER,
                        "default": 0,
                    },
                },
            ],
            "responses": {"200": _json("ModelList", "A page of models"), **_errors("BadRequest")},
        }
    },
    "/api/models/{owner}/{name}": {
        "parameters": _MODEL_PARAMETERS,
        "get": {
            "operationId": "getModel",
            "summary": "A model and all its versions",
            "responses": {
                "200": _json("Model", "The model"),
                **_errors("BadRequest", "NotFound"),
            },
        },
        "delete": {
            "operationId": "deleteModel",
            "summary": "Delete a model and all its versions (owner only)",
            "security": [{"bearerAuth": []}],
            "responses": {
                "204": {"description": "Deleted"},
                **_errors("BadRequest", "Unauthorized", "Forbidden", "NotFound"),
            },
        },
    },
    "/api/models/{owner}/{name}/versions": {
        "parameters": _MODEL_PARAMETERS,
        "post": {
            "operationId": "pushVersion",
            "summary": "Push a safetensors file as the model's next version (owner only)",
            "description": (
                "The body is one safetensors file. Its header is checked (length, JSON, "
                "valid Unicode text without lone UTF-16 surrogates, dtypes, shapes against "
                "byte lengths and with non-zero sizes multiplying to at most 2**63 - 1, "
                "offsets in range, non-overlapping and covering the data; metadata within "
                f"{MAX_METADATA_ENTRIES} entries and {MAX_METADATA_BYTES} bytes: 422 "
                "metadata_too_large) "
                "before the version is created. The model is created "
                "with its first version."
            ),
            "security": [{"bearerAuth": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            },
            "responses": {
                "201": {
                    **_json("Version", "The new version"),
                    "headers": {"Location": _header("The URL of the new version")},
                },
                **_errors("BadRequest", "Unauthorized", "Forbidden", "TooLarge", "InvalidFile"),
            },
        },
    },
    "/api/models/{owner}/{name}/versions/{version}": {
        "get": {
            "operationId": "getVersion",
            "summary": "One version's record",
            "parameters": [*_MODEL_PARAMETERS, _ref("parameters", "version")],
            "responses": {
                "200": _json("Version", "The version"),
                **_errors("BadRequest", "NotFound"),
            },
        },
        "delete": {
            "operationId": "deleteVersion",
            "summary": "Delete one version (owner only); deleting the last deletes the model",
            "parameters": [*_MODEL_PARAMETERS, _ref("parameters", "versionNumber")],
            "security": [{"bearerAuth": []}],
            "responses": {
                "204": {"description": "Deleted"},
                **_errors("BadRequest", "Unauthorized", "Forbidden", "NotFound"),
            },
        },
    },
    "/api/models/{owner}/{name}/versions/{version}/file": {
        "get": {
            "operationId": "downloadVersion",
            "summary": "The version's safetensors file",
            "parameters": [
                *_MODEL_PARAMETERS,
                _ref("parameters", "version"),
                {
                    "name": "Range",
                    "in": "header",
                    "description": "One range, bytes=first-last, bytes=first- or bytes=-n; "
                    "others are ignored",
                    "schema": {"type": "string"},
                },
                {
                    "name": "If-None-Match",
                    "in": "header",
                    "description": "ETags the client has; 304 if the file's is among them",
                    "schema": {"type": "string"},
                },
            ],
            "responses": {
                "200": {
                    "description": "The whole file",
                    "headers": _FILE_HEADERS,
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
                "206": {
                    "description": "The requested range",
                    "headers": {
                        **_FILE_HEADERS,
                        "Content-Range": _header("bytes first-last/size"),
                    },
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
                "304": {"description": "Not modified: the client's copy is current"},
                **_errors("BadRequest", "NotFound", "RangeNotSatisfiable"),
            },
        }
    },
}


def _error_responses():
    responses = {name: _json("Error", text) for name, text in _ERRORS.items()}
    responses["Unauthorized"]["headers"] = {
        "WWW-Authenticate": _header('Bearer, or Bearer error="invalid_token"')
    }
    responses["RangeNotSatisfiable"]["headers"] = {
        "Content-Range": _header("bytes */<size of the file>")
    }
    return responses


def openapi_schema():
    """The OpenAPI 3.1 document of the API, as a dict ready for JSON."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "webgpu-engine model exchange",
            "version": engine.__version__,
            "description": (
                "Models are owner/name with immutable numbered versions, each one "
                "safetensors file; a number, once used by an owner/name, is never used "
                "again, not even after a delete. Reading is open; writing needs a bearer "
                "token of the owner (`python -m server token create <owner>`). Every error is "
                '{"error": {"code", "message"}}.'
            ),
        },
        "paths": _PATHS,
        "components": {
            "schemas": _SCHEMAS,
            "parameters": _PARAMETERS,
            "responses": _error_responses(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `python -m server token create <owner>`",
                }
            },
        },
    }
