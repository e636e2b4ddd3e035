"""Mutations of the billing domain: payments, collection cases and security deposits."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import strawberry
from sqlalchemy import func, insert, select, update
from strawberry.types import Info

from server.billing.models import CollectionCase as CaseRow
from server.billing.models import CollectionCaseInvoice as CaseInvoiceRow
from server.billing.models import CollectionStage, DepositStatus, InvoiceStatus
from server.billing.models import Invoice as InvoiceRow
from server.billing.models import Payment as PaymentRow
from server.billing.models import SecurityDeposit as DepositRow
from server.billing.types import (
    CollectionCase,
    CollectionStageEnum,
    Invoice,
    Payment,
    SecurityDeposit,
)
from server.contracts.models import Contract as ContractRow
from server.customers.models import Customer as CustomerRow
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.payloads import payload
from server.graphql.shaping import build_one
from server.operations.inputs import not_found, parse_uuid, text_input
from server.operations.writes import (
    fetch_one,
    load_in_scope,
    record_write,
    require_rows,
    require_write,
)
from server.organisations.agencies import is_collection_agency
from server.organisations.models import Organisation as OrganisationRow
from server.organisations.models import OrganisationKind
from server.validators import IdentifierError, validate_reference

invoice_table = InvoiceRow.__table__  # type: ignore[attr-defined]
payment_table = PaymentRow.__table__  # type: ignore[attr-defined]
case_table = CaseRow.__table__  # type: ignore[attr-defined]
case_invoice_table = CaseInvoiceRow.__table__  # type: ignore[attr-defined]
deposit_table = DepositRow.__table__  # type: ignore[attr-defined]
customer_table = CustomerRow.__table__  # type: ignore[attr-defined]
contract_table = ContractRow.__table__  # type: ignore[attr-defined]
organisation_table = OrganisationRow.__table__  # type: ignore[attr-defined]

MAX_AMOUNT = Decimal("100000000")
UNPAID = (InvoiceStatus.OPEN.value, InvoiceStatus.OVERDUE.value)
PAYABLE = (*UNPAID, InvoiceStatus.IN_COLLECTION.value)
PAYMENT_SOURCES = ("bank", "cash", "card", "collection_agency", "offset")


def _opt(description: str) -> Any:
    return strawberry.field(default=strawberry.UNSET, description=description)


def _value(value: Any) -> Any:
    return None if value is strawberry.UNSET else value


@strawberry.input(description="A payment received for the invoice with this reference number.")
class RecordPaymentInput:
    reference_number: str = strawberry.field(description="Finnish reference number (viite).")
    amount: Decimal = strawberry.field(description="Amount paid, EUR (positive, 2 decimals).")
    paid_on: date = strawberry.field(description="Date of payment.")
    source: str | None = _opt(
        "Where the payment came from: bank (default), cash, card, collection_agency, offset."
    )


@strawberry.input(description="A debt collection case over unpaid invoices of one customer.")
class OpenCollectionCaseInput:
    customer_id: strawberry.ID = strawberry.field(description="The debtor.")
    invoice_ids: list[strawberry.ID] = strawberry.field(description="Unpaid invoices collected.")
    opened_on: date | None = _opt("When the case opens (default today).")
    stage: CollectionStageEnum | None = _opt(  # type: ignore[valid-type]
        "Stage to open in (default reminder, or collection_agency with an agency)."
    )
    agency_id: strawberry.ID | None = _opt("Collection agency organisation to assign it to.")


@strawberry.input(description="Assignment of an open collection case to a collection agency.")
class AssignCollectionCaseInput:
    case_id: strawberry.ID = strawberry.field(description="The open case.")
    agency_id: strawberry.ID = strawberry.field(description="The collection agency organisation.")


@strawberry.input(description="Closing of a collection case.")
class CloseCollectionCaseInput:
    case_id: strawberry.ID = strawberry.field(description="The open case.")
    closed_on: date | None = _opt("When it closes (default today).")


@strawberry.input(description="A security deposit received from a customer.")
class RecordSecurityDepositInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    amount: Decimal = strawberry.field(description="Amount, EUR.")
    received_on: date = strawberry.field(description="When it was received.")
    reason: str = strawberry.field(description="Why a deposit was required.")
    contract_id: strawberry.ID | None = _opt("The contract it secures.")


@strawberry.input(description="Return of a held security deposit.")
class ReturnSecurityDepositInput:
    deposit_id: strawberry.ID = strawberry.field(description="The deposit returned.")
    returned_on: date = strawberry.field(description="When it was returned.")


@strawberry.type(description="A recorded payment and the invoice it was paid to.")
class PaymentPayload:
    payment: Payment | None = strawberry.field(description="The payment recorded.")
    invoice: Invoice | None = strawberry.field(
        description="The invoice after the payment (status paid once fully paid)."
    )


@strawberry.type(description="A collection case after a change.")
class CollectionCasePayload:
    collection_case: CollectionCase | None = strawberry.field(
        description="The case as your role may see it."
    )


@strawberry.type(description="A security deposit after a change.")
class SecurityDepositPayload:
    deposit: SecurityDeposit | None = strawberry.field(
        description="The deposit as your role may see it."
    )


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
    return Decimal(total)


async def _agency(ctx: RequestContext, value: Any, *, field: str) -> uuid.UUID:
    agency_id = parse_uuid(value, field=field)
    kind = await ctx.session.scalar(
        select(organisation_table.c.kind).where(organisation_table.c.id == agency_id)
    )
    if kind is None:
        raise not_found(field)
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


async def record_payment(
    *,
    ctx: RequestContext,
    invoice: Any,
    amount: Decimal,
    paid_on: date,
    reference: str,
    source: str,
) -> uuid.UUID:
    """Store the payment; a fully paid invoice becomes paid."""
    payment_id = uuid.uuid4()
    already = await paid_total(ctx, invoice["id"])
    settles = already + amount >= invoice["total_incl_vat"] and invoice["status"] in PAYABLE
    if settles:
        require_write(ctx, "Invoice", ["status"])
    await ctx.session.execute(
        insert(payment_table).values(
            id=payment_id,
            invoice_id=invoice["id"],
            paid_on=paid_on,
            amount=amount,
            reference_number=reference,
            source=source,
        )
    )
    customer_id = invoice["customer_id"]
    record_write(
        ctx,
        "Payment",
        payment_id,
        customer_id=customer_id,
        fields=["amount", "paidOn", "referenceNumber", "source"],
    )
    if settles:
        await ctx.session.execute(
            update(invoice_table)
            .where(invoice_table.c.id == invoice["id"])
            .values(status=InvoiceStatus.PAID.value)
        )
        record_write(ctx, "Invoice", invoice["id"], customer_id=customer_id, fields=["status"])
    return payment_id


async def _row(ctx: RequestContext, table: Any, row_id: uuid.UUID) -> dict[str, Any]:
    row = await fetch_one(ctx, select(table).where(table.c.id == row_id))
    assert row is not None
    return row


async def _case_result(
    ctx: RequestContext, info: Info[RequestContext, Any], case_id: uuid.UUID
) -> CollectionCase | None:
    statement = select(case_table).where(
        case_table.c.id == case_id, ctx.access.rows("CollectionCase")
    )
    row = await fetch_one(ctx, statement)
    return build_one(CollectionCase, row, ctx, info, through=("collectionCase",))


async def _load_open_case(ctx: RequestContext, value: Any) -> Any:
    case = await load_in_scope(ctx, case_table, "CollectionCase", value, field="input.caseId")
    if case["closed_on"] is not None:
        raise UserInputError("The case is closed", field="input.caseId", reason="closed")
    return case


def _visible_customer_ids(ctx: RequestContext) -> Any:
    return select(customer_table.c.id).where(ctx.access.rows("Customer"))


@strawberry.type(description="Billing mutations.")
class BillingMutation:
    @strawberry.mutation(description="Record a payment against an invoice by reference number.")
    async def record_payment(
        self, info: Info[RequestContext, Any], input: RecordPaymentInput
    ) -> PaymentPayload:
        ctx = info.context
        source = _value(input.source)
        written = ["amount", "paid_on", "reference_number"] + (["source"] if source else [])
        require_write(ctx, "Payment", written)
        try:
            reference = validate_reference(input.reference_number)
        except IdentifierError as exc:
            raise UserInputError(
                f"input.referenceNumber: {exc}", field="input.referenceNumber", reason=exc.reason
            ) from None
        amount = money_input(input.amount, field="input.amount")
        paid_on = not_in_future(input.paid_on, ctx, field="input.paidOn")
        source = source or "bank"
        if source not in PAYMENT_SOURCES:
            raise UserInputError(
                f"input.source must be one of {', '.join(PAYMENT_SOURCES)}",
                field="input.source",
                reason="unknown source",
            )
        require_rows(ctx, "Invoice", field="input.referenceNumber")
        invoice = await fetch_one(
            ctx,
            select(invoice_table)
            .where(
                invoice_table.c.reference_number == reference,
                ctx.access.rows("Invoice"),
            )
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
        payment_id = await record_payment(
            ctx=ctx,
            invoice=invoice,
            amount=amount,
            paid_on=paid_on,
            reference=reference,
            source=source,
        )
        payment_row = await _row(ctx, payment_table, payment_id)
        payment_row["customer_id"] = invoice["customer_id"]
        invoice_row = await _row(ctx, invoice_table, invoice["id"])
        return payload(
            PaymentPayload,
            ctx,
            payment=build_one(Payment, payment_row, ctx, info, through=("payment",)),
            invoice=build_one(Invoice, invoice_row, ctx, info, through=("invoice",)),
        )

    @strawberry.mutation(description="Open a debt collection case over unpaid invoices.")
    async def open_collection_case(
        self, info: Info[RequestContext, Any], input: OpenCollectionCaseInput
    ) -> CollectionCasePayload:
        ctx = info.context
        agency_value = _value(input.agency_id)
        written = ["stage", "opened_on", "amount_due", "invoices"]
        require_write(ctx, "CollectionCase", written + (["agency"] if agency_value else []))
        require_write(ctx, "Invoice", ["status"])
        holder = await load_in_scope(
            ctx, customer_table, "Customer", input.customer_id, field="input.customerId"
        )
        if not input.invoice_ids:
            raise UserInputError(
                "A case needs at least one invoice", field="input.invoiceIds", reason="required"
            )
        invoices: list[dict[str, Any]] = []
        for index, value in enumerate(input.invoice_ids):
            field = f"input.invoiceIds.{index}"
            invoice = await load_in_scope(ctx, invoice_table, "Invoice", value, field=field)
            if invoice["customer_id"] != holder["id"]:
                raise UserInputError(
                    f"{field}: the invoice is not the customer's",
                    field=field,
                    reason="other customer",
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
        opened_on = not_in_future(
            _value(input.opened_on) or ctx.access.today, ctx, field="input.openedOn"
        )
        agency_id = (
            await _agency(ctx, agency_value, field="input.agencyId") if agency_value else None
        )
        stage_value = _value(input.stage)
        stage = (
            stage_value.value
            if stage_value
            else CollectionStage.COLLECTION_AGENCY.value
            if agency_id
            else CollectionStage.REMINDER.value
        )
        if stage == CollectionStage.CLOSED.value:
            raise UserInputError(
                "A case cannot open closed", field="input.stage", reason="closed stage"
            )
        due = Decimal(0)
        for invoice in invoices:
            due += invoice["total_incl_vat"] - await paid_total(ctx, invoice["id"])
        case_id = uuid.uuid4()
        await ctx.session.execute(
            insert(case_table).values(
                id=case_id,
                customer_id=holder["id"],
                agency_id=agency_id,
                stage=stage,
                opened_on=opened_on,
                amount_due=max(due, Decimal(0)),
            )
        )
        for invoice in invoices:
            await ctx.session.execute(
                insert(case_invoice_table).values(
                    collection_case_id=case_id, invoice_id=invoice["id"]
                )
            )
            await ctx.session.execute(
                update(invoice_table)
                .where(invoice_table.c.id == invoice["id"])
                .values(status=InvoiceStatus.IN_COLLECTION.value)
            )
            record_write(ctx, "Invoice", invoice["id"], customer_id=holder["id"], fields=["status"])
        record_write(
            ctx,
            "CollectionCase",
            case_id,
            customer_id=holder["id"],
            fields=["stage", "openedOn", "amountDue", "invoices"]
            + (["agency"] if agency_id else []),
        )
        return payload(
            CollectionCasePayload, ctx, collection_case=await _case_result(ctx, info, case_id)
        )

    @strawberry.mutation(description="Assign an open collection case to a collection agency.")
    async def assign_collection_case(
        self, info: Info[RequestContext, Any], input: AssignCollectionCaseInput
    ) -> CollectionCasePayload:
        ctx = info.context
        require_write(ctx, "CollectionCase", ["agency", "stage"])
        case = await _load_open_case(ctx, input.case_id)
        agency_id = await _agency(ctx, input.agency_id, field="input.agencyId")
        await ctx.session.execute(
            update(case_table)
            .where(case_table.c.id == case["id"])
            .values(agency_id=agency_id, stage=CollectionStage.COLLECTION_AGENCY.value)
        )
        record_write(
            ctx,
            "CollectionCase",
            case["id"],
            customer_id=case["customer_id"],
            fields=["agency", "stage"],
        )
        return payload(
            CollectionCasePayload, ctx, collection_case=await _case_result(ctx, info, case["id"])
        )

    @strawberry.mutation(
        description="Close a collection case; its invoices become paid or overdue again."
    )
    async def close_collection_case(
        self, info: Info[RequestContext, Any], input: CloseCollectionCaseInput
    ) -> CollectionCasePayload:
        ctx = info.context
        require_write(ctx, "CollectionCase", ["closed_on", "stage"])
        require_write(ctx, "Invoice", ["status"])
        case = await _load_open_case(ctx, input.case_id)
        closed_on = not_in_future(
            _value(input.closed_on) or ctx.access.today, ctx, field="input.closedOn"
        )
        if closed_on < case["opened_on"]:
            raise UserInputError(
                "The case cannot close before it opened",
                field="input.closedOn",
                reason="before opening",
            )
        await ctx.session.execute(
            update(case_table)
            .where(case_table.c.id == case["id"])
            .values(closed_on=closed_on, stage=CollectionStage.CLOSED.value)
        )
        invoices = (
            (
                await ctx.session.execute(
                    select(invoice_table)
                    .join(case_invoice_table, case_invoice_table.c.invoice_id == invoice_table.c.id)
                    .where(
                        case_invoice_table.c.collection_case_id == case["id"],
                        invoice_table.c.status == InvoiceStatus.IN_COLLECTION.value,
                    )
                )
            )
            .mappings()
            .all()
        )
        for invoice in invoices:
            paid = await paid_total(ctx, invoice["id"])
            status = (
                InvoiceStatus.PAID if paid >= invoice["total_incl_vat"] else InvoiceStatus.OVERDUE
            )
            await ctx.session.execute(
                update(invoice_table)
                .where(invoice_table.c.id == invoice["id"])
                .values(status=status.value)
            )
            record_write(
                ctx, "Invoice", invoice["id"], customer_id=case["customer_id"], fields=["status"]
            )
        record_write(
            ctx,
            "CollectionCase",
            case["id"],
            customer_id=case["customer_id"],
            fields=["closedOn", "stage"],
        )
        return payload(
            CollectionCasePayload, ctx, collection_case=await _case_result(ctx, info, case["id"])
        )

    @strawberry.mutation(description="Record a security deposit received from a customer.")
    async def record_security_deposit(
        self, info: Info[RequestContext, Any], input: RecordSecurityDepositInput
    ) -> SecurityDepositPayload:
        ctx = info.context
        require_write(ctx, "SecurityDeposit", ["amount", "received_on", "reason", "status"])
        holder = await load_in_scope(
            ctx,
            customer_table,
            "Customer",
            input.customer_id,
            field="input.customerId",
            lock=False,
        )
        amount = money_input(input.amount, field="input.amount")
        received_on = not_in_future(input.received_on, ctx, field="input.receivedOn")
        reason = text_input(input.reason, field="input.reason", max_length=200, required=True)
        contract_value = _value(input.contract_id)
        contract_id = None
        if contract_value is not None:
            contract = await load_in_scope(
                ctx,
                contract_table,
                "Contract",
                contract_value,
                field="input.contractId",
                lock=False,
            )
            if contract["customer_id"] != holder["id"]:
                raise UserInputError(
                    "input.contractId: the contract is not the customer's",
                    field="input.contractId",
                    reason="other customer",
                )
            contract_id = contract["id"]
        deposit_id = uuid.uuid4()
        await ctx.session.execute(
            insert(deposit_table).values(
                id=deposit_id,
                customer_id=holder["id"],
                contract_id=contract_id,
                amount=amount,
                received_on=received_on,
                status=DepositStatus.HELD.value,
                reason=reason,
            )
        )
        record_write(
            ctx,
            "SecurityDeposit",
            deposit_id,
            customer_id=holder["id"],
            fields=["amount", "receivedOn", "reason", "status"],
        )
        row = await _row(ctx, deposit_table, deposit_id)
        return payload(
            SecurityDepositPayload,
            ctx,
            deposit=build_one(SecurityDeposit, row, ctx, info, through=("deposit",)),
        )

    @strawberry.mutation(description="Record the return of a held security deposit.")
    async def return_security_deposit(
        self, info: Info[RequestContext, Any], input: ReturnSecurityDepositInput
    ) -> SecurityDepositPayload:
        ctx = info.context
        require_write(ctx, "SecurityDeposit", ["returned_on", "status"])
        require_rows(ctx, "Customer", field="input.depositId")
        deposit_id = parse_uuid(input.deposit_id, field="input.depositId")
        deposit = await fetch_one(
            ctx,
            select(deposit_table)
            .where(
                deposit_table.c.id == deposit_id,
                deposit_table.c.customer_id.in_(_visible_customer_ids(ctx)),
            )
            .with_for_update(),
        )
        if deposit is None:
            raise not_found("input.depositId")
        if deposit["status"] != DepositStatus.HELD.value:
            raise UserInputError(
                f"The deposit is {deposit['status']}, not held",
                field="input.depositId",
                reason="not held",
            )
        returned_on = not_in_future(input.returned_on, ctx, field="input.returnedOn")
        if returned_on < deposit["received_on"]:
            raise UserInputError(
                "A deposit cannot be returned before it was received",
                field="input.returnedOn",
                reason="before receipt",
            )
        await ctx.session.execute(
            update(deposit_table)
            .where(deposit_table.c.id == deposit_id)
            .values(returned_on=returned_on, status=DepositStatus.RETURNED.value)
        )
        record_write(
            ctx,
            "SecurityDeposit",
            deposit_id,
            customer_id=deposit["customer_id"],
            fields=["returnedOn", "status"],
        )
        row = await _row(ctx, deposit_table, deposit_id)
        return payload(
            SecurityDepositPayload,
            ctx,
            deposit=build_one(SecurityDeposit, row, ctx, info, through=("deposit",)),
        )
