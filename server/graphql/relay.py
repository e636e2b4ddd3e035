"""Relay cursor connections: opaque keyset cursors over an order with a unique tie-breaker,
forwards (`first`/`after`) and backwards (`last`/`before`), and counts on demand.

A cursor names a row (its ID), never a sort value: the page resumes at that row's position
in the order asked for, looked up in SQL under the same row scope as the page, so a cursor
outside the scope (or a forged one) has no position and is refused. The order is a list of
`SortKey`s whose last key is unique and not null (the ID when nothing else is), so a
position is always exact and cursors stay stable.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeAlias, TypeVar, Union

import orjson
import strawberry
from sqlalchemy import ColumnElement, Select, Table, and_, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.graphql.errors import UserInputError

T = TypeVar("T")
V = TypeVar("V")

# The source of row predicates a filter builder takes: normally `ctx.access.rows`, or for SQL
# built once with bind parameters `lambda t: access.rows_with(t, ScopeEnv(bindparam(...)))`.
Visible: TypeAlias = Callable[[str], ColumnElement[bool]]
# A filter value: a Python value, a bind parameter (or any SQL expression), or None for a
# filter not given. Filter builders use values only inside SQL.
FilterValue: TypeAlias = Union[V, ColumnElement[Any], None]  # noqa: UP007


def columns_equal(table: Table, **values: FilterValue[Any]) -> list[ColumnElement[bool]]:
    """Filter conditions that each named column of `table` equals its value; a filter not
    given (None) adds none."""
    return [table.c[name] == value for name, value in values.items() if value is not None]


def flag_condition(
    condition: ColumnElement[bool], wanted: FilterValue[bool]
) -> ColumnElement[bool]:
    """A yes-or-no filter on `condition`: rows where it holds (True), where it does not
    (False), or where it equals a bind parameter (a statement built once)."""
    if isinstance(wanted, bool):
        return condition if wanted else ~condition
    return condition == wanted


# The paging arguments of every connection, described once.
First = Annotated[
    int | None,
    strawberry.argument(
        description="Page size counted from the start (default 20, at most the configured "
        "maximum); not with `last`."
    ),
]
After = Annotated[
    str | None, strawberry.argument(description="Cursor after which the page starts.")
]
Last = Annotated[
    int | None,
    strawberry.argument(
        description="Page size counted from the end (at most the configured maximum): the "
        "last items before `before`, or of the whole list; not with `first`."
    ),
]
Before = Annotated[
    str | None, strawberry.argument(description="Cursor before which the page ends.")
]
# The `filter` argument of a list: `filter: FilterBy[SiteFilter] = None`.
FilterBy = Annotated[T | None, strawberry.argument(description="Filters.")]


@strawberry.type(description="Where a page starts and ends, and whether more follows.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Paging forwards (`first`): true when more items follow this page. "
        "Always false when paging backwards."
    )
    has_previous_page: bool = strawberry.field(
        description="Paging backwards (`last`): true when more items precede this page. "
        "Always false when paging forwards."
    )
    start_cursor: str | None = strawberry.field(
        description="Cursor of the first edge; pass it as `before` to get the page before."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge; pass it as `after` to get the next page."
    )

    @classmethod
    def empty(cls) -> PageInfo:
        return cls(has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None)


@strawberry.type(description="One item of a page, with the cursor that points at it.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: T = strawberry.field(description="The item.")


Counter: TypeAlias = Callable[[], Awaitable[int]]


@strawberry.type(description="A page of items in a stable order.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page.")
    page_info: PageInfo = strawberry.field(description="Paging information.")
    counter: strawberry.Private[Counter | None] = None

    @strawberry.field(
        description="How many items the whole list has (within your row scope and the "
        "filters, whatever the page); counted only when asked for."
    )
    async def total_count(self) -> int:
        return 0 if self.counter is None else await self.counter()

    @classmethod
    def empty(cls) -> Connection[T]:
        return cls(edges=[], page_info=PageInfo.empty())


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([str(v) for v in values])).decode()


def decode_cursor(cursor: str, *, parts: int, field: str = "after") -> list[str]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise UserInputError("Invalid cursor", field=field, reason="not a cursor") from exc
    if (
        not isinstance(values, list)
        or len(values) != parts
        or not all(isinstance(v, str) for v in values)
    ):
        raise UserInputError("Invalid cursor", field=field, reason="not a cursor")
    return values


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Checked paging arguments: `size` items from the start (`first`) or from the end
    (`last`, `backwards`), between the rows the cursors name (their decoded values)."""

    size: int
    after: str | None = None
    before: str | None = None
    backwards: bool = False

    @property
    def cursors(self) -> tuple[tuple[str, str, bool], ...]:
        """(argument, cursor value, rows after it?) of each cursor given."""
        given = (("after", self.after, True), ("before", self.before, False))
        return tuple((name, value, after) for name, value, after in given if value is not None)


