"""`rekisteri serve --workers N`: one parent-bound TCP socket (TCP_NODELAY on accepted
connections), workers that share it and add up their metrics, graceful stop on SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from server import cli, serving
from server.settings import PROJECT_ROOT, Settings
from tests.processes import START_SECONDS, STOP_SECONDS, serve, service_env, wait_until_healthy

# -- the socket ------------------------------------------------------------------------


async def test_accepted_connections_have_nagle_off() -> None:
    sock = serving.bind_socket("127.0.0.1", 0)
    assert sock.proto == socket.IPPROTO_TCP
    accepted: list[int] = []

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("socket")
        accepted.append(peer.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(on_connection, sock=sock)
    async with server:
        port = sock.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if accepted:
                break
            await asyncio.sleep(0.01)
        writer.close()
    assert accepted and accepted[0] != 0


def test_the_metrics_directory_is_fresh_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(serving.MULTIPROC_VARIABLE, str(tmp_path))
    with serving.metrics_directory() as first:
        assert os.environ[serving.MULTIPROC_VARIABLE] == first
        assert Path(first).parent == tmp_path
        (Path(first) / "counter_1.db").write_bytes(b"x")
    with serving.metrics_directory() as second:
        assert second != first
        assert not list(Path(second).iterdir())
    assert os.environ[serving.MULTIPROC_VARIABLE] == str(tmp_path)
    assert not list(tmp_path.iterdir())


# -- the options -----------------------------------------------------------------------


def test_workers_keep_uvicorns_proxy_headers_off(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake_serve(app: str, **options: Any) -> int:
        calls.append({"app": app, **options})
        return 0

    monkeypatch.setattr(serving, "serve", fake_serve)
    args = argparse.Namespace(host="127.0.0.1", port=8000, workers=3)
    settings = Settings(database_url="postgresql://x@127.0.0.1/x", shutdown_timeout_seconds=7)
    assert cli.cmd_serve(args, settings) == 0
    (call,) = calls
    assert call["app"] == cli.WORKER_APP
    assert call["workers"] == 3
    assert call["shutdown_timeout"] == 7

    options = serving.uvicorn_settings(host="127.0.0.1", port=8000, shutdown_timeout=7)
    assert options["proxy_headers"] is False
    assert options["forwarded_allow_ips"] == ""
    assert options["timeout_graceful_shutdown"] == 7
    config = uvicorn.Config(cli.WORKER_APP, factory=True, workers=3, **options)
    assert config.proxy_headers is False
    assert not config.forwarded_allow_ips


def test_workers_default_to_web_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert Settings().web_concurrency == 4
    args = cli.build_parser().parse_args(["serve"])
    assert args.workers is None  # the setting decides
    assert cli.build_parser().parse_args(["serve", "--workers", "2"]).workers == 2


def test_the_container_serves_with_workers() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    runtime = dockerfile.split("AS runtime", 1)[1]
    commands = [line for line in runtime.splitlines() if line.startswith("CMD")]
    assert commands and all("rekisteri serve" in c and "--workers" in c for c in commands)
    assert all("WEB_CONCURRENCY" in c for c in commands)


# -- two workers, for real -------------------------------------------------------------


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    metrics_parent = tmp_path / "metrics"
    env = service_env(
        database_url,
        AUDIT_SEALER="false",
        POOL_SIZE="3",
        SHUTDOWN_TIMEOUT_SECONDS="5",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_parent),
    )
    with serve(env, tmp_path / "stderr.log", "--workers", "2") as service:
        yield {
            "process": service.process,
            "url": service.url,
            "metrics_parent": metrics_parent,
            "stderr": service.log,
        }


def children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(item) for item in path.read_text().split()} if path.exists() else set()


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            if item.name == name and all(item.labels.get(k) == v for k, v in labels.items()):
                return float(item.value)
    return 0.0


def metrics_once_both_started(url: str, *, expected_pool_size: int) -> str:
    """The /metrics text, read again until every worker's pools are counted (or time is up)."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        text = httpx.get(f"{url}/metrics", timeout=5).text
        counted = sample(text, "rekisteri_db_pool_size")
        if counted >= expected_pool_size or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def test_two_workers_share_the_socket_and_stop_on_sigterm(served: dict[str, Any]) -> None:
    process: subprocess.Popen[bytes] = served["process"]
    url: str = served["url"]
    wait_until_healthy(url, process)
    # Both workers are up (each one's start-up finished before they share the socket).
    deadline = time.monotonic() + START_SECONDS
    while len(children(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = children(process.pid)
    assert len(workers) >= 2

    # Every new connection is answered, whichever worker accepts it.
    for _ in range(6):
        with httpx.Client(base_url=url, timeout=5) as fresh:
            assert fresh.get("/healthz").json() == {"status": "ok"}
            assert fresh.post("/graphql", json={"query": "{ __typename }"}).status_code == 401

    # Small kept-alive responses are not held back by Nagle and delayed ACKs (~40 ms each).
    with httpx.Client(base_url=url, timeout=5) as kept:
        kept.get("/healthz")
        times = []
        for _ in range(15):
            started = time.perf_counter()
            assert kept.get("/healthz").status_code == 200
            times.append(time.perf_counter() - started)
    assert statistics.median(times) < 0.03, times  # with Nagle on: about 0.04

    # /metrics adds up both workers' files, whichever worker answers. A worker counts its
    # pools when its start-up has finished, which may come after the other worker answered.
    text = metrics_once_both_started(url, expected_pool_size=2 * 2 * 3)
    # Two workers, each with an ORM pool and a driver pool of POOL_SIZE 3.
    assert sample(text, "rekisteri_db_pool_size") == 2 * 2 * 3
    unauthenticated = sample(
        text, "rekisteri_graphql_requests_total", outcome="unauthenticated", purpose="none"
    )
    assert unauthenticated == 6
    runs = list(served["metrics_parent"].iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("rekisteri-metrics-")

    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_SECONDS) == 0
    assert time.monotonic() - started < STOP_SECONDS
    time.sleep(0.2)
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)
    assert not list(served["metrics_parent"].iterdir())  # this start's directory is gone

    # Production-style output: every line is one JSON object; one line per GraphQL request.
    lines = served["stderr"].read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    requests = [e for e in entries if e["logger"] == "rekisteri.request"]
    assert len(requests) == 6
    assert all(e["outcome"] == "unauthenticated" and e["status"] == 401 for e in requests)
    assert any("SIGTERM" in e["message"] for e in entries)
    assert not any("Started server process" in e["message"] for e in entries)


def _is_zombie(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return " Z " in Path(f"/proc/{pid}/stat").read_text()
    return True
