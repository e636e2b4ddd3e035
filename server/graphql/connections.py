"""Connections on the resolver path: a root connection is one keyset page of a type's rows
under the row scope, the filters and the order asked for; a nested one pages each parent's
rows of a to-many relation, for all parents in one statement. Both are shaped by the
policy and counted on demand."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from inspect import Parameter, Signature
from typing import Annotated, Any, Generic, TypeVar, cast

import strawberry
from sqlalchemy import ColumnElement, Select, Table, and_, exists, func, select, true
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from server.graphql.context import RequestContext
from server.graphql.guards import checked_filter, open_page
from server.graphql.loading import Row, fetch_rows, group_by, loader
from server.graphql.mutation import description_of
from server.graphql.ordering import (
    OrderBy,
    Sortable,
    order_input,
    order_terms,
    require_readable_for_order,
)
from server.graphql.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    PageRequest,
    SortKey,
    Visible,
    check_cursor,
    count_rows,
    cursor_uuid,
    fetch_page,
    keyset_condition,
    make_connection,
    order_clauses,
    page_request,
    shown_rows,
)
from server.graphql.selection import CONNECTION_PATH
from server.graphql.shaping import build, relation_denied

T = TypeVar("T")
F = TypeVar("F")


def checked_order(
    ctx: RequestContext, sortable: Sortable, order_by: Sequence[Any] | None
) -> list[tuple[str, bool]]:
    """The `orderBy` terms, after the check that the principal may read every field."""
    terms = order_terms(order_by)
    require_readable_for_order(ctx, sortable, terms)
    return terms


@dataclass(frozen=True, slots=True)
class RootPage(Generic[F]):
    """What a root connection field was asked for: its resolve info, the checked paging
    arguments, its filter argument (None when not given) and `orderBy`."""

    info: Info[RequestContext, Any]
    page: PageRequest
    filter: F | None
    order_by: Sequence[Any] | None

    @property
    def context(self) -> RequestContext:
        return self.info.context


def root_connection_field(
    node: type[Any],
    sortable: Sortable,
    load: Callable[[RootPage[Any]], Awaitable[Connection[Any]]],
    *,
    filter: Any = None,
    filter_name: str = "filter",
    filter_description: str = "Filters.",
    cursor: Callable[..., object] = cursor_uuid,
) -> Any:
    """The root field that lists `node` objects one page at a time, described by the first
    paragraph of `load`'s docstring. Its arguments, in this order: `first`, `after`, the
    optional filter of type `filter` (none when None), `last`, `before`, and `orderBy` over
    the fields of `sortable` (its `<Type>Order` input is made here). Once the paging
    arguments are checked (`cursor` reads a cursor, as `open_page` says) and the principal
    may see rows of the type, `load` returns the page; else the connection is empty."""

    async def resolve(
        info: Info[RequestContext, Any],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        order_by: Sequence[Any] | None = None,
        **chosen: Any,  # the filter argument, under `filter_name`
    ) -> Connection[Any]:
        page = open_page(
            info.context,
            first,
            after,
            last=last,
            before=before,
            type_name=sortable.type_name,
            cursor=cursor,
        )
        if page is None:
            return Connection.empty()
        return await load(RootPage(info, page, chosen.get(filter_name), order_by))

    # Strawberry reads the field's arguments and type from the signature, made here of
    # types known only at run time (which a type checker cannot follow: hence the casts).
    arguments: dict[str, Any] = {"first": First, "after": After}
    if filter is not None:
        arguments[filter_name] = cast(Any, Annotated)[
            filter | None, strawberry.argument(description=filter_description)
        ]
    arguments.update(last=Last, before=Before, order_by=cast(Any, OrderBy)[order_input(sortable)])
    parameters = [Parameter("info", Parameter.KEYWORD_ONLY, annotation=Info[RequestContext, Any])]
    parameters += [
        Parameter(name, Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        for name, annotation in arguments.items()
    ]
    returns = cast(Any, Connection)[node]
    cast(Any, resolve).__signature__ = Signature(parameters, return_annotation=returns)
    return strawberry.field(resolver=resolve, description=description_of(load))


async def root_connection(
    asked: RootPage[Any],
    cls: type[T],
    sortable: Sortable,
    *,
    conditions: Sequence[ColumnElement[bool]] = (),
    statement: Select[Any] | None = None,
    prepare: Callable[[list[Row]], Sequence[Row]] | None = None,
    **build_options: Any,
) -> Connection[T]:
    """The page of `sortable`'s type asked for, after the check that the principal may read
    every field of its order: `statement` (default: every column of its table) under the
    row scope and `conditions`. `prepare` turns the rows shown into what `build` takes,
    when the table's columns are not enough."""
    ctx = asked.context
    terms = checked_order(ctx, sortable, asked.order_by)
    page = asked.page
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
    shown: Sequence[Row] = shown_rows(rows, page)
    if prepare is not None:
        shown = prepare(list(shown))
    nodes = build(cls, shown, ctx, asked.info, through=CONNECTION_PATH, **build_options)

    async def count() -> int:
        return await count_rows(ctx.session, base)

    return make_connection(
        nodes, shown, page, key=lambda row: [row["id"]], more=len(rows) > page.size, counter=count
    )