def page_request(
    first: int | None,
    after: str | None,
    *,
    default: int,
    maximum: int,
    last: int | None = None,
    before: str | None = None,
) -> PageRequest:
    if first is not None and last is not None:
        raise UserInputError(
            "first and last cannot be combined", field="last", reason="first and last given"
        )
    argument, size = ("last", last) if last is not None else ("first", first)
    size = default if size is None else size
    if size < 0 or size > maximum:
        raise UserInputError(
            f"{argument} must be between 0 and {maximum}", field=argument, reason="out of range"
        )
    return PageRequest(
        size,
        after=decode_cursor(after, parts=1)[0] if after else None,
        before=decode_cursor(before, parts=1, field="before")[0] if before else None,
        backwards=last is not None,
    )


def cursor_uuid(value: str, *, field: str = "after") -> uuid.UUID:
    """The row ID a cursor names (cursors carry only row IDs, never a sort value the caller
    might not be allowed to read)."""
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise UserInputError("Invalid cursor", field=field, reason="not a cursor") from exc


# ---------------------------------------------------------------------------------------
# Orders and keyset conditions
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SortKey:
    """One key of an order: a column of the table, its direction, and whether it may be
    NULL (NULLs sort last in either direction)."""

    column: str
    descending: bool = False
    nullable: bool = False


ID_KEY = SortKey("id")


def order_clauses(columns: Any, keys: Sequence[SortKey], *, reverse: bool) -> list[Any]:
    """ORDER BY terms for `keys` over `columns` (a table's `.c`, or a subquery's), or for
    the reverse order (paging backwards)."""
    clauses: list[Any] = []
    for key in keys:
        column = columns[key.column]
        term = column.asc() if key.descending == reverse else column.desc()
        if key.nullable:
            term = term.nulls_first() if reverse else term.nulls_last()
        clauses.append(term)
    return clauses


def _strictly_beyond(column: Any, position: Any, key: SortKey, *, after: bool) -> Any:
    """`column` lies strictly after (or before) `position` in the key's order."""
    greater = key.descending != after
    beyond = column > position if greater else column < position
    if not key.nullable:
        return beyond
    if after:  # NULLs last: nothing lies after a NULL position; NULLs lie after the rest
        return and_(position.is_not(None), or_(beyond, column.is_(None)))
    return and_(column.is_not(None), or_(position.is_(None), beyond))


