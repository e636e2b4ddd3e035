"""Rules of the sites domain: register a usage site and rectify its data (with history),
and the windows and day rows of its consumption."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

from server.customers.loaders import customer_table
from server.graphql.context import RequestContext
from server.graphql.errors import UserInputError
from server.graphql.loading import Row
from server.operations.inputs import FieldRules, text_input
from server.operations.writes import Writes, load_in_scope, refuse_duplicate
from server.rights.models import ChangedType
from server.rights.rectification import Changed, Kept
from server.sites.loaders import site_table
from server.validators import validate_gsrn, validate_main_fuse, validate_postal_code

MAX_ESTIMATE_KWH = 100_000_000
MAX_POWER_KW = Decimal(100_000_000)
DEFAULTS = {"heating_depends_on_electricity": False}  # written when not given (or null)


def _estimate(value: int | None, field: str) -> int | None:
    if value is not None and not 0 <= value <= MAX_ESTIMATE_KWH:
        raise UserInputError(
            f"{field} must be between 0 and {MAX_ESTIMATE_KWH}", field=field, reason="out of range"
        )
    return value


def _power(value: Decimal | None, field: str) -> Decimal | None:
    if value is None:
        return None
    if not Decimal(0) < value < MAX_POWER_KW:
        raise UserInputError(f"{field} must be positive", field=field, reason="out of range")
    return value.quantize(Decimal("0.01"))


RULES = FieldRules(
    required=frozenset(
        {
            "metering_point_id",
            "street_address",
            "postal_code",
            "post_office",
            "housing_type",
            "ownership",
            "heating_type",
            "heating_depends_on_electricity",
            "main_fuse",
            "connection_id",
            "grid_operator",
        }
    ),
    text_limits={
        "street_address": 200,
        "post_office": 100,
        "connection_id": 40,
        "grid_operator": 200,
    },
    identifiers={
        "metering_point_id": validate_gsrn,
        "postal_code": validate_postal_code,
        "main_fuse": validate_main_fuse,
    },
    checks={"annual_consumption_estimate_kwh": _estimate, "connection_power_kw": _power},
)


async def check_metering_point_free(
    ctx: RequestContext, gsrn: str | None, *, site_id: uuid.UUID | None
) -> None:
    message = "This metering point is already registered to another site"
    column = site_table.c.metering_point_id
    await refuse_duplicate(
        ctx, column, gsrn, message, row_id=site_id, field="input.meteringPointId"
    )


async def create_site(
    *, ctx: RequestContext, customer_id: Any, fields: Mapping[str, Any], reason: str | None
) -> Changed:
    """Register a usage site for a customer.

    Its creation is an entry of the holder's history."""
    Writes("Site", (*fields, *(name for name in DEFAULTS if name not in fields))).check(ctx)
    holder = await load_in_scope(
        ctx, customer_table, "Customer", customer_id, field="input.customerId", lock=False
    )
    values = RULES.clean(fields)
    for name, default in DEFAULTS.items():
        if values.get(name) is None:
            values[name] = default
    await check_metering_point_free(ctx, values["metering_point_id"], site_id=None)
    reason = text_input(reason, field="input.reason", max_length=1000) or "site registered"
    return await SITE.create(ctx, values, reason=reason, customer_id=holder["id"])


async def _rectified_values(
    ctx: RequestContext, current: Row, sent: Mapping[str, Any]
) -> dict[str, Any]:
    values = RULES.clean(sent)
    if "metering_point_id" in values:
        await check_metering_point_free(ctx, values["metering_point_id"], site_id=current["id"])
    return values


SITE = Kept(ChangedType.SITE, site_table, "customer_id", "input.siteId", _rectified_values)


async def update_site(*, ctx: RequestContext, site_id: Any, **change: Any) -> Changed:
    """Rectify a site's data (housing, heating, fuse, consumption estimate, address, connection);
    previous values are kept in the holder's history.

    `change`: the fields sent, and the reason or the data-subject request answered."""
    return await SITE.rectify(ctx, site_id, **change)


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
