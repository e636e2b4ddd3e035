"""Writing the access log: one statement per request, whatever the number of objects.

The request row (with the request's distinct field sets) and one row per data subject
(the IDs of that person's objects, each with the number of its field set) go to the
database in a single INSERT ... SELECT FROM unnest(...) (the request row rides along in
a data-modifying WITH), in the caller's transaction. Any failure raises: the caller must
then answer with an error and no data. The database stamps each row with its position and
transaction id (request rows also with their hash); the runtime role can neither supply
nor read them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.records import ObjectAccess, RequestRecord

# A Finnish personal identity code anywhere in free text (operation names and details
# come from clients or error messages): never stored.
IDENTITY_CODE = re.compile(r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]", re.I)
# UUIDs (object and request IDs in details) can contain the same shape: they are kept.
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
IDENTITY_CODE_REPLACEMENT = "[identity code removed]"
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")

LIMITS = {
    "principal": 200,
    "organisation": 200,
    "role": 100,
    "purpose": 100,
    "client_address": 100,
    "operation_name": 200,
    "operation_type": 20,
    "document_hash": 128,
    "policy_version": 100,
    "detail": 2000,
    "type_name": 100,
    "object_id": 200,
}

EXECUTOR_LIMIT = 20

REQUEST_COLUMNS = (
    "at, request_id, event, principal, organisation, roles, purpose, client_address,"
    " operation_name, operation_type, document_hash, policy_version, outcome, duration_ms,"
    " detail, executor, field_sets"
)
REQUEST_VALUES = (
    ":at, :request_id, :event, :principal, :organisation, CAST(:roles AS text[]), :purpose,"
    " :client_address, :operation_name, :operation_type, :document_hash, :policy_version,"
    " :outcome, :duration_ms, :detail, :executor, CAST(:field_sets AS jsonb)"
)


def request_insert_sql() -> str:
    """The SQL text of the request row's insert, for executors that build their own
    statement (the compiled read executor embeds it in a data-modifying WITH).

    `INSERT INTO access_log_request (...) VALUES (...)` with named bind parameters: exactly
    the keys of `request_parameters(record)`, plus `:executor` (text, at most 20
    characters: "compiled", "resolver" or NULL for events) and `:field_sets` (the JSON
    text of the field-set array, or NULL when the request touched no object; see
    `field_set_json`). No RETURNING clause. The database adds seq, xid, hash_version and
    row_hash; the runtime role may not supply them. Both executors must build field_sets
    and subject rows with `subject_parameters` (or the same rules: sets sorted, field
    names sorted, subject rows and their objects in canonical order), so that the same
    request is recorded identically whichever executor answered it.
    """
    return f"INSERT INTO access_log_request ({REQUEST_COLUMNS}) VALUES ({REQUEST_VALUES})"


# The request row in a data-modifying WITH, the subject rows from parallel arrays: one row
# per (customer, prospect) pair, its object IDs and set numbers as comma-separated text
# (UUIDs and numbers contain no commas), unpacked in SQL.
WRITE_STATEMENT = text(
    f"""
    WITH request AS ({request_insert_sql()})
    INSERT INTO access_log_subject (
        at, request_id, subject_customer_id, subject_prospect_id, object_ids, object_sets
    )
    SELECT :at, :request_id, s.customer_id, s.prospect_id,
           CAST(string_to_array(s.object_ids, ',') AS uuid[]),
           CAST(string_to_array(s.object_sets, ',') AS smallint[])
    FROM unnest(
        CAST(:subject_customer_ids AS uuid[]), CAST(:subject_prospect_ids AS uuid[]),
        CAST(:subject_object_ids AS text[]), CAST(:subject_object_sets AS text[])
    ) AS s(customer_id, prospect_id, object_ids, object_sets)
    """
)

# The namespace of name-based UUIDs for object IDs that are neither UUIDs nor numbers.
OBJECT_ID_NAMESPACE = uuid.UUID("6b0d3f5e-8a63-4f0e-9a57-2d4c1f0b7e21")
MAX_FIELD_SETS = 32767  # object_sets is smallint[]


def clean(value: str | None, limit: int, *, free_text: bool = False) -> str | None:
    """Printable text cut to the column's length; free text also loses identity codes."""
    if value is None:
        return None
    value = _UNPRINTABLE.sub("?", value)
    if free_text:
        value = _without_identity_codes(value)
    return value[:limit]


