"""Prometheus metrics, served at /metrics to the addresses and the token the settings name.

Every label has a bounded set of values: operation types, outcomes and executors are
fixed lists, a purpose is one the policy defines ("other" for anything else, "none" before
one is chosen), and the policy version changes only with the policy files. No user,
organisation, operation name or document is ever a label.

With several workers (`rekisteri serve --workers N`) each worker writes its values to files
in PROMETHEUS_MULTIPROC_DIR and /metrics, whichever worker answers, adds them up. The
variable must be set before prometheus_client is first imported; `serve` sets it in the
parent, before any worker starts. Without it (one process, the tests) the values are the
process's own.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import math
import os
import time
from collections.abc import Collection, Iterable, Iterator
from typing import Any

import asyncpg
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.audit.status import SealStatus, seal_status
from server.settings import Settings

log = logging.getLogger(__name__)

disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series

OPERATION_TYPES = frozenset({"query", "mutation", "subscription"})
OUTCOMES = frozenset({"ok", "partial", "denied", "error", "unauthenticated"})
EXECUTORS = frozenset({"compiled", "resolver"})
REQUEST_LABELS = ("operation_type", "outcome", "executor", "purpose")

# Seconds; the last buckets reach past the default request time-out (15 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0)
WRITE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

REQUESTS = Counter(
    "rekisteri_graphql_requests",
    "GraphQL requests answered, by operation type, outcome, executor and purpose.",
    REQUEST_LABELS,
)
REQUEST_SECONDS = Histogram(
    "rekisteri_graphql_request_duration_seconds",
    "Time from the request's body read to its answer (the access log committed).",
    REQUEST_LABELS,
    buckets=LATENCY_BUCKETS,
)
ACCESS_LOG_WRITE_SECONDS = Histogram(
    "rekisteri_access_log_write_seconds",
    "Access-log statements written on their own (resolver executor, refusals, events). "
    "The compiled executor writes its record inside its one statement: that time is part "
    "of the request's duration.",
    buckets=WRITE_BUCKETS,
)
POOL_IN_USE = Gauge(
    "rekisteri_db_pool_connections_in_use",
    "Database connections checked out of the pool, over all workers.",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "rekisteri_db_pool_size",
    "Database connections the pools may hold, over all workers.",
    multiprocess_mode="livesum",
)
POLICY = Gauge(
    "rekisteri_policy_info",
    "The access policy in force: 1 for its version, 0 for versions replaced.",
    ["version"],
    multiprocess_mode="livemax",
)
LOGIN_FAILURES = Counter(
    "rekisteri_login_failures",
    "Logins refused for a wrong username or password (POST /auth/token or /console/login "
    "answered 401).",
)
LOGIN_LOCKOUTS = Counter(
    "rekisteri_login_lockouts",
    "Logins refused because the account or the client address is over its failure limit "
    "(POST /auth/token or /console/login answered 429).",
)

_policy_version: str | None = None


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


# -- labels ----------------------------------------------------------------------------


def request_labels(
    *,
    operation_type: str | None,
    outcome: str,
    executor: str | None,
    purpose: str | None,
    known_purposes: Collection[str],
) -> tuple[str, str, str, str]:
    """The four request labels, each from a bounded set."""
    kind = operation_type if operation_type in OPERATION_TYPES else "unknown"
    result = str(outcome) if outcome in OUTCOMES else "other"
    ran_on = executor if executor in EXECUTORS else "none"
    if purpose is None:
        return kind, result, ran_on, "none"
    return kind, result, ran_on, purpose if purpose in known_purposes else "other"


_REQUEST_CHILDREN: dict[tuple[str, str, str, str], tuple[Any, Any]] = {}


def observe_request(labels: tuple[str, str, str, str], seconds: float) -> None:
    children = _REQUEST_CHILDREN.get(labels)
    if children is None:  # bounded: the labels come from fixed sets
        children = _REQUEST_CHILDREN[labels] = (
            REQUESTS.labels(*labels),
            REQUEST_SECONDS.labels(*labels),
        )
    children[0].inc()
    children[1].observe(seconds)


def set_policy_version(version: str) -> None:
    """Mark `version` as the policy in force in this process (cheap when unchanged)."""
    global _policy_version
    if version == _policy_version:
        return
    previous, _policy_version = _policy_version, version
    if previous is not None:
        if multiprocess_dir() is None:
            POLICY.remove(previous)
        else:
            POLICY.labels(previous).set(0)  # a worker's file keeps every label it wrote
    POLICY.labels(version).set(1)


# -- the database ----------------------------------------------------------------------

ACCESS_LOG_INSERT = "INSERT INTO access_log_request"
_STARTED = "rekisteri_log_write_started"
_OUT = "rekisteri_checked_out"


def instrument_engine(engine: AsyncEngine, settings: Settings) -> None:
    """Count connections in use, and time the access-log statements sent on `engine`. The
    driver pool of the same size is counted with it (its use: `pooled`)."""
    POOL_SIZE.inc(settings.pool_size * 2)
    sync_engine = engine.sync_engine

    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        record.info[_OUT] = True
        POOL_IN_USE.inc()

    def checked_in(dbapi_connection: Any, record: Any) -> None:
        # Only a connection counted out is counted back: a checkout cancelled half-way
        # (a time-out during the pool's ping) is checked in without having been out.
        if record is not None and record.info.pop(_OUT, False):
            POOL_IN_USE.dec()

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if ACCESS_LOG_INSERT in statement:
            conn.info[_STARTED] = time.perf_counter()

    def after(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        started = conn.info.pop(_STARTED, None)
        if started is not None:
            ACCESS_LOG_WRITE_SECONDS.observe(time.perf_counter() - started)

    event.listen(sync_engine, "checkout", checked_out)
    event.listen(sync_engine, "checkin", checked_in)
    event.listen(sync_engine, "before_cursor_execute", before)
    event.listen(sync_engine, "after_cursor_execute", after)


def release_engine(engine: AsyncEngine, settings: Settings) -> None:
    """The pools are gone (the application shut down): they hold no more connections."""
    POOL_SIZE.dec(settings.pool_size * 2)


class pooled:
    """A connection of the driver pool (its size counted with the engine's), counted while
    in use; waits at most `wait_seconds` for one. A class, not a generator: it is on every
    compiled read."""

    __slots__ = ("_connection", "_pool", "_wait_seconds")

    def __init__(self, pool: asyncpg.Pool, wait_seconds: float) -> None:
        self._pool = pool
        self._wait_seconds = wait_seconds
        self._connection: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        self._connection = await self._pool.acquire(timeout=self._wait_seconds)
        POOL_IN_USE.inc()
        return self._connection

    async def __aexit__(self, *_: object) -> None:
        POOL_IN_USE.dec()
        await self._pool.release(self._connection)


# -- login -----------------------------------------------------------------------------

LOGIN_PATHS = frozenset({"/auth/token", "/console/login"})


class LoginMetricsMiddleware:
    """Counts refused logins from the status of the login answers (the API's and the
    security console's form)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in LOGIN_PATHS:
            await self.app(scope, receive, send)
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message.get("status")
                if status == 401:
                    LOGIN_FAILURES.inc()
                elif status == 429:
                    LOGIN_LOCKOUTS.inc()
            await send(message)

        await self.app(scope, receive, counting)


# -- /metrics --------------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(values: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def may_read(request: Request, settings: Settings) -> bool:
    """The client address (after TRUSTED_PROXIES) is allowed, or the bearer token is right."""
    token = settings.metrics_token
    if token:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            credential.strip().encode(), token.encode()
        ):
            return True
    host = request.client.host if request.client else None
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(settings.metrics_allowed_addresses))


