"""Reads of prospects."""

from __future__ import annotations

from server.prospects.models import Prospect

prospect_table = Prospect.__table__  # type: ignore[attr-defined]
