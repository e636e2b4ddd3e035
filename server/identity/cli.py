"""`rekisteri user ...` and `rekisteri apikey ...`: administration as the database owner."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from server.cli_support import owner_session
from server.identity.errors import IdentityError
from server.identity.roles import known_roles
from server.identity.service import (
    create_api_key,
    create_user,
    disable_user,
    revoke_api_key,
    set_password,
    set_roles,
)
from server.identity.users import organisation_by_id
from server.settings import Settings

T = TypeVar("T")


def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def main() -> T:
        async with owner_session(settings) as session:
            return await work(session)

    return asyncio.run(main())


def _read_password() -> str:
    """One line from standard input (a prompt without echo on a terminal)."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            raise IdentityError("The passwords differ.")
        return first
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise IdentityError("Give the password on standard input (one line, not empty).")
    return password


def _roles(settings: Settings) -> set[str]:
    try:
        return known_roles(settings.policy_dir)
    except OSError as exc:
        raise IdentityError(f"Cannot read the roles of the policy: {exc.strerror}") from exc


def _guarded(
    handler: Callable[[argparse.Namespace, Settings], int],
) -> Callable[[argparse.Namespace, Settings], int]:
    def run(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return handler(args, settings)
        except IdentityError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return run


def cmd_user_add(args: argparse.Namespace, settings: Settings) -> int:
    roles = _roles(settings)
    password = _read_password()

    async def work(session: AsyncSession) -> str:
        user = await create_user(
            session=session,
            username=args.username,
            password=password,
            organisation_code=args.org,
            roles=args.role,
            known_roles=roles,
        )
        return (await organisation_by_id(session, user.organisation_id)).code

    organisation = _run(settings, work)
    print(f"user {args.username} added ({organisation}: {', '.join(sorted(set(args.role)))})")
    return 0


def cmd_user_disable(args: argparse.Namespace, settings: Settings) -> int:
    async def work(session: AsyncSession) -> int:
        return await disable_user(session=session, username=args.username)

    revoked = _run(settings, work)
    print(f"user {args.username} disabled; {revoked} session(s) revoked")
    return 0


def cmd_user_set_password(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password()

    async def work(session: AsyncSession) -> int:
        return await set_password(session=session, username=args.username, password=password)

    revoked = _run(settings, work)
    print(f"password of {args.username} changed; {revoked} session(s) revoked")
    return 0


def cmd_user_roles(args: argparse.Namespace, settings: Settings) -> int:
    roles = _roles(settings)

    async def work(session: AsyncSession) -> tuple[str, ...]:
        return await set_roles(
            session=session, username=args.username, roles=args.role, known_roles=roles
        )

    now = _run(settings, work)
    print(f"roles of {args.username}: {', '.join(now)} (in force from the next request)")
    return 0


def _expiry(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("use YYYY-MM-DD") from exc
    return datetime.combine(day, time.min, tzinfo=UTC)


def cmd_apikey_create(args: argparse.Namespace, settings: Settings) -> int:
    roles = _roles(settings)

    async def work(session: AsyncSession) -> tuple[uuid.UUID, str, datetime]:
        created = await create_api_key(
            session=session,
            organisation_code=args.org,
            roles=args.role,
            known_roles=roles,
            expires_at=args.expires,
            name=args.name or "",
        )
        return created.id, created.key, created.expires_at

    key_id, key, expires_at = _run(settings, work)
    print(f"API key {key_id} for {args.org}, expires {expires_at:%Y-%m-%d %H:%M} UTC.")
    print("Store this key now; it is not shown again:", file=sys.stderr)
    print(key)
    return 0


def cmd_apikey_revoke(args: argparse.Namespace, settings: Settings) -> int:
    try:
        key_id = uuid.UUID(args.key_id)
    except ValueError:
        raise IdentityError("KEY_ID is the UUID printed when the key was created.") from None

    async def work(session: AsyncSession) -> bool:
        return await revoke_api_key(session=session, key_id=key_id)

    changed = _run(settings, work)
    print(f"API key {key_id} {'revoked' if changed else 'was already revoked'}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `user` and `apikey` commands to the `rekisteri` command line."""
    user = subparsers.add_parser("user", help="manage users who log in").add_subparsers(
        dest="user_command", required=True
    )
    add = user.add_parser("add", help="add a user; the password is read from standard input")
    add.add_argument("username")
    add.add_argument("--role", action="append", required=True, help="role (repeatable)")
    add.add_argument("--org", help="organisation code (default: the company itself)")
    add.set_defaults(func=_guarded(cmd_user_add))

    disable = user.add_parser("disable", help="disable a user and end their sessions")
    disable.add_argument("username")
    disable.set_defaults(func=_guarded(cmd_user_disable))

    password = user.add_parser("set-password", help="set a password (read from standard input)")
    password.add_argument("username")
    password.set_defaults(func=_guarded(cmd_user_set_password))

    roles = user.add_parser("roles", help="replace a user's roles")
    roles.add_argument("username")
    roles.add_argument("--role", action="append", required=True, help="role (repeatable)")
    roles.set_defaults(func=_guarded(cmd_user_roles))

    apikey = subparsers.add_parser("apikey", help="manage API keys").add_subparsers(
        dest="apikey_command", required=True
    )
    create = apikey.add_parser("create", help="create a key; printed once")
    create.add_argument("--org", required=True, help="organisation code")
    create.add_argument("--role", action="append", required=True, help="role (repeatable)")
    create.add_argument(
        "--expires", required=True, type=_expiry, help="YYYY-MM-DD (00:00 UTC that day)"
    )
    create.add_argument("--name", help="a label, e.g. the system that uses the key")
    create.set_defaults(func=_guarded(cmd_apikey_create))

    revoke = apikey.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=_guarded(cmd_apikey_revoke))
