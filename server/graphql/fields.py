"""Field helpers: every field carries a description; personal data is marked as such."""

from __future__ import annotations

from typing import Any

import strawberry

PERSONAL_DATA = "personal_data"


def data(description: str) -> Any:
    """A field of register data; the policy decides whether it is read, masked or denied."""
    return strawberry.field(description=description, default=None)


def personal(description: str) -> Any:
    """Personal data: `policy check` requires an explicit rule for every role."""
    return strawberry.field(description=description, default=None, metadata={PERSONAL_DATA: True})
