"""`rekisteri operations add|list|remove`: the registered (trusted) documents.

Only these commands, run as the database owner, register or remove documents; the service
may only read them (server/operations/trusted.py). Every change is recorded in the access
log as a `cli` event in the same transaction.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from server.operations.documents import DocumentCache
from server.operations.trusted import document_id, parse_document_reference, sha256_hex
from server.operations.vetting import OperationReport, vet
from server.settings import Settings

INSERT = text(
    "INSERT INTO trusted_document (sha256, document, name, registered_by) "
    "VALUES (:sha256, :document, :name, :registered_by) ON CONFLICT (sha256) DO NOTHING"
)
LIST = text(
    "SELECT sha256, document, name, registered_by, registered_at FROM trusted_document "
    "ORDER BY registered_at, sha256"
)
DELETE = text("DELETE FROM trusted_document WHERE sha256 = :sha256")


@dataclass(slots=True)
class Candidate:
    """A file to register: its exact text, and the report or the reasons it is invalid."""

    path: Path
    document: str
    problems: list[str]
    reports: list[OperationReport]
    stored: str = "not stored"

    @property
    def sha256(self) -> str:
        return sha256_hex(self.document)

    def as_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "documentId": document_id(self.sha256),
            "status": self.stored if not self.problems else "invalid",
            "problems": self.problems,
            "operations": [report.as_json() for report in self.reports],
        }


def _read_candidate(path: Path, cache: DocumentCache, policy: Any) -> Candidate:
    try:
        # Bytes, not read_text: the key is the hash of the exact text a client sends.
        document = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Candidate(path, "", [f"cannot read: {exc}"], [])
    prepared = cache.prepare(document)
    if prepared.errors:
        return Candidate(path, document, [error.message for error in prepared.errors], [])
    if not prepared.operations:
        return Candidate(path, document, ["the document has no operation"], [])
    return Candidate(path, document, [], vet(cache.schema, policy, prepared))


def _print_candidate(candidate: Candidate) -> None:
    print(f"{candidate.path}: {document_id(candidate.sha256)} ({candidate.stored})")
    for problem in candidate.problems:
        print(f"  invalid: {problem}")
    for report in candidate.reports:
        title = f"{report.kind} {report.name or '(anonymous)'}"
        print(f"  {title}: {len(report.coordinates)} policed fields")
        for grant in report.grants:
            print(f"    {grant.role} / {grant.purpose}: {_grant_line(grant)}")


def _grant_line(grant: Any) -> str:
    if grant.everything:
        return "every field read"
    parts = []
    for label, items in (("denied", grant.denied), ("masked", grant.masked)):
        if items:
            parts.append(f"{label} {', '.join(items)}")
    if grant.no_rows:
        parts.append(f"no rows of {', '.join(grant.no_rows)}")
    return "; ".join(parts)


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    from server.authz.policy import load_policy
    from server.schema import catalogue, schema

    cache = DocumentCache(schema()._schema)
    policy = load_policy(settings.policy_dir, catalogue())
    candidates = [_read_candidate(Path(name), cache, policy) for name in args.files]
    invalid = any(candidate.problems for candidate in candidates)
    if not invalid and not args.dry_run:
        _store(settings, candidates)
    _output(args, candidates, [c.as_json() for c in candidates])
    if invalid:
        print("nothing was registered: fix the invalid documents", file=sys.stderr)
        return 1
    return 0


def _output(args: argparse.Namespace, candidates: list[Candidate], data: list[Any]) -> None:
    if args.json:
        print(json.dumps({"documents": data}, indent=2))
        return
    for candidate in candidates:
        _print_candidate(candidate)


def _store(settings: Settings, candidates: list[Candidate]) -> None:
    """Insert every document in one transaction, with its access-log event."""
    from server.audit.cli import cli_record
    from server.audit.service import write_event
    from server.cli_support import owner_session, run

    record = cli_record("operations add", None)
    operator = (record.principal or "unknown")[:100]  # as the access log names the operator

    async def store() -> None:
        async with owner_session(settings) as session:
            for candidate in candidates:
                values = {
                    "sha256": candidate.sha256,
                    "document": candidate.document,
                    "name": candidate.path.name[:200],
                    "registered_by": operator,
                }
                inserted = _changed(await session.execute(INSERT, values))
                candidate.stored = "registered" if inserted else "already registered"
            record.detail = ", ".join(f"{document_id(c.sha256)} {c.stored}" for c in candidates)
            await write_event(session, record)

    run(store)


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    from server.cli_support import owner_session, run
    from server.schema import schema

    async def rows() -> list[Any]:
        async with owner_session(settings) as session:
            return list((await session.execute(LIST)).all())

    cache = DocumentCache(schema()._schema)
    listed = []
    for row in run(rows):
        prepared = cache.prepare(row.document)
        names = [op.name.value if op.name else "(anonymous)" for op in prepared.operations]
        listed.append(
            {
                "documentId": document_id(row.sha256),
                "name": row.name,
                "operations": names,
                "valid": not prepared.errors,
                "registeredBy": row.registered_by,
                "registeredAt": row.registered_at.isoformat(),
            }
        )
    if args.json:
        print(json.dumps({"documents": listed}, indent=2))
        return 0
    for item in listed:
        validity = "" if item["valid"] else "  INVALID against the current schema"
        print(
            f"{item['documentId']}  {item['name']}  {', '.join(item['operations'])}  "
            f"{item['registeredAt']} {item['registeredBy']}{validity}"
        )
    print(f"{len(listed)} registered documents")
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from server.audit.cli import cli_record
    from server.audit.service import write_event
    from server.cli_support import owner_session, run

    keys = {reference: parse_document_reference(reference) for reference in args.ids}
    malformed = [reference for reference, key in keys.items() if key is None]
    if malformed:
        print(
            f"not a document ID (sha256:<64 hex digits>): {', '.join(malformed)}", file=sys.stderr
        )
        return 2
    digests = [key for key in keys.values() if key is not None]

    async def remove() -> list[str]:
        async with owner_session(settings) as session:
            removed = [
                key for key in digests if _changed(await session.execute(DELETE, {"sha256": key}))
            ]
            if removed:
                detail = "removed " + ", ".join(map(document_id, removed))
                await write_event(session, cli_record("operations remove", detail[:1500]))
        return removed

    removed = run(remove)
    for key in digests:
        if key in removed:
            print(f"removed {document_id(key)}")
        else:
            print(f"not registered: {document_id(key)}", file=sys.stderr)
    return 0 if len(removed) == len(digests) else 1


def _changed(result: Any) -> bool:
    """True when the statement inserted or deleted its row."""
    return bool(getattr(result, "rowcount", 0) == 1)


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    operations = commands.add_parser(
        "operations", help="registered (trusted) GraphQL documents, called by their SHA-256"
    )
    sub = operations.add_subparsers(dest="operations_command", required=True)
    add = sub.add_parser(
        "add", help="validate, report per role and purpose what is denied or masked, register"
    )
    add.add_argument("files", nargs="+", help=".graphql files, one document each")
    add.add_argument("--dry-run", action="store_true", help="validate and report only")
    add.add_argument("--json", action="store_true", help="the report as JSON")
    add.set_defaults(func=cmd_add)
    listing = sub.add_parser("list", help="the registered documents")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)
    remove = sub.add_parser("remove", help="unregister documents by ID")
    remove.add_argument("ids", nargs="+", help="sha256:<hex> (or the bare hex digest)")
    remove.set_defaults(func=cmd_remove)
