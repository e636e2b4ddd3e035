"""POST /imports/{prospects,consumption,addresses}: the importers for systems, with an API
key (or a user's token) whose roles the policy grants `import` for the kind. The body is
the file itself, streamed to a temporary file up to IMPORT_MAX_BYTES; the options are query
parameters; the answer is the import's result as JSON (docs/imports.md)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.audit.records import EventKind, Outcome
from server.audit.service import write_event
from server.authz.principal import Principal
from server.graphql.endpoint import choose_purpose, json_response
from server.identity.authenticate import AuthenticationFailed, authenticate
from server.identity.routes import database_guarded
from server.imports.models import ImportChannel, ImportKind
from server.imports.service import Caller, ImportOptions, may_import, run_import

FLAGS = {"true": True, "1": True, "false": False, "0": False}
OPTIONS = frozenset({"dryRun", "acceptPartial", "source", "prospectSource", "format", "fileName"})
CHOICES = {"prospectSource": ("competition", "prize_draw"), "format": ("datahub", "json")}


class BadRequest(Exception):
    """A query parameter that is not understood; the message names it."""


async def import_endpoint(request: Request, kind: ImportKind) -> Response:
    state = request.app.state
    started = time.perf_counter()
    try:
        async with state.sessionmaker() as session, session.begin():
            principal = await authenticate(request, session=session, settings=state.settings)
    except AuthenticationFailed:
        await _record_refusal(request, kind, Outcome.UNAUTHENTICATED, started)
        return _error(401, "UNAUTHENTICATED", "Authentication required.")
    policy = state.policy_store.current
    purpose = choose_purpose(request, principal, policy)
    if purpose is None or not may_import(
        policy=policy, principal=principal, purpose=purpose, kind=kind
    ):
        await _record_refusal(request, kind, Outcome.DENIED, started, principal, purpose)
        return _error(403, "FORBIDDEN", f"Your roles may not import {kind} for this purpose.")
    try:
        options, file_name = _options(request)
    except BadRequest as exc:
        return _error(400, "BAD_USER_INPUT", str(exc))
    limit = state.settings.import_max_bytes
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return _error(413, "TOO_LARGE", f"The file may be at most {limit} bytes.")
    with tempfile.TemporaryDirectory(prefix="rekisteri-import-") as spool:
        path = Path(spool) / "upload"
        if not await _spool(request, path, limit):
            return _error(413, "TOO_LARGE", f"The file may be at most {limit} bytes.")
        caller = Caller(
            principal,
            purpose,
            ImportChannel.HTTP,
            policy.version,
            principal.log_ref,
            client_address=_client(request),
        )
        result = await run_import(
            sessionmaker=state.sessionmaker,
            caller=caller,
            kind=kind,
            path=path,
            file_name=file_name,
            options=options,
        )
    return json_response(result.as_json(), 422 if result.refused else 200)


def _options(request: Request) -> tuple[ImportOptions, str]:
    params = request.query_params
    unknown = sorted(set(params) - OPTIONS)
    if unknown:
        raise BadRequest(f"{unknown[0][:50]}: unknown parameter")
    for name, allowed in CHOICES.items():
        if name in params and params[name] not in allowed:
            raise BadRequest(f"{name}: one of {', '.join(allowed)}")
    flags = {}
    for name in ("dryRun", "acceptPartial"):
        value = params.get(name, "false").lower()
        if value not in FLAGS:
            raise BadRequest(f"{name}: true or false")
        flags[name] = FLAGS[value]
    file_name = params.get("fileName", "upload")[:255]
    options = ImportOptions(
        dry_run=flags["dryRun"],
        accept_partial=flags["acceptPartial"],
        source=params.get("source", "")[:200],
        prospect_source=params.get("prospectSource", "competition"),
        file_format=params.get("format"),
    )
    return options, file_name


async def _spool(request: Request, path: Path, limit: int) -> bool:
    """Write the body to `path` as it arrives; False (and stop reading) past `limit`."""
    size = 0
    with path.open("wb") as target:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return False
            target.write(chunk)
    return True


async def _record_refusal(
    request: Request,
    kind: ImportKind,
    outcome: Outcome,
    started: float,
    principal: Principal | None = None,
    purpose: str | None = None,
) -> None:
    """A refused import is in the access log like a refused GraphQL request."""
    from server.operations.runner import event_record

    state = request.app.state
    record = event_record(
        EventKind.IMPORT,
        outcome=outcome,
        principal=principal.log_ref if principal else None,
        organisation=principal.organisation_code if principal else None,
        roles=principal.roles if principal else (),
        purpose=purpose,
        client_address=_client(request),
        operation_name=f"import {kind}",
        operation_type=str(ImportChannel.HTTP),
        policy_version=state.policy_store.current.version,
        detail=f"import {kind} refused: {outcome}",
        started=started,
    )
    async with state.sessionmaker() as session, session.begin():
        await write_event(session, record)


def _error(status: int, code: str, message: str) -> Response:
    body: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return json_response(body, status)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def routes() -> list[Route]:
    def endpoint(kind: ImportKind) -> Callable[[Request], Awaitable[Response]]:
        async def one_kind(request: Request) -> Response:
            return await import_endpoint(request, kind)

        return database_guarded(one_kind)

    return [Route(f"/imports/{kind}", endpoint(kind), methods=["POST"]) for kind in ImportKind]
