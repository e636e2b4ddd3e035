"""Deterministic generation of the register's seed rows; no database access.

`generate` turns ``(customers, seed, today)`` into the rows of every table, in the
order the foreign keys need. The same arguments always give the same rows: every
random choice comes from one ``random.Random(seed)`` (drawn in a fixed order), ids
are ``uuid.UUID(int=rng.getrandbits(128), version=4)`` and every date is derived
from ``today`` (no clock is read).

Identifiers are computed here (check digits per
the Finnish domain fact sheet) and every one is passed through
`server.validators` before it is used, so an invalid identifier fails generation
rather than the COPY. Invoice references come from `server.validators.make_reference`.

Prices, spot averages and consumption profiles are synthetic: plausible orders of
magnitude for Finland, not market data.
"""

from __future__ import annotations

import calendar
import functools
import gc
import math
import random
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, TypeVar
from zoneinfo import ZoneInfo

from server.billing.models import BillingMethod, CollectionStage, DepositStatus, InvoiceStatus
from server.cli_progress import NO_PROGRESS, Progress, counted
from server.contracts.models import ContractStatus, OfferStatus, ProductKind, SalesChannel
from server.customers.models import CustomerKind, Language
from server.organisations.models import OrganisationKind
from server.prospects.models import ProspectSource
from server.seed import names
from server.seed.names import POSTAL_AREAS, PostalArea
from server.sites.models import HeatingType, HousingType, Ownership, Quality, Resolution
from server.sites.service import QUALITY_LETTERS, contiguous_days
from server.validators import (
    make_reference,
    validate_business_id,
    validate_email,
    validate_gsrn,
    validate_hetu,
    validate_main_fuse,
    validate_phone,
    validate_reference,
)

__all__ = [
    "COMPANY_BUSINESS_ID",
    "ELECTRIC_HEATING",
    "GSRN_PREFIX",
    "SeedData",
    "SeedSummary",
    "TableRows",
    "business_id_check_digit",
    "generate",
    "gsrn_check_digit",
    "hetu_check_character",
    "vat_rate_on",
]

HELSINKI: Final = ZoneInfo("Europe/Helsinki")
COMPANY_BUSINESS_ID: Final = "0206323-2"
GSRN_PREFIX: Final = "643007127"  # GS1 company prefix used for the accounting points
CENT: Final = Decimal("0.01")
ZERO: Final = Decimal("0.00")

ELECTRIC_HEATING: Final[frozenset[str]] = frozenset(
    {
        HeatingType.DIRECT_ELECTRIC,
        HeatingType.STORAGE_ELECTRIC,
        HeatingType.GROUND_SOURCE_HEAT_PUMP,
        HeatingType.AIR_TO_WATER_HEAT_PUMP,
        HeatingType.AIR_TO_AIR_HEAT_PUMP,
    }
)
"""Heating types whose site's heating depends on electricity (Datahub's heating flag)."""

Row = tuple[object, ...]
T = TypeVar("T")

# ==========================================================================
# Check digits (validated again with server.validators before use)
# ==========================================================================

_HETU_CHECK_CHARS: Final = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_BUSINESS_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2)


def hetu_check_character(birth: date, individual: int) -> str:
    """Check character of a henkilötunnus: ``int(DDMMYYZZZ) mod 31`` in the 31-char table."""
    return _HETU_CHECK_CHARS[int(f"{birth:%d%m%y}{individual:03d}") % 31]


def business_id_check_digit(body: str) -> int | None:
    """Check digit of a 7-digit Y-tunnus body; ``None`` if no ID can have this body."""
    remainder = sum(int(d) * w for d, w in zip(body, _BUSINESS_ID_WEIGHTS, strict=True)) % 11
    if remainder == 1:
        return None
    return 0 if remainder == 0 else 11 - remainder


