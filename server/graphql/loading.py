"""Batch loading helpers: one `= ANY(...)` query per relation and request, never per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Table, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from server.graphql.context import RequestContext

K = TypeVar("K", bound=Hashable)
Row = Mapping[str, Any]
RowLoader = DataLoader[Any, Row | None]  # rows by key; None for a key without a (visible) row


async def fetch_rows(session: AsyncSession, statement: Select[Any]) -> list[Row]:
    result = await session.execute(statement)
    return list(result.mappings().all())


def group_by(rows: Sequence[Row], key: str) -> dict[Any, list[Row]]:
    grouped: dict[Any, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


def loader(
    ctx: RequestContext, name: str, load: Callable[[list[K]], Awaitable[Sequence[Any]]]
) -> DataLoader[K, Any]:
    """The request's DataLoader called `name`, created on first use."""
    existing = ctx.loaders.get(name)
    if existing is None:
        existing = DataLoader(load_fn=load)
        ctx.loaders[name] = existing
    return existing


def children_loader(
    ctx: RequestContext,
    name: str,
    statement: Callable[[list[Any]], Select[Any]],
    parent_key: str,
) -> DataLoader[Any, list[Row]]:
    """Loads child rows for many parents with one statement and groups them by parent."""

    async def load(keys: list[Any]) -> list[list[Row]]:
        rows = await fetch_rows(ctx.session, statement(keys))
        grouped = group_by(rows, parent_key)
        return [grouped.get(k, []) for k in keys]

    return loader(ctx, name, load)


def by_id_loader(
    ctx: RequestContext, name: str, statement: Callable[[list[Any]], Select[Any]]
) -> RowLoader:
    async def load(keys: list[Any]) -> list[Row | None]:
        rows = await fetch_rows(ctx.session, statement(keys))
        found = {row["id"]: row for row in rows}
        return [found.get(k) for k in keys]

    return loader(ctx, name, load)


def rows_by_id(ctx: RequestContext, table: Table, scope: str | None) -> RowLoader:
    """The request's loader of `table`'s rows by ID: those in the row scope of the type
    `scope`, or every row for a type without row scopes (None)."""

    def statement(ids: list[Any]) -> Select[Any]:
        conditions: list[ColumnElement[bool]] = [table.c.id.in_(ids)]
        if scope is not None:
            conditions.append(ctx.access.rows(scope))
        return select(table).where(*conditions)

    return by_id_loader(ctx, f"{table.name}_by_id", statement)
