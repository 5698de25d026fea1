"""handler.py end to end: API Gateway and ALB events into the app, on Postgres and cassettes.

The events in tests/events are the files that `sam local generate-event` writes
(`apigateway http-api-proxy`, `apigateway aws-proxy`, `alb request`); each request copies
one and sets its method, path and body. Every container is a fresh import of handler.py
with the environment Lambda would give it, and its TikTok client is the real one
(TikTokApi driving Chromium) replaying tests/cassettes.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from sqlalchemy import Engine, inspect

from app import db
from app.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]
HANDLER_PATH = ROOT / "handler.py"
EVENTS = Path(__file__).parent / "events"
INFRA_EVENTS = ROOT / "infra" / "events"
CASSETTES = Path(__file__).parent / "cassettes"

ZG_ID = "6799838955094836230"
ZG_FOLLOWERS = 427682

# The stage name in the event that `sam local generate-event apigateway aws-proxy` writes.
REST_STAGE = "prod"

DATABASE_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tiktok-users/db-AbCdEf"
MS_TOKEN_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tiktok-users/ms-AbCdEf"
PROXY_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tiktok-users/proxy-AbCdEf"


@cache
def generated_event(name: str) -> dict[str, Any]:
    """Return the event file `name` from tests/events, as sam local generate-event wrote it."""
    return json.loads((EVENTS / name).read_text())


def encode_body(body: dict[str, Any] | None) -> tuple[str | None, bool]:
    """Return an event's body and isBase64Encoded for a JSON body, base64 as generated."""
    if body is None:
        return None, False
    return base64.b64encode(json.dumps(body).encode()).decode(), True