# ---------------------------------------------------------------------------------------
# Nested connections: a to-many relation paged per parent
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListFilter:
    """A nested connection's `filter`: the coordinate each input field tests (it needs
    read access, as a root filter does) and the domain's builder of SQL conditions,
    called as `build(visible, **values)` plus `today=` when `dated`."""

    coordinates: Mapping[str, str]
    build: Callable[..., list[ColumnElement[bool]]]
    dated: bool = False

    def conditions(
        self, visible: Visible, values: Mapping[str, Any], today: Any
    ) -> list[ColumnElement[bool]]:
        extra = {"today": today} if self.dated else {}
        return self.build(visible, **values, **extra)


@dataclass(frozen=True, slots=True)
class NestedList:
    """A to-many relation shown as a connection: the child rows of many parents, in one
    order, paged per parent.

    `parent` is the column holding the parent's key: a column of `table`, or of `link`
    (a link table joined to `table` by its condition). `scope` names the child type whose
    row scope applies (None: the parent's visibility is enough). `extra` joins a table for
    more columns (the data subject of rows that have none of their own)."""

    name: str
    table: Table
    parent: Any
    keys: tuple[SortKey, ...]
    scope: str | None = None
    link: tuple[Table, Any] | None = None
    extra: tuple[Table, Any, tuple[Any, ...]] | None = None
    filter: ListFilter | None = None

    def rows(self) -> Select[Any]:
        """Every column of the child table, the extra ones, and the parent key (`_parent`)."""
        joined: Any = self.table
        columns: list[Any] = [self.table]
        if self.link is not None:
            joined = joined.join(*self.link)
        if self.extra is not None:
            extra_table, on, extra_columns = self.extra
            joined = joined.join(extra_table, on)
            columns.extend(extra_columns)
        return select(*columns, self.parent.label("_parent")).select_from(joined)

    def member(self, parents: Any) -> ColumnElement[bool]:
        """Rows of the child table that belong to one of `parents` (IDs or a subquery)."""
        if self.link is None:
            condition: ColumnElement[bool] = self.parent.in_(parents)
            return condition
        return exists().where(self.link[1], self.parent.in_(parents))

    def scope_predicate(self, visible: Visible) -> ColumnElement[bool]:
        return visible(self.scope) if self.scope is not None else true()


