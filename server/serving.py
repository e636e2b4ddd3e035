"""Serving an ASGI application factory with uvicorn's workers, for `rekisteri serve` and the
benchmarks.

With more than one worker the parent binds the listening socket and the workers share it.
It is bound here, not by uvicorn: uvicorn creates it as `socket.socket(family=...)`, whose
protocol number is 0, and asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
connections accepted from a socket that says IPPROTO_TCP. Without that, a response written
in two parts (headers, then body) waits for the client's delayed ACK on every kept-alive
connection: about 40 ms per small response. Everything else is uvicorn's own
multi-process supervisor, which also restarts a worker that dies.

Shutdown is graceful: SIGTERM (or SIGINT) to the parent is passed to every worker, which
stops accepting, lets requests in flight finish for up to `shutdown_timeout` seconds, runs
the application's shutdown and exits; the parent exits when they have.

Prometheus counters of several processes are added up from files (prometheus-client's
multiprocess mode): `metrics_directory()` gives each start a fresh directory in
PROMETHEUS_MULTIPROC_DIR (inside the directory that variable named, if any) and removes it
at exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

log = logging.getLogger("rekisteri.serve")

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def uvicorn_settings(
    *, host: str, port: int, shutdown_timeout: float, log_level: str = "info"
) -> dict[str, Any]:
    """uvicorn's options for this service, whatever the number of workers.

    uvicorn's own proxy-header handling is off, whatever FORWARDED_ALLOW_IPS says: the
    app reads X-Forwarded-For itself, only from TRUSTED_PROXIES (server/identity/
    client_address.py), so a client cannot choose its address however the service runs.
    uvicorn's access log is off (the service logs one line per GraphQL request itself) and
    its logging configuration is left to the service (`log_config=None`).
    """
    return {
        "host": host,
        "port": port,
        "log_level": log_level.lower(),
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,
        "forwarded_allow_ips": "",
        "server_header": False,
        "timeout_graceful_shutdown": max(1, round(shutdown_timeout)),
    }


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket that says it is TCP, so accepted connections get TCP_NODELAY."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@contextlib.contextmanager
def metrics_directory() -> Iterator[str]:
    """A fresh PROMETHEUS_MULTIPROC_DIR for the workers of one start, removed at exit."""
    parent = os.environ.get(MULTIPROC_VARIABLE) or None
    if parent is not None:
        os.makedirs(parent, exist_ok=True)
    path = tempfile.mkdtemp(prefix="rekisteri-metrics-", dir=parent)
    previous = os.environ.get(MULTIPROC_VARIABLE)
    os.environ[MULTIPROC_VARIABLE] = path
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_VARIABLE, None)
        else:
            os.environ[MULTIPROC_VARIABLE] = previous
        shutil.rmtree(path, ignore_errors=True)


class GracefulServer(uvicorn.Server):
    """uvicorn's server, except that a stop on SIGTERM or SIGINT that went as planned ends
    with status 0: uvicorn raises the signal again once it has stopped, which ends the
    process by that signal (status 143 for SIGTERM) after the graceful stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


def run_one(app: Any, **options: Any) -> int:
    """Serve `app` in this process (uvicorn binds the socket); returns the exit status."""
    GracefulServer(uvicorn.Config(app, **options)).run()
    return 0


class Supervisor(Multiprocess):
    """uvicorn's supervisor; a worker that is gone has its live gauges removed, and the
    parent's own messages go to the service's log."""

    def __init__(
        self, config: uvicorn.Config, sockets: list[socket.socket], metrics_dir: str | None
    ) -> None:
        super().__init__(config, sockets)
        self.metrics_dir = metrics_dir

    def _forget_gone(self, before: set[int | None]) -> None:
        gone = before - {process.pid for process in self.processes}
        if self.metrics_dir is None:
            return
        from prometheus_client import multiprocess

        for pid in gone:
            if pid is not None:
                multiprocess.mark_process_dead(pid, self.metrics_dir)  # type: ignore[no-untyped-call]

    def keep_subprocess_alive(self) -> None:
        before = {process.pid for process in self.processes}
        super().keep_subprocess_alive()
        self._forget_gone(before)

    def restart_all(self) -> None:
        before = {process.pid for process in self.processes}
        super().restart_all()
        self._forget_gone(before)

    def handle_ttou(self) -> None:
        before = {process.pid for process in self.processes}
        super().handle_ttou()
        self._forget_gone(before)

    def handle_int(self) -> None:
        log.info("SIGINT: stopping the workers")
        self.should_exit.set()

    def handle_term(self) -> None:
        log.info("SIGTERM: stopping the workers")
        self.should_exit.set()


def serve(
    app: str,
    *,
    host: str,
    port: int,
    workers: int,
    shutdown_timeout: float = 20.0,
    log_level: str = "info",
    metrics: bool = True,
) -> int:
    """Run `app` ("module:factory", called without arguments in every worker) on a socket
    bound here; with `workers` > 1 in that many processes. Returns the exit status."""
    options = uvicorn_settings(
        host=host, port=port, shutdown_timeout=shutdown_timeout, log_level=log_level
    )
    config = uvicorn.Config(app, factory=True, workers=workers, **options)
    sock = bind_socket(host, port)
    try:
        if workers <= 1:
            GracefulServer(config).run(sockets=[sock])
            return 0
        scope = metrics_directory() if metrics else contextlib.nullcontext(None)
        with scope as metrics_dir:
            supervisor = Supervisor(config, [sock], metrics_dir)
            supervisor.run()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        sock.close()