@dataclass(frozen=True)
class Integration:
    """One way API Gateway or an ALB calls the function, and the prefix its URLs carry."""

    name: str
    build: Callable[[str, str, dict[str, Any] | None], dict[str, Any]]
    prefix: str

    def event(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Return an event for `method` on the app's `path`, with `body` as JSON."""
        return self.build(method, path, body)


def http_api_event(
    method: str, path: str, body: dict[str, Any] | None, stage: str = "$default"
) -> dict[str, Any]:
    """Return an HTTP API (payload 2.0) event; a named stage is the first path segment."""
    event = copy.deepcopy(generated_event("http-api-proxy.json"))
    raw_path = path if stage == "$default" else f"/{stage}{path}"

    event["rawPath"] = raw_path
    event["rawQueryString"] = ""
    event.pop("queryStringParameters", None)
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = raw_path
    event["requestContext"]["stage"] = stage
    event["headers"]["host"] = event["requestContext"]["domainName"]
    event["body"], event["isBase64Encoded"] = encode_body(body)
    if body is not None:
        event["headers"]["content-type"] = "application/json"

    return event


def rest_api_event(method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """Return a REST API (payload 1.0) event on the generated event's stage."""
    event = copy.deepcopy(generated_event("aws-proxy.json"))

    event["httpMethod"] = method
    event["path"] = path
    event["pathParameters"] = {"proxy": path.lstrip("/")}
    event["queryStringParameters"] = None
    event["multiValueQueryStringParameters"] = None
    event["requestContext"]["httpMethod"] = method
    event["requestContext"]["path"] = f"/{event['requestContext']['stage']}{path}"
    event["body"], event["isBase64Encoded"] = encode_body(body)
    if body is not None:
        event["headers"]["Content-Type"] = "application/json"
        event["multiValueHeaders"]["Content-Type"] = ["application/json"]

    return event


def alb_event(method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """Return an Application Load Balancer event."""
    event = copy.deepcopy(generated_event("alb-request.json"))

    event["httpMethod"] = method
    event["path"] = path
    event["queryStringParameters"] = {}
    event["body"], event["isBase64Encoded"] = encode_body(body)
    if body is not None:
        event["headers"]["content-type"] = "application/json"

    return event


HTTP_API = Integration("http-api", http_api_event, "")
HTTP_API_NAMED_STAGE = Integration(
    "http-api-named-stage",
    lambda method, path, body: http_api_event(method, path, body, stage="v1"),
    "/v1",
)
REST_API = Integration("rest-api", rest_api_event, f"/{REST_STAGE}")
ALB = Integration("alb", alb_event, "")

INTEGRATIONS = [HTTP_API, HTTP_API_NAMED_STAGE, REST_API, ALB]


def response_headers(response: dict[str, Any]) -> dict[str, str]:
    """Return a response's headers with lowercase names, single- or multi-value."""
    if "multiValueHeaders" in response:
        return {name.lower(): values[-1] for name, values in response["multiValueHeaders"].items()}
    return {name.lower(): value for name, value in response["headers"].items()}


def response_json(response: dict[str, Any]) -> Any:
    """Return a response's body parsed as JSON; it must be text, not base64."""
    assert response["isBase64Encoded"] is False
    return json.loads(response["body"])


def import_handler() -> ModuleType:
    """Import handler.py as a new module, the way a new Lambda container does."""
    spec = importlib.util.spec_from_file_location("handler", HANDLER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Container:
    """A fresh import of handler.py, invoked like Lambda invokes it."""

    def __init__(self) -> None:
        self.module = import_handler()
        self.invocations = 0

    @property
    def tiktok(self) -> Any:
        """The TikTok client of the container's app."""
        return self.module.app.extensions["tiktok"]

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """Call the handler with `event` and a Lambda context."""
        self.invocations += 1
        context = SimpleNamespace(aws_request_id=f"request-{self.invocations}")
        return self.module.lambda_handler(event, context)

    def close(self) -> None:
        """Stop the container's Chromium and close its database connections."""
        self.tiktok.close()
        self.module.app.extensions["db"].engine.dispose()


@pytest.fixture
def lambda_environment(monkeypatch: pytest.MonkeyPatch, postgres_database: str) -> str:
    """Set the environment of a Lambda container on the emptied Postgres test database."""
    monkeypatch.setenv("DATABASE_URL", postgres_database)
    monkeypatch.setenv("AUTO_MIGRATE", "0")
    monkeypatch.setenv("TIKTOK_CASSETTES", str(CASSETTES))
    # Failure cassettes must not open the circuit breaker in these tests.
    monkeypatch.setenv("TIKTOK_BREAKER_THRESHOLD", "1000")

    for name in (
        "DATABASE_URL_SECRET_ARN",
        "TIKTOK_MS_TOKEN_SECRET_ARN",
        "TIKTOK_PROXY_SECRET_ARN",
        "TIKTOK_MS_TOKEN",
        "TIKTOK_RECORD",
        "TIKTOK_PROXY",
        "LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)

    return postgres_database


@pytest.fixture
def start_container(lambda_environment: str) -> Iterator[Callable[[], Container]]:
    """Return a function that starts a new container; all of them are closed afterwards."""
    containers: list[Container] = []

    def start() -> Container:
        container = Container()
        containers.append(container)
        return container

    yield start

    for container in containers:
        container.close()


@pytest.mark.parametrize("integration", INTEGRATIONS, ids=lambda integration: integration.name)
def test_collect_then_read(
    start_container: Callable[[], Container], integration: Integration
) -> None:
    container = start_container()

    created = container.invoke(
        integration.event("POST", "/tiktok_users", {"tiktok_username": "zg.520"})
    )
    by_username = container.invoke(integration.event("GET", "/tiktok_users/zg.520"))
    by_id = container.invoke(integration.event("GET", f"/tiktok_users/{ZG_ID}"))

    assert created["statusCode"] == 201
    assert response_headers(created)["content-type"] == "application/json"
    assert response_json(created)["id"] == ZG_ID
    assert urlsplit(response_headers(created)["location"]).path == (
        f"{integration.prefix}/tiktok_users/{ZG_ID}"
    )

    assert by_username["statusCode"] == 200
    assert response_json(by_username)["id"] == ZG_ID
    assert response_json(by_username)["stats"]["followers"] == ZG_FOLLOWERS

    assert by_id["statusCode"] == 200
    assert response_json(by_id)["username"] == "zg.520"


@pytest.mark.parametrize("integration", INTEGRATIONS, ids=lambda integration: integration.name)
def test_problem_responses(
    start_container: Callable[[], Container], integration: Integration
) -> None:
    container = start_container()

    not_stored = container.invoke(integration.event("GET", "/tiktok_users/nobody.here"))
    invalid = container.invoke(
        integration.event("POST", "/tiktok_users", {"tiktok_username": "no spaces allowed"})
    )
    no_route = container.invoke(integration.event("GET", "/nowhere"))

    assert not_stored["statusCode"] == 404
    assert response_headers(not_stored)["content-type"] == "application/problem+json"
    assert response_json(not_stored)["type"] == "/problems/not-found"

    assert invalid["statusCode"] == 422
    assert response_headers(invalid)["content-type"] == "application/problem+json"
    assert response_json(invalid)["type"] == "/problems/invalid-username"

    assert no_route["statusCode"] == 404
    assert response_json(no_route)["type"] == "/problems/not-found"

    # Input checks reject these requests before the TikTok client starts anything.
    assert container.tiktok.launch_count == 0


@pytest.mark.parametrize(
    "integration",
    [
        HTTP_API,
        HTTP_API_NAMED_STAGE,
        REST_API,
        ALB,
    ],
    ids=lambda integration: integration.name,
)
def test_problem_instance(
    start_container: Callable[[], Container], integration: Integration
) -> None:
    container = start_container()

    response = container.invoke(integration.event("GET", "/tiktok_users/nobody.here"))

    assert response_json(response)["instance"] == f"{integration.prefix}/tiktok_users/nobody.here"


@pytest.mark.parametrize("integration", INTEGRATIONS, ids=lambda integration: integration.name)
def test_unrouted_requests(
    start_container: Callable[[], Container], integration: Integration
) -> None:
    # The HTTP API sends every path and method to the function ($default route), so the
    # app, not API Gateway, returns these errors.
    container = start_container()

    root = container.invoke(integration.event("GET", "/"))
    wrong_method = container.invoke(integration.event("DELETE", "/tiktok_users/zg.520"))

    assert root["statusCode"] == 404
    assert response_headers(root)["content-type"] == "application/problem+json"
    assert response_json(root)["type"] == "/problems/not-found"

    assert wrong_method["statusCode"] == 405
    assert response_headers(wrong_method)["content-type"] == "application/problem+json"
    assert response_json(wrong_method)["type"] == "/problems/method-not-allowed"
    assert "GET" in response_headers(wrong_method)["allow"]


def test_infra_events(start_container: Callable[[], Container]) -> None:
    # The events for `sam local invoke -e`, as infra/events/generate.sh wrote them.
    container = start_container()

    statuses = {
        name: container.invoke(json.loads((INFRA_EVENTS / name).read_text()))["statusCode"]
        for name in (
            "post-tiktok-user.json",
            "get-tiktok-user.json",
            "get-tiktok-user-by-id.json",
            "get-missing-user.json",
            "delete-tiktok-user.json",
        )
    }

    assert statuses == {
        "post-tiktok-user.json": 201,
        "get-tiktok-user.json": 200,
        "get-tiktok-user-by-id.json": 200,
        "get-missing-user.json": 404,
        "delete-tiktok-user.json": 405,
    }


def test_account_not_found(start_container: Callable[[], Container]) -> None:
    container = start_container()

    response = container.invoke(
        HTTP_API.event("POST", "/tiktok_users", {"tiktok_username": "missing.account"})
    )

    assert response["statusCode"] == 404
    assert response_headers(response)["content-type"] == "application/problem+json"
    assert response_json(response)["type"] == "/problems/account-not-found"


def test_warm_container_launches_once(start_container: Callable[[], Container]) -> None:
    container = start_container()

    statuses = [
        container.invoke(HTTP_API.event(method, path, body))["statusCode"]
        for method, path, body in [
            ("POST", "/tiktok_users", {"tiktok_username": "zg.520"}),
            ("GET", "/tiktok_users/zg.520", None),
            ("POST", "/tiktok_users", {"tiktok_username": "@ZG.520"}),
            ("POST", "/tiktok_users", {"tiktok_username": "taylorswift"}),
            ("GET", f"/tiktok_users/{ZG_ID}", None),
            ("GET", "/tiktok_users/taylorswift", None),
            ("POST", "/tiktok_users", {"tiktok_username": "zg.520"}),
        ]
    ]

    assert statuses == [201, 200, 200, 201, 200, 200, 200]
    assert container.tiktok.launch_count == 1
    assert container.tiktok.is_running


def test_get_only_container_launches_none(start_container: Callable[[], Container]) -> None:
    writer = start_container()
    writer.invoke(HTTP_API.event("POST", "/tiktok_users", {"tiktok_username": "zg.520"}))
    writer.close()

    reader = start_container()
    by_username = reader.invoke(HTTP_API.event("GET", "/tiktok_users/@ZG.520"))
    by_id = reader.invoke(HTTP_API.event("GET", f"/tiktok_users/{ZG_ID}"))
    not_stored = reader.invoke(HTTP_API.event("GET", "/tiktok_users/nobody.here"))

    assert by_username["statusCode"] == 200
    assert by_id["statusCode"] == 200
    assert not_stored["statusCode"] == 404
    assert reader.tiktok.launch_count == 0
    assert not reader.tiktok.is_running


def test_cold_start_logged_once(
    start_container: Callable[[], Container], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="handler")

    container = start_container()
    container.invoke(HTTP_API.event("GET", "/tiktok_users/nobody.here"))
    container.invoke(HTTP_API.event("GET", "/tiktok_users/nobody.here"))

    messages = [record.getMessage() for record in caplog.records if record.name == "handler"]
    assert any(
        message.startswith("Cold start: secrets read and app created in") for message in messages
    )
    assert messages.count("Cold start: first invocation request-1 on this container") == 1
    assert not any("request-2" in message for message in messages)


@pytest.fixture
def unmigrated_postgres(lambda_environment: str, postgres_engine: Engine) -> Iterator[Engine]:
    """The Postgres test database with every migration reverted; migrated again afterwards."""
    db.downgrade(postgres_engine, "base")
    yield postgres_engine
    db.upgrade(postgres_engine)


def test_migrate_command(
    start_container: Callable[[], Container], unmigrated_postgres: Engine
) -> None:
    container = start_container()

    result = container.invoke({"command": "migrate"})
    after = container.invoke(HTTP_API.event("GET", "/tiktok_users/nobody.here"))

    assert result == {"command": "migrate", "revision": "head"}
    assert "tiktok_users" in inspect(unmigrated_postgres).get_table_names()
    assert after["statusCode"] == 404


def test_migrate_event_file(
    start_container: Callable[[], Container], unmigrated_postgres: Engine
) -> None:
    container = start_container()

    result = container.invoke(json.loads((INFRA_EVENTS / "migrate.json").read_text()))

    assert result == {"command": "migrate", "revision": "head"}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"command": "drop"}, "unknown command 'drop': the only command is 'migrate'"),
        ({"command": None}, "unknown command None: the only command is 'migrate'"),
        ({"command": ["migrate"]}, "unknown command ['migrate']"),
        ({"command": "x" * 100}, "unknown command 'xxxxxxxxxxxx...xxxxxxxxxxxxx'"),
    ],
    ids=["unknown", "null", "list", "long"],
)
def test_invalid_command(
    start_container: Callable[[], Container],
    caplog: pytest.LogCaptureFixture,
    event: dict[str, Any],
    message: str,
) -> None:
    container = start_container()

    with pytest.raises(ValueError) as caught:
        container.invoke(event)

    assert isinstance(caught.value, container.module.InvalidEvent)
    assert str(caught.value).startswith(message)
    assert f"Invalid event: {caught.value}" in caplog.messages


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({}, "unsupported event with no keys: expected an API Gateway"),
        (
            {"Records": [{"eventSource": "aws:s3"}]},
            "unsupported event with keys 'Records': expected an API Gateway",
        ),
        (
            {"version": "2.0", "rawPath": "/tiktok_users"},
            "unsupported event with keys 'rawPath', 'version': expected",
        ),
        (
            {f"key{number:02}": number for number in range(12)},
            "unsupported event with keys 'key00', 'key01', 'key02', 'key03', 'key04', "
            "'key05', 'key06', 'key07', 'key08', 'key09' and 2 more: expected",
        ),
        ("migrate", "unsupported event of type str: expected"),
        ([{"command": "migrate"}], "unsupported event of type list: expected"),
        (None, "unsupported event of type NoneType: expected"),
    ],
    ids=["empty", "s3", "http-api-without-context", "many-keys", "string", "list", "null"],
)
def test_unsupported_event(
    start_container: Callable[[], Container],
    caplog: pytest.LogCaptureFixture,
    event: Any,
    message: str,
) -> None:
    container = start_container()

    with pytest.raises(ValueError) as caught:
        container.invoke(event)

    assert isinstance(caught.value, container.module.InvalidEvent)
    assert str(caught.value).startswith(message)
    assert str(caught.value).endswith('or {"command": "migrate"}')
    assert f"Invalid event: {caught.value}" in caplog.messages


