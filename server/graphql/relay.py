"""Relay-style connections with opaque keyset cursors and a capped page size."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar, Union

import orjson
import strawberry
from sqlalchemy import ColumnElement, Select, exists, select, tuple_
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


@strawberry.type(description="Where a page ends and whether more follows.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when another page follows.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge; pass it as `after` to get the next page."
    )


@strawberry.type(description="One item of a page, with the cursor that points at it.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of items in a stable order.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page.")
    page_info: PageInfo = strawberry.field(description="Paging information.")

    @classmethod
    def empty(cls) -> Connection[T]:
        return cls(edges=[], page_info=PageInfo(has_next_page=False, end_cursor=None))


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([str(v) for v in values])).decode()


def decode_cursor(cursor: str, *, parts: int) -> list[str]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise UserInputError("Invalid cursor", field="after", reason="not a cursor") from exc
    if (
        not isinstance(values, list)
        or len(values) != parts
        or not all(isinstance(v, str) for v in values)
    ):
        raise UserInputError("Invalid cursor", field="after", reason="not a cursor")
    return values


@dataclass(frozen=True, slots=True)
class PageRequest:
    first: int
    after: list[str] | None


def page_request(
    first: int | None, after: str | None, *, default: int, maximum: int, key_parts: int
) -> PageRequest:
    size = default if first is None else first
    if size < 0 or size > maximum:
        raise UserInputError(
            f"first must be between 0 and {maximum}", field="first", reason="out of range"
        )
    return PageRequest(size, decode_cursor(after, parts=key_parts) if after else None)


def cursor_id(page: PageRequest) -> uuid.UUID:
    """The row ID a page's cursor points at (cursors carry only row IDs, never a sort value
    the caller might not be allowed to read)."""
    assert page.after, "only for a page that continues after a cursor"
    try:
        return uuid.UUID(page.after[0])
    except ValueError as exc:
        raise UserInputError("Invalid cursor", field="after", reason="not a cursor") from exc


def _sort_columns(table: Any, sort_column: str | Sequence[str]) -> list[Any]:
    names = [sort_column] if isinstance(sort_column, str) else list(sort_column)
    return [table.c[name] for name in names]


def after_condition(
    table: Any,
    sort_column: str | Sequence[str],
    cursor_id: Any,
    visible_predicate: ColumnElement[bool],
    *,
    descending: bool,
) -> ColumnElement[bool]:
    """Rows of `table` after the row `cursor_id` in the order of `sort_column` (one column
    name, or several for a row comparison; the last should be unique).

    The cursor's row is looked up under `visible_predicate`, the same row scope as the page
    (normally `ctx.access.rows(TypeName)`): a cursor naming a row outside the scope, or an
    unknown one, has no position and the condition matches nothing (see `check_cursor`).
    `cursor_id` may be a value or a bind parameter."""
    columns = _sort_columns(table, sort_column)
    position = select(*columns).where(table.c["id"] == cursor_id, visible_predicate)
    left: Any = columns[0] if len(columns) == 1 else tuple_(*columns)
    right = position.scalar_subquery()
    condition: ColumnElement[bool] = left < right if descending else left > right
    return condition


def cursor_visible(table: Any, cursor_id: Any, visible_predicate: ColumnElement[bool]) -> Any:
    """EXISTS: the cursor's row is a row of `table` inside the scope."""
    return exists().where(table.c["id"] == cursor_id, visible_predicate)


async def check_cursor(
    session: AsyncSession, table: Any, cursor_id: Any, visible_predicate: ColumnElement[bool]
) -> None:
    """After an empty page: was it empty because the cursor is outside the scope (or
    unknown)? Then the cursor is refused, so it cannot be used to probe other rows."""
    if not await session.scalar(select(cursor_visible(table, cursor_id, visible_predicate))):
        raise UserInputError(
            "Invalid cursor: it points at no row you can see", field="after", reason="unknown row"
        )


async def fetch_page(
    session: AsyncSession,
    statement: Select[Any],
    *,
    table: Any,
    sort_column: str | Sequence[str],
    page: PageRequest,
    visible_predicate: ColumnElement[bool],
    descending: bool = False,
) -> list[Mapping[str, Any]]:
    """One keyset page: `statement` (rows of `table` already limited by the scope and the
    filters) continued after the cursor under the same scope, ordered by `sort_column` and
    fetched with LIMIT first + 1 in one statement. An empty page after a cursor outside the
    scope (or unknown) is refused with BAD_USER_INPUT on `after`."""
    after = cursor_id(page) if page.after else None
    if after is not None:
        statement = statement.where(
            after_condition(table, sort_column, after, visible_predicate, descending=descending)
        )
    columns = _sort_columns(table, sort_column)
    statement = statement.order_by(*(c.desc() if descending else c for c in columns)).limit(
        page.first + 1
    )
    rows = list((await session.execute(statement)).mappings().all())
    if after is not None and not rows:
        await check_cursor(session, table, after, visible_predicate)
    return rows


def make_connection(
    nodes: Sequence[T], rows: Sequence[Any], page: PageRequest, key: Callable[[Any], Sequence[Any]]
) -> Connection[T]:
    """`rows` were fetched with LIMIT first + 1; the extra one only says a next page exists."""
    has_next = len(rows) > page.first
    edges = [
        Edge(cursor=encode_cursor(key(row)), node=node)
        for node, row in zip(nodes[: page.first], rows[: page.first], strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None),
    )
