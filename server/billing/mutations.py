"""Mutations of the billing domain: payments, collection cases and security deposits.

The rules are in server/billing/service.py; a resolver reads its input, calls the service
and shapes the rows it returns.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from server.billing import service
from server.billing.models import CollectionStage
from server.billing.types import (
    CollectionCase,
    Invoice,
    Payment,
    SecurityDeposit,
)
from server.graphql.inputs import optional
from server.graphql.mutation import mutation, objects_answer


@strawberry.input(description="A payment received for the invoice with this reference number.")
class RecordPaymentInput:
    reference_number: str = strawberry.field(description="Finnish reference number (viite).")
    amount: Decimal = strawberry.field(description="Amount paid, EUR (positive, 2 decimals).")
    paid_on: date = strawberry.field(description="Date of payment.")
    source: str | None = optional(
        "Where the payment came from: bank (default), cash, card, collection_agency, offset."
    )


@strawberry.input(description="A debt collection case over unpaid invoices of one customer.")
class OpenCollectionCaseInput:
    customer_id: strawberry.ID = strawberry.field(description="The debtor.")
    invoice_ids: list[strawberry.ID] = strawberry.field(description="Unpaid invoices collected.")
    opened_on: date | None = optional("When the case opens (default today).")
    stage: CollectionStage | None = optional(
        "Stage to open in (default reminder, or collection_agency with an agency)."
    )
    agency_id: strawberry.ID | None = optional("Collection agency organisation to assign it to.")


@strawberry.input(description="Assignment of an open collection case to a collection agency.")
class AssignCollectionCaseInput:
    case_id: strawberry.ID = strawberry.field(description="The open case.")
    agency_id: strawberry.ID = strawberry.field(description="The collection agency organisation.")


@strawberry.input(description="Closing of a collection case.")
class CloseCollectionCaseInput:
    case_id: strawberry.ID = strawberry.field(description="The open case.")
    closed_on: date | None = optional("When it closes (default today).")


@strawberry.input(description="A security deposit received from a customer.")
class RecordSecurityDepositInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    amount: Decimal = strawberry.field(description="Amount, EUR.")
    received_on: date = strawberry.field(description="When it was received.")
    reason: str = strawberry.field(description="Why a deposit was required.")
    contract_id: strawberry.ID | None = optional("The contract it secures.")


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


@strawberry.type(description="Billing mutations.")
class BillingMutation:
    record_payment = mutation(
        service.record_payment, RecordPaymentInput, PaymentPayload, objects_answer()
    )
    open_collection_case = mutation(
        service.open_collection_case, OpenCollectionCaseInput, CollectionCasePayload
    )
    assign_collection_case = mutation(
        service.assign_collection_case, AssignCollectionCaseInput, CollectionCasePayload
    )
    close_collection_case = mutation(
        service.close_collection_case, CloseCollectionCaseInput, CollectionCasePayload
    )
    record_security_deposit = mutation(
        service.record_security_deposit, RecordSecurityDepositInput, SecurityDepositPayload
    )
    return_security_deposit = mutation(
        service.return_security_deposit, ReturnSecurityDepositInput, SecurityDepositPayload
    )
