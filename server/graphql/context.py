"""The request context: the obvious place for principal, purpose, loaders and the log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.collector import AccessCollector
from server.authz.access import AccessView
from server.authz.principal import Principal
from server.settings import Settings

if TYPE_CHECKING:
    from server.graphql.selection import SelectionCache


@dataclass
class RequestContext:
    """Everything a resolver may use; built per request by the GraphQL endpoint."""

    settings: Settings
    session: AsyncSession
    principal: Principal
    access: AccessView
    request_id: uuid.UUID
    client_address: str | None
    collector: AccessCollector = field(default_factory=AccessCollector)
    loaders: dict[str, Any] = field(default_factory=dict)
    selections: SelectionCache | None = None

    @property
    def purpose(self) -> str:
        return self.access.purpose
