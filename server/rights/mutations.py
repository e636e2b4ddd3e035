"""Mutations of the data-subject rights: objections, restriction of processing, the
requests register and the register of disclosures.

Objections and the restriction are columns of the customer that the row filters of the
matching purposes read (`no_direct_marketing_objection`, `not_restricted`...), so they
take effect in the very next query.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import insert, select
from strawberry.types import Info

from server.customers.models import Customer as CustomerRow
from server.customers.mutations import CustomerPayload, customer_result, update_customer
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.inputs import given_fields
from server.graphql.payloads import payload
from server.graphql.shaping import build_one
from server.operations.inputs import enum_value, not_found, parse_uuid, require_reason, text_input
from server.operations.writes import Actor, fetch_one, load_in_scope, record_write, require_write
from server.organisations.models import DEFAULT_COUNTRY
from server.organisations.models import Organisation as OrganisationRow
from server.organisations.mutations import refused_transfer
from server.privacy.transfers import TransferRefused, parse_country
from server.rights.history import request_of_customer
from server.rights.models import (
    OPEN_REQUEST_STATUSES,
    RequestStatus,
)
from server.rights.models import Disclosure as DisclosureRow
from server.rights.models import DisclosureCustomer as DisclosureCustomerRow
from server.rights.requests import (
    latest_extension,
    record_request,
    request_select,
    request_table,
    update_request,
)
from server.rights.types import (
    DataSubjectRequest,
    Disclosure,
    RecipientKindEnum,
    RequestChannelEnum,
    RequestKindEnum,
    RequestStatusEnum,
)

customer_table = CustomerRow.__table__  # type: ignore[attr-defined]
organisation_table = OrganisationRow.__table__  # type: ignore[attr-defined]
disclosure_table = DisclosureRow.__table__  # type: ignore[attr-defined]
disclosure_customer_table = DisclosureCustomerRow.__table__  # type: ignore[attr-defined]


@strawberry.enum(description="What a customer may forbid (privacy notice section 10).")
class ObjectionKind(Enum):
    DIRECT_MARKETING = "direct_marketing"
    DISTANCE_SELLING = "distance_selling"
    RESEARCH = "research"


def _opt(description: str) -> Any:
    return strawberry.field(default=strawberry.UNSET, description=description)


def _value(value: Any) -> Any:
    return None if value is strawberry.UNSET else value


@strawberry.input(description="An objection given by the customer, with its date and source.")
class SetObjectionInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    kind: ObjectionKind = strawberry.field(description="What the customer forbids.")
    source: str = strawberry.field(description="How it was given (letter, phone call...).")
    given_at: datetime | None = _opt("When it was given (default now).")
    request_id: strawberry.ID | None = _opt("The customer's objection request it answers.")


@strawberry.input(description="Withdrawal of an objection by the customer.")
class WithdrawObjectionInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    kind: ObjectionKind = strawberry.field(description="The objection withdrawn.")
    source: str = strawberry.field(description="How the withdrawal was given.")
    request_id: strawberry.ID | None = _opt("The request it answers.")


@strawberry.input(
    description="Restriction of processing (GDPR Art. 18): a restricted customer is hidden "
    "from every purpose except billing and collection of existing debts and legal claims."
)
class SetProcessingRestrictionInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    restricted: bool = strawberry.field(description="True restricts, false lifts it.")
    reason: str | None = _opt("Why (free text).")
    request_id: strawberry.ID | None = _opt("The customer's restriction request it answers.")


@strawberry.input(description="A request received from a data subject.")
class RecordDataSubjectRequestInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer who made it.")
    kind: RequestKindEnum = strawberry.field(description="What is asked for.")  # type: ignore[valid-type]
    channel: RequestChannelEnum = strawberry.field(description="How it came in.")  # type: ignore[valid-type]
    received_on: date = strawberry.field(description="When it was received.")
    reference: str | None = _opt("Reference of the letter or case.")
    handler: str | None = _opt("Who handles it (default: you).")
    notes: str | None = _opt("Notes of the handler.")


@strawberry.input(description="Progress of a request: only the fields given change.")
class UpdateDataSubjectRequestInput:
    request_id: strawberry.ID = strawberry.field(description="The request.")
    status: RequestStatusEnum | None = _opt("New status.")  # type: ignore[valid-type]
    handler: str | None = _opt("Who handles it.")
    extended_due_on: date | None = _opt(
        "Extended deadline, at most two further months (Art. 12(3)); say why in notes."
    )
    completed_on: date | None = _opt("When the answer was given (default today on completion).")
    notes: str | None = _opt("Notes of the handler.")


@strawberry.input(
    description="A disclosure made to an authority or another energy company (notice section 7)."
)
class RecordDisclosureInput:
    recipient: str = strawberry.field(description="Who received the data.")
    recipient_kind: RecipientKindEnum = strawberry.field(description="Authority or energy company.")  # type: ignore[valid-type]
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
    organisation_id: strawberry.ID | None = _opt("The recipient as a registered organisation.")
    recipient_country: str | None = _opt(
        "Where the recipient is (ISO 3166-1 alpha-2); default: the organisation's country, "
        "else FI. A recipient outside the EU/EEA is refused (privacy notice section 8)."
    )


@strawberry.type(description="A request of the requests register after a change.")
class DataSubjectRequestPayload:
    request: DataSubjectRequest | None = strawberry.field(description="The request.")


@strawberry.type(description="A disclosure after it was recorded.")
class DisclosurePayload:
    disclosure: Disclosure | None = strawberry.field(description="The disclosure.")


def disclosure_country(given: str | None, organisation_country: str | None) -> str:
    """The recipient's country: as given (checked against the registered organisation's),
    else the organisation's, else FI; refused outside the EU/EEA (notice section 8)."""
    if given is None:
        country = organisation_country or DEFAULT_COUNTRY
        field = "input.organisationId" if organisation_country else "input.recipientCountry"
    else:
        field = "input.recipientCountry"
        try:
            country = parse_country(given, field=field)
        except TransferRefused as exc:
            raise UserInputError(str(exc), field=exc.field, reason=exc.reason) from None
        if organisation_country is not None and country != organisation_country:
            raise UserInputError(
                f"{field} is not the country of the organisation ({organisation_country})",
                field=field,
                reason="differs from the organisation",
            )
    refused_transfer(country, field=field, recipient="the recipient")
    return country


