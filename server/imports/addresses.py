"""Address changes from an external address service: the postal address of each customer a
row names by identity code (personal identity code or business ID) or customer number, or
both. The previous address stays in the change history with the file as the reason. A row
that matches nobody, or more than one customer, is reported and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import bindparam, func, insert, text, update

from server.audit.coordinates import logged
from server.customers.models import Customer
from server.customers.types import Customer as CustomerType
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
from server.rights.history import change_row, change_table
from server.rights.models import ChangeAction, ChangedType
from server.validators import (
    IdentifierError,
    validate_business_id,
    validate_hetu,
    validate_postal_code,
)

customer_table = table_of(Customer)

KEYS: Final = ("identity_code", "customer_number")
ADDRESS: Final = ("street_address", "postal_code", "post_office")
# The address as the access log and the change history name its fields.
WRITTEN: Final = logged(CustomerType, *ADDRESS)
FIELD_NAMES: Final = dict(zip(ADDRESS, WRITTEN.fields, strict=True))
LIMITS: Final = {"street_address": 200, "post_office": 100}
BATCH_ROWS = 5_000

# Every given key's matches, per row; anonymised customers are no longer matched.
MATCHES: Final = text(
    """
    SELECT k.line,
           ARRAY(SELECT c.id FROM customer c WHERE c.anonymised_at IS NULL
                 AND c.personal_identity_code = k.person) AS by_person,
           ARRAY(SELECT c.id FROM customer c WHERE c.anonymised_at IS NULL
                 AND c.business_id = k.organisation) AS by_organisation,
           ARRAY(SELECT c.id FROM customer c WHERE c.anonymised_at IS NULL
                 AND c.customer_number = k.number) AS by_number
    FROM unnest(CAST(:lines AS integer[]), CAST(:people AS text[]),
                CAST(:organisations AS text[]), CAST(:numbers AS bigint[]))
         AS k(line, person, organisation, number)
    """
)
CURRENT: Final = text(
    "SELECT id, street_address, postal_code, post_office, processing_restricted_at IS NOT NULL"
    " AS restricted FROM customer WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE"
)


@dataclass(slots=True)
class _Row:
    line: int
    person: str | None  # a personal identity code
    organisation: str | None  # a business ID
    number: int | None
    address: dict[str, str]
    key_field: str  # the column reported when the row matches nobody or several


class AddressImporter:
    file_format = "csv"

    def __init__(self, options: ImportOptions) -> None:
        self._counts = {"customersUpdated": 0, "customersUnchanged": 0}

    async def start(self, run: ImportRun) -> None:
        return None

    async def close(self) -> None:
        return None

    async def finish(self, run: ImportRun) -> None:
        return None

    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    # -- parsing (worker thread) ------------------------------------------------------

    def batches(self, lines: FileLines) -> Generator[Batch, None, None]:
        return csv_batches(
            iter(lines), required=ADDRESS, optional=KEYS, check=_check, size=BATCH_ROWS
        )

    # -- writing (the import's transaction) ---------------------------------------------

    async def apply(self, run: ImportRun, batch: Batch) -> list[Reject]:
        rows: list[_Row] = batch.payload
        if not rows:
            return []
        refused: list[Reject] = []
        matched: list[tuple[_Row, uuid.UUID]] = []
        for row, found in zip(rows, await self._matches(run, rows), strict=True):
            if isinstance(found, Reject):
                refused.append(found)
            else:
                matched.append((row, found))
        current = {
            r["id"]: dict(r)
            for r in (
                await run.session.execute(CURRENT, {"ids": sorted({c for _, c in matched})})
            ).mappings()
        }
        changes: list[dict[str, Any]] = []
        for row, customer_id in matched:
            now = current[customer_id]
            if now["restricted"]:
                refused.append(
                    Reject(row.line, row.key_field, "processing of the customer is restricted")
                )
                continue
            change = self._change(run, customer_id, now, row.address)
            if change is not None:
                changes.append(change)
        await self._write(run, current, changes)
        return refused

    async def _matches(self, run: ImportRun, rows: list[_Row]) -> list[uuid.UUID | Reject]:
        found = (
            await run.session.execute(
                MATCHES,
                {
                    "lines": [r.line for r in rows],
                    "people": [r.person for r in rows],
                    "organisations": [r.organisation for r in rows],
                    "numbers": [r.number for r in rows],
                },
            )
        ).all()
        by_line = {
            line: (person + organisation, number) for line, person, organisation, number in found
        }
        return [_match(row, *by_line[row.line]) for row in rows]

    def _change(
        self,
        run: ImportRun,
        customer_id: uuid.UUID,
        now: dict[str, Any],
        address: dict[str, str],
    ) -> dict[str, Any] | None:
        """The history row of the change (None: the address is already this one); `now`
        becomes the new address, so that a later row for the same customer sees it."""
        row = change_row(
            customer_id=customer_id,
            object_type=ChangedType.CUSTOMER,
            object_id=customer_id,
            action=ChangeAction.UPDATE,
            old_values={FIELD_NAMES[k]: now[k] for k in ADDRESS},
            new_values={FIELD_NAMES[k]: address[k] for k in ADDRESS},
            actor=run.actor,
            reason=run.reason,
            log_request_id=run.request_id,
        )
        if row is None:
            self._counts["customersUnchanged"] += 1
            return None
        now.update(address)
        now["changed"] = True
        return row

    async def _write(
        self, run: ImportRun, current: dict[uuid.UUID, dict[str, Any]], changes: list[Any]
    ) -> None:
        updated = [now for now in current.values() if now.pop("changed", False)]
        if not updated:
            return
        await run.session.execute(
            update(customer_table)
            .where(customer_table.c.id == bindparam("customer_id"))
            .values({**{k: bindparam(k) for k in ADDRESS}, "updated_at": func.now()}),
            [{"customer_id": now["id"], **{k: now[k] for k in ADDRESS}} for now in updated],
        )
        await run.session.execute(insert(change_table), changes)
        self._counts["customersUpdated"] += len(updated)
        await run.wrote(
            [
                Written(WRITTEN.type_name, now["id"], now["id"], None, WRITTEN.fields, "update")
                for now in updated
            ]
        )


def _check(line: int, raw: dict[str, str]) -> _Row | Reject:
    """The row's keys and address, or why it is refused."""
    code, number = raw.get("identity_code", ""), raw.get("customer_number", "")
    if not code and not number:
        return Reject(line, "identity_code", "an identity code or a customer number is required")
    person = organisation = None
    if code:
        person, organisation = _identity(code)
        if person is None and organisation is None:
            return Reject(line, "identity_code", "not a personal identity code or a business ID")
    if number and not (number.isascii() and number.isdigit() and len(number) <= 15):
        return Reject(line, "customer_number", "not a customer number")
    address: dict[str, str] = {}
    for name in ADDRESS:
        value = raw[name]
        if name == "postal_code":
            try:
                value = validate_postal_code(value)
            except IdentifierError as exc:
                return Reject(line, name, exc.reason)
        problem = text_field_problem(value, LIMITS.get(name, 5))
        if problem:
            return Reject(line, name, problem)
        address[name] = value
    key_field = "identity_code" if code else "customer_number"
    return _Row(line, person, organisation, int(number) if number else None, address, key_field)


def _identity(code: str) -> tuple[str | None, str | None]:
    """(personal identity code, business ID): the one `code` is, canonical."""
    try:
        return validate_hetu(code, allow_temporary=True), None
    except IdentifierError:
        pass
    try:
        return None, validate_business_id(code)
    except IdentifierError:
        return None, None


def _match(row: _Row, by_code: list[uuid.UUID], by_number: list[uuid.UUID]) -> uuid.UUID | Reject:
    """The one customer every given key names, or why there is none."""
    given: list[list[uuid.UUID]] = []
    if row.person or row.organisation:
        given.append(by_code)
    if row.number is not None:
        given.append(by_number)
    named = {customer for ids in given for customer in ids}
    if len(named) > 1:
        return Reject(row.line, row.key_field, "matches several customers: nothing changed")
    if not named:
        return Reject(row.line, row.key_field, "matches no customer")
    if not all(given):
        reason = "the identity code and the customer number do not name the same customer"
        return Reject(row.line, row.key_field, reason)
    return named.pop()


SPEC: Final = KindSpec(ImportKind.ADDRESSES, WRITTEN.coordinates, AddressImporter)
