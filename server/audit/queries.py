"""Reading the access log: the root `accessLog` for auditors, and a customer's whole
access history for the data-subject report.

The runtime role cannot read the log tables; both go through SECURITY DEFINER
functions. The policy applies as to any type: `AccessLogEntry` needs a row scope, every
field is read, masked or denied by `shaping.build`, and the objects built are recorded in
the reader's own access-log record, so reading the log is itself logged.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import strawberry
from sqlalchemy import BigInteger, Column, DateTime, Float, MetaData, Table, Text, text

from server.audit.loaders import HistoryPage, history_loader
from server.audit.types import AccessHistoryEntry, AccessLogEntry, AccessLogFilter
from server.authz.decision import Access
from server.graphql.connections import RootPage, checked_order, root_connection_field
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.guards import int_cursor, require_id, require_readable_for_filter
from server.graphql.ordering import Sortable, SortField
from server.graphql.relay import Connection, PageRequest, SortKey, make_connection, shown_rows
from server.graphql.selection import CONNECTION_PATH
from server.graphql.shaping import build, field_rules

# Filtering on a value reveals it: each filter needs read access to the field it matches.
FILTER_COORDINATES = {
    "customer_id": "AccessLogObject.subjectCustomerId",
    "prospect_id": "AccessLogObject.subjectProspectId",
    "request_id": "AccessLogEntry.requestId",
    "principal": "AccessLogEntry.principal",
    "organisation": "AccessLogEntry.organisation",
    "purpose": "AccessLogEntry.purpose",
    "from_": "AccessLogEntry.at",
    "to": "AccessLogEntry.at",
}
FILTER_ARGUMENTS = {
    "customer_id": "filter.customerId",
    "prospect_id": "filter.prospectId",
    "request_id": "filter.requestId",
    "principal": "filter.principal",
    "organisation": "filter.organisation",
    "purpose": "filter.purpose",
    "from_": "filter.from",
    "to": "filter.to",
}

FILTERS = (
    ":customer_id, :prospect_id, :request_id, :principal, :organisation, :purpose, :start, :end"
)
PAGE = text(
    f"SELECT * FROM access_log_page({FILTERS}, CAST(:order_columns AS text[]), "
    "CAST(:order_descending AS boolean[]), :after_seq, :before_seq, :backwards, :limit)"
)
COUNT = text(f"SELECT access_log_count({FILTERS})")
HAS_ENTRY = text("SELECT access_log_has_entry(:seq)")

# The request rows' columns an order may name, as the log's functions know them (the
# table is read only through them; this describes it for `orderBy`). The ID is `seq`.
LOG_COLUMNS = Table(
    "access_log_request",
    MetaData(),
    Column("id", BigInteger, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("principal", Text),
    Column("organisation", Text),
    Column("purpose", Text),
    Column("event", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("duration_ms", Float, nullable=False),
)
LOG_ORDER = Sortable(
    "AccessLogEntry",
    LOG_COLUMNS,
    {
        "AT": SortField("at", "AccessLogEntry.at", "When the request was answered."),
        "PRINCIPAL": SortField("principal", "AccessLogEntry.principal", "Who asked."),
        "ORGANISATION": SortField(
            "organisation", "AccessLogEntry.organisation", "The principal's organisation."
        ),
        "PURPOSE": SortField("purpose", "AccessLogEntry.purpose", "Purpose of processing."),
        "EVENT": SortField("event", "AccessLogEntry.event", "What the record stands for."),
        "OUTCOME": SortField("outcome", "AccessLogEntry.outcome", "How the request ended."),
        "DURATION": SortField("duration_ms", "AccessLogEntry.durationMs", "Time to answer."),
    },
    (SortKey("id", descending=True),),
)


def _entry_row(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.seq),
        "seq": row.seq,
        "at": row.at,
        "request_id": str(row.request_id),
        "event": row.event,
        "principal": row.principal,
        "organisation": row.organisation,
        "roles": list(row.roles or ()),
        "purpose": row.purpose,
        "client_address": row.client_address,
        "operation_name": row.operation_name,
        "operation_type": row.operation_type,
        "document_hash": row.document_hash,
        "policy_version": row.policy_version,
        "outcome": row.outcome,
        "duration_ms": row.duration_ms,
        "detail": row.detail,
        "object_count": row.object_count,
        "log_key": (row.request_id, row.at),
    }


def _uuid_filter(value: str | None, argument: str) -> uuid.UUID | None:
    return None if value is None else require_id(value, field=argument)


def filter_parameters(ctx: RequestContext, chosen: AccessLogFilter) -> dict[str, Any]:
    """The functions' filter parameters, after the check that each field a filter tests
    is readable in full."""
    for argument, coordinate in FILTER_COORDINATES.items():
        if getattr(chosen, argument) is not None:
            require_readable_for_filter(ctx, coordinate, FILTER_ARGUMENTS[argument])
    if chosen.from_ is not None and chosen.to is not None and chosen.from_ >= chosen.to:
        raise UserInputError("from must be before to", field="filter.from")
    return {
        "customer_id": _uuid_filter(chosen.customer_id, "filter.customerId"),
        "prospect_id": _uuid_filter(chosen.prospect_id, "filter.prospectId"),
        "request_id": _uuid_filter(chosen.request_id, "filter.requestId"),
        "principal": chosen.principal,
        "organisation": chosen.organisation,
        "purpose": chosen.purpose,
        "start": chosen.from_,
        "end": chosen.to,
    }


def order_parameters(keys: Sequence[SortKey]) -> dict[str, Any]:
    """The order as the page function takes it: columns (the ID is `seq`) and directions."""
    return {
        "order_columns": ["seq" if key.column == "id" else key.column for key in keys],
        "order_descending": [key.descending for key in keys],
    }


def log_cursors(page: PageRequest) -> dict[str, int]:
    """The log positions the cursors name, by argument (`after`, `before`)."""
    return {name: int_cursor(value, field=name) for name, value, _ in page.cursors}


async def _log_page(
    ctx: RequestContext, page: PageRequest, parameters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The page's rows in fetch order (`size + 1` at most). An empty page after a cursor
    naming no entry refuses the cursor, as every connection does."""
    cursors = log_cursors(page)
    result = await ctx.session.execute(
        PAGE,
        {
            **parameters,
            "after_seq": cursors.get("after"),
            "before_seq": cursors.get("before"),
            "backwards": page.backwards,
            "limit": page.size + 1,
        },
    )
    rows = [_entry_row(row) for row in result]
    if not rows:
        for name, seq in cursors.items():
            if not await ctx.session.scalar(HAS_ENTRY, {"seq": seq}):
                raise UserInputError(
                    "Invalid cursor: it points at no row you can see",
                    field=name,
                    reason="unknown row",
                )
    return rows


