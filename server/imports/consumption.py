"""Metering data: the CSV that Datahub's customer portal exports, or our own JSON lines
(docs/imports.md). One value per metering point (GSRN), resolution and step; values are
stored one row per site, resolution and UTC day (server/sites/models.py).

The parser keeps one open day per series (metering point and resolution) and requires the
steps of a series to rise through the file, as Datahub writes them: a step repeated or out
of order is refused, so a file cannot hold two values for one step. Each batch of day
rows is copied into a staging table and merged: new values are added, values that differ
from the stored ones replace them and are counted as revised (the row's `revisions` too),
gaps leave stored values alone.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.coordinates import logged
from server.imports.models import ImportKind
from server.imports.reading import FileLines, FileRefused
from server.imports.service import Batch, ImportOptions, ImportRun, KindSpec, Reject, Written
from server.sites.consumption import GAP_LETTER, STEP_MINUTES, STEPS_PER_DAY
from server.sites.types import Site
from server.validators import IdentifierError, validate_gsrn

DATAHUB_HEADER: Final = (
    "Mittauspisteen tunnus;Tuotteen tyyppi;Resoluutio;Yksikkötyyppi;Lukeman tyyppi;"
    "Alkuaika;Määrä;Laatu"
)
DATAHUB_COLUMNS: Final = tuple(DATAHUB_HEADER.split(";"))
ACTIVE_ENERGY: Final = "8716867000030"  # Datahub's product type of active energy
UNIT: Final = "kWh"
# Datahub's quality codes; MISSING is a gap, not a zero.
DATAHUB_QUALITY: Final = {"OK": "m", "ESTIMATED": "e", "REVISED": "r", "MISSING": GAP_LETTER}
JSON_QUALITY: Final = {"measured": "m", "estimated": "e", "revised": "r", "missing": GAP_LETTER}
JSON_KEYS: Final = ("meteringPoint", "resolution", "start", "kWh", "quality")
FORMATS: Final = ("datahub", "json")

WRITTEN: Final = logged(Site, "consumption")  # a site's series, as the access log names it
BATCH_DAY_ROWS = 8_000  # day rows per batch at most (2.7 MB of COPY text at most)
BATCH_ROWS = 50_000  # file rows per batch at most, valid or not (bounds the rejects held)

_SLOTS: Final = {
    resolution: {
        f"{minutes // 60:02d}:{minutes % 60:02d}": index
        for index, minutes in enumerate(range(0, 24 * 60, step))
    }
    for resolution, step in STEP_MINUTES.items()
}
_FAST_QUALITY: Final = {**DATAHUB_QUALITY, **{f"{k}\r": v for k, v in DATAHUB_QUALITY.items()}}
_CANONICAL_START = re.compile(r"\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\dZ")
# kWh with at most three decimals (Wh), a comma or a point; zeros may follow (2,126000).
_QUANTITY = re.compile(r"\d{1,9}(?:[.,]\d{1,3}0*)?")


@dataclass(frozen=True, slots=True)
class _Fields:
    """How a format names its fields in rejects."""

    point: str
    resolution: str
    start: str
    quantity: str
    quality: str


_CSV_FIELDS = _Fields(*(DATAHUB_COLUMNS[i] for i in (0, 2, 5, 6, 7)))
_JSON_FIELDS = _Fields(*JSON_KEYS)


class _Series:
    """One metering point at one resolution: its open day and where the file is in it."""

    __slots__ = (
        "added",
        "customer_id",
        "day",
        "first",
        "last",
        "last_line",
        "letters",
        "number",
        "per_hour",
        "refusal",
        "resolution",
        "revised",
        "site_id",
        "slots",
        "steps",
        "values",
        "values_in_day",
    )

    def __init__(self, number: int, resolution: str) -> None:
        self.number = number
        self.resolution = resolution
        self.site_id: uuid.UUID | None = None
        self.customer_id: uuid.UUID | None = None
        self.refusal: tuple[str, str] | None = None  # (field, reason) for every row
        self.steps = STEPS_PER_DAY.get(resolution, 0)
        self.per_hour = 60 // STEP_MINUTES.get(resolution, 60)
        self.slots = _SLOTS.get(resolution, {})  # "HH:MM" of each step -> its index
        self.day = ""
        self.values: list[str] = []
        self.letters: list[str] = []
        self.values_in_day = 0
        self.first = ""
        self.last = ""
        self.last_line = 0
        self.added = 0
        self.revised = 0


class _Sites:
    """GSRN -> site, asked from the parser's thread over a connection of its own."""

    def __init__(self, session: AsyncSession, loop: asyncio.AbstractEventLoop) -> None:
        self._session = session
        self._loop = loop

    def find(self, gsrn: str) -> tuple[uuid.UUID, uuid.UUID, bool] | None:
        """(site, customer, the customer is anonymised), or None for an unknown point."""
        return asyncio.run_coroutine_threadsafe(self._query(gsrn), self._loop).result()

    async def _query(self, gsrn: str) -> tuple[uuid.UUID, uuid.UUID, bool] | None:
        row = (
            await self._session.execute(
                text(
                    "SELECT s.id, s.customer_id, c.anonymised_at IS NOT NULL FROM site s"
                    " JOIN customer c ON c.id = s.customer_id WHERE s.metering_point_id = :g"
                ),
                {"g": gsrn},
            )
        ).first()
        return None if row is None else (row[0], row[1], bool(row[2]))


