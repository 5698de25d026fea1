"""Request bodies on a real HTTP server: size limits, chunked bodies and their framing.

Werkzeug's development server decodes `Transfer-Encoding: chunked` itself, so these tests
send raw requests to it over a socket on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

# Bytes per chunk of the chunked requests.
CHUNK_SIZE = 1024


@pytest.fixture
def server_port(app: Flask) -> Iterator[int]:
    """Serve `app` with Werkzeug's server on a free port of 127.0.0.1, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    yield server.server_port

    server.shutdown()
    thread.join()
    server.server_close()


def post_chunked(port: int, body: bytes) -> tuple[int, dict[str, Any]]:
    """POST `body` to /tiktok_users with Transfer-Encoding: chunked; return status and JSON."""
    chunks = (body[start : start + CHUNK_SIZE] for start in range(0, len(body), CHUNK_SIZE))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    try:
        connection.request(
            "POST",
            "/tiktok_users",
            body=chunks,
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def send_raw(port: int, request: bytes) -> tuple[int, dict[str, Any]]:
    """Send raw HTTP bytes to the server and return the status and the JSON body.

    Werkzeug's development server closes the connection after each response, so the
    response ends where the stream ends.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        connection.sendall(request)
        response = b""
        while chunk := connection.recv(65536):
            response += chunk

    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def raw_post(headers: dict[str, str], body: bytes) -> bytes:
    """Build a raw POST /tiktok_users request with `headers` and `body` as given."""
    lines = ["POST /tiktok_users HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def padded_body(size: int) -> bytes:
    """Return a valid collect request for zg.520 padded with spaces to `size` bytes."""
    body = json.dumps({"tiktok_username": "zg.520"}).encode()
    return body + b" " * (size - len(body))


@pytest.mark.parametrize("size", [4097, 10 * 1024, 200 * 1024])
def test_chunked_body_too_large(app: Flask, server_port: int, size: int) -> None:
    status, problem = post_chunked(server_port, padded_body(size))

    assert status == 413
    assert problem["type"] == "/problems/payload-too-large"
    assert str(app.config["MAX_CONTENT_LENGTH"]) in problem["detail"]


def test_chunked_body_at_limit(app: Flask, server_port: int, stored) -> None:
    status, resource = post_chunked(server_port, padded_body(app.config["MAX_CONTENT_LENGTH"]))

    assert status == 201
    assert resource["username"] == "zg.520"
    assert stored.counts() == (1, 1)


def test_chunked_invalid_username(server_port: int) -> None:
    status, problem = post_chunked(server_port, b'{"tiktok_username": "zg-520"}')

    assert status == 422
    assert problem["type"] == "/problems/invalid-username"


@pytest.mark.parametrize(
    "body",
    [
        b"ZZ\r\nabc\r\n0\r\n\r\n",
        b"-5\r\nabc\r\n0\r\n\r\n",
        b"3\r\nabcXY0\r\n\r\n",
    ],
)
def test_chunked_body_malformed(server_port: int, body: bytes) -> None:
    request = raw_post({"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, body)

    status, problem = send_raw(server_port, request)

    assert status == 400
    assert problem["type"] == "/problems/invalid-request"
    assert "chunked body is malformed" in problem["detail"]


@pytest.mark.parametrize("length", ["-1", "abc", "+29", "29, 29", "1e3"])
def test_content_length_invalid(server_port: int, length: str, stored) -> None:
    body = b'{"tiktok_username": "zg.520"}'
    request = raw_post({"Content-Type": "application/json", "Content-Length": length}, body)

    status, problem = send_raw(server_port, request)

    assert status == 400
    assert problem["type"] == "/problems/invalid-request"
    assert "Content-Length header" in problem["detail"]
    assert repr(length) in problem["detail"]
    assert stored.counts() == (0, 0)


def test_content_length_valid_raw(server_port: int) -> None:
    body = b'{"tiktok_username": "zg-520"}'
    request = raw_post(
        {"Content-Type": "application/json", "Content-Length": f" {len(body)} "}, body
    )

    status, problem = send_raw(server_port, request)

    assert status == 422
    assert problem["type"] == "/problems/invalid-username"
