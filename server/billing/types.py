"""GraphQL types of the billing domain."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from server.billing.models import BillingMethod, CollectionStage, DepositStatus, InvoiceStatus
from server.customers.relation import customer_field
from server.graphql.connections import related_connection
from server.graphql.context import RequestContext
from server.graphql.fields import data, graphql_enum
from server.graphql.globalid import Node
from server.graphql.inputs import filter_field
from server.graphql.relay import After, Connection, FilterBy, First
from server.graphql.shaping import related_list, related_one

if TYPE_CHECKING:
    from server.contracts.types import Contract
    from server.organisations.types import Organisation

graphql_enum(BillingMethod, description="How the invoice is delivered.")
graphql_enum(InvoiceStatus, description="State of an invoice.")
graphql_enum(DepositStatus, description="State of a security deposit.")
graphql_enum(CollectionStage, description="Stage of debt collection.")


@strawberry.input(description="Filters of a customer's, a contract's or a case's invoices.")
class InvoiceListFilter:
    status: InvoiceStatus | None = filter_field("Only invoices in this state.")
    overdue: bool | None = filter_field("True: overdue (past due and unpaid); false: not overdue.")
    issued_from: date | None = filter_field("Only invoices issued on this day or later.")
    issued_to: date | None = filter_field("Only invoices issued on this day or earlier.")


@strawberry.type(description="One line of an invoice, with its own VAT rate.")
class InvoiceLine(Node):
    line_number: int | None = data("Position on the invoice.")
    description: str | None = data("What is charged.")
    quantity: Decimal | None = data("Quantity, in `unit`.")
    unit: str | None = data("Unit of the quantity (kWh, month...).")
    unit_price: Decimal | None = data("Price per unit without VAT, EUR.")
    vat_rate: Decimal | None = data("VAT rate in per cent.")
    amount_excl_vat: Decimal | None = data("Line amount without VAT, EUR.")
    vat_amount: Decimal | None = data("VAT of the line, EUR.")


@strawberry.type(description="A payment received for an invoice.")
class Payment(Node):
    paid_on: date | None = data("Date of payment.")
    amount: Decimal | None = data("Amount paid, EUR.")
    reference_number: str | None = data("Reference number given with the payment.")
    source: str | None = data("Where the payment came from (bank, cash...).")


@strawberry.type(description="An invoice to a customer.")
class Invoice(Node):
    customer_id: strawberry.Private[uuid.UUID]
    contract_id: strawberry.Private[uuid.UUID | None]
    invoice_number: int | None = data("Invoice number.")
    reference_number: str | None = data("Finnish national reference number for the payment.")
    billing_method: BillingMethod | None = data("How it is delivered.")
    issue_date: date | None = data("Date of issue.")
    due_date: date | None = data("Due date.")
    period_start: date | None = data("First day of the billing period.")
    period_end: date | None = data("Last day of the billing period.")
    total_excl_vat: Decimal | None = data("Total without VAT, EUR.")
    vat_amount: Decimal | None = data("VAT total, EUR.")
    total_incl_vat: Decimal | None = data("Total with VAT, EUR.")
    status: InvoiceStatus | None = data("State of the invoice.")
    created_at: datetime | None = data("When the invoice was created.")

    customer = customer_field("The invoiced customer.")

    @strawberry.field(description="The contract invoiced.")
    async def contract(
        self, info: Info[RequestContext, Any]
    ) -> Annotated[Contract, strawberry.lazy("server.contracts.types")] | None:
        from server.contracts.loaders import contracts_by_id
        from server.contracts.types import Contract

        return await related_one(info, contracts_by_id, Contract, self.contract_id)

    @strawberry.field(description="Lines of the invoice in order.")
    async def lines(self, info: Info[RequestContext, Any]) -> list[InvoiceLine] | None:
        from server.billing.loaders import lines_by_invoice

        return await related_list(info, "Invoice", "lines", lines_by_invoice, InvoiceLine, self.id)

    @strawberry.field(description="Payments received, oldest first.")
    async def payments(
        self, info: Info[RequestContext, Any], first: First = None, after: After = None
    ) -> Connection[Payment] | None:
        from server.billing.loaders import PAYMENTS_OF_INVOICE

        return await related_connection(
            info, PAYMENTS_OF_INVOICE, Payment, self.id, first=first, after=after
        )


@strawberry.type(description="A security deposit (vakuus) held for a customer.")
class SecurityDeposit(Node):
    amount: Decimal | None = data("Amount, EUR.")
    received_on: date | None = data("When it was received.")
    returned_on: date | None = data("When it was returned (null: still held).")
    status: DepositStatus | None = data("Held, returned or applied.")
    reason: str | None = data("Why a deposit was required.")


@strawberry.type(description="A debt collection case over one or more invoices.")
class CollectionCase(Node):
    customer_id: strawberry.Private[uuid.UUID]
    agency_id: strawberry.Private[uuid.UUID | None]
    stage: CollectionStage | None = data("Stage of collection.")
    opened_on: date | None = data("When the case was opened.")
    closed_on: date | None = data("When it was closed (null: open).")
    amount_due: Decimal | None = data("Amount under collection, EUR.")

    @strawberry.field(description="The collection agency handling the case.")
    async def agency(
        self, info: Info[RequestContext, Any]
    ) -> Annotated[Organisation, strawberry.lazy("server.organisations.types")] | None:
        from server.organisations.loaders import organisations_by_id
        from server.organisations.types import Organisation

        return await related_one(
            info, organisations_by_id, Organisation, self.agency_id, subject=None
        )

    @strawberry.field(description="Invoices in the case, earliest due date first.")
    async def invoices(
        self,
        info: Info[RequestContext, Any],
        first: First = None,
        after: After = None,
        filter: FilterBy[InvoiceListFilter] = None,
    ) -> Connection[Invoice] | None:
        from server.billing.loaders import INVOICES_OF_CASE

        return await related_connection(
            info, INVOICES_OF_CASE, Invoice, self.id, first=first, after=after, filter=filter
        )
