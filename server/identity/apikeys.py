"""API keys of subcontractors' systems: shown once, stored as a SHA-256, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from server.authz.principal import Principal, PrincipalKind
from server.db.columns import utcnow
from server.identity.confirmation import Confirmation, api_key_confirmation
from server.identity.errors import IdentityError, UnknownApiKey
from server.identity.events import record_event, save_with_event
from server.identity.models import ApiKey, AuthEventKind
from server.identity.roles import validate_roles
from server.identity.users import organisation_by_code
from server.organisations.models import Organisation
from server.privacy.transfers import TransferRefused, check_country, refusal

KEY_MARKER = "rk_"
PREFIX_BYTES = 6
SECRET_BYTES = 32
MAX_LIFETIME = timedelta(days=366)
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_KEY_LENGTH = 128


class InvalidApiKey(Exception):
    """The key is malformed, unknown, revoked or expired; the reason names no secret."""


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    """A new key: `key` is the only copy of the secret and is never shown again."""

    id: uuid.UUID
    key: str
    prefix: str
    name: str
    organisation_code: str
    roles: tuple[str, ...]
    expires_at: datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_api_key(key: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed `rk_<prefix>_<secret>` key, else None."""
    if not key.startswith(KEY_MARKER) or len(key) > MAX_KEY_LENGTH:
        return None
    prefix, sep, secret = key[len(KEY_MARKER) :].partition("_")
    if not sep or len(prefix) != PREFIX_BYTES * 2 or len(secret) < 40:
        return None
    if any(c not in "0123456789abcdef" for c in prefix):
        return None
    return prefix, secret


async def create_api_key(
    *,
    session: AsyncSession,
    organisation_code: str,
    roles: Iterable[str],
    known_roles: set[str],
    expires_at: datetime,
    name: str = "",
    now: datetime | None = None,
) -> CreatedApiKey:
    now = now or utcnow()
    checked = validate_roles(roles, known_roles)
    if expires_at <= now:
        raise IdentityError("The expiry must be in the future.")
    if expires_at - now > MAX_LIFETIME:
        raise IdentityError(f"An API key may live at most {MAX_LIFETIME.days} days.")
    organisation = await organisation_by_code(session, organisation_code)
    try:
        # The key's system receives the register's data: not outside the EU/EEA.
        check_country(
            organisation.country, field="--org", recipient=f"organisation {organisation.code}"
        )
    except TransferRefused as exc:
        raise IdentityError(f"{exc} (no API key was created).") from None
    prefix = secrets.token_hex(PREFIX_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    label = name.strip() or f"{organisation.code} key {now:%Y-%m-%d}"
    row = ApiKey(
        organisation_id=organisation.id,
        name=label[:100],
        prefix=prefix,
        secret_sha256=_digest(secret),
        roles=list(checked),
        expires_at=expires_at,
        created_at=now,
    )
    await save_with_event(
        session,
        row,
        AuthEventKind.API_KEY_CREATED,
        detail=f"organisation={organisation.code} roles={','.join(checked)} "
        f"expires={expires_at.isoformat()}",
    )
    return CreatedApiKey(
        id=row.id,
        key=f"{KEY_MARKER}{prefix}_{secret}",
        prefix=prefix,
        name=row.name,
        organisation_code=organisation.code,
        roles=checked,
        expires_at=expires_at,
    )


async def revoke_api_key(*, session: AsyncSession, key_id: uuid.UUID) -> bool:
    """Revoke a key; False if it was already revoked. Raises UnknownApiKey."""
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise UnknownApiKey("No such API key.")
    if row.revoked_at is not None:
        return False
    now = utcnow()
    await session.execute(update(ApiKey).where(col(ApiKey.id) == key_id).values(revoked_at=now))
    await record_event(
        session,
        AuthEventKind.API_KEY_REVOKED,
        principal_kind=PrincipalKind.API_KEY,
        principal_id=key_id,
        at=now,
    )
    return True


async def verify_api_key(
    *, session: AsyncSession, key: str, now: datetime | None = None
) -> Principal:
    """The principal of a live key (roles from the key row now). Raises InvalidApiKey."""
    return (await confirm_api_key(session=session, key=key, now=now)).principal


async def confirm_api_key(
    *, session: AsyncSession, key: str, now: datetime | None = None
) -> Confirmation:
    """`verify_api_key`, with what lets the key's next requests confirm it inside their own
    transaction (server/identity/confirmation.py)."""
    now = now or utcnow()
    parsed = parse_api_key(key)
    if parsed is None:
        raise InvalidApiKey("malformed API key")
    prefix, secret = parsed
    statement = (
        select(ApiKey, col(Organisation.code), col(Organisation.country))
        .join(Organisation, col(Organisation.id) == col(ApiKey.organisation_id))
        .where(col(ApiKey.prefix) == prefix)
    )
    found = (await session.execute(statement)).one_or_none()
    if found is None:
        raise InvalidApiKey("unknown API key")
    row, organisation_code, country = found
    if not hmac.compare_digest(row.secret_sha256, _digest(secret)):
        raise InvalidApiKey(f"wrong secret for API key {row.id}")
    if row.revoked_at is not None:
        raise InvalidApiKey(f"revoked API key {row.id}")
    if row.expires_at <= now:
        raise InvalidApiKey(f"expired API key {row.id}")
    if refusal(country) is not None:
        # The organisation was moved outside the EU/EEA after the key was made.
        raise InvalidApiKey(f"API key {row.id} of an organisation outside the EU/EEA")
    last_used_at = row.last_used_at
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        await session.execute(
            update(ApiKey).where(col(ApiKey.id) == row.id).values(last_used_at=now)
        )
        last_used_at = now
    principal = Principal(
        kind=PrincipalKind.API_KEY,
        id=row.id,
        name=row.name,
        organisation_id=row.organisation_id,
        organisation_code=organisation_code,
        roles=tuple(row.roles),
    )
    return api_key_confirmation(
        principal, last_used_at=last_used_at, touch_every=LAST_USED_RESOLUTION, country=country
    )