class ConsumptionImporter:
    """Parses Datahub CSV or JSON lines into day rows and merges them batch by batch."""

    def __init__(self, options: ImportOptions) -> None:
        self.file_format = options.file_format or ""
        self._sites: _Sites | None = None
        self._lookup_session: AsyncSession | None = None
        self._series: dict[tuple[str, str], _Series] = {}
        self._by_number: list[_Series] = []
        self._rows: list[str] = []
        self._rejects: list[Reject] = []
        self._gaps = 0
        self._values = 0
        self._unchanged = 0
        self._valid_days: set[str] = set()
        self._fields = _CSV_FIELDS
        self._take_row: Any = None  # the format's row method, once the first line is read
        self._fast: dict[tuple[str, str], _Series] | None = None  # known Datahub series
        self._quantities: dict[str, str] = {}  # quantities checked: as the file has them -> kWh

    # -- the import's life ------------------------------------------------------------

    async def start(self, run: ImportRun) -> None:
        self._lookup_session = run.sessionmaker()
        self._sites = _Sites(self._lookup_session, asyncio.get_running_loop())
        await run.conn.execute(STAGE_TABLE)

    async def close(self) -> None:
        if self._lookup_session is not None:
            await self._lookup_session.close()

    def counts(self) -> dict[str, int]:
        added = sum(s.added for s in self._by_number)
        revised = sum(s.revised for s in self._by_number)
        return {
            "values": self._values,
            "valuesAdded": added,
            "valuesRevised": revised,
            "valuesUnchanged": self._values - added - revised,
            "gaps": self._gaps,
            "meteringPoints": len({s.site_id for s in self._by_number if s.site_id}),
        }

    # -- parsing (worker thread) ------------------------------------------------------

    def batches(self, lines: FileLines) -> Generator[Batch, None, None]:
        rows = 0
        for first, block in lines.blocks():
            if self.file_format != "json" and self._fast is not None:
                rows += self._datahub_block(first, block)
            else:
                rows += self._block(first, block)
            if len(self._rows) >= BATCH_DAY_ROWS or rows >= BATCH_ROWS:
                yield self._batch(rows)
                rows = 0
        if self._take_row is None:
            raise FileRefused(1, "file", "the file is empty")
        for series in self._by_number:
            self._close_day(series)
        if rows or self._rows:
            yield self._batch(rows)

    def _block(self, first: int, block: list[str]) -> int:
        """Rows of a block through the full checks; the first line chooses the format."""
        rows = 0
        for offset, raw in enumerate(block):
            number, line = first + offset, raw.removesuffix("\r")
            if not line.strip():
                continue
            if self._take_row is None:
                self._take_row = self._choose_format(number, line)
                if self.file_format == "datahub":  # the header: the rest of the block
                    self._fast = {}
                    return self._datahub_block(number + 1, block[offset + 1 :])
            rows += 1
            self._take_row(number, line)
        return rows

    def _datahub_block(self, number: int, block: list[str]) -> int:
        """Datahub rows go straight into their series' open day when every field is one
        the full checks have already accepted: the series is open (a known metering point
        at a known resolution), the day is its open day, the time is one of the
        resolution's steps, the quantity was seen before. Any other row takes the full
        checks (`_csv_row`), which also open series and days."""
        fast, full, quantities = self._fast, self._csv_row, self._quantities
        assert fast is not None
        rows = 0
        for line in block:
            parts = line.split(";")
            if len(parts) != 8:
                if line.strip():
                    rows += 1
                    full(number, line.removesuffix("\r"))
                number += 1
                continue
            rows += 1
            point, product, resolution, unit, _, start, quantity, quality = parts
            series = fast.get((point, resolution))
            letter = _FAST_QUALITY.get(quality)
            index = value = None
            if not (
                series is None
                or letter is None
                or product != ACTIVE_ENERGY
                or unit != UNIT
                or start[:10] != series.day
                or start[10] != "T"
                or start[16:] != ":00Z"
                or start <= series.last
            ):
                index = series.slots.get(start[11:16])
                value = "" if letter == GAP_LETTER else quantities.get(quantity)
            if series is None or letter is None or index is None or value is None:
                full(number, line.removesuffix("\r"))
            else:
                series.last, series.last_line = start, number
                if letter == GAP_LETTER:
                    self._gaps += 1
                else:
                    series.values[index] = value
                    series.letters[index] = letter
                    series.values_in_day += 1
                    if not series.first:
                        series.first = start
            number += 1
        return rows

    def _batch(self, rows: int) -> Batch:
        batch = Batch(rows, self._rejects, self._rows)
        self._rows, self._rejects = [], []
        return batch

    def _choose_format(self, number: int, line: str) -> Any:
        found = "json" if line.lstrip().startswith("{") else "datahub"
        if self.file_format and self.file_format != found:
            raise FileRefused(number, "file", f"not in the {self.file_format} format")
        self.file_format = found
        if found == "json":
            self._fields = _JSON_FIELDS
            return self._json_row
        if line.strip() != DATAHUB_HEADER:
            raise FileRefused(
                number, "header", f"expected Datahub's header: {DATAHUB_HEADER}, or JSON lines"
            )
        return self._csv_row

    def _refuse(self, line: int, field: str, reason: str) -> None:
        self._rejects.append(Reject(line, field, reason))

    def _csv_row(self, number: int, line: str) -> None:
        parts = line.split(";")
        if len(parts) != len(DATAHUB_COLUMNS):
            self._refuse(number, "line", f"expected {len(DATAHUB_COLUMNS)} fields separated by ;")
            return
        point, product, resolution, unit, _reading, start, quantity, quality = parts
        if product != ACTIVE_ENERGY:
            self._refuse(number, DATAHUB_COLUMNS[1], f"only {ACTIVE_ENERGY} (active energy)")
            return
        if unit != UNIT:
            self._refuse(number, DATAHUB_COLUMNS[3], "only kWh")
            return
        letter = DATAHUB_QUALITY.get(quality)
        if letter is None:
            self._refuse(number, DATAHUB_COLUMNS[7], "unknown quality code")
            return
        self._take(number, point, resolution, start, quantity, letter)

    def _json_row(self, number: int, line: str) -> None:
        try:
            item = json.loads(line, parse_float=_Number, parse_int=_Number)
        except ValueError:
            self._refuse(number, "line", "not a JSON object")
            return
        problem = _json_problem(item)
        if problem is not None:
            self._refuse(number, *problem)
            return
        letter = JSON_QUALITY[item["quality"]]
        quantity = item.get("kWh")
        if letter != GAP_LETTER and quantity is None:
            self._refuse(number, "kWh", "a number is required unless the quality is missing")
            return
        self._take(
            number, item["meteringPoint"], item["resolution"], item["start"], quantity or "", letter
        )

    def _take(
        self, number: int, point: str, resolution: str, start: str, quantity: str, letter: str
    ) -> None:
        """One value of a series, checked and placed in its series' open day."""
        fields = self._fields
        series = self._series.get((point, resolution)) or self._open(point, resolution)
        if series.refusal is not None:
            self._refuse(number, *series.refusal)
            return
        if not _CANONICAL_START.fullmatch(start):
            start = _canonical_start(start) or ""
            if not start:
                self._refuse(number, fields.start, "not a UTC time (ISO 8601 with Z or +00:00)")
                return
        minute = int(start[14:16])
        if minute % STEP_MINUTES[resolution] or start[17:19] != "00":
            self._refuse(number, fields.start, f"not the start of a {resolution} step")
            return
        if start <= series.last:
            self._refuse(
                number,
                fields.start,
                "not after the previous value of this metering point and resolution "
                f"(line {series.last_line})",
            )
            return
        day = start[:10]
        if day != series.day and not self._open_day(series, day):
            self._refuse(number, fields.start, "not a date")
            return
        series.last, series.last_line = start, number
        if letter == GAP_LETTER:
            self._gaps += 1
            return
        value = self._quantity(quantity)
        if value is None:
            self._refuse(number, fields.quantity, _quantity_problem(quantity))
            return
        index = int(start[11:13]) * series.per_hour + minute // 15  # 0 for hours
        series.values[index] = value
        series.letters[index] = letter
        series.values_in_day += 1
        if not series.first:
            series.first = start

    def _quantity(self, quantity: str) -> str | None:
        """The quantity as kWh text, or None when it is not one; remembered (a file holds
        a few thousand distinct values)."""
        value = self._quantities.get(quantity)
        if value is None and _QUANTITY.fullmatch(quantity):
            if len(self._quantities) >= 100_000:
                self._quantities.clear()
            value = quantity.replace(",", ".")
            if "." in value:  # "2,126000" -> "2.126": shorter for COPY to parse
                value = value.rstrip("0").rstrip(".")
            self._quantities[quantity] = value
        return value

    def _open(self, point: str, resolution: str) -> _Series:
        series = _Series(len(self._by_number), resolution)
        self._series[(point, resolution)] = series
        self._by_number.append(series)
        fields = self._fields
        if resolution not in STEPS_PER_DAY:
            series.refusal = (fields.resolution, "only PT15M or PT1H")
            return series
        try:
            gsrn = validate_gsrn(point)
        except IdentifierError as exc:
            series.refusal = (fields.point, f"not a GSRN: {exc.reason}")
            return series
        assert self._sites is not None
        found = self._sites.find(gsrn)
        if found is None:
            series.refusal = (fields.point, "unknown metering point")
        elif found[2]:
            series.refusal = (fields.point, "the metering point's customer is anonymised")
        else:
            series.site_id, series.customer_id = found[0], found[1]
            if self._fast is not None and gsrn == point:
                self._fast[(point, resolution)] = series
        return series

    def _open_day(self, series: _Series, day: str) -> bool:
        """Close the series' open day (to the batch) and open `day`; False when `day` is
        not a real date."""
        if day not in self._valid_days:
            try:
                date.fromisoformat(day)
            except ValueError:
                return False
            if len(self._valid_days) > 100_000:
                self._valid_days.clear()
            self._valid_days.add(day)
        self._close_day(series)
        series.day = day
        series.values = ["NULL"] * series.steps
        series.letters = [GAP_LETTER] * series.steps
        series.values_in_day = 0
        return True

    def _close_day(self, series: _Series) -> None:
        self._values += series.values_in_day
        if series.values_in_day:
            self._rows.append(
                f"{series.number}\t{series.site_id}\t{series.resolution}\t{series.day}\t"
                f"{{{','.join(series.values)}}}\t{''.join(series.letters)}\t"
                f"{series.values_in_day}\n"
            )
        series.values_in_day = 0

    # -- writing (the import's transaction) ---------------------------------------------

    async def apply(self, run: ImportRun, batch: Batch) -> list[Reject]:
        rows: list[str] = batch.payload
        if not rows:
            return []
        await run.conn.copy_to_table(
            "import_consumption_stage", source=_encoded(rows), columns=STAGE_COLUMNS
        )
        # Planned afresh for every batch: a plan cached from the first batch, made while
        # the table was small, would scan the whole table for every later one.
        merge = await run.conn.prepare(MERGE)
        for number, added, revised in await merge.fetch():
            series = self._by_number[number]
            series.added += added
            series.revised += revised
        await run.conn.execute("TRUNCATE import_consumption_stage")
        return []

    async def finish(self, run: ImportRun) -> None:
        await run.wrote(
            [
                Written(
                    object_type=WRITTEN.type_name,
                    object_id=series.site_id,
                    customer_id=series.customer_id,
                    prospect_id=None,
                    fields=WRITTEN.fields,
                    action="update",
                    resolution=series.resolution,
                    first_step=_moment(series.first),
                    last_step=_moment(series.last),
                    values_added=series.added,
                    values_revised=series.revised,
                )
                for series in self._by_number
                if series.site_id is not None and (series.added or series.revised)
            ]
        )


