"""Deterministic seed data for the customer register.

``await seed_database(conn, customers=10_000, seed=1, today=date(2026, 11, 24))``
fills an empty, migrated database (as its owner) and returns a `SeedSummary`.
`generator` builds the rows without touching a database; `loader` COPYs them.
"""

from server.seed.generator import SeedData, SeedSummary, generate
from server.seed.loader import SeedError, seed_database

__all__ = ["SeedData", "SeedError", "SeedSummary", "generate", "seed_database"]
