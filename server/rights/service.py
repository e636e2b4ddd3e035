"""Rules of the data-subject rights: objections, restriction of processing, the requests
register and the register of disclosures.

Objections and the restriction are columns of the customer that the row filters of the
matching purposes read (`no_direct_marketing_objection`, `not_restricted`...), so they take
effect in the very next query. Each function checks what it writes (declared once below)
before it reads anything.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert

from server.customers.loaders import customer_table
from server.customers.service import CUSTOMER
from server.db.tables import table_of
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.inputs import camel
from server.operations.inputs import require_reason, text_input
from server.operations.writes import Actor, Writes, columns_of, fetch_one, load_in_scope
from server.organisations.agencies import organisation_table
from server.organisations.models import DEFAULT_COUNTRY
from server.organisations.service import refused_transfer
from server.privacy.transfers import TransferRefused, parse_country
from server.rights.history import request_of_customer
from server.rights.models import OPEN_REQUEST_STATUSES, RequestStatus
from server.rights.models import Disclosure as DisclosureRow
from server.rights.models import DisclosureCustomer as DisclosureCustomerRow
from server.rights.rectification import Changed
from server.rights.requests import latest_extension, record_request, request_select, request_table

disclosure_table = table_of(DisclosureRow)
disclosure_customer_table = table_of(DisclosureCustomerRow)

OBJECTION_KINDS = ("direct_marketing", "distance_selling", "research")
OBJECTIONS = {
    kind: Writes("Customer", (f"{kind}_objection_at", f"{kind}_objection_source"))
    for kind in OBJECTION_KINDS
}
RESTRICTION = Writes("Customer", ("processing_restricted_at",))
RECEIVED_REQUEST = Writes(
    "DataSubjectRequest",
    ("kind", "channel", "received_on", "due_on", "status"),
    optional=("reference", "handler", "notes"),
)
REQUEST_PROGRESS = Writes(
    "DataSubjectRequest",
    (),
    optional=("status", "handler", "extended_due_on", "completed_on", "notes"),
)
DISCLOSURE = Writes(
    "Disclosure",
    (
        "recipient",
        "recipient_kind",
        "legal_basis",
        "case_reference",
        "disclosed_on",
        "fields",
        "customers",
        "confidential",
        "recipient_country",
    ),
)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _customer(ctx: RequestContext, value: Any, *, lock: bool = True) -> dict[str, Any]:
    return await load_in_scope(
        ctx, customer_table, "Customer", value, field="input.customerId", lock=lock
    )


async def _request_of(ctx: RequestContext, value: Any, customer: Mapping[str, Any]) -> Any:
    return await request_of_customer(ctx.session, value, customer["id"], field="input.requestId")


async def set_objection(
    *,
    ctx: RequestContext,
    customer_id: Any,
    kind: str,
    source: str,
    given_at: datetime | None,
    request_id: Any | None,
) -> Changed:
    """Record the customer's objection to direct marketing, distance selling or market research;
    marketing and research stop seeing the customer at once."""
    writes = OBJECTIONS[kind]
    writes.check(ctx)
    current = await _customer(ctx, customer_id)
    source = text_input(source, field="input.source", max_length=200, required=True) or ""
    moment = _aware(given_at or datetime.now(UTC))
    if moment.date() > ctx.access.today:
        raise UserInputError(
            "An objection cannot be given in the future",
            field="input.givenAt",
            reason="in the future",
        )
    request = await _request_of(ctx, request_id, current)
    at_column, source_column = writes.fields
    if current[at_column] is not None:
        return await CUSTOMER.result(ctx, current["id"], None)  # objected already
    return await CUSTOMER.update(
        ctx,
        current,
        {at_column: moment, source_column: source},
        reason=f"objection: {source}",
        request_id=request,
    )


async def withdraw_objection(
    *, ctx: RequestContext, customer_id: Any, kind: str, source: str, request_id: Any | None
) -> Changed:
    """Record that the customer withdrew an objection."""
    writes = OBJECTIONS[kind]
    writes.check(ctx)
    current = await _customer(ctx, customer_id)
    source = text_input(source, field="input.source", max_length=200, required=True) or ""
    request = await _request_of(ctx, request_id, current)
    return await CUSTOMER.update(
        ctx,
        current,
        dict.fromkeys(writes.fields),
        reason=f"objection withdrawn: {source}",
        request_id=request,
    )


async def set_processing_restriction(
    *,
    ctx: RequestContext,
    customer_id: Any,
    restricted: bool,
    reason: str | None,
    request_id: Any | None,
) -> Changed:
    """Restrict or release processing of a customer's data (GDPR Art. 18)."""
    RESTRICTION.check(ctx)
    require_reason(reason, request_id)
    current = await _customer(ctx, customer_id)
    request = await _request_of(ctx, request_id, current)
    since = current["processing_restricted_at"] or datetime.now(UTC)
    return await CUSTOMER.update(
        ctx,
        current,
        {"processing_restricted_at": since if restricted else None},
        reason=reason.strip() if reason else None,
        request_id=request,
    )


