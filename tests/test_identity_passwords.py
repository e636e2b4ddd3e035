"""Password hashing parameters, the bounded hashing gate and the rules for new passwords."""

from __future__ import annotations

import asyncio

import argon2
import pytest

from server.identity import passwords
from server.identity.passwords import (
    DUMMY_HASH,
    HashingBusy,
    PasswordRejected,
    check_new_password,
    common_passwords,
    hash_password,
    verify_password,
)

# OWASP Password Storage Cheat Sheet: argon2id with any one of these (memory KiB, passes).
OWASP_MINIMUMS = [(47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5)]


def _meets_owasp(parameters: argon2.Parameters) -> bool:
    return parameters.type is argon2.Type.ID and any(
        parameters.memory_cost >= memory and parameters.time_cost >= passes
        for memory, passes in OWASP_MINIMUMS
    )


async def test_hashes_are_argon2id_at_or_above_the_owasp_minimum() -> None:
    stored = await hash_password("a perfectly fine passphrase")
    parameters = argon2.extract_parameters(stored)
    assert parameters.type is argon2.Type.ID
    assert parameters.memory_cost >= 19456
    assert parameters.time_cost >= 2
    assert parameters.parallelism == 1
    assert parameters.salt_len >= 16
    assert parameters.hash_len >= 32
    assert _meets_owasp(parameters)
    assert await verify_password(stored, "a perfectly fine passphrase")
    assert not await verify_password(stored, "a perfectly fine passphrasE")


def test_the_dummy_hash_costs_as_much_as_a_real_one() -> None:
    assert argon2.extract_parameters(DUMMY_HASH) == argon2.extract_parameters(
        passwords.HASHER.hash("x")
    )


@pytest.fixture(name="verified_hashes")
def verified_hashes_fixture(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stored hashes that passwords are verified against during the test, in order (each
    one an argon2 verification)."""
    hashes: list[str] = []
    real = passwords._verify

    def spy(stored: str, password: str) -> bool:
        hashes.append(stored)
        return real(stored, password)

    monkeypatch.setattr(passwords, "_verify", spy)
    return hashes


async def test_no_stored_hash_never_matches_but_still_hashes(verified_hashes: list[str]) -> None:
    assert not await verify_password(None, "anything at all")
    assert verified_hashes == [DUMMY_HASH]


async def test_a_flood_of_hashes_is_refused_rather_than_queued(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(passwords, "MAX_PENDING_HASHES", 3)
    results = await asyncio.gather(
        *(verify_password(DUMMY_HASH, f"guess {n}") for n in range(8)), return_exceptions=True
    )
    busy = [r for r in results if isinstance(r, HashingBusy)]
    assert len(busy) == 5
    assert all(r is False for r in results if not isinstance(r, HashingBusy))


def test_the_common_password_list_ships_and_is_used() -> None:
    common = common_passwords()
    assert len(common) >= 200
    assert {"password", "123456", "qwerty", "salasana"} <= common


@pytest.mark.parametrize(
    "password",
    [
        "short",  # under 8 characters
        "x" * 129,  # over 128
        "password1",  # common
        "Salasana2024!",  # a common word, decorated
        "iloveyou",
        "aaaaaaaaaaaa",  # one character repeated
        "Alice.Example",  # the username
    ],
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(PasswordRejected):
        check_new_password(password, username="alice.example")


@pytest.mark.parametrize(
    "password",
    [
        "eight ch",  # exactly 8: allowed, 12+ recommended
        "correct horse battery staple",  # no composition rules
        "Pöllö kävi kuussa",  # any Unicode
        "p" + "ä" * 63,  # 64 characters
        "y" * 127 + "z",  # 128 characters
    ],
)
def test_acceptable_passwords_pass(password: str) -> None:
    check_new_password(password, username="alice.example")
