"""Relay-style connections with opaque keyset cursors and a capped page size."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
import strawberry
from sqlalchemy import select

from server.graphql.errors import UserInputError

T = TypeVar("T")


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


def after_row(table: Any, column: str, after: PageRequest) -> Any:
    """The sort value of the row a cursor points at. Cursors carry only the row's ID (which
    the caller can see anyway), never a sort value the caller might not be allowed to read."""
    assert after.after, "only for a page that continues after a cursor"
    return (
        select(table.c[column]).where(table.c["id"] == uuid.UUID(after.after[0])).scalar_subquery()
    )


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
