"""The compiled read executor: plan, compile (cached), run one statement, pass the bytes on.

A statement is cached per (document, operation, roles, purpose, policy version, plan key);
a policy reload changes the version, so old statements are never used again and age out
of the LRU. Registered (trusted) documents are pinned: their plans and statements are kept
apart from the LRU (server/compiled/cache.py). Variables, the scope's organisation, date and purpose, and the log record are
parameters of the statement, never spliced into its text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import asyncpg
from graphql import FragmentDefinitionNode, GraphQLSchema, OperationDefinitionNode
from graphql.execution.values import VariableValues

from server.audit.records import RequestRecord
from server.audit.service import request_parameters
from server.authz.access import AccessView
from server.authz.principal import PrincipalKind
from server.compiled.cache import PinnableCache
from server.compiled.planner import NotCompilable, Plan, plan_operation
from server.compiled.sqlgen import CompiledStatement, compile_plan, concrete_env
from server.graphql.errors import forbidden_payload
from server.identity.confirmation import Confirmation
from server.observability import tracing
from server.settings import Settings

log = logging.getLogger(__name__)

CACHE_SIZE = 512


class GuardFailed(NotCompilable):
    """A cursor is outside the row scope: the statement wrote nothing, and the resolver
    executor answers (with its error)."""


class CredentialNotLive(Exception):
    """The principal's credential is no longer live as remembered: the statement wrote
    nothing and its answer is not used."""


@dataclass(slots=True)
class CompiledAnswer:
    """The `data` object as JSON text, and the FORBIDDEN errors of the denied coordinates
    of objects that were returned."""

    data: str
    errors: list[dict[str, Any]]
    outcome: str


class CompiledExecutor:
    def __init__(self, schema: GraphQLSchema, settings: Settings) -> None:
        self.schema = schema
        self.settings = settings
        self._statements: PinnableCache[CompiledStatement] = PinnableCache(CACHE_SIZE)
        self._plans: PinnableCache[Plan | NotCompilable] = PinnableCache(CACHE_SIZE)
        self.executions = 0  # statements run (read by tests and benchmarks)

    def plan(
        self,
        *,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
        access: AccessView,
        cache_key: tuple[Any, ...] | None = None,
    ) -> Plan:
        """Raises NotCompilable when the resolver executor must answer. Plans depend on the
        document, the variables, the roles, the purpose and the policy version only, so a
        `cache_key` made of those lets the same request skip planning."""
        key = None
        if cache_key is not None:
            key = self._plan_key(cache_key, access)
            cached = self.cached_plan(cache_key, access)
            if cached is not None:
                return cached
        try:
            plan: Plan | NotCompilable = plan_operation(
                schema=self.schema,
                operation=operation,
                fragments=fragments,
                variables=variables,
                access=access,
                settings=self.settings,
            )
        except NotCompilable as refusal:
            plan = refusal
        if key is not None:
            self._plans.put(key, plan)
        if isinstance(plan, NotCompilable):
            raise plan
        return plan

    @staticmethod
    def _plan_key(cache_key: tuple[Any, ...], access: AccessView) -> tuple[Any, ...]:
        return (*cache_key, access.principal.roles, access.purpose, access.policy_version)

    def cached_plan(self, cache_key: tuple[Any, ...], access: AccessView) -> Plan | None:
        """The plan made earlier for the same request, if any (NotCompilable if it could
        not be compiled), without coercing the variables again."""
        cached = self._plans.get(self._plan_key(cache_key, access))
        if cached is None:
            return None
        if isinstance(cached, NotCompilable):
            raise cached
        return cached

    def statement(
        self,
        document_key: str,
        plan: Plan,
        access: AccessView,
        confirm: PrincipalKind | None = None,
    ) -> CompiledStatement:
        key = (
            document_key,
            access.principal.roles,
            access.purpose,
            access.policy_version,
            plan.key,
            confirm,
        )
        statement = self._statements.get(key)
        if statement is None:
            try:
                statement = compile_plan(plan, schema=self.schema, access=access, confirm=confirm)
            except Exception as exc:  # a gap in the compiler: the reference path answers
                log.exception("could not compile a plan; the resolver executor answers")
                raise NotCompilable("compiler error") from exc
            self._statements.put(key, statement)
        return statement

    def pin(self, document_key: str) -> None:
        """Keep the plans and statements of a registered document out of the LRU."""
        self._plans.pin(document_key)
        self._statements.pin(document_key)

    def unpin(self, document_key: str) -> None:
        self._plans.unpin(document_key)
        self._statements.unpin(document_key)

    def pinned_plans(self, document_key: str) -> dict[tuple[Any, ...], Plan | NotCompilable]:
        """The plans kept for a registered document (for tests and diagnostics)."""
        return self._plans.pinned(document_key)

    async def execute(
        self,
        connection: asyncpg.Connection,
        *,
        document_key: str,
        plan: Plan,
        access: AccessView,
        record: RequestRecord,
        confirmation: Confirmation | None = None,
    ) -> CompiledAnswer:
        """Runs the one statement, a transaction of its own (reads and log records commit
        together). CredentialNotLive or GuardFailed when a guard says nothing was written
        and another path must answer."""
        confirm = confirmation.kind if confirmation is not None else None
        statement = self.statement(document_key, plan, access, confirm)
        log_values: dict[str, Any] = request_parameters(record)
        log_values["executor"] = "compiled"
        log_values["field_sets"] = statement.field_sets_text
        live = confirmation.values if confirmation is not None else None
        values = statement.bind(plan.parameters, concrete_env(access), log_values, live)
        with tracing.span(tracing.SQL):
            row = await connection.fetchrow(statement.sql, *values)
        self.executions += 1
        if not row["live"]:
            raise CredentialNotLive("credential")
        if not row["ok"]:
            raise GuardFailed("guard")
        coordinates = statement.denied_coordinates(row["touched"] or ())
        errors = [forbidden_payload(c, access.purpose) for c in coordinates]
        return CompiledAnswer(row["data"], errors, "partial" if errors else "ok")
