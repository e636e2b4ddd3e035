"""Who is asking: the authenticated principal of one request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum


class PrincipalKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller; roles are names defined by the policy files, never by code."""

    kind: PrincipalKind
    id: uuid.UUID
    name: str
    organisation_id: uuid.UUID
    organisation_code: str
    roles: tuple[str, ...]
    session_id: uuid.UUID | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def log_ref(self) -> str:
        """How the access log names this principal (never a secret)."""
        return f"{self.kind.value}:{self.id}"
