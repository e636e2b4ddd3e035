"""The seed's assignments: field service companies get sites, collection agencies the
customers of their cases."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Final

from server.seed.draws import Draws, office_moment, sample_share
from server.seed.records import CollectionCase, Site
from server.seed.results import Row

__all__ = ["FIELD_SERVICES", "assignments"]

FIELD_SERVICES: Final = ("kenttapalvelu-a", "kenttapalvelu-b")
"""The field service companies' organisation codes."""


def assignments(
    draws: Draws,
    sites: Sequence[Site],
    cases: Sequence[CollectionCase],
    org_ids: dict[str, uuid.UUID],
) -> list[Row]:
    """1 % of the sites to each field service company (for delivery), current or past;
    each collection case's customer to its agency (for billing) while the case is open."""
    rng, today = draws.rng, draws.today
    rows: list[Row] = []
    for code in FIELD_SERVICES:
        for site in sample_share(rng, sites, 0.01, len(sites)):
            if rng.random() < 0.6:
                valid_from = today - timedelta(days=rng.randint(1, 200))
                valid_to = (
                    None if rng.random() < 0.3 else today + timedelta(days=rng.randint(14, 120))
                )
            else:
                valid_from = today - timedelta(days=rng.randint(100, 400))
                valid_to = valid_from + timedelta(days=rng.randint(14, 60))
            rows.append(
                (draws.new_id(), org_ids[code], None, site.id, "delivery", valid_from, valid_to,
                 None, office_moment(valid_from, rng))
            )  # fmt: skip
    for case in cases:
        rows.append(
            (draws.new_id(), case.agency_id, case.customer.id, None, "billing", case.opened_on,
             case.closed_on, None, office_moment(case.opened_on, rng))
        )  # fmt: skip
    return rows
