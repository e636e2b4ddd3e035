"""Mutations of prospects (privacy notice section 6): a prospect is stored only with a
recorded consent to marketing, and withdrawing the consent erases the prospect.

The rules are in server/prospects/service.py; a resolver reads its input, calls the
service and shapes what it returns.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from server.graphql.context import RequestContext
from server.graphql.globalid import to_global_id
from server.graphql.inputs import input_values, optional, value_of
from server.graphql.mutation import mutation, object_answer
from server.graphql.payloads import payload
from server.prospects import service
from server.prospects.models import ProspectSource
from server.prospects.types import Prospect


@strawberry.input(description="The prospect's consent to marketing and to being contacted.")
class MarketingConsentInput:
    given_at: datetime = strawberry.field(description="When the consent was given.")
    text: str = strawberry.field(description="The consent text the prospect agreed to.")
    expires_on: date | None = optional("Last day the consent is relied on (default two years).")


@strawberry.input(description="A potential customer, stored only with marketing consent.")
class CreateProspectInput:
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    source: ProspectSource = strawberry.field(description="Where the prospect came from.")
    consent: MarketingConsentInput | None = optional("The recorded marketing consent (required).")
    email: str | None = optional("E-mail address (an e-mail or a phone is required).")
    phone: str | None = optional("Phone number.")
    postal_code: str | None = optional("Postal code.")
    campaign: str | None = optional("Campaign the consent was collected in.")


@strawberry.input(description="The prospect withdraws their consent: the prospect is erased.")
class WithdrawProspectConsentInput:
    prospect_id: strawberry.ID = strawberry.field(description="The prospect.")


@strawberry.type(description="A prospect after it was stored.")
class ProspectPayload:
    prospect: Prospect | None = strawberry.field(description="The prospect as your role sees it.")


@strawberry.type(description="A prospect erased after withdrawing consent.")
class ProspectErasurePayload:
    prospect_id: strawberry.ID | None = strawberry.field(
        description="Global ID of the erased prospect (the access log keeps its UUID only)."
    )
    erased_at: datetime | None = strawberry.field(description="When the prospect was erased.")


def _arguments(input: CreateProspectInput) -> dict[str, Any]:
    """The prospect's fields, with the consent (if recorded) as the service takes it."""
    consent = value_of(input.consent)
    if consent is not None:
        consent = service.Consent(consent.given_at, consent.text, value_of(consent.expires_on))
    return {**input_values(input, exclude=("consent",)), "consent": consent}


def _erased(
    info: Info[RequestContext, Any], cls: type[ProspectErasurePayload], prospect_id: uuid.UUID
) -> ProspectErasurePayload:
    global_id = strawberry.ID(to_global_id("Prospect", prospect_id))
    return payload(cls, info.context, prospect_id=global_id, erased_at=datetime.now(UTC))


@strawberry.type(description="Prospect mutations.")
class ProspectMutation:
    create_prospect = mutation(
        service.create_prospect,
        CreateProspectInput,
        ProspectPayload,
        object_answer(subject=None, prospect="id"),
        arguments=_arguments,
    )
    withdraw_prospect_consent = mutation(
        service.withdraw_prospect_consent,
        WithdrawProspectConsentInput,
        ProspectErasurePayload,
        _erased,
    )
