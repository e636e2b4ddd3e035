"""`rekisteri privacy record`: the record of processing activities (GDPR Art. 30).

Reads the policy files and, as the database owner, the organisations and the disclosures
(counted per legal basis: no personal data). Exits 1 when the record found a problem (a
transfer outside the EU/EEA, a purpose the privacy notice does not name): the record is
still written, with the problem at its top.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from server.privacy.record import RecordDocument
from server.privacy.render import FORMATS, render
from server.settings import Settings


async def make_record(
    settings: Settings, *, language: str, today: date | None = None
) -> RecordDocument:
    from server.authz.policy import load_policy
    from server.cli_support import owner_session
    from server.privacy.record import build_record, gather
    from server.schema import catalogue, schema

    policy = load_policy(settings.policy_dir, catalogue())
    async with owner_session(settings) as session:
        facts = await gather(session)
    return build_record(
        policy=policy,
        facts=facts,
        schema=schema()._schema,
        language=language,
        today=today or datetime.now(UTC).date(),
        log_retention_months=settings.audit_retention_months,
    )


def cmd_record(args: argparse.Namespace, settings: Settings) -> int:
    document = asyncio.run(make_record(settings, language=args.language))
    content = render(document, args.format)
    target = args.output
    if target is None and args.format == "pdf":
        target = f"record-of-processing-{document.language}.pdf"
    if target is None or target == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        Path(target).write_bytes(content)
        print(f"wrote {target}", file=sys.stderr)
    for problem in document.problems:
        print(f"privacy record: {problem}", file=sys.stderr)
    return 1 if document.problems else 0


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `privacy record` to the `rekisteri` command line."""
    privacy = commands.add_parser(
        "privacy", help="the record of processing (GDPR Art. 30)"
    ).add_subparsers(dest="privacy_command", required=True)
    record = privacy.add_parser(
        "record",
        help="write the record of processing from the policy and the database; exits 1 "
        "when it finds a transfer outside the EU/EEA or a purpose the notice does not name",
    )
    record.add_argument("--format", choices=FORMATS, default="md")
    record.add_argument("--language", choices=["fi", "en"], default="fi")
    record.add_argument(
        "--output", "-o", help="file to write (default: standard output; PDF: a file)"
    )
    record.set_defaults(func=cmd_record)
