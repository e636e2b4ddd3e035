"""Rules of the prospects domain that do not depend on GraphQL or the database."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

DEFAULT_CONSENT_DAYS: Final = 730  # a consent is relied on for two years unless it says otherwise


def consent_expires_on(*, given_at: datetime, expires_on: date | None = None) -> date:
    """The last day a marketing consent given at `given_at` is relied on."""
    return expires_on or given_at.date() + timedelta(days=DEFAULT_CONSENT_DAYS)
