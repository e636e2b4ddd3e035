"""The one random source of a seed run, and the small draws every part of it makes.

Every random choice of a run comes from one ``random.Random(seed)``, drawn in a fixed
order: the same seed gives the same rows. Ids are drawn too, and every date is derived
from ``today`` (no clock is read).
"""

from __future__ import annotations

import calendar
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, TypeVar
from zoneinfo import ZoneInfo

__all__ = [
    "CENT",
    "HELSINKI",
    "ZERO",
    "Draws",
    "add_months",
    "fi_date",
    "money",
    "month_end",
    "office_moment",
    "sample_share",
    "season_cos",
    "weighted",
]

HELSINKI: Final = ZoneInfo("Europe/Helsinki")
CENT: Final = Decimal("0.01")
ZERO: Final = Decimal("0.00")

T = TypeVar("T")


@dataclass(slots=True)
class Draws:
    """The run's random source and the day the data is generated for."""

    rng: random.Random
    today: date

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)


def weighted(rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    """One of the options, each as likely as its weight."""
    total = sum(weight for _, weight in options)
    pick = rng.random() * total
    for value, weight in options:
        pick -= weight
        if pick < 0:
            return value
    return options[-1][0]


def office_moment(
    day: date, rng: random.Random, first_hour: int = 8, last_hour: int = 16
) -> datetime:
    """A local office-hours moment on ``day``."""
    moment = time(rng.randint(first_hour, last_hour), rng.randrange(60), rng.randrange(60))
    return datetime.combine(day, moment, HELSINKI)


def money(value: Decimal) -> Decimal:
    """Rounded to cents, halves up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def fi_date(day: date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


def season_cos(day: date) -> float:
    """Cosine of the day of the year: 1 in late January, -1 in late July."""
    return math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365.25)


def sample_share(rng: random.Random, pool: Sequence[T], fraction: float, of: int) -> list[T]:
    """``round(of * fraction)`` members of `pool` (at least one unless `of` is 0, at most
    all of it), drawn without repetition."""
    wanted = max(1, round(of * fraction)) if of else 0
    return rng.sample(pool, min(len(pool), wanted))
