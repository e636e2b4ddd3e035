"""Running `rekisteri` (and helpers such as HAProxy) as real processes in tests: their
environment, a free port, start, readiness and stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from server.settings import PROJECT_ROOT
from tests.conftest import TEST_SECRET, TEST_SIGNING_KEY

START_SECONDS = 60
STOP_SECONDS = 10


def rekisteri(*args: str) -> list[str]:
    """The command line of `rekisteri ARGS` with this interpreter."""
    return [sys.executable, "-m", "server.cli", *args]


def service_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a test's `rekisteri` process: its database, the tests' keys, and
    `settings` (names as the environment spells them) on top."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "test",
        "SECRET_KEY": TEST_SECRET,
        "AUDIT_SEAL_KEY": TEST_SECRET + "-seal",
        "AUDIT_SIGNING_KEY": TEST_SIGNING_KEY,
        **settings,
    }
    if "WEB_CONCURRENCY" not in settings:
        env.pop("WEB_CONCURRENCY", None)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_to_end(
    command: list[str], env: dict[str, str], *, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`command` run in the project's folder until it exits; its status and its output (both
    streams, as text)."""
    return subprocess.run(  # noqa: S603 - the tests' own fixed commands
        command,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`command` in a session of its own, its output (both streams) in `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - the tests' own fixed commands
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the process and everything it started, if it still runs."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)


@contextlib.contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`command` started as `start` starts it, and stopped (with all it started) at the end."""
    process = start(command, env, log)
    try:
        yield process
    finally:
        stop(process)


@dataclass(frozen=True)
class Served:
    """A test's `rekisteri serve` process: the process, its port and its output."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def serve(env: dict[str, str], log: Path, *args: str) -> Iterator[Served]:
    """`rekisteri serve ARGS` on a free port with `env`, its output in `log`; stopped at the
    end. It may still be starting: `wait_until_healthy` waits for it."""
    port = free_port()
    with running(rekisteri("serve", "--port", str(port), *args), env, log) as process:
        yield Served(process, port, log)


def wait_until_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "the process exited during start-up"
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"{url}/healthz did not answer in time")
