"""Rules of the sites domain that do not depend on GraphQL or the database."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

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
