"""The importers' rules (privacy notice section 6): prospects from competitions and prize
draws, metering data from Datahub, and address changes from an address service, loaded
from files by `rekisteri import KIND FILE` or `POST /imports/KIND` (docs/imports.md).

Every import of a file:

- needs `import` on every coordinate its kind writes, for the purpose (policies/); the
  policy names the roles, the code only the coordinates;
- is streamed: a worker thread parses the next batch of rows while the previous one is
  written with COPY through a staging table;
- writes all its valid rows or none of them, unless `accept_partial`; a dry run writes
  nothing. The rows, the source record (file name, SHA-256, counts, who, when), the
  provenance of what it wrote about whom and the access log's record are one transaction;
- refuses a row naming its line, the field and the reason, never its values.
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import asyncpg
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.audit.collector import AccessCollector
from server.audit.records import EventKind, Outcome, RequestRecord
from server.audit.service import write_access_log, write_event
from server.authz.access import AccessView
from server.authz.policy import CompiledPolicy
from server.authz.principal import Principal
from server.db.tables import table_of
from server.imports.models import ImportChannel, ImportKind, ImportProvenance, ImportSource
from server.imports.reading import BadRow, FileLines, FileRefused, csv_records
from server.operations.writes import Actor
from server.validators import text_problem

source_table = table_of(ImportSource)
provenance_table = table_of(ImportProvenance)

REPORTED_REJECTS = 1000  # refused rows listed in a result; all go to the rejects sink


@dataclass(frozen=True, slots=True)
class Reject:
    """A refused row: its line in the file, the field and why (never the value)."""

    line: int
    field: str
    reason: str


def text_field_problem(value: str, limit: int) -> str | None:
    """Why a required one-line text field is refused (None when it is fine)."""
    if not value:
        return "required"
    if len(value) > limit:
        return f"at most {limit} characters"
    return text_problem(value)


class NotPermitted(Exception):
    """The principal may not import this kind of file under the purpose."""


@dataclass(frozen=True, slots=True)
class ImportOptions:
    dry_run: bool = False
    accept_partial: bool = False
    source: str = ""  # what the file is, e.g. the competition; kept in the source record
    prospect_source: str = "competition"  # prospects: competition or prize_draw
    file_format: str | None = None  # consumption: datahub or json (None: from the content)


@dataclass(slots=True)
class Batch:
    """What the parser read since the previous batch."""

    rows: int
    rejects: list[Reject]
    payload: Any = None


def csv_batches(
    lines: Iterator[tuple[int, str]],
    *,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    check: Callable[[int, dict[str, str]], Any],
    size: int,
) -> Generator[Batch, None, None]:
    """Batches of `size` records of a CSV file with a header: each record `check`ed into
    the batch's payload, or its Reject."""
    batch = Batch(0, [], [])
    for record in csv_records(lines, required=required, optional=optional):
        batch.rows += 1
        checked = (
            Reject(record.line, "line", record.reason)
            if isinstance(record, BadRow)
            else check(record.line, record.values)
        )
        if isinstance(checked, Reject):
            batch.rejects.append(checked)
        else:
            batch.payload.append(checked)
        if batch.rows >= size:
            yield batch
            batch = Batch(0, [], [])
    if batch.rows:
        yield batch


@dataclass(slots=True)
class Written:
    """What an import wrote about one person's object: provenance and access log."""

    object_type: str
    object_id: uuid.UUID
    customer_id: uuid.UUID | None
    prospect_id: uuid.UUID | None
    fields: tuple[str, ...]
    action: str
    resolution: str | None = None
    first_step: datetime | None = None
    last_step: datetime | None = None
    values_added: int | None = None
    values_revised: int | None = None


