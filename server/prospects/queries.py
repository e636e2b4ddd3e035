"""Root query fields of the prospects domain."""

from __future__ import annotations

import strawberry

from server.graphql.connections import RootPage, root_connection, root_connection_field
from server.graphql.ordering import Sortable, SortField
from server.graphql.relay import ID_KEY, Connection
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


async def prospects_page(asked: RootPage[None]) -> Connection[Prospect]:
    """Prospects with a valid marketing consent, one page at a time."""
    return await root_connection(asked, Prospect, PROSPECT_ORDER, subject=None, prospect="id")


@strawberry.type(description="Prospect queries.")
class ProspectQuery:
    prospects = root_connection_field(Prospect, PROSPECT_ORDER, prospects_page)