def _without_identity_codes(value: str) -> str:
    parts: list[str] = []
    position = 0
    for match in UUID.finditer(value):
        parts.append(IDENTITY_CODE.sub(IDENTITY_CODE_REPLACEMENT, value[position : match.start()]))
        parts.append(match.group())
        position = match.end()
    parts.append(IDENTITY_CODE.sub(IDENTITY_CODE_REPLACEMENT, value[position:]))
    return "".join(parts)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def request_parameters(record: RequestRecord) -> dict[str, object]:
    return {
        "at": _utc(record.at),
        "request_id": record.request_id,
        "event": str(record.event),
        "principal": clean(record.principal, LIMITS["principal"]),
        "organisation": clean(record.organisation, LIMITS["organisation"]),
        "roles": [clean(role, LIMITS["role"]) for role in record.roles],
        "purpose": clean(record.purpose, LIMITS["purpose"]),
        "client_address": clean(record.client_address, LIMITS["client_address"]),
        "operation_name": clean(record.operation_name, LIMITS["operation_name"], free_text=True),
        "operation_type": clean(record.operation_type, LIMITS["operation_type"]),
        "document_hash": clean(record.document_hash, LIMITS["document_hash"]),
        "policy_version": clean(record.policy_version, LIMITS["policy_version"]),
        "outcome": str(record.outcome),
        "duration_ms": max(0.0, float(record.duration_ms)),
        "detail": clean(record.detail, LIMITS["detail"], free_text=True),
    }


def log_object_id(object_id: str) -> uuid.UUID:
    """The UUID an object is logged under.

    A UUID as it is; an ID with parts ("<invoice uuid>:<line no>" of an InvoiceLine,
    "<site uuid>:<timestamp>" of a ConsumptionPoint) as the UUID before the first ':';
    a log position (AccessLogEntry, AccessLogObject, AccessHistoryEntry) as the UUID whose
    128-bit value is the number, "<seq>:<n>" (the n-th AccessLogObject of a subject row) as
    seq * 2**32 + n; anything else as a name-based UUID (uuid5).
    """
    head, _, tail = object_id.partition(":")
    try:
        return uuid.UUID(head)
    except ValueError:
        pass
    if _number(head) and int(head) < 1 << 96:
        if not tail:
            return uuid.UUID(int=int(head))
        if _number(tail) and int(tail) < 1 << 32:  # "<seq>:<n>" of AccessLogObject
            return uuid.UUID(int=int(head) << 32 | int(tail))
    return uuid.uuid5(OBJECT_ID_NAMESPACE, object_id)


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def log_object_text(object_id: str) -> str:
    """`log_object_id` as canonical text; IDs that already are (the usual case) pass
    through without being parsed."""
    if len(object_id) == 36 and _CANONICAL_UUID.fullmatch(object_id):
        return object_id
    head = object_id.partition(":")[0]
    if len(head) == 36 and _CANONICAL_UUID.fullmatch(head):
        return head
    return str(log_object_id(object_id))


