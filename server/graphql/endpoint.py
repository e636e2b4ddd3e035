"""POST /graphql: read the body, authenticate, decide the purpose, and hand the operation to
the runner (server/operations/runner.py), which executes it, logs it and commits the log
before the answer leaves. The answer's bytes are passed through as the runner encoded them.
The document is the body's `query`, or a registered one named by `documentId` or Apollo's
`extensions.persistedQuery` (server/operations/trusted.py).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from server.audit.records import Outcome
from server.authz.principal import Principal
from server.db.columns import utcnow
from server.graphql.errors import ErrorCode, error_payload
from server.graphql.http import response_media_type
from server.identity.authenticate import (
    AuthenticationFailed,
    bearer_credential,
    remembered_credential,
    verify_credential,
)
from server.identity.confirmation import RememberedCredentials
from server.observability.requests import observe
from server.operations.failures import is_unavailable
from server.operations.idempotency import valid_key
from server.operations.runner import Operation, OperationResult, OperationRunner, Unconfirmed

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 100_000


def json_response(payload: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return Response(
        orjson.dumps(payload), status_code=status, media_type="application/json", headers=headers
    )


def _errors_only(status: int, code: ErrorCode, message: str, request_id: uuid.UUID) -> Response:
    body = {"errors": [error_payload(code, message, requestId=str(request_id))]}
    return json_response(body, status)


def _bad_request(message: str, status: int = 400) -> Response:
    return json_response({"errors": [error_payload(ErrorCode.QUERY_REJECTED, message)]}, status)


async def read_body(request: Request) -> dict[str, Any] | Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return _bad_request("Send JSON (application/json).", 415)
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return _bad_request("Request too large.", 413)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict) or not _names_a_document(body):
        return _bad_request("Expected one JSON object with a query or a documentId.")
    variables = body.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return _bad_request("variables must be an object.")
    name = body.get("operationName")
    if name is not None and not isinstance(name, str):
        return _bad_request("operationName must be a string.")
    return body


def _names_a_document(body: dict[str, Any]) -> bool:
    extensions = body.get("extensions")
    return (
        isinstance(body.get("query"), str)
        or "documentId" in body
        or (isinstance(extensions, dict) and "persistedQuery" in extensions)
    )


def choose_purpose(request: Request, principal: Principal, policy: Any) -> str | None:
    """The X-Purpose header, or the default purpose of the principal's first role."""
    requested = request.headers.get("x-purpose")
    allowed = policy.purposes_for(principal.roles)
    if requested:
        return requested if requested in allowed else None
    for role in principal.roles:
        info = policy.roles.get(role)
        if info is not None and info.default_purpose in allowed:
            return str(info.default_purpose)
    return None


def _response(result: OperationResult) -> Response:
    return Response(
        result.body,
        status_code=result.status,
        media_type=result.media_type,
        headers=result.headers,
    )


def _observed(runner: OperationRunner, operation: Operation, result: OperationResult) -> Response:
    """The answer, with the request's metrics and log line recorded."""
    observe(
        runner, operation, outcome=result.outcome, status=result.status, executor=result.executor
    )
    return _response(result)


async def graphql_endpoint(request: Request) -> Response:
    runner: OperationRunner = request.app.state.runner
    body = await read_body(request)
    if isinstance(body, Response):
        return body
    idempotency_key = request.headers.get("idempotency-key")
    if idempotency_key is not None and not valid_key(idempotency_key):
        return _bad_request("Idempotency-Key must be 1 to 200 printable ASCII characters.")
    document = runner.trusted.document_text(body)
    operation = Operation(
        query=document if isinstance(document, str) else "",
        principal=None,
        purpose=None,
        variables=body.get("variables"),
        operation_name=body.get("operationName"),
        request_id=uuid.uuid4(),
        client_address=request.client.host if request.client else None,
        media_type=response_media_type(request.headers.get("accept")),
        started=time.perf_counter(),
        idempotency_key=idempotency_key,
        refusal=None if isinstance(document, str) else document,
    )
    remembered = await _run_remembered(request, runner, operation)
    if remembered is not None:
        return remembered
    return await _run_authenticated(request, runner, operation)


async def _run_remembered(
    request: Request, runner: OperationRunner, operation: Operation
) -> Response | None:
    """The answer for a credential authenticated a moment ago, confirmed inside the
    request's own transaction; None if there is none or it could not be confirmed."""
    credentials: RememberedCredentials = request.app.state.credentials
    credential = remembered_credential(request)
    confirmation = credentials.recall(credential, utcnow()) if credential else None
    if confirmation is None:
        return None
    purpose = choose_purpose(request, confirmation.principal, runner.policy())
    if purpose is None:
        return None  # refused the full way, with its record
    operation.principal, operation.purpose = confirmation.principal, purpose
    operation.confirmation, operation.remembered = confirmation, True
    try:
        return _observed(runner, operation, await runner.run(operation))
    except Unconfirmed:
        assert credential is not None
        credentials.forget(credential)
        operation.principal = operation.purpose = operation.confirmation = None
        operation.remembered = False
        return None


async def _run_authenticated(
    request: Request, runner: OperationRunner, operation: Operation
) -> Response:
    """Authenticate in a transaction of its own (recording failures), then run."""
    state = request.app.state
    try:
        async with state.sessionmaker() as auth_session, auth_session.begin():
            confirmation = await verify_credential(
                request, session=auth_session, settings=state.settings
            )
    except AuthenticationFailed:
        return await _unauthenticated(runner, operation)
    except Exception as exc:
        if not is_unavailable(exc):
            log.exception("authentication of request %s failed", operation.request_id)
        return _observed(runner, operation, runner.unavailable(operation))
    state.credentials.remember(bearer_credential(request), confirmation)
    principal = operation.principal = confirmation.principal
    purpose = choose_purpose(request, principal, runner.policy())
    if purpose is None:
        await runner.record_refusal(
            runner.record(operation, Outcome.DENIED, detail="purpose not allowed")
        )
        observe(runner, operation, outcome=Outcome.DENIED, status=403, executor=None)
        return _errors_only(
            403,
            ErrorCode.FORBIDDEN,
            "This purpose is not allowed for your roles.",
            operation.request_id,
        )
    operation.purpose, operation.confirmation = purpose, confirmation
    try:
        return _observed(runner, operation, await runner.run(operation))
    except Unconfirmed:  # the session ended since it was read a moment ago
        credentials: RememberedCredentials = state.credentials
        credentials.forget(bearer_credential(request))
        operation.principal = operation.purpose = operation.confirmation = None
        return await _unauthenticated(runner, operation)


async def _unauthenticated(runner: OperationRunner, operation: Operation) -> Response:
    await runner.record_refusal(runner.record(operation, Outcome.UNAUTHENTICATED))
    observe(runner, operation, outcome=Outcome.UNAUTHENTICATED, status=401, executor=None)
    return _errors_only(
        401, ErrorCode.UNAUTHENTICATED, "Authentication required.", operation.request_id
    )
