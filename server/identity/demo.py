"""Demo users for `seed --demo`: one per role, with random passwords printed once."""

from __future__ import annotations

import re
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from server.db.columns import utcnow
from server.identity.passwords import hash_password
from server.identity.sessions import revoke_sessions
from server.identity.users import create_user, organisation_by_code, user_by_username

PASSWORD_BYTES = 18


def demo_username(role: str) -> str:
    return "demo-" + re.sub(r"[^a-z0-9]+", "-", role.lower()).strip("-")


async def create_demo_users(
    *, session: AsyncSession, roles_with_orgs: list[tuple[str, str]]
) -> list[tuple[str, str, str]]:
    """Create (or reset) user `demo-<role>` per (role, organisation code).

    Returns (username, role, password) for printing; running it again gives new passwords.
    """
    known = {role for role, _ in roles_with_orgs}
    created: list[tuple[str, str, str]] = []
    for role, organisation_code in roles_with_orgs:
        username = demo_username(role)
        password = secrets.token_urlsafe(PASSWORD_BYTES)
        existing = await user_by_username(session, username)
        if existing is None:
            await create_user(
                session=session,
                username=username,
                password=password,
                organisation_code=organisation_code,
                roles=[role],
                known_roles=known,
            )
        else:
            organisation = await organisation_by_code(session, organisation_code)
            existing.password_hash = await hash_password(password)
            existing.organisation_id = organisation.id
            existing.roles = [role]
            existing.active = True
            existing.updated_at = utcnow()
            session.add(existing)
            await session.flush()
            await revoke_sessions(session, user_id=existing.id, now=utcnow())
        created.append((username, role, password))
    return created