async def request_row(ctx: RequestContext, request_id: uuid.UUID) -> dict[str, Any] | None:
    """A request of the register with its `overdue` flag."""
    statement = request_select(ctx.access.today).where(request_table.c.id == request_id)
    return await fetch_one(ctx, statement)


async def record_data_subject_request(
    *,
    ctx: RequestContext,
    customer_id: Any,
    kind: str,
    channel: str,
    received_on: date,
    reference: str | None = None,
    handler: str | None = None,
    notes: str | None = None,
) -> dict[str, Any] | None:
    """Record a request from a data subject; it is due in one month."""
    writes = RECEIVED_REQUEST.when(
        reference=reference is not None, handler=handler is not None, notes=notes is not None
    )
    writes.check(ctx)
    holder = await _customer(ctx, customer_id, lock=False)
    if received_on > ctx.access.today:
        raise UserInputError(
            "input.receivedOn is in the future", field="input.receivedOn", reason="in the future"
        )
    actor = Actor.of(ctx)
    handler = text_input(handler, field="input.handler", max_length=150)
    request_id = await record_request(
        session=ctx.session,
        customer_id=holder["id"],
        kind=kind,
        channel=channel,
        received_on=received_on,
        created_by=actor.ref,
        handler=handler or actor.name,
        reference=text_input(reference, field="input.reference", max_length=100) or "",
        notes=text_input(notes, field="input.notes", max_length=2000) or "",
    )
    writes.record(ctx, request_id, customer_id=holder["id"])
    return await request_row(ctx, request_id)


def _within(sent: Mapping[str, Any], name: str, earliest: date, latest: date, message: str) -> None:
    """BAD_USER_INPUT when the date sent as `name` is not between the two."""
    value = sent.get(name)
    if value is not None and not earliest <= value <= latest:
        raise UserInputError(message, field=f"input.{camel(name)}", reason="out of range")


def _progress(
    ctx: RequestContext, current: Mapping[str, Any], sent: Mapping[str, Any]
) -> dict[str, Any]:
    """The columns a progress report sets, checked against the request as it is."""
    values: dict[str, Any] = {}
    if sent.get("status") is not None:
        values["status"] = sent["status"]
    if "handler" in sent:
        values["handler"] = text_input(sent["handler"], field="input.handler", max_length=150)
    if "notes" in sent:
        values["notes"] = text_input(sent["notes"], field="input.notes", max_length=2000) or ""
    latest_due = latest_extension(current["received_on"])
    message = "A deadline can be extended by at most two further months"
    _within(sent, "extended_due_on", current["due_on"], latest_due, message)
    message = "input.completedOn must be between receipt and today"
    _within(sent, "completed_on", current["received_on"], ctx.access.today, message)
    values.update(
        (name, sent[name]) for name in ("extended_due_on", "completed_on") if name in sent
    )
    if values.get("status") == RequestStatus.RECEIVED.value:
        values.setdefault("completed_on", None)
    return values


