"""The database goes away and comes back: 503 while it is gone, recovery without restart.

A TCP proxy on 127.0.0.1 sits between the app and Postgres. Stopping it closes every
open connection and refuses new ones, as a database restart or a network cut would.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest
from conftest import postgres_url
from flask.testing import FlaskClient
from sqlalchemy import make_url

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


class TcpProxy:
    """Forwards connections from a local port to a target address until stopped."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen on the proxy's port (a free one the first time) and accept connections."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Stop listening and cut every forwarded connection."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
            listener, self._listener = self._listener, None

        if listener is not None:
            # close() alone leaves a listener open while a thread blocks in accept();
            # shutdown() makes that accept() fail at once.
            _shutdown(listener)
            listener.close()
        for sock in sockets:
            _shutdown(sock)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, destination: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                destination.sendall(data)
        except OSError:
            pass
        finally:
            _shutdown(source)
            _shutdown(destination)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxy(postgres_database: str) -> Iterator[TcpProxy]:
    """A running proxy in front of the test database."""
    url = make_url(postgres_database)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxied_client(proxy: TcpProxy, make_app, tiktok_client: object) -> FlaskClient:
    """A client of an app that reaches Postgres only through the proxy."""
    url = make_url(postgres_url()).set(host="127.0.0.1", port=proxy.port)
    app = make_app(tiktok_client, DATABASE_URL=url.render_as_string(hide_password=False))
    return app.test_client()


def test_get_while_database_down(proxied_client: FlaskClient, proxy: TcpProxy, caplog) -> None:
    assert (
        proxied_client.post("/tiktok_users", json={"tiktok_username": "zg.520"}).status_code == 201
    )
    proxy.stop()

    response = proxied_client.get("/tiktok_users/zg.520")

    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "/problems/database-unavailable"
    assert "stored" not in response.json["detail"]
    assert "Database unreachable" in caplog.text


def test_post_while_database_down(proxied_client: FlaskClient, proxy: TcpProxy, stored) -> None:
    proxy.stop()

    response = proxied_client.post("/tiktok_users", json={"tiktok_username": "zg.520"})

    assert response.status_code == 503
    assert response.json["type"] == "/problems/database-unavailable"
    assert "nothing was stored" in response.json["detail"]
    assert stored.counts() == (0, 0)


def test_recovers_when_database_back(proxied_client: FlaskClient, proxy: TcpProxy, stored) -> None:
    proxied_client.post("/tiktok_users", json={"tiktok_username": "zg.520"})
    proxy.stop()
    during = proxied_client.get("/tiktok_users/zg.520")
    proxy.start()

    after = proxied_client.get("/tiktok_users/zg.520")
    collected = proxied_client.post("/tiktok_users", json={"tiktok_username": "zg.520"})

    assert during.status_code == 503
    assert after.status_code == 200
    assert collected.status_code == 200
    assert stored.counts() == (1, 2)
