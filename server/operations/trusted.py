"""Trusted documents: GraphQL documents registered with `rekisteri operations add` and
called by the SHA-256 of their text.

    request body  --document_text-->  the document's text, or a Refusal
        {"documentId": "sha256:<hex>"}                       a registered document
        {"extensions": {"persistedQuery": {"version": 1,     Apollo's persisted query: a
            "sha256Hash": "<hex>"}}}                         registered document
        {"query": "..."}                                     an ad-hoc document
    principal + text  --TrustedDocuments.refusal-->  None, or a Refusal when a rule
                                                     (TRUSTED_DOCUMENTS_REQUIRED_*) requires
                                                     a registered document

A client never registers anything: Apollo's automatic registration (a query sent with its
hash) only runs the query as an ad-hoc document. The registry is an in-memory map, loaded
at start and reloaded when the table's set of keys changes (`watch` compares a fingerprint
every TRUSTED_DOCUMENTS_RELOAD_INTERVAL_SECONDS), so no request asks the database about
documents. A registered document is kept ready: parsed and validated in the runner's
document cache as soon as it is loaded, and planned and compiled for every role and
purpose in the compiled executor's caches (in the background, `plan_pending`), pinned
apart from the entries ad-hoc documents churn.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from graphql import OperationType
from graphql.execution.values import VariableValues, get_variable_values

from server.audit.records import Outcome
from server.authz.access import AccessView
from server.authz.principal import Principal, PrincipalKind
from server.compiled.planner import NotCompilable
from server.db.session import driver_connection
from server.graphql.errors import ErrorCode
from server.graphql.introspection import is_introspection
from server.settings import Settings

if TYPE_CHECKING:
    from server.operations.documents import PreparedDocument
    from server.operations.runner import OperationRunner

log = logging.getLogger(__name__)

SHA256_PREFIX = "sha256:"
APQ_VERSION = 1
EVERYONE = "*"
_HEX64 = re.compile(r"[0-9a-f]{64}")
# The variables key of a request without variables (the runner's plan-cache key).
NO_VARIABLES = b"{}"
# Apollo's answer to an unknown persisted query must not be cached by a CDN.
NOT_FOUND_HEADERS = {"Cache-Control": "private, no-cache, must-revalidate"}

# The set of registered keys in one value: the table is small, its keys index-only.
FINGERPRINT = (
    "SELECT count(*)::text || ':' || coalesce(md5(string_agg(sha256, ',' ORDER BY sha256)), '') "
    "FROM trusted_document"
)
DOCUMENTS = "SELECT sha256, document FROM trusted_document"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request refused before it ran: the error the client gets and the access log's
    detail (which never holds the document or its plain hash)."""

    code: ErrorCode
    message: str
    detail: str
    outcome: Outcome = Outcome.ERROR
    status: int | None = None  # None: the runner's rule (200, or 400 for graphql-response+json)
    headers: Mapping[str, str] = field(default_factory=dict)


def sha256_hex(document: str) -> str:
    """The registered key of a document: the SHA-256 of its exact text (UTF-8)."""
    return hashlib.sha256(document.encode()).hexdigest()


def document_id(sha256: str) -> str:
    return SHA256_PREFIX + sha256


def _bad_request(message: str) -> Refusal:
    return Refusal(ErrorCode.BAD_REQUEST, message, "bad document reference", status=400)


