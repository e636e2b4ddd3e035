"""`rekisteri dsar export` and `rekisteri retention apply`.

Both are recorded in the access log like any request (event `cli`); if the log cannot be
written, nothing is output and nothing is changed.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from graphql import GraphQLError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.collector import AccessCollector
from server.audit.records import EventKind, ObjectAccess, RequestRecord
from server.authz.access import AccessView
from server.authz.decision import Access
from server.authz.policy import CompiledPolicy
from server.authz.principal import Principal, PrincipalKind
from server.cli_progress import NO_PROGRESS, Progress, for_terminal
from server.db.tables import table_of
from server.privacy.transfers import TransferRefused
from server.settings import Settings

REPORT_COORDINATE = "DataSubjectReport.content"
DEFAULT_PURPOSE = "oversight"


def operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _record(
    *,
    request_id: uuid.UUID,
    name: str,
    roles: tuple[str, ...],
    purpose: str | None,
    policy_version: str | None,
    started: float,
    detail: str,
    organisation: str | None,
) -> RequestRecord:
    from server.operations.runner import event_record

    return event_record(
        EventKind.CLI,
        request_id=request_id,
        principal=name,
        organisation=organisation,
        roles=roles,
        purpose=purpose,
        operation_name=detail.split(" ", 1)[0],
        operation_type="cli",
        policy_version=policy_version,
        detail=detail,
        started=started,
    )


async def write_log(
    session: AsyncSession, record: RequestRecord, objects: list[ObjectAccess]
) -> None:
    from server.audit.service import write_access_log

    await write_access_log(session, record, objects)


def report_roles(policy: CompiledPolicy, purpose: str) -> tuple[str, ...]:
    """The roles the policy lets produce the access report under `purpose`: `write` on
    DataSubjectReport.content (the permission to produce it) and `read` of it."""
    return tuple(
        role
        for role in sorted(policy.roles)
        if purpose in policy.role_purposes.get(role, frozenset())
        and policy.grants[(role, purpose)].fields.get(REPORT_COORDINATE) is Access.READ
        and REPORT_COORDINATE in policy.grants[(role, purpose)].writes
    )


async def _company(session: AsyncSession) -> tuple[uuid.UUID, str]:
    from server.organisations.models import Organisation

    table = table_of(Organisation)
    row = (
        await session.execute(
            select(table.c.id, table.c.code)
            .where(table.c.kind == "company")
            .order_by(table.c.created_at)
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else (uuid.UUID(int=0), "cli")


async def cli_principal(session: AsyncSession, roles: tuple[str, ...]) -> Principal:
    """The operator of a command, acting for the company with the roles the policy gives
    the command."""
    organisation_id, organisation_code = await _company(session)
    name = operator()
    return Principal(
        kind=PrincipalKind.USER,
        id=uuid.uuid5(uuid.NAMESPACE_URL, f"rekisteri:{name}"),
        name=name,
        organisation_id=organisation_id,
        organisation_code=organisation_code,
        roles=roles,
    )


async def _customer_id(session: AsyncSession, value: str) -> uuid.UUID | None:
    from server.customers.models import Customer

    table = table_of(Customer)
    if value.isdigit():
        found: uuid.UUID | None = await session.scalar(
            select(table.c.id).where(table.c.customer_number == int(value))
        )
        return found
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def export_report(
    settings: Settings,
    *,
    customer: str,
    output_format: str,
    language: str | None,
    purpose: str,
    engine: Any = None,
    recipient: str | None = None,
) -> tuple[bytes, str]:
    """The report as bytes and a suggested file name; the export is in the access log.
    `recipient` is the code of a registered organisation the file is written for (not the
    data subject): one outside the EU/EEA is refused (TransferRefused) before anything is
    read."""
    from server.authz.policy import load_policy
    from server.db.engine import create_engine, resolve_database_url_async
    from server.db.session import session_factory
    from server.graphql.context import RequestContext
    from server.rights.pdf import render_pdf
    from server.rights.queries import produce_report
    from server.schema import catalogue

    started = time.perf_counter()
    policy = load_policy(settings.policy_dir, catalogue())
    roles = report_roles(policy, purpose)
    if not roles:
        raise PermissionError(f"no role may produce the access report for purpose {purpose}")
    own_engine = engine is None
    if own_engine:
        engine = create_engine(await resolve_database_url_async(settings), settings)
    try:
        async with session_factory(engine)() as session, session.begin():
            destination = ""
            if recipient is not None:
                from server.privacy.transfers import recipient_organisation

                checked = await recipient_organisation(session, recipient, field="--recipient")
                destination = f" for {checked.code}"
            customer_id = await _customer_id(session, customer)
            if customer_id is None:
                raise LookupError("no such customer")
            principal = await cli_principal(session, roles)
            name, organisation_code = principal.name, principal.organisation_code
            ctx = RequestContext(
                settings=settings,
                session=session,
                principal=principal,
                access=AccessView(policy, principal, purpose, datetime.now(UTC).date()),
                request_id=uuid.uuid4(),
                client_address=None,
                collector=AccessCollector(),
            )
            try:
                document = await produce_report(ctx, customer_id, language)
            except GraphQLError as exc:
                # Refused (no open access request, or not allowed): nothing is output.
                raise PermissionError(exc.message) from exc
            if document is None:
                raise LookupError("no such customer")
            record = _record(
                request_id=ctx.request_id,
                name=name,
                roles=roles,
                purpose=purpose,
                policy_version=policy.version,
                started=started,
                detail=f"dsar export {customer_id} {output_format}{destination}",
                organisation=organisation_code,
            )
            await write_log(session, record, ctx.collector.objects)
    finally:
        if own_engine:
            await engine.dispose()
    number = document["customerNumber"]
    if output_format == "pdf":
        return render_pdf(document), f"dsar-{number}.pdf"
    return json.dumps(
        document, ensure_ascii=False, indent=2
    ).encode() + b"\n", f"dsar-{number}.json"


def cmd_dsar_export(args: argparse.Namespace, settings: Settings) -> int:
    try:
        content, suggested = asyncio.run(
            export_report(
                settings,
                customer=args.customer,
                output_format=args.format,
                language=args.language,
                purpose=args.purpose,
                recipient=args.recipient,
            )
        )
    except TransferRefused as exc:
        print(f"dsar export refused: {exc}", file=sys.stderr)
        return 1
    except LookupError:
        print("no such customer", file=sys.stderr)
        return 1
    except PermissionError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    target = args.output
    if target == "-" or (target is None and args.format == "json"):
        sys.stdout.buffer.write(content)
        return 0
    path = Path(target or suggested)
    path.write_bytes(content)
    path.chmod(0o600)
    print(f"wrote {path}")
    return 0


async def run_retention(
    settings: Settings,
    *,
    rules: Any,
    dry_run: bool,
    engine: Any = None,
    progress: Progress = NO_PROGRESS,
) -> list[str]:
    """Plan and (unless dry) apply retention as the database owner, recorded in the
    access log and in retention_run; returns the lines to print."""
    from server.db.engine import create_engine, resolve_database_url_async
    from server.db.session import session_factory
    from server.rights.retention import apply_retention, plan_retention

    started = time.perf_counter()
    own_engine = engine is None
    if own_engine:
        engine = create_engine(
            await resolve_database_url_async(settings), settings, as_app_role=False
        )
    try:
        async with session_factory(engine)() as session, session.begin():
            plan = await plan_retention(session=session, rules=rules)
            lines = plan.lines()
            if dry_run:
                return ["dry run: nothing was changed", *lines]
            name = operator()
            written = await apply_retention(
                session=session, plan=plan, actor=name, progress=progress
            )
            collector = AccessCollector()
            for type_name, object_id, customer_id, prospect_id, fields in written:
                collector.touch(
                    type_name,
                    object_id,
                    customer_id=customer_id,
                    prospect_id=prospect_id,
                    read=fields,
                    operation="write",
                )
            record = _record(
                request_id=uuid.uuid4(),
                name=name,
                roles=(),
                purpose=None,
                policy_version=None,
                started=started,
                detail=f"retention apply as of {rules.today.isoformat()}",
                organisation=None,
            )
            await write_log(session, record, collector.objects)
            return lines
    finally:
        if own_engine:
            await engine.dispose()


def cmd_retention_apply(args: argparse.Namespace, settings: Settings) -> int:
    from server.rights.retention import RetentionRules

    rules = RetentionRules(
        today=args.today or datetime.now(UTC).date(),
        settle_grace_days=args.grace_days,
        prospect_months=args.prospect_months,
    )
    run = run_retention(settings, rules=rules, dry_run=args.dry_run, progress=for_terminal())
    for line in asyncio.run(run):
        print(line)
    return 0


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from server.rights.retention import PROSPECT_MONTHS, SETTLE_GRACE_DAYS

    dsar = commands.add_parser("dsar", help="data-subject access reports").add_subparsers(
        dest="dsar_command", required=True
    )
    export = dsar.add_parser("export", help="everything held about one person, as JSON or PDF")
    export.add_argument("customer", metavar="CUSTOMER_ID", help="customer ID or number")
    export.add_argument("--format", choices=["json", "pdf"], default="json")
    export.add_argument("--language", choices=["fi", "en"], help="default: the customer's")
    export.add_argument("--output", "-o", help="file to write ('-': standard output)")
    export.add_argument("--purpose", default=DEFAULT_PURPOSE, help="purpose of the export")
    export.add_argument(
        "--recipient",
        metavar="ORG_CODE",
        help="the registered organisation the file is for, when not the data subject "
        "(refused outside the EU/EEA)",
    )
    export.set_defaults(func=cmd_dsar_export)

    retention = commands.add_parser("retention", help="retention of personal data").add_subparsers(
        dest="retention_command", required=True
    )
    apply = retention.add_parser(
        "apply", help="anonymise settled former customers, erase expired prospects"
    )
    apply.add_argument("--dry-run", action="store_true", help="list what would change")
    apply.add_argument("--today", type=date.fromisoformat, help="as of this date (YYYY-MM-DD)")
    apply.add_argument(
        "--grace-days",
        type=int,
        default=SETTLE_GRACE_DAYS,
        help="days after the customer relationship ends before anonymising",
    )
    apply.add_argument(
        "--prospect-months",
        type=int,
        default=PROSPECT_MONTHS,
        help="erase prospects stored longer than this",
    )
    apply.set_defaults(func=cmd_retention_apply)
