"""The dates and purposes of every access to a person's data, from the access log."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.graphql.context import RequestContext

_HISTORY = text(
    "SELECT seq, at, purpose, operations, data_categories FROM access_history(:customer_id)"
)


def _value(entry: Any, name: str, default: Any = None) -> Any:
    if isinstance(entry, Mapping):
        return entry.get(name, default)
    return getattr(entry, name, default)


def _row(entry: Any, customer_id: uuid.UUID, position: int) -> dict[str, Any]:
    seq = _value(entry, "seq", position)
    return {
        "id": str(seq),
        "customer_id": customer_id,
        "at": _value(entry, "at"),
        "purpose": _value(entry, "purpose"),
        "operations": list(_value(entry, "operations", None) or []),
        "data_categories": list(_value(entry, "data_categories", None) or []),
    }


async def history_rows(session: AsyncSession, customer_id: uuid.UUID) -> list[dict[str, Any]]:
    """Straight from the log's reading function (it names no principal, by design)."""
    result = await session.execute(_HISTORY, {"customer_id": customer_id})
    return [_row(row, customer_id, i) for i, row in enumerate(result.mappings())]


async def access_events(ctx: RequestContext, customer_id: uuid.UUID) -> list[dict[str, Any]]:
    """Newest first. Uses the access log's own query API when it is installed."""
    try:
        from server.audit.queries import access_history
    except ImportError:
        return await history_rows(ctx.session, customer_id)
    entries = await access_history(ctx=ctx, customer_id=customer_id)
    return [_row(entry, customer_id, i) for i, entry in enumerate(entries)]
