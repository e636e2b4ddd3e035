"""Editing the policy files changes answers without a restart; a broken edit changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from tests.conftest import Users, gql
from tests.factories import customer

QUERY = "{ customers(first: 5) { edges { node { phone } } } }"


@pytest.fixture
async def reloading_client(
    settings: Settings, policy_dir: Path
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    app = create_app(settings.model_copy(update={"policy_dir": policy_dir}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield app, http


async def _wait_for(condition: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.1)):
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


def _edit(policy_dir: Path, old: str, new: str) -> None:
    """Edit as the security team should: write a temporary file, then rename it."""
    path = policy_dir / "policy.csv"
    text = path.read_text()
    assert old in text
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text.replace(old, new))
    temporary.replace(path)


async def test_a_valid_edit_applies_and_a_broken_one_keeps_the_last_good_policy(
    reloading_client: tuple[Any, httpx.AsyncClient],
    owner: asyncpg.Connection,
    policy_dir: Path,
) -> None:
    app, client = reloading_client
    users = Users(owner, client)
    await customer(owner)

    async def phone() -> Any:
        body = (await gql(client, QUERY, as_="marketing", users=users)).json()
        return body["data"]["customers"]["edges"][0]["node"]["phone"]

    assert (await phone()) is not None
    _edit(
        policy_dir,
        "p, marketing, Customer.phone, read, marketing, allow",
        "p, marketing, Customer.phone, read, marketing, deny",
    )

    async def phone_hidden() -> bool:
        return (await phone()) is None

    await _wait_for(phone_hidden)
    good_version = app.state.policy_store.current.version

    # A truncated file: the service keeps the last good policy and says so in /readyz.
    path = policy_dir / "policy.csv"
    path.write_text(path.read_text()[: len(path.read_text()) // 3])

    async def failure_reported() -> bool:
        ready = (await client.get("/readyz")).json()
        return "policyReloadError" in ready

    await _wait_for(failure_reported)
    assert app.state.policy_store.current.version == good_version
    assert (await phone()) is None

    async def outcomes() -> list[str]:
        rows = await owner.fetch(
            "SELECT outcome FROM access_log_request WHERE event = 'policy_reload' ORDER BY seq"
        )
        return [r["outcome"] for r in rows]

    # /readyz shows the failure as soon as it is found; its record follows in a moment.
    async def failure_recorded() -> bool:
        return (await outcomes())[-1:] == ["error"]

    await _wait_for(failure_recorded)
    assert (await outcomes())[-2:] == ["ok", "error"]
