# ruff: noqa: S603, S607, ASYNC221 - a benchmark driver that starts its own processes
"""Benchmark of the reference page ("Q3"): 100 customers with sites, contracts and invoices
(nested pages of at most 10 sites, 10 contracts and 20 invoices per contract, as
bench/side_by_side.py asks every peer).

Usage (needs `hey` on PATH and a PostgreSQL server; the database is created if missing):

    .venv/bin/python bench/q3.py --database postgresql://postgres@127.0.0.1:5432/rk_bench \
        --customers 10000 --seconds 15

It migrates and seeds the database once, creates a benchmark user, starts the service with
two workers in production mode, and runs `hey` with 1 and 8 concurrent clients. Figures are
printed as a Markdown table; copy them into bench/RESULTS.md with the date and machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from measure import ensure_database

from server.audit.signing import generate_private_key_pem

ROOT = Path(__file__).resolve().parent.parent
Q3 = """
query Q3 {
  customers(first: 100) {
    edges { node {
      id customerNumber firstName lastName personalIdentityCode email phone streetAddress postalCode
      sites(first: 10) { edges { node {
        id meteringPointId streetAddress housingType heatingType mainFuse annualConsumptionEstimateKwh } } }
      contracts(first: 10) { edges { node {
        id contractNumber status startDate endDate basicFeeEurPerMonth spotMarginCPerKwh
        invoices(first: 20) { edges { node {
          id invoiceNumber referenceNumber issueDate dueDate totalInclVat status } } } } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def prepare(database: str, customers: int) -> None:
    await ensure_database(database)
    env = {**os.environ, "DATABASE_URL": database}
    subprocess.run(
        [sys.executable, "-m", "server.cli", "db", "upgrade"], env=env, check=True, cwd=ROOT
    )
    subprocess.run(
        [sys.executable, "-m", "server.cli", "seed", "--customers", str(customers), "--if-empty"],
        env=env,
        check=True,
        cwd=ROOT,
    )


async def bench_user(database: str, password: str) -> str:
    from server.identity.passwords import hash_password

    conn = await asyncpg.connect(database)
    try:
        username = "bench-" + secrets.token_hex(3)
        org = await conn.fetchval("SELECT id FROM organisation WHERE kind = 'company' LIMIT 1")
        await conn.execute(
            "INSERT INTO app_user (id, username, password_hash, organisation_id, roles, active,"
            " created_at, updated_at) VALUES (gen_random_uuid(), $1, $2, $3, $4, true, now(), now())",
            username,
            await hash_password(password),
            org,
            ["customer_service"],
        )
        return username
    finally:
        await conn.close()


def post_json(url: str, payload: dict[str, object], token: str | None = None) -> dict[str, object]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
        headers["x-purpose"] = "billing"
    request = urllib.request.Request(url, json.dumps(payload).encode(), headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        result: dict[str, object] = json.loads(response.read())
        return result


def run_hey(url: str, body: Path, token: str, clients: int, seconds: int) -> dict[str, float]:
    output = subprocess.run(
        [
            "hey",
            "-z",
            f"{seconds}s",
            "-c",
            str(clients),
            "-m",
            "POST",
            "-T",
            "application/json",
            "-D",
            str(body),
            "-H",
            f"Authorization: Bearer {token}",
            "-H",
            "X-Purpose: billing",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}  # type: ignore[union-attr]
    for label, key in (("50%", "p50"), ("99%", "p99")):
        match = re.search(rf"{label} in ([\d.]+) secs", output)
        figures[key] = float(match.group(1)) * 1000 if match else float("nan")
    codes = re.findall(r"\[(\d+)\]\s+(\d+) responses", output)
    figures["non_200"] = sum(int(n) for code, n in codes if code != "200")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/rk_bench")
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    asyncio.run(prepare(args.database, args.customers))
    password = secrets.token_urlsafe(18)
    username = asyncio.run(bench_user(args.database, password))
    env = {
        **os.environ,
        "DATABASE_URL": args.database,
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "AUDIT_SEAL_KEY": secrets.token_urlsafe(40),
        "AUDIT_SIGNING_KEY": generate_private_key_pem(),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "server.app:create_app",
            "--port",
            str(args.port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-proxy-headers",
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"{base}/readyz", timeout=2)  # noqa: S310
                break
            except OSError:
                time.sleep(0.5)
        token = str(
            post_json(f"{base}/auth/token", {"username": username, "password": password})[
                "access_token"
            ]
        )
        sample = post_json(f"{base}/graphql", {"query": Q3}, token)
        text = json.dumps(sample)
        objects = text.count('"id"')
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump({"query": Q3}, handle)
            body = Path(handle.name)
        one = run_hey(f"{base}/graphql", body, token, 1, args.seconds)
        eight = run_hey(f"{base}/graphql", body, token, 8, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"Q3 on {args.customers:,} customers, {datetime.now(UTC):%Y-%m-%d}, {args.workers} workers"
    )
    print(f"response: {len(text):,} bytes, {objects:,} objects")
    print("| clients | req/s | p50 ms | p99 ms | non-200 |")
    print("|---|---|---|---|---|")
    for clients, figures in ((1, one), (8, eight)):
        print(
            f"| {clients} | {figures['rps']:.1f} | {figures['p50']:.1f} | {figures['p99']:.1f} | {figures['non_200']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
