"""Answers to mutations sent with an Idempotency-Key, so that a retry writes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, LargeBinary, func
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