@dataclass(slots=True)
class ImportRun:
    """One import in progress: its transaction and what it has written so far."""

    session: AsyncSession
    conn: asyncpg.Connection
    sessionmaker: async_sessionmaker[AsyncSession]
    source_id: uuid.UUID
    request_id: uuid.UUID
    actor: Actor
    file_name: str
    options: ImportOptions
    today: date
    collector: AccessCollector = field(default_factory=AccessCollector)

    @property
    def reason(self) -> str:
        """Why the data changed, as the change history keeps it."""
        label = f"{self.options.source}: " if self.options.source else ""
        return f"import {label}{self.file_name}"[:1000]

    async def wrote(self, items: list[Written]) -> None:
        """Keep the provenance of objects written and put them in the access log."""
        for item in items:
            self.collector.touch(
                item.object_type,
                str(item.object_id),
                customer_id=item.customer_id,
                prospect_id=item.prospect_id,
                read=item.fields,
                operation="write",
            )
        if items:
            await self.session.execute(
                insert(provenance_table),
                [_provenance_row(self.source_id, item) for item in items],
            )


class Importer(Protocol):
    """One kind of file. `batches` runs in a worker thread and touches no database;
    `apply` writes a batch in the import's transaction and returns the rows it refused."""

    file_format: str

    async def start(self, run: ImportRun) -> None: ...

    def batches(self, lines: FileLines) -> Generator[Batch, None, None]: ...

    async def apply(self, run: ImportRun, batch: Batch) -> list[Reject]: ...

    async def finish(self, run: ImportRun) -> None: ...

    async def close(self) -> None: ...

    def counts(self) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class KindSpec:
    """An importer: the coordinates its files write (the policy must grant `import` on
    each) and how to make one for a run."""

    kind: ImportKind
    coordinates: tuple[str, ...]
    make: Callable[[ImportOptions], Importer]


def kinds() -> Mapping[ImportKind, KindSpec]:
    from server.imports import addresses, consumption, prospects

    return {spec.kind: spec for spec in (prospects.SPEC, consumption.SPEC, addresses.SPEC)}


def may_import(
    *, policy: CompiledPolicy, principal: Principal, purpose: str, kind: ImportKind
) -> bool:
    """Whether the principal's roles may load files of `kind` under `purpose`."""
    if purpose not in policy.purposes_for(principal.roles):
        return False
    access = AccessView(policy, principal, purpose, datetime.now(UTC).date())
    return all(access.can_import(c) for c in kinds()[kind].coordinates)


def importing_roles(
    *, policy: CompiledPolicy, kind: ImportKind, purpose: str | None = None
) -> tuple[str, tuple[str, ...]]:
    """The purpose and the roles the command line acts under: `purpose`, or the default
    purpose of the first role allowed to import `kind` under its own default purpose."""
    coordinates = set(kinds()[kind].coordinates)

    def allowed(role: str, under: str) -> bool:
        grant = policy.grants.get((role, under))
        return grant is not None and coordinates <= grant.imports

    if purpose is None:
        purpose = next(
            (
                info.default_purpose
                for role, info in sorted(policy.roles.items())
                if allowed(role, info.default_purpose)
            ),
            None,
        )
    roles = tuple(r for r in sorted(policy.roles) if purpose and allowed(r, purpose))
    if purpose is None or not roles:
        raise NotPermitted(f"the policy lets no role import {kind} files for that purpose")
    return purpose, roles


@dataclass(slots=True)
class ImportResult:
    """How an import ended; `rejects` lists the first REPORTED_REJECTS refused rows."""

    kind: ImportKind
    request_id: uuid.UUID
    dry_run: bool
    accept_partial: bool
    file_name: str
    file_sha256: str = ""
    file_bytes: int = 0
    file_format: str = ""
    rows_total: int = 0
    rows_rejected: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    source_id: uuid.UUID | None = None
    earlier_imports: int = 0
    file_refused: bool = False

    @property
    def rows_accepted(self) -> int:
        return max(self.rows_total - self.rows_rejected, 0)

    @property
    def written(self) -> bool:
        return self.source_id is not None

    @property
    def refused(self) -> bool:
        """Nothing may be written: a file refused as a whole, or refused rows without
        accept_partial (a dry run reports the same)."""
        return self.file_refused or (self.rows_rejected > 0 and not self.accept_partial)

    @property
    def outcome(self) -> str:
        if self.written:
            return "written"
        return "refused" if self.refused else "dry run"

    def note(self, reject: Reject) -> None:
        self.rows_rejected += 1
        if len(self.rejects) < REPORTED_REJECTS:
            self.rejects.append(reject)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "requestId": str(self.request_id),
            "outcome": self.outcome,
            "dryRun": self.dry_run,
            "acceptPartial": self.accept_partial,
            "sourceId": str(self.source_id) if self.source_id else None,
            "file": {
                "name": self.file_name,
                "sha256": self.file_sha256,
                "bytes": self.file_bytes,
                "format": self.file_format,
                "earlierImports": self.earlier_imports,
            },
            "rows": {
                "total": self.rows_total,
                "accepted": self.rows_accepted,
                "rejected": self.rows_rejected,
            },
            "counts": self.counts,
            "rejects": [
                {"line": r.line, "field": r.field, "reason": r.reason} for r in self.rejects
            ],
            "rejectsTruncated": self.rows_rejected > len(self.rejects),
        }


