"""Rules of the billing domain: payments, collection cases and security deposits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, insert, select

from server.billing.loaders import (
    case_invoice_table,
    case_table,
    deposit_table,
    invoice_table,
    payment_table,
)
from server.billing.models import CollectionStage, DepositStatus, InvoiceStatus
from server.contracts.loaders import contract_table
from server.customers.loaders import customer_table
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.operations.inputs import not_before, text_input
from server.operations.writes import (
    Writes,
    columns_of,
    fetch_one,
    load_in_scope,
    require_rows,
    row_of,
)
from server.organisations.agencies import is_collection_agency, organisation_table
from server.organisations.models import OrganisationKind
from server.validators import IdentifierError, validate_reference

MAX_AMOUNT = Decimal("100000000")
UNPAID = (InvoiceStatus.OPEN.value, InvoiceStatus.OVERDUE.value)
PAYABLE = (*UNPAID, InvoiceStatus.IN_COLLECTION.value)
PAYMENT_SOURCES = ("bank", "cash", "card", "collection_agency", "offset")

PAYMENT = Writes("Payment", ("amount", "paid_on", "reference_number", "source"))
INVOICE_STATUS = Writes("Invoice", ("status",))
OPENED_CASE = Writes(
    "CollectionCase", ("stage", "opened_on", "amount_due", "invoices"), optional=("agency",)
)
ASSIGNED_CASE = Writes("CollectionCase", ("agency", "stage"))
CLOSED_CASE = Writes("CollectionCase", ("closed_on", "stage"))
RECEIVED_DEPOSIT = Writes("SecurityDeposit", ("amount", "received_on", "reason", "status"))
RETURNED_DEPOSIT = Writes("SecurityDeposit", ("returned_on", "status"))


@dataclass(frozen=True, slots=True)
class PaymentRecorded:
    """The payment stored and its invoice after it."""

    payment: dict[str, Any]
    invoice: dict[str, Any]


def money_input(value: Decimal, *, field: str) -> Decimal:
    try:
        amount = value.quantize(Decimal("0.01"))
    except InvalidOperation:
        raise UserInputError(f"{field} is not an amount", field=field, reason="invalid") from None
    if amount != value:
        raise UserInputError(
            f"{field} has more than two decimals", field=field, reason="too many decimals"
        )
    if not Decimal(0) < amount < MAX_AMOUNT:
        raise UserInputError(f"{field} must be positive", field=field, reason="out of range")
    return amount


def not_in_future(value: date, ctx: RequestContext, *, field: str) -> date:
    if value > ctx.access.today:
        raise UserInputError(f"{field} is in the future", field=field, reason="in the future")
    return value


async def paid_total(ctx: RequestContext, invoice_id: uuid.UUID) -> Decimal:
    total = await ctx.session.scalar(
        select(func.coalesce(func.sum(payment_table.c.amount), 0)).where(
            payment_table.c.invoice_id == invoice_id
        )
    )
    return Decimal(total if total is not None else 0)  # never None: coalesce


async def _agency(ctx: RequestContext, value: Any, *, field: str) -> uuid.UUID:
    agency_id: uuid.UUID
    agency_id, kind = await columns_of(ctx, value, organisation_table.c.kind, field=field)
    if kind != OrganisationKind.SUBCONTRACTOR.value:
        raise UserInputError(
            f"{field}: not a collection agency (subcontractor)", field=field, reason="wrong kind"
        )
    if not await is_collection_agency(ctx.session, ctx.access.policy, agency_id):
        # A subcontractor, but not one that collects debts (a field service company).
        raise UserInputError(
            f"{field}: not a collection agency (no principal of it works collection cases)",
            field=field,
            reason="not a collection agency",
        )
    return agency_id


async def _set_invoice_status(
    ctx: RequestContext, invoice: Any, status: InvoiceStatus, *, customer_id: uuid.UUID
) -> None:
    await INVOICE_STATUS.update(
        ctx, invoice_table, invoice["id"], {"status": status.value}, customer_id=customer_id
    )


def _reference(value: str) -> str:
    try:
        return validate_reference(value)
    except IdentifierError as exc:
        raise UserInputError(
            f"input.referenceNumber: {exc}", field="input.referenceNumber", reason=exc.reason
        ) from None


def _source(value: str | None) -> str:
    source = value or "bank"
    if source not in PAYMENT_SOURCES:
        raise UserInputError(
            f"input.source must be one of {', '.join(PAYMENT_SOURCES)}",
            field="input.source",
            reason="unknown source",
        )
    return source


async def _payable_invoice(ctx: RequestContext, reference: str) -> dict[str, Any]:
    require_rows(ctx, "Invoice", field="input.referenceNumber")
    invoice = await fetch_one(
        ctx,
        select(invoice_table)
        .where(invoice_table.c.reference_number == reference, ctx.access.rows("Invoice"))
        .with_for_update(of=invoice_table),
    )
    if invoice is None:
        raise UserInputError(
            "No invoice with this reference number",
            field="input.referenceNumber",
            reason="not found",
        )
    if invoice["status"] == InvoiceStatus.CREDITED.value:
        raise UserInputError(
            "The invoice was credited", field="input.referenceNumber", reason="credited"
        )
    return invoice


async def record_payment(
    *,
    ctx: RequestContext,
    reference_number: str,
    amount: Decimal,
    paid_on: date,
    source: str | None,
) -> PaymentRecorded:
    """Record a payment against an invoice by reference number.

    A fully paid invoice becomes paid."""
    PAYMENT.check(ctx)
    reference = _reference(reference_number)
    amount = money_input(amount, field="input.amount")
    paid_on = not_in_future(paid_on, ctx, field="input.paidOn")
    source = _source(source)
    invoice = await _payable_invoice(ctx, reference)
    customer_id = invoice["customer_id"]
    already = await paid_total(ctx, invoice["id"])
    settles = already + amount >= invoice["total_incl_vat"] and invoice["status"] in PAYABLE
    if settles:
        INVOICE_STATUS.check(ctx)
    values = {"amount": amount, "paid_on": paid_on, "reference_number": reference}
    payment_id = await PAYMENT.insert(
        ctx,
        payment_table,
        {**values, "invoice_id": invoice["id"], "source": source},
        customer_id=customer_id,
    )
    if settles:
        await _set_invoice_status(ctx, invoice, InvoiceStatus.PAID, customer_id=customer_id)
    payment = await row_of(ctx, payment_table, payment_id)
    after = await row_of(ctx, invoice_table, invoice["id"])
    assert payment is not None and after is not None
    return PaymentRecorded({**payment, "customer_id": customer_id}, after)


async def _unpaid_invoices(
    ctx: RequestContext, values: list[Any], customer_id: uuid.UUID
) -> list[dict[str, Any]]:
    if not values:
        raise UserInputError(
            "A case needs at least one invoice", field="input.invoiceIds", reason="required"
        )
    invoices: list[dict[str, Any]] = []
    for index, value in enumerate(values):
        field = f"input.invoiceIds.{index}"
        invoice = await load_in_scope(ctx, invoice_table, "Invoice", value, field=field)
        if invoice["customer_id"] != customer_id:
            raise UserInputError(
                f"{field}: the invoice is not the customer's", field=field, reason="other customer"
            )
        if invoice["status"] not in UNPAID:
            raise UserInputError(
                f"{field}: the invoice is {invoice['status']}, not unpaid",
                field=field,
                reason="not unpaid",
            )
        if any(i["id"] == invoice["id"] for i in invoices):
            raise UserInputError(f"{field}: given twice", field=field, reason="duplicate")
        invoices.append(invoice)
    return invoices


def _opening_stage(stage: str | None, agency_id: uuid.UUID | None) -> str:
    chosen = stage or (
        CollectionStage.COLLECTION_AGENCY.value if agency_id else CollectionStage.REMINDER.value
    )
    if chosen == CollectionStage.CLOSED.value:
        raise UserInputError(
            "A case cannot open closed", field="input.stage", reason="closed stage"
        )
    return chosen


async def _case(ctx: RequestContext, case_id: uuid.UUID) -> dict[str, Any] | None:
    return await row_of(ctx, case_table, case_id, scope="CollectionCase")


async def open_collection_case(
    *,
    ctx: RequestContext,
    customer_id: Any,
    invoice_ids: list[Any],
    opened_on: date | None,
    stage: str | None,
    agency_id: Any | None,
) -> dict[str, Any] | None:
    """Open a debt collection case over unpaid invoices.

    The invoices, all the customer's and unpaid, go to collection."""
    writes = OPENED_CASE.when(agency=bool(agency_id))
    writes.check(ctx)
    INVOICE_STATUS.check(ctx)
    holder = await load_in_scope(
        ctx, customer_table, "Customer", customer_id, field="input.customerId"
    )
    invoices = await _unpaid_invoices(ctx, invoice_ids, holder["id"])
    opened_on = not_in_future(opened_on or ctx.access.today, ctx, field="input.openedOn")
    agency = await _agency(ctx, agency_id, field="input.agencyId") if agency_id else None
    stage = _opening_stage(stage, agency)
    due = Decimal(0)
    for invoice in invoices:
        due += invoice["total_incl_vat"] - await paid_total(ctx, invoice["id"])
    case_id = uuid.uuid4()
    await ctx.session.execute(
        insert(case_table).values(
            id=case_id,
            customer_id=holder["id"],
            agency_id=agency,
            stage=stage,
            opened_on=opened_on,
            amount_due=max(due, Decimal(0)),
        )
    )
    for invoice in invoices:
        await ctx.session.execute(
            insert(case_invoice_table).values(collection_case_id=case_id, invoice_id=invoice["id"])
        )
        await _set_invoice_status(
            ctx, invoice, InvoiceStatus.IN_COLLECTION, customer_id=holder["id"]
        )
    writes.record(ctx, case_id, customer_id=holder["id"])
    return await _case(ctx, case_id)


