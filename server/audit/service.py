"""Writing the access log: one statement per request, whatever the number of objects.

The request row and every object row go to the database in a single INSERT ... SELECT
FROM unnest(...) (the request row rides along in a data-modifying WITH), in the caller's
transaction. Any failure raises: the caller must then answer with an error and no data.
The database stamps each row with its position, transaction id and hash; the runtime
role can neither supply nor read them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

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

WRITE_STATEMENT = text(
    """
    WITH request AS (
        INSERT INTO access_log_request (
            at, request_id, event, principal, organisation, roles, purpose, client_address,
            operation_name, operation_type, document_hash, policy_version, outcome,
            duration_ms, detail
        ) VALUES (
            :at, :request_id, :event, :principal, :organisation, CAST(:roles AS text[]),
            :purpose, :client_address, :operation_name, :operation_type, :document_hash,
            :policy_version, :outcome, :duration_ms, :detail
        )
    )
    INSERT INTO access_log_object (
        at, request_id, type_name, object_id, subject_customer_id, subject_prospect_id,
        operation, fields_read, fields_masked, fields_denied
    )
    SELECT :at, :request_id, o.type_name, o.object_id, o.customer_id, o.prospect_id,
           o.operation, string_to_array(o.fields_read, ','),
           string_to_array(o.fields_masked, ','), string_to_array(o.fields_denied, ',')
    FROM unnest(
        CAST(:type_names AS text[]), CAST(:object_ids AS text[]),
        CAST(:customer_ids AS uuid[]), CAST(:prospect_ids AS uuid[]),
        CAST(:operations AS text[]), CAST(:fields_read AS text[]),
        CAST(:fields_masked AS text[]), CAST(:fields_denied AS text[])
    ) AS o(type_name, object_id, customer_id, prospect_id, operation, fields_read,
           fields_masked, fields_denied)
    """
)


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


def _field_lists() -> Callable[[Iterable[str]], str]:
    """Field names as one sorted comma-separated string (GraphQL names contain no commas),
    computed once per distinct set: the objects of one list share their field sets."""
    known: dict[frozenset[str], str] = {}

    def joined(names: Iterable[str]) -> str:
        key = frozenset(names)
        value = known.get(key)
        if value is None:
            value = known[key] = ",".join(sorted(name.replace(",", "_") for name in key))
        return value

    return joined


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


def object_parameters(objects: Sequence[ObjectAccess]) -> dict[str, list[object]]:
    """Parallel arrays, one element per object, for the unnest in WRITE_STATEMENT."""
    type_limit = LIMITS["type_name"]
    id_limit = LIMITS["object_id"]
    fields = _field_lists()
    return {
        "type_names": [o.type_name[:type_limit] for o in objects],
        "object_ids": [o.object_id[:id_limit] for o in objects],
        "customer_ids": [o.subject_customer_id for o in objects],
        "prospect_ids": [o.subject_prospect_id for o in objects],
        "operations": [o.operation for o in objects],
        "fields_read": [fields(o.fields_read) for o in objects],
        "fields_masked": [fields(o.fields_masked) for o in objects],
        "fields_denied": [fields(o.fields_denied) for o in objects],
    }


async def write_access_log(
    session: AsyncSession, record: RequestRecord, objects: Sequence[ObjectAccess]
) -> None:
    """Record one request and every object it touched, in the caller's transaction.

    One round trip. Raises on any failure (no insert right, no partition for the month,
    database gone); the caller must then return an error and no data.
    """
    parameters: dict[str, object] = request_parameters(record)
    parameters.update(object_parameters(objects))
    await session.execute(WRITE_STATEMENT, parameters)


async def write_event(session: AsyncSession, record: RequestRecord) -> None:
    """Record a request-level event (refused request, failed authentication, policy
    reload, CLI action). The caller gives it its own short transaction and commits."""
    await write_access_log(session, record, ())
