"""Root query fields of the sites domain."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from server.graphql.connections import checked_order, root_connection
from server.graphql.context import RequestContext
from server.graphql.guards import open_page, require_readable_for_filter
from server.graphql.ordering import OrderBy, OrderInput, Sortable, SortField
from server.graphql.relay import ID_KEY, After, Before, Connection, FilterBy, First, Last
from server.graphql.shaping import root_object
from server.sites.loaders import site_filter_conditions, site_table, sites_by_id
from server.sites.types import Site, SiteFilter

SITE_ORDER = Sortable(
    "Site",
    site_table,
    {
        "METERING_POINT_ID": SortField(
            "metering_point_id", "Site.meteringPointId", "Metering point ID (GSRN)."
        ),
        "POSTAL_CODE": SortField("postal_code", "Site.postalCode", "Postal code of the site."),
        "POST_OFFICE": SortField("post_office", "Site.postOffice", "Post office of the site."),
        "CONNECTED_ON": SortField("connected_on", "Site.connectedOn", "When connected."),
        "ANNUAL_CONSUMPTION_ESTIMATE_KWH": SortField(
            "annual_consumption_estimate_kwh",
            "Site.annualConsumptionEstimateKwh",
            "Estimated consumption per year.",
        ),
        "CREATED_AT": SortField("created_at", "Site.createdAt", "When registered."),
    },
    (ID_KEY,),
)


class SiteOrder(OrderInput, sortable=SITE_ORDER):
    pass


@strawberry.type(description="Usage site queries.")
class SiteQuery:
    @strawberry.field(description="One usage site by ID; null when unknown or outside your scope.")
    async def site(self, info: Info[RequestContext, Any], id: strawberry.ID) -> Site | None:
        return await root_object(info, "Site", id, sites_by_id, Site)

    @strawberry.field(description="Usage sites, in ID order unless `orderBy` says else.")
    async def sites(
        self,
        info: Info[RequestContext, Any],
        first: First = None,
        after: After = None,
        filter: FilterBy[SiteFilter] = None,
        last: Last = None,
        before: Before = None,
        order_by: OrderBy[SiteOrder] = None,
    ) -> Connection[Site]:
        ctx = info.context
        page = open_page(ctx, first, after, last=last, before=before, type_name="Site")
        if page is None:
            return Connection.empty()
        metering_point_id = (filter.metering_point_id or None) if filter else None
        if metering_point_id is not None:
            require_readable_for_filter(ctx, "Site.meteringPointId", "filter.meteringPointId")
        terms = checked_order(ctx, SITE_ORDER, order_by)
        conditions = site_filter_conditions(ctx.access.rows, metering_point_id=metering_point_id)
        return await root_connection(
            info, Site, SITE_ORDER, page, terms=terms, conditions=conditions
        )
