"""The OpenAPI document that spectree generates from the views and their schemas."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_document_served(client: FlaskClient) -> None:
    response = client.get("/apidoc/openapi.json")

    assert response.status_code == 200
    assert response.json["openapi"].startswith("3.")


def test_document_lists_every_route(app: Flask, client: FlaskClient) -> None:
    documented = set(client.get("/apidoc/openapi.json").json["paths"])
    routes = {
        rule.rule.replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("users.")
    }

    assert routes == documented


def test_collect_request_schema(client: FlaskClient) -> None:
    document = client.get("/apidoc/openapi.json").json
    schemas = document["components"]["schemas"]
    request_schema = next(
        schema for name, schema in schemas.items() if name.startswith("CollectRequest")
    )

    assert request_schema["required"] == ["tiktok_username"]
    assert request_schema["properties"]["tiktok_username"]["type"] == "string"


def test_collect_responses_documented(client: FlaskClient) -> None:
    document = client.get("/apidoc/openapi.json").json
    responses = document["paths"]["/tiktok_users"]["post"]["responses"]

    assert {"200", "201", "400", "404", "415", "422", "503", "504"} <= set(responses)


def test_resource_id_is_string(client: FlaskClient) -> None:
    schemas = client.get("/apidoc/openapi.json").json["components"]["schemas"]
    resource = next(schema for name, schema in schemas.items() if name.startswith("UserResource."))

    assert resource["properties"]["id"]["type"] == "string"


# Problem statuses each operation can return, from the problem types in docs/errors.md.
PROBLEM_STATUSES = {
    ("/tiktok_users", "post"): {"400", "404", "413", "415", "422", "500", "502", "503", "504"},
    ("/tiktok_users/{ref}", "get"): {"404", "422", "500", "503"},
    ("/tiktok_users/{ref}/snapshots", "get"): {"404", "422", "500", "503"},
}


def problem_schema_name(document: dict[str, Any]) -> str:
    """Return the component name that spectree gave the ProblemDetails schema."""
    schemas = document["components"]["schemas"]
    return next(name for name in schemas if name.startswith("ProblemDetails."))


@pytest.mark.parametrize(("path", "method"), list(PROBLEM_STATUSES))
def test_problem_statuses_documented(client: FlaskClient, path: str, method: str) -> None:
    document = client.get("/apidoc/openapi.json").json
    responses = document["paths"][path][method]["responses"]
    reference = f"#/components/schemas/{problem_schema_name(document)}"

    for status in PROBLEM_STATUSES[(path, method)]:
        assert status in responses, status
        assert responses[status]["content"] == {
            "application/problem+json": {"schema": {"$ref": reference}}
        }, status


def test_error_responses_are_problems(client: FlaskClient) -> None:
    document = client.get("/apidoc/openapi.json").json
    reference = f"#/components/schemas/{problem_schema_name(document)}"

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                assert list(response["content"]) == ["application/problem+json"], (
                    path,
                    method,
                    status,
                )
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": reference}, (path, method, status)


def test_no_validation_error_schema(client: FlaskClient) -> None:
    document = client.get("/apidoc/openapi.json").json

    assert not [name for name in document["components"]["schemas"] if "ValidationError" in name]
    assert "ValidationError" not in json.dumps(document)


@pytest.mark.parametrize(
    ("status", "header"),
    [("201", "Location"), ("200", "Content-Location"), ("503", "Retry-After")],
)
def test_collect_headers_documented(client: FlaskClient, status: str, header: str) -> None:
    document = client.get("/apidoc/openapi.json").json
    response = document["paths"]["/tiktok_users"]["post"]["responses"][status]

    assert header in response["headers"]


@pytest.mark.parametrize(
    ("method", "path", "options"),
    [
        ("get", "/tiktok_users/a%20b", {}),
        ("get", "/tiktok_users/missing.account", {}),
        ("get", "/tiktok_users/a%20b/snapshots", {}),
        ("post", "/tiktok_users", {"data": "{", "content_type": "application/json"}),
        ("post", "/tiktok_users", {"data": "zg.520", "content_type": "text/plain"}),
        ("post", "/tiktok_users", {"json": {"tiktok_username": "zg-520"}}),
        ("post", "/tiktok_users", {"json": {"tiktok_user": "zg.520"}}),
    ],
)
def test_problem_answers_match_document(
    client: FlaskClient, method: str, path: str, options: dict[str, Any]
) -> None:
    document = client.get("/apidoc/openapi.json").json
    template = path.replace("a%20b", "{ref}").replace("missing.account", "{ref}")
    responses = document["paths"][template][method]["responses"]

    answer = client.open(path, method=method.upper(), **options)

    assert str(answer.status_code) in responses
    assert answer.mimetype in responses[str(answer.status_code)]["content"]


def test_viewer_pages_not_served(client: FlaskClient) -> None:
    # Swagger UI and Redoc load their JavaScript from unpkg.com, so they are turned off.
    for page in ("/apidoc/swagger/", "/apidoc/redoc/"):
        assert client.get(page).status_code == 404, page
