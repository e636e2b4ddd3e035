"""Reading the access log: `accessLog` for auditors and `Customer.accessHistory`.

The runtime role cannot read the log tables; both go through SECURITY DEFINER
functions. The policy applies as to any type: `AccessLogEntry` needs a row scope, every
field is read, masked or denied by `shaping.build`, and the objects built are recorded in
the reader's own access-log record, so reading the log is itself logged.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import text
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from server.audit.types import AccessHistoryEntry, AccessLogEntry, AccessLogFilter, AccessLogObject
from server.authz.decision import Access
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.guards import int_cursor, parse_id, require_id, require_readable_for_filter
from server.graphql.loading import loader
from server.graphql.relay import Edge, PageInfo, UncountedConnection, encode_cursor, page_request
from server.graphql.shaping import build, field_rules, related_list, relation_allowed

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

SEARCH = text(
    """
    SELECT * FROM access_log_search(
        :customer_id, :prospect_id, :request_id, :principal, :organisation, :purpose,
        :start, :end, :before_seq, :limit
    )
    """
)
OBJECTS = text("SELECT * FROM access_log_objects(CAST(:ids AS uuid[]), :start, :end, :limit)")
HISTORY = text("SELECT * FROM access_history(CAST(:ids AS uuid[]))")


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


def _object_row(row: Any, nth: int = 1) -> dict[str, Any]:
    """`nth`: the object's place among those sharing its seq (the objects of one subject
    row); the first keeps the plain position as its ID, later ones get ":<n>"."""
    return {
        "id": str(row.seq) if nth == 1 else f"{row.seq}:{nth}",
        "type_name": row.type_name,
        "object_id": row.object_id,
        "subject_customer_id": str(row.subject_customer_id) if row.subject_customer_id else None,
        "subject_prospect_id": str(row.subject_prospect_id) if row.subject_prospect_id else None,
        "operation": row.operation,
        "fields_read": list(row.fields_read),
        "fields_masked": list(row.fields_masked),
        "fields_denied": list(row.fields_denied),
    }


def _uuid_filter(value: str | None, argument: str) -> uuid.UUID | None:
    return None if value is None else require_id(value, field=argument)


async def _access_log(
    info: Info[RequestContext, Any],
    first: Annotated[
        int | None,
        strawberry.argument(description="Page size (default 20, at most the configured maximum)."),
    ] = None,
    after: Annotated[
        str | None, strawberry.argument(description="Cursor after which the page starts.")
    ] = None,
    filter: Annotated[
        AccessLogFilter | None, strawberry.argument(description="Which records to list.")
    ] = None,
) -> UncountedConnection[AccessLogEntry]:
    ctx = info.context
    settings = ctx.settings
    page = page_request(
        first, after, default=settings.default_page_size, maximum=settings.max_page_size
    )
    before_seq = int_cursor(page.after) if page.after else None
    if not ctx.access.can_see_rows("AccessLogEntry"):
        return UncountedConnection.empty()
    chosen = filter or AccessLogFilter()
    for argument, coordinate in FILTER_COORDINATES.items():
        if getattr(chosen, argument) is not None:
            require_readable_for_filter(ctx, coordinate, FILTER_ARGUMENTS[argument])
    if chosen.from_ is not None and chosen.to is not None and chosen.from_ >= chosen.to:
        raise UserInputError("from must be before to", field="filter.from")
    result = await ctx.session.execute(
        SEARCH,
        {
            "customer_id": _uuid_filter(chosen.customer_id, "filter.customerId"),
            "prospect_id": _uuid_filter(chosen.prospect_id, "filter.prospectId"),
            "request_id": _uuid_filter(chosen.request_id, "filter.requestId"),
            "principal": chosen.principal,
            "organisation": chosen.organisation,
            "purpose": chosen.purpose,
            "start": chosen.from_,
            "end": chosen.to,
            "before_seq": before_seq,
            "limit": page.size + 1,
        },
    )
    rows = [_entry_row(row) for row in result]
    shown = rows[: page.size]
    nodes = build(AccessLogEntry, shown, ctx, info, through=("edges", "node"), subject=None)
    edges = [
        Edge(cursor=encode_cursor([row["seq"]]), node=node)
        for node, row in zip(nodes, shown, strict=True)
    ]
    return UncountedConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > page.size,
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


@strawberry.type(description="Access-log queries, for the security team.")
class AccessLogQuery:
    access_log: UncountedConnection[AccessLogEntry] = strawberry.field(
        resolver=_access_log,
        description=(
            "Requests recorded in the access log, newest first. Reading the log is itself recorded."
        ),
    )


def _objects_loader(ctx: RequestContext, first: int | None) -> DataLoader[Any, Any]:
    async def load(keys: list[tuple[uuid.UUID, datetime]]) -> list[list[Mapping[str, Any]]]:
        result = await ctx.session.execute(
            OBJECTS,
            {
                "ids": [request_id for request_id, _ in keys],
                "start": min(at for _, at in keys),
                "end": max(at for _, at in keys),
                "limit": first,
            },
        )
        grouped: dict[uuid.UUID, list[Mapping[str, Any]]] = {}
        previous: tuple[Any, int] = (None, 0)
        for row in result:  # in (request, seq, place in the subject row) order
            previous = (row.seq, previous[1] + 1 if previous[0] == row.seq else 1)
            grouped.setdefault(row.request_id, []).append(_object_row(row, previous[1]))
        return [grouped.get(request_id, []) for request_id, _ in keys]

    return loader(ctx, f"access_log_objects:{first}", load)


async def log_objects(
    info: Info[RequestContext, Any], key: tuple[Any, datetime] | None, first: int | None
) -> list[AccessLogObject] | None:
    """`AccessLogEntry.objects`: batch-loaded for the whole page, shaped by the policy."""
    if first is not None and first < 0:
        raise UserInputError("first must not be negative", field="first", reason="out of range")
    if key is None:
        return []
    return await related_list(
        info,
        "AccessLogEntry",
        "objects",
        lambda ctx: _objects_loader(ctx, first),
        AccessLogObject,
        key,
        subject=None,
    )


def _history_loader(ctx: RequestContext) -> DataLoader[uuid.UUID, list[Mapping[str, Any]]]:
    async def load(keys: list[uuid.UUID]) -> list[list[Mapping[str, Any]]]:
        result = await ctx.session.execute(HISTORY, {"ids": list(keys)})
        purposes: Mapping[str, str] = ctx.access.policy.purposes
        grouped: dict[uuid.UUID, list[Mapping[str, Any]]] = {}
        for row in result:
            grouped.setdefault(row.customer_id, []).append(
                {
                    "id": str(row.seq),
                    "customer_id": row.customer_id,
                    "at": row.at,
                    "purpose": row.purpose,
                    "purpose_description": purposes.get(row.purpose) if row.purpose else None,
                    "operations": list(row.operations),
                    "data_categories": list(row.data_categories),
                }
            )
        return [grouped.get(key, []) for key in keys]

    return loader(ctx, "access_history", load)


async def access_history(
    *, ctx: RequestContext, customer_id: uuid.UUID, info: Info[Any, Any] | None = None
) -> list[AccessHistoryEntry]:
    """Dates, purposes and kinds of data of every recorded access to one customer's data
    (newest first), for the data-subject report. Never who looked.

    Calls within one request are batched into one query. Pass `info` so that only the
    selected fields are recorded; without it every field is recorded with its decision.
    """
    rows = await _history_loader(ctx).load(customer_id)
    if info is not None:
        return build(AccessHistoryEntry, rows, ctx, info, subject="customer_id")
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


async def customer_access_history(
    root: Any, info: Info[RequestContext, Any]
) -> list[AccessHistoryEntry] | None:
    """Resolver for `Customer.accessHistory`; the field is policed like a relation."""
    ctx = info.context
    if not relation_allowed(ctx, "Customer", "accessHistory"):
        ctx.collector.denied_coordinates.add("Customer.accessHistory")
        return None
    customer_id = parse_id(str(root.id))
    if customer_id is None:
        return []
    return await access_history(ctx=ctx, customer_id=customer_id, info=info)
