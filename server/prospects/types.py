"""GraphQL types of the prospects domain."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from server.graphql.fields import data, graphql_enum, personal
from server.graphql.globalid import Node
from server.prospects.models import ProspectSource

graphql_enum(ProspectSource, description="Where the prospect came from.")


@strawberry.type(description="A potential customer who consented to marketing (notice section 6).")
class Prospect(Node):
    first_name: str | None = personal("First name.")
    last_name: str | None = personal("Last name.")
    email: str | None = personal("E-mail address.")
    phone: str | None = personal("Phone number.")
    postal_code: str | None = personal("Postal code.")
    source: ProspectSource | None = data("Competition, prize draw...")
    campaign: str | None = data("Campaign the consent was collected in.")
    marketing_consent_at: datetime | None = data("When marketing consent was given.")
    consent_text: str | None = data("The consent text the prospect agreed to.")
    consent_expires_on: date | None = data("Last day the consent is relied on.")
    created_at: datetime | None = data("When the prospect was stored.")
