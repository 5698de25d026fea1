"""Measure collection speed and memory of the service's design against its alternatives.

Every variant runs in one process, in one run, on the same replayed cassettes and the
same Chromium, so the ratios compare like with like. TikTok's own latency is not part of
any number here: replayed cassettes respond at once.

    python benchmarks/bench.py [--rounds 10] [--output docs/benchmarks.md]

Variants:
- warm browser: one TikTokClient for the whole run, the service's design;
- browser per request: a new TikTokClient (Chromium launch, session, close) per
  collection, what a handler that never keeps its browser would cost;
- 8 concurrent collections on the warm browser against 8 in a row;
- the HTTP API (Flask test client) on SQLite and on PostgreSQL: POST (collect and store)
  and GET (read back).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app, db  # noqa: E402
from app.tiktok import TikTokClient, TikTokSettings  # noqa: E402

CASSETTES = ROOT / "tests" / "cassettes"
USERNAME = "zg.520"
USER_ID = "6799838955094836230"
CONCURRENCY = 8
LEAK_CHECK_COLLECTIONS = 50
DEFAULT_POSTGRES_URL = "postgresql+pg8000://postgres@127.0.0.1:5432/test"


def replay_settings() -> TikTokSettings:
    """Return client settings that replay the repository's cassettes."""
    return TikTokSettings.from_env({"TIKTOK_CASSETTES": str(CASSETTES)})


def tree_pss_mib() -> float:
    """Return the proportional set size of this process and its children, in MiB.

    PSS splits each shared page among the processes that map it, so summing it over
    Chromium's many processes does not count shared libraries several times, as RSS does.
    """
    process = psutil.Process()
    total = process.memory_full_info().pss

    for child in process.children(recursive=True):
        try:
            total += child.memory_full_info().pss
        except psutil.NoSuchProcess:
            continue

    return total / 2**20


def time_calls(call: Callable[[], object], rounds: int) -> float:
    """Run `call` `rounds` times and return the median duration in milliseconds."""
    durations = []

    for _ in range(rounds):
        start = time.perf_counter()
        call()
        durations.append((time.perf_counter() - start) * 1000)

    return statistics.median(durations)


@dataclass
class Comparison:
    """Two or more variants of one task, each timed in ms, compared to the first."""

    task: str
    variants: dict[str, float] = field(default_factory=dict)


def measure_collection(rounds: int) -> tuple[list[Comparison], dict[str, float]]:
    """Time collections on a warm browser against the alternatives; sample memory."""
    memory = {"app process, before any collection": tree_pss_mib()}
    single = Comparison("one collection of zg.520")
    batch = Comparison(f"{CONCURRENCY} collections of zg.520")

    client = TikTokClient(replay_settings())
    try:
        client.fetch_profile(USERNAME)
        memory["warm browser, after the first collection"] = tree_pss_mib()

        single.variants["warm browser (the service)"] = time_calls(
            lambda: client.fetch_profile(USERNAME), rounds
        )

        def fetch_concurrently() -> None:
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                list(pool.map(lambda _: client.fetch_profile(USERNAME), range(CONCURRENCY)))

        batch.variants["concurrent, warm browser (the service)"] = time_calls(
            fetch_concurrently, rounds
        )
        batch.variants["in a row, warm browser"] = time_calls(
            lambda: [client.fetch_profile(USERNAME) for _ in range(CONCURRENCY)], rounds
        )

        for _ in range(LEAK_CHECK_COLLECTIONS):
            client.fetch_profile(USERNAME)
        memory[f"warm browser, after {LEAK_CHECK_COLLECTIONS} more collections"] = tree_pss_mib()
    finally:
        client.close()

    memory["after the client closed"] = tree_pss_mib()

    def fetch_with_new_browser() -> None:
        fresh = TikTokClient(replay_settings())
        try:
            fresh.fetch_profile(USERNAME)
        finally:
            fresh.close()

    single.variants["new browser per request"] = time_calls(
        fetch_with_new_browser, max(3, rounds // 3)
    )
    return [single, batch], memory


def measure_api(rounds: int, postgres_url: str) -> list[Comparison]:
    """Time POST (collect and store) and GET (read back) on SQLite and PostgreSQL."""
    post = Comparison("POST /tiktok_users (collect and store)")
    get = Comparison(f"GET /tiktok_users/{USER_ID}")
    databases = {}

    with tempfile.TemporaryDirectory() as folder:
        databases["SQLite"] = f"sqlite:///{folder}/bench.sqlite"
        if postgres_url:
            databases["PostgreSQL"] = postgres_url

        client = TikTokClient(replay_settings())
        try:
            for name, url in databases.items():
                app = create_app({"DATABASE_URL": url, "TIKTOK_CLIENT": client})
                db.upgrade(app.extensions["db"].engine)
                http = app.test_client()

                post.variants[name] = time_calls(
                    partial(http.post, "/tiktok_users", json={"tiktok_username": USERNAME}),
                    rounds,
                )
                get.variants[name] = time_calls(
                    partial(http.get, f"/tiktok_users/{USER_ID}"), rounds * 10
                )
                app.extensions["db"].engine.dispose()
        finally:
            client.close()

    return [post, get]


def format_report(comparisons: list[Comparison], memory: dict[str, float], rounds: int) -> str:
    """Render the measurements as Markdown tables."""
    lines = [
        f"Hardware: {describe_hardware()}. Rounds per variant: {rounds}.",
        "",
        "| task | variant | median ms | ratio to the first |",
        "| --- | --- | ---: | ---: |",
    ]

    for comparison in comparisons:
        baseline = next(iter(comparison.variants.values()))
        for variant, milliseconds in comparison.variants.items():
            ratio = milliseconds / baseline
            lines.append(f"| {comparison.task} | {variant} | {milliseconds:.1f} | {ratio:.2f}x |")

    lines += ["", "| memory (PSS of the process and Chromium) | MiB |", "| --- | ---: |"]
    for moment, mebibytes in memory.items():
        lines.append(f"| {moment} | {mebibytes:.0f} |")

    return "\n".join(lines) + "\n"


def describe_hardware() -> str:
    """Return a one-line description of the CPU, memory and system."""
    cpu_model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break

    memory_gib = psutil.virtual_memory().total / 2**30
    return (
        f"{psutil.cpu_count(logical=True)} logical CPUs ({cpu_model}), {memory_gib:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def main() -> None:
    """Run every variant once and print (or write) the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="timed calls per variant")
    parser.add_argument("--output", type=Path, help="also write the tables to this file")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL URL for the API variant (empty to skip); its tables are written to",
    )
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    collection, memory = measure_collection(arguments.rounds)
    api = measure_api(arguments.rounds, arguments.postgres)

    report = format_report(collection + api, memory, arguments.rounds)
    print(report)
    if arguments.output:
        arguments.output.write_text(report)


if __name__ == "__main__":
    main()