class _Number(str):
    """A JSON number as its text (no float rounding)."""


def _json_problem(item: Any) -> tuple[str, str] | None:
    """(field, reason) of a JSON line that does not fit the format, else None."""
    if not isinstance(item, dict):
        return ("line", "not a JSON object")
    unknown = sorted(set(item) - set(JSON_KEYS))
    if unknown:
        return (unknown[0][:50], "unknown field")
    for key in ("meteringPoint", "resolution", "start", "quality"):
        value = item.get(key)
        if not isinstance(value, str) or isinstance(value, _Number):
            return (key, "a string is required")
    if item["quality"] not in JSON_QUALITY:
        return ("quality", "unknown quality (measured, estimated, revised or missing)")
    quantity = item.get("kWh")
    if quantity is not None and not isinstance(quantity, _Number):
        return ("kWh", "a number is required")
    return None


def _canonical_start(value: str) -> str | None:
    """A UTC time as YYYY-MM-DDTHH:MM:SSZ, or None when it is not one."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None or moment.utcoffset() != timedelta(0) or moment.microsecond:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _quantity_problem(value: str) -> str:
    if not value:
        return "a value is required unless the quality is MISSING"
    if value.startswith("-"):
        return "negative"
    if re.fullmatch(r"\d+[.,]\d+", value):
        return "more precise than 0.001 kWh (Wh) or too large"
    return "not a number of kWh (decimal comma or point)"


def _moment(start: str) -> datetime | None:
    return datetime.fromisoformat(start).astimezone(UTC) if start else None


async def _encoded(rows: list[str]) -> AsyncIterator[bytes]:
    yield "".join(rows).encode()  # one write: each one waits for the parser thread's turn


STAGE_COLUMNS: Final = [
    "series",
    "site_id",
    "resolution",
    "day",
    "energy_kwh",
    "quality",
    "value_count",
]
STAGE_TABLE: Final = """
CREATE TEMP TABLE import_consumption_stage (
    series integer NOT NULL,
    site_id uuid NOT NULL,
    resolution text NOT NULL,
    day date NOT NULL,
    energy_kwh numeric(12, 3)[] NOT NULL,
    quality text NOT NULL,
    value_count integer NOT NULL
) ON COMMIT DROP
"""

# Steps with a new value (u.n) where the stored row (u.o, quality {old_q}) has a value that
# differs in amount or quality.
_REVISED = """(SELECT count(*) FROM unnest({new}, {old}) WITH ORDINALITY AS u(n, o, i)
    WHERE u.n IS NOT NULL AND u.o IS NOT NULL AND (u.n <> u.o
      OR substr({new_q}, CAST(u.i AS integer), 1) <> substr({old_q}, CAST(u.i AS integer), 1)))"""
_ADDED = """(SELECT count(*) FROM unnest({new}, {old}) AS u(n, o)
    WHERE u.n IS NOT NULL AND u.o IS NULL)"""
_STAGED = {"new": "s.energy_kwh", "old": "c.energy_kwh", "new_q": "s.quality", "old_q": "c.quality"}
_CONFLICT = {
    "new": "EXCLUDED.energy_kwh",
    "old": "c.energy_kwh",
    "new_q": "EXCLUDED.quality",
    "old_q": "c.quality",
}

# One statement per batch: what each staged day adds and revises (before the write, as the
# statement's snapshot sees it), and the write itself. Gaps (NULL) keep the stored value.
MERGE: Final = f"""
WITH stats AS (
    SELECT s.series,
           CASE WHEN c.site_id IS NULL THEN s.value_count
                ELSE {_ADDED.format(**_STAGED)} END AS added,
           CASE WHEN c.site_id IS NULL THEN 0 ELSE {_REVISED.format(**_STAGED)} END AS revised
    FROM import_consumption_stage s
    LEFT JOIN consumption c
      ON c.site_id = s.site_id AND c.resolution = s.resolution AND c.day = s.day
), written AS (
    INSERT INTO consumption AS c (site_id, resolution, day, energy_kwh, quality)
    SELECT site_id, resolution, day, energy_kwh, quality FROM import_consumption_stage
    ON CONFLICT (site_id, resolution, day) DO UPDATE SET
        energy_kwh = ARRAY(
            SELECT coalesce(u.n, u.o)
            FROM unnest(EXCLUDED.energy_kwh, c.energy_kwh) WITH ORDINALITY AS u(n, o, i)
            ORDER BY u.i),
        quality = (
            SELECT string_agg(substr(CASE WHEN u.n IS NULL THEN c.quality
                                          ELSE EXCLUDED.quality END, CAST(u.i AS integer), 1),
                              '' ORDER BY u.i)
            FROM unnest(EXCLUDED.energy_kwh) WITH ORDINALITY AS u(n, i)),
        revisions = c.revisions + {_REVISED.format(**_CONFLICT)}
    WHERE {_ADDED.format(**_CONFLICT)} + {_REVISED.format(**_CONFLICT)} > 0
)
SELECT series, CAST(sum(added) AS integer), CAST(sum(revised) AS integer)
FROM stats GROUP BY series
"""

SPEC: Final = KindSpec(ImportKind.CONSUMPTION, WRITTEN.coordinates, ConsumptionImporter)