async def update_data_subject_request(
    *, ctx: RequestContext, request_id: Any, fields: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Update the status, handler or deadline of a request.

    Only the fields given change. Closing it completes it today unless said otherwise;
    receiving it again clears the completion."""
    sent = dict(fields)
    status = sent.get("status")
    if status is not None and status not in OPEN_REQUEST_STATUSES:
        sent.setdefault("completed_on", ctx.access.today)
    reopened = status == RequestStatus.RECEIVED.value  # its completion is cleared
    given = dict.fromkeys(sent, True)
    given["completed_on"] = reopened or "completed_on" in sent
    writes = REQUEST_PROGRESS.when(**given)
    writes.check(ctx)
    if not sent:
        raise UserInputError("Nothing to change", field="input", reason="no fields given")
    current = await load_in_scope(
        ctx, request_table, "DataSubjectRequest", request_id, field="input.requestId"
    )
    values = _progress(ctx, current, sent)
    await writes.update(
        ctx, request_table, current["id"], values, customer_id=current["customer_id"]
    )
    return await request_row(ctx, current["id"])


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


def _disclosed_fields(ctx: RequestContext, coordinates: list[str]) -> list[str]:
    """The coordinates disclosed, each a field of the register, once each."""
    if not coordinates:
        raise UserInputError("Name the fields disclosed", field="input.fields", reason="required")
    known = ctx.access.policy.catalogue.fields
    fields: list[str] = []
    for index, coordinate in enumerate(coordinates):
        type_name, _, name = coordinate.partition(".")
        if name not in known.get(type_name, frozenset()):
            raise UserInputError(
                f"input.fields.{index} is not a field of the register",
                field=f"input.fields.{index}",
                reason="unknown field",
            )
        if coordinate not in fields:
            fields.append(coordinate)
    return fields


async def _disclosed_customers(ctx: RequestContext, values: list[Any]) -> list[uuid.UUID]:
    customers: list[uuid.UUID] = []
    for index, value in enumerate(values):
        row = await load_in_scope(
            ctx, customer_table, "Customer", value, field=f"input.customerIds.{index}", lock=False
        )
        if row["id"] not in customers:
            customers.append(row["id"])
    return customers


async def _organisation_country(
    ctx: RequestContext, value: Any | None
) -> tuple[uuid.UUID | None, str | None]:
    if value is None:
        return None, None
    found: tuple[uuid.UUID, str] = await columns_of(
        ctx, value, organisation_table.c.country, field="input.organisationId"
    )
    return found


async def record_disclosure(
    *,
    ctx: RequestContext,
    recipient: str,
    recipient_kind: str,
    legal_basis: str,
    case_reference: str,
    disclosed_on: date,
    customer_ids: list[Any],
    fields: list[str],
    confidential: bool,
    organisation_id: Any | None,
    recipient_country: str | None,
) -> dict[str, Any]:
    """Record a disclosure of customers' data to an authority or another energy company."""
    DISCLOSURE.check(ctx)
    values = {
        "recipient": text_input(recipient, field="input.recipient", max_length=200, required=True),
        "legal_basis": text_input(
            legal_basis, field="input.legalBasis", max_length=500, required=True
        ),
        "case_reference": text_input(
            case_reference, field="input.caseReference", max_length=200, required=True
        ),
    }
    if disclosed_on > ctx.access.today:
        raise UserInputError(
            "input.disclosedOn is in the future", field="input.disclosedOn", reason="in the future"
        )
    if not customer_ids:
        raise UserInputError(
            "Name the customers whose data was disclosed",
            field="input.customerIds",
            reason="required",
        )
    disclosed = _disclosed_fields(ctx, fields)
    customers = await _disclosed_customers(ctx, customer_ids)
    organisation, organisation_country = await _organisation_country(ctx, organisation_id)
    actor = Actor.of(ctx)
    disclosure_id = uuid.uuid4()
    await ctx.session.execute(
        insert(disclosure_table).values(
            id=disclosure_id,
            **values,
            recipient_kind=recipient_kind,
            recipient_country=disclosure_country(recipient_country, organisation_country),
            organisation_id=organisation,
            confidential=confidential,
            disclosed_on=disclosed_on,
            fields=disclosed,
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
        DISCLOSURE.record(ctx, f"{disclosure_id}:{customer_id}", customer_id=customer_id)
    return await _disclosure_row(ctx, disclosure_id)


async def _disclosure_row(ctx: RequestContext, disclosure_id: uuid.UUID) -> dict[str, Any]:
    from server.rights.queries import disclosure_rows, disclosure_select

    statement = disclosure_select().where(disclosure_table.c.id == disclosure_id)
    rows = list((await ctx.session.execute(statement)).mappings())
    row: dict[str, Any] = disclosure_rows(rows)[0]
    return row