def _columns(kind: ObjectionKind) -> tuple[str, str]:
    return f"{kind.value}_objection_at", f"{kind.value}_objection_source"


def _change_id(value: uuid.UUID | None) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value else None


async def _request_result(
    ctx: RequestContext, info: Info[RequestContext, Any], request_id: uuid.UUID
) -> DataSubjectRequest | None:
    row = await fetch_one(
        ctx, request_select(ctx.access.today).where(request_table.c.id == request_id)
    )
    return build_one(DataSubjectRequest, row, ctx, info, through=("request",))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@strawberry.type(description="Mutations of the data-subject rights.")
class RightsMutation:
    @strawberry.mutation(
        description="Record the customer's objection to direct marketing, distance selling "
        "or market research; marketing and research stop seeing the customer at once."
    )
    async def set_objection(
        self, info: Info[RequestContext, Any], input: SetObjectionInput
    ) -> CustomerPayload:
        ctx = info.context
        at_column, source_column = _columns(input.kind)
        require_write(ctx, "Customer", [at_column, source_column])
        current = await load_in_scope(
            ctx, customer_table, "Customer", input.customer_id, field="input.customerId"
        )
        source = text_input(input.source, field="input.source", max_length=200, required=True)
        given_at = _aware(_value(input.given_at) or datetime.now(UTC))
        if given_at.date() > ctx.access.today:
            raise UserInputError(
                "An objection cannot be given in the future",
                field="input.givenAt",
                reason="in the future",
            )
        request_id = await request_of_customer(
            ctx.session, _value(input.request_id), current["id"], field="input.requestId"
        )
        change_id = None
        if current[at_column] is None:
            change_id = await update_customer(
                ctx=ctx,
                current=current,
                values={at_column: given_at, source_column: source},
                reason=f"objection: {source}",
                request_id=request_id,
            )
        return payload(
            CustomerPayload,
            ctx,
            customer=await customer_result(ctx, info, current["id"]),
            change_id=_change_id(change_id),
        )

    @strawberry.mutation(description="Record that the customer withdrew an objection.")
    async def withdraw_objection(
        self, info: Info[RequestContext, Any], input: WithdrawObjectionInput
    ) -> CustomerPayload:
        ctx = info.context
        at_column, source_column = _columns(input.kind)
        require_write(ctx, "Customer", [at_column, source_column])
        current = await load_in_scope(
            ctx, customer_table, "Customer", input.customer_id, field="input.customerId"
        )
        source = text_input(input.source, field="input.source", max_length=200, required=True)
        request_id = await request_of_customer(
            ctx.session, _value(input.request_id), current["id"], field="input.requestId"
        )
        change_id = await update_customer(
            ctx=ctx,
            current=current,
            values={at_column: None, source_column: None},
            reason=f"objection withdrawn: {source}",
            request_id=request_id,
        )
        return payload(
            CustomerPayload,
            ctx,
            customer=await customer_result(ctx, info, current["id"]),
            change_id=_change_id(change_id),
        )

    @strawberry.mutation(
        description="Restrict or release processing of a customer's data (GDPR Art. 18)."
    )
    async def set_processing_restriction(
        self, info: Info[RequestContext, Any], input: SetProcessingRestrictionInput
    ) -> CustomerPayload:
        ctx = info.context
        require_write(ctx, "Customer", ["processing_restricted_at"])
        reason, request_value = _value(input.reason), _value(input.request_id)
        require_reason(reason, request_value)
        current = await load_in_scope(
            ctx, customer_table, "Customer", input.customer_id, field="input.customerId"
        )
        request_id = await request_of_customer(
            ctx.session, request_value, current["id"], field="input.requestId"
        )
        restricted_at = (
            (current["processing_restricted_at"] or datetime.now(UTC))
            if (input.restricted)
            else None
        )
        change_id = await update_customer(
            ctx=ctx,
            current=current,
            values={"processing_restricted_at": restricted_at},
            reason=reason.strip() if reason else None,
            request_id=request_id,
        )
        return payload(
            CustomerPayload,
            ctx,
            customer=await customer_result(ctx, info, current["id"]),
            change_id=_change_id(change_id),
        )

    @strawberry.mutation(
        description="Record a request from a data subject; it is due in one month."
    )
    async def record_data_subject_request(
        self, info: Info[RequestContext, Any], input: RecordDataSubjectRequestInput
    ) -> DataSubjectRequestPayload:
        ctx = info.context
        sent = given_fields(input, exclude=("customer_id",))
        require_write(ctx, "DataSubjectRequest", [*sent, "due_on", "status"])
        holder = await load_in_scope(
            ctx,
            customer_table,
            "Customer",
            input.customer_id,
            field="input.customerId",
            lock=False,
        )
        if input.received_on > ctx.access.today:
            raise UserInputError(
                "input.receivedOn is in the future",
                field="input.receivedOn",
                reason="in the future",
            )
        actor = Actor.of(ctx)
        handler = text_input(_value(input.handler), field="input.handler", max_length=150)
        request_id = await record_request(
            session=ctx.session,
            customer_id=holder["id"],
            kind=enum_value(input.kind),
            channel=enum_value(input.channel),
            received_on=input.received_on,
            created_by=actor.ref,
            handler=handler or actor.name,
            reference=text_input(_value(input.reference), field="input.reference", max_length=100)
            or "",
            notes=text_input(_value(input.notes), field="input.notes", max_length=2000) or "",
        )
        record_write(
            ctx,
            "DataSubjectRequest",
            request_id,
            customer_id=holder["id"],
            fields=[*sent, "due_on", "status"],
        )
        return payload(
            DataSubjectRequestPayload, ctx, request=await _request_result(ctx, info, request_id)
        )

    @strawberry.mutation(description="Update the status, handler or deadline of a request.")
    async def update_data_subject_request(
        self, info: Info[RequestContext, Any], input: UpdateDataSubjectRequestInput
    ) -> DataSubjectRequestPayload:
        ctx = info.context
        sent = given_fields(input, exclude=("request_id",))
        status = sent.get("status")
        closing = status is not None and status.value not in OPEN_REQUEST_STATUSES
        if closing and "completed_on" not in sent:
            sent["completed_on"] = ctx.access.today
        require_write(ctx, "DataSubjectRequest", sent)
        if not sent:
            raise UserInputError("Nothing to change", field="input", reason="no fields given")
        current = await load_in_scope(
            ctx, request_table, "DataSubjectRequest", input.request_id, field="input.requestId"
        )
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status.value
        if "handler" in sent:
            values["handler"] = text_input(sent["handler"], field="input.handler", max_length=150)
        if "notes" in sent:
            values["notes"] = text_input(sent["notes"], field="input.notes", max_length=2000) or ""
        if "extended_due_on" in sent:
            extended = sent["extended_due_on"]
            if extended is not None and not (
                current["due_on"] <= extended <= latest_extension(current["received_on"])
            ):
                raise UserInputError(
                    "A deadline can be extended by at most two further months",
                    field="input.extendedDueOn",
                    reason="out of range",
                )
            values["extended_due_on"] = extended
        if "completed_on" in sent:
            completed = sent["completed_on"]
            if completed is not None and not (
                current["received_on"] <= completed <= ctx.access.today
            ):
                raise UserInputError(
                    "input.completedOn must be between receipt and today",
                    field="input.completedOn",
                    reason="out of range",
                )
            values["completed_on"] = completed
        if values.get("status") == RequestStatus.RECEIVED.value:
            values.setdefault("completed_on", None)
        await update_request(session=ctx.session, request_id=current["id"], values=values)
        record_write(
            ctx,
            "DataSubjectRequest",
            current["id"],
            customer_id=current["customer_id"],
            fields=list(values),
        )
        return payload(
            DataSubjectRequestPayload, ctx, request=await _request_result(ctx, info, current["id"])
        )

    @strawberry.mutation(
        description="Record a disclosure of customers' data to an authority or another "
        "energy company."
    )
    async def record_disclosure(
        self, info: Info[RequestContext, Any], input: RecordDisclosureInput
    ) -> DisclosurePayload:
        ctx = info.context
        written = [
            "recipient",
            "recipient_kind",
            "legal_basis",
            "case_reference",
            "disclosed_on",
            "fields",
            "customers",
            "confidential",
            "recipient_country",
        ]
        require_write(ctx, "Disclosure", written)
        recipient = text_input(
            input.recipient, field="input.recipient", max_length=200, required=True
        )
        legal_basis = text_input(
            input.legal_basis, field="input.legalBasis", max_length=500, required=True
        )
        case_reference = text_input(
            input.case_reference, field="input.caseReference", max_length=200, required=True
        )
        if input.disclosed_on > ctx.access.today:
            raise UserInputError(
                "input.disclosedOn is in the future",
                field="input.disclosedOn",
                reason="in the future",
            )
        if not input.customer_ids:
            raise UserInputError(
                "Name the customers whose data was disclosed",
                field="input.customerIds",
                reason="required",
            )
        if not input.fields:
            raise UserInputError(
                "Name the fields disclosed", field="input.fields", reason="required"
            )
        known = ctx.access.policy.catalogue.fields
        fields: list[str] = []
        for index, coordinate in enumerate(input.fields):
            type_name, _, name = coordinate.partition(".")
            if name not in known.get(type_name, frozenset()):
                raise UserInputError(
                    f"input.fields.{index} is not a field of the register",
                    field=f"input.fields.{index}",
                    reason="unknown field",
                )
            if coordinate not in fields:
                fields.append(coordinate)
        customers: list[uuid.UUID] = []
        for index, value in enumerate(input.customer_ids):
            row = await load_in_scope(
                ctx,
                customer_table,
                "Customer",
                value,
                field=f"input.customerIds.{index}",
                lock=False,
            )
            if row["id"] not in customers:
                customers.append(row["id"])
        organisation_value = _value(input.organisation_id)
        organisation_id = None
        organisation_country = None
        if organisation_value is not None:
            organisation_id = parse_uuid(organisation_value, field="input.organisationId")
            organisation_country = await ctx.session.scalar(
                select(organisation_table.c.country).where(
                    organisation_table.c.id == organisation_id
                )
            )
            if organisation_country is None:
                raise not_found("input.organisationId")
        recipient_country = disclosure_country(
            _value(input.recipient_country), organisation_country
        )
        actor = Actor.of(ctx)
        disclosure_id = uuid.uuid4()
        await ctx.session.execute(
            insert(disclosure_table).values(
                id=disclosure_id,
                recipient=recipient,
                recipient_kind=enum_value(input.recipient_kind),
                recipient_country=recipient_country,
                organisation_id=organisation_id,
                legal_basis=legal_basis,
                confidential=input.confidential,
                case_reference=case_reference,
                disclosed_on=input.disclosed_on,
                fields=fields,
                made_by=actor.ref,
                made_by_name=actor.name,
            )
        )
        for customer_id in customers:
            await ctx.session.execute(
                insert(disclosure_customer_table).values(
                    disclosure_id=disclosure_id, customer_id=customer_id
                )
            )
            record_write(
                ctx,
                "Disclosure",
                f"{disclosure_id}:{customer_id}",
                customer_id=customer_id,
                fields=written,
            )
        from server.rights.queries import disclosure_rows, disclosure_select

        row = disclosure_rows(
            list(
                (
                    await ctx.session.execute(
                        disclosure_select().where(disclosure_table.c.id == disclosure_id)
                    )
                ).mappings()
            )
        )[0]
        return payload(
            DisclosurePayload,
            ctx,
            disclosure=build_one(Disclosure, row, ctx, info, through=("disclosure",), subject=None),
        )
