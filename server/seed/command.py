"""`rekisteri seed`: fill an empty database as its owner, optionally with demo users."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from datetime import date

import asyncpg

from server.cli_progress import NO_PROGRESS, Progress
from server.db.engine import plain_url, resolve_database_url_async
from server.seed.generator import SeedSummary
from server.seed.loader import SeedError, seed_database
from server.settings import Settings

# Which organisation a demo user of a subcontractor role belongs to (by role name).
_SUBCONTRACTOR_ORGANISATIONS = (("collection", "perinta-a"), ("field", "kenttapalvelu-a"))


def demo_roles(settings: Settings) -> list[tuple[str, str]]:
    """(role, organisation code) for every role of the policy's roles.csv.

    Company roles belong to ``ksat``; subcontractor roles to the first collection
    agency or field service company the seed creates.
    """
    pairs: list[tuple[str, str]] = []
    text = (settings.policy_dir / "roles.csv").read_text(encoding="utf-8")
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        cells = [c.strip() for c in next(csv.reader(io.StringIO(stripped), skipinitialspace=True))]
        role, kind = cells[0], cells[2] if len(cells) > 2 else "company"
        organisation = "ksat"
        if kind != "company":
            organisation = next(
                (code for word, code in _SUBCONTRACTOR_ORGANISATIONS if word in role), "ksat"
            )
        pairs.append((role, organisation))
    return pairs


async def _seed(
    settings: Settings,
    *,
    customers: int,
    seed: int,
    today: date,
    if_empty: bool,
    progress: Progress = NO_PROGRESS,
) -> SeedSummary | None:
    url = plain_url(await resolve_database_url_async(settings))
    conn = await asyncpg.connect(url)
    try:
        if if_empty and await conn.fetchval("SELECT EXISTS (SELECT 1 FROM customer)"):
            return None
        summary = await seed_database(
            conn, customers=customers, seed=seed, today=today, progress=progress
        )
        # Fresh planner statistics: without them the first queries scan whole tables.
        await conn.execute("ANALYZE")
        return summary
    finally:
        await conn.close()


async def _demo_users(settings: Settings) -> list[tuple[str, str, str]]:
    from server.cli_support import owner_session
    from server.identity.demo import create_demo_users

    async with owner_session(settings) as session:
        return await create_demo_users(session=session, roles_with_orgs=demo_roles(settings))


def run_seed(
    settings: Settings,
    *,
    customers: int,
    seed: int,
    demo: bool,
    today: date,
    if_empty: bool,
    progress: Progress = NO_PROGRESS,
) -> int:
    """Seed the configured database; return the process exit status."""
    started = time.perf_counter()
    seeding = _seed(
        settings,
        customers=customers,
        seed=seed,
        today=today,
        if_empty=if_empty,
        progress=progress,
    )
    try:
        summary = asyncio.run(seeding)
    except SeedError as exc:
        print(f"error: {exc}")
        return 1
    if summary is None:
        print("the database already has customers: nothing seeded")
        return 0
    print(summary.as_table())
    print(f"seeded {customers:,} customers (seed {seed}) in {time.perf_counter() - started:.1f} s")
    if demo:
        print("\ndemo users (passwords are shown only now):")
        for username, role, password in asyncio.run(_demo_users(settings)):
            print(f"  {username:<28} {role:<20} {password}")
    return 0
