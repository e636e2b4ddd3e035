"""The reference file of the metering-data import: a year of hourly values for 1,000 sites
(8.76 million values) in Datahub's customer-portal CSV, written as a stream.

    .venv/bin/python bench/consumption_file.py OUT.csv [--sites 1000] [--year 2025]
        [--quarter-hours]

Metering points are `site_gsrn(n)` for n in 0..sites-1 (the benchmark creates the sites);
values are a deterministic daily and seasonal profile with Wh precision, an estimated value
now and then, and with --gaps a gap (MISSING) now and then.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.imports.consumption import ACTIVE_ENERGY, DATAHUB_HEADER
from server.validators import make_gsrn

GSRN_PREFIX = "6430099"  # 7 digits: the bench's own GS1 company prefix and range


def site_gsrn(number: int) -> str:
    return make_gsrn(f"{GSRN_PREFIX}{number:010d}")


def rows(sites: int, year: int, resolution: str, gaps: bool = False) -> Iterator[str]:
    """The file's rows, site after site, step after step (as Datahub writes them)."""
    step = timedelta(minutes=15 if resolution == "PT15M" else 60)
    # Local (Helsinki, UTC+2 in January) midnight of 1 January, to the next year's.
    start = datetime(year - 1, 12, 31, 22, tzinfo=UTC)
    steps = int((datetime(year, 12, 31, 22, tzinfo=UTC) - start) / step)
    times = [(start + n * step).strftime("%Y-%m-%dT%H:%M:%SZ") for n in range(steps)]
    scale = step / timedelta(hours=1)
    for number in range(sites):
        gsrn = site_gsrn(number)
        base = 0.3 + (number % 17) / 10
        for n, moment in enumerate(times):
            if gaps and (n + number) % 997 == 0:
                yield f"{gsrn};{ACTIVE_ENERGY};{resolution};kWh;BN01;{moment};;MISSING"
                continue
            hour = int(moment[11:13])
            season = 1 + 0.5 * math.cos(2 * math.pi * n / len(times))
            daily = 1 + 0.6 * math.sin(math.pi * (hour - 6) / 12)
            wh = round(base * season * daily * scale * 1000)
            quality = "ESTIMATED" if (n + number) % 1009 == 0 else "OK"
            yield (
                f"{gsrn};{ACTIVE_ENERGY};{resolution};kWh;BN01;{moment};"
                f"{wh // 1000},{wh % 1000:03d}000;{quality}"
            )


def write(
    path: Path, *, sites: int, year: int, resolution: str = "PT1H", gaps: bool = False
) -> int:
    """Write the file; returns the number of rows."""
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(DATAHUB_HEADER + "\n")
        for row in rows(sites, year, resolution, gaps):
            out.write(row + "\n")
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--quarter-hours", action="store_true", help="PT15M instead of PT1H")
    parser.add_argument("--gaps", action="store_true", help="a MISSING row now and then")
    args = parser.parse_args()
    resolution = "PT15M" if args.quarter_hours else "PT1H"
    count = write(args.out, sites=args.sites, year=args.year, resolution=resolution, gaps=args.gaps)
    print(f"wrote {count:,} rows, {args.out.stat().st_size:,} bytes to {args.out}")


if __name__ == "__main__":
    main()
