"""Tables of the importers: one source record per imported file, and what each file wrote
about whom (the provenance the access report shows)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    String,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from server.db.columns import (
    created_at_field,
    enum_check,
    id_field,
    required_timestamp_field,
    timestamp_field,
)


class ImportKind(StrEnum):
    PROSPECTS = "prospects"
    CONSUMPTION = "consumption"
    ADDRESSES = "addresses"


class ImportChannel(StrEnum):
    CLI = "cli"
    HTTP = "http"


class ImportSource(SQLModel, table=True):
    """One imported file: what it was, its counts, who loaded it and when. Written only
    when the file's rows were stored (a dry run or a refused file leaves the access log's
    record only)."""

    __tablename__ = "import_source"
    __table_args__ = (
        enum_check("kind", ImportKind),
        enum_check("channel", ImportChannel),
        CheckConstraint("file_sha256 ~ '^[0-9a-f]{64}$'", name="file_sha256_format"),
        CheckConstraint(
            "rows_accepted >= 0 AND rows_rejected >= 0"
            " AND rows_accepted + rows_rejected = rows_total",
            name="rows_add_up",
        ),
    )

    id: uuid.UUID = id_field()
    kind: str = Field(max_length=20)
    source: str = Field(default="", max_length=200)
    file_name: str = Field(max_length=255)
    file_sha256: str = Field(max_length=64, index=True)
    file_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    file_format: str = Field(max_length=20)
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    accept_partial: bool
    channel: str = Field(max_length=10)
    purpose: str = Field(max_length=100)
    imported_by: str = Field(max_length=200)
    imported_by_name: str = Field(max_length=150)
    organisation: str | None = Field(default=None, max_length=40)
    started_at: datetime = required_timestamp_field()
    finished_at: datetime = created_at_field()
    log_request_id: uuid.UUID


class ImportProvenance(SQLModel, table=True):
    """What one imported file wrote about one person's object: the fields of a customer or
    a prospect, or a consumption series of a site with its period and counts. Deleted with
    the prospect; retention deletes it with the customer's other data."""

    __tablename__ = "import_provenance"

    id: uuid.UUID = id_field()
    source_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("import_source.id"), nullable=False, index=True)
    )
    customer_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid, ForeignKey("customer.id", ondelete="CASCADE"), index=True),
    )
    prospect_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid, ForeignKey("prospect.id", ondelete="CASCADE"), index=True),
    )
    object_type: str = Field(max_length=30)
    object_id: uuid.UUID
    action: str = Field(max_length=10)
    fields: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(100)), nullable=False)
    )
    resolution: str | None = Field(default=None, max_length=5)
    first_step: datetime | None = timestamp_field()
    last_step: datetime | None = timestamp_field()
    values_added: int | None = None
    values_revised: int | None = None