Progress = Callable[[int, int, int], None]  # rows done, bytes read, file size
RejectSink = Callable[[Reject], None]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who runs an import, under which purpose, through which channel; `log_name` is how
    the access log names them (a command's operator, or the principal's reference)."""

    principal: Principal
    purpose: str
    channel: ImportChannel
    policy_version: str
    log_name: str
    client_address: str | None = None


class _Discard(Exception):
    """Roll the import's transaction back (dry run, or rows refused)."""


async def run_import(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    caller: Caller,
    kind: ImportKind,
    path: Path,
    file_name: str,
    options: ImportOptions,
    progress: Progress | None = None,
    on_reject: RejectSink | None = None,
) -> ImportResult:
    """Import one file. The caller has checked `may_import`. Returns the result whether
    the rows were written, refused or only tried (dry run); raises only when the database
    or the access log failed, and then nothing was written."""
    started = time.perf_counter()
    result = ImportResult(kind, uuid.uuid4(), options.dry_run, options.accept_partial, file_name)
    importer = kinds()[kind].make(options)
    lines = FileLines(path)
    result.file_bytes = lines.size

    def reject(item: Reject) -> None:
        result.note(item)
        if on_reject is not None:
            on_reject(item)

    try:
        async with sessionmaker() as session:
            try:
                async with session.begin():
                    run = await _begin(session, sessionmaker, caller, kind, result, options)
                    await importer.start(run)
                    try:
                        await _load(run, importer, lines, result, reject, progress)
                    finally:
                        await importer.close()
                    result.file_sha256 = lines.sha256
                    result.file_format = importer.file_format
                    result.counts = importer.counts()
                    result.earlier_imports = await _earlier_imports(session, lines.sha256)
                    if options.dry_run or result.refused:
                        raise _Discard
                    await importer.finish(run)
                    result.source_id = run.source_id
                    await _finish(run, caller, kind, result, started)
            except _Discard:
                pass
    except FileRefused as exc:
        result.file_refused = True
        result.file_sha256 = lines.sha256
        reject(Reject(exc.line, exc.field, exc.reason))
    if not result.written:
        await _record_unwritten(sessionmaker, caller, kind, result, started)
    return result


