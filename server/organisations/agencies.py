"""Which organisations work as collection agencies.

Organisation kinds do not tell a collection agency from a field service company (both are
subcontractors). What does is policy data: an organisation is a collection agency when one
of its principals (an active user, or an API key in force) holds a role that the policy
gives the collection cases of its own agency (row scope `own_agency` of CollectionCase).
No role is named in code.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, String, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.authz.policy import CompiledPolicy
from server.db.tables import table_of
from server.identity.models import ROLE_MAX_LENGTH, ApiKey, AppUser
from server.organisations.models import Organisation, OrganisationKind

organisation_table = table_of(Organisation)
user_table = table_of(AppUser)
key_table = table_of(ApiKey)
AGENCY_SCOPE = ("CollectionCase", "own_agency")


def _holds_any(column: Any, roles: list[str]) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = column.op("&&")(
        cast(literal(roles, ARRAY(String(ROLE_MAX_LENGTH))), ARRAY(String(ROLE_MAX_LENGTH)))
    )
    return condition


def roles_with_scope(policy: CompiledPolicy, type_name: str, scope: str) -> tuple[str, ...]:
    """The roles granted row scope `scope` of `type_name` under any purpose."""
    return tuple(
        sorted(
            {
                role
                for (role, _purpose), grant in policy.grants.items()
                if scope in grant.scopes.get(type_name, ())
            }
        )
    )


async def is_collection_agency(
    session: AsyncSession, policy: CompiledPolicy, organisation_id: uuid.UUID
) -> bool:
    roles = list(roles_with_scope(policy, *AGENCY_SCOPE))
    if not roles:
        return False
    users = select(user_table.c.id).where(
        user_table.c.organisation_id == organisation_table.c.id,
        user_table.c.active.is_(True),
        _holds_any(user_table.c.roles, roles),
    )
    keys = select(key_table.c.id).where(
        key_table.c.organisation_id == organisation_table.c.id,
        key_table.c.revoked_at.is_(None),
        key_table.c.expires_at > func.now(),
        _holds_any(key_table.c.roles, roles),
    )
    found = await session.scalar(
        select(organisation_table.c.id).where(
            organisation_table.c.id == organisation_id,
            organisation_table.c.kind == OrganisationKind.SUBCONTRACTOR.value,
            or_(users.exists(), keys.exists()),
        )
    )
    return found is not None
