"""Managing users: create, disable, change password or roles (each takes effect at once)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from server.db.columns import utcnow
from server.identity.errors import InvalidUsername, UnknownOrganisation, UnknownUser, UsernameTaken
from server.identity.events import save_with_event
from server.identity.models import USERNAME_MAX_LENGTH, ApiKey, AppUser, AuthEventKind
from server.identity.passwords import check_new_password, hash_password
from server.identity.roles import validate_roles
from server.identity.sessions import revoke_sessions
from server.organisations.models import Organisation, OrganisationKind

USERNAME_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._@-]{{2,{USERNAME_MAX_LENGTH - 1}}}")


def check_username(username: str) -> str:
    """The username as stored: 3-150 letters, digits or . _ @ - (an e-mail address fits)."""
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidUsername(
            "A username has 3 to 150 characters: letters a-z, digits and . _ @ -, "
            "starting with a letter or digit."
        )
    return username


async def organisation_by_code(session: AsyncSession, code: str | None) -> Organisation:
    """The organisation with this code; with no code, the company itself (kind 'company')."""
    if code is None:
        statement = select(Organisation).where(
            col(Organisation.kind) == OrganisationKind.COMPANY.value
        )
        found = list((await session.execute(statement.limit(2))).scalars())
        if len(found) != 1:
            raise UnknownOrganisation("Name the organisation by its code.")
        return found[0]
    statement = select(Organisation).where(col(Organisation.code) == code)
    organisation = (await session.execute(statement)).scalar_one_or_none()
    if organisation is None:
        raise UnknownOrganisation(f"No organisation with code {code!r}.")
    return organisation


async def organisation_by_id(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation:
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None:
        raise UnknownOrganisation("No such organisation.")
    return organisation


async def user_by_username(session: AsyncSession, username: str) -> AppUser | None:
    """Case-insensitive lookup (the unique index is on lower(username))."""
    statement = select(AppUser).where(func.lower(col(AppUser.username)) == username.strip().lower())
    return (await session.execute(statement)).scalar_one_or_none()


async def principal_names(session: AsyncSession, refs: Iterable[str]) -> dict[str, str]:
    """Usernames and API key names of access-log principals (user:<id>, api_key:<id>)."""
    ids: dict[str, set[uuid.UUID]] = {"user": set(), "api_key": set()}
    for ref in refs:
        kind, _, value = ref.partition(":")
        try:
            ids[kind].add(uuid.UUID(value))
        except (KeyError, ValueError):
            continue
    names: dict[str, str] = {}
    if ids["user"]:
        users = select(col(AppUser.id), col(AppUser.username)).where(
            col(AppUser.id).in_(ids["user"])
        )
        names |= {f"user:{i}": n for i, n in (await session.execute(users)).all()}
    if ids["api_key"]:
        keys = select(col(ApiKey.id), col(ApiKey.name)).where(col(ApiKey.id).in_(ids["api_key"]))
        names |= {f"api_key:{i}": n for i, n in (await session.execute(keys)).all()}
    return names


async def _existing(session: AsyncSession, username: str) -> AppUser:
    user = await user_by_username(session, username)
    if user is None:
        raise UnknownUser(f"No user {username!r}.")
    return user


async def create_user(
    *,
    session: AsyncSession,
    username: str,
    password: str,
    organisation_code: str | None,
    roles: Iterable[str],
    known_roles: set[str],
) -> AppUser:
    username = check_username(username.strip())
    checked = validate_roles(roles, known_roles)
    check_new_password(password, username=username)
    organisation = await organisation_by_code(session, organisation_code)
    if await user_by_username(session, username) is not None:
        raise UsernameTaken(f"The username {username!r} is taken.")
    now = utcnow()
    user = AppUser(
        username=username,
        password_hash=await hash_password(password),
        organisation_id=organisation.id,
        roles=list(checked),
        active=True,
        created_at=now,
        updated_at=now,
    )
    await save_with_event(
        session,
        user,
        AuthEventKind.USER_CREATED,
        detail=f"organisation={organisation.code} roles={','.join(checked)}",
        at=now,
    )
    return user


async def _save_and_revoke(session: AsyncSession, user: AppUser, event: AuthEventKind) -> int:
    """Store a change to a user that ends every login, and record it."""
    now = utcnow()
    user.updated_at = now
    revoked = await revoke_sessions(session, user_id=user.id, now=now)
    await save_with_event(session, user, event, detail=f"sessions_revoked={revoked}", at=now)
    return revoked


async def disable_user(*, session: AsyncSession, username: str) -> int:
    """Disable the user and revoke every session; returns how many sessions were live."""
    user = await _existing(session, username)
    user.active = False
    return await _save_and_revoke(session, user, AuthEventKind.USER_DISABLED)


async def set_password(*, session: AsyncSession, username: str, password: str) -> int:
    """Set a new password and revoke every session; returns how many sessions were live."""
    user = await _existing(session, username)
    check_new_password(password, username=user.username)
    user.password_hash = await hash_password(password)
    return await _save_and_revoke(session, user, AuthEventKind.PASSWORD_CHANGED)


async def set_roles(
    *, session: AsyncSession, username: str, roles: Iterable[str], known_roles: set[str]
) -> tuple[str, ...]:
    """Replace the user's roles; the next request of any live session sees the new ones."""
    user = await _existing(session, username)
    checked = validate_roles(roles, known_roles)
    before = ",".join(user.roles)
    now = utcnow()
    user.roles = list(checked)
    user.updated_at = now
    await save_with_event(
        session,
        user,
        AuthEventKind.ROLES_CHANGED,
        detail=f"from={before} to={','.join(checked)}",
        at=now,
    )
    return checked
