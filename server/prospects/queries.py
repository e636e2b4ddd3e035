"""Root query fields of the prospects domain."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from server.graphql.context import RequestContext
from server.graphql.guards import open_page, uuid_cursor
from server.graphql.relay import Connection, make_connection
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
        page = open_page(ctx, first, after, type_name="Prospect", cursor=uuid_cursor)
        if page is None:
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
