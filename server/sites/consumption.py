"""The rules of a site's consumption: how long a window each resolution answers, and how
consumption is stored (one row per site, resolution and UTC day, one quality letter per step).

Pure rules with no database access: the compiled planner, the seed generator, imports and the
access report use them as well as Site.consumption."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Final, TypeVar
from zoneinfo import ZoneInfo

from server.graphql.errors import UserInputError

# The longest window Site.consumption answers per resolution: about 3,000 points at most
# for the fine resolutions, and long enough for yearly (DAY) and multi-year (MONTH) views.
MAX_CONSUMPTION_WINDOW: Final[Mapping[str, timedelta]] = {
    "QUARTER_HOUR": timedelta(days=31),
    "HOUR": timedelta(days=93),
    "DAY": timedelta(days=2 * 366),
    "MONTH": timedelta(days=10 * 366),
}
WINDOW_LABELS: Final[Mapping[str, str]] = {
    "QUARTER_HOUR": "31 days",
    "HOUR": "93 days",
    "DAY": "2 years",
    "MONTH": "10 years",
}


def check_consumption_window(*, start: datetime, end: datetime, resolution: str) -> None:
    """Refuse a window that is empty or longer than its resolution allows (BAD_USER_INPUT
    naming the argument `to`, or `resolution` when it is unknown)."""
    if resolution not in MAX_CONSUMPTION_WINDOW:
        raise UserInputError(
            "resolution is not a known resolution", field="resolution", reason="unknown"
        )
    if end <= start:
        raise UserInputError("to must be after from", field="to", reason="empty period")
    if end - start > MAX_CONSUMPTION_WINDOW[resolution]:
        limit = WINDOW_LABELS[resolution]
        raise UserInputError(
            f"to: the window from `from` to `to` may be at most {limit} at resolution "
            f"{resolution}; use a shorter window or a coarser resolution",
            field="to",
            reason=f"window longer than {limit}",
        )


# Consumption is stored one row per site, resolution and UTC day (server/sites/models.py):
# step n of a day starts at 00:00 UTC plus n - 1 steps. Finland's offsets from UTC are
# whole hours, so a step boundary in UTC is one in local time as well.
STEPS_PER_DAY: Final[Mapping[str, int]] = {"PT15M": 96, "PT1H": 24}
STEP_MINUTES: Final[Mapping[str, int]] = {"PT15M": 15, "PT1H": 60}
QUALITY_LETTERS: Final[Mapping[str, str]] = {"measured": "m", "estimated": "e", "revised": "r"}
GAP_LETTER: Final = "-"
LOCAL_TIME: Final = ZoneInfo("Europe/Helsinki")  # the buckets of Site.consumption

T = TypeVar("T")


def step_of(*, period_start: datetime, resolution: str) -> tuple[date, int] | None:
    """The UTC day and the index (from 0) of the step that starts at `period_start`;
    None when no step of `resolution` starts then."""
    moment = period_start.astimezone(UTC)
    minutes = moment.hour * 60 + moment.minute
    step = STEP_MINUTES[resolution]
    if moment.second or moment.microsecond or minutes % step:
        return None
    return moment.date(), minutes // step


def contiguous_days(
    *, first: datetime, resolution: str, values: Sequence[T | None], letters: str
) -> Iterator[tuple[date, list[T | None], str]]:
    """Consecutive values from the step starting at `first` as consumption rows
    (UTC day, one value per step, one quality letter per step); steps before and after
    the values are gaps."""
    found = step_of(period_start=first, resolution=resolution)
    if found is None:
        raise ValueError(f"{first.isoformat()} is not the start of a {resolution} step")
    day, index = found
    steps = STEPS_PER_DAY[resolution]
    padded: list[T | None] = [None] * index
    padded.extend(values)
    quality = GAP_LETTER * index + letters
    tail = -len(padded) % steps
    padded += [None] * tail
    quality += GAP_LETTER * tail
    for n, offset in enumerate(range(0, len(padded), steps)):
        yield (
            day + timedelta(days=n),
            padded[offset : offset + steps],
            quality[offset : offset + steps],
        )


def day_rows(
    *, resolution: str, points: Iterable[tuple[datetime, T, str]]
) -> list[tuple[date, list[T | None], str]]:
    """Values (start of the step, kWh, quality name) as consumption rows, one per UTC day;
    a value that starts no step of `resolution` raises ValueError."""
    steps = STEPS_PER_DAY[resolution]
    days: dict[date, tuple[list[T | None], list[str]]] = {}
    for start, value, quality in points:
        found = step_of(period_start=start, resolution=resolution)
        if found is None:
            raise ValueError(f"{start.isoformat()} is not the start of a {resolution} step")
        day, index = found
        values, letters = days.setdefault(day, ([None] * steps, [GAP_LETTER] * steps))
        values[index] = value
        letters[index] = QUALITY_LETTERS[quality]
    return [(day, values, "".join(letters)) for day, (values, letters) in sorted(days.items())]