async def _open_case(ctx: RequestContext, value: Any) -> dict[str, Any]:
    case = await load_in_scope(ctx, case_table, "CollectionCase", value, field="input.caseId")
    if case["closed_on"] is not None:
        raise UserInputError("The case is closed", field="input.caseId", reason="closed")
    return case


async def assign_collection_case(
    *, ctx: RequestContext, case_id: Any, agency_id: Any
) -> dict[str, Any] | None:
    """Assign an open collection case to a collection agency."""
    ASSIGNED_CASE.check(ctx)
    case = await _open_case(ctx, case_id)
    agency = await _agency(ctx, agency_id, field="input.agencyId")
    values = {"agency_id": agency, "stage": CollectionStage.COLLECTION_AGENCY.value}
    await ASSIGNED_CASE.update(ctx, case_table, case["id"], values, customer_id=case["customer_id"])
    return await _case(ctx, case["id"])


async def close_collection_case(
    *, ctx: RequestContext, case_id: Any, closed_on: date | None
) -> dict[str, Any] | None:
    """Close a collection case; its invoices become paid or overdue again."""
    CLOSED_CASE.check(ctx)
    INVOICE_STATUS.check(ctx)
    case = await _open_case(ctx, case_id)
    closed_on = not_before(
        not_in_future(closed_on or ctx.access.today, ctx, field="input.closedOn"),
        case["opened_on"],
        "The case cannot close before it opened",
        field="input.closedOn",
        reason="before opening",
    )
    values = {"closed_on": closed_on, "stage": CollectionStage.CLOSED.value}
    customer_id = case["customer_id"]
    await CLOSED_CASE.update(ctx, case_table, case["id"], values, customer_id=customer_id)
    for invoice in await _invoices_in_collection(ctx, case["id"]):
        paid = await paid_total(ctx, invoice["id"])
        status = InvoiceStatus.PAID if paid >= invoice["total_incl_vat"] else InvoiceStatus.OVERDUE
        await _set_invoice_status(ctx, invoice, status, customer_id=customer_id)
    return await _case(ctx, case["id"])