def _nested_statement(
    spec: NestedList,
    parents: Sequence[Any],
    conditions: Sequence[ColumnElement[bool]],
    page: PageRequest,
    gate: ColumnElement[bool],
    cursor: uuid.UUID | None,
) -> Select[Any]:
    """One statement for every parent: ROW_NUMBER() per parent in the order, at most
    size + 1 rows of each (one more says another page follows)."""
    order = order_clauses(spec.table.c, spec.keys, reverse=False)
    ranked = spec.rows().add_columns(
        func.row_number().over(partition_by=spec.parent, order_by=order).label("_rn")
    )
    ranked = ranked.where(spec.parent.in_(parents), *conditions)
    if cursor is not None:
        ranked = ranked.where(keyset_condition(spec.table, spec.keys, cursor, gate))
    inner = ranked.subquery("ranked")
    return (
        select(inner)
        .where(inner.c["_rn"] <= page.size + 1)
        .order_by(inner.c["_parent"], inner.c["_rn"])
    )


def nested_rows_loader(
    ctx: RequestContext,
    spec: NestedList,
    page: PageRequest,
    conditions: Sequence[ColumnElement[bool]],
    arguments: Hashable,
) -> DataLoader[Any, list[Row]]:
    """The request's loader of one relation with one set of arguments: one statement per
    batch of parents, whatever the page size. A cursor must name a row of the relation
    under one of the parents (and in the child's scope), else it is refused."""
    cursor = cursor_uuid(page.after) if page.after else None

    async def load(parents: list[Any]) -> list[list[Row]]:
        gate = and_(spec.member(parents), spec.scope_predicate(ctx.access.rows))
        statement = _nested_statement(spec, parents, conditions, page, gate, cursor)
        rows = await fetch_rows(ctx.session, statement)
        if cursor is not None and not rows:
            await check_cursor(ctx.session, spec.table, cursor, gate)
        grouped = group_by(rows, "_parent")
        return [grouped.get(parent, []) for parent in parents]

    return loader(ctx, f"{spec.name}:{page.size}:{page.after}:{arguments!r}", load)


def nested_count_loader(
    ctx: RequestContext,
    spec: NestedList,
    conditions: Sequence[ColumnElement[bool]],
    arguments: Hashable,
) -> DataLoader[Any, int]:
    """Counts of the relation's rows per parent, one statement per batch."""

    async def load(parents: list[Any]) -> list[int]:
        rows = spec.rows().where(spec.parent.in_(parents), *conditions).subquery("counted")
        statement = select(rows.c["_parent"], func.count()).group_by(rows.c["_parent"])
        counts = {parent: count for parent, count in (await ctx.session.execute(statement)).all()}
        return [int(counts.get(parent, 0)) for parent in parents]

    return loader(ctx, f"{spec.name}:count:{arguments!r}", load)


async def related_connection(
    info: Info[RequestContext, Any],
    spec: NestedList,
    cls: type[T],
    key: Any,
    *,
    first: int | None,
    after: str | None,
    filter: object | None = None,
    prepare: Callable[[list[Row]], Sequence[Row]] | None = None,
    **build_options: Any,
) -> Connection[T] | None:
    """A to-many relation as a connection: denied as a whole by policy, else one page of
    each parent's rows, batch-loaded for all parents and shaped. `filter` is the
    relation's filter input, if it has one; `prepare` as for `root_connection`."""
    if relation_denied(info):
        return None
    ctx = info.context
    settings = ctx.settings
    page = page_request(
        first, after, default=settings.default_page_size, maximum=settings.max_page_size
    )
    if page.after is not None:
        cursor_uuid(page.after)
    conditions = [spec.scope_predicate(ctx.access.rows)]
    arguments: Hashable = ()
    if spec.filter is not None:
        values = checked_filter(ctx, filter, spec.filter.coordinates)
        conditions += spec.filter.conditions(ctx.access.rows, values, ctx.access.today)
        arguments = tuple(sorted(values.items()))
    rows = await nested_rows_loader(ctx, spec, page, conditions, arguments).load(key)
    shown = rows[: page.size]
    nodes = build(
        cls,
        prepare(shown) if prepare else shown,
        ctx,
        info,
        through=CONNECTION_PATH,
        **build_options,
    )

    async def count() -> int:
        return await nested_count_loader(ctx, spec, conditions, arguments).load(key)

    return make_connection(
        nodes, shown, page, key=lambda row: [row["id"]], more=len(rows) > page.size, counter=count
    )
