"""Login, throttling, sessions and revocation, on a real PostgreSQL as the runtime role."""

from __future__ import annotations

import logging
import uuid

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError

from server.authz.principal import Principal, PrincipalKind
from server.identity import passwords
from server.identity.authenticate import AuthenticationFailed, authenticate
from server.identity.errors import UsernameTaken
from server.identity.keys import username_digest
from server.identity.service import (
    INVALID_CREDENTIALS,
    LoginRefusal,
    TokenGrant,
    create_user,
    disable_user,
    logout,
    refresh,
    set_password,
    set_roles,
)
from server.identity.tokens import decode_access_token
from tests import factories
from tests.conftest import request_for
from tests.dbserver import Database
from tests.factories import ROLES, login, make_user, new_address
from tests.test_identity_passwords import verified_hashes_fixture  # noqa: F401


async def grant(db: Database, username: str, password: str, client: str = "192.0.2.10") -> str:
    result = await login(db, username, password, client=client)
    assert isinstance(result, TokenGrant), result
    return result.access_token


async def principal_of(db: Database, authorization: str, client: str = "192.0.2.20") -> Principal:
    async with db.app() as session, session.begin():
        return await authenticate(
            request_for(authorization, client), session=session, settings=db.settings
        )


async def test_login_gives_a_token_for_a_live_session(identity_db: Database) -> None:
    username, password = await make_user(identity_db, roles=("clerk", "auditor"))
    result = await login(identity_db, username.upper(), password)  # usernames ignore case
    assert isinstance(result, TokenGrant)
    assert result.token_type == "bearer"
    assert result.expires_in == identity_db.settings.access_token_ttl_seconds
    assert set(result.as_json()) == {"access_token", "token_type", "expires_in"}
    claims = decode_access_token(result.access_token, settings=identity_db.settings)
    assert claims.session_id == result.session_id

    principal = await principal_of(identity_db, f"Bearer {result.access_token}")
    assert principal.kind is PrincipalKind.USER
    assert principal.name == username
    assert principal.roles == ("auditor", "clerk")
    assert principal.organisation_code == factories.COMPANY
    assert principal.session_id == result.session_id

    rows = await identity_db.sql("SELECT last_login_at FROM app_user WHERE username = $1", username)
    assert rows[0]["last_login_at"] is not None


async def test_unknown_user_and_wrong_password_look_the_same(
    identity_db: Database, verified_hashes: list[str]
) -> None:
    username, password = await make_user(identity_db)
    disabled, disabled_password = await make_user(identity_db)
    async with identity_db.owner() as session, session.begin():
        await disable_user(session=session, username=disabled)
    wrong = await login(identity_db, username, password + "x")
    unknown = await login(identity_db, "nobody." + username, password)
    inactive = await login(identity_db, disabled, disabled_password)
    assert wrong == unknown == inactive == INVALID_CREDENTIALS
    assert isinstance(wrong, LoginRefusal)
    assert (wrong.status, wrong.as_json(), wrong.retry_after) == (
        401,
        {"error": "invalid_credentials"},
        None,
    )
    # Every case costs one argon2 verification, so timing does not tell them apart.
    assert len(verified_hashes) == 3
    assert verified_hashes[1] == passwords.DUMMY_HASH

    events = await identity_db.sql(
        "SELECT detail, username_hmac FROM auth_event WHERE event = 'login_failed' "
        "AND username_hmac = ANY($1::text[]) ORDER BY id",
        [
            username_digest(identity_db.settings, n)
            for n in (username, "nobody." + username, disabled)
        ],
    )
    assert [e["detail"] for e in events] == ["wrong password", "unknown user", "user disabled"]


async def test_client_address_is_throttled_across_accounts(identity_db: Database) -> None:
    settings = identity_db.settings_with(login_failures_per_hour=3)
    attacker = new_address()
    for n in range(3):
        assert (
            await login(
                identity_db,
                f"spray{n}.{uuid.uuid4().hex[:6]}",
                "Password1!",
                client=attacker,
                settings=settings,
            )
            == INVALID_CREDENTIALS
        )
    username, password = await make_user(identity_db)
    refused = await login(identity_db, username, password, client=attacker, settings=settings)
    assert isinstance(refused, LoginRefusal) and refused.status == 429
    # The same /64 is the same client; another network is not throttled.
    neighbour = attacker.replace("::1", "::2")
    refused_again = await login(
        identity_db, username, password, client=neighbour, settings=settings
    )
    assert isinstance(refused_again, LoginRefusal) and refused_again.status == 429
    assert isinstance(await login(identity_db, username, password, settings=settings), TokenGrant)


