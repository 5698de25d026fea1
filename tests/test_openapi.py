"""The OpenAPI document that spectree generates from the views and their schemas."""

from __future__ import annotations

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