async def _invoices_in_collection(ctx: RequestContext, case_id: uuid.UUID) -> list[Any]:
    statement = (
        select(invoice_table)
        .join(case_invoice_table, case_invoice_table.c.invoice_id == invoice_table.c.id)
        .where(
            case_invoice_table.c.collection_case_id == case_id,
            invoice_table.c.status == InvoiceStatus.IN_COLLECTION.value,
        )
    )
    return list((await ctx.session.execute(statement)).mappings().all())


async def _contract_of(ctx: RequestContext, value: Any, customer_id: uuid.UUID) -> uuid.UUID:
    contract = await load_in_scope(
        ctx, contract_table, "Contract", value, field="input.contractId", lock=False
    )
    if contract["customer_id"] != customer_id:
        raise UserInputError(
            "input.contractId: the contract is not the customer's",
            field="input.contractId",
            reason="other customer",
        )
    contract_id: uuid.UUID = contract["id"]
    return contract_id


async def record_security_deposit(
    *,
    ctx: RequestContext,
    customer_id: Any,
    amount: Decimal,
    received_on: date,
    reason: str,
    contract_id: Any | None,
) -> dict[str, Any] | None:
    """Record a security deposit received from a customer.

    It may secure one of the customer's contracts."""
    RECEIVED_DEPOSIT.check(ctx)
    holder = await load_in_scope(
        ctx, customer_table, "Customer", customer_id, field="input.customerId", lock=False
    )
    values = {
        "amount": money_input(amount, field="input.amount"),
        "received_on": not_in_future(received_on, ctx, field="input.receivedOn"),
        "reason": text_input(reason, field="input.reason", max_length=200, required=True),
        "status": DepositStatus.HELD.value,
    }
    secured = (
        await _contract_of(ctx, contract_id, holder["id"]) if contract_id is not None else None
    )
    deposit_id = await RECEIVED_DEPOSIT.insert(
        ctx,
        deposit_table,
        {**values, "customer_id": holder["id"], "contract_id": secured},
        customer_id=holder["id"],
    )
    return await row_of(ctx, deposit_table, deposit_id)


