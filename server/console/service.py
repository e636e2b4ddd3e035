"""The console's business: reload and seal status, policy diffs, and the access-log search.

The search runs as GraphQL operations of the logged-in principal through the operation
runner, like any other request: the policy decides what it returns (`accessLog` needs a
row scope on AccessLogEntry and read rights on its fields), and the runner writes the
search's own access-log record, with every log entry and object it returned, in the same
transaction. A customer number is turned into the customer's ID by a second operation
(`customers` filtered by number), logged the same way.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.audit.records import EventKind
from server.audit.signing import keyring_for
from server.audit.verify import verification_verdict
from server.authz.diff import RevisionError, diff, policy_at_revision
from server.authz.policy import CompiledPolicy, PolicyError, load_policy, policy_version
from server.authz.policy_tests import load_tested_policy
from server.authz.store import PolicyStore, ReloadFailure
from server.console.auth import ConsoleUser
from server.graphql.globalid import decode_id
from server.identity.users import principal_names, user_by_username
from server.operations.runner import Operation, OperationRunner
from server.settings import Settings

PAGE_SIZE = 25
# A request's objects are read when it is opened (one more logged search, by its ID), so a
# page of requests reads only the request rows and the log records only what was shown.
OBJECTS_OF_ONE_REQUEST = 500
UNSEALED_COUNT_LIMIT = 1_000_000
MAX_TEXT = 200

SEARCH_DOCUMENT = """
query ConsoleAccessLogSearch(
  $filter: AccessLogFilter!, $first: Int!, $after: String, $objects: Int!,
  $withObjects: Boolean!
) {
  accessLog(first: $first, after: $after, filter: $filter) {
    edges {
      node {
        id at requestId event principal organisation roles purpose clientAddress
        operationName operationType policyVersion outcome durationMs detail objectCount
        objects(first: $objects) @include(if: $withObjects) {
          typeName objectId subjectCustomerId subjectProspectId operation
          fieldsRead fieldsMasked fieldsDenied
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

CUSTOMER_DOCUMENT = """
query ConsoleCustomerNumber($number: Int!) {
  customers(first: 1, filter: {customerNumber: $number}) {
    edges { node { id customerNumber } }
  }
}
"""


# -- reload status ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReloadStatus:
    version: str
    loaded_at: datetime
    disk_version: str | None  # None: the files cannot be read
    failure: ReloadFailure | None

    @property
    def disk_matches(self) -> bool:
        return self.disk_version == self.version


def reload_status(*, store: PolicyStore) -> ReloadStatus:
    try:
        on_disk: str | None = policy_version(store.directory)
    except OSError:
        on_disk = None
    return ReloadStatus(store.current.version, store.loaded_at, on_disk, store.last_failure)


# -- seal status -----------------------------------------------------------------------

SEAL_STATUS = text("SELECT * FROM access_log_seal_status(:limit)")


@dataclass(frozen=True, slots=True)
class Verification:
    at: datetime
    result: str
    full: bool
    rows_checked: int
    batch_no: int
    by: str | None
    signature: str  # valid, bad_signature, unknown_key, ...


@dataclass(frozen=True, slots=True)
class SealStatus:
    batch_no: int | None
    last_sealed_seq: int | None
    sealed_at: datetime | None
    key_id: str | None
    last_issued_seq: int
    unsealed_rows: int
    unsealed_capped: bool  # the count stopped at UNSEALED_COUNT_LIMIT per table
    oldest_unsealed_at: datetime | None
    verification: Verification | None


async def seal_status(
    *, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> SealStatus:
    async with sessionmaker() as session, session.begin():
        result = await session.execute(SEAL_STATUS, {"limit": UNSEALED_COUNT_LIMIT})
        row = dict(result.mappings().one())
    return SealStatus(
        batch_no=row["batch_no"],
        last_sealed_seq=row["last_sealed_seq"],
        sealed_at=row["sealed_at"],
        key_id=row["seal_key_id"],
        last_issued_seq=int(row["last_issued_seq"]),
        unsealed_rows=int(row["unsealed_rows"]),
        unsealed_capped=int(row["unsealed_rows"]) >= UNSEALED_COUNT_LIMIT,
        oldest_unsealed_at=row["oldest_unsealed_at"],
        verification=_verification(row, settings),
    )


def _verification(row: Mapping[str, Any], settings: Settings) -> Verification | None:
    if row["verified_at"] is None:
        return None
    values = {
        "at": row["verified_at"],
        "batch_no": row["verified_batch_no"],
        "last_seq": row["verified_last_seq"],
        "merkle_root": row["verified_root"],
        "full_check": row["verification_full"],
        "rows_checked": row["verification_rows"],
        "result": row["verification_result"],
        "principal": row["verification_principal"],
        "key_id": row["verification_key_id"],
        "signature": row["verification_signature"],
    }
    try:
        verdict = str(verification_verdict(values, keyring_for(settings)))
    except ValueError:
        verdict = "no key to check it with"
    return Verification(
        at=values["at"],
        result=values["result"],
        full=bool(values["full_check"]),
        rows_checked=int(values["rows_checked"]),
        batch_no=int(values["batch_no"]),
        by=values["principal"],
        signature=verdict,
    )


# -- diff ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicyDiff:
    """What each role gains and loses from `old` to `new`, or why one side does not load."""

    old_label: str
    new_label: str
    old_version: str | None = None
    new_version: str | None = None
    changes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def gains(self) -> int:
        return sum(1 for line in self.changes if line.startswith("+"))

    @property
    def losses(self) -> int:
        return sum(1 for line in self.changes if line.startswith("-"))


async def diff_with_disk(*, store: PolicyStore) -> PolicyDiff:
    """The running policy -> the files on disk (what the next reload would change)."""
    running = store.current
    labels = ("running", "files on disk")
    try:
        on_disk = await asyncio.to_thread(load_tested_policy, store.directory, store.catalogue)
    except PolicyError as exc:
        return PolicyDiff(*labels, running.version, problems=tuple(exc.problems))
    return _compared(labels, running, on_disk)


async def diff_with_revision(*, store: PolicyStore, revision: str) -> PolicyDiff:
    """The policy at a git revision -> the running policy (what an edit changes before it
    is committed)."""
    labels = (f"git {revision}", "running")
    try:
        old = await asyncio.to_thread(_load_revision, revision, store)
    except (RevisionError, PolicyError) as exc:
        problems = exc.problems if isinstance(exc, PolicyError) else [str(exc)]
        return PolicyDiff(*labels, new_version=store.current.version, problems=tuple(problems))
    return _compared(labels, old, store.current)


def _load_revision(revision: str, store: PolicyStore) -> CompiledPolicy:
    with tempfile.TemporaryDirectory() as tmp:
        policy_at_revision(revision, store.directory, Path(tmp))
        return load_policy(Path(tmp), store.catalogue)


def _compared(labels: tuple[str, str], old: CompiledPolicy, new: CompiledPolicy) -> PolicyDiff:
    return PolicyDiff(*labels, old.version, new.version, tuple(diff(old, new)))


# -- access-log search -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogQuery:
    """A search as typed into the form, checked; `problems` name the field and the reason."""

    customer_number: int | None = None
    principal: str = ""
    organisation: str = ""
    purpose: str = ""
    request_id: str = ""
    start: datetime | None = None
    end: datetime | None = None
    after: str = ""
    form: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(v.strip() for k, v in self.form.items() if k != "after")


FORM_FIELDS = ("customer", "principal", "organisation", "purpose", "request", "from", "to")


def parse_log_query(params: Mapping[str, str], purposes: Mapping[str, str]) -> LogQuery:
    form = {name: params.get(name, "").strip()[:MAX_TEXT] for name in (*FORM_FIELDS, "after")}
    problems: dict[str, str] = {}
    number = None
    if form["customer"]:
        if form["customer"].isdigit() and len(form["customer"]) <= 9:
            number = int(form["customer"])
        else:
            problems["customer"] = "a customer number has 1 to 9 digits"
    if form["purpose"] and form["purpose"] not in purposes:
        problems["purpose"] = "not a purpose of the policy"
    if form["request"] and not _is_uuid(form["request"]):
        problems["request"] = "a request ID is a UUID, as in a response's extensions.requestId"
    start, end = _moment(form, "from", problems), _moment(form, "to", problems)
    if start is not None and end is not None and start >= end:
        problems["to"] = "must be after from"
    return LogQuery(
        customer_number=number,
        principal=form["principal"],
        organisation=form["organisation"],
        purpose=form["purpose"],
        request_id=form["request"],
        start=start,
        end=end,
        after=form["after"],
        form=form,
        problems=problems,
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _moment(form: Mapping[str, str], name: str, problems: dict[str, str]) -> datetime | None:
    """A `datetime-local` value (2026-12-03T14:05), read as UTC."""
    value = form[name]
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        problems[name] = "a time as 2026-12-03T14:05 (UTC)"
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class LogSearch:
    entries: tuple[dict[str, Any], ...] = ()
    next_cursor: str | None = None
    customer_id: str | None = None
    problems: dict[str, str] = field(default_factory=dict)
    errors: tuple[str, ...] = ()  # what the API answered besides data (denied fields...)
    request_ids: tuple[str, ...] = ()  # this search's own requests, as logged


async def search_access_log(
    *,
    runner: OperationRunner,
    user: ConsoleUser,
    client_address: str | None,
    query: LogQuery,
) -> LogSearch:
    """Run the search as the user under the console's purpose; every operation it runs is
    recorded in the access log by the runner. A search by request ID reads the request's
    objects too (up to OBJECTS_OF_ONE_REQUEST)."""
    if query.problems:
        return LogSearch(problems=query.problems)
    ran: list[str] = []
    log_filter, problems = await _filter(runner, user, client_address, query, ran)
    if problems:
        return LogSearch(problems=problems, request_ids=tuple(ran))
    variables = {
        "filter": log_filter,
        "first": PAGE_SIZE,
        "after": query.after or None,
        "objects": OBJECTS_OF_ONE_REQUEST,
        "withObjects": bool(query.request_id),
    }
    answer = await _run(runner, user, client_address, SEARCH_DOCUMENT, variables, ran)
    connection = (answer.get("data") or {}).get("accessLog") or {}
    entries = [edge["node"] for edge in connection.get("edges", ())]
    await _name_principals(runner, entries)
    page = connection.get("pageInfo") or {}
    return LogSearch(
        entries=tuple(entries),
        next_cursor=page.get("endCursor") if page.get("hasNextPage") else None,
        customer_id=log_filter.get("customerId"),
        errors=tuple(_messages(answer)),
        request_ids=tuple(ran),
    )


async def _filter(
    runner: OperationRunner,
    user: ConsoleUser,
    client_address: str | None,
    query: LogQuery,
    ran: list[str],
) -> tuple[dict[str, Any], dict[str, str]]:
    """The accessLog filter; a customer number and a username are looked up first."""
    chosen: dict[str, Any] = {
        "organisation": query.organisation or None,
        "purpose": query.purpose or None,
        "requestId": query.request_id or None,
        "from": query.start.isoformat() if query.start else None,
        "to": query.end.isoformat() if query.end else None,
    }
    if query.principal:
        principal = await _principal_ref(runner, query.principal)
        if principal is None:
            return chosen, {"principal": "no user of that name (or give user:<id>, api_key:<id>)"}
        chosen["principal"] = principal
    if query.customer_number is not None:
        variables = {"number": query.customer_number}
        answer = await _run(runner, user, client_address, CUSTOMER_DOCUMENT, variables, ran)
        edges = ((answer.get("data") or {}).get("customers") or {}).get("edges") or []
        if not edges:
            return chosen, {"customer": "no customer with that number is visible to you"}
        # The log records the customer's UUID; the API shows its global ID.
        chosen["customerId"] = str(decode_id(edges[0]["node"]["id"]))
    return {k: v for k, v in chosen.items() if v is not None}, {}


async def _principal_ref(runner: OperationRunner, typed: str) -> str | None:
    """user:<id> or api_key:<id> as typed, or the user of that username."""
    kind, _, value = typed.partition(":")
    if kind in ("user", "api_key") and _is_uuid(value):
        return f"{kind}:{uuid.UUID(value)}"
    async with runner.sessionmaker() as session:
        found = await user_by_username(session, typed)
    return f"user:{found.id}" if found is not None else None


async def _name_principals(runner: OperationRunner, entries: list[dict[str, Any]]) -> None:
    refs = {e["principal"] for e in entries if e.get("principal")}
    if not refs:
        return
    async with runner.sessionmaker() as session:
        names = await principal_names(session, refs)
    for entry in entries:
        entry["principalName"] = names.get(entry.get("principal") or "")


async def _run(
    runner: OperationRunner,
    user: ConsoleUser,
    client_address: str | None,
    document: str,
    variables: dict[str, Any],
    ran: list[str],
) -> dict[str, Any]:
    operation = Operation(
        query=document,
        principal=user.principal,
        purpose=user.purpose,
        variables=variables,
        client_address=client_address,
        event=EventKind.CONSOLE,
        builtin=True,
    )
    ran.append(str(operation.request_id))
    result = await runner.run(operation)
    return result.json()


def _messages(answer: Mapping[str, Any]) -> list[str]:
    return [str(error.get("message")) for error in answer.get("errors") or ()]
