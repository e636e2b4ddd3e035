"""Prospects: potential customers who gave marketing consent (notice section 6)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from server.db.columns import created_at_field, enum_check, id_field, required_timestamp_field


class ProspectSource(StrEnum):
    COMPETITION = "competition"
    PRIZE_DRAW = "prize_draw"
    QUOTE_REQUEST = "quote_request"
    EVENT = "event"


class Prospect(SQLModel, table=True):
    """Stored only with a marketing consent: the database refuses a row without one."""

    __tablename__ = "prospect"
    __table_args__ = (
        enum_check("source", ProspectSource),
        CheckConstraint(
            "postal_code IS NULL OR postal_code ~ '^[0-9]{5}$'", name="postal_code_format"
        ),
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="reachable"),
    )

    id: uuid.UUID = id_field()
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    postal_code: str | None = Field(default=None, max_length=5)
    source: str = Field(max_length=20)
    campaign: str = Field(default="", max_length=200)
    marketing_consent_at: datetime = required_timestamp_field()
    consent_text: str = Field(max_length=1000)
    consent_expires_on: date
    created_at: datetime = created_at_field()