async def _held_deposit(ctx: RequestContext, value: Any) -> dict[str, Any]:
    visible_customers = select(customer_table.c.id).where(ctx.access.rows("Customer"))
    in_scope = deposit_table.c.customer_id.in_(visible_customers)
    deposit = await load_in_scope(
        ctx, deposit_table, "SecurityDeposit", value, field="input.depositId", where=in_scope
    )
    if deposit["status"] != DepositStatus.HELD.value:
        raise UserInputError(
            f"The deposit is {deposit['status']}, not held",
            field="input.depositId",
            reason="not held",
        )
    return deposit


async def return_security_deposit(
    *, ctx: RequestContext, deposit_id: Any, returned_on: date
) -> dict[str, Any] | None:
    """Record the return of a held security deposit."""
    RETURNED_DEPOSIT.check(ctx)
    deposit = await _held_deposit(ctx, deposit_id)
    returned_on = not_before(
        not_in_future(returned_on, ctx, field="input.returnedOn"),
        deposit["received_on"],
        "A deposit cannot be returned before it was received",
        field="input.returnedOn",
        reason="before receipt",
    )
    values = {"returned_on": returned_on, "status": DepositStatus.RETURNED.value}
    await RETURNED_DEPOSIT.update(
        ctx, deposit_table, deposit["id"], values, customer_id=deposit["customer_id"]
    )
    return await row_of(ctx, deposit_table, deposit["id"])
