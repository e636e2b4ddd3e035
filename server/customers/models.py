"""Customers: persons and organisations that buy electricity."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, Identity, Index, text
from sqlmodel import Field, SQLModel

from server.db.columns import (
    enum_check,
    id_field,
    server_timestamp_field,
    timestamp_field,
    valid_identifier_check,
)


class CustomerKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class Language(StrEnum):
    FI = "fi"
    SV = "sv"
    EN = "en"


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    __table_args__ = (
        enum_check("kind", CustomerKind),
        enum_check("language", Language),
        valid_identifier_check("personal_identity_code", "fi_valid_hetu"),
        valid_identifier_check("business_id", "fi_valid_business_id"),
        CheckConstraint(
            "anonymised_at IS NOT NULL"
            " OR (kind = 'person' AND business_id IS NULL AND last_name IS NOT NULL)"
            " OR (kind = 'organisation' AND personal_identity_code IS NULL"
            " AND organisation_name IS NOT NULL)",
            name="identity_matches_kind",
        ),
        CheckConstraint("postal_code ~ '^[0-9]{5}$'", name="postal_code_format"),
        Index("customer_name_idx", text("lower(last_name)"), text("lower(first_name)")),
        Index("customer_org_name_idx", text("lower(organisation_name)")),
        Index("customer_last_name_order_idx", "last_name", "id"),
        Index("customer_business_id_idx", "business_id"),
    )

    id: uuid.UUID = id_field()
    customer_number: int = Field(
        sa_column=Column(BigInteger, Identity(start=100001), unique=True, nullable=False),
        default=None,
    )
    kind: str = Field(max_length=20)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    organisation_name: str | None = Field(default=None, max_length=200)
    personal_identity_code: str | None = Field(default=None, max_length=11, unique=True)
    business_id: str | None = Field(default=None, max_length=9)
    street_address: str = Field(max_length=200)
    postal_code: str = Field(max_length=5)
    post_office: str = Field(max_length=100)
    country: str = Field(default="FI", max_length=2, sa_column_kwargs={"server_default": "FI"})
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    language: str = Field(default="fi", max_length=2, sa_column_kwargs={"server_default": "fi"})
    direct_marketing_objection_at: datetime | None = timestamp_field()
    direct_marketing_objection_source: str | None = Field(default=None, max_length=200)
    distance_selling_objection_at: datetime | None = timestamp_field()
    distance_selling_objection_source: str | None = Field(default=None, max_length=200)
    research_objection_at: datetime | None = timestamp_field()
    research_objection_source: str | None = Field(default=None, max_length=200)
    processing_restricted_at: datetime | None = timestamp_field()
    former_customer_since: datetime | None = timestamp_field()
    anonymised_at: datetime | None = timestamp_field()
    created_at: datetime = server_timestamp_field()
    updated_at: datetime = server_timestamp_field()
