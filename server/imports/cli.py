"""`rekisteri import prospects|consumption|addresses FILE`: the importers on the command
line, as the database's runtime role. The rules are in server/imports/service.py; refused
rows go to FILE.rejects.csv (line, field, reason) beside the file."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from pathlib import Path
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.cli_progress import Advance, for_terminal
from server.imports.models import ImportChannel, ImportKind
from server.imports.service import (
    Caller,
    ImportOptions,
    ImportResult,
    NotPermitted,
    Progress,
    Reject,
    importing_roles,
    run_import,
)
from server.settings import Settings

SHOWN_REJECTS = 10


class RejectsFile:
    """FILE.rejects.csv, made at the first refused row (an old one is removed first)."""

    def __init__(self, source: Path) -> None:
        self.path = source.with_name(source.name + ".rejects.csv")
        self.path.unlink(missing_ok=True)
        self._stream: IO[str] | None = None
        self._writer: Any = None

    def __call__(self, reject: Reject) -> None:
        if self._writer is None:
            self._stream = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._stream)
            self._writer.writerow(("line", "field", "reason"))
        self._writer.writerow((reject.line, reject.field, reject.reason))

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()


class BytesDone:
    """An importer's progress (rows, bytes read, size) as a bar's `advance(bytes)`."""

    def __init__(self, advance: Advance) -> None:
        self._advance = advance
        self._done = 0

    def __call__(self, rows: int, done: int, total: int) -> None:
        self._advance(done - self._done)
        self._done = done


async def import_file(
    settings: Settings,
    *,
    kind: ImportKind,
    path: Path,
    options: ImportOptions,
    purpose: str | None = None,
    progress: Progress | None = None,
    rejects: RejectsFile | None = None,
) -> ImportResult:
    """Run one import as the command's operator (roles and purpose from the policy)."""
    from server.db.engine import create_engine, resolve_database_url_async
    from server.db.session import session_factory

    engine = create_engine(await resolve_database_url_async(settings), settings)
    try:
        sessionmaker = session_factory(engine)
        return await run_import(
            sessionmaker=sessionmaker,
            caller=await operator_caller(settings, sessionmaker, kind=kind, purpose=purpose),
            kind=kind,
            path=path,
            file_name=path.name,
            options=options,
            progress=progress,
            on_reject=rejects,
        )
    finally:
        await engine.dispose()


async def operator_caller(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    kind: ImportKind,
    purpose: str | None = None,
) -> Caller:
    """The command's operator, with the purpose and roles the policy gives importing
    `kind` (NotPermitted when it gives none)."""
    from server.authz.policy import load_policy
    from server.rights.cli import cli_principal
    from server.schema import catalogue

    policy = load_policy(settings.policy_dir, catalogue())
    chosen, roles = importing_roles(policy=policy, kind=kind, purpose=purpose)
    async with sessionmaker() as session:
        principal = await cli_principal(session, roles)
    return Caller(principal, chosen, ImportChannel.CLI, policy.version, principal.name)


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"{args.file}: no such file", file=sys.stderr)
        return 1
    options = ImportOptions(
        dry_run=args.dry_run,
        accept_partial=args.accept_partial,
        source=args.source or "",
        prospect_source=getattr(args, "kind", None) or "competition",
        file_format=getattr(args, "format", None),
    )
    rejects = RejectsFile(path)
    try:
        with for_terminal().stage(
            f"import {args.import_kind}", total=path.stat().st_size, unit="bytes"
        ) as advance:
            result = asyncio.run(
                import_file(
                    settings,
                    kind=ImportKind(args.import_kind),
                    path=path,
                    options=options,
                    purpose=args.purpose,
                    progress=BytesDone(advance),
                    rejects=rejects,
                )
            )
    except NotPermitted as exc:
        print(f"import refused: {exc}", file=sys.stderr)
        return 1
    finally:
        rejects.close()
    for line in summary(result, rejects.path):
        print(line)
    return 1 if result.refused else 0


def summary(result: ImportResult, rejects: Path) -> list[str]:
    """What the command prints: the outcome, the counts and the first refused rows."""
    lines = [
        f"{result.kind} {result.file_name}: {result.outcome}"
        + (f" (source record {result.source_id})" if result.source_id else ""),
        f"  sha256 {result.file_sha256}, {result.file_bytes:,} bytes, format {result.file_format}"
        + (f", imported {result.earlier_imports} time(s) before" if result.earlier_imports else ""),
        f"  rows {result.rows_total:,}: {result.rows_accepted:,} accepted, "
        f"{result.rows_rejected:,} refused",
        *(f"  {name} {value:,}" for name, value in result.counts.items()),
    ]
    if result.rejects:
        lines += [f"  line {r.line}: {r.field}: {r.reason}" for r in result.rejects[:SHOWN_REJECTS]]
        lines.append(f"  refused rows are listed in {rejects}")
    if result.refused and not result.file_refused and not result.dry_run:
        lines.append("  nothing was written; give --accept-partial to store the valid rows")
    return lines


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    importers = commands.add_parser(
        "import", help="load prospects, metering data or address changes from a file"
    ).add_subparsers(dest="import_kind", required=True)
    helps = {
        ImportKind.PROSPECTS: "prospects of a competition or prize draw (CSV)",
        ImportKind.CONSUMPTION: "metering data: Datahub's CSV or JSON lines",
        ImportKind.ADDRESSES: "customers' postal address changes (CSV)",
    }
    for kind, text in helps.items():
        command = importers.add_parser(str(kind), help=text)
        command.add_argument("file", metavar="FILE")
        command.add_argument(
            "--source",
            required=kind is ImportKind.PROSPECTS,
            help="where the data comes from (the competition, the address service...)",
        )
        command.add_argument(
            "--dry-run", action="store_true", help="check and count, write nothing"
        )
        command.add_argument(
            "--accept-partial",
            action="store_true",
            help="store the valid rows even if some are refused (listed in FILE.rejects.csv)",
        )
        command.add_argument("--purpose", help="purpose of the import (default: from the policy)")
        if kind is ImportKind.PROSPECTS:
            command.add_argument(
                "--kind", choices=["competition", "prize_draw"], default="competition"
            )
        if kind is ImportKind.CONSUMPTION:
            command.add_argument("--format", choices=["datahub", "json"], help="default: detected")
        command.set_defaults(func=cmd_import)