def test_unsupported_event_hides_values(start_container: Callable[[], Container]) -> None:
    container = start_container()

    with pytest.raises(ValueError) as caught:
        container.invoke({"password": "s3cret-pw"})

    assert "'password'" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)


@pytest.mark.parametrize("level", ["VERBOSE", "warn", "10"])
def test_invalid_log_level(
    lambda_environment: str, monkeypatch: pytest.MonkeyPatch, level: str
) -> None:
    monkeypatch.setenv("LOG_LEVEL", level)

    with pytest.raises(ConfigError) as caught:
        import_handler()

    assert caught.value.name == "LOG_LEVEL"
    assert f"LOG_LEVEL={level!r}" in str(caught.value)


def test_log_level_any_case(lambda_environment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", " debug ")

    handler = import_handler()

    assert handler.logger.level == logging.DEBUG
    handler.app.extensions["db"].engine.dispose()


@pytest.mark.parametrize(
    ("event", "path_info", "expected"),
    [
        (http_api_event("GET", "/tiktok_users/zg.520", None), "/tiktok_users/zg.520", ""),
        (
            http_api_event("GET", "/tiktok_users/zg.520", None, stage="v1"),
            "/v1/tiktok_users/zg.520",
            "/v1",
        ),
        (rest_api_event("GET", "/tiktok_users/zg.520", None), "/tiktok_users/zg.520", "/prod"),
        (alb_event("GET", "/tiktok_users/zg.520", None), "/tiktok_users/zg.520", ""),
    ],
    ids=["http-api-default", "http-api-named-stage", "rest-api", "alb"],
)
def test_split_stage(
    lambda_environment: str, event: dict[str, Any], path_info: str, expected: str
) -> None:
    handler = import_handler()

    script_name, remaining = handler.split_stage(event, path_info)

    assert script_name == expected
    assert remaining == "/tiktok_users/zg.520"
    handler.app.extensions["db"].engine.dispose()


def test_split_stage_rest_custom_domain(lambda_environment: str) -> None:
    # A custom domain mapped without a base path sends the same path in both places.
    event = rest_api_event("GET", "/tiktok_users/zg.520", None)
    event["requestContext"]["path"] = "/tiktok_users/zg.520"
    handler = import_handler()

    assert handler.split_stage(event, "/tiktok_users/zg.520") == ("", "/tiktok_users/zg.520")
    handler.app.extensions["db"].engine.dispose()


@pytest.fixture
def handler_module(lambda_environment: str) -> Iterator[ModuleType]:
    """handler.py imported once, for its helper functions."""
    module = import_handler()
    yield module
    module.app.extensions["db"].engine.dispose()


@pytest.fixture
def secretsmanager() -> Iterator[tuple[Any, Stubber]]:
    """A Secrets Manager client that returns only the responses a test queues."""
    client = boto3.client(
        "secretsmanager",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def secret_response(arn: str, value: str) -> dict[str, Any]:
    """Return a GetSecretValue response for `arn` that contains `value`."""
    return {"ARN": arn, "Name": arn.rsplit(":", 1)[-1], "SecretString": value}


def test_load_secrets_url_and_token(
    handler_module: ModuleType,
    secretsmanager: tuple[Any, Stubber],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, stubber = secretsmanager
    database_url = "postgresql+pg8000://app:s3cret-pw@db.example.internal:5432/tiktok"
    stubber.add_response(
        "get_secret_value",
        secret_response(DATABASE_SECRET_ARN, database_url),
        {"SecretId": DATABASE_SECRET_ARN},
    )
    stubber.add_response(
        "get_secret_value",
        secret_response(MS_TOKEN_SECRET_ARN, "ms-token-value"),
        {"SecretId": MS_TOKEN_SECRET_ARN},
    )
    stubber.add_response(
        "get_secret_value",
        secret_response(PROXY_SECRET_ARN, "http://proxy-user:proxy-pw@proxy.example:8080"),
        {"SecretId": PROXY_SECRET_ARN},
    )
    environ = {
        "DATABASE_URL_SECRET_ARN": DATABASE_SECRET_ARN,
        "TIKTOK_MS_TOKEN_SECRET_ARN": MS_TOKEN_SECRET_ARN,
        "TIKTOK_PROXY_SECRET_ARN": PROXY_SECRET_ARN,
    }
    caplog.set_level(logging.DEBUG)

    handler_module.load_secrets(environ, client)

    assert environ["DATABASE_URL"] == database_url
    assert environ["TIKTOK_MS_TOKEN"] == "ms-token-value"
    assert environ["TIKTOK_PROXY"] == "http://proxy-user:proxy-pw@proxy.example:8080"
    assert "s3cret-pw" not in caplog.text
    assert "ms-token-value" not in caplog.text
    assert "proxy-pw" not in caplog.text


def test_load_secrets_proxy_only(
    handler_module: ModuleType, secretsmanager: tuple[Any, Stubber]
) -> None:
    client, stubber = secretsmanager
    stubber.add_response(
        "get_secret_value",
        secret_response(PROXY_SECRET_ARN, "http://proxy.example:8080"),
        {"SecretId": PROXY_SECRET_ARN},
    )
    environ = {"TIKTOK_PROXY_SECRET_ARN": PROXY_SECRET_ARN, "TIKTOK_MS_TOKEN_SECRET_ARN": ""}

    handler_module.load_secrets(environ, client)

    assert environ["TIKTOK_PROXY"] == "http://proxy.example:8080"
    assert "TIKTOK_MS_TOKEN" not in environ


def test_proxy_secret_reaches_settings(
    lambda_environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A container started with the proxy in TIKTOK_PROXY, as load_secrets leaves it.
    monkeypatch.setenv("TIKTOK_PROXY", "http://proxy.example:8080")

    handler = import_handler()

    assert handler.app.extensions["tiktok"].settings.proxy == "http://proxy.example:8080"
    handler.app.extensions["db"].engine.dispose()


def test_load_secrets_rds_json(
    handler_module: ModuleType, secretsmanager: tuple[Any, Stubber]
) -> None:
    client, stubber = secretsmanager
    rds_secret = {
        "engine": "postgres",
        "username": "app",
        "password": "p@ss/word:1",
        "host": "db.example.internal",
        "port": 5432,
        "dbname": "tiktok",
    }
    stubber.add_response(
        "get_secret_value",
        secret_response(DATABASE_SECRET_ARN, json.dumps(rds_secret)),
        {"SecretId": DATABASE_SECRET_ARN},
    )
    environ = {"DATABASE_URL_SECRET_ARN": DATABASE_SECRET_ARN}

    handler_module.load_secrets(environ, client)

    assert environ["DATABASE_URL"] == (
        "postgresql+pg8000://app:p%40ss%2Fword%3A1@db.example.internal:5432/tiktok"
    )


def test_load_secrets_keeps_set_value(
    handler_module: ModuleType, secretsmanager: tuple[Any, Stubber]
) -> None:
    client, _ = secretsmanager
    environ = {
        "DATABASE_URL_SECRET_ARN": DATABASE_SECRET_ARN,
        "DATABASE_URL": "postgresql+pg8000://postgres@127.0.0.1:5432/local",
    }

    # The stubber has no queued response, so any call to Secrets Manager would raise.
    handler_module.load_secrets(environ, client)

    assert environ["DATABASE_URL"] == "postgresql+pg8000://postgres@127.0.0.1:5432/local"


def test_load_secrets_access_denied(
    handler_module: ModuleType,
    secretsmanager: tuple[Any, Stubber],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, stubber = secretsmanager
    stubber.add_client_error(
        "get_secret_value",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform secretsmanager:GetSecretValue",
        expected_params={"SecretId": DATABASE_SECRET_ARN},
    )
    environ = {"DATABASE_URL_SECRET_ARN": DATABASE_SECRET_ARN}

    with pytest.raises(ClientError):
        handler_module.load_secrets(environ, client)

    assert "DATABASE_URL" not in environ
    assert DATABASE_SECRET_ARN in caplog.text


@pytest.mark.parametrize(
    ("secret", "missing"),
    [
        ('{"username": "app", "password": "pw"}', "host"),
        ('{"host": "db.example.internal"}', "username, password"),
        ('["not", "an", "object"]', "JSON object"),
    ],
    ids=["rds-managed-master", "no-credentials", "json-array"],
)
def test_database_url_invalid(handler_module: ModuleType, secret: str, missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        handler_module.database_url(secret)
