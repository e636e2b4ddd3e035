"""``python -m server.seed --database-url postgresql://owner@host/db --customers 10000``.

Seeds a freshly migrated database (connecting as its owner) and prints the row counts.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import date

import asyncpg

from server.seed.loader import seed_database


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m server.seed", description=__doc__)
    parser.add_argument("--database-url", required=True, help="owner's postgresql:// URL")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)"
    )
    parser.add_argument("--consumption-share", type=float, default=0.05)
    return parser.parse_args(argv)


async def _main(args: argparse.Namespace) -> None:
    conn = await asyncpg.connect(args.database_url)
    try:
        started = time.perf_counter()
        summary = await seed_database(
            conn,
            customers=args.customers,
            seed=args.seed,
            today=args.today or date.today(),
            consumption_share=args.consumption_share,
        )
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    print(summary.as_table())
    print(f"seeded in {elapsed:.1f} s")


def main(argv: list[str] | None = None) -> None:
    asyncio.run(_main(_parse_args(argv)))


if __name__ == "__main__":
    main()