class TrustedDocuments:
    """The registered documents (by SHA-256) and the rules that require them."""

    def __init__(self, *, required_roles: Iterable[str] = (), api_keys: bool = False) -> None:
        self.required_roles = frozenset(required_roles)
        self.required_for_api_keys = api_keys
        self._enforced = bool(self.required_roles) or api_keys
        self._texts: dict[str, str] = {}
        self.fingerprint: str | None = None  # of the table's keys when last loaded
        self.policy_version: str | None = None  # the policy the plans were made for
        self.pending: set[str] = set()  # loaded, not planned yet

    @classmethod
    def from_settings(cls, settings: Settings) -> TrustedDocuments:
        return cls(
            required_roles=settings.trusted_documents_required_roles,
            api_keys=settings.trusted_documents_required_for_api_keys,
        )

    def __len__(self) -> int:
        return len(self._texts)

    def __contains__(self, sha256: object) -> bool:
        return sha256 in self._texts

    def text(self, sha256: str) -> str | None:
        return self._texts.get(sha256)

    def texts(self) -> dict[str, str]:
        return dict(self._texts)

    def replace(self, texts: Mapping[str, str], fingerprint: str | None) -> None:
        self._texts = dict(texts)
        self.fingerprint = fingerprint

    def unknown_roles(self, defined: Iterable[str]) -> list[str]:
        """Required roles the policy does not define (a typo would require nothing)."""
        return sorted(self.required_roles - set(defined) - {EVERYONE})

    def rule_for(self, principal: Principal) -> str | None:
        """The setting that requires this principal to run registered documents, if any."""
        if not self._enforced:
            return None
        if self.required_for_api_keys and principal.kind is PrincipalKind.API_KEY:
            return "TRUSTED_DOCUMENTS_REQUIRED_FOR_API_KEYS"
        if EVERYONE in self.required_roles:
            return "TRUSTED_DOCUMENTS_REQUIRED_ROLES (*)"
        for role in principal.roles:
            if role in self.required_roles:
                return f"TRUSTED_DOCUMENTS_REQUIRED_ROLES ({role})"
        return None

    def refusal(self, principal: Principal, document: str) -> Refusal | None:
        """A refusal when a rule requires a registered document and this one is not."""
        rule = self.rule_for(principal)
        if rule is None or sha256_hex(document) in self._texts:
            return None
        return Refusal(
            ErrorCode.TRUSTED_DOCUMENT_REQUIRED,
            f"Only registered documents may be run by this caller (rule: {rule}). Send the "
            '"documentId" ("sha256:" and the SHA-256 of its text) of a document registered '
            "with `rekisteri operations add`.",
            f"trusted document required: {rule}",
            outcome=Outcome.DENIED,
            status=403,
        )

    def document_text(self, body: Mapping[str, Any]) -> str | Refusal:
        """The text of the document a request body names (`read_body` checked its shape)."""
        query = body.get("query")
        persisted = _persisted_query(body)
        if "documentId" in body:
            if query is not None or persisted is not None:
                return _bad_request(
                    "Send one of query, documentId and extensions.persistedQuery, not several."
                )
            return self._by_document_id(body["documentId"])
        if persisted is not None:
            return self._by_persisted_query(persisted, query)
        if isinstance(query, str):
            return query
        return _bad_request("Expected a query or a documentId.")

    def _by_document_id(self, value: object) -> str | Refusal:
        sha256 = _parse_document_id(value)
        if sha256 is None:
            return _bad_request('documentId must be "sha256:" followed by 64 hexadecimal digits.')
        return self._registered(sha256, "No registered document has this documentId.")

    def _by_persisted_query(self, persisted: object, query: object) -> str | Refusal:
        if not isinstance(persisted, Mapping) or persisted.get("version") != APQ_VERSION:
            return _bad_request("Unsupported persisted query version (only version 1).")
        sha256 = persisted.get("sha256Hash")
        sha256 = sha256.lower() if isinstance(sha256, str) else None
        if sha256 is None or not _HEX64.fullmatch(sha256):
            return _bad_request("persistedQuery.sha256Hash must be 64 hexadecimal digits.")
        if isinstance(query, str):
            # Apollo's automatic registration: the query runs as an ad-hoc document and is
            # never stored; only `rekisteri operations add` registers documents.
            if sha256_hex(query) != sha256:
                return _bad_request("The provided sha256Hash does not match the query.")
            return query
        return self._registered(sha256, "PersistedQueryNotFound")

    def _registered(self, sha256: str, message: str) -> str | Refusal:
        found = self._texts.get(sha256)
        if found is not None:
            return found
        return Refusal(
            ErrorCode.PERSISTED_QUERY_NOT_FOUND,
            message,
            "unknown document id",
            headers=NOT_FOUND_HEADERS,
        )


def _persisted_query(body: Mapping[str, Any]) -> object | None:
    extensions = body.get("extensions")
    if isinstance(extensions, Mapping):
        return extensions.get("persistedQuery")
    return None


def _parse_document_id(value: object) -> str | None:
    """The hex digest of a "sha256:<hex>" document ID (any case), else None."""
    if not isinstance(value, str) or not value.startswith(SHA256_PREFIX):
        return None
    sha256 = value[len(SHA256_PREFIX) :].lower()
    return sha256 if _HEX64.fullmatch(sha256) else None


def parse_document_reference(value: str) -> str | None:
    """A document ID as an operator writes it: "sha256:<hex>" or the bare hex digest."""
    return _parse_document_id(value if value.startswith(SHA256_PREFIX) else SHA256_PREFIX + value)


# -- keeping the registry and the caches in step with the table ----------------------------


async def refresh(runner: OperationRunner) -> bool:
    """Load what changed, then plan what waits; True when the documents or policy changed."""
    changed = await load(runner)
    await plan_pending(runner)
    return changed


