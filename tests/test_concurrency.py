"""Concurrent collections of one account through a real HTTP server on Postgres."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.collection import store_profile
from app.db import get_session

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

CONCURRENT_REQUESTS = 20


@pytest.fixture
def server_url(app: Flask) -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1 with one thread per request."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="test-server", daemon=True)
    thread.start()

    yield f"http://127.0.0.1:{server.server_port}"

    server.shutdown()
    thread.join()


def post_username(url: str, username: str) -> tuple[int, dict[str, object]]:
    """POST a username to the server and return the status and the JSON body."""
    request = urllib.request.Request(
        f"{url}/tiktok_users",
        data=json.dumps({"tiktok_username": username}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_concurrent_posts_one_row(server_url: str, stored) -> None:
    barrier = threading.Barrier(CONCURRENT_REQUESTS)
    results: list[tuple[int, dict[str, object]]] = []
    lock = threading.Lock()

    def collect() -> None:
        barrier.wait()
        result = post_username(server_url, "zg.520")
        with lock:
            results.append(result)

    threads = [threading.Thread(target=collect) for _ in range(CONCURRENT_REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(status for status, _ in results)
    assert len(results) == CONCURRENT_REQUESTS
    assert statuses == [200] * (CONCURRENT_REQUESTS - 1) + [201]
    assert {body["id"] for _, body in results} == {"6799838955094836230"}
    assert stored.counts() == (1, CONCURRENT_REQUESTS)


def test_concurrent_posts_snapshot_counts(server_url: str) -> None:
    # Each POST counts the snapshots while it has the user row locked, so the 20
    # responses contain the numbers 1 to 20, each once.
    barrier = threading.Barrier(CONCURRENT_REQUESTS)
    counts: list[object] = []
    lock = threading.Lock()

    def collect() -> None:
        barrier.wait()
        _, body = post_username(server_url, "zg.520")
        with lock:
            counts.append(body.get("snapshot_count"))

    threads = [threading.Thread(target=collect) for _ in range(CONCURRENT_REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(counts) == list(range(1, CONCURRENT_REQUESTS + 1))  # type: ignore[type-var]


def test_concurrent_stores_one_row(app: Flask, stored) -> None:
    # The one browser session paces the HTTP test above. This test stores the same
    # profile from 20 threads at once, so the upserts really collide in Postgres.
    from test_collection import make_profile

    barrier = threading.Barrier(CONCURRENT_REQUESTS)
    created: list[bool] = []
    snapshot_counts: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def store() -> None:
        with app.app_context():
            session = get_session()
            barrier.wait()
            try:
                collection = store_profile(session, make_profile())
            except BaseException as error:
                with lock:
                    errors.append(error)
                raise
            with lock:
                created.append(collection.created)
                snapshot_counts.append(collection.snapshot_count)

    threads = [threading.Thread(target=store) for _ in range(CONCURRENT_REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(created) == [False] * (CONCURRENT_REQUESTS - 1) + [True]
    assert sorted(snapshot_counts) == list(range(1, CONCURRENT_REQUESTS + 1))
    assert stored.counts() == (1, CONCURRENT_REQUESTS)


def test_concurrent_claims_of_one_username(app: Flask, stored, caplog) -> None:
    # Five accounts claim one username at once: each insert waits on the unique index,
    # loses, and retries after releasing the name from the row that got there first.
    from test_collection import make_profile

    claimants = 5
    barrier = threading.Barrier(claimants)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def store(number: int) -> None:
        profile = make_profile(
            user_id=str(7000000000000000000 + number),
            sec_uid=f"MS4wLjABAAAAclaimant{number}",
            username="contested.name",
        )
        with app.app_context():
            session = get_session()
            barrier.wait()
            try:
                store_profile(session, profile)
            except BaseException as error:
                with lock:
                    errors.append(error)
                raise

    threads = [threading.Thread(target=store, args=(n,)) for n in range(claimants)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    holders = [
        user_id
        for user_id in range(7000000000000000000, 7000000000000000000 + claimants)
        if stored.user(user_id)["username"] == "contested.name"
    ]
    assert errors == []
    assert stored.counts() == (claimants, claimants)
    assert len(holders) == 1
