"""Reads of prospects."""

from __future__ import annotations

from server.db.tables import table_of
from server.prospects.models import Prospect

prospect_table = table_of(Prospect)
