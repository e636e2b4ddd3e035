"""Mutations of the data-subject rights: objections, restriction of processing, the
requests register and the register of disclosures.

The rules are in server/rights/service.py; a resolver reads its input, calls the service
and shapes the rows it returns.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from server.customers.mutations import CUSTOMER_ANSWER, CustomerPayload
from server.graphql.inputs import change_arguments, optional
from server.graphql.mutation import mutation, object_answer
from server.rights import service
from server.rights.models import RecipientKind, RequestChannel, RequestKind, RequestStatus
from server.rights.types import DataSubjectRequest, Disclosure


@strawberry.enum(description="What a customer may forbid (privacy notice section 10).")
class ObjectionKind(Enum):
    DIRECT_MARKETING = "direct_marketing"
    DISTANCE_SELLING = "distance_selling"
    RESEARCH = "research"


@strawberry.input(description="An objection given by the customer, with its date and source.")
class SetObjectionInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    kind: ObjectionKind = strawberry.field(description="What the customer forbids.")
    source: str = strawberry.field(description="How it was given (letter, phone call...).")
    given_at: datetime | None = optional("When it was given (default now).")
    request_id: strawberry.ID | None = optional("The customer's objection request it answers.")


@strawberry.input(description="Withdrawal of an objection by the customer.")
class WithdrawObjectionInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    kind: ObjectionKind = strawberry.field(description="The objection withdrawn.")
    source: str = strawberry.field(description="How the withdrawal was given.")
    request_id: strawberry.ID | None = optional("The request it answers.")


@strawberry.input(
    description="Restriction of processing (GDPR Art. 18): a restricted customer is hidden "
    "from every purpose except billing and collection of existing debts and legal claims."
)
class SetProcessingRestrictionInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    restricted: bool = strawberry.field(description="True restricts, false lifts it.")
    reason: str | None = optional("Why (free text).")
    request_id: strawberry.ID | None = optional("The customer's restriction request it answers.")


@strawberry.input(description="A request received from a data subject.")
class RecordDataSubjectRequestInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer who made it.")
    kind: RequestKind = strawberry.field(description="What is asked for.")
    channel: RequestChannel = strawberry.field(description="How it came in.")
    received_on: date = strawberry.field(description="When it was received.")
    reference: str | None = optional("Reference of the letter or case.")
    handler: str | None = optional("Who handles it (default: you).")
    notes: str | None = optional("Notes of the handler.")


@strawberry.input(description="Progress of a request: only the fields given change.")
class UpdateDataSubjectRequestInput:
    request_id: strawberry.ID = strawberry.field(description="The request.")
    status: RequestStatus | None = optional("New status.")
    handler: str | None = optional("Who handles it.")
    extended_due_on: date | None = optional(
        "Extended deadline, at most two further months (Art. 12(3)); say why in notes."
    )
    completed_on: date | None = optional("When the answer was given (default today on completion).")
    notes: str | None = optional("Notes of the handler.")


@strawberry.input(
    description="A disclosure made to an authority or another energy company (notice section 7)."
)
class RecordDisclosureInput:
    recipient: str = strawberry.field(description="Who received the data.")
    recipient_kind: RecipientKind = strawberry.field(description="Authority or energy company.")
    legal_basis: str = strawberry.field(description="The law or decision it was made under.")
    case_reference: str = strawberry.field(description="Case or decision number.")
    disclosed_on: date = strawberry.field(description="When the data was disclosed.")
    customer_ids: list[strawberry.ID] = strawberry.field(description="Customers concerned.")
    fields: list[str] = strawberry.field(
        description="Coordinates of the fields disclosed, e.g. Customer.email."
    )
    confidential: bool = strawberry.field(
        default=False,
        description="The legal basis requires secrecy: left out of the access report.",
    )
    organisation_id: strawberry.ID | None = optional("The recipient as a registered organisation.")
    recipient_country: str | None = optional(
        "Where the recipient is (ISO 3166-1 alpha-2); default: the organisation's country, "
        "else FI. A recipient outside the EU/EEA is refused (privacy notice section 8)."
    )


@strawberry.type(description="A request of the requests register after a change.")
class DataSubjectRequestPayload:
    request: DataSubjectRequest | None = strawberry.field(description="The request.")


@strawberry.type(description="A disclosure after it was recorded.")
class DisclosurePayload:
    disclosure: Disclosure | None = strawberry.field(description="The disclosure.")


@strawberry.type(description="Mutations of the data-subject rights.")
class RightsMutation:
    set_objection = mutation(
        service.set_objection, SetObjectionInput, CustomerPayload, CUSTOMER_ANSWER
    )
    withdraw_objection = mutation(
        service.withdraw_objection, WithdrawObjectionInput, CustomerPayload, CUSTOMER_ANSWER
    )
    set_processing_restriction = mutation(
        service.set_processing_restriction,
        SetProcessingRestrictionInput,
        CustomerPayload,
        CUSTOMER_ANSWER,
    )
    record_data_subject_request = mutation(
        service.record_data_subject_request,
        RecordDataSubjectRequestInput,
        DataSubjectRequestPayload,
    )
    update_data_subject_request = mutation(
        service.update_data_subject_request,
        UpdateDataSubjectRequestInput,
        DataSubjectRequestPayload,
        arguments=change_arguments,
    )
    record_disclosure = mutation(
        service.record_disclosure,
        RecordDisclosureInput,
        DisclosurePayload,
        object_answer(subject=None),
    )
