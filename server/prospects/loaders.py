"""Batched reads of prospects."""

from __future__ import annotations

from sqlalchemy import select

from server.graphql.context import RequestContext
from server.graphql.loading import Row, fetch_rows
from server.graphql.relay import PageRequest
from server.prospects.models import Prospect

prospect_table = Prospect.__table__  # type: ignore[attr-defined]


async def prospect_page(*, ctx: RequestContext, page: PageRequest) -> list[Row]:
    statement = select(prospect_table).where(ctx.access.rows("Prospect"))
    if page.after:
        statement = statement.where(prospect_table.c.id > page.after[0])
    statement = statement.order_by(prospect_table.c.id).limit(page.first + 1)
    return await fetch_rows(ctx.session, statement)
