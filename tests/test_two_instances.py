"""Two service instances behind HAProxy on one database, as on two machines: a policy edit
reaches both within the reload interval, their sealers take turns, and killing one under
load loses no logged data (every 200 answer has its access-log rows; clients go on through
HAProxy, which retries on the other instance)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from server.audit.verify import verify
from server.cli_support import owner_session
from server.settings import Settings
from tests.conftest import Users, gql
from tests.processes import (
    STOP_SECONDS,
    free_port,
    running,
    serve,
    service_env,
    wait_until_healthy,
)
from tests.test_audit_http import PAGE, register, returned_objects

pytestmark = pytest.mark.skipif(
    shutil.which("haproxy") is None, reason="HAProxy is not installed (.ci/run installs it)"
)

RELOAD_SECONDS = 0.5
SEAL_SECONDS = 0.3
CLIENTS = 4
LOAD_SECONDS = 6.0
KILL_AFTER_SECONDS = 2.0
CLIENT_RETRIES = 10

HAPROXY_CONFIG = """
global
    maxconn 200
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout 502 503 504
frontend rekisteri
    bind 127.0.0.1:{port}
    default_backend instances
backend instances
    balance roundrobin
    option httpchk GET /healthz
    default-server inter 250ms fall 1 rise 2
    server a 127.0.0.1:{a} check
    server b 127.0.0.1:{b} check
"""


@dataclass
class Instance:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def sealed_batches(self) -> set[int]:
        """The batches this instance's sealer wrote, from its log."""
        batches = set()
        for line in self.log.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                message = json.loads(line).get("message", "")
                if message.startswith("access log sealed: batch "):
                    batches.add(int(message.split()[4].rstrip(",")))
        return batches


@dataclass
class Cluster:
    url: str
    database_url: str
    policy_dir: Path
    instances: list[Instance]


@pytest.fixture
def cluster(fresh_database_url: str, tmp_path: Path, policy_dir: Path) -> Iterator[Cluster]:
    env = service_env(
        fresh_database_url,
        POLICY_DIR=str(policy_dir),
        POLICY_RELOAD_INTERVAL_SECONDS=str(RELOAD_SECONDS),
        AUDIT_SEALER="true",
        AUDIT_SEAL_INTERVAL_SECONDS=str(SEAL_SECONDS),
        POOL_SIZE="4",
        TRUSTED_PROXIES="127.0.0.1",
        LOG_FORMAT="json",
    )
    with contextlib.ExitStack() as stack:
        services = {
            name: stack.enter_context(serve(env, tmp_path / f"{name}.log")) for name in ("a", "b")
        }
        instances = [
            Instance(name, service.url, service.process, service.log)
            for name, service in services.items()
        ]
        proxy_port = free_port()
        config = tmp_path / "haproxy.cfg"
        config.write_text(
            HAPROXY_CONFIG.format(port=proxy_port, a=services["a"].port, b=services["b"].port)
        )
        haproxy_command = ["haproxy", "-db", "-f", str(config)]
        haproxy = stack.enter_context(running(haproxy_command, env, tmp_path / "haproxy.log"))
        for instance in instances:
            wait_until_healthy(instance.url, instance.process)
        proxy = f"http://127.0.0.1:{proxy_port}"
        wait_until_healthy(proxy, haproxy)
        yield Cluster(proxy, fresh_database_url, policy_dir, instances)


def _policy_version(url: str) -> str | None:
    with contextlib.suppress(httpx.HTTPError):
        return str(httpx.get(f"{url}/readyz", timeout=2).json()["policyVersion"])
    return None


def edit_policy(policy_dir: Path) -> None:
    """An edit as the security team makes it: a new file renamed over the old one."""
    target = policy_dir / "policy.csv"
    edited = policy_dir / ".policy.csv.new"
    edited.write_text(
        target.read_text(encoding="utf-8") + f"# reviewed {uuid.uuid4()}\n", encoding="utf-8"
    )
    edited.replace(target)


async def answer(http: httpx.AsyncClient, token: str) -> dict[str, Any] | None:
    """One page through the proxy; the client retries while no instance answers."""
    for _ in range(CLIENT_RETRIES):
        try:
            response = await gql(http, PAGE, token=token, variables={"first": 3})
        except httpx.TransportError:
            await asyncio.sleep(0.2)
            continue
        if response.status_code in (502, 503, 504):
            await asyncio.sleep(0.2)
            continue
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body
    return None


