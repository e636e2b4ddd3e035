"""The Starlette application, built by `create_app(settings)`; the lifespan owns the engine
and the policy."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server import logsafety
from server.authz.policy import CompiledPolicy
from server.authz.store import PolicyStore, ReloadFailure
from server.db.engine import create_driver_pool, create_engine, resolve_database_url_async
from server.db.migrate import current_revision, head_revision
from server.db.session import StatementCounter, session_factory
from server.graphql import ide
from server.graphql.endpoint import graphql_endpoint, json_response
from server.identity.confirmation import RememberedCredentials
from server.observability import metrics, tracing
from server.operations import trusted
from server.operations.runner import OperationRunner
from server.schema import catalogue, schema
from server.settings import Settings

log = logging.getLogger(__name__)


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


ACCESS_LOG_WRITABLE = text(
    "SELECT has_any_column_privilege(current_user, 'access_log_request', 'INSERT') "
    "AND has_any_column_privilege(current_user, 'access_log_subject', 'INSERT'), "
    "EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = 'access_log_request'::regclass "
    "AND c.relname = 'access_log_request_y' || to_char(now() AT TIME ZONE 'UTC', 'YYYY\"m\"MM'))"
)


async def access_log_problem(conn: Any) -> str | None:
    """Why requests could not write their log records now (None: they can). Every request
    needs them, so the service is not ready without."""
    allowed, partition = (await conn.execute(ACCESS_LOG_WRITABLE)).one()
    if not allowed:
        return "not writable: no INSERT right"
    if not partition:
        return "not writable: no partition for this month"
    return None


async def readyz(request: Request) -> Response:
    """Ready when the database answers, migrations are at head and the policy is loaded."""
    state = request.app.state
    checks: dict[str, Any] = {"policyVersion": state.policy_store.current.version}
    ready = True
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            revision = await current_revision(conn)
        checks["database"] = "ok"
        checks["migration"] = revision
        async with state.engine.connect() as conn:
            problem = await access_log_problem(conn)
        checks["accessLog"] = problem or "writable"
        if problem is not None:
            ready = False
        if revision != head_revision():
            ready = False
            checks["migrationHead"] = head_revision()
    except Exception as exc:
        ready = False
        checks["database"] = f"unavailable: {type(exc).__name__}"
    failure = state.policy_store.last_failure
    if failure is not None:
        checks["policyReloadError"] = {
            "at": failure.at.isoformat(),
            "rejectedVersion": failure.version,
            "problems": list(failure.problems),
        }
    checks["status"] = "ready" if ready else "not ready"
    return json_response(checks, 200 if ready else 503)


async def graphql_get(request: Request) -> Response:
    """GraphiQL in development (served offline, server/graphql/ide.py); queries over GET
    are never executed."""
    if request.app.state.settings.is_development:
        return ide.page(request)
    return json_response({"error": "method_not_allowed"}, 405, allow="POST")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    logsafety.install()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        url = await resolve_database_url_async(settings)
        engine = create_engine(url, settings)
        driver_pool = await create_driver_pool(url, settings)
        metrics.instrument_engine(engine, settings)
        app.state.settings = settings
        app.state.engine = engine
        app.state.statements = StatementCounter(engine)
        app.state.sessionmaker = session_factory(engine)
        app.state.credentials = RememberedCredentials()
        app.state.schema = schema()
        app.state.policy_store = PolicyStore(settings.policy_dir, catalogue())
        app.state.runner = OperationRunner(
            settings=settings,
            schema=app.state.schema,
            sessionmaker=app.state.sessionmaker,
            driver_pool=driver_pool,
            policy=lambda: app.state.policy_store.current,
        )
        try:
            await trusted.start(app.state.runner)
        except BaseException:
            await engine.dispose()
            metrics.release_engine(engine, settings)
            raise
        tasks = [
            asyncio.create_task(
                trusted.watch(app.state.runner, settings.trusted_documents_reload_interval_seconds)
            ),
            asyncio.create_task(
                app.state.policy_store.watch(
                    settings.policy_reload_interval_seconds,
                    record=lambda compiled, failure: record_policy_reload(
                        app.state.sessionmaker, compiled, failure
                    ),
                )
            ),
        ]
        tasks.extend(_background_tasks(app, settings))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await driver_pool.close()
            await engine.dispose()
            metrics.release_engine(engine, settings)
            if stop_tracing is not None:
                stop_tracing()

    routes: list[BaseRoute] = [
        Route("/graphql", graphql_endpoint, methods=["POST"]),
        Route("/graphql", graphql_get, methods=["GET"]),
        Route(ide.ASSET_PREFIX + "{name}", ide.asset_endpoint, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics.metrics_endpoint, methods=["GET"]),
        *_identity_routes(),
        *_console_routes(),
        *_import_routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(metrics.LoginMetricsMiddleware)
    _resolve_client_addresses(app, settings)
    stop_tracing = tracing.start(app, settings)  # outermost: its span covers the request
    return app


async def record_policy_reload(
    sessionmaker: Any, compiled: CompiledPolicy | None, failure: ReloadFailure | None
) -> None:
    """A policy swap, or a rejected edit, goes to the access log like any other event."""
    from server.audit.records import EventKind, Outcome
    from server.audit.service import write_event
    from server.operations.runner import event_record

    if compiled is not None:
        version, outcome, detail = compiled.version, Outcome.OK, "policy loaded"
    else:
        assert failure is not None
        version, outcome = failure.version, Outcome.ERROR
        detail = "policy rejected, last good kept: " + "; ".join(failure.problems)[:1500]
    entry = event_record(
        EventKind.POLICY_RELOAD, outcome=outcome, policy_version=version, detail=detail
    )
    try:
        async with sessionmaker() as session, session.begin():
            await write_event(session, entry)
    except Exception:
        log.exception("could not record a policy reload in the access log")


def _resolve_client_addresses(app: Starlette, settings: Settings) -> None:
    """The client address is the socket peer unless it is one of TRUSTED_PROXIES."""
    from server.identity.client_address import ClientAddressMiddleware

    app.add_middleware(ClientAddressMiddleware, trusted_proxies=settings.trusted_proxies)


def _identity_routes() -> list[Route]:
    from server.identity.routes import routes

    return routes()


def _console_routes() -> list[BaseRoute]:
    from server.console.routes import routes

    return routes()


def _import_routes() -> list[Route]:
    from server.imports.routes import routes

    return routes()


def _background_tasks(app: Starlette, settings: Settings) -> list[asyncio.Task[None]]:
    from server.audit.seal import run_sealer

    if not settings.audit_sealer:
        return []
    return [asyncio.create_task(run_sealer(app.state.sessionmaker, settings))]
