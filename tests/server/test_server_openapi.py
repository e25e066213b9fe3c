"""The OpenAPI document (server/openapi.py): it covers every API route, and schemathesis,
driving every operation from it, finds no server error and no answer it does not describe."""

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Route

from server.openapi import openapi_schema
from tests.server.conftest import model_file


def test_every_api_route_is_described(app):
    paths = openapi_schema()["paths"]
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/"):
            assert route.path in paths
            for method in route.methods - {"HEAD"}:
                assert method.lower() in paths[route.path], (method, route.path)


# Loaded from the dict itself; each test sends its cases to its own app (`app=`).
schema = schemathesis.openapi.from_dict(openapi_schema())


@pytest.fixture
def alice_model(client, alice):
    """One model to find, so that the successful answers get checked too."""
    response = client.post("/api/models/alice/mlp/versions", content=model_file(), headers=alice)
    assert response.status_code == 201


@schema.parametrize()
@hypothesis.settings(
    max_examples=50, deadline=None, suppress_health_check=list(hypothesis.HealthCheck)
)
def test_fuzz(case, app, alice, alice_model):
    case.call_and_validate(
        app=app,
        headers=alice,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            response_headers_conformance,
        ],
    )