async def test_disabling_a_user_rejects_their_live_token_at_once(identity_db: Database) -> None:
    username, password = await make_user(identity_db)
    token = await grant(identity_db, username, password)
    await principal_of(identity_db, f"Bearer {token}")
    async with identity_db.owner() as session, session.begin():
        assert await disable_user(session=session, username=username) == 1
    with pytest.raises(AuthenticationFailed):
        await principal_of(identity_db, f"Bearer {token}")
    assert await login(identity_db, username, password) == INVALID_CREDENTIALS


async def test_role_changes_apply_to_the_next_request(identity_db: Database) -> None:
    username, password = await make_user(identity_db, roles=("clerk",))
    token = await grant(identity_db, username, password)
    assert (await principal_of(identity_db, f"Bearer {token}")).roles == ("clerk",)
    async with identity_db.owner() as session, session.begin():
        await set_roles(
            session=session, username=username, roles=["collector"], known_roles=set(ROLES)
        )
    assert (await principal_of(identity_db, f"Bearer {token}")).roles == ("collector",)


async def test_changing_the_password_ends_every_session(identity_db: Database) -> None:
    username, password = await make_user(identity_db)
    token = await grant(identity_db, username, password)
    async with identity_db.owner() as session, session.begin():
        await set_password(session=session, username=username, password=password + "-new")
    with pytest.raises(AuthenticationFailed):
        await principal_of(identity_db, f"Bearer {token}")
    assert isinstance(await login(identity_db, username, password + "-new"), TokenGrant)


async def test_logout_revokes_the_session(identity_db: Database) -> None:
    username, password = await make_user(identity_db)
    token = await grant(identity_db, username, password)
    other_device = await grant(identity_db, username, password)
    async with identity_db.app() as session, session.begin():
        assert await logout(
            session=session, token=token, client_address="192.0.2.10", settings=identity_db.settings
        )
    with pytest.raises(AuthenticationFailed):
        await principal_of(identity_db, f"Bearer {token}")
    async with identity_db.app() as session, session.begin():
        assert (
            await refresh(
                session=session, token=token, client_address=None, settings=identity_db.settings
            )
            is None
        )
    # Another login of the same user is a session of its own.
    assert (await principal_of(identity_db, f"Bearer {other_device}")).name == username


async def test_refresh_extends_a_live_session_only(identity_db: Database) -> None:
    username, password = await make_user(identity_db)
    first = await login(identity_db, username, password)
    assert isinstance(first, TokenGrant)
    async with identity_db.app() as session, session.begin():
        renewed = await refresh(
            session=session,
            token=first.access_token,
            client_address="192.0.2.10",
            settings=identity_db.settings,
        )
    assert renewed is not None and renewed.session_id == first.session_id
    assert renewed.access_token != first.access_token
    await principal_of(identity_db, f"Bearer {renewed.access_token}")

    # Idle for longer than the idle timeout: the session is over.
    await identity_db.sql(
        "UPDATE user_session SET last_seen_at = now() - interval '31 minutes' WHERE id = $1",
        first.session_id,
    )
    with pytest.raises(AuthenticationFailed):
        await principal_of(identity_db, f"Bearer {renewed.access_token}")
    async with identity_db.app() as session, session.begin():
        assert (
            await refresh(
                session=session,
                token=renewed.access_token,
                client_address=None,
                settings=identity_db.settings,
            )
            is None
        )


async def test_sessions_end_at_their_absolute_lifetime(identity_db: Database) -> None:
    username, password = await make_user(identity_db)
    result = await login(identity_db, username, password)
    assert isinstance(result, TokenGrant)
    await identity_db.sql(
        "UPDATE user_session SET expires_at = now() + interval '30 seconds' WHERE id = $1",
        result.session_id,
    )
    async with identity_db.app() as session, session.begin():
        renewed = await refresh(
            session=session,
            token=result.access_token,
            client_address=None,
            settings=identity_db.settings,
        )
    assert renewed is not None and renewed.expires_in <= 30  # never beyond the session
    await identity_db.sql(
        "UPDATE user_session SET expires_at = now() - interval '1 second' WHERE id = $1",
        result.session_id,
    )
    with pytest.raises(AuthenticationFailed):
        await principal_of(identity_db, f"Bearer {result.access_token}")


