"""GraphQL types of the access log: the auditor's view and the data subject's report,
with the resolvers of their nested fields (the rows come from `server.audit.loaders`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from server.audit.loaders import (
    HistoryFilter,
    HistoryPage,
    history_count_loader,
    history_loader,
    objects_loader,
)
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.fields import data, personal
from server.graphql.guards import checked_filter, int_cursor, parse_id
from server.graphql.inputs import filter_field
from server.graphql.relay import After, Connection, First, make_connection, page_request
from server.graphql.selection import CONNECTION_PATH
from server.graphql.shaping import build, related_list, relation_allowed


@strawberry.type(
    description=(
        "One object a logged request returned or wrote, with the fields resolved on it and "
        "the decision on each."
    )
)
class AccessLogObject:
    id: strawberry.ID = strawberry.field(
        description=(
            "Position of this record in the log; objects recorded together for one data "
            "subject share it, the second and later with ':<n>' appended."
        )
    )
    type_name: str | None = data("GraphQL type of the object: the category of data.")
    object_id: str | None = data("ID of the object.")
    subject_customer_id: strawberry.ID | None = data(
        "ID of the customer whose data the object is (null: not customer data)."
    )
    subject_prospect_id: strawberry.ID | None = data(
        "ID of the prospect whose data the object is (null: not prospect data)."
    )
    operation: str | None = data("read or write.")
    fields_read: list[str] | None = data("Fields returned as stored.")
    fields_masked: list[str] | None = data("Fields returned masked.")
    fields_denied: list[str] | None = data("Fields asked for and refused (returned as null).")


async def _log_objects(
    root: AccessLogEntry,
    info: Info[RequestContext, Any],
    first: Annotated[
        int | None,
        strawberry.argument(description="At most this many objects (null: all of them)."),
    ] = None,
) -> list[AccessLogObject] | None:
    """`AccessLogEntry.objects`: batch-loaded for the whole page, shaped by the policy."""
    if first is not None and first < 0:
        raise UserInputError("first must not be negative", field="first", reason="out of range")
    if root.log_key is None:
        return []
    return await related_list(
        info,
        "AccessLogEntry",
        "objects",
        lambda ctx: objects_loader(ctx, first),
        AccessLogObject,
        root.log_key,
        subject=None,
    )


@strawberry.type(
    description=(
        "One request or event in the access log: who, in which organisation and roles, for "
        "which purpose, what operation, and how it ended. Never variables, tokens or "
        "identity codes."
    )
)
class AccessLogEntry:
    id: strawberry.ID = strawberry.field(description="Position of this record in the log.")
    at: datetime | None = data("When the request was answered (UTC).")
    request_id: str | None = data("Correlation ID of the request, as given in its response.")
    event: str | None = data(
        "What the record stands for: graphql, authentication, policy_reload, cli or console "
        "(a search in the security console, or its refusal)."
    )
    principal: str | None = personal("Who asked: user:<id> or api_key:<id>.")
    organisation: str | None = data("Code of the principal's organisation.")
    roles: list[str] | None = data("Roles of the principal at the time.")
    purpose: str | None = data("Purpose of processing the request was made for.")
    client_address: str | None = personal("Network address the request came from.")
    operation_name: str | None = data("GraphQL operation name given by the client.")
    operation_type: str | None = data("query or mutation.")
    document_hash: str | None = data("SHA-256 of the GraphQL document.")
    policy_version: str | None = data("Version of the access policy that decided.")
    outcome: str | None = data("ok, partial, denied, error or unauthenticated.")
    duration_ms: float | None = data("Time to answer, in milliseconds.")
    detail: str | None = data("Short reason for refused requests and events.")
    object_count: int | None = data("Number of objects the request returned or wrote.")
    log_key: strawberry.Private[tuple[Any, datetime] | None] = None

    objects: list[AccessLogObject] | None = strawberry.field(
        resolver=_log_objects,
        description=(
            "Objects the request returned or wrote, in log order. Every field resolved on "
            "them is listed with its decision."
        ),
    )


@strawberry.type(
    description=(
        "One consultation of a customer's data, for the data-subject report: when, for "
        "which purpose and which kinds of data. Who looked is not shown."
    )
)
class AccessHistoryEntry:
    at: datetime | None = data("When the data was accessed (UTC).")
    purpose: str | None = data("Purpose of processing the access was made for.")
    purpose_description: str | None = data("The purpose as described in the privacy notice.")
    operations: list[str] | None = data("read, write, or both.")
    data_categories: list[str] | None = data(
        "Kinds of data accessed, as type names (Customer, Site, Contract, Invoice...)."
    )


@strawberry.input(description="Which access-log records to list; all conditions apply.")
class AccessLogFilter:
    customer_id: strawberry.ID | None = filter_field(
        "Requests that returned or wrote data of this customer."
    )
    prospect_id: strawberry.ID | None = filter_field(
        "Requests that returned or wrote data of this prospect."
    )
    request_id: str | None = filter_field("The request with this correlation ID.")
    principal: str | None = filter_field("Requests of this principal (user:<id> or api_key:<id>).")
    organisation: str | None = filter_field("Requests of principals of this organisation (code).")
    purpose: str | None = filter_field("Requests made for this purpose.")
    from_: datetime | None = filter_field("Records at or after this instant.", name="from")
    to: datetime | None = filter_field("Records before this instant.")


# Filtering on a value reveals it: each filter needs read access to the field it matches.
HISTORY_FILTER_COORDINATES = {
    "purpose": "AccessHistoryEntry.purpose",
    "from_": "AccessHistoryEntry.at",
    "to": "AccessHistoryEntry.at",
}


@strawberry.input(description="Which accesses of a customer's history to list; all apply.")
class AccessHistoryFilter:
    purpose: str | None = filter_field("Accesses made for this purpose.")
    from_: datetime | None = filter_field("Accesses at or after this instant.", name="from")
    to: datetime | None = filter_field("Accesses before this instant.")


# The `filter` argument of Customer.accessHistory.
AccessHistoryFilterBy = Annotated[
    AccessHistoryFilter | None, strawberry.argument(description="Which accesses to list.")
]


def history_filter(ctx: RequestContext, chosen: AccessHistoryFilter | None) -> HistoryFilter:
    """The filters given, after the check that each field they test is readable in full."""
    values = checked_filter(ctx, chosen, HISTORY_FILTER_COORDINATES)
    start, end = values.get("from_"), values.get("to")
    if start is not None and end is not None and start >= end:
        raise UserInputError("from must be before to", field="filter.from")
    return HistoryFilter(purpose=values.get("purpose"), start=start, end=end)


async def customer_access_history(
    root: Any,
    info: Info[RequestContext, Any],
    first: First = None,
    after: After = None,
    filter: AccessHistoryFilterBy = None,
) -> Connection[AccessHistoryEntry] | None:
    """`Customer.accessHistory`: denied as a whole by policy, else one page of each
    customer's history, batch-loaded for every customer of the request."""
    ctx = info.context
    if not relation_allowed(ctx, "Customer", "accessHistory"):
        ctx.collector.denied_coordinates.add("Customer.accessHistory")
        return None
    settings = ctx.settings
    page = page_request(
        first, after, default=settings.default_page_size, maximum=settings.max_page_size
    )
    chosen = HistoryPage(
        filter=history_filter(ctx, filter),
        after=int_cursor(page.after) if page.after else None,
        limit=page.size + 1,
    )
    parsed: uuid.UUID | None = parse_id(str(root.id))
    if parsed is None:
        return Connection.empty()
    customer_id: uuid.UUID = parsed
    rows = await history_loader(ctx, chosen).load(customer_id)
    shown = rows[: page.size]
    nodes = build(AccessHistoryEntry, shown, ctx, info, through=CONNECTION_PATH)

    async def count() -> int:
        return await history_count_loader(ctx, chosen.filter).load(customer_id)

    return make_connection(
        nodes,
        shown,
        page,
        key=lambda row: [row["position"]],
        more=len(rows) > page.size,
        counter=count,
    )
