"""The one way to run a GraphQL operation, for HTTP, the command line and the tests.

    caller (principal, purpose) + document
      -> documents.prepare        parse and validate once per document (limits included)
      -> limits.check_cost        refuse over-cost documents before any SQL
      -> executor                 compiled (one statement, log inside it) for the queries it
                                  covers; resolver (Strawberry, the reference) for the rest
      -> access log               in the same transaction as the reads and writes
      -> COMMIT                   never cancelled by the request time-out; only then the
                                  answer leaves

The request record (`RequestRecord`) of every outcome is built here and nowhere else. A
request that fails before its log is committed answers 503 with no data, and its failure
is recorded in a short transaction of its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import orjson
from graphql import GraphQLError, OperationType
from graphql.execution.values import VariableValues, get_variable_values
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.audit.collector import AccessCollector
from server.audit.records import EventKind, Outcome, RequestRecord
from server.audit.service import write_access_log, write_event
from server.authz.access import AccessView
from server.authz.policy import CompiledPolicy
from server.authz.principal import Principal
from server.compiled.executor import CompiledExecutor, CredentialNotLive, GuardFailed
from server.compiled.planner import NotCompilable, Plan
from server.graphql.context import RequestContext
from server.graphql.errors import ErrorCode, error_payload, forbidden_payload, format_errors
from server.graphql.http import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, status_for
from server.graphql.introspection import filter_introspection, is_introspection
from server.graphql.limits import check_cost
from server.identity.confirmation import Confirmation
from server.observability import metrics, tracing
from server.operations import idempotency
from server.operations.documents import DocumentCache, PreparedDocument
from server.operations.failures import is_unavailable
from server.operations.trusted import Refusal, TrustedDocuments
from server.settings import Settings

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "2"
COST_CACHE_SIZE = 512
FAILURE_RECORD_TIMEOUT_SECONDS = 2.0


def document_hash(query: str, key: str) -> str:
    """Keyed, so that a value written literally into a query cannot be guessed back."""
    return hmac.new(key.encode(), query.encode(), hashlib.sha256).hexdigest()


def event_record(
    event: EventKind,
    *,
    outcome: Outcome = Outcome.OK,
    principal: str | None = None,
    organisation: str | None = None,
    roles: tuple[str, ...] = (),
    purpose: str | None = None,
    client_address: str | None = None,
    operation_name: str | None = None,
    operation_type: str | None = None,
    policy_version: str | None = None,
    detail: str | None = None,
    request_id: uuid.UUID | None = None,
    started: float | None = None,
) -> RequestRecord:
    """The record of an event that is not a GraphQL operation (a command, a policy reload):
    with `OperationRunner.record`, the only places a request record is made."""
    return RequestRecord(
        request_id=request_id or uuid.uuid4(),
        at=datetime.now(UTC),
        event=event,
        principal=principal,
        organisation=organisation,
        roles=roles,
        purpose=purpose,
        client_address=client_address,
        operation_name=operation_name,
        operation_type=operation_type,
        document_hash=None,
        policy_version=policy_version,
        outcome=outcome,
        duration_ms=0.0 if started is None else (time.perf_counter() - started) * 1000,
        detail=detail,
    )


@dataclass(slots=True)
class Operation:
    """One request to run a document: who asks, for which purpose, and what."""

    query: str
    principal: Principal | None
    purpose: str | None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)
    client_address: str | None = None
    media_type: str = APPLICATION_JSON
    event: EventKind = EventKind.GRAPHQL
    started: float = field(default_factory=time.perf_counter)
    idempotency_key: str | None = None  # mutations: a retry with the same key is answered once
    # What this request's transaction confirms of its credential (still live, the same
    # roles and organisation: server/identity/confirmation.py), or Unconfirmed is raised.
    confirmation: Confirmation | None = None
    # The principal was remembered from an earlier request, not authenticated by this one:
    # nothing is answered (not even a refusal) until the transaction has confirmed it.
    remembered: bool = False
    # Refused before it runs: an unknown or malformed document reference in the request.
    refusal: Refusal | None = None
    # A document of the service's own code (the security console's), never a client's:
    # the rules that require registered documents (server/operations/trusted.py) do not
    # apply to it. The HTTP endpoint never sets it.
    builtin: bool = False


@dataclass(slots=True)
class OperationResult:
    """The answer, already encoded: `body` is the response's bytes."""

    status: int
    body: bytes
    media_type: str
    outcome: Outcome
    executor: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        decoded: dict[str, Any] = orjson.loads(self.body)
        return decoded


