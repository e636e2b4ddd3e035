"""Invoices and their lines, payments, security deposits and collection cases."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, Identity, Index, PrimaryKeyConstraint
from sqlmodel import Field, SQLModel

from server.contracts.models import money
from server.db.columns import created_at_field, enum_check, id_field, valid_identifier_check


class BillingMethod(StrEnum):
    E_INVOICE = "e_invoice"
    DIRECT_PAYMENT = "direct_payment"
    EMAIL = "email"
    PAPER = "paper"


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    OVERDUE = "overdue"
    IN_COLLECTION = "in_collection"
    CREDITED = "credited"


class DepositStatus(StrEnum):
    HELD = "held"
    RETURNED = "returned"
    APPLIED = "applied"


class CollectionStage(StrEnum):
    REMINDER = "reminder"
    PAYMENT_DEMAND = "payment_demand"
    DISCONNECTION_WARNING = "disconnection_warning"
    COLLECTION_AGENCY = "collection_agency"
    LEGAL = "legal"
    CLOSED = "closed"


class Invoice(SQLModel, table=True):
    __tablename__ = "invoice"
    __table_args__ = (
        enum_check("billing_method", BillingMethod),
        enum_check("status", InvoiceStatus),
        valid_identifier_check("reference_number", "fi_valid_reference"),
        CheckConstraint("due_date >= issue_date", name="due_after_issue"),
        CheckConstraint("total_incl_vat = total_excl_vat + vat_amount", name="totals_add_up"),
        Index("invoice_customer_idx", "customer_id", "issue_date", "invoice_number"),
        Index("invoice_status_due_idx", "status", "due_date"),
        Index("invoice_contract_issue_idx", "contract_id", "issue_date", "invoice_number"),
        Index("invoice_due_idx", "due_date", "id"),
    )

    id: uuid.UUID = id_field()
    invoice_number: int = Field(
        sa_column=Column(BigInteger, Identity(start=70000001), unique=True, nullable=False),
        default=None,
    )
    customer_id: uuid.UUID = Field(foreign_key="customer.id")
    contract_id: uuid.UUID | None = Field(default=None, foreign_key="contract.id", index=True)
    reference_number: str = Field(max_length=20, unique=True)
    billing_method: str = Field(max_length=20)
    issue_date: date
    due_date: date
    period_start: date | None = None
    period_end: date | None = None
    total_excl_vat: Decimal = money()
    vat_amount: Decimal = money()
    total_incl_vat: Decimal = money()
    status: str = Field(max_length=15)
    created_at: datetime = created_at_field()


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_line"
    __table_args__ = (PrimaryKeyConstraint("invoice_id", "line_number"),)

    invoice_id: uuid.UUID = Field(foreign_key="invoice.id")
    line_number: int
    description: str = Field(max_length=200)
    quantity: Decimal = money(14, 3)
    unit: str = Field(max_length=10)
    unit_price: Decimal = money(12, 4)
    vat_rate: Decimal = money(5, 2)
    amount_excl_vat: Decimal = money()
    vat_amount: Decimal = money()


class Payment(SQLModel, table=True):
    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        valid_identifier_check("reference_number", "fi_valid_reference"),
        Index("payment_invoice_paid_idx", "invoice_id", "paid_on", "id"),
    )

    id: uuid.UUID = id_field()
    invoice_id: uuid.UUID = Field(foreign_key="invoice.id", index=True)
    paid_on: date
    amount: Decimal = money()
    reference_number: str | None = Field(default=None, max_length=20)
    source: str = Field(default="bank", max_length=20)
    created_at: datetime = created_at_field()


class SecurityDeposit(SQLModel, table=True):
    __tablename__ = "security_deposit"
    __table_args__ = (
        enum_check("status", DepositStatus),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("returned_on IS NULL OR returned_on >= received_on", name="return_order"),
        Index("security_deposit_customer_received_idx", "customer_id", "received_on", "id"),
    )

    id: uuid.UUID = id_field()
    customer_id: uuid.UUID = Field(foreign_key="customer.id", index=True)
    contract_id: uuid.UUID | None = Field(default=None, foreign_key="contract.id")
    amount: Decimal = money()
    received_on: date
    returned_on: date | None = None
    status: str = Field(default="held", max_length=10)
    reason: str = Field(default="", max_length=200)


class CollectionCase(SQLModel, table=True):
    __tablename__ = "collection_case"
    __table_args__ = (
        enum_check("stage", CollectionStage),
        CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name="period_order"),
        Index("collection_case_agency_idx", "agency_id", "customer_id"),
        Index("collection_case_customer_opened_idx", "customer_id", "opened_on", "id"),
    )

    id: uuid.UUID = id_field()
    customer_id: uuid.UUID = Field(foreign_key="customer.id", index=True)
    agency_id: uuid.UUID | None = Field(default=None, foreign_key="organisation.id")
    stage: str = Field(max_length=25)
    opened_on: date
    closed_on: date | None = None
    amount_due: Decimal = money()
    created_at: datetime = created_at_field()


class CollectionCaseInvoice(SQLModel, table=True):
    __tablename__ = "collection_case_invoice"
    __table_args__ = (PrimaryKeyConstraint("collection_case_id", "invoice_id"),)

    collection_case_id: uuid.UUID = Field(foreign_key="collection_case.id")
    invoice_id: uuid.UUID = Field(foreign_key="invoice.id", index=True)
