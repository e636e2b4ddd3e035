"""POST /graphql: authenticate, decide the purpose, execute, log, and only then answer.

The access log is part of the answer: it is written in the same transaction as the
request's reads and writes. If it cannot be committed, the caller gets an error and no data.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

import orjson
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from graphql.error import GraphQLSyntaxError
from starlette.requests import Request
from starlette.responses import Response

from server.audit.collector import AccessCollector
from server.audit.records import EventKind, Outcome, RequestRecord
from server.authz.access import AccessView
from server.authz.principal import Principal
from server.graphql.context import RequestContext
from server.graphql.errors import (
    GENERIC_VALIDATION_MESSAGE,
    ErrorCode,
    error_payload,
    forbidden_payload,
    format_error,
    format_errors,
)
from server.graphql.http import graphql_response, is_request_error, response_media_type
from server.graphql.introspection import filter_introspection, is_introspection
from server.graphql.limits import MAX_TOKENS, check_cost

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 100_000


def json_response(payload: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return Response(
        orjson.dumps(payload), status_code=status, media_type="application/json", headers=headers
    )


def _errors_only(status: int, code: ErrorCode, message: str, request_id: uuid.UUID) -> Response:
    body = {"errors": [error_payload(code, message, requestId=str(request_id))]}
    return json_response(body, status)


def document_hash(query: str, key: str) -> str:
    """Keyed, so that a value written literally into a query cannot be guessed back."""
    return hmac.new(key.encode(), query.encode(), hashlib.sha256).hexdigest()


def operation_of(query: str, operation_name: str | None) -> tuple[str | None, str | None]:
    """(type, name) of the operation that will run: named, or the document's only one."""
    try:
        document = parse(query)
    except GraphQLSyntaxError:
        return None, operation_name
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None
            or (definition.name is not None and definition.name.value == operation_name)
        ):
            name = definition.name.value if definition.name else None
            return definition.operation.value, name
    return None, operation_name


async def read_body(request: Request) -> dict[str, Any] | Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return json_response(
            {"errors": [error_payload(ErrorCode.QUERY_REJECTED, "Send JSON (application/json).")]},
            415,
        )
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return json_response(
            {"errors": [error_payload(ErrorCode.QUERY_REJECTED, "Request too large.")]}, 413
        )
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return json_response(
            {
                "errors": [
                    error_payload(
                        ErrorCode.QUERY_REJECTED, "Expected one JSON object with a query."
                    )
                ]
            },
            400,
        )
    variables = body.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return json_response(
            {"errors": [error_payload(ErrorCode.QUERY_REJECTED, "variables must be an object.")]},
            400,
        )
    return body


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