async def load(runner: OperationRunner) -> bool:
    """Reload the registered documents if the table's keys changed: new ones are parsed,
    validated and pinned at once, and wait to be planned, as every document does after a
    policy change; removed ones leave the caches. True when anything changed."""
    registry = runner.trusted
    async with runner.sessionmaker() as session:
        driver = await driver_connection(session)
        fingerprint = await driver.fetchval(FINGERPRINT)
        changed = fingerprint != registry.fingerprint
        rows = await driver.fetch(DOCUMENTS) if changed else []
    policy_version, planned_for = runner.policy().version, registry.policy_version
    if not changed and policy_version == planned_for:
        return False
    before = registry.texts()
    after = {row["sha256"]: row["document"] for row in rows} if changed else before
    for sha256 in before.keys() - after.keys():
        runner.documents.unpin(before[sha256])
        runner.compiled.unpin(sha256)
    registry.replace(after, fingerprint)
    registry.policy_version = policy_version
    fresh = after.keys() if policy_version != planned_for else after.keys() - before.keys()
    for sha256 in fresh:
        runner.documents.pin(after[sha256])
        runner.compiled.unpin(sha256)  # plans for an older policy go
        runner.compiled.pin(sha256)
    registry.pending = (registry.pending & after.keys()) | fresh
    log.info("%d registered documents (policy %s)", len(after), policy_version)
    return True


async def plan_pending(runner: OperationRunner) -> None:
    """Plan and compile the documents waiting for it, one (role, purpose) at a time with
    the event loop free in between: each takes milliseconds, a document some hundred."""
    registry = runner.trusted
    while registry.pending:
        sha256 = min(registry.pending)
        registry.pending.discard(sha256)
        document = registry.text(sha256)
        for _ in plan_document(runner, document) if document is not None else ():
            await asyncio.sleep(0)


async def start(runner: OperationRunner) -> None:
    """Check the rules against the policy and load the registered documents (planned by
    `watch` in the background). A required role the policy does not define stops the start
    (a typo would require nothing); a database that does not answer yet leaves the registry
    empty until `watch` loads it."""
    unknown = runner.trusted.unknown_roles(runner.policy().roles)
    if unknown:
        raise ValueError(
            "TRUSTED_DOCUMENTS_REQUIRED_ROLES names roles the policy does not define: "
            + ", ".join(unknown)
        )
    try:
        await load(runner)
    except Exception as exc:
        log.warning("registered documents not loaded yet: %s", type(exc).__name__)


async def watch(runner: OperationRunner, interval: float) -> None:
    """Plan what `start` loaded, then reload and plan every `interval` seconds; a failure
    keeps the documents loaded before."""
    while True:
        try:
            await plan_pending(runner)
            await asyncio.sleep(interval)
            await load(runner)
        except Exception as exc:
            log.warning("could not reload the registered documents: %s", type(exc).__name__)


def plan_document(runner: OperationRunner, document: str) -> Iterator[int]:
    """Plan and compile each query of a registered document for every role and purpose the
    policy grants (with no variables), yielding the plans made per (role, purpose). An
    operation that needs variables is planned at its first call, and kept as well."""
    prepared = runner.documents.pin(document)
    if prepared.errors or runner.settings.read_executor != "compiled":
        return
    if is_introspection(document):
        return
    policy = runner.policy()
    today = datetime.now(UTC).date()
    for role, purpose in sorted(policy.grants):
        access = AccessView(policy, _planning_principal(role), purpose, today)
        yield _plan_queries(runner, prepared, access)


def _plan_queries(runner: OperationRunner, prepared: PreparedDocument, access: AccessView) -> int:
    made = 0
    single = len(prepared.operations) == 1
    for definition in prepared.operations:
        if definition.operation is not OperationType.QUERY:
            continue
        variables = get_variable_values(
            runner.graphql_schema, definition.variable_definitions or (), {}
        )
        if not isinstance(variables, VariableValues):
            continue
        name = definition.name.value if definition.name else None
        # A client may name the operation or, when it is the only one, leave it out.
        for operation_name in {name, None} if single else {name}:
            try:
                plan = runner.compiled.plan(
                    operation=definition,
                    fragments=prepared.fragments,
                    variables=variables,
                    access=access,
                    cache_key=(prepared.key, operation_name, NO_VARIABLES),
                )
                for confirm in PrincipalKind:  # as a user's request and as an API key's
                    runner.compiled.statement(prepared.key, plan, access, confirm)
            except NotCompilable:
                continue
            made += 1
    return made


def _planning_principal(role: str) -> Principal:
    """A principal holding one role: plans depend on the roles, purpose and policy only."""
    return Principal(
        kind=PrincipalKind.USER,
        id=uuid.UUID(int=0),
        name="",
        organisation_id=uuid.UUID(int=0),
        organisation_code="",
        roles=(role,),
    )
