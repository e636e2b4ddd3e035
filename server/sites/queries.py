"""Root query fields of the sites domain."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from server.graphql.context import RequestContext
from server.graphql.guards import open_page, parse_id, require_readable_for_filter, uuid_cursor
from server.graphql.relay import Connection, make_connection
from server.graphql.shaping import build, build_one
from server.sites.loaders import site_filter_conditions, site_page, sites_by_id
from server.sites.types import Site, SiteFilter


@strawberry.type(description="Usage site queries.")
class SiteQuery:
    @strawberry.field(description="One usage site by ID; null when unknown or outside your scope.")
    async def site(self, info: Info[RequestContext, Any], id: strawberry.ID) -> Site | None:
        ctx = info.context
        site_id = parse_id(id)
        if site_id is None or not ctx.access.can_see_rows("Site"):
            return None
        return build_one(Site, await sites_by_id(ctx).load(site_id), ctx, info)

    @strawberry.field(description="Usage sites in a stable order, one page at a time.")
    async def sites(
        self,
        info: Info[RequestContext, Any],
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="Cursor.")] = None,
        filter: Annotated[SiteFilter | None, strawberry.argument(description="Filters.")] = None,
    ) -> Connection[Site]:
        ctx = info.context
        page = open_page(ctx, first, after, type_name="Site", cursor=uuid_cursor)
        if page is None:
            return Connection.empty()
        metering_point_id = (filter.metering_point_id or None) if filter else None
        if metering_point_id is not None:
            require_readable_for_filter(ctx, "Site.meteringPointId", "filter.meteringPointId")
        conditions = site_filter_conditions(ctx.access.rows, metering_point_id=metering_point_id)
        rows = await site_page(ctx=ctx, conditions=conditions, page=page)
        nodes = build(Site, rows[: page.first], ctx, info, through=("edges", "node"))
        return make_connection(nodes, rows, page, key=lambda row: [row["id"]])