async def graphql_endpoint(request: Request) -> Response:
    state = request.app.state
    settings = state.settings
    request_id = uuid.uuid4()
    started = time.perf_counter()
    body = await read_body(request)
    if isinstance(body, Response):
        return body
    query: str = body["query"]
    operation_name = body.get("operationName")
    client = request.client.host if request.client else None
    policy = state.policy_store.current
    requested_name = operation_name if isinstance(operation_name, str) else None
    op_type, op_name = operation_of(query, requested_name)

    def record(
        outcome: Outcome, principal: Principal | None, purpose: str | None, detail: str | None
    ) -> RequestRecord:
        return RequestRecord(
            request_id=request_id,
            at=datetime.now(UTC),
            event=EventKind.GRAPHQL,
            principal=principal.log_ref if principal else None,
            organisation=principal.organisation_code if principal else None,
            roles=principal.roles if principal else (),
            purpose=purpose,
            client_address=client,
            operation_name=op_name,
            operation_type=op_type,
            document_hash=document_hash(query, settings.secret_key),
            policy_version=policy.version,
            outcome=outcome,
            duration_ms=(time.perf_counter() - started) * 1000,
            detail=detail,
        )

    from server.audit.service import write_access_log, write_event
    from server.identity.authenticate import AuthenticationFailed, authenticate

    try:
        async with state.sessionmaker() as auth_session, auth_session.begin():
            principal = await authenticate(request, session=auth_session, settings=settings)
    except AuthenticationFailed:
        await _log_quietly(state, write_event, record(Outcome.UNAUTHENTICATED, None, None, None))
        return _errors_only(401, ErrorCode.UNAUTHENTICATED, "Authentication required.", request_id)

    purpose = choose_purpose(request, principal, policy)
    if purpose is None:
        await _log_quietly(
            state, write_event, record(Outcome.DENIED, principal, None, "purpose not allowed")
        )
        return _errors_only(
            403, ErrorCode.FORBIDDEN, "This purpose is not allowed for your roles.", request_id
        )

    if is_introspection(query) and not settings.introspection_enabled:
        await _log_quietly(
            state, write_event, record(Outcome.DENIED, principal, purpose, "introspection off")
        )
        return _errors_only(400, ErrorCode.QUERY_REJECTED, GENERIC_VALIDATION_MESSAGE, request_id)

    media_type = response_media_type(request.headers.get("accept"))
    too_costly = _check_cost(state.schema._schema, query, requested_name, body, settings)
    if too_costly is not None:
        await _log_quietly(
            state, write_event, record(Outcome.DENIED, principal, purpose, "query too complex")
        )
        refusal = format_error(too_costly, request_id, detailed=False)
        refusal.setdefault("extensions", {})["requestId"] = str(request_id)
        return graphql_response(
            {"errors": [refusal], "extensions": {"requestId": str(request_id)}},
            media_type=media_type,
            request_error=True,
        )

    access = AccessView(policy, principal, purpose, _today())
    try:
        async with (
            asyncio.timeout(settings.request_timeout_seconds),
            state.sessionmaker() as session,
            session.begin(),
        ):
            ctx = RequestContext(
                settings=settings,
                session=session,
                principal=principal,
                access=access,
                request_id=request_id,
                client_address=client,
                collector=AccessCollector(),
            )
            is_mutation = op_type == OperationType.MUTATION.value
            savepoint = await session.begin_nested() if is_mutation else None
            result = await state.schema.execute(
                query,
                variable_values=body.get("variables"),
                context_value=ctx,
                operation_name=requested_name,
            )
            if savepoint is not None:
                # A mutation that reported any error writes nothing; its log record stays.
                await (savepoint.rollback() if result.errors else savepoint.commit())
            errors = format_errors(
                result.errors or [], request_id, detailed=settings.is_development
            )
            errors.extend(
                forbidden_payload(c, purpose) for c in sorted(ctx.collector.denied_coordinates)
            )
            outcome = _outcome(result.data, errors)
            await write_access_log(
                session, record(outcome, principal, purpose, None), ctx.collector.objects
            )
    except Exception as exc:
        # Nothing of this request was committed: no data leaves. Its failure is recorded
        # in a transaction of its own, if the log can be written at all.
        reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
        log.exception("request %s failed before its access log was committed", request_id)
        await _log_quietly(
            state, write_event, record(Outcome.ERROR, principal, purpose, f"failed: {reason}")
        )
        return _errors_only(
            503, ErrorCode.SERVICE_UNAVAILABLE, "The request could not be completed.", request_id
        )

    data = result.data
    if data is not None and is_introspection(query):
        data = filter_introspection(
            data,
            access,
            document=query,
            operation_name=requested_name,
            variables=body.get("variables"),
        )
    payload: dict[str, Any] = {"data": data}
    if errors:
        payload["errors"] = errors
    payload["extensions"] = {"requestId": str(request_id), "policyVersion": policy.version}
    request_error = is_request_error(result.data, result.errors)
    return graphql_response(payload, media_type=media_type, request_error=request_error)


def _check_cost(
    schema: Any, query: str, operation_name: str | None, body: dict[str, Any], settings: Any
) -> GraphQLError | None:
    """The cost limit (server/graphql/limits.py); unparsable documents are left to execution."""
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLSyntaxError:
        return None
    return check_cost(schema, document, operation_name, body.get("variables"), settings=settings)


def _outcome(data: Any, errors: list[dict[str, Any]]) -> Outcome:
    if not errors:
        return Outcome.OK
    codes = {e.get("extensions", {}).get("code") for e in errors}
    if data is None:
        return Outcome.DENIED if codes == {ErrorCode.FORBIDDEN.value} else Outcome.ERROR
    return Outcome.PARTIAL


def _today() -> date:
    return datetime.now(UTC).date()


async def _log_quietly(state: Any, write_event: Any, entry: RequestRecord) -> None:
    """Events of refused requests: written in their own transaction; failure is logged."""
    try:
        async with state.sessionmaker() as session, session.begin():
            await write_event(session, entry)
    except Exception:
        log.exception("could not record a refused request in the access log")