def keyset_condition(
    table: Any,
    keys: Sequence[SortKey],
    cursor_id: Any,
    visible_predicate: ColumnElement[bool],
    *,
    after: bool = True,
    columns: Mapping[str, Any] | None = None,
) -> ColumnElement[bool]:
    """Rows that lie after (or before) the row `cursor_id` of `table` in the order of
    `keys` (the last key unique and not null).

    The cursor's row is looked up under `visible_predicate`, the same row scope as the page
    (normally `ctx.access.rows(TypeName)`, or a relation's rows): a cursor naming a row
    outside it, or an unknown one, matches nothing (see `check_cursor`). `cursor_id` may be
    a value or a bind parameter; `columns` are the compared columns when they are not
    `table.c` (a subquery over the table)."""
    own = columns if columns is not None else table.c
    terms: list[Any] = []
    equal: list[Any] = []
    for key in keys:
        position = (
            select(table.c[key.column])
            .where(table.c["id"] == cursor_id, visible_predicate)
            .scalar_subquery()
        )
        column = own[key.column]
        terms.append(and_(*equal, _strictly_beyond(column, position, key, after=after)))
        equal.append(column.is_not_distinct_from(position) if key.nullable else column == position)
    condition: ColumnElement[bool] = and_(
        cursor_visible(table, cursor_id, visible_predicate), or_(*terms) if terms else false()
    )
    return condition


def cursor_visible(table: Any, cursor_id: Any, visible_predicate: ColumnElement[bool]) -> Any:
    """EXISTS: the cursor's row is a row of `table` inside the scope."""
    return exists().where(table.c["id"] == cursor_id, visible_predicate)


async def check_cursor(
    session: AsyncSession,
    table: Any,
    cursor_id: Any,
    visible_predicate: ColumnElement[bool],
    *,
    field: str = "after",
) -> None:
    """After an empty page: was it empty because the cursor is outside the scope (or
    unknown)? Then the cursor is refused, so it cannot be used to probe other rows."""
    if not await session.scalar(select(cursor_visible(table, cursor_id, visible_predicate))):
        raise UserInputError(
            "Invalid cursor: it points at no row you can see", field=field, reason="unknown row"
        )


async def fetch_page(
    session: AsyncSession,
    statement: Select[Any],
    *,
    table: Any,
    keys: Sequence[SortKey],
    page: PageRequest,
    visible_predicate: ColumnElement[bool],
) -> list[Mapping[str, Any]]:
    """One keyset page: `statement` (rows of `table` already limited by the scope and the
    filters) between the cursors under the same scope, in the order of `keys` (reversed
    when paging backwards), fetched with LIMIT size + 1 in one statement. An empty page
    after a cursor outside the scope (or unknown) is refused with BAD_USER_INPUT on the
    cursor's argument. The rows come in fetch order (see `shown_rows`)."""
    cursors = [(name, cursor_uuid(value, field=name), after) for name, value, after in page.cursors]
    for _, cursor_id, after in cursors:
        statement = statement.where(
            keyset_condition(table, keys, cursor_id, visible_predicate, after=after)
        )
    statement = statement.order_by(*order_clauses(table.c, keys, reverse=page.backwards)).limit(
        page.size + 1
    )
    rows = list((await session.execute(statement)).mappings().all())
    if not rows:
        for name, cursor_id, _ in cursors:
            await check_cursor(session, table, cursor_id, visible_predicate, field=name)
    return rows


async def count_rows(session: AsyncSession, statement: Select[Any]) -> int:
    """How many rows `statement` returns (the scope and filters, no cursor and no limit)."""
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    return int(await session.scalar(counted) or 0)


def shown_rows(rows: Sequence[T], page: PageRequest) -> list[T]:
    """The rows a page shows, in the connection's order: `rows` were fetched with LIMIT
    size + 1 (the extra one only says more exist), reversed when paging backwards."""
    shown = list(rows[: page.size])
    if page.backwards:
        shown.reverse()
    return shown


def make_connection(
    nodes: Sequence[T],
    rows: Sequence[Any],
    page: PageRequest,
    key: Callable[[Any], Sequence[Any]],
    *,
    more: bool,
    counter: Counter | None = None,
) -> Connection[T]:
    """`nodes` and `rows` in the connection's order; `more`: the fetch found more rows
    beyond the page in its direction."""
    edges = [
        Edge(cursor=encode_cursor(key(row)), node=node)
        for node, row in zip(nodes, rows, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=more and not page.backwards,
            has_previous_page=more and page.backwards,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        counter=counter,
    )
