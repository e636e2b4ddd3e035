"""Files for the importers' tests, and running an import as the command line does."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from server.imports.cli import RejectsFile, import_file
from server.imports.consumption import DATAHUB_HEADER
from server.imports.models import ImportKind
from server.imports.service import ImportOptions, ImportResult
from server.settings import Settings

PRODUCT = "8716867000030"
PROSPECT_HEADER = (
    "first_name,last_name,email,phone,postal_code,marketing_consent,contact_consent,"
    "consent_given_at,consent_version"
)
ADDRESS_HEADER = "identity_code;customer_number;street_address;postal_code;post_office"


def datahub_row(
    gsrn: str,
    start: datetime | str,
    quantity: str,
    quality: str = "OK",
    *,
    resolution: str = "PT1H",
    product: str = PRODUCT,
    unit: str = "kWh",
) -> str:
    moment = start if isinstance(start, str) else start.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{gsrn};{product};{resolution};{unit};BN01;{moment};{quantity};{quality}"


def datahub_file(path: Path, rows: Iterable[str]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write(DATAHUB_HEADER + "\n")
        for row in rows:
            out.write(row + "\n")
    return path


def datahub_bytes(rows: Iterable[str]) -> bytes:
    """The bytes of `datahub_file` with these rows, as a client posts them."""
    return "".join(line + "\n" for line in [DATAHUB_HEADER, *rows]).encode()


def hours(gsrn: str, first: datetime, count: int, kwh: str = "1,250000") -> list[str]:
    return [datahub_row(gsrn, first + timedelta(hours=h), kwh) for h in range(count)]


def text_file(path: Path, header: str, rows: Sequence[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@dataclass
class Imported:
    """An import's result and what it left beside the file."""

    result: ImportResult
    rejects_file: Path

    def rejects(self) -> list[tuple[int, str, str]]:
        return [(r.line, r.field, r.reason) for r in self.result.rejects]

    def rejects_csv(self) -> list[str]:
        if not self.rejects_file.exists():
            return []
        return self.rejects_file.read_text(encoding="utf-8").splitlines()


async def run(
    settings: Settings,
    kind: ImportKind,
    path: Path,
    *,
    purpose: str | None = None,
    **options: Any,
) -> Imported:
    """Import `path` as `rekisteri import` does (the operator, roles from the policy)."""
    rejects = RejectsFile(path)
    try:
        result = await import_file(
            settings,
            kind=kind,
            path=path,
            options=ImportOptions(**options),
            purpose=purpose,
            rejects=rejects,
        )
    finally:
        rejects.close()
    return Imported(result, rejects.path)


async def import_log(owner: asyncpg.Connection, request_id: uuid.UUID) -> dict[str, Any]:
    """The access log's record of an import, with its objects (type, id, subject, fields)."""
    record = await owner.fetchrow(
        "SELECT event, outcome, principal, roles, purpose, operation_type, client_address,"
        " detail FROM access_log_request WHERE request_id = $1",
        request_id,
    )
    assert record is not None
    view = await owner.fetchval("SELECT to_regclass('access_log_object_all')")
    objects = await owner.fetch(
        f"SELECT type_name, object_id, subject_customer_id, subject_prospect_id, operation,"
        f" fields_read FROM {'access_log_object_all' if view else 'access_log_object'}"
        " WHERE request_id = $1",
        request_id,
    )
    return {**dict(record), "objects": [dict(o) for o in objects]}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