async def test_last_seen_is_written_at_most_once_a_minute(identity_db: Database) -> None:
    username, password = await make_user(identity_db)
    result = await login(identity_db, username, password)
    assert isinstance(result, TokenGrant)
    before = await identity_db.sql(
        "SELECT last_seen_at FROM user_session WHERE id = $1", result.session_id
    )
    for _ in range(3):
        await principal_of(identity_db, f"Bearer {result.access_token}")
    after = await identity_db.sql(
        "SELECT last_seen_at FROM user_session WHERE id = $1", result.session_id
    )
    assert after == before
    await identity_db.sql(
        "UPDATE user_session SET last_seen_at = now() - interval '2 minutes' WHERE id = $1",
        result.session_id,
    )
    await principal_of(identity_db, f"Bearer {result.access_token}")
    moved = await identity_db.sql(
        "SELECT now() - last_seen_at < interval '10 seconds' AS fresh FROM user_session "
        "WHERE id = $1",
        result.session_id,
    )
    assert moved[0]["fresh"]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Bearer not a token",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        ["Bearer a.b.c", "Bearer d.e.f"],
    ],
)
async def test_requests_without_usable_credentials_fail(
    identity_db: Database, authorization: str | list[str] | None
) -> None:
    async with identity_db.app() as session, session.begin():
        with pytest.raises(AuthenticationFailed):
            await authenticate(
                request_for(authorization), session=session, settings=identity_db.settings
            )


async def test_rejections_are_recorded_once_a_minute_per_address(identity_db: Database) -> None:
    client = new_address()
    for n in range(5):
        with pytest.raises(AuthenticationFailed):
            await principal_of(identity_db, f"Bearer garbage.token.{n}", client)
    rows = await identity_db.sql(
        "SELECT event, detail FROM auth_event WHERE client_address = $1", client
    )
    assert [r["event"] for r in rows] == ["token_rejected"]


async def test_usernames_are_unique_ignoring_case(identity_db: Database) -> None:
    username, _ = await make_user(identity_db, stem="Case.Test")
    with pytest.raises(UsernameTaken):
        async with identity_db.owner() as session, session.begin():
            await create_user(
                session=session,
                username=username.lower(),
                password=factories.new_password(),
                organisation_code=factories.COMPANY,
                roles=["clerk"],
                known_roles=set(ROLES),
            )
    with pytest.raises(asyncpg.UniqueViolationError):  # and the database enforces it too
        await identity_db.sql(
            "INSERT INTO app_user (id, username, password_hash, organisation_id, roles, active) "
            "SELECT $1, $2, 'x', organisation_id, roles, true FROM app_user WHERE username = $3",
            uuid.uuid4(),
            username.upper(),
            username,
        )


async def test_the_runtime_role_cannot_alter_auth_events(identity_db: Database) -> None:
    from sqlalchemy import text

    for statement in ("UPDATE auth_event SET detail = ''", "DELETE FROM auth_event"):
        with pytest.raises(DBAPIError, match="permission denied"):
            async with identity_db.app() as session, session.begin():
                await session.execute(text(statement))


async def test_no_password_or_token_is_logged_or_stored(
    identity_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="server")
    username, password = await make_user(identity_db, stem="secretive")
    client = new_address()
    token = await grant(identity_db, username, password, client)
    await login(identity_db, username, password + "-typo", client=client)
    await login(identity_db, password, password, client=client)  # a password typed as the username
    await principal_of(identity_db, f"Bearer {token}", client)
    with pytest.raises(AuthenticationFailed):
        await principal_of(identity_db, f"Bearer {token}x", new_address())
    async with identity_db.app() as session, session.begin():
        await logout(
            session=session, token=token, client_address=client, settings=identity_db.settings
        )

    rows = await identity_db.sql("SELECT * FROM auth_event")
    stored = " ".join(str(value) for row in rows for value in row.values())
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    for secret in (password, token, token.split(".")[2], username):
        assert secret not in stored
        assert secret not in logged
    failures = await identity_db.sql("SELECT * FROM login_failure")
    assert password not in " ".join(str(v) for row in failures for v in row.values())
