"""Prospects from competitions and prize draws (privacy notice section 6): only people who
gave both a marketing and a contact consent are stored, and never a customer who objected
to direct marketing. A person already stored as a prospect (same e-mail address or phone
number) gets the newer consent instead of a second row. The format is in docs/imports.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Final

from sqlalchemy import bindparam, func, insert, or_, select, update

from server.audit.coordinates import logged
from server.customers.models import Customer
from server.db.tables import table_of
from server.imports.models import ImportKind
from server.imports.reading import FileLines
from server.imports.service import (
    Batch,
    ImportOptions,
    ImportRun,
    KindSpec,
    Reject,
    Written,
    csv_batches,
    text_field_problem,
)
from server.prospects.models import Prospect
from server.prospects.service import consent_expires_on
from server.prospects.types import Prospect as ProspectType
from server.sites.consumption import LOCAL_TIME
from server.validators import (
    IdentifierError,
    validate_email,
    validate_phone,
    validate_postal_code,
)

prospect_table = table_of(Prospect)
customer_table = table_of(Customer)

COLUMNS: Final = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "postal_code",
    "marketing_consent",
    "contact_consent",
    "consent_given_at",
    "consent_version",
)
YES: Final = frozenset({"yes", "y", "true", "1", "kyllä", "k"})
NO: Final = frozenset({"no", "n", "false", "0", "ei", "e", ""})
BATCH_ROWS = 5_000
STORED: Final = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "postal_code",
    "source",
    "campaign",
    "marketing_consent_at",
    "consent_text",
    "consent_expires_on",
)
WRITTEN: Final = logged(ProspectType, *STORED)  # as the access log names them


@dataclass(slots=True)
class _Row:
    line: int
    values: dict[str, Any]  # the prospect's columns

    def contacts(self) -> dict[str, str]:
        """How the person is recognised (the e-mail address in any case, the phone), with
        the column of each."""
        return _keys(self.values["email"], self.values["phone"])


class ProspectImporter:
    file_format = "csv"

    def __init__(self, options: ImportOptions) -> None:
        self._options = options
        self._today = datetime.now(UTC).date()
        self._counts = {"prospectsAdded": 0, "prospectsUpdated": 0, "prospectsUnchanged": 0}

    async def start(self, run: ImportRun) -> None:
        self._today = run.today

    async def close(self) -> None:
        return None

    async def finish(self, run: ImportRun) -> None:
        return None

    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    # -- parsing (worker thread) ------------------------------------------------------

    def batches(self, lines: FileLines) -> Generator[Batch, None, None]:
        return csv_batches(iter(lines), required=COLUMNS, check=self._check, size=BATCH_ROWS)

    def _check(self, line: int, raw: dict[str, str]) -> _Row | Reject:
        """The prospect's columns, or why the row is refused."""
        values: dict[str, Any] = {}
        for name in ("first_name", "last_name"):
            problem = text_field_problem(raw[name], 100)
            if problem:
                return Reject(line, name, problem)
            values[name] = raw[name]
        for name, validate in (
            ("email", validate_email),
            ("phone", validate_phone),
            ("postal_code", validate_postal_code),
        ):
            try:
                values[name] = validate(raw[name]) if raw[name] else None
            except IdentifierError as exc:
                return Reject(line, name, exc.reason)
        if values["email"] is None and values["phone"] is None:
            return Reject(line, "email", "an e-mail address or a phone number is required")
        for name in ("marketing_consent", "contact_consent"):
            answer = raw[name].lower()
            if answer not in YES | NO:
                return Reject(line, name, "yes or no")
            if answer in NO:
                return Reject(line, name, "no consent: the person is not stored")
        consent = self._consent(line, raw)
        if isinstance(consent, Reject):
            return consent
        values.update(consent)
        values["source"] = self._options.prospect_source
        values["campaign"] = self._options.source[:200]
        return _Row(line, values)

    def _consent(self, line: int, raw: dict[str, str]) -> dict[str, Any] | Reject:
        given_at = _moment(raw["consent_given_at"])
        if given_at is None:
            return Reject(line, "consent_given_at", "not a date or a time (ISO 8601)")
        if given_at.astimezone(LOCAL_TIME).date() > self._today:
            return Reject(line, "consent_given_at", "in the future")
        expires_on = consent_expires_on(given_at=given_at)
        if expires_on < self._today:
            return Reject(line, "consent_given_at", "the consent has expired")
        version = raw["consent_version"]
        problem = text_field_problem(version, 50)
        if problem:
            return Reject(line, "consent_version", problem)
        return {
            "marketing_consent_at": given_at,
            "consent_text": "Consent to marketing and to being contacted, wording version "
            f"{version}",
            "consent_expires_on": expires_on,
        }

    # -- writing (the import's transaction) ---------------------------------------------

    async def apply(self, run: ImportRun, batch: Batch) -> list[Reject]:
        rows: list[_Row] = batch.payload
        if not rows:
            return []
        objected = await self._objected(run, rows)
        known = await self._known(run, rows)
        refused: list[Reject] = []
        added: dict[uuid.UUID, dict[str, Any]] = {}
        changed: dict[uuid.UUID, dict[str, Any]] = {}
        for row in rows:
            field = next((f for k, f in row.contacts().items() if k in objected), None)
            if field is not None:
                reason = "a customer who objected to direct marketing: the person is not stored"
                refused.append(Reject(row.line, field, reason))
            else:
                self._place(row, known, added, changed)
        await self._write(run, list(added.values()), list(changed.values()))
        return refused

    def _place(
        self,
        row: _Row,
        known: dict[str, tuple[uuid.UUID, datetime]],
        added: dict[uuid.UUID, dict[str, Any]],
        changed: dict[uuid.UUID, dict[str, Any]],
    ) -> None:
        """A new prospect, a newer consent of a known one (stored or added by an earlier
        row), or nothing new."""
        found = next((known[k] for k in row.contacts() if k in known), None)
        given_at = row.values["marketing_consent_at"]
        if found is None:
            prospect_id = uuid.uuid4()
            added[prospect_id] = {"id": prospect_id, **row.values}
        elif given_at > found[1]:
            prospect_id = found[0]
            target = added if prospect_id in added else changed
            target[prospect_id] = {"id": prospect_id, **row.values}
        else:
            self._counts["prospectsUnchanged"] += 1
            return
        for key in row.contacts():
            known[key] = (prospect_id, given_at)

    async def _write(
        self, run: ImportRun, added: list[dict[str, Any]], changed: list[dict[str, Any]]
    ) -> None:
        if added:
            await run.session.execute(insert(prospect_table), added)
        if changed:
            await run.session.execute(
                update(prospect_table)
                .where(prospect_table.c.id == bindparam("prospect_id"))
                .values({name: bindparam(name) for name in STORED}),
                [{"prospect_id": row["id"], **{n: row[n] for n in STORED}} for row in changed],
            )
        self._counts["prospectsAdded"] += len(added)
        self._counts["prospectsUpdated"] += len(changed)
        await run.wrote(
            [
                Written(WRITTEN.type_name, row["id"], None, row["id"], WRITTEN.fields, action)
                for rows, action in ((added, "create"), (changed, "update"))
                for row in rows
            ]
        )

    async def _objected(self, run: ImportRun, rows: list[_Row]) -> set[str]:
        """Keys of the rows that name a customer with a direct-marketing objection."""
        c = customer_table.c
        found = await run.session.execute(
            select(c.email, c.phone).where(
                c.direct_marketing_objection_at.is_not(None), _matching(c, rows)
            )
        )
        return {key for email, phone in found for key in _keys(email, phone)}

    async def _known(
        self, run: ImportRun, rows: list[_Row]
    ) -> dict[str, tuple[uuid.UUID, datetime]]:
        """Prospects already stored with the rows' e-mail addresses or phones."""
        p = prospect_table.c
        found = await run.session.execute(
            select(p.id, p.email, p.phone, p.marketing_consent_at)
            .where(_matching(p, rows))
            .with_for_update()
        )
        return {
            key: (prospect_id, given_at)
            for prospect_id, email, phone, given_at in found
            for key in _keys(email, phone)
        }


def _keys(email: str | None, phone: str | None) -> dict[str, str]:
    keys = {f"e:{email.lower()}": "email"} if email else {}
    if phone:
        keys[f"p:{phone}"] = "phone"
    return keys


def _matching(columns: Any, rows: list[_Row]) -> Any:
    """Rows of a table with the e-mail address (any case) or the phone of one of `rows`."""
    emails = [r.values["email"].lower() for r in rows if r.values["email"]]
    phones = [r.values["phone"] for r in rows if r.values["phone"]]
    return or_(func.lower(columns.email).in_(emails), columns.phone.in_(phones))


def _moment(value: str) -> datetime | None:
    """A date (the start of the day) or a time; Finnish time unless the offset is given."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), LOCAL_TIME)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TIME)


SPEC: Final = KindSpec(ImportKind.PROSPECTS, WRITTEN.coordinates, ProspectImporter)
