"""`rekisteri audit ...`: verify, seal, export, partitions and retention of the access log.

Every command runs as the database owner. Commands that read the log (verify, export)
or change its storage (drop-before) are themselves recorded in it as `cli` events,
committed before they start.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import socket
import sys
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TextIO

import orjson
from sqlalchemy import text

from server.audit.records import EventKind, Outcome, RequestRecord
from server.cli_progress import for_terminal
from server.settings import Settings

LOCK_TIMEOUT = "5s"


def _operator() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"os:{user}"


def cli_record(operation: str, detail: str | None, outcome: Outcome = Outcome.OK) -> RequestRecord:
    """An access-log record of an administrative command (no purpose, no organisation)."""
    from server.operations.runner import event_record

    return event_record(
        EventKind.CLI,
        outcome=outcome,
        principal=_operator(),
        client_address=socket.gethostname()[:100] or None,
        operation_name=operation,
        operation_type="cli",
        detail=detail,
    )


async def _record(settings: Settings, operation: str, detail: str | None) -> None:
    from server.audit.service import write_event
    from server.cli_support import owner_session

    async with owner_session(settings) as session:
        await write_event(session, cli_record(operation, detail))


def parse_moment(value: str) -> datetime:
    """YYYY-MM-DD (midnight UTC) or an ISO 8601 instant (UTC when no offset is given)."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date or ISO 8601 time: {value!r}") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def parse_month(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a month (YYYY-MM): {value!r}") from exc


def retention_limit(settings: Settings, today: date) -> date:
    """The earliest month that must be kept: months before it may be dropped."""
    months = today.year * 12 + (today.month - 1) - settings.audit_retention_months
    return date(months // 12, months % 12 + 1, 1)


# ---------------------------------------------------------------------------------------
# verify
# ---------------------------------------------------------------------------------------


def _read_heads(path: Path) -> list[Any]:
    from server.audit.seal import SealHead

    heads = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            heads.append(SealHead.from_json(orjson.loads(line)))
    return heads


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    from server.audit.signing import SigningKeyError, keyring_for, load_public_keys
    from server.audit.verify import verify
    from server.cli_support import owner_session

    heads = _read_heads(args.head) if args.head else []
    keys = None
    if args.public_key:
        # An auditor's check: only these public keys (plus AUDIT_SEAL_KEY if set, for
        # old HMAC seals) are trusted, never the service's own key.
        try:
            keys = keyring_for(settings, load_public_keys(args.public_key))
        except SigningKeyError as exc:
            print(f"audit verify: {exc}", file=sys.stderr)
            return 2

    async def run() -> Any:
        await _record(settings, "audit verify", "full" if args.full else None)
        async with owner_session(settings) as session:
            return await verify(
                session=session,
                settings=settings,
                heads=heads,
                keys=keys,
                full=args.full,
                record=True,
                principal=_operator(),
                progress=for_terminal(),
            )

    report = asyncio.run(run())
    if args.json:
        print(orjson.dumps(report.to_json()).decode())
    else:
        print(report.summary())
    return 0 if report.ok else 1


# ---------------------------------------------------------------------------------------
# seal
# ---------------------------------------------------------------------------------------


def cmd_seal(args: argparse.Namespace, settings: Settings) -> int:
    from server.audit.seal import latest_head, seal_pending
    from server.cli_support import owner_session

    async def run() -> tuple[Any, Any]:
        async with owner_session(settings) as session:
            result = await seal_pending(
                session=session, settings=settings, wait_seconds=args.wait, block=True
            )
        async with owner_session(settings) as session:
            return result, await latest_head(session)

    result, head = asyncio.run(run())
    if result is not None:
        print(
            f"sealed {len(result.batches)} batch(es), {result.leaf_count} rows",
            file=sys.stderr,
        )
    else:
        print("nothing new to seal", file=sys.stderr)
    if head is None:
        print("the access log has no seal yet", file=sys.stderr)
        return 0
    print(
        "signed head (keep it outside the database; check it with `audit verify --head`):",
        file=sys.stderr,
    )
    print(orjson.dumps(head.to_json()).decode())
    return 0


# ---------------------------------------------------------------------------------------
# signing keys
# ---------------------------------------------------------------------------------------


def cmd_public_key(args: argparse.Namespace, settings: Settings) -> int:
    """Print the public key of AUDIT_SIGNING_KEY (PEM), for the security team and auditors."""
    from server.audit.signing import SigningKeyError, signer_for

    try:
        signer = signer_for(settings)
    except SigningKeyError as exc:
        print(f"audit public-key: {exc}", file=sys.stderr)
        return 2
    print(f"key id {signer.key_id}", file=sys.stderr)
    print(signer.public_key_pem(), end="")
    return 0


def cmd_generate_key(args: argparse.Namespace, settings: Settings) -> int:
    """Print a new Ed25519 private key (PEM), to be kept as the AUDIT_SIGNING_KEY secret."""
    from server.audit.signing import generate_private_key_pem

    print(generate_private_key_pem(), end="")
    return 0


# ---------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from server.audit.export import export_jsonl
    from server.cli_support import owner_session

    start: datetime = args.start
    end: datetime = args.end
    if start >= end:
        print("--from must be before --to", file=sys.stderr)
        return 2

    recipient: str | None = getattr(args, "recipient", None)
    if recipient is not None:
        # Before anything is read or written: not for a recipient outside the EU/EEA.
        from server.privacy.transfers import TransferRefused, recipient_organisation

        code: str = recipient

        async def check() -> str:
            async with owner_session(settings) as session:
                return (await recipient_organisation(session, code, field="--recipient")).code

        try:
            recipient = asyncio.run(check())
        except TransferRefused as exc:
            print(f"audit export refused: {exc}", file=sys.stderr)
            return 2

    async def run(out: TextIO) -> int:
        detail = f"from={start.isoformat()} to={end.isoformat()}"
        if recipient is not None:
            detail += f" for={recipient}"
        await _record(settings, "audit export", detail)
        async with owner_session(settings) as session:
            return await export_jsonl(
                session=session, start=start, end=end, out=out, progress=for_terminal()
            )

    target: AbstractContextManager[TextIO] = (
        open(args.output, "w", encoding="utf-8")  # noqa: SIM115
        if args.output
        else nullcontext(sys.stdout)
    )
    with target as out:
        count = asyncio.run(run(out))
    print(f"exported {count} records", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------
# partitions and retention
# ---------------------------------------------------------------------------------------

PARTITIONS = text(
    """
    SELECT p.relname AS parent, c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bounds
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname IN ('access_log_request', 'access_log_object', 'access_log_subject')
      AND p.relnamespace = to_regnamespace(current_schema())
    ORDER BY c.relname
    """
)


def cmd_partitions(args: argparse.Namespace, settings: Settings) -> int:
    from server.audit.seal import ensure_partitions
    from server.cli_support import owner_session

    async def run() -> tuple[list[str], list[Any]]:
        async with owner_session(settings) as session:
            await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            created = await ensure_partitions(session, args.months_ahead)
            rows = list((await session.execute(PARTITIONS)).all())
        return created, rows

    created, rows = asyncio.run(run())
    for name in created:
        print(f"created {name}")
    for row in rows:
        print(f"{row.name}: {row.bounds}")
    return 0


def cmd_drop_before(args: argparse.Namespace, settings: Settings) -> int:
    from server.audit.seal import sign_retention
    from server.audit.service import write_event
    from server.audit.signing import signer_for
    from server.cli_support import owner_session

    boundary: date = args.month
    limit = retention_limit(settings, datetime.now(UTC).date())
    if boundary > limit:
        print(
            f"refused: the retention is {settings.audit_retention_months} months, so nothing "
            f"from {limit:%Y-%m} on may be dropped",
            file=sys.stderr,
        )
        return 2
    dropped_before = datetime.combine(boundary, time(), tzinfo=UTC)

    async def run() -> list[str]:
        async with owner_session(settings) as session:
            await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            if args.dry_run:
                rows = (await session.execute(PARTITIONS)).all()
                return [
                    r.name
                    for r in rows
                    if _partition_month(r.name) is not None
                    and _next_month(_partition_month(r.name)) <= boundary
                ]
            result = await session.execute(
                text("SELECT access_log_drop_before(:boundary)"), {"boundary": boundary}
            )
            names = [str(n) for n in result.scalars()]
            dropped_at = datetime.now(UTC)
            signer = signer_for(settings)
            await session.execute(
                text(
                    "INSERT INTO access_log_retention"
                    " (dropped_at, dropped_before, partitions, principal, key_id, signature)"
                    " VALUES (:dropped_at, :dropped_before, CAST(:partitions AS text[]),"
                    " :principal, :key_id, :signature)"
                ),
                {
                    "dropped_at": dropped_at,
                    "dropped_before": dropped_before,
                    "partitions": names,
                    "principal": _operator(),
                    "key_id": signer.key_id,
                    "signature": sign_retention(
                        signer,
                        dropped_before=dropped_before,
                        partitions=names,
                        dropped_at=dropped_at,
                    ),
                },
            )
            detail = f"dropped partitions before {boundary:%Y-%m}: {', '.join(names) or 'none'}"
            await write_event(session, cli_record("audit drop-before", detail[:2000]))
            return names

    names = asyncio.run(run())
    verb = "would drop" if args.dry_run else "dropped"
    for name in names:
        print(f"{verb} {name}")
    if not names:
        print(f"no partition ends on or before {boundary:%Y-%m-%d}", file=sys.stderr)
    return 0


def _partition_month(name: str) -> date | None:
    try:
        return datetime.strptime(name[-8:], "y%Ym%m").date()
    except ValueError:
        return None


def _next_month(month: date | None) -> date:
    assert month is not None
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


# ---------------------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `audit verify|seal|public-key|generate-key|export|partitions|drop-before`."""
    audit = subparsers.add_parser("audit", help="the access log: verify, seal, export, retention")
    commands = audit.add_subparsers(dest="audit_command", required=True)

    verify = commands.add_parser(
        "verify",
        help="check the rows new since the last clean run (all with --full), every seal and "
        "signature; exit status 1 on any finding",
    )
    verify.add_argument(
        "--head",
        type=Path,
        help="file of signed heads (JSON lines from `audit seal`) that must still be in the log",
    )
    verify.add_argument(
        "--public-key",
        type=Path,
        action="append",
        metavar="FILE",
        help="trust only these Ed25519 public keys (PEM files, or directories of *.pem; "
        "repeatable, looked up by key id) instead of the service's own signing key",
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.add_argument(
        "--full",
        action="store_true",
        help="read every row again (default: only rows new since the last clean run)",
    )
    verify.set_defaults(func=cmd_verify)

    seal = commands.add_parser("seal", help="seal every finished row now and print the signed head")
    seal.add_argument(
        "--wait",
        type=float,
        default=30.0,
        help="seconds to wait for running transactions (default 30)",
    )
    seal.set_defaults(func=cmd_seal)

    public_key = commands.add_parser(
        "public-key", help="print the public key (PEM) that verifies the seals' signatures"
    )
    public_key.set_defaults(func=cmd_public_key)

    generate = commands.add_parser(
        "generate-key", help="print a new Ed25519 signing key (PEM) for AUDIT_SIGNING_KEY"
    )
    generate.set_defaults(func=cmd_generate_key)

    export = commands.add_parser("export", help="write records as JSON lines for a SIEM")
    export.add_argument(
        "--from", dest="start", type=parse_moment, required=True, help="YYYY-MM-DD or ISO time"
    )
    export.add_argument(
        "--to", dest="end", type=parse_moment, required=True, help="YYYY-MM-DD or ISO time (excl.)"
    )
    export.add_argument("--output", type=Path, help="file to write (default: standard output)")
    export.add_argument(
        "--recipient",
        metavar="ORG_CODE",
        help="the registered organisation the records go to (refused outside the EU/EEA)",
    )
    export.set_defaults(func=cmd_export)

    partitions = commands.add_parser(
        "partitions", help="create monthly partitions ahead and list them"
    )
    partitions.add_argument("--months-ahead", type=int, default=2)
    partitions.set_defaults(func=cmd_partitions)

    drop = commands.add_parser(
        "drop-before",
        help="drop whole months before YYYY-MM once they are past the retention period",
    )
    drop.add_argument("month", type=parse_month, help="first month to keep (YYYY-MM)")
    drop.add_argument("--dry-run", action="store_true", help="only list what would be dropped")
    drop.set_defaults(func=cmd_drop_before)
