"""GraphQL types of the organisations domain."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from server.graphql.fields import data, graphql_enum
from server.graphql.globalid import Node
from server.organisations.models import OrganisationKind

graphql_enum(
    OrganisationKind, description="The company itself, a subcontractor, partner or authority."
)


@strawberry.type(description="An organisation: the company, a subcontractor, partner or authority.")
class Organisation(Node):
    code: str | None = data("Short stable code.")
    name: str | None = data("Name of the organisation.")
    business_id: str | None = data("Finnish business ID (Y-tunnus).")
    kind: OrganisationKind | None = data("Kind of organisation.")
    description: str | None = data("What the organisation does for the company.")
    country: str | None = data(
        "Where the organisation is established (ISO 3166-1 alpha-2, e.g. FI). Data goes "
        "only to organisations inside the EU/EEA (privacy notice section 8)."
    )


@strawberry.type(description="Access granted to an organisation over a customer or a site.")
class Assignment(Node):
    purpose: str | None = data("Purpose of processing the assignment is for.")
    valid_from: date | None = data("First day of the assignment.")
    valid_to: date | None = data("Last day of the assignment (null: until revoked).")
    revoked_at: datetime | None = data("When the assignment was revoked.")
