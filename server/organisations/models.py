"""Organisations (the company, subcontractors, partners) and their assignments to rows."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from server.db.columns import created_at_field, enum_check, id_field, valid_identifier_check

# Organisations and recipients registered before countries were recorded (migration 0007)
# are Finnish; so is a new one unless its country is given.
DEFAULT_COUNTRY = "FI"


def country_field(description: str) -> Any:
    """An ISO 3166-1 alpha-2 country code (upper case), FI unless given."""
    return Field(
        default=DEFAULT_COUNTRY,
        max_length=2,
        description=description,
        sa_column_kwargs={"server_default": DEFAULT_COUNTRY},
    )


def country_check(column: str) -> CheckConstraint:
    """Two upper-case ASCII letters; whether the code is assigned is checked in code
    (server/validators.py COUNTRY_CODES), where the list is kept."""
    return CheckConstraint(f"{column} ~ '^[A-Z]{{2}}$'", name=f"{column}_format")


class OrganisationKind(StrEnum):
    COMPANY = "company"
    SUBCONTRACTOR = "subcontractor"
    PARTNER = "partner"
    AUTHORITY = "authority"
    ENERGY_COMPANY = "energy_company"


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"
    __table_args__ = (
        enum_check("kind", OrganisationKind),
        valid_identifier_check("business_id", "fi_valid_business_id"),
        country_check("country"),
    )

    id: uuid.UUID = id_field()
    code: str = Field(unique=True, max_length=40, description="Short stable code, e.g. 'ksat'.")
    name: str = Field(max_length=200)
    business_id: str | None = Field(default=None, max_length=9)
    kind: str = Field(max_length=20)
    description: str = Field(default="", max_length=500)
    country: str = country_field("Where the organisation is established (ISO 3166-1 alpha-2).")
    created_at: datetime = created_at_field()


class Assignment(SQLModel, table=True):
    """Which organisation may handle which customer or site, for which purpose and period."""

    __tablename__ = "assignment"
    __table_args__ = (
        CheckConstraint("(customer_id IS NOT NULL) <> (site_id IS NOT NULL)", name="one_target"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period_order"),
        Index("assignment_site_idx", "site_id", "organisation_id"),
        Index("assignment_customer_idx", "customer_id", "organisation_id"),
    )

    id: uuid.UUID = id_field()
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    customer_id: uuid.UUID | None = Field(default=None, foreign_key="customer.id")
    site_id: uuid.UUID | None = Field(default=None, foreign_key="site.id")
    purpose: str = Field(max_length=40)
    valid_from: date
    valid_to: date | None = None
    revoked_at: datetime | None = Field(default=None)
    created_at: datetime = created_at_field()
