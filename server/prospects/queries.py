"""Root query fields of the prospects domain."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from server.graphql.connections import checked_order, root_connection
from server.graphql.context import RequestContext
from server.graphql.guards import open_page
from server.graphql.ordering import OrderBy, OrderInput, Sortable, SortField
from server.graphql.relay import ID_KEY, After, Before, Connection, First, Last
from server.prospects.loaders import prospect_table
from server.prospects.types import Prospect

PROSPECT_ORDER = Sortable(
    "Prospect",
    prospect_table,
    {
        "LAST_NAME": SortField("last_name", "Prospect.lastName", "Last name."),
        "CAMPAIGN": SortField("campaign", "Prospect.campaign", "Campaign of the consent."),
        "MARKETING_CONSENT_AT": SortField(
            "marketing_consent_at", "Prospect.marketingConsentAt", "When consent was given."
        ),
        "CONSENT_EXPIRES_ON": SortField(
            "consent_expires_on", "Prospect.consentExpiresOn", "Last day of the consent."
        ),
        "CREATED_AT": SortField("created_at", "Prospect.createdAt", "When stored."),
    },
    (ID_KEY,),
)


class ProspectOrder(OrderInput, sortable=PROSPECT_ORDER):
    pass


@strawberry.type(description="Prospect queries.")
class ProspectQuery:
    @strawberry.field(description="Prospects with a valid marketing consent, one page at a time.")
    async def prospects(
        self,
        info: Info[RequestContext, Any],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: OrderBy[ProspectOrder] = None,
    ) -> Connection[Prospect]:
        ctx = info.context
        page = open_page(ctx, first, after, last=last, before=before, type_name="Prospect")
        if page is None:
            return Connection.empty()
        terms = checked_order(ctx, PROSPECT_ORDER, order_by)
        return await root_connection(
            info, Prospect, PROSPECT_ORDER, page, terms=terms, subject=None, prospect="id"
        )