class Unconfirmed(Exception):
    """The credential could not be confirmed (or, remembered, is not yet): nothing was
    written or answered. A remembered one is authenticated the full way and the operation
    runs again; one authenticated by this request has just ended (401)."""


@dataclass(slots=True)
class _Refusal:
    """A request refused before anything ran: its outcome, the log's detail and the answer."""

    outcome: Outcome
    detail: str
    errors: list[dict[str, Any]]
    status: int | None = None


@dataclass(slots=True)
class _Answer:
    """What an executor produced inside the transaction."""

    data_json: bytes  # the `data` member, JSON text
    errors: list[dict[str, Any]]
    outcome: Outcome
    executor: str
    request_error: bool = False


class OperationRunner:
    """Runs operations with the service's settings, schema, database and policy."""

    def __init__(
        self,
        *,
        settings: Settings,
        schema: Any,
        sessionmaker: async_sessionmaker[AsyncSession],
        driver_pool: asyncpg.Pool,
        policy: Callable[[], CompiledPolicy],
    ) -> None:
        self.settings = settings
        self.schema = schema
        self.graphql_schema = schema._schema
        self.sessionmaker = sessionmaker
        self.driver_pool = driver_pool  # the compiled executor's connections
        self.policy = policy
        self.documents = DocumentCache(self.graphql_schema)
        self.compiled = CompiledExecutor(self.graphql_schema, settings)
        self.trusted = TrustedDocuments.from_settings(settings)  # filled by trusted.start, .watch
        self._costs: OrderedDict[tuple[Any, ...], GraphQLError | None] = OrderedDict()

    # -- records ----------------------------------------------------------------------

    def record(
        self,
        operation: Operation,
        outcome: Outcome,
        *,
        policy_version: str | None = None,
        detail: str | None = None,
        executor: str | None = None,
        principal: Principal | None = None,
        purpose: str | None = None,
        operation_type: str | None = None,
        operation_name: str | None = None,
    ) -> RequestRecord:
        """The request record; the only place one is built for an operation."""
        who = principal or operation.principal
        prepared = self.documents.peek(operation.query)
        if prepared is None and operation.principal is not None:
            prepared = self.documents.prepare(operation.query)
        kind, name = prepared.operation_of(operation.operation_name) if prepared else (None, None)
        return RequestRecord(
            request_id=operation.request_id,
            at=datetime.now(UTC),
            event=operation.event,
            principal=who.log_ref if who else None,
            organisation=who.organisation_code if who else None,
            roles=who.roles if who else (),
            purpose=purpose or operation.purpose,
            client_address=operation.client_address,
            operation_name=operation_name or name or operation.operation_name,
            operation_type=operation_type or kind,
            document_hash=self.document_hash(operation.query, prepared),
            policy_version=policy_version or self.policy().version,
            outcome=outcome,
            duration_ms=(time.perf_counter() - operation.started) * 1000,
            detail=detail,
            executor=executor,
        )

    def document_hash(self, query: str, prepared: PreparedDocument | None) -> str:
        """The keyed hash of the document, computed once per document."""
        if prepared is None:
            return document_hash(query, self.settings.secret_key)
        if prepared.keyed_hash is None:
            prepared.keyed_hash = document_hash(query, self.settings.secret_key)
        return prepared.keyed_hash

    async def record_refusal(self, entry: RequestRecord) -> None:
        """An event in a short transaction of its own; a failure to write it is logged."""
        try:
            async with asyncio.timeout(FAILURE_RECORD_TIMEOUT_SECONDS):
                async with self.sessionmaker() as session, session.begin():
                    with tracing.span(tracing.LOG_WRITE):
                        await write_event(session, entry)
        except Exception:
            log.exception("could not record request %s in the access log", entry.request_id)

    async def refuse(self, operation: Operation, refusal: Refusal) -> OperationResult:
        """A request refused before it ran (server/operations/trusted.py): recorded, answered."""
        await self.record_refusal(self.record(operation, refusal.outcome, detail=refusal.detail))
        error = error_payload(refusal.code, refusal.message)
        result = self._refused(operation, [error], refusal.outcome, status=refusal.status)
        result.headers.update(refusal.headers)
        return result

    # -- answers ----------------------------------------------------------------------

    def _refused(
        self,
        operation: Operation,
        errors: list[dict[str, Any]],
        outcome: Outcome,
        *,
        status: int | None = None,
    ) -> OperationResult:
        """A request error: nothing ran (400 under graphql-response+json, else 200)."""
        request_id = str(operation.request_id)
        for error in errors:
            error.setdefault("extensions", {})["requestId"] = request_id
        payload: dict[str, Any] = {}
        if operation.media_type != GRAPHQL_RESPONSE_JSON and status is None:
            payload["data"] = None
        payload["errors"] = errors
        payload["extensions"] = {"requestId": request_id}
        status = status or status_for(operation.media_type, request_error=True)
        return OperationResult(status, orjson.dumps(payload), operation.media_type, outcome)

    def unavailable(self, operation: Operation) -> OperationResult:
        """The one answer for "the database (or the log) cannot be written"."""
        body = {
            "errors": [
                error_payload(
                    ErrorCode.SERVICE_UNAVAILABLE,
                    "The request could not be completed.",
                    requestId=str(operation.request_id),
                )
            ]
        }
        return OperationResult(
            503,
            orjson.dumps(body),
            "application/json",
            Outcome.ERROR,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )

    def _answered(self, operation: Operation, answer: _Answer, policy: str) -> OperationResult:
        pieces = [b'{"data":', answer.data_json]
        if answer.request_error and operation.media_type == GRAPHQL_RESPONSE_JSON:
            pieces = [b"{"]  # the operation did not run: no data member at all
        if answer.errors:
            pieces += [b',"errors":' if len(pieces) > 1 else b'"errors":']
            pieces.append(orjson.dumps(answer.errors))
        extensions = {
            "requestId": str(operation.request_id),
            "policyVersion": policy,
            "executor": answer.executor,
        }
        pieces += [b',"extensions":', orjson.dumps(extensions), b"}"]
        status = status_for(operation.media_type, request_error=answer.request_error)
        return OperationResult(
            status, b"".join(pieces), operation.media_type, answer.outcome, answer.executor
        )

    # -- running ----------------------------------------------------------------------

    async def run(self, operation: Operation) -> OperationResult:
        """Run an operation of an authenticated principal under an allowed purpose. With
        `operation.confirmation`, raises Unconfirmed unless the request's own transaction
        confirms the credential."""
        assert operation.principal is not None and operation.purpose is not None
        untrusted = operation.refusal
        if untrusted is None and not operation.builtin:
            untrusted = self.trusted.refusal(operation.principal, operation.query)
        if untrusted is not None:
            if operation.remembered:
                raise Unconfirmed  # refusals are answered to confirmed principals only
            return await self.refuse(operation, untrusted)
        policy = self.policy()
        with tracing.span(tracing.PARSE):
            prepared = self.documents.prepare(operation.query)
        refusal = self._refusal(operation, prepared)
        if refusal is not None:
            if operation.remembered:
                raise Unconfirmed  # refusals are answered to confirmed principals only
            await self.record_refusal(
                self.record(operation, refusal.outcome, detail=refusal.detail)
            )
            return self._refused(operation, refusal.errors, refusal.outcome, status=refusal.status)
        access = AccessView(policy, operation.principal, operation.purpose, _today())
        try:
            answer = await self._execute(operation, prepared, access, policy.version)
        except Unconfirmed:
            raise
        except Exception as exc:
            return await self._failed(operation, exc)
        if isinstance(answer, OperationResult):
            if answer.outcome is not Outcome.OK or "Idempotent-Replayed" in answer.headers:
                detail = "idempotent replay" if answer.status == 200 else "idempotency key reused"
                await self.record_refusal(self.record(operation, answer.outcome, detail=detail))
            return answer
        return self._answered(operation, answer, policy.version)

    def _refusal(self, operation: Operation, prepared: PreparedDocument) -> _Refusal | None:
        """Why the request must not run at all (checked without any I/O), or None."""
        detailed = self.settings.is_development
        if prepared.errors:
            errors = format_errors(prepared.errors, operation.request_id, detailed=detailed)
            return _Refusal(Outcome.ERROR, "invalid document", errors)
        if prepared.operation(operation.operation_name) is None:
            message = (
                f"Unknown operation {operation.operation_name!r}."
                if operation.operation_name
                else "The document has several operations: name one with operationName."
            )
            error = error_payload(ErrorCode.BAD_USER_INPUT, message, field="operationName")
            return _Refusal(Outcome.ERROR, "unknown operation", [error])
        if is_introspection(operation.query) and not self.settings.introspection_enabled:
            error = error_payload(ErrorCode.QUERY_REJECTED, "The query is not valid for this API.")
            return _Refusal(Outcome.DENIED, "introspection off", [error], status=400)
        too_costly = self._cost_refusal(operation, prepared)
        if too_costly is not None:
            errors = format_errors([too_costly], operation.request_id, detailed=detailed)
            return _Refusal(Outcome.DENIED, "query too complex", errors)
        return None

    async def _failed(self, operation: Operation, exc: Exception) -> OperationResult:
        """A request that failed before its access log was committed: 503, recorded."""
        reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
        if not is_unavailable(exc) and not isinstance(exc, TimeoutError):
            log.exception(
                "request %s failed before its access log was committed", operation.request_id
            )
        else:
            log.warning("request %s failed: %s", operation.request_id, reason)
        await self.record_refusal(self.record(operation, Outcome.ERROR, detail=f"failed: {reason}"))
        return self.unavailable(operation)

    def _cost_refusal(
        self, operation: Operation, prepared: PreparedDocument
    ) -> GraphQLError | None:
        """The cost limit's verdict, cached per document, operation and variables."""
        key = (prepared.key, operation.operation_name, _variables_key(operation))
        if key in self._costs:
            self._costs.move_to_end(key)
            return self._costs[key]
        verdict = check_cost(
            self.graphql_schema,
            prepared.document,
            operation.operation_name,
            operation.variables,
            settings=self.settings,
        )
        self._costs[key] = verdict
        if len(self._costs) > COST_CACHE_SIZE:
            self._costs.popitem(last=False)
        return verdict

    async def _execute(
        self,
        operation: Operation,
        prepared: PreparedDocument,
        access: AccessView,
        policy_version: str,
    ) -> _Answer | OperationResult:
        """The compiled executor for the queries it covers, else the resolver executor."""
        definition = prepared.operation(operation.operation_name)
        assert definition is not None
        if (
            definition.operation is OperationType.QUERY
            and self.settings.read_executor == "compiled"
            and not is_introspection(operation.query)
        ):
            compiled = await self._try_compiled(operation, prepared, access)
            if compiled is not None:
                return compiled
        keyed = operation.idempotency_key is not None and (
            definition.operation is OperationType.MUTATION
        )
        return await self._in_transaction(
            operation, access, definition.operation, policy_version, keyed
        )

    async def _in_transaction(
        self,
        operation: Operation,
        access: AccessView,
        kind: OperationType,
        policy_version: str,
        keyed: bool,
    ) -> _Answer | OperationResult:
        """The resolver executor: execute and log under the request time-out; then COMMIT
        outside it. A mutation sent with an Idempotency-Key is answered once: a retry gets
        the first answer."""
        session = self.sessionmaker()
        try:
            await session.begin()
            try:
                async with asyncio.timeout(self.settings.request_timeout_seconds):
                    await _confirm(session, operation.confirmation)
                    if keyed:
                        earlier = await idempotency.earlier_answer(session, operation)
                        if earlier is not None:
                            await _rollback_quietly(session)  # nothing is written again
                            return earlier
                    answer = await self._resolver(session, operation, access, kind)
                    result: _Answer | OperationResult = answer
                    if keyed:
                        result = self._answered(operation, answer, policy_version)
                        await idempotency.remember(session, operation, result)
            except BaseException:
                await _rollback_quietly(session)
                raise
            # The COMMIT is not under the time-out: once it starts, the request ends with
            # its real outcome (a cancelled COMMIT may still have committed).
            with tracing.span(tracing.COMMIT):
                await asyncio.shield(session.commit())
            return result
        finally:
            await asyncio.shield(session.close())

    async def _try_compiled(
        self,
        operation: Operation,
        prepared: PreparedDocument,
        access: AccessView,
    ) -> _Answer | None:
        """One statement, its own transaction: the reads, the credential's confirmation
        and the log records commit together. None: the resolver executor answers."""
        with tracing.span(tracing.PLAN):
            plan = self._plan(operation, prepared, access)
        if plan is None:
            return None
        record = self.record(operation, Outcome.OK, executor="compiled")
        try:
            # A read has no COMMIT of its own to protect: if the time-out cancels the
            # statement as it commits, the log holds a read that was not answered (the log
            # may say more than was read, never less).
            async with asyncio.timeout(self.settings.request_timeout_seconds):
                async with metrics.pooled(
                    self.driver_pool, self.settings.pool_timeout_seconds
                ) as connection:
                    answer = await self.compiled.execute(
                        connection,
                        document_key=prepared.key,
                        plan=plan,
                        access=access,
                        record=record,
                        confirmation=operation.confirmation,
                    )
        except CredentialNotLive:
            raise Unconfirmed from None
        except GuardFailed:
            return None  # nothing was written; the resolver path answers
        except NotCompilable:
            return None  # a gap in the compiler: the resolver path answers
        outcome = Outcome.PARTIAL if answer.errors else Outcome.OK
        return _Answer(answer.data.encode(), answer.errors, outcome, "compiled")

    def _plan(
        self, operation: Operation, prepared: PreparedDocument, access: AccessView
    ) -> Plan | None:
        """The compiled plan of this request (cached), or None if it does not compile."""
        definition = prepared.operation(operation.operation_name)
        assert definition is not None
        cache_key = (prepared.key, operation.operation_name, _variables_key(operation))
        try:
            plan = self.compiled.cached_plan(cache_key, access)
            if plan is not None:
                return plan
            coerced = get_variable_values(
                self.graphql_schema,
                definition.variable_definitions or (),
                operation.variables or {},
            )
            if not isinstance(coerced, VariableValues):
                return None  # the resolver path reports the variables' errors
            return self.compiled.plan(
                operation=definition,
                fragments=prepared.fragments,
                variables=coerced,
                access=access,
                cache_key=cache_key,
            )
        except NotCompilable:
            return None

    async def _resolver(
        self,
        session: AsyncSession,
        operation: Operation,
        access: AccessView,
        kind: OperationType,
    ) -> _Answer:
        principal = operation.principal
        assert principal is not None and operation.purpose is not None
        ctx = RequestContext(
            settings=self.settings,
            session=session,
            principal=principal,
            access=access,
            request_id=operation.request_id,
            client_address=operation.client_address,
            collector=AccessCollector(),
        )
        savepoint = await session.begin_nested() if kind is OperationType.MUTATION else None
        with tracing.span(tracing.RESOLVE):
            result = await self.schema.execute(
                operation.query,
                variable_values=operation.variables,
                context_value=ctx,
                operation_name=operation.operation_name,
            )
        for error in result.errors or ():
            if error.original_error is not None and is_unavailable(error.original_error):
                raise error.original_error
        if savepoint is not None:
            # A mutation that reported any error writes nothing; its log record stays.
            await (savepoint.rollback() if result.errors else savepoint.commit())
        errors = format_errors(
            result.errors or [], operation.request_id, detailed=self.settings.is_development
        )
        errors.extend(
            forbidden_payload(c, operation.purpose)
            for c in sorted(ctx.collector.denied_coordinates)
        )
        outcome = _outcome(result.data, errors)
        with tracing.span(tracing.LOG_WRITE):
            await write_access_log(
                session,
                self.record(operation, outcome, executor="resolver"),
                ctx.collector.objects,
            )
        data = result.data
        if data is not None and is_introspection(operation.query):
            data = filter_introspection(
                data,
                access,
                document=operation.query,
                operation_name=operation.operation_name,
                variables=operation.variables,
            )
        request_error = (
            data is None
            and bool(result.errors)
            and all(e.path is None for e in result.errors or ())
        )
        return _Answer(orjson.dumps(data), errors, outcome, "resolver", request_error)


def _variables_key(operation: Operation) -> bytes:
    return orjson.dumps(operation.variables or {}, option=orjson.OPT_SORT_KEYS)


def _outcome(data: Any, errors: list[dict[str, Any]]) -> Outcome:
    if not errors:
        return Outcome.OK
    codes = {e.get("extensions", {}).get("code") for e in errors}
    if data is None:
        return Outcome.DENIED if codes == {ErrorCode.FORBIDDEN.value} else Outcome.ERROR
    return Outcome.PARTIAL


def _today() -> date:
    return datetime.now(UTC).date()


async def _confirm(session: AsyncSession, confirmation: Confirmation | None) -> None:
    """Confirm a remembered credential as the transaction's first statement."""
    if confirmation is None:
        return
    sql, values = confirmation.numbered()
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if not await driver.fetchval(sql, *values):
        raise Unconfirmed


async def _rollback_quietly(session: AsyncSession) -> None:
    try:
        async with asyncio.timeout(FAILURE_RECORD_TIMEOUT_SECONDS):
            await asyncio.shield(session.rollback())
    except Exception:
        log.warning("rollback failed; the connection is discarded")
