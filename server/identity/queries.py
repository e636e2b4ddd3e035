"""The `me` query: who the server thinks the caller is, and what they may act under."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from server.authz.principal import PrincipalKind
from server.graphql.context import RequestContext
from server.graphql.fields import graphql_enum

graphql_enum(
    PrincipalKind,
    name="PrincipalKind",
    description="How the caller authenticated: a person's login or a system's API key.",
)


@strawberry.type(
    description=(
        "The authenticated caller. Front ends use it to show who is logged in and to offer "
        "only the purposes the caller may choose (sent as the X-Purpose header)."
    )
)
class Me:
    username: str = strawberry.field(
        description="Login name of the user, or the name of the API key."
    )
    organisation: str = strawberry.field(
        description="Code of the caller's organisation: the company itself or a subcontractor."
    )
    roles: list[str] = strawberry.field(
        description="Roles the caller holds now, as named in the access policy."
    )
    purposes: list[str] = strawberry.field(
        description="Purposes of processing the caller's roles allow, in alphabetical order."
    )
    kind: PrincipalKind = strawberry.field(
        description="Whether the caller is a user or an API key."
    )


@strawberry.type(description="Queries about the caller's own identity.")
class MeQuery:
    @strawberry.field(description="The authenticated caller, with roles and allowed purposes.")
    def me(self, info: Info[RequestContext, Any]) -> Me:
        ctx = info.context
        principal = ctx.principal
        purposes = ctx.access.policy.purposes_for(principal.roles)
        return Me(
            username=principal.name,
            organisation=principal.organisation_code,
            roles=sorted(principal.roles),
            purposes=sorted(purposes),
            kind=principal.kind,
        )
