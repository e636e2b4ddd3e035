"""Root query fields of the sites domain."""

from __future__ import annotations

import strawberry

from server.graphql.connections import RootPage, root_connection, root_connection_field
from server.graphql.guards import require_readable_for_filter
from server.graphql.ordering import Sortable, SortField
from server.graphql.relay import ID_KEY, Connection
from server.graphql.shaping import root_object_field
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


async def sites_page(asked: RootPage[SiteFilter]) -> Connection[Site]:
    """Usage sites, in ID order unless `orderBy` says else."""
    ctx = asked.context
    metering_point_id = (asked.filter.metering_point_id or None) if asked.filter else None
    if metering_point_id is not None:
        require_readable_for_filter(ctx, "Site.meteringPointId", "filter.meteringPointId")
    conditions = site_filter_conditions(ctx.access.rows, metering_point_id=metering_point_id)
    return await root_connection(asked, Site, SITE_ORDER, conditions=conditions)


@strawberry.type(description="Usage site queries.")
class SiteQuery:
    site = root_object_field(Site, sites_by_id, noun="usage site")

    sites = root_connection_field(Site, SITE_ORDER, sites_page, filter=SiteFilter)