def _number(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 30


def _names(names: Iterable[str]) -> list[str]:
    return sorted(set(names))


@dataclass(slots=True)
class SubjectRows:
    """What a request's objects become: the request row's field sets and one subject row
    per (customer, prospect), in canonical order."""

    field_sets: list[dict[str, object]]
    customer_ids: list[uuid.UUID | None]
    prospect_ids: list[uuid.UUID | None]
    object_ids: list[list[str]]  # canonical UUID text (lower case, hyphenated)
    object_sets: list[list[int]]

    def field_set_json(self) -> str | None:
        """The field_sets column as JSON text (None when no object was touched)."""
        return orjson.dumps(self.field_sets).decode() if self.field_sets else None

    def parameters(self) -> dict[str, object]:
        """Bind parameters of WRITE_STATEMENT's subject part and of `:field_sets`."""
        return {
            "field_sets": self.field_set_json(),
            "subject_customer_ids": self.customer_ids,
            "subject_prospect_ids": self.prospect_ids,
            "subject_object_ids": [",".join(ids) for ids in self.object_ids],
            "subject_object_sets": [",".join(map(str, sets)) for sets in self.object_sets],
        }


_SetKey = tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _uuid_order(value: uuid.UUID | None) -> tuple[int, int]:
    return (0, 0) if value is None else (1, value.int)


def subject_rows(objects: Sequence[ObjectAccess]) -> SubjectRows:
    """Group objects into field sets and subject rows.

    A field set is a distinct (type, operation, read, masked, denied) combination with
    sorted field names; the sets are numbered from 1 in sorted order. Subject rows are
    ordered by (customer, prospect), no subject first; each lists its objects ordered by
    (set number, logged UUID), an object with the same UUID and set number once (the lines
    of one invoice, say). So the record depends only on the set of objects, not on the
    order an executor found them in.
    """
    type_limit = LIMITS["type_name"]
    keys: dict[frozenset[str], tuple[str, ...]] = {}

    def names(values: set[str]) -> tuple[str, ...]:
        key = frozenset(values)
        found = keys.get(key)
        if found is None:
            found = keys[key] = tuple(_names(values))
        return found

    grouped: dict[tuple[uuid.UUID | None, uuid.UUID | None], dict[tuple[_SetKey, str], None]]
    grouped = {}
    set_keys: set[_SetKey] = set()
    for o in objects:
        set_key: _SetKey = (
            o.type_name[:type_limit],
            o.operation,
            names(o.fields_read),
            names(o.fields_masked),
            names(o.fields_denied),
        )
        set_keys.add(set_key)
        members = grouped.setdefault((o.subject_customer_id, o.subject_prospect_id), {})
        members[(set_key, log_object_text(o.object_id))] = None
    ordered = sorted(set_keys)
    if len(ordered) > MAX_FIELD_SETS:
        raise ValueError(f"a request may touch at most {MAX_FIELD_SETS} distinct field sets")
    numbers = {key: index for index, key in enumerate(ordered, start=1)}
    rows = SubjectRows(
        field_sets=[
            {"type": t, "operation": op, "read": list(r), "masked": list(m), "denied": list(d)}
            for t, op, r, m, d in ordered
        ],
        customer_ids=[],
        prospect_ids=[],
        object_ids=[],
        object_sets=[],
    )
    for customer_id, prospect_id in sorted(
        grouped, key=lambda pair: (_uuid_order(pair[0]), _uuid_order(pair[1]))
    ):
        # Canonical UUID text sorts as the UUIDs' values do.
        members_sorted = sorted(
            (numbers[set_key], object_text)
            for set_key, object_text in grouped[(customer_id, prospect_id)]
        )
        rows.customer_ids.append(customer_id)
        rows.prospect_ids.append(prospect_id)
        rows.object_sets.append([number for number, _ in members_sorted])
        rows.object_ids.append([object_text for _, object_text in members_sorted])
    return rows


def object_parameters(objects: Sequence[ObjectAccess]) -> dict[str, object]:
    """Bind parameters of WRITE_STATEMENT for the objects (field sets and subject rows)."""
    return subject_rows(objects).parameters()


async def write_access_log(
    session: AsyncSession, record: RequestRecord, objects: Sequence[ObjectAccess]
) -> None:
    """Record one request and every object it touched, in the caller's transaction.

    One round trip: the request row and one row per data subject. Raises on any failure
    (no insert right, no partition for the month, database gone); the caller must then
    return an error and no data.
    """
    parameters: dict[str, object] = request_parameters(record)
    parameters["executor"] = clean(record.executor, EXECUTOR_LIMIT)
    parameters.update(object_parameters(objects))
    await session.execute(WRITE_STATEMENT, parameters)


async def write_event(session: AsyncSession, record: RequestRecord) -> None:
    """Record a request-level event (refused request, failed authentication, policy
    reload, CLI action). The caller gives it its own short transaction and commits."""
    await write_access_log(session, record, ())
