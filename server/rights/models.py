"""Tables of the data-subject rights: change history, requests, disclosures, retention runs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ARRAY, BigInteger, Column, Identity, Index, PrimaryKeyConstraint, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from server.db.columns import created_at_field, enum_check, id_field
from server.organisations.models import country_check, country_field


class ChangedType(StrEnum):
    """The GraphQL type whose data changed; field names in a change are that type's."""

    CUSTOMER = "Customer"
    SITE = "Site"


class ChangeAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    ANONYMISE = "anonymise"


class RequestKind(StrEnum):
    """What the data subject asks for (GDPR Art. 15, 16, 18 and 21)."""

    ACCESS = "access"
    RECTIFICATION = "rectification"
    OBJECTION = "objection"
    RESTRICTION = "restriction"


class RequestChannel(StrEnum):
    """How the request came in; the privacy notice asks for written and signed requests."""

    WRITTEN_SIGNED = "written_signed"
    ELECTRONIC_SIGNATURE = "electronic_signature"
    IN_PERSON = "in_person"
    OTHER = "other"


class RequestStatus(StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"


OPEN_REQUEST_STATUSES = (RequestStatus.RECEIVED.value, RequestStatus.IN_PROGRESS.value)


class RecipientKind(StrEnum):
    AUTHORITY = "authority"
    ENERGY_COMPANY = "energy_company"


def _jsonb() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))


class ChangeRecord(SQLModel, table=True):
    """One change to a customer's or a site's data: previous and new values, who, when, why."""

    __tablename__ = "change_record"
    __table_args__ = (
        enum_check("action", ChangeAction),
        enum_check("object_type", ChangedType),
        Index("change_record_customer_idx", "customer_id", "changed_at"),
    )

    id: uuid.UUID = id_field()
    customer_id: uuid.UUID = Field(foreign_key="customer.id")
    object_type: str = Field(max_length=20)
    object_id: uuid.UUID
    action: str = Field(max_length=12)
    old_values: dict[str, Any] = _jsonb()
    new_values: dict[str, Any] = _jsonb()
    reason: str | None = Field(default=None, max_length=1000)
    request_id: uuid.UUID | None = Field(default=None, foreign_key="data_subject_request.id")
    changed_by: str = Field(max_length=100)
    changed_by_name: str = Field(max_length=150)
    organisation: str | None = Field(default=None, max_length=40)
    log_request_id: uuid.UUID | None = None
    changed_at: datetime = created_at_field()


class DataSubjectRequest(SQLModel, table=True):
    """A request of access, rectification, objection or restriction, tracked to its deadline."""

    __tablename__ = "data_subject_request"
    __table_args__ = (
        enum_check("kind", RequestKind),
        enum_check("channel", RequestChannel),
        enum_check("status", RequestStatus),
        Index("data_subject_request_open_idx", "status", "due_on"),
    )

    id: uuid.UUID = id_field()
    request_number: int = Field(
        sa_column=Column(BigInteger, Identity(start=1001), unique=True, nullable=False),
        default=None,
    )
    customer_id: uuid.UUID = Field(foreign_key="customer.id", index=True)
    kind: str = Field(max_length=20)
    channel: str = Field(max_length=25)
    received_on: date
    due_on: date
    extended_due_on: date | None = None
    status: str = Field(default="received", max_length=12)
    handler: str | None = Field(default=None, max_length=150)
    reference: str = Field(default="", max_length=100)
    notes: str = Field(default="", max_length=2000)
    completed_on: date | None = None
    created_by: str = Field(max_length=100)
    created_at: datetime = created_at_field()


class Disclosure(SQLModel, table=True):
    """A disclosure to an authority or another energy company (privacy notice section 7)."""

    __tablename__ = "disclosure"
    __table_args__ = (
        enum_check("recipient_kind", RecipientKind),
        country_check("recipient_country"),
    )

    id: uuid.UUID = id_field()
    recipient: str = Field(max_length=200)
    recipient_kind: str = Field(max_length=20)
    recipient_country: str = country_field("Where the recipient is (ISO 3166-1 alpha-2).")
    organisation_id: uuid.UUID | None = Field(default=None, foreign_key="organisation.id")
    legal_basis: str = Field(max_length=500)
    confidential: bool = Field(default=False)
    case_reference: str = Field(max_length=200)
    disclosed_on: date
    fields: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(100)), nullable=False)
    )
    made_by: str = Field(max_length=100)
    made_by_name: str = Field(max_length=150)
    created_at: datetime = created_at_field()


class DisclosureCustomer(SQLModel, table=True):
    __tablename__ = "disclosure_customer"
    __table_args__ = (PrimaryKeyConstraint("disclosure_id", "customer_id"),)

    disclosure_id: uuid.UUID = Field(foreign_key="disclosure.id")
    customer_id: uuid.UUID = Field(foreign_key="customer.id", index=True)


class RetentionRun(SQLModel, table=True):
    """One real run of `rekisteri retention apply`, with what it changed."""

    __tablename__ = "retention_run"

    id: uuid.UUID = id_field()
    ran_at: datetime = created_at_field()
    ran_by: str = Field(max_length=150)
    as_of: date
    summary: dict[str, Any] = _jsonb()
