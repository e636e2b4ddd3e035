"""API keys of subcontractors' systems: created, shown once, verified, revoked, expired."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import timedelta

import pytest

from server.authz.principal import Principal, PrincipalKind
from server.db.columns import utcnow
from server.identity.apikeys import parse_api_key
from server.identity.authenticate import AuthenticationFailed, authenticate
from server.identity.errors import IdentityError, UnknownApiKey, UnknownOrganisation, UnknownRole
from server.identity.service import (
    CreatedApiKey,
    InvalidApiKey,
    create_api_key,
    revoke_api_key,
    verify_api_key,
)
from tests import factories
from tests.conftest import request_for
from tests.dbserver import Database
from tests.factories import ROLES, new_address


async def new_key(
    db: Database, *, roles: tuple[str, ...] = ("collector",), days: int = 30
) -> CreatedApiKey:
    async with db.owner() as session, session.begin():
        return await create_api_key(
            session=session,
            organisation_code=factories.SUBCONTRACTOR,
            roles=roles,
            known_roles=set(ROLES),
            expires_at=utcnow() + timedelta(days=days),
            name="perintäjärjestelmä",
        )


async def principal_of(db: Database, key: str, client: str = "192.0.2.30") -> Principal:
    async with db.app() as session, session.begin():
        return await authenticate(
            request_for(f"Bearer {key}", client), session=session, settings=db.settings
        )


async def test_a_key_is_shown_once_and_stored_only_as_a_hash(identity_db: Database) -> None:
    created = await new_key(identity_db)
    assert re.fullmatch(r"rk_[0-9a-f]{12}_[A-Za-z0-9_-]{43,}", created.key)
    parsed = parse_api_key(created.key)
    assert parsed is not None
    prefix, secret = parsed
    rows = await identity_db.sql("SELECT * FROM api_key WHERE id = $1", created.id)
    row = dict(rows[0])
    assert row["prefix"] == prefix == created.prefix
    assert row["secret_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in row.values())


async def test_a_live_key_authenticates_as_its_organisation(identity_db: Database) -> None:
    created = await new_key(identity_db, roles=("collector", "auditor"))
    principal = await principal_of(identity_db, created.key)
    assert principal.kind is PrincipalKind.API_KEY
    assert principal.id == created.id
    assert principal.organisation_code == factories.SUBCONTRACTOR
    assert principal.roles == ("auditor", "collector")
    assert principal.session_id is None
    rows = await identity_db.sql("SELECT last_used_at FROM api_key WHERE id = $1", created.id)
    assert rows[0]["last_used_at"] is not None


async def test_wrong_secrets_and_unknown_keys_are_rejected(identity_db: Database) -> None:
    created = await new_key(identity_db)
    prefix = created.prefix
    forged = f"rk_{prefix}_{'A' * 43}"
    unknown = f"rk_{'0' * 12}_{'A' * 43}"
    client = new_address()
    for key in (forged, unknown, created.key[:-1], "rk_short"):
        with pytest.raises(AuthenticationFailed):
            await principal_of(identity_db, key, client)
    events = await identity_db.sql(
        "SELECT event, detail FROM auth_event WHERE client_address = $1", client
    )
    assert [e["event"] for e in events] == ["api_key_rejected"]  # once a minute per address
    # rk_<prefix>_<secret>: the secret itself may contain "_"
    assert created.key.split("_", 2)[2] not in events[0]["detail"]


async def test_a_revoked_key_stops_working_at_once(identity_db: Database) -> None:
    created = await new_key(identity_db)
    await principal_of(identity_db, created.key)
    async with identity_db.owner() as session, session.begin():
        assert await revoke_api_key(session=session, key_id=created.id)
    async with identity_db.owner() as session, session.begin():
        assert not await revoke_api_key(session=session, key_id=created.id)
    with pytest.raises(AuthenticationFailed):
        await principal_of(identity_db, created.key)
    with pytest.raises(UnknownApiKey):
        async with identity_db.owner() as session, session.begin():
            await revoke_api_key(session=session, key_id=uuid.uuid4())


async def test_an_expired_key_is_rejected(identity_db: Database) -> None:
    created = await new_key(identity_db)
    async with identity_db.app() as session, session.begin():
        with pytest.raises(InvalidApiKey, match="expired"):
            await verify_api_key(
                session=session, key=created.key, now=utcnow() + timedelta(days=31)
            )
    await identity_db.sql(
        "UPDATE api_key SET expires_at = now() - interval '1 second' WHERE id = $1", created.id
    )
    with pytest.raises(AuthenticationFailed):
        await principal_of(identity_db, created.key)


async def test_key_roles_change_with_the_row(identity_db: Database) -> None:
    created = await new_key(identity_db, roles=("collector",))
    await identity_db.sql("UPDATE api_key SET roles = '{auditor}' WHERE id = $1", created.id)
    assert (await principal_of(identity_db, created.key)).roles == ("auditor",)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"roles": ["superuser"]}, UnknownRole),
        ({"roles": []}, UnknownRole),
        ({"organisation_code": "nobody"}, UnknownOrganisation),
        ({"expires_at": utcnow() - timedelta(minutes=1)}, IdentityError),
        ({"expires_at": utcnow() + timedelta(days=400)}, IdentityError),
    ],
)
async def test_bad_key_requests_are_refused(
    identity_db: Database, changes: dict[str, object], error: type[Exception]
) -> None:
    arguments: dict[str, object] = {
        "organisation_code": factories.SUBCONTRACTOR,
        "roles": ["collector"],
        "known_roles": set(ROLES),
        "expires_at": utcnow() + timedelta(days=30),
    }
    arguments.update(changes)
    with pytest.raises(error):
        async with identity_db.owner() as session, session.begin():
            await create_api_key(session=session, **arguments)  # type: ignore[arg-type]