async def _begin(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    caller: Caller,
    kind: ImportKind,
    result: ImportResult,
    options: ImportOptions,
) -> ImportRun:
    """The run in its transaction, with the source record that the provenance written
    with each batch refers to (its file's digest and counts are filled in at the end)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    conn: asyncpg.Connection = raw.driver_connection
    # A large file outlasts any request-sized statement time-out.
    await conn.execute("SET LOCAL statement_timeout = 0")
    actor = Actor.of_principal(caller.principal)
    run = ImportRun(
        session=session,
        conn=conn,
        sessionmaker=sessionmaker,
        source_id=uuid.uuid4(),
        request_id=result.request_id,
        actor=actor,
        file_name=result.file_name,
        options=options,
        today=datetime.now(UTC).date(),
    )
    await session.execute(
        insert(source_table).values(
            id=run.source_id,
            kind=str(kind),
            source=options.source[:200],
            file_name=result.file_name[:255],
            file_sha256="0" * 64,
            file_bytes=result.file_bytes,
            file_format="",
            rows_total=0,
            rows_accepted=0,
            rows_rejected=0,
            counts={},
            accept_partial=options.accept_partial,
            channel=str(caller.channel),
            purpose=caller.purpose,
            imported_by=actor.ref,
            imported_by_name=actor.name,
            organisation=actor.organisation,
            started_at=datetime.now(UTC),
            log_request_id=result.request_id,
        )
    )
    return run


async def _load(
    run: ImportRun,
    importer: Importer,
    lines: FileLines,
    result: ImportResult,
    reject: RejectSink,
    progress: Progress | None,
) -> None:
    """Parse in a worker thread, one batch ahead of the batch being written; the rejects
    of each batch go out in line order."""
    loop = asyncio.get_running_loop()
    batches = importer.batches(lines)
    take = functools.partial(next, batches, None)
    pending = loop.run_in_executor(None, take)
    try:
        while (batch := await pending) is not None:
            pending = loop.run_in_executor(None, take)
            refused = await importer.apply(run, batch)
            for item in sorted([*batch.rejects, *refused], key=lambda r: r.line):
                reject(item)
            result.rows_total += batch.rows
            if progress is not None:
                progress(result.rows_total, lines.bytes_read, lines.size)
    finally:
        # The thread may still be parsing: let it finish before the generator is closed.
        await asyncio.gather(pending, return_exceptions=True)
        batches.close()


async def _earlier_imports(session: AsyncSession, sha256: str) -> int:
    found = await session.scalar(
        select(func.count()).select_from(source_table).where(source_table.c.file_sha256 == sha256)
    )
    return int(found or 0)


def _provenance_row(source_id: uuid.UUID, item: Written) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "source_id": source_id,
        "customer_id": item.customer_id,
        "prospect_id": item.prospect_id,
        "object_type": item.object_type,
        "object_id": item.object_id,
        "action": item.action,
        "fields": list(item.fields),
        "resolution": item.resolution,
        "first_step": item.first_step,
        "last_step": item.last_step,
        "values_added": item.values_added,
        "values_revised": item.values_revised,
    }


async def _finish(
    run: ImportRun, caller: Caller, kind: ImportKind, result: ImportResult, started: float
) -> None:
    """The source record's final counts and the access log, in the import's transaction."""
    await run.session.execute(
        update(source_table)
        .where(source_table.c.id == run.source_id)
        .values(
            file_sha256=result.file_sha256,
            file_format=result.file_format,
            rows_total=result.rows_total,
            rows_accepted=result.rows_accepted,
            rows_rejected=result.rows_rejected,
            counts=result.counts,
            finished_at=func.clock_timestamp(),
        )
    )
    await write_access_log(
        run.session, _record(caller, kind, result, started), run.collector.objects
    )


async def _record_unwritten(
    sessionmaker: async_sessionmaker[AsyncSession],
    caller: Caller,
    kind: ImportKind,
    result: ImportResult,
    started: float,
) -> None:
    """A dry run or a refused file writes nothing but its access-log record."""
    async with sessionmaker() as session, session.begin():
        await write_event(session, _record(caller, kind, result, started))


def _record(
    caller: Caller, kind: ImportKind, result: ImportResult, started: float
) -> RequestRecord:
    from server.operations.runner import event_record

    principal = caller.principal
    outcome = Outcome.ERROR if result.outcome == "refused" else Outcome.OK
    return event_record(
        EventKind.IMPORT,
        outcome=outcome,
        request_id=result.request_id,
        principal=caller.log_name,
        organisation=principal.organisation_code,
        roles=principal.roles,
        purpose=caller.purpose,
        client_address=caller.client_address,
        operation_name=f"import {kind}",
        operation_type=str(caller.channel),
        policy_version=caller.policy_version,
        detail=_detail(result),
        started=started,
    )


def _detail(result: ImportResult) -> str:
    counts = " ".join(f"{k}={v}" for k, v in sorted(result.counts.items()))
    return (
        f"import {result.kind} {result.outcome}: file {result.file_name!r} "
        f"sha256 {result.file_sha256} rows {result.rows_total} accepted {result.rows_accepted} "
        f"rejected {result.rows_rejected} {counts}"
    ).strip()
