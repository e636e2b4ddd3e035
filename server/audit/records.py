"""Access-log records as plain data, so that any executor can produce them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    PARTIAL = "partial"  # data returned, some fields denied
    DENIED = "denied"
    ERROR = "error"
    UNAUTHENTICATED = "unauthenticated"


class EventKind(StrEnum):
    """What a request-level record stands for."""

    GRAPHQL = "graphql"
    AUTHENTICATION = "authentication"
    POLICY_RELOAD = "policy_reload"
    CLI = "cli"
    CONSOLE = "console"  # the security console: its searches and its refusals
    IMPORT = "import"  # a file loaded by an importer (command line or HTTP)


@dataclass(slots=True)
class ObjectAccess:
    """One object a request touched, with the fields resolved on it and their decisions."""

    type_name: str
    object_id: str
    subject_customer_id: uuid.UUID | None
    subject_prospect_id: uuid.UUID | None
    operation: str  # "read" or "write"
    fields_read: set[str] = field(default_factory=set)
    fields_masked: set[str] = field(default_factory=set)
    fields_denied: set[str] = field(default_factory=set)


@dataclass(slots=True)
class RequestRecord:
    """One record per request: who, under which purpose, what, and how it ended."""

    request_id: uuid.UUID
    at: datetime
    event: EventKind
    principal: str | None
    organisation: str | None
    roles: tuple[str, ...]
    purpose: str | None
    client_address: str | None
    operation_name: str | None
    operation_type: str | None
    document_hash: str | None
    policy_version: str | None
    outcome: Outcome
    duration_ms: float
    detail: str | None = None
    executor: str | None = None  # "compiled" or "resolver"; None for events
