"""Synthetic metered consumption: an hourly series (and quarter hours for the last 30
days) for a share of the sites, and the lazy rows that carry it into the database."""

from __future__ import annotations

import random
import uuid
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Final

from server.seed.draws import HELSINKI, season_cos
from server.seed.records import Site
from server.seed.results import Row
from server.sites.consumption import QUALITY_LETTERS, contiguous_days
from server.sites.models import HeatingType, HousingType, Quality, Resolution

__all__ = ["ConsumptionRows", "Series", "Timeline", "make_series", "make_timeline"]

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
class Timeline:
    """The hours of the consumption window (local midnight to local midnight, in UTC)."""

    starts: tuple[datetime, ...]
    slot: bytes  # local hour of day, +24 on weekends
    season: tuple[float, ...]  # cos of the day of year, 1 in late January
    days: tuple[date, ...]
    day_starts: tuple[int, ...]  # first hour of each local day, and the end
    quarter_from: int  # first hour with PT15M data (the last 30 days)
    quarter_starts: tuple[datetime, ...]


def make_timeline(today: date, days_back: int = 365, quarter_days: int = 30) -> Timeline:
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
    return Timeline(
        starts=starts,
        slot=bytes(t.hour + (24 if t.weekday() >= 5 else 0) for t in local),
        season=tuple(season_cos(t.date()) for t in local),
        days=days,
        day_starts=(*day_starts, hours),
        quarter_from=quarter_from,
        quarter_starts=quarter_starts,
    )


@dataclass(slots=True)
class Series:
    site_id: uuid.UUID
    hourly: array[int]  # milli-kWh per hour
    quality: bytearray  # index into _QUALITIES per hour
    quarters: array[int] | None  # milli-kWh per 15 min over the last 30 days
    daily: dict[date, int]  # milli-kWh per local day (for invoicing)

    @property
    def rows(self) -> int:
        return len(self.hourly) + (len(self.quarters) if self.quarters is not None else 0)


def make_series(site: Site, timeline: Timeline, seed: int, with_quarters: bool) -> Series:
    """A year of hourly load shaped by the site's housing, heating and estimate; with
    quarter hours over the last 30 days when `with_quarters`."""
    rng = random.Random(seed)
    hourly = _hourly(site, timeline, rng)
    quality = _quality_runs(len(hourly), rng)
    quarters = _quarters(hourly, timeline.quarter_from, rng) if with_quarters else None
    bounds = timeline.day_starts
    daily = {day: sum(hourly[bounds[i] : bounds[i + 1]]) for i, day in enumerate(timeline.days)}
    return Series(site.id, hourly, quality, quarters, daily)


def _load_shape(site: Site) -> tuple[tuple[float, ...], float, float]:
    """The site's daily shape and its weekday and weekend factors."""
    if site.housing == HousingType.BUSINESS_PREMISES:
        return _normalised(_BUSINESS_SHAPE), 1.2, 0.5
    if site.heating == HeatingType.STORAGE_ELECTRIC:
        return _normalised(_STORAGE_SHAPE), 0.97, 1.08
    if site.housing == HousingType.HOLIDAY_HOME:
        return _normalised(_HOME_SHAPE), 0.76, 1.6
    return _normalised(_HOME_SHAPE), 0.97, 1.08


def _hourly(site: Site, timeline: Timeline, rng: random.Random) -> array[int]:
    """Milli-kWh per hour: the shape by slot, the season and a random factor."""
    rnd = rng.random
    shape, weekday_f, weekend_f = _load_shape(site)
    mean_milli = site.estimate / 8760.0 * 1000.0
    by_slot = [mean_milli * shape[h] * weekday_f for h in range(24)]
    by_slot += [mean_milli * shape[h] * weekend_f for h in range(24)]
    amplitude = site.amplitude
    return array(
        "i",
        [
            int(by_slot[slot] * (1.0 + amplitude * cos) * (0.8 + 0.4 * rnd()) + 0.5)
            for slot, cos in zip(timeline.slot, timeline.season, strict=True)
        ],
    )


def _quality_runs(hours: int, rng: random.Random) -> bytearray:
    """A quality code per hour: measured, with a few runs of estimated and revised hours."""
    quality = bytearray(hours)
    for code, runs, longest in (
        (1, rng.choice((0, 0, 1, 1, 2, 3)), 48),
        (2, rng.choice((0, 1, 1, 2)), 24),
    ):
        for _ in range(runs):
            begin = rng.randrange(hours)
            for i in range(begin, min(hours, begin + rng.randint(1, longest))):
                quality[i] = code
    return quality


def _quarters(hourly: array[int], first: int, rng: random.Random) -> array[int]:
    """Milli-kWh per quarter hour from hour `first` on: each hour split in four parts."""
    rnd = rng.random
    hours = len(hourly)
    quarters = array("i", bytes(4 * 4 * (hours - first)))
    for i in range(first, hours):
        total = hourly[i]
        weights = [0.85 + 0.3 * rnd() for _ in range(4)]
        scale = total / sum(weights)
        parts = [int(w * scale) for w in weights[:3]]
        parts.append(total - sum(parts))
        base = 4 * (i - first)
        quarters[base : base + 4] = array("i", parts)
    return quarters


class ConsumptionRows:
    """Lazy, re-iterable consumption rows (one per site, resolution and UTC day): millions of
    values never sit in memory at once."""

    def __init__(self, series: Sequence[Series], timeline: Timeline) -> None:
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
        letters = _QUALITY_LETTERS
        for series in self._series:
            quality = series.quality
            yield from _day_rows(
                series.site_id,
                Resolution.PT1H.value,
                timeline.starts[0],
                series.hourly,
                "".join(letters[q] for q in quality),
            )
            if series.quarters is not None:
                yield from _day_rows(
                    series.site_id,
                    Resolution.PT15M.value,
                    timeline.quarter_starts[0],
                    series.quarters,
                    "".join(letters[quality[first + j // 4]] for j in range(len(series.quarters))),
                )


def _day_rows(
    site_id: uuid.UUID, resolution: str, first: datetime, milli: array[int], letters: str
) -> Iterator[Row]:
    """A row per UTC day of the values (milli-kWh from `first`, a quality letter each)."""
    for day, values, day_letters in contiguous_days(
        first=first, resolution=resolution, values=[_kwh(m) for m in milli], letters=letters
    ):
        yield (site_id, resolution, day, values, day_letters)


def _utc_days(first: datetime, last: datetime) -> int:
    """How many UTC days the steps from `first` to `last` touch."""
    return (last.astimezone(UTC).date() - first.astimezone(UTC).date()).days + 1
