"""Root query fields of the prospects domain."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from server.graphql.context import RequestContext
from server.graphql.guards import uuid_cursor
from server.graphql.relay import Connection, make_connection, page_request
from server.graphql.shaping import build
from server.prospects.loaders import prospect_page
from server.prospects.types import Prospect


@strawberry.type(description="Prospect queries.")
class ProspectQuery:
    @strawberry.field(description="Prospects with a valid marketing consent, one page at a time.")
    async def prospects(
        self,
        info: Info[RequestContext, Any],
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="Cursor.")] = None,
    ) -> Connection[Prospect]:
        ctx = info.context
        page = page_request(
            first,
            after,
            default=ctx.settings.default_page_size,
            maximum=ctx.settings.max_page_size,
            key_parts=1,
        )
        if page.after:
            uuid_cursor(page.after[0])
        if not ctx.access.can_see_rows("Prospect"):
            return Connection.empty()
        rows = await prospect_page(ctx=ctx, page=page)
        nodes = build(
            Prospect,
            rows[: page.first],
            ctx,
            info,
            through=("edges", "node"),
            subject=None,
            prospect="id",
        )
        return make_connection(nodes, rows, page, key=lambda row: [row["id"]])
