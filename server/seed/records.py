"""The working records of a seed run: what is decided about a customer, site, contract,
invoice or collection case before it becomes a table row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from server.billing.models import InvoiceStatus
from server.seed.draws import ZERO
from server.seed.names import PostalArea
from server.seed.prices import Product

if TYPE_CHECKING:
    from server.seed.consumption import Series

__all__ = ["CollectionCase", "Contract", "Customer", "Invoice", "InvoiceLine", "Site"]


@dataclass(slots=True)
class Contract:
    id: uuid.UUID
    product: Product
    start: date
    end: date | None
    status: str
    channel: str
    energy: Decimal | None = None
    margin: Decimal | None = None
    fee: Decimal = ZERO
    offer_id: uuid.UUID | None = None
    number: int = 0


@dataclass(slots=True)
class Site:
    id: uuid.UUID
    gsrn: str
    street: str
    area: PostalArea
    housing: str
    ownership: str
    heating: str
    estimate: int
    fuse: str
    connection_id: str
    power: Decimal
    connected_on: date
    contracts: list[Contract] = field(default_factory=list)
    amplitude: float = 0.2
    series: Series | None = None


@dataclass(slots=True)
class Customer:
    id: uuid.UUID
    kind: str
    first_name: str | None
    last_name: str | None
    organisation_name: str | None
    hetu: str | None
    business_id: str | None
    street: str
    area: PostalArea
    email: str | None
    phone: str | None
    language: str
    billing_method: str
    birth: date | None = None
    billing_day: int = 4
    sites: list[Site] = field(default_factory=list)
    objections: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    created_at: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    former_since: datetime | None = None
    number: int = 0


@dataclass(slots=True)
class InvoiceLine:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: Decimal
    amount: Decimal
    vat: Decimal


@dataclass(slots=True)
class Invoice:
    id: uuid.UUID
    customer: Customer
    contract: Contract
    issue: date
    due: date
    period_start: date
    period_end: date
    lines: list[InvoiceLine]
    excl: Decimal
    vat: Decimal
    incl: Decimal
    status: str = InvoiceStatus.OPEN
    paid_on: date | None = None
    number: int = 0
    reference: str = ""


@dataclass(slots=True)
class CollectionCase:
    id: uuid.UUID
    customer: Customer
    agency_id: uuid.UUID
    stage: str
    opened_on: date
    closed_on: date | None
    amount_due: Decimal
    invoices: list[Invoice]
