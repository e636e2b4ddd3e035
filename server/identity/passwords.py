"""Password hashing (argon2id, bounded CPU use) and the rules a new password must meet."""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from server.identity.errors import IdentityError

MIN_LENGTH = 8
RECOMMENDED_LENGTH = 12
MAX_LENGTH = 128
CONCURRENT_HASHES = 2
MAX_PENDING_HASHES = 8

# OWASP's second option (m=19456 KiB, t=2, p=1): about 0.07 s a hash on this hardware.
HASHER = PasswordHasher(
    time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)
# A hash of a random, forgotten password with the same parameters: verified for unknown
# usernames so that they take as long as a wrong password (a test keeps it in step).
DUMMY_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$4nJkDkNHSiEKMYc8zyCuNw"
    "$1XPr/4u4xpRkB2DYkgjqru5qLrnQMG/TtsvtzCJongk"
)


class PasswordRejected(IdentityError):
    """A new password breaks a rule; the message says which, for the person choosing it."""


class HashingBusy(RuntimeError):
    """Too many password hashes are pending: the caller should answer 503 with Retry-After."""


class _Gate:
    """At most CONCURRENT_HASHES hashes at once per event loop, and a bounded queue."""

    def __init__(self) -> None:
        self.semaphore = asyncio.Semaphore(CONCURRENT_HASHES)
        self.pending = 0


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Gate] = weakref.WeakKeyDictionary()


def _gate() -> _Gate:
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = _Gate()
    return gate


@asynccontextmanager
async def hashing_slot() -> AsyncIterator[None]:
    """Hold one of the hashing slots; HashingBusy at once if MAX_PENDING_HASHES are pending."""
    gate = _gate()
    if gate.pending >= MAX_PENDING_HASHES:
        raise HashingBusy("too many password checks in progress")
    gate.pending += 1
    try:
        async with gate.semaphore:
            yield
    finally:
        gate.pending -= 1


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def check_password_in_slot(stored_hash: str | None, password: str) -> bool:
    """Verify while holding a hashing slot; with no stored hash, take as long and fail."""
    matches = await asyncio.to_thread(_verify, stored_hash or DUMMY_HASH, password)
    return matches and stored_hash is not None


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """True if the password matches; with no stored hash, spends the same time and fails."""
    async with hashing_slot():
        return await check_password_in_slot(stored_hash, password)


async def hash_password(password: str) -> str:
    async with hashing_slot():
        return await asyncio.to_thread(HASHER.hash, password)


def needs_rehash(stored_hash: str) -> bool:
    try:
        return HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@functools.cache
def common_passwords() -> frozenset[str]:
    text = resources.files("server.identity").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


def _base_word(password: str) -> str:
    """The word inside decorations such as 'Salasana2024!' or '!!password1'."""
    return password.lower().strip("0123456789!@#$%^&*()_+-=.,;:?'\"/\\|~` ")


def check_new_password(password: str, *, username: str) -> None:
    """Raise PasswordRejected unless the password meets the rules (ASVS 5.0 6.2)."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(
            f"Use at least {MIN_LENGTH} characters ({RECOMMENDED_LENGTH} or more recommended)."
        )
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.lower()
    if lowered == username.strip().lower():
        raise PasswordRejected("The password must not be the username.")
    if len(set(password)) == 1:
        raise PasswordRejected("The password must not repeat a single character.")
    common = common_passwords()
    base = _base_word(password)
    if lowered in common or (len(base) >= 5 and base in common):
        raise PasswordRejected("This password is too common; choose another.")
