"""`rekisteri audit export`: the access log as JSON lines for a SIEM.

One line per record in seq order: {"kind": "request", ...} for a request or event and
{"kind": "object", ...} for each object a request touched (joined by requestId). The
objects of a subject row share its seq and rowHash (the hash the sealer computed for the
row), in the row's order; older object rows have a seq and stored hash of their own. The log
holds no variable values, tokens, passwords or identity codes, so neither does the
export. JSON encoding escapes every control character: no value can forge a line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.cli_progress import NO_PROGRESS, Positions, Progress

EXPORT = text(
    """
    SELECT 'request' AS kind, r.seq, 0::bigint AS position, r.at, r.request_id,
           access_log_request_leaf_hash(r) AS row_hash,
           r.event, r.principal, r.organisation, r.roles, r.purpose, r.client_address,
           r.operation_name, r.operation_type, r.document_hash, r.policy_version, r.outcome,
           r.duration_ms, r.detail,
           NULL::text AS type_name, NULL::text AS object_id, NULL::uuid AS subject_customer_id,
           NULL::uuid AS subject_prospect_id, NULL::text AS operation,
           NULL::text[] AS fields_read, NULL::text[] AS fields_masked,
           NULL::text[] AS fields_denied
    FROM access_log_request r
    WHERE r.at >= :start AND r.at < :end
    UNION ALL
    SELECT 'object', v.seq, v.position, v.at, v.request_id,
           coalesce(o.row_hash, access_log_subject_hash(s.seq, s.at, s.request_id,
               s.subject_customer_id, s.subject_prospect_id, s.object_ids, s.object_sets,
               s.xid)),
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           v.type_name, v.object_id, v.subject_customer_id, v.subject_prospect_id,
           v.operation, v.fields_read, v.fields_masked, v.fields_denied
    FROM access_log_object_all v
    LEFT JOIN access_log_object o ON o.seq = v.seq AND o.at = v.at
    LEFT JOIN access_log_subject s ON s.seq = v.seq AND s.at = v.at
    WHERE v.at >= :start AND v.at < :end
    ORDER BY 2, 3
    """
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _line(row: Any) -> dict[str, Any]:
    common: dict[str, Any] = {
        "kind": row.kind,
        "seq": row.seq,
        "at": _iso(row.at),
        "requestId": str(row.request_id),
        "rowHash": bytes(row.row_hash).hex(),
    }
    if row.kind == "request":
        common.update(
            event=row.event,
            principal=row.principal,
            organisation=row.organisation,
            roles=list(row.roles or ()),
            purpose=row.purpose,
            clientAddress=row.client_address,
            operationName=row.operation_name,
            operationType=row.operation_type,
            documentHash=row.document_hash,
            policyVersion=row.policy_version,
            outcome=row.outcome,
            durationMs=row.duration_ms,
            detail=row.detail,
        )
    else:
        common.update(
            typeName=row.type_name,
            objectId=row.object_id,
            subjectCustomerId=str(row.subject_customer_id) if row.subject_customer_id else None,
            subjectProspectId=str(row.subject_prospect_id) if row.subject_prospect_id else None,
            operation=row.operation,
            fieldsRead=list(row.fields_read or ()),
            fieldsMasked=list(row.fields_masked or ()),
            fieldsDenied=list(row.fields_denied or ()),
        )
    return common


# The range of positions of the request rows in a time range, for the progress bar (each
# bound an index probe per monthly partition).
POSITIONS = text(
    "SELECT min(seq) AS first, max(seq) AS last FROM access_log_request"
    " WHERE at >= :start AND at < :end"
)


async def export_jsonl(
    *,
    session: AsyncSession,
    start: datetime,
    end: datetime,
    out: TextIO,
    progress: Progress = NO_PROGRESS,
) -> int:
    """Write the rows with start <= at < end to `out`, one JSON object a line; returns the
    number of lines. Run it as the owner (the runtime role cannot read the log).
    `progress` follows the rows by position."""
    await session.execute(text("SET LOCAL statement_timeout = 0"))
    first, total = 0, None
    if progress.enabled:
        bounds = (await session.execute(POSITIONS, {"start": start, "end": end})).one()
        if bounds.first is not None:
            first, total = bounds.first - 1, bounds.last - bounds.first + 1
    result = await session.stream(
        EXPORT.execution_options(yield_per=5_000), {"start": start, "end": end}
    )
    count = 0
    with progress.stage("exporting the access log", total=total, unit="rows") as advance:
        positions = Positions(advance, first)
        async for row in result:
            out.write(orjson.dumps(_line(row)).decode())
            out.write("\n")
            count += 1
            positions.at(row.seq)
        positions.flush()
    return count
