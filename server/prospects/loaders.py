"""Batched reads of prospects."""

from __future__ import annotations

from sqlalchemy import select

from server.graphql.context import RequestContext
from server.graphql.loading import Row
from server.graphql.relay import PageRequest, fetch_page
from server.prospects.models import Prospect

prospect_table = Prospect.__table__  # type: ignore[attr-defined]


async def prospect_page(*, ctx: RequestContext, page: PageRequest) -> list[Row]:
    scope = ctx.access.rows("Prospect")
    return await fetch_page(
        ctx.session,
        select(prospect_table).where(scope),
        table=prospect_table,
        sort_column="id",
        page=page,
        visible_predicate=scope,
    )