# -- the access log's seals, read on every scrape ----------------------------------------

SEAL_STATUS_TIMEOUT_SECONDS = 2.0


def seal_families(status: SealStatus | None) -> list[Metric]:
    """The seal gauges, from the database at scrape time (so the same whichever worker or
    instance answers); no samples when the database did not answer."""
    unsealed = GaugeMetricFamily(
        "rekisteri_access_log_unsealed_rows",
        "Access-log positions handed out after the last sealed one: rows waiting for the "
        "sealer (a rolled-back request's position counts until the next seal).",
    )
    age = GaugeMetricFamily(
        "rekisteri_access_log_last_seal_age_seconds",
        "Seconds since the newest seal was made (database clock); +Inf before the first.",
    )
    if status is not None:
        unsealed.add_metric([], status.unsealed_rows)
        age.add_metric([], math.inf if status.age_seconds is None else status.age_seconds)
    return [unsealed, age]


async def read_seal_status(engine: AsyncEngine) -> SealStatus | None:
    """The seal status in at most SEAL_STATUS_TIMEOUT_SECONDS; None (logged) otherwise."""
    try:
        async with asyncio.timeout(SEAL_STATUS_TIMEOUT_SECONDS), engine.connect() as conn:
            return await seal_status(conn)
    except Exception as exc:
        log.warning("/metrics: the access log's seal status is unavailable: %s", type(exc).__name__)
        return None


class _Families:
    """A collector of metric families computed for one scrape."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def exposition(families: Iterable[Metric] = ()) -> bytes:
    """Every metric in the text format (of all workers when they write files), then the
    families computed for this scrape."""
    directory = multiprocess_dir()
    if directory is None:
        registry = REGISTRY
    else:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    scraped = CollectorRegistry()
    scraped.register(_Families(families))
    return generate_latest(registry) + generate_latest(scraped)


async def metrics_endpoint(request: Request) -> Response:
    """GET /metrics; 404 (as for any unknown path) unless `may_read`."""
    state = request.app.state
    settings: Settings = state.settings
    if not may_read(request, settings):
        return PlainTextResponse("Not Found", status_code=404)
    set_policy_version(state.policy_store.current.version)
    status = await read_seal_status(state.engine)
    return Response(
        exposition(seal_families(status)),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )
