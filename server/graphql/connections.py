"""Root connections on the resolver path: one keyset page of a type's rows under the row
scope, the filters and the order asked for, shaped by the policy, counted on demand."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, select
from strawberry.types import Info

from server.graphql.context import RequestContext
from server.graphql.loading import Row
from server.graphql.ordering import Sortable, order_terms, require_readable_for_order
from server.graphql.relay import (
    Connection,
    PageRequest,
    count_rows,
    fetch_page,
    make_connection,
    shown_rows,
)
from server.graphql.selection import CONNECTION_PATH
from server.graphql.shaping import build

T = TypeVar("T")


def checked_order(
    ctx: RequestContext, sortable: Sortable, order_by: Sequence[Any] | None
) -> list[tuple[str, bool]]:
    """The `orderBy` terms, after the check that the principal may read every field."""
    terms = order_terms(order_by)
    require_readable_for_order(ctx, sortable, terms)
    return terms


async def root_connection(
    info: Info[RequestContext, Any],
    cls: type[T],
    sortable: Sortable,
    page: PageRequest,
    *,
    terms: Sequence[tuple[str, bool]] = (),
    conditions: Sequence[ColumnElement[bool]] = (),
    statement: Select[Any] | None = None,
    prepare: Callable[[list[Row]], list[Row]] | None = None,
    **build_options: Any,
) -> Connection[T]:
    """The page of `sortable`'s type: `statement` (default: every column of its table)
    under the row scope and `conditions`, in the order of `terms`. `prepare` turns the rows
    shown into what `build` takes, when the table's columns are not enough."""
    ctx = info.context
    table = sortable.table
    scope = ctx.access.rows(sortable.type_name)
    base = (statement if statement is not None else select(table)).where(scope, *conditions)
    rows = await fetch_page(
        ctx.session,
        base,
        table=table,
        keys=sortable.keys(terms),
        page=page,
        visible_predicate=scope,
    )
    shown = shown_rows(rows, page)
    if prepare is not None:
        shown = prepare(shown)
    nodes = build(cls, shown, ctx, info, through=CONNECTION_PATH, **build_options)

    async def count() -> int:
        return await count_rows(ctx.session, base)

    return make_connection(
        nodes, shown, page, key=lambda row: [row["id"]], more=len(rows) > page.size, counter=count
    )
