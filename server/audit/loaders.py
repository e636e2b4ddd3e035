"""Batched reads of the access log for nested fields: the objects of the entries of a
page, and the history of each customer on a page.

The runtime role cannot read the log tables; every read goes through a SECURITY DEFINER
function (migrations/sql/access_log_pages.sql and access_log_v2.sql). The loaders return
rows; the types shape them by the policy.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from strawberry.dataloader import DataLoader

from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.loading import Row, loader

OBJECTS = text("SELECT * FROM access_log_objects(CAST(:ids AS uuid[]), :start, :end, :limit)")
HISTORY_PAGE = text(
    "SELECT * FROM access_history_page("
    "CAST(:ids AS uuid[]), :purpose, :start, :end, :before_position, :limit)"
)
HISTORY_COUNT = text(
    "SELECT * FROM access_history_count(CAST(:ids AS uuid[]), :purpose, :start, :end)"
)
HISTORY_HAS_POSITION = text("SELECT access_history_has_position(CAST(:ids AS uuid[]), :position)")


# ---------------------------------------------------------------------------------------
# AccessLogEntry.objects
# ---------------------------------------------------------------------------------------


def object_row(row: Any, nth: int = 1) -> dict[str, Any]:
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


def objects_loader(ctx: RequestContext, first: int | None) -> DataLoader[Any, list[Row]]:
    """Objects of entries keyed by (request ID, time), at most `first` of each (None: all)."""

    async def load(keys: list[tuple[uuid.UUID, datetime]]) -> list[list[Row]]:
        result = await ctx.session.execute(
            OBJECTS,
            {
                "ids": [request_id for request_id, _ in keys],
                "start": min(at for _, at in keys),
                "end": max(at for _, at in keys),
                "limit": first,
            },
        )
        grouped: dict[uuid.UUID, list[Row]] = {}
        previous: tuple[Any, int] = (None, 0)
        for row in result:  # in (request, seq, place in the subject row) order
            previous = (row.seq, previous[1] + 1 if previous[0] == row.seq else 1)
            grouped.setdefault(row.request_id, []).append(object_row(row, previous[1]))
        return [grouped.get(request_id, []) for request_id, _ in keys]

    return loader(ctx, f"access_log_objects:{first}", load)


# ---------------------------------------------------------------------------------------
# Customer.accessHistory
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """The filters of a customer's history (None: not given)."""

    purpose: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def parameters(self) -> dict[str, Any]:
        return {"purpose": self.purpose, "start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of each customer's history: the entries after the one at position `after`
    (older ones; None: from the newest), at most `limit` of them (None: every entry)."""

    filter: HistoryFilter = HistoryFilter()
    after: int | None = None
    limit: int | None = None


def history_row(row: Any, purposes: Mapping[str, str]) -> dict[str, Any]:
    """An entry: `id` is the request's log position, `position` the entry's place in the
    customer's history (what a cursor names)."""
    return {
        "id": str(row.seq),
        "position": row.entry_position,
        "customer_id": row.customer_id,
        "at": row.at,
        "purpose": row.purpose,
        "purpose_description": purposes.get(row.purpose) if row.purpose else None,
        "operations": list(row.operations),
        "data_categories": list(row.data_categories),
    }


def history_loader(ctx: RequestContext, page: HistoryPage) -> DataLoader[uuid.UUID, list[Row]]:
    """Each customer's page, newest first: one statement per batch of customers. A cursor
    must name an entry of one of their histories, else it is refused."""

    async def load(customer_ids: list[uuid.UUID]) -> list[list[Row]]:
        parameters = {
            "ids": list(customer_ids),
            "before_position": page.after,
            "limit": page.limit,
            **page.filter.parameters(),
        }
        result = await ctx.session.execute(HISTORY_PAGE, parameters)
        purposes: Mapping[str, str] = ctx.access.policy.purposes
        grouped: dict[uuid.UUID, list[Row]] = {}
        for row in result:
            grouped.setdefault(row.customer_id, []).append(history_row(row, purposes))
        if page.after is not None and not grouped:
            await _check_position(ctx, customer_ids, page.after)
        return [grouped.get(customer_id, []) for customer_id in customer_ids]

    return loader(ctx, f"access_history:{page!r}", load)


async def _check_position(
    ctx: RequestContext, customer_ids: list[uuid.UUID], position: int
) -> None:
    known = await ctx.session.scalar(
        HISTORY_HAS_POSITION, {"ids": list(customer_ids), "position": position}
    )
    if not known:
        raise UserInputError(
            "Invalid cursor: it points at no row you can see", field="after", reason="unknown row"
        )


def history_count_loader(ctx: RequestContext, chosen: HistoryFilter) -> DataLoader[uuid.UUID, int]:
    """How many entries each customer's history has under the filters, one statement per
    batch."""

    async def load(customer_ids: list[uuid.UUID]) -> list[int]:
        result = await ctx.session.execute(
            HISTORY_COUNT, {"ids": list(customer_ids), **chosen.parameters()}
        )
        counts = {row.customer_id: int(row.total) for row in result}
        return [counts.get(customer_id, 0) for customer_id in customer_ids]

    return loader(ctx, f"access_history_count:{chosen!r}", load)