def gsrn_check_digit(body: str) -> int:
    """GS1 mod-10 over the 17 body digits: weights 3, 1, 3, ... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def business_id(body: str) -> str:
    check = business_id_check_digit(body)
    if check is None:
        raise ValueError("no business ID exists for this body")
    return validate_business_id(f"{body}-{check}")


# ==========================================================================
# Results
# ==========================================================================


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """How many rows the seed wrote into each table."""

    organisations: int = 0
    products: int = 0
    prices: int = 0
    customers: int = 0
    prospects: int = 0
    sites: int = 0
    offers: int = 0
    contracts: int = 0
    consumption: int = 0
    invoices: int = 0
    invoice_lines: int = 0
    payments: int = 0
    security_deposits: int = 0
    collection_cases: int = 0
    collection_case_invoices: int = 0
    assignments: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def total(self) -> int:
        return sum(self.as_dict().values())

    def as_table(self) -> str:
        counts = self.as_dict()
        width = max(len(name) for name in counts)
        lines = [f"{'table':<{width}}  {'rows':>10}", f"{'-' * width}  {'-' * 10}"]
        lines += [f"{name:<{width}}  {count:>10,}" for name, count in counts.items()]
        lines += [f"{'-' * width}  {'-' * 10}", f"{'total':<{width}}  {self.total:>10,}"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.as_table()


@dataclass(frozen=True, slots=True)
class TableRows:
    """The rows of one table, with the columns they fill (COPY column list)."""

    summary_field: str
    table: str
    columns: tuple[str, ...]
    rows: Iterable[Row]  # a list, or a re-iterable lazy sequence (consumption)
    count: int


@dataclass(frozen=True, slots=True)
class SeedData:
    tables: tuple[TableRows, ...]  # in foreign-key order
    max_numbers: dict[tuple[str, str], int]  # (table, column) -> highest explicit number

    @property
    def summary(self) -> SeedSummary:
        return SeedSummary(**{t.summary_field: t.count for t in self.tables})

    def table(self, name: str) -> TableRows:
        for rows in self.tables:
            if rows.table == name:
                return rows
        raise KeyError(name)


# ==========================================================================
# Calendar, VAT and prices
# ==========================================================================

_VAT_PERIODS: Final[tuple[tuple[date, Decimal], ...]] = (
    (date(2010, 7, 1), Decimal("23.00")),
    (date(2013, 1, 1), Decimal("24.00")),
    (date(2022, 12, 1), Decimal("10.00")),  # temporary cut for electricity, 12/2022-4/2023
    (date(2023, 5, 1), Decimal("24.00")),
    (date(2024, 9, 1), Decimal("25.50")),
)


@functools.lru_cache(maxsize=4096)
def vat_rate_on(day: date) -> Decimal:
    """The VAT rate (%) of electricity delivered on ``day``."""
    rate = _VAT_PERIODS[0][1]
    for start, value in _VAT_PERIODS:
        if day >= start:
            rate = value
    return rate


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def fi_date(day: date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


# Fixed energy price (c/kWh, VAT 0) offered in each half-year; synthetic but
# shaped like the Finnish market (the 2022 crisis, the fall after it).
_FIXED_PRICE_BY_HALF: Final[dict[tuple[int, int], str]] = {
    (2019, 1): "4.59", (2019, 2): "4.79", (2020, 1): "4.39", (2020, 2): "4.19",
    (2021, 1): "4.69", (2021, 2): "5.99", (2022, 1): "9.79", (2022, 2): "19.90",
    (2023, 1): "15.49", (2023, 2): "10.90", (2024, 1): "8.89", (2024, 2): "7.89",
    (2025, 1): "7.19", (2025, 2): "6.89", (2026, 1): "6.69", (2026, 2): "6.79",
}  # fmt: skip


def fixed_base_price(day: date) -> Decimal:
    half = 1 if day.month <= 6 else 2
    if (day.year, half) in _FIXED_PRICE_BY_HALF:
        return Decimal(_FIXED_PRICE_BY_HALF[(day.year, half)])
    if day.year < 2019:
        return Decimal("4.49")
    return Decimal("6.79")


@functools.lru_cache(maxsize=1024)
def spot_average(year: int, month: int) -> Decimal:
    """Synthetic monthly average spot price, c/kWh VAT 0 (winter high, summer low)."""
    base = 4.2 + 2.8 * math.cos(2 * math.pi * (month - 1) / 12)
    factor = {2021: 1.5, 2022: 3.2, 2023: 1.4}.get(year, 1.0)
    return Decimal(f"{base * factor:.2f}")


@dataclass(frozen=True, slots=True)
class _Price:
    id: uuid.UUID
    energy: Decimal | None
    margin: Decimal | None
    fee: Decimal
    vat: Decimal
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True, slots=True)
class _ProductSpec:
    code: str
    name: str
    kind: str
    term: int | None
    description: str
    fixed_premium: Decimal | None  # added to the fixed base price; None: no fixed part
    margin: Decimal | None
    fee_before_2022: Decimal
    fee: Decimal


PRODUCT_SPECS: Final[tuple[_ProductSpec, ...]] = (
    _ProductSpec(
        "porssi", "Pörssisähkö", ProductKind.SPOT, None,
        "Tuntihinta (1.10.2025 alkaen vartti) Nord Poolin Suomen hinta-alueelta "
        "+ marginaali; toistaiseksi voimassa, irtisanomisaika 14 vrk.",
        None, Decimal("0.49"), Decimal("2.49"), Decimal("3.49"),
    ),
    _ProductSpec(
        "porssi-uusiutuva", "Pörssisähkö Uusiutuva", ProductKind.SPOT, None,
        "Pörssisähkö alkuperätakuilla uusiutuvista lähteistä; toistaiseksi voimassa.",
        None, Decimal("0.69"), Decimal("2.99"), Decimal("4.49"),
    ),
    _ProductSpec(
        "kiintea-12", "Kiinteä 12 kk", ProductKind.FIXED, 12,
        "Kiinteä energian hinta 12 kuukauden määräaikaisella sopimuksella.",
        Decimal("0.00"), None, Decimal("2.49"), Decimal("3.99"),
    ),
    _ProductSpec(
        "kiintea-24", "Kiinteä 24 kk", ProductKind.FIXED, 24,
        "Kiinteä energian hinta 24 kuukauden määräaikaisella sopimuksella.",
        Decimal("0.30"), None, Decimal("2.49"), Decimal("3.99"),
    ),
    _ProductSpec(
        "kiintea-toistaiseksi", "Kiinteä toistaiseksi", ProductKind.FIXED, None,
        "Kiinteä energian hinta toistaiseksi voimassa olevalla sopimuksella; "
        "hinta voi muuttua ilmoituksella.",
        Decimal("0.60"), None, Decimal("2.99"), Decimal("4.49"),
    ),
    _ProductSpec(
        "hybridi", "Hybridi 50/50", ProductKind.HYBRID, None,
        "Puolet energiasta kiinteään hintaan, puolet pörssihintaan + marginaali.",
        Decimal("-0.20"), Decimal("0.38"), Decimal("2.49"), Decimal("4.99"),
    ),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Product:
    id: uuid.UUID
    spec: _ProductSpec
    prices: tuple[_Price, ...]

    def price_on(self, day: date) -> _Price:
        current = self.prices[0]
        for price in self.prices:
            if price.valid_from <= day:
                current = price
        return current


# ==========================================================================
# Working records
# ==========================================================================


@dataclass(slots=True)
class _Contract:
    id: uuid.UUID
    product: _Product
    start: date
    end: date | None
    status: str
    channel: str
    energy: Decimal | None = None
    margin: Decimal | None = None
    fee: Decimal = ZERO
    offer_id: uuid.UUID | None = None
    number: int = 0


@dataclass(slots=True)
class _Site:
    id: uuid.UUID
    gsrn: str
    street: str
    area: PostalArea
    housing: str
    ownership: str
    heating: str
    estimate: int
    fuse: str
    connection_id: str
    power: Decimal
    connected_on: date
    contracts: list[_Contract] = field(default_factory=list)
    amplitude: float = 0.2
    series: _Series | None = None


@dataclass(slots=True)
class _Customer:
    id: uuid.UUID
    kind: str
    first_name: str | None
    last_name: str | None
    organisation_name: str | None
    hetu: str | None
    business_id: str | None
    street: str
    area: PostalArea
    email: str | None
    phone: str | None
    language: str
    billing_method: str
    birth: date | None = None
    billing_day: int = 4
    sites: list[_Site] = field(default_factory=list)
    objections: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    created_at: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    former_since: datetime | None = None
    number: int = 0


@dataclass(slots=True)
class _Line:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: Decimal
    amount: Decimal
    vat: Decimal


@dataclass(slots=True)
class _Invoice:
    id: uuid.UUID
    customer: _Customer
    contract: _Contract
    issue: date
    due: date
    period_start: date
    period_end: date
    lines: list[_Line]
    excl: Decimal
    vat: Decimal
    incl: Decimal
    status: str = InvoiceStatus.OPEN
    paid_on: date | None = None
    number: int = 0
    reference: str = ""


# ==========================================================================
# Consumption series
# ==========================================================================

_QUALITIES: Final = (Quality.MEASURED.value, Quality.ESTIMATED.value, Quality.REVISED.value)
_QUALITY_LETTERS: Final = tuple(QUALITY_LETTERS[q] for q in _QUALITIES)
_DECIMALS: Final[list[Decimal]] = []


def _kwh(milli: int) -> Decimal:
    """Milli-kWh as a Decimal with three decimals (cached for the common range)."""
    if not _DECIMALS:
        _DECIMALS.extend(Decimal(i).scaleb(-3) for i in range(60_000))
    if milli < 60_000:
        return _DECIMALS[milli]
    return Decimal(milli).scaleb(-3)


# Relative load by local hour (mean 1): homes, storage heating (night), business.
_HOME_SHAPE: Final = (
    0.55, 0.50, 0.48, 0.47, 0.48, 0.55, 0.80, 1.10, 1.05, 0.90, 0.85, 0.85,
    0.90, 0.90, 0.90, 1.00, 1.20, 1.45, 1.55, 1.50, 1.40, 1.25, 1.00, 0.75,
)  # fmt: skip
_STORAGE_SHAPE: Final = (
    1.90, 1.90, 1.85, 1.80, 1.75, 1.60, 1.20, 0.70, 0.55, 0.50, 0.50, 0.50,
    0.50, 0.50, 0.50, 0.55, 0.60, 0.70, 0.75, 0.75, 0.70, 0.75, 1.60, 1.90,
)  # fmt: skip
_BUSINESS_SHAPE: Final = (
    0.45, 0.45, 0.45, 0.45, 0.50, 0.60, 0.90, 1.40, 1.60, 1.65, 1.65, 1.60,
    1.55, 1.60, 1.60, 1.50, 1.30, 1.00, 0.75, 0.65, 0.55, 0.50, 0.45, 0.45,
)  # fmt: skip


def _normalised(shape: Sequence[float]) -> tuple[float, ...]:
    mean = sum(shape) / len(shape)
    return tuple(v / mean for v in shape)


@dataclass(frozen=True, slots=True)
class _Timeline:
    """The hours of the consumption window (local midnight to local midnight, in UTC)."""

    starts: tuple[datetime, ...]
    slot: bytes  # local hour of day, +24 on weekends
    season: tuple[float, ...]  # cos of the day of year, 1 in late January
    days: tuple[date, ...]
    day_starts: tuple[int, ...]  # first hour of each local day, and the end
    quarter_from: int  # first hour with PT15M data (the last 30 days)
    quarter_starts: tuple[datetime, ...]


def _season_cos(day: date) -> float:
    return math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365.25)


def _timeline(today: date, days_back: int = 365, quarter_days: int = 30) -> _Timeline:
    first = datetime.combine(today - timedelta(days=days_back), time(0), HELSINKI)
    last = datetime.combine(today, time(0), HELSINKI)
    start_utc, end_utc = first.astimezone(UTC), last.astimezone(UTC)
    hours = int((end_utc - start_utc) / timedelta(hours=1))
    starts = tuple(start_utc + timedelta(hours=i) for i in range(hours))
    local = [ts.astimezone(HELSINKI) for ts in starts]
    days = tuple(today - timedelta(days=days_back - i) for i in range(days_back))
    day_starts = [i for i, t in enumerate(local) if i == 0 or t.date() != local[i - 1].date()]
    quarter_start = datetime.combine(today - timedelta(days=quarter_days), time(0), HELSINKI)
    quarter_from = next(i for i, ts in enumerate(starts) if ts >= quarter_start)
    quarter_starts = tuple(
        ts + timedelta(minutes=15 * q) for ts in starts[quarter_from:] for q in range(4)
    )
    return _Timeline(
        starts=starts,
        slot=bytes(t.hour + (24 if t.weekday() >= 5 else 0) for t in local),
        season=tuple(_season_cos(t.date()) for t in local),
        days=days,
        day_starts=(*day_starts, hours),
        quarter_from=quarter_from,
        quarter_starts=quarter_starts,
    )


@dataclass(slots=True)
class _Series:
    site_id: uuid.UUID
    hourly: array[int]  # milli-kWh per hour
    quality: bytearray  # index into _QUALITIES per hour
    quarters: array[int] | None  # milli-kWh per 15 min over the last 30 days
    daily: dict[date, int]  # milli-kWh per local day (for invoicing)

    @property
    def rows(self) -> int:
        return len(self.hourly) + (len(self.quarters) if self.quarters is not None else 0)


def _make_series(site: _Site, timeline: _Timeline, seed: int, with_quarters: bool) -> _Series:
    rng = random.Random(seed)
    rnd = rng.random
    if site.housing == HousingType.BUSINESS_PREMISES:
        shape, weekday_f, weekend_f = _normalised(_BUSINESS_SHAPE), 1.2, 0.5
    elif site.heating == HeatingType.STORAGE_ELECTRIC:
        shape, weekday_f, weekend_f = _normalised(_STORAGE_SHAPE), 0.97, 1.08
    elif site.housing == HousingType.HOLIDAY_HOME:
        shape, weekday_f, weekend_f = _normalised(_HOME_SHAPE), 0.76, 1.6
    else:
        shape, weekday_f, weekend_f = _normalised(_HOME_SHAPE), 0.97, 1.08
    mean_milli = site.estimate / 8760.0 * 1000.0
    by_slot = [mean_milli * shape[h] * weekday_f for h in range(24)]
    by_slot += [mean_milli * shape[h] * weekend_f for h in range(24)]
    amplitude = site.amplitude
    hours = len(timeline.starts)
    hourly = array(
        "i",
        [
            int(by_slot[slot] * (1.0 + amplitude * cos) * (0.8 + 0.4 * rnd()) + 0.5)
            for slot, cos in zip(timeline.slot, timeline.season, strict=True)
        ],
    )

    quality = bytearray(hours)
    for code, runs, longest in (
        (1, rng.choice((0, 0, 1, 1, 2, 3)), 48),
        (2, rng.choice((0, 1, 1, 2)), 24),
    ):
        for _ in range(runs):
            begin = rng.randrange(hours)
            for i in range(begin, min(hours, begin + rng.randint(1, longest))):
                quality[i] = code

    quarters: array[int] | None = None
    if with_quarters:
        first = timeline.quarter_from
        quarters = array("i", bytes(4 * 4 * (hours - first)))
        for i in range(first, hours):
            total = hourly[i]
            weights = [0.85 + 0.3 * rnd() for _ in range(4)]
            scale = total / sum(weights)
            parts = [int(w * scale) for w in weights[:3]]
            parts.append(total - sum(parts))
            base = 4 * (i - first)
            quarters[base : base + 4] = array("i", parts)

    bounds = timeline.day_starts
    daily = {day: sum(hourly[bounds[i] : bounds[i + 1]]) for i, day in enumerate(timeline.days)}
    return _Series(site.id, hourly, quality, quarters, daily)


class ConsumptionRows:
    """Lazy, re-iterable consumption rows (one per site, resolution and UTC day): millions of
    values never sit in memory at once."""

    def __init__(self, series: Sequence[_Series], timeline: _Timeline) -> None:
        self._series = series
        self._timeline = timeline

    def __len__(self) -> int:
        starts, quarters = self._timeline.starts, self._timeline.quarter_starts
        hourly_days = _utc_days(starts[0], starts[-1]) if starts else 0
        quarter_days = _utc_days(quarters[0], quarters[-1]) if quarters else 0
        return sum(
            hourly_days + (quarter_days if s.quarters is not None else 0) for s in self._series
        )

    def __iter__(self) -> Iterator[Row]:
        timeline = self._timeline
        first = timeline.quarter_from
        hourly_label, quarter_label = Resolution.PT1H.value, Resolution.PT15M.value
        letters = _QUALITY_LETTERS
        for series in self._series:
            site_id, quality = series.site_id, series.quality
            hourly_letters = "".join(letters[q] for q in quality)
            for day, values, day_letters in contiguous_days(
                first=timeline.starts[0],
                resolution=hourly_label,
                values=[_kwh(milli) for milli in series.hourly],
                letters=hourly_letters,
            ):
                yield (site_id, hourly_label, day, values, day_letters)
            if series.quarters is not None:
                quarter_letters = "".join(
                    letters[quality[first + j // 4]] for j in range(len(series.quarters))
                )
                for day, values, day_letters in contiguous_days(
                    first=timeline.quarter_starts[0],
                    resolution=quarter_label,
                    values=[_kwh(milli) for milli in series.quarters],
                    letters=quarter_letters,
                ):
                    yield (site_id, quarter_label, day, values, day_letters)


def _utc_days(first: datetime, last: datetime) -> int:
    """How many UTC days the steps from `first` to `last` touch."""
    return (last.astimezone(UTC).date() - first.astimezone(UTC).date()).days + 1


# ==========================================================================
# The generator
# ==========================================================================


def _weighted(rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    total = sum(weight for _, weight in options)
    pick = rng.random() * total
    for value, weight in options:
        pick -= weight
        if pick < 0:
            return value
    return options[-1][0]


def _at(day: date, rng: random.Random, first_hour: int = 8, last_hour: int = 16) -> datetime:
    """A local office-hours moment on ``day``."""
    moment = time(rng.randint(first_hour, last_hour), rng.randrange(60), rng.randrange(60))
    return datetime.combine(day, moment, HELSINKI)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


_CAMPAIGNS: Final = (
    ("Virtain markkinat {year}: arvonta", ProspectSource.PRIZE_DRAW),
    ("Asuntomessut {year}: energiavisa", ProspectSource.COMPETITION),
    ("Ruoveden kesäpäivät {year}: arvonta", ProspectSource.PRIZE_DRAW),
    ("Sähköautoilijan tietokilpailu {year}", ProspectSource.COMPETITION),
    ("Mökkimessut Tampere {year}: arvonta", ProspectSource.PRIZE_DRAW),
    ("Energiansäästöviikko {year}: kilpailu", ProspectSource.COMPETITION),
)
_CONSENT_TEXT: Final = (
    "Annan Koillis-Satakunnan Sähkö Oy:lle suostumukseni käsitellä antamiani "
    "yhteystietoja ja lähettää minulle sähkösopimuksia koskevaa markkinointia "
    "sähköpostitse, tekstiviestillä ja puhelimitse sekä ottaa minuun yhteyttä. "
    "Suostumus on voimassa {years} ja sen voi perua milloin tahansa."
)
_OBJECTION_CHANNELS: Final = ("kirje", "puhelu", "sähköposti", "asiakaspalvelu", "verkkopalvelu")
_DEPOSIT_REASONS: Final = (
    "Maksuhäiriömerkintä luottotiedoissa",
    "Aiempia maksamattomia sähkölaskuja",
    "Ei luottotietoja (uusi asiakas)",
)


class _Generator:
    def __init__(
        self,
        customers: int,
        seed: int,
        today: date,
        consumption_share: float,
        progress: Progress = NO_PROGRESS,
    ) -> None:
        if customers < 0:
            raise ValueError("customers must not be negative")
        if not 0.0 <= consumption_share <= 1.0:
            raise ValueError("consumption_share must be between 0 and 1")
        self.n = customers
        self.today = today
        self.share = consumption_share
        self.progress = progress
        self.rng = random.Random(seed)
        self.hetus: set[str] = set()
        self.business_ids: set[str] = set()
        self.gsrn_serial = 0
        self.connection_serial = 0
        self.org_ids: dict[str, uuid.UUID] = {}
        # Cumulative seasonal cosine per day over the invoicing window, for estimates.
        first = add_months(today.replace(day=1), -13) - timedelta(days=1)
        self.cos_cumulative: dict[date, float] = {}
        running = 0.0
        for offset in range((today - first).days + 1):
            day = first + timedelta(days=offset)
            running += _season_cos(day) if offset else 0.0
            self.cos_cumulative[day] = running

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    # ---------------------------------------------------------------- organisations

    def organisations(self) -> tuple[list[Row], dict[str, uuid.UUID]]:
        rng = self.rng
        specs: list[tuple[str, str, str | None, str, str]] = [
            ("ksat", "Koillis-Satakunnan Sähkö Oy", COMPANY_BUSINESS_ID, OrganisationKind.COMPANY,
             "Rekisterinpitäjä: sähkön myynti ja jakeluverkko. PL 25, 34801 Virrat."),
            ("perinta-a", "Satakunnan Perintäpalvelu Oy", "", OrganisationKind.SUBCONTRACTOR,
             "Perintätoimisto: maksamattomien laskujen perintä (alihankkija)."),
            ("perinta-b", "Pirkanmaan Saatavahallinta Oy", "", OrganisationKind.SUBCONTRACTOR,
             "Perintätoimisto: maksamattomien laskujen perintä (alihankkija)."),
            ("kenttapalvelu-a", "Virtain Sähköasennus Oy", "", OrganisationKind.SUBCONTRACTOR,
             "Kenttäpalvelut: mittarinvaihdot, kytkennät ja katkaisut (alihankkija)."),
            ("kenttapalvelu-b", "Pohjois-Pirkan Verkkotyö Oy", "", OrganisationKind.SUBCONTRACTOR,
             "Kenttäpalvelut: liittymätyöt ja mittaroinnit (alihankkija)."),
            ("kumppani-aurinko", "Aurinkokatto Kumppanit Oy", "", OrganisationKind.PARTNER,
             "Yhteistyökumppani: aurinkopaneelien myynti ja asennus."),
            ("energiavirasto", "Energiavirasto", None, OrganisationKind.AUTHORITY,
             "Viranomainen (sähkömarkkinoiden valvonta); luovutukset lain nojalla."),
            ("verkkoyhtio", "Pohjois-Satakunnan Sähköverkko Oy", "",
             OrganisationKind.ENERGY_COMPANY,
             "Jakeluverkonhaltija: tietojen vaihto Datahubin kautta."),
        ]  # fmt: skip
        created = _at(date(self.today.year - 10, 1, 2), rng)
        rows: list[Row] = []
        ids: dict[str, uuid.UUID] = {}
        self.business_ids.add(COMPANY_BUSINESS_ID)
        for code, name, bid, kind, description in specs:
            org_id = self.new_id()
            if bid == "":
                bid = self.new_business_id()
            elif bid is not None:
                bid = validate_business_id(bid)
            ids[code] = org_id
            rows.append((org_id, code, name, bid, str(kind), description, created))
        return rows, ids

    def new_business_id(self) -> str:
        while True:
            body = f"{self.rng.randrange(1_000_000, 3_400_000):07d}"
            if business_id_check_digit(body) is None:
                continue
            value = business_id(body)
            if value not in self.business_ids:
                self.business_ids.add(value)
                return value

    # ---------------------------------------------------------------- products

    def products(self) -> list[_Product]:
        history_start = date(self.today.year - 13, 1, 1)
        boundaries = {history_start}
        for year in range(history_start.year, self.today.year + 1):
            boundaries.update({date(year, 1, 1), date(year, 7, 1)})
        boundaries.update(start for start, _ in _VAT_PERIODS)
        starts = sorted(d for d in boundaries if history_start <= d <= self.today)
        products: list[_Product] = []
        for spec in PRODUCT_SPECS:
            product_id = self.new_id()
            prices: list[_Price] = []
            for i, start in enumerate(starts):
                valid_to = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else None
                energy = None
                if spec.fixed_premium is not None:
                    energy = fixed_base_price(start) + spec.fixed_premium
                fee = spec.fee_before_2022 if start.year < 2022 else spec.fee
                prices.append(
                    _Price(
                        self.new_id(), energy, spec.margin, fee, vat_rate_on(start), start, valid_to
                    )
                )
            products.append(_Product(product_id, spec, tuple(prices)))
        return products

    # ---------------------------------------------------------------- customers

    def person_identity(self, male: bool) -> tuple[str, date]:
        rng = self.rng
        latest = self.today.year - 19  # every customer is of age
        while True:
            year = min(latest, int(rng.triangular(1930, latest + 1, 1962)))
            birth = date(year, 1, 1) + timedelta(days=rng.randrange(365))
            if birth.year != year:
                continue
            # The new signs (2023 decree) are rare: codes issued since 2023.
            if year < 2000:
                sign = "-" if rng.random() < 0.97 else rng.choice("YXWVU")
            else:
                sign = "A" if rng.random() < 0.95 else rng.choice("BCDEF")
            individual = rng.randrange(2, 900)
            if (individual % 2 == 1) != male:
                individual = individual + 1 if individual < 899 else individual - 1
            code = f"{birth:%d%m%y}{sign}{individual:03d}{hetu_check_character(birth, individual)}"
            if code in self.hetus:
                continue
            self.hetus.add(validate_hetu(code))
            return code, birth

    def address(self, area: PostalArea, housing: str) -> str:
        rng = self.rng
        street = rng.choice(names.STREET_NAMES)
        number = rng.randint(1, 60)
        if housing == HousingType.APARTMENT_BLOCK:
            return f"{street} {number} {rng.choice('ABCD')} {rng.randint(1, 48)}"
        if housing == HousingType.TERRACED_HOUSE:
            return f"{street} {number} {rng.choice('ABCDEF')} {rng.randint(1, 8)}"
        if housing == HousingType.SEMI_DETACHED_HOUSE:
            return f"{street} {number} {rng.choice('AB')}"
        return f"{street} {number}"

    def contact(
        self, *name_parts: str, organisation: bool = False
    ) -> tuple[str | None, str | None]:
        rng = self.rng
        email = None
        if rng.random() < (0.95 if organisation else 0.85):
            local = names.email_local_part(*name_parts)
            if not organisation and rng.random() < 0.5:
                local += str(rng.randint(1, 99))
            email = validate_email(f"{local}@{rng.choice(names.EMAIL_DOMAINS)}")
        phone = None
        if rng.random() < (0.8 if organisation else 0.9):
            prefix = _weighted(rng, (("40", 40), ("50", 35), ("44", 10), ("45", 10), ("41", 5)))
            phone = validate_phone(f"+358{prefix}{rng.randrange(10**7):07d}")
        return email, phone

    def customer(self) -> _Customer:
        rng = self.rng
        customer_id = self.new_id()
        area = _weighted(rng, [(a, a.weight) for a in POSTAL_AREAS])
        billing = _weighted(
            rng,
            (
                (BillingMethod.E_INVOICE, 35),
                (BillingMethod.DIRECT_PAYMENT, 20),
                (BillingMethod.EMAIL, 30),
                (BillingMethod.PAPER, 15),
            ),
        )
        if rng.random() < 0.08:
            word = rng.choice(names.ORGANISATION_WORDS)
            style = rng.random()
            if style < 0.25:
                org_name = f"Asunto Oy {word}"
            elif style < 0.35:
                org_name = f"Kiinteistö Oy {word}"
            else:
                trade = rng.choice(names.ORGANISATION_TRADES)
                org_name = f"{word}n {trade} {rng.choice(names.ORGANISATION_FORMS)}"
            email, phone = self.contact("laskutus", word, organisation=True)
            return _Customer(
                id=customer_id, kind=CustomerKind.ORGANISATION, first_name=None, last_name=None,
                organisation_name=org_name, hetu=None, business_id=self.new_business_id(),
                street=self.address(area, HousingType.BUSINESS_PREMISES), area=area,
                email=email, phone=phone,
                language=Language.FI if rng.random() < 0.95 else Language.SV,
                billing_method=billing if billing != BillingMethod.DIRECT_PAYMENT else "e_invoice",
            )  # fmt: skip
        language = _weighted(rng, ((Language.FI, 88), (Language.SV, 8), (Language.EN, 4)))
        male = rng.random() < 0.5
        if language == Language.SV:
            first = rng.choice(
                names.SWEDISH_MALE_FIRST_NAMES if male else names.SWEDISH_FEMALE_FIRST_NAMES
            )
            last = rng.choice(names.SWEDISH_LAST_NAMES)
        else:
            first = rng.choice(names.MALE_FIRST_NAMES if male else names.FEMALE_FIRST_NAMES)
            last = rng.choice(names.LAST_NAMES)
        hetu, birth = self.person_identity(male)
        email, phone = self.contact(first, last)
        if billing == BillingMethod.EMAIL and email is None:
            billing = BillingMethod.PAPER
        return _Customer(
            id=customer_id, kind=CustomerKind.PERSON, first_name=first, last_name=last,
            organisation_name=None, hetu=hetu, business_id=None, street="", area=area,
            email=email, phone=phone, language=language, billing_method=billing, birth=birth,
        )  # fmt: skip

    # ---------------------------------------------------------------- sites

    def site(self, customer: _Customer, primary: bool) -> _Site:
        rng = self.rng
        site_id = self.new_id()
        organisation = customer.kind == CustomerKind.ORGANISATION
        area = customer.area
        if organisation:
            housing = _weighted(
                rng,
                ((HousingType.BUSINESS_PREMISES, 75), (HousingType.APARTMENT_BLOCK, 15),
                 (HousingType.DETACHED_HOUSE, 10)),
            )  # fmt: skip
            if not primary and rng.random() < 0.5:
                area = _weighted(rng, [(a, a.weight) for a in POSTAL_AREAS])
        elif primary:
            if area.urban:
                housing = _weighted(
                    rng,
                    ((HousingType.APARTMENT_BLOCK, 65), (HousingType.TERRACED_HOUSE, 15),
                     (HousingType.SEMI_DETACHED_HOUSE, 5), (HousingType.DETACHED_HOUSE, 15)),
                )  # fmt: skip
            else:
                housing = _weighted(
                    rng,
                    ((HousingType.APARTMENT_BLOCK, 15), (HousingType.TERRACED_HOUSE, 15),
                     (HousingType.SEMI_DETACHED_HOUSE, 8), (HousingType.DETACHED_HOUSE, 62)),
                )  # fmt: skip
        elif rng.random() < 0.65:
            housing = HousingType.HOLIDAY_HOME
            holiday_code = rng.choice(names.HOLIDAY_AREAS)
            area = next(a for a in POSTAL_AREAS if a.code == holiday_code)
        else:
            housing = _weighted(
                rng, ((HousingType.APARTMENT_BLOCK, 60), (HousingType.DETACHED_HOUSE, 40))
            )
            area = _weighted(rng, [(a, a.weight) for a in POSTAL_AREAS])

        if housing == HousingType.APARTMENT_BLOCK:
            ownership = Ownership.RENTED if rng.random() < 0.45 else Ownership.OWNED
        elif housing == HousingType.BUSINESS_PREMISES:
            ownership = Ownership.RENTED if rng.random() < 0.6 else Ownership.OWNED
        elif housing == HousingType.TERRACED_HOUSE:
            ownership = Ownership.RENTED if rng.random() < 0.3 else Ownership.OWNED
        else:
            ownership = Ownership.RENTED if rng.random() < 0.08 else Ownership.OWNED

        heating = self.heating(housing)
        electric = heating in ELECTRIC_HEATING
        estimate, amplitude = self.estimate(housing, heating)
        fuse = self.fuse(housing, heating, estimate)
        phases, amperes = fuse[:-1].split("x")
        power = _money(Decimal(int(phases) * int(amperes) * 230) / 1000)

        if primary and not organisation:
            street = customer.street = self.address(area, housing)
        elif primary:
            street = customer.street
        else:
            street = self.address(area, housing)
        self.gsrn_serial += rng.randint(1, 9)
        body = f"{GSRN_PREFIX}{self.gsrn_serial:08d}"
        gsrn = validate_gsrn(f"{body}{gsrn_check_digit(body)}")
        self.connection_serial += rng.randint(1, 5)
        connected_on = date(rng.randint(1962, self.today.year - 2), 1, 1) + timedelta(
            days=rng.randrange(365)
        )
        site = _Site(
            id=site_id, gsrn=gsrn, street=street, area=area, housing=housing,
            ownership=ownership, heating=heating, estimate=estimate, fuse=fuse,
            connection_id=f"LS-{area.code}-{self.connection_serial:06d}", power=power,
            connected_on=connected_on, amplitude=amplitude,
        )  # fmt: skip
        assert electric == (site.heating in ELECTRIC_HEATING)
        return site

    def heating(self, housing: str) -> str:
        h = HeatingType
        options: dict[str, tuple[tuple[str, float], ...]] = {
            HousingType.APARTMENT_BLOCK: (
                (h.DISTRICT_HEAT, 85), (h.GROUND_SOURCE_HEAT_PUMP, 5), (h.OIL, 4),
                (h.DIRECT_ELECTRIC, 6)),
            HousingType.TERRACED_HOUSE: (
                (h.DISTRICT_HEAT, 40), (h.DIRECT_ELECTRIC, 30), (h.GROUND_SOURCE_HEAT_PUMP, 10),
                (h.AIR_TO_WATER_HEAT_PUMP, 5), (h.OIL, 15)),
            HousingType.HOLIDAY_HOME: (
                (h.DIRECT_ELECTRIC, 55), (h.AIR_TO_AIR_HEAT_PUMP, 20), (h.WOOD_OR_PELLET, 25)),
            HousingType.BUSINESS_PREMISES: (
                (h.DISTRICT_HEAT, 40), (h.GROUND_SOURCE_HEAT_PUMP, 20), (h.DIRECT_ELECTRIC, 15),
                (h.OIL, 15), (h.AIR_TO_WATER_HEAT_PUMP, 10)),
        }  # fmt: skip
        houses = (
            (h.DIRECT_ELECTRIC, 22), (h.STORAGE_ELECTRIC, 10), (h.GROUND_SOURCE_HEAT_PUMP, 18),
            (h.AIR_TO_WATER_HEAT_PUMP, 10), (h.AIR_TO_AIR_HEAT_PUMP, 8), (h.DISTRICT_HEAT, 8),
            (h.OIL, 10), (h.WOOD_OR_PELLET, 14),
        )  # fmt: skip
        return str(_weighted(self.rng, options.get(housing, houses)))

    def estimate(self, housing: str, heating: str) -> tuple[int, float]:
        """Annual consumption estimate (kWh) and the seasonal amplitude of the load."""
        rng = self.rng
        h = HeatingType
        electric_heating = heating in ELECTRIC_HEATING
        if housing == HousingType.BUSINESS_PREMISES:
            base = rng.choice((15_000, 30_000, 60_000, 120_000))
            amplitude = 0.35 if electric_heating else 0.15
            return int(round(base * rng.uniform(0.8, 1.25), -2)), amplitude
        if not electric_heating:
            non_electric: dict[str, int] = {
                HousingType.APARTMENT_BLOCK: 2_000,
                HousingType.TERRACED_HOUSE: 3_500,
                HousingType.SEMI_DETACHED_HOUSE: 4_500,
                HousingType.HOLIDAY_HOME: 1_500,
            }
            base = non_electric.get(housing, 5_000)
            amplitude = 0.2
        else:
            electric: dict[str, int] = {
                HousingType.APARTMENT_BLOCK: 6_000,
                HousingType.TERRACED_HOUSE: 11_000,
                HousingType.SEMI_DETACHED_HOUSE: 14_000,
                HousingType.HOLIDAY_HOME: 7_000,
            }
            heat_pump_factor: dict[str, float] = {
                h.GROUND_SOURCE_HEAT_PUMP: 0.6,
                h.AIR_TO_WATER_HEAT_PUMP: 0.65,
                h.AIR_TO_AIR_HEAT_PUMP: 0.8,
            }
            base = int(electric.get(housing, 18_000) * heat_pump_factor.get(heating, 1.0))
            amplitude = 0.65
        return int(round(base * rng.uniform(0.75, 1.3), -2)), amplitude

    def fuse(self, housing: str, heating: str, estimate: int) -> str:
        rng = self.rng
        if housing == HousingType.BUSINESS_PREMISES:
            amperes = 63 if estimate < 25_000 else 80 if estimate < 50_000 else 100
            amperes = amperes if estimate < 100_000 else 160
            fuse = f"3x{amperes}A"
        elif housing == HousingType.APARTMENT_BLOCK:
            fuse = "1x25A" if rng.random() < 0.3 else "3x25A"
        elif housing == HousingType.HOLIDAY_HOME:
            fuse = "1x25A" if rng.random() < 0.2 else "3x25A"
        elif heating in ELECTRIC_HEATING and housing == HousingType.DETACHED_HOUSE:
            fuse = _weighted(rng, (("3x25A", 25), ("3x35A", 60), ("3x50A", 15)))
        else:
            fuse = "3x25A" if rng.random() < 0.9 else "3x35A"
        return validate_main_fuse(fuse)

    # ---------------------------------------------------------------- contracts

    def channel(self, customer: _Customer, first: bool) -> str:
        options: list[tuple[str, float]] = [
            (SalesChannel.WEB, 35 if first else 45),
            (SalesChannel.PHONE, 15 if first else 10),
            (SalesChannel.FIELD, 10 if first else 2),
            (SalesChannel.EMAIL, 10),
            (SalesChannel.CUSTOMER_SERVICE, 30),
        ]
        if "distance_selling" in customer.objections:
            options = [o for o in options if o[0] != SalesChannel.PHONE]
        return str(_weighted(self.rng, options))

    def choose_product(self, products: Sequence[_Product], renewal: bool) -> _Product:
        weights = (30, 8, 15, 15, 20, 12) if not renewal else (40, 10, 10, 10, 25, 5)
        return _weighted(self.rng, list(zip(products, weights, strict=True)))

    def contracts_for(
        self, customer: _Customer, site: _Site, start: date, products: Sequence[_Product]
    ) -> None:
        rng, today = self.rng, self.today
        chain: list[_Contract] = []
        day = start
        while True:
            renewal = bool(chain)
            product = self.choose_product(products, renewal)
            if len(chain) >= 3 and product.spec.term is not None:
                product = products[0]
            term = product.spec.term
            end: date | None = None
            if term is not None:
                end = add_months(day, term) - timedelta(days=1)
            elif (today - day).days > 90 and rng.random() < 0.12:
                end = day + timedelta(days=rng.randint(60, (today - day).days - 1))
            status = ContractStatus.ACTIVE
            if end is not None and end < today:
                status = ContractStatus.ENDED
            contract = _Contract(
                self.new_id(), product, day, end, status, self.channel(customer, not chain)
            )
            chain.append(contract)
            if status == ContractStatus.ACTIVE:
                break
            assert end is not None
            day = end + timedelta(days=1)

        current = chain[-1]
        if current.start > today:
            current.status = ContractStatus.PENDING
        roll = rng.random()
        if roll < 0.04 and current.start < today - timedelta(days=20):
            # Moved out: the last contract was terminated during the last year.
            earliest = max(current.start, today - timedelta(days=330))
            current.end = earliest + timedelta(days=rng.randrange(max(1, (today - earliest).days)))
            current.status = ContractStatus.TERMINATED
        elif roll < 0.06 and current.end is None:
            # A product switch agreed for the coming weeks: the new contract is pending.
            switch = today + timedelta(days=rng.randint(1, 30))
            current.end = switch - timedelta(days=1)
            product = self.choose_product(products, renewal=True)
            end = None
            if product.spec.term is not None:
                end = add_months(switch, product.spec.term) - timedelta(days=1)
            chain.append(
                _Contract(
                    self.new_id(), product, switch, end, ContractStatus.PENDING,
                    self.channel(customer, first=False),
                )
            )  # fmt: skip
        for contract in chain:
            price = contract.product.price_on(contract.start)
            contract.energy, contract.margin, contract.fee = price.energy, price.margin, price.fee
        site.contracts = chain

    # ---------------------------------------------------------------- invoices

    def invoice_months(self) -> list[tuple[date, date]]:
        first_of_this_month = self.today.replace(day=1)
        return [
            (add_months(first_of_this_month, -k), month_end(add_months(first_of_this_month, -k)))
            for k in range(12, 0, -1)
        ]

    def energy_kwh(self, site: _Site, start: date, end: date, noise: float) -> Decimal:
        """Energy used at ``site`` on the days ``start``..``end`` (metered when there is data)."""
        if site.series is None:  # estimated from the annual estimate: whole kWh
            days = (end - start).days + 1
            cosines = self.cos_cumulative[end] - self.cos_cumulative[start - timedelta(days=1)]
            kwh = site.estimate / 365.25 * (days + site.amplitude * cosines) * noise
            return Decimal(int(kwh)).quantize(Decimal("0.001"))
        milli = 0
        day = start
        daily = site.series.daily
        while day <= end:
            measured = daily.get(day)
            if measured is None:
                expected = site.estimate / 365.25 * (1 + site.amplitude * _season_cos(day))
                measured = int(expected * noise * 1000)
            milli += measured
            day += timedelta(days=1)
        return Decimal(milli).scaleb(-3)

    def invoice_lines(
        self, site: _Site, contract: _Contract, start: date, end: date
    ) -> list[_Line]:
        noise = self.rng.uniform(0.9, 1.1)
        energy = self.energy_kwh(site, start, end, noise)
        vat = vat_rate_on(start)
        period = f"{fi_date(start)}\u2013{fi_date(end)}"  # en dash
        kind = contract.product.spec.kind
        spot = spot_average(start.year, start.month)
        lines: list[tuple[str, Decimal, str, Decimal]] = []
        if kind == ProductKind.FIXED:
            assert contract.energy is not None
            lines.append((f"Sähköenergia {period}", energy, "kWh", contract.energy / 100))
        elif kind == ProductKind.SPOT:
            assert contract.margin is not None
            lines.append((f"Pörssisähkö {period} (kk-keskihinta)", energy, "kWh", spot / 100))
            lines.append((f"Marginaali {period}", energy, "kWh", contract.margin / 100))
        else:
            assert contract.energy is not None and contract.margin is not None
            fixed_part = (energy / 2).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
            spot_part = energy - fixed_part
            lines.append((f"Kiinteä osuus 50 % {period}", fixed_part, "kWh", contract.energy / 100))
            lines.append((f"Pörssiosuus 50 % {period}", spot_part, "kWh", spot / 100))
            lines.append(
                (f"Marginaali (pörssiosuus) {period}", spot_part, "kWh", contract.margin / 100)
            )
        days_in_month = calendar.monthrange(start.year, start.month)[1]
        months = Decimal((end - start).days + 1) / days_in_month
        lines.append(
            (f"Perusmaksu {period}", months.quantize(Decimal("0.001")), "kk", contract.fee)
        )
        result = []
        for description, quantity, unit, unit_price in lines:
            amount = _money(quantity * unit_price)
            result.append(
                _Line(
                    description, quantity, unit, unit_price, vat, amount, _money(amount * vat / 100)
                )
            )
        return result

    def invoices_for(self, customer: _Customer, months: list[tuple[date, date]]) -> list[_Invoice]:
        invoices: list[_Invoice] = []
        for site in customer.sites:
            for contract in site.contracts:
                for month_start, month_last in months:
                    start = max(month_start, contract.start)
                    end = min(month_last, contract.end or month_last)
                    if start > end or end >= self.today:
                        continue
                    # Billing runs are spread over the first ten days of the month.
                    issue = end + timedelta(days=1 + customer.billing_day)
                    if issue > self.today:
                        continue
                    days = 21 if customer.billing_method == BillingMethod.PAPER else 14
                    lines = self.invoice_lines(site, contract, start, end)
                    excl = sum((line.amount for line in lines), ZERO)
                    vat = sum((line.vat for line in lines), ZERO)
                    invoices.append(
                        _Invoice(
                            self.new_id(), customer, contract, issue, issue + timedelta(days=days),
                            start, end, lines, excl, vat, excl + vat,
                        )
                    )  # fmt: skip
        return invoices

    # ---------------------------------------------------------------- everything

    def customer_with_sites(self, products: list[_Product]) -> _Customer:
        """One customer with its sites, contracts and objections."""
        rng, today = self.rng, self.today
        customer = self.customer()
        since = today - timedelta(days=20 + int(rng.random() ** 1.6 * 365 * 12))
        if customer.birth is not None:  # a customer since coming of age
            adult = add_months(customer.birth, 18 * 12) + timedelta(days=14)
            since = min(today - timedelta(days=20), max(since, adult))
        for objection, share in (
            ("direct_marketing", 0.06), ("distance_selling", 0.03), ("research", 0.03)
        ):  # fmt: skip
            if rng.random() < share:
                day = since + timedelta(days=rng.randrange(max(1, (today - since).days)))
                channel = rng.choice(_OBJECTION_CHANNELS)
                customer.objections[objection] = (_at(day, rng), f"{channel} {day.isoformat()}")
        site_count = _weighted(rng, ((1, 50), (2, 40), (3, 10)))
        for index in range(site_count):
            site = self.site(customer, primary=index == 0)
            start = since
            if index > 0:
                start = since + timedelta(days=rng.randrange(max(1, (today - since).days - 10)))
            self.contracts_for(customer, site, start, products)
            customer.sites.append(site)
        customer.created_at = _at(since - timedelta(days=14), rng)
        ends = [s.contracts[-1].end for s in customer.sites]
        if all(s.contracts[-1].status == ContractStatus.TERMINATED for s in customer.sites):
            last_end = max(e for e in ends if e is not None)
            customer.former_since = datetime.combine(
                last_end + timedelta(days=1), time(0), HELSINKI
            )
        return customer

    def run(self, existing_organisations: dict[str, uuid.UUID]) -> SeedData:
        rng, today = self.rng, self.today
        org_rows, org_ids = self.organisations()
        org_ids.update(existing_organisations)
        self.org_ids = org_ids
        org_rows = [row for row in org_rows if row[1] not in existing_organisations]
        products = self.products()

        # Customers, their sites and contracts.
        with self.progress.stage("generating customers", total=self.n, unit="customers") as step:
            customers = [
                self.customer_with_sites(products)
                for _ in counted(range(self.n), step, every=1_000)
            ]
        customers.sort(key=lambda c: (c.created_at, c.id))
        for index, customer in enumerate(customers):
            customer.number = 100001 + index
            customer.billing_day = customer.number % 10
        all_sites = [site for customer in customers for site in customer.sites]
        all_contracts = sorted(
            (c for site in all_sites for c in site.contracts), key=lambda c: (c.start, c.id)
        )
        for index, contract in enumerate(all_contracts):
            contract.number = 5000001 + index
        site_owner = {site.id: customer for customer in customers for site in customer.sites}
        contract_site = {c.id: site for site in all_sites for c in site.contracts}

        # Consumption series for a share of the sites (with a full year of supply).
        timeline = _timeline(today)
        series: list[_Series] = []
        if all_sites and self.share > 0:
            wanted = max(1, round(len(all_sites) * self.share))
            window_start = timeline.days[0]
            full_year = [
                s
                for s in all_sites
                if s.contracts[0].start <= window_start
                and all(c.status != ContractStatus.TERMINATED for c in s.contracts)
            ]
            pool = full_year if len(full_year) >= wanted else all_sites
            chosen = rng.sample(pool, min(wanted, len(pool)))
            quarter_sites = max(1, len(chosen) // 25)
            seeds = [rng.getrandbits(64) for _ in chosen]
            for index, (site, site_seed) in enumerate(zip(chosen, seeds, strict=True)):
                site.series = _make_series(site, timeline, site_seed, index < quarter_sites)
                series.append(site.series)

        # Offers accepted into contracts (field, phone and e-mail sales of the last 2 years).
        offer_rows: list[Row] = []
        for contract in all_contracts:
            recent = contract.start >= today - timedelta(days=730)
            if not recent or contract.channel not in ("field", "phone", "email"):
                continue
            if rng.random() >= 0.5:
                continue
            site = contract_site[contract.id]
            valid_until = min(contract.start, today) - timedelta(days=rng.randint(0, 10))
            contract.offer_id = self.new_id()
            offer_rows.append(
                (contract.offer_id, site_owner[site.id].id, None, site.id, contract.product.id,
                 contract.energy, contract.margin, contract.fee, valid_until,
                 OfferStatus.ACCEPTED.value, _at(valid_until - timedelta(days=14), rng))
            )  # fmt: skip

        # Invoices, numbered in issue order.
        months = self.invoice_months()
        invoices: list[_Invoice] = []
        for customer in customers:
            invoices.extend(self.invoices_for(customer, months))
        invoices.sort(key=lambda i: (i.issue, i.customer.number, i.contract.number, i.period_start))
        for index, invoice in enumerate(invoices):
            invoice.number = 70000001 + index
            invoice.reference = validate_reference(make_reference(invoice.number))
        cases = self.settle(customers, invoices)

        # Security deposits.
        deposit_rows: list[Row] = []
        wanted_deposits = max(1, round(self.n * 0.02)) if self.n else 0
        for customer in rng.sample(customers, min(wanted_deposits, len(customers))):
            first = min((c for s in customer.sites for c in s.contracts), key=lambda c: c.start)
            received = first.start - timedelta(days=rng.randint(0, 14))
            status = _weighted(
                rng,
                (
                    (DepositStatus.HELD, 70),
                    (DepositStatus.RETURNED, 20),
                    (DepositStatus.APPLIED, 10),
                ),
            )
            returned = None
            if status == DepositStatus.RETURNED:
                if received > today - timedelta(days=400):
                    status = DepositStatus.HELD
                else:
                    returned = received + timedelta(days=rng.randint(365, (today - received).days))
            amount = Decimal(rng.choice((150, 200, 250, 300, 400, 500))).quantize(CENT)
            deposit_rows.append(
                (self.new_id(), customer.id, first.id, amount, received, returned, str(status),
                 rng.choice(_DEPOSIT_REASONS))
            )  # fmt: skip

        # Assignments: field service companies get sites, agencies their case customers.
        assignment_rows: list[Row] = []
        for code in ("kenttapalvelu-a", "kenttapalvelu-b"):
            wanted_sites = max(1, round(len(all_sites) * 0.01)) if all_sites else 0
            for site in rng.sample(all_sites, min(wanted_sites, len(all_sites))):
                if rng.random() < 0.6:
                    valid_from = today - timedelta(days=rng.randint(1, 200))
                    valid_to = (
                        None if rng.random() < 0.3 else today + timedelta(days=rng.randint(14, 120))
                    )
                else:
                    valid_from = today - timedelta(days=rng.randint(100, 400))
                    valid_to = valid_from + timedelta(days=rng.randint(14, 60))
                assignment_rows.append(
                    (self.new_id(), org_ids[code], None, site.id, "delivery", valid_from, valid_to,
                     None, _at(valid_from, rng))
                )  # fmt: skip
        for case in cases:
            assignment_rows.append(
                (self.new_id(), case.agency_id, case.customer.id, None, "billing", case.opened_on,
                 case.closed_on, None, _at(case.opened_on, rng))
            )  # fmt: skip

        # Prospects (always with marketing consent) and marketing offers.
        prospect_rows: list[Row] = []
        prospect_ids: list[uuid.UUID] = []
        for _ in range(self.n // 20):
            male = rng.random() < 0.5
            first_name = rng.choice(names.MALE_FIRST_NAMES if male else names.FEMALE_FIRST_NAMES)
            last_name = rng.choice(names.LAST_NAMES)
            email, phone = self.contact(first_name, last_name)
            if email is None and phone is None:
                local = names.email_local_part(first_name, last_name)
                email = validate_email(f"{local}@example.fi")
            postal = _weighted(rng, [(a, a.weight) for a in POSTAL_AREAS]).code
            years = 1 if rng.random() < 0.5 else 2
            consent_day = today - timedelta(days=rng.randint(1, 330 if years == 1 else 700))
            consent_at = _at(consent_day, rng, 9, 20)
            campaign, source = rng.choice(_CAMPAIGNS)
            prospect_id = self.new_id()
            prospect_ids.append(prospect_id)
            prospect_rows.append(
                (prospect_id, first_name, last_name, email, phone,
                 postal if rng.random() < 0.7 else None,
                 source.value, campaign.format(year=consent_day.year), consent_at,
                 _CONSENT_TEXT.format(years="vuoden" if years == 1 else "kaksi vuotta"),
                 add_months(consent_day, 12 * years), consent_at)
            )  # fmt: skip
        for prospect_id, row in zip(prospect_ids, prospect_rows, strict=True):
            if rng.random() < 0.3:
                consented = row[8]
                assert isinstance(consented, datetime)
                offer_rows.append(
                    self.marketing_offer(products, None, prospect_id, None, consented.date())
                )
        for customer in customers:
            if (
                "direct_marketing" in customer.objections
                or customer.former_since is not None
                or rng.random() >= 0.05
            ):
                continue
            site = customer.sites[0]
            offer_rows.append(
                self.marketing_offer(
                    products, customer.id, None, site.id, customer.created_at.date()
                )
            )

        return self.assemble(
            org_rows, products, customers, all_sites, all_contracts, series, timeline,
            offer_rows, invoices, cases, deposit_rows, assignment_rows, prospect_rows,
        )  # fmt: skip

    def marketing_offer(
        self, products: Sequence[_Product], customer_id: uuid.UUID | None,
        prospect_id: uuid.UUID | None, site_id: uuid.UUID | None, not_before: date,
    ) -> Row:  # fmt: skip
        rng, today = self.rng, self.today
        product = self.choose_product(products, renewal=False)
        created = max(not_before, today - timedelta(days=rng.randint(0, 240)))
        valid_until = created + timedelta(days=rng.choice((14, 30)))
        if valid_until >= today:
            status = OfferStatus.WITHDRAWN if rng.random() < 0.05 else OfferStatus.OPEN
        else:
            status = OfferStatus.EXPIRED
        price = product.price_on(created)
        margin = price.margin
        if margin is not None and rng.random() < 0.5:
            margin = max(Decimal("0.38"), margin - Decimal("0.10"))
        return (
            self.new_id(), customer_id, prospect_id, site_id, product.id, price.energy, margin,
            price.fee, valid_until, status.value, _at(created, rng),
        )  # fmt: skip

    # ---------------------------------------------------------------- payment states

    def settle(self, customers: list[_Customer], invoices: list[_Invoice]) -> list[_Case]:
        """Decide each invoice's status and payment; open collection cases."""
        rng, today = self.rng, self.today
        collection_due = today - timedelta(days=35)  # disconnection/collection no sooner
        by_customer: dict[uuid.UUID, list[_Invoice]] = {}
        for invoice in invoices:
            by_customer.setdefault(invoice.customer.id, []).append(invoice)

        # Customers who pay late: about 2 % have debts with a collection agency and
        # 8 % have overdue invoices (so about 1 % and 3 % of the invoices).
        def having(condition: Callable[[_Invoice], bool]) -> list[_Customer]:
            return [c for c in customers if any(condition(i) for i in by_customer.get(c.id, ()))]

        def share(pool: list[_Customer], fraction: float) -> list[_Customer]:
            wanted = max(1, round(self.n * fraction)) if self.n else 0
            return rng.sample(pool, min(len(pool), wanted))

        collection = share(having(lambda i: i.due < collection_due), 0.02)
        taken = {c.id for c in collection}
        late = share([c for c in having(lambda i: i.due < today) if c.id not in taken], 0.08)
        taken |= {c.id for c in late}
        closed = share(
            [c for c in having(lambda i: i.due < collection_due) if c.id not in taken], 0.005
        )

        for invoice in invoices:
            direct = invoice.customer.billing_method == BillingMethod.DIRECT_PAYMENT
            if invoice.due >= today:
                if not direct and rng.random() < 0.3 and invoice.issue < today:
                    invoice.status = InvoiceStatus.PAID
                    invoice.paid_on = invoice.issue + timedelta(
                        days=rng.randrange((today - invoice.issue).days)
                    )
                continue
            if rng.random() < 0.004:
                invoice.status = InvoiceStatus.CREDITED
                continue
            invoice.status = InvoiceStatus.PAID
            if direct:
                invoice.paid_on = invoice.due
            else:
                offset = rng.randint(-10, 3) if rng.random() < 0.9 else rng.randint(4, 25)
                paid = invoice.due + timedelta(days=offset)
                invoice.paid_on = min(max(paid, invoice.issue), today - timedelta(days=1))

        cases: list[_Case] = []
        agencies = ("perinta-a", "perinta-b")
        for customer in late:
            # Unpaid since some day in the last six months (reminders sent, no agency yet).
            past_due = [i for i in by_customer[customer.id] if i.due < today]
            since = today - timedelta(days=rng.randint(1, 180))
            unpaid = [i for i in past_due if i.due >= since] or past_due[-1:]
            for invoice in unpaid:
                invoice.status, invoice.paid_on = InvoiceStatus.OVERDUE, None
        for index, customer in enumerate(collection):
            # Unpaid since some day 3-10 months ago: the older invoices went to the agency.
            past_due = [i for i in by_customer[customer.id] if i.due < today]
            old = [i for i in past_due if i.due < collection_due]
            since = today - timedelta(days=rng.randint(90, 300))
            unpaid_old = [i for i in old if i.due >= since] or old[-1:]
            for invoice in unpaid_old:
                invoice.status, invoice.paid_on = InvoiceStatus.IN_COLLECTION, None
            for invoice in past_due:
                if invoice.due >= collection_due:
                    invoice.status, invoice.paid_on = InvoiceStatus.OVERDUE, None
            stage = _weighted(
                rng,
                ((CollectionStage.PAYMENT_DEMAND, 25), (CollectionStage.COLLECTION_AGENCY, 50),
                 (CollectionStage.DISCONNECTION_WARNING, 15), (CollectionStage.LEGAL, 10)),
            )  # fmt: skip
            opened = min(today, unpaid_old[0].due + timedelta(days=35 + rng.randint(0, 10)))
            cases.append(
                _Case(
                    self.new_id(), customer, self.org_ids[agencies[index % 2]], str(stage), opened,
                    None, sum((i.incl for i in unpaid_old), ZERO), unpaid_old,
                )
            )  # fmt: skip
        for index, customer in enumerate(closed):
            invoice = next(i for i in by_customer[customer.id] if i.due < collection_due)
            opened = invoice.due + timedelta(days=35)
            latest = (today - timedelta(days=1) - opened).days
            paid = opened + timedelta(days=rng.randint(0, min(60, latest)))
            invoice.status, invoice.paid_on = InvoiceStatus.PAID, paid
            cases.append(
                _Case(
                    self.new_id(), customer, self.org_ids[agencies[(len(collection) + index) % 2]],
                    CollectionStage.CLOSED.value, opened, paid, invoice.incl, [invoice],
                )
            )  # fmt: skip
        return cases

    # ---------------------------------------------------------------- rows

    def assemble(
        self,
        org_rows: list[Row],
        products: list[_Product],
        customers: list[_Customer],
        sites: list[_Site],
        contracts: list[_Contract],
        series: list[_Series],
        timeline: _Timeline,
        offer_rows: list[Row],
        invoices: list[_Invoice],
        cases: list[_Case],
        deposit_rows: list[Row],
        assignment_rows: list[Row],
        prospect_rows: list[Row],
    ) -> SeedData:
        product_rows: list[Row] = [
            (p.id, p.spec.code, p.spec.name, str(p.spec.kind), p.spec.term, p.spec.description)
            for p in products
        ]
        price_rows: list[Row] = [
            (pr.id, p.id, pr.energy, pr.margin, pr.fee, pr.vat, pr.valid_from, pr.valid_to)
            for p in products
            for pr in p.prices
        ]
        customer_rows: list[Row] = []
        for c in customers:
            objection_times = [at for at, _ in c.objections.values()]
            updated = max([c.created_at, *objection_times])
            if c.former_since is not None:
                updated = max(updated, c.former_since)

            def objection(key: str, c: _Customer = c) -> tuple[datetime | None, str | None]:
                value = c.objections.get(key)
                return (value[0], value[1]) if value else (None, None)

            dm, ds, rs = (
                objection("direct_marketing"),
                objection("distance_selling"),
                objection("research"),
            )
            customer_rows.append(
                (c.id, c.number, str(c.kind), c.first_name, c.last_name, c.organisation_name,
                 c.hetu, c.business_id, c.street, c.area.code, c.area.town, "FI", c.email,
                 c.phone, str(c.language), dm[0], dm[1], ds[0], ds[1], rs[0], rs[1],
                 c.former_since, c.created_at, updated)
            )  # fmt: skip
        owner = {s.id: c for c in customers for s in c.sites}
        site_rows: list[Row] = []
        for s in sites:
            created = datetime.combine(
                s.contracts[0].start - timedelta(days=14), time(17), HELSINKI
            )
            site_rows.append(
                (s.id, owner[s.id].id, s.gsrn, s.street, s.area.code, s.area.town, str(s.housing),
                 str(s.ownership), str(s.heating), s.heating in ELECTRIC_HEATING, s.estimate,
                 s.fuse, s.connection_id, s.area.grid_operator, s.power, s.connected_on,
                 created, created)
            )  # fmt: skip
        contract_site = {c.id: s for s in sites for c in s.contracts}
        contract_rows: list[Row] = []
        for k in contracts:
            site = contract_site[k.id]
            signed = datetime.combine(
                min(k.start - timedelta(days=14), self.today), time(17), HELSINKI
            )
            contract_rows.append(
                (k.id, k.number, owner[site.id].id, site.id, k.product.id, k.offer_id, k.energy,
                 k.margin, k.fee, k.start, k.end, str(k.status), str(k.channel),
                 signed)
            )  # fmt: skip
        invoice_rows: list[Row] = []
        line_rows: list[Row] = []
        payment_rows: list[Row] = []
        for inv in invoices:
            invoice_rows.append(
                (inv.id, inv.number, inv.customer.id, inv.contract.id, inv.reference,
                 inv.customer.billing_method, inv.issue, inv.due, inv.period_start,
                 inv.period_end, inv.excl, inv.vat, inv.incl, str(inv.status),
                 datetime.combine(inv.issue, time(3), HELSINKI))
            )  # fmt: skip
            for number, line in enumerate(inv.lines, start=1):
                line_rows.append(
                    (inv.id, number, line.description, line.quantity, line.unit, line.unit_price,
                     line.vat_rate, line.amount, line.vat)
                )  # fmt: skip
            if inv.paid_on is not None:
                source = (
                    "direct_payment"
                    if inv.customer.billing_method == BillingMethod.DIRECT_PAYMENT
                    else "bank"
                )
                payment_rows.append(
                    (self.new_id(), inv.id, inv.paid_on, inv.incl, inv.reference, source,
                     datetime.combine(inv.paid_on + timedelta(days=1), time(4), HELSINKI))
                )  # fmt: skip
        case_rows: list[Row] = [
            (case.id, case.customer.id, case.agency_id, case.stage, case.opened_on, case.closed_on,
             case.amount_due, datetime.combine(case.opened_on, time(9), HELSINKI))
            for case in cases
        ]  # fmt: skip
        case_invoice_rows: list[Row] = [
            (case.id, invoice.id) for case in cases for invoice in case.invoices
        ]
        consumption = ConsumptionRows(series, timeline)

        def table(
            summary: str, name: str, columns: str, rows: Iterable[Row], count: int
        ) -> TableRows:
            return TableRows(summary, name, tuple(columns.split()), rows, count)

        def listed(summary: str, name: str, columns: str, rows: list[Row]) -> TableRows:
            return table(summary, name, columns, rows, len(rows))

        tables = (
            listed("organisations", "organisation",
                   "id code name business_id kind description created_at", org_rows),
            listed("products", "product", "id code name kind fixed_term_months description",
                   product_rows),
            listed("prices", "price",
                   "id product_id energy_price_c_per_kwh spot_margin_c_per_kwh "
                   "basic_fee_eur_per_month vat_rate valid_from valid_to", price_rows),
            listed("customers", "customer",
                   "id customer_number kind first_name last_name organisation_name "
                   "personal_identity_code business_id street_address postal_code post_office "
                   "country email phone language direct_marketing_objection_at "
                   "direct_marketing_objection_source distance_selling_objection_at "
                   "distance_selling_objection_source research_objection_at "
                   "research_objection_source former_customer_since created_at updated_at",
                   customer_rows),
            listed("prospects", "prospect",
                   "id first_name last_name email phone postal_code source campaign "
                   "marketing_consent_at consent_text consent_expires_on created_at",
                   prospect_rows),
            listed("sites", "site",
                   "id customer_id metering_point_id street_address postal_code post_office "
                   "housing_type ownership heating_type heating_depends_on_electricity "
                   "annual_consumption_estimate_kwh main_fuse connection_id grid_operator "
                   "connection_power_kw connected_on created_at updated_at", site_rows),
            listed("offers", "offer",
                   "id customer_id prospect_id site_id product_id energy_price_c_per_kwh "
                   "spot_margin_c_per_kwh basic_fee_eur_per_month valid_until status created_at",
                   offer_rows),
            listed("contracts", "contract",
                   "id contract_number customer_id site_id product_id offer_id "
                   "energy_price_c_per_kwh spot_margin_c_per_kwh basic_fee_eur_per_month "
                   "start_date end_date status sales_channel created_at", contract_rows),
            table("consumption", "consumption",
                  "site_id resolution day energy_kwh quality", consumption,
                  len(consumption)),
            listed("invoices", "invoice",
                   "id invoice_number customer_id contract_id reference_number billing_method "
                   "issue_date due_date period_start period_end total_excl_vat vat_amount "
                   "total_incl_vat status created_at", invoice_rows),
            listed("invoice_lines", "invoice_line",
                   "invoice_id line_number description quantity unit unit_price vat_rate "
                   "amount_excl_vat vat_amount", line_rows),
            listed("payments", "payment",
                   "id invoice_id paid_on amount reference_number source created_at",
                   payment_rows),
            listed("security_deposits", "security_deposit",
                   "id customer_id contract_id amount received_on returned_on status reason",
                   deposit_rows),
            listed("collection_cases", "collection_case",
                   "id customer_id agency_id stage opened_on closed_on amount_due created_at",
                   case_rows),
            listed("collection_case_invoices", "collection_case_invoice",
                   "collection_case_id invoice_id", case_invoice_rows),
            listed("assignments", "assignment",
                   "id organisation_id customer_id site_id purpose valid_from valid_to "
                   "revoked_at created_at", assignment_rows),
        )  # fmt: skip
        max_numbers: dict[tuple[str, str], int] = {}
        if customers:
            max_numbers[("customer", "customer_number")] = customers[-1].number
        if contracts:
            max_numbers[("contract", "contract_number")] = contracts[-1].number
        if invoices:
            max_numbers[("invoice", "invoice_number")] = invoices[-1].number
        return SeedData(tables, max_numbers)


@dataclass(slots=True)
class _Case:
    id: uuid.UUID
    customer: _Customer
    agency_id: uuid.UUID
    stage: str
    opened_on: date
    closed_on: date | None
    amount_due: Decimal
    invoices: list[_Invoice]


def generate(
    *,
    customers: int,
    seed: int,
    today: date,
    consumption_share: float = 0.05,
    existing_organisations: dict[str, uuid.UUID] | None = None,
    progress: Progress = NO_PROGRESS,
) -> SeedData:
    """All seed rows for ``customers`` customers, deterministic in (arguments).

    ``existing_organisations`` maps organisation codes already in the database to
    their ids: those rows are not generated again, and references use the ids.
    ``progress`` follows the customers made (the rest takes a fraction of their time).
    """
    generator = _Generator(customers, seed, today, consumption_share, progress)
    # Millions of small objects and no reference cycles: the cyclic collector would
    # only rescan them over and over.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return generator.run(dict(existing_organisations or {}))
    finally:
        if was_enabled:
            gc.enable()