async def load(url: str, token: str, kill: Instance) -> tuple[list[dict[str, Any]], int]:
    """CLIENTS clients asking for pages for LOAD_SECONDS; `kill` is killed on the way.
    Returns the answers and how many came after the kill."""
    answers: list[tuple[float, dict[str, Any]]] = []
    started = time.monotonic()
    killed_at: list[float] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=15) as http:
            while time.monotonic() - started < LOAD_SECONDS:
                body = await answer(http, token)
                assert body is not None, "no instance answered"
                answers.append((time.monotonic(), body))

    async def killer() -> None:
        await asyncio.sleep(KILL_AFTER_SECONDS)
        kill.process.send_signal(signal.SIGKILL)
        killed_at.append(time.monotonic())

    await asyncio.gather(killer(), *(client() for _ in range(CLIENTS)))
    after = sum(1 for moment, _ in answers if moment > killed_at[0])
    return [body for _, body in answers], after


async def logged_objects(conn: asyncpg.Connection, request_ids: list[uuid.UUID]) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT r.request_id::text AS id, r.outcome, count(o.seq) AS objects"
        " FROM access_log_request r LEFT JOIN access_log_object_all o USING (request_id, at)"
        " WHERE r.request_id = ANY($1::uuid[]) GROUP BY r.request_id, r.outcome",
        request_ids,
    )
    assert all(row["outcome"] in ("ok", "partial") for row in rows)
    return {row["id"]: row["objects"] for row in rows}


async def wait_sealed(conn: asyncpg.Connection, deadline_seconds: float = 20.0) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        status = await conn.fetchrow("SELECT * FROM access_log_seal_status(1)")
        if status["last_issued_seq"] <= (status["last_sealed_seq"] or 0):
            return
        await asyncio.sleep(SEAL_SECONDS)
    raise AssertionError("the surviving instance did not seal the log")


async def test_two_instances_share_the_policy_the_seals_and_lose_nothing(
    cluster: Cluster, settings: Settings
) -> None:
    a, b = cluster.instances
    owner = await asyncpg.connect(cluster.database_url)
    try:
        await register(owner, 3)
        async with httpx.AsyncClient(base_url=cluster.url, timeout=15) as http:
            token = await Users(owner, http).token("customer_service")

            # A policy edit reaches both instances within the reload interval.
            before = _policy_version(a.url)
            assert before is not None and before == _policy_version(b.url)
            edit_policy(cluster.policy_dir)
            edited_at = time.monotonic()
            versions: set[str | None] = {before}
            while time.monotonic() - edited_at < 10 and before in versions:
                versions = {_policy_version(a.url), _policy_version(b.url)}
                await asyncio.sleep(0.05)
            took = time.monotonic() - edited_at
            assert len(versions) == 1 and before not in versions, versions
            assert took < RELOAD_SECONDS + 5, took  # one poll, plus compiling under load
            new_version = versions.pop()
            for _ in range(4):  # round robin: both instances answer with the new version
                body = await answer(http, token)
                assert body is not None
                assert body["extensions"]["policyVersion"] == new_version

        # Load through the proxy; one instance is killed on the way.
        answers, after_kill = await load(cluster.url, token, kill=b)
        assert b.process.wait(timeout=STOP_SECONDS) == -signal.SIGKILL
        assert len(answers) >= 20 and after_kill >= 5, (len(answers), after_kill)

        # Every answer that arrived has its request and object records.
        expected = {
            body["extensions"]["requestId"]: len(returned_objects(body["data"])) for body in answers
        }
        assert all(count > 0 for count in expected.values())
        logged = await logged_objects(owner, [uuid.UUID(r) for r in expected])
        assert logged == expected

        # The sealers took turns: every batch by one instance, both sealed, no overlap.
        await wait_sealed(owner)
        seals = await owner.fetch(
            "SELECT batch_no, first_seq, last_seq FROM access_log_seal ORDER BY batch_no"
        )
        assert [s["batch_no"] for s in seals] == list(range(1, len(seals) + 1))
        for previous, seal in itertools.pairwise(seals):
            assert seal["first_seq"] == previous["last_seq"] + 1
        await asyncio.sleep(1)  # the survivor logs a seal just after committing it
        by_a, by_b = a.sealed_batches(), b.sealed_batches()
        assert by_a and by_b and not by_a & by_b, (by_a, by_b)
        # The killed instance may have committed a seal without logging it.
        unlogged = {s["batch_no"] for s in seals} - by_a - by_b
        assert len(unlogged) <= 1, unlogged
    finally:
        await owner.close()
    checked = settings.model_copy(update={"database_url": cluster.database_url})
    async with owner_session(checked) as session:
        report = await verify(session=session, settings=checked)
    assert report.ok, report.summary()