async def access_log_page(asked: RootPage[AccessLogFilter]) -> Connection[AccessLogEntry]:
    """Requests recorded in the access log, newest first unless `orderBy` says otherwise.
    Reading the log is itself recorded."""
    ctx = asked.context
    page = asked.page
    filters = filter_parameters(ctx, asked.filter or AccessLogFilter())
    keys = LOG_ORDER.keys(checked_order(ctx, LOG_ORDER, asked.order_by))
    rows = await _log_page(ctx, page, {**filters, **order_parameters(keys)})
    shown = shown_rows(rows, page)
    nodes = build(AccessLogEntry, shown, ctx, asked.info, through=CONNECTION_PATH, subject=None)

    async def count() -> int:
        return int(await ctx.session.scalar(COUNT, filters) or 0)

    return make_connection(
        nodes, shown, page, key=lambda row: [row["seq"]], more=len(rows) > page.size, counter=count
    )


@strawberry.type(description="Access-log queries, for the security team.")
class AccessLogQuery:
    access_log = root_connection_field(
        AccessLogEntry,
        LOG_ORDER,
        access_log_page,
        filter=AccessLogFilter,
        filter_description="Which records to list.",
        cursor=int_cursor,  # the log's position (`seq`), not a row's UUID
    )


async def access_history(
    *, ctx: RequestContext, customer_id: uuid.UUID
) -> list[AccessHistoryEntry]:
    """Dates, purposes and kinds of data of every recorded access to one customer's data
    (newest first), for the data-subject report. Never who looked.

    Calls within one request are batched into one query. Every field is recorded with its
    decision (the report shows them all).
    """
    rows = await history_loader(ctx, HistoryPage()).load(customer_id)
    return _build_unselected(ctx, rows)


def _build_unselected(
    ctx: RequestContext, rows: Sequence[Mapping[str, Any]]
) -> list[AccessHistoryEntry]:
    rules = field_rules(ctx, AccessHistoryEntry)
    read = {r.graphql_name for r in rules if r.access is Access.READ}
    masked = {r.graphql_name for r in rules if r.access is Access.MASK}
    denied = {r.graphql_name for r in rules if r.access is Access.DENY}
    entries: list[AccessHistoryEntry] = []
    for row in rows:
        values: dict[str, Any] = {}
        for rule in rules:
            raw = row[rule.python_name]
            if rule.access is Access.READ:
                values[rule.python_name] = raw
            elif rule.access is Access.MASK and rule.mask is not None and raw is not None:
                values[rule.python_name] = rule.mask(str(raw))
            else:
                values[rule.python_name] = None
        entries.append(AccessHistoryEntry(**values))
        ctx.collector.touch(
            "AccessHistoryEntry",
            row["id"],
            customer_id=row["customer_id"],
            read=read,
            masked=masked,
            denied=denied,
        )
    return entries
