"""Lock-out protection: an attacker slows an account down but never locks its owner out.

Once an account is over its failure limit, every attempt on it (right or wrong, known
account or not) waits a delay that doubles per failure up to a cap, and attempts on one
account take turns. The sleeps are injected, so these tests do not wait for real.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from server.identity.keys import username_digest
from server.identity.routes import routes
from server.identity.service import (
    INVALID_CREDENTIALS,
    LoginRefusal,
    TokenGrant,
)
from server.identity.throttle import account_delay
from server.identity.turns import account_turn, waiting
from server.settings import Settings
from tests.dbserver import Database
from tests.factories import login, make_user, new_address

LIMIT = 3


class Sleeps:
    """A sleep that records the delays it was asked for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def lockout_settings(db: Database, **changes: object) -> Settings:
    values: dict[str, object] = {
        "login_failures_per_hour": LIMIT,
        "login_delay_base_seconds": 0.5,
        "login_delay_max_seconds": 4.0,
    }
    values.update(changes)
    return db.settings_with(**values)


def test_the_delay_doubles_per_failure_up_to_the_cap() -> None:
    delays = [account_delay(n, limit=3, base=0.5, cap=4.0) for n in range(9)]
    assert delays == [0.0, 0.0, 0.0, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert account_delay(10**6, limit=3, base=0.5, cap=4.0) == 4.0
    defaults = Settings()
    assert defaults.login_failures_per_hour == 100
    assert 0 < defaults.login_delay_base_seconds <= defaults.login_delay_max_seconds <= 10


async def test_the_owner_gets_in_after_attackers_exhaust_the_account(
    identity_db: Database,
) -> None:
    settings = lockout_settings(identity_db)
    username, password = await make_user(identity_db)
    sleeps = Sleeps()
    # Attackers from many addresses: each address stays under its own limit.
    for _ in range(LIMIT + 2):
        guess = "guess-" + uuid.uuid4().hex
        assert (
            await login(identity_db, username, guess, settings=settings, sleep=sleeps)
            == INVALID_CREDENTIALS
        )
    assert sleeps.delays == [0.5, 1.0]  # no delay below the limit, then doubling
    # The owner, from an address never seen before, with the right password: delayed, in.
    result = await login(identity_db, username, password, settings=settings, sleep=sleeps)
    assert isinstance(result, TokenGrant), result
    assert sleeps.delays == [0.5, 1.0, 2.0]
    # The attacker keeps being slowed down, up to the cap; never refused for the account.
    for _ in range(3):
        guess = "guess-" + uuid.uuid4().hex
        assert (
            await login(identity_db, username, guess, settings=settings, sleep=sleeps)
            == INVALID_CREDENTIALS
        )
    assert sleeps.delays[3:] == [2.0, 4.0, 4.0]

    delayed = await identity_db.sql(
        "SELECT detail FROM auth_event WHERE event = 'locked_out' AND username_hmac = $1",
        username_digest(settings, username),
    )
    assert delayed and all("delayed" in row["detail"] for row in delayed)


async def test_unknown_accounts_are_delayed_exactly_alike(identity_db: Database) -> None:
    settings = lockout_settings(identity_db)
    username, _ = await make_user(identity_db)
    ghost = "ghost." + username
    real, unknown = Sleeps(), Sleeps()
    answers = []
    for _ in range(LIMIT + 3):
        answers.append(
            await login(identity_db, username, "nope-nope-nope", settings=settings, sleep=real)
        )
        answers.append(
            await login(identity_db, ghost, "nope-nope-nope", settings=settings, sleep=unknown)
        )
    assert set(answers) == {INVALID_CREDENTIALS}
    assert real.delays == unknown.delays == [0.5, 1.0, 2.0]


async def test_the_address_limit_still_refuses_at_once(identity_db: Database) -> None:
    settings = lockout_settings(identity_db)
    username, password = await make_user(identity_db)
    attacker = new_address()
    sleeps = Sleeps()
    for _ in range(LIMIT):
        await login(
            identity_db,
            username,
            "guess-guess-guess",
            settings=settings,
            sleep=sleeps,
            client=attacker,
        )
    refused = await login(
        identity_db, username, password, settings=settings, sleep=sleeps, client=attacker
    )
    assert isinstance(refused, LoginRefusal)
    assert (refused.status, refused.error) == (429, "too_many_attempts")
    assert refused.retry_after is not None and 3500 < refused.retry_after <= 3600
    assert sleeps.delays == []  # refused before any wait or hash
    assert isinstance(
        await login(identity_db, username, password, settings=settings, sleep=sleeps), TokenGrant
    )


async def test_attempts_on_one_account_take_turns(identity_db: Database) -> None:
    settings = lockout_settings(identity_db, login_delay_base_seconds=0.01)
    username, password = await make_user(identity_db)
    for _ in range(LIMIT):
        await login(identity_db, username, "guess-guess-guess", settings=settings, sleep=Sleeps())

    running = 0
    most = 0
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        delays.append(delay)
        await asyncio.sleep(0.01)
        running -= 1

    guesses = [
        login(identity_db, username, f"guess-{n}-guess", settings=settings, sleep=sleep)
        for n in range(5)
    ]
    owner = login(identity_db, username, password, settings=settings, sleep=sleep)
    results = await asyncio.gather(*guesses, owner)
    assert most == 1  # never two attempts on the account at once
    # Each attempt saw the failures of the ones before it (only the owner's success did
    # not add one), so the delay doubled every turn.
    assert delays == sorted(delays) and len(set(delays)) >= 5
    assert results[:5] == [INVALID_CREDENTIALS] * 5
    assert isinstance(results[5], TokenGrant)
    assert waiting(username_digest(settings, username)) == 0  # nothing left behind


async def test_a_cancelled_attempt_keeps_the_turn_until_its_delay_is_over(
    identity_db: Database,
) -> None:
    settings = lockout_settings(identity_db, login_delay_base_seconds=0.3)
    username, password = await make_user(identity_db)
    for _ in range(LIMIT):
        await login(identity_db, username, "guess-guess-guess", settings=settings, sleep=Sleeps())
    sleeping = asyncio.Event()

    async def real_sleep(delay: float) -> None:
        sleeping.set()
        await asyncio.sleep(delay)

    started = time.monotonic()
    attacker = asyncio.create_task(
        login(identity_db, username, "guess-x", settings=settings, sleep=real_sleep)
    )
    await sleeping.wait()
    attacker.cancel()  # the client hangs up during its delay
    with pytest.raises(asyncio.CancelledError):
        await attacker
    turned: list[float] = []

    async def record(delay: float) -> None:
        turned.append(time.monotonic())

    result = await login(identity_db, username, password, settings=settings, sleep=record)
    assert isinstance(result, TokenGrant)
    assert turned and turned[0] - started >= 0.3  # not before the cancelled delay ended


async def test_no_turn_in_time_is_refused_briefly_not_for_an_hour(
    identity_db: Database,
) -> None:
    settings = lockout_settings(identity_db, login_queue_timeout_seconds=0.05)
    username, password = await make_user(identity_db)
    async with account_turn(username_digest(settings, username), wait_seconds=1):
        refused = await login(identity_db, username, password, settings=settings, sleep=Sleeps())
    assert isinstance(refused, LoginRefusal)
    assert (refused.status, refused.error, refused.retry_after) == (429, "too_many_attempts", 4)
    assert isinstance(
        await login(identity_db, username, password, settings=settings, sleep=Sleeps()), TokenGrant
    )


@pytest.fixture
async def http(identity_db: Database) -> AsyncIterator[tuple[httpx.AsyncClient, Sleeps]]:
    app = Starlette(routes=routes())
    app.state.settings = lockout_settings(identity_db)
    app.state.sessionmaker = identity_db.app
    app.state.login_sleep = sleeps = Sleeps()
    transport = httpx.ASGITransport(app=app, client=(new_address(), 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://rekisteri.test") as client:
        yield client, sleeps


async def test_token_route_lets_the_owner_in_after_the_delay(
    identity_db: Database, http: tuple[httpx.AsyncClient, Sleeps]
) -> None:
    client, sleeps = http
    username, password = await make_user(identity_db)
    settings = lockout_settings(identity_db)
    for _ in range(LIMIT + 1):
        await login(identity_db, username, "guess-guess-guess", settings=settings, sleep=Sleeps())
    response = await client.post("/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    assert sleeps.delays == [1.0]
    assert "retry-after" not in response.headers
