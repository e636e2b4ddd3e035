"""Answers to mutations sent with an Idempotency-Key, so that a retry writes nothing, and
the registered (trusted) documents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, LargeBinary, Text, func
from sqlmodel import Field, SQLModel


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a mutation sent with a key, kept for a day."""

    __tablename__ = "idempotency_record"

    principal: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=128)
    status: int
    response: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": func.now(), "nullable": False},
    )


class TrustedDocument(SQLModel, table=True):
    """A registered GraphQL document, called by the SHA-256 of its text.

    Only the owner (the `rekisteri operations` command) writes these rows; the service
    reads them. The CHECK keeps the key honest: it is the hash of the stored text."""

    __tablename__ = "trusted_document"
    __table_args__ = (
        CheckConstraint(
            "sha256 = encode(sha256(convert_to(document, 'UTF8')), 'hex')",
            name="trusted_document_sha256_matches",
        ),
    )

    sha256: str = Field(primary_key=True, max_length=64)
    document: str = Field(sa_column=Column(Text, nullable=False))
    name: str = Field(max_length=200)
    registered_by: str = Field(max_length=100)
    registered_at: datetime = Field(
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": func.now(), "nullable": False},
    )
