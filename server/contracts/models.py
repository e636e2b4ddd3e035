"""Products and their prices, offers, and contracts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Identity, Index, Numeric
from sqlmodel import Field, SQLModel

from server.db.columns import created_at_field, enum_check, id_field


class ProductKind(StrEnum):
    FIXED = "fixed"
    SPOT = "spot"
    HYBRID = "hybrid"


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class ContractStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    TERMINATED = "terminated"
    ENDED = "ended"


class SalesChannel(StrEnum):
    WEB = "web"
    PHONE = "phone"
    FIELD = "field"
    EMAIL = "email"
    CUSTOMER_SERVICE = "customer_service"


def money(precision: int = 12, scale: int = 2, *, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(Numeric(precision, scale), nullable=nullable))


class Product(SQLModel, table=True):
    __tablename__ = "product"
    __table_args__ = (enum_check("kind", ProductKind),)

    id: uuid.UUID = id_field()
    code: str = Field(unique=True, max_length=40)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=10)
    fixed_term_months: int | None = None
    description: str = Field(default="", max_length=1000)


class Price(SQLModel, table=True):
    """A product's price list for a period; VAT is stored per price with its dates."""

    __tablename__ = "price"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period_order"),
        CheckConstraint("vat_rate >= 0 AND vat_rate < 100", name="vat_rate_range"),
        Index("price_product_valid_idx", "product_id", "valid_from", "id"),
    )

    id: uuid.UUID = id_field()
    product_id: uuid.UUID = Field(foreign_key="product.id", index=True)
    energy_price_c_per_kwh: Decimal | None = money(10, 4, nullable=True)
    spot_margin_c_per_kwh: Decimal | None = money(10, 4, nullable=True)
    basic_fee_eur_per_month: Decimal = money(10, 2)
    vat_rate: Decimal = money(5, 2)
    valid_from: date
    valid_to: date | None = None


class Offer(SQLModel, table=True):
    __tablename__ = "offer"
    __table_args__ = (
        enum_check("status", OfferStatus),
        CheckConstraint("(customer_id IS NOT NULL) <> (prospect_id IS NOT NULL)", name="one_party"),
    )

    id: uuid.UUID = id_field()
    customer_id: uuid.UUID | None = Field(default=None, foreign_key="customer.id", index=True)
    prospect_id: uuid.UUID | None = Field(default=None, foreign_key="prospect.id", index=True)
    site_id: uuid.UUID | None = Field(default=None, foreign_key="site.id")
    product_id: uuid.UUID = Field(foreign_key="product.id")
    energy_price_c_per_kwh: Decimal | None = money(10, 4, nullable=True)
    spot_margin_c_per_kwh: Decimal | None = money(10, 4, nullable=True)
    basic_fee_eur_per_month: Decimal = money(10, 2)
    valid_until: date
    status: str = Field(default="open", max_length=10)
    created_at: datetime = created_at_field()


class Contract(SQLModel, table=True):
    __tablename__ = "contract"
    __table_args__ = (
        enum_check("status", ContractStatus),
        enum_check("sales_channel", SalesChannel),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="period_order"),
        Index("contract_customer_start_idx", "customer_id", "start_date", "id"),
        Index("contract_site_start_idx", "site_id", "start_date", "id"),
    )

    id: uuid.UUID = id_field()
    contract_number: int = Field(
        sa_column=Column(BigInteger, Identity(start=5000001), unique=True, nullable=False),
        default=None,
    )
    customer_id: uuid.UUID = Field(foreign_key="customer.id", index=True)
    site_id: uuid.UUID = Field(foreign_key="site.id", index=True)
    product_id: uuid.UUID = Field(foreign_key="product.id")
    offer_id: uuid.UUID | None = Field(default=None, foreign_key="offer.id")
    energy_price_c_per_kwh: Decimal | None = money(10, 4, nullable=True)
    spot_margin_c_per_kwh: Decimal | None = money(10, 4, nullable=True)
    basic_fee_eur_per_month: Decimal = money(10, 2)
    start_date: date
    end_date: date | None = None
    status: str = Field(max_length=12)
    sales_channel: str = Field(max_length=20)
    created_at: datetime = created_at_field()
