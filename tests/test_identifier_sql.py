"""The SQL identifier checks agree with server.validators, on a real PostgreSQL.

The fi_valid_* functions of migrations/sql/identifier_checks.sql back CHECK
constraints, so the database must accept exactly the canonical values the
Python validators return: fi_valid_x(v) is true iff validate_x(v) == v.

The functions are created in a temporary schema inside a transaction that is
rolled back, so the database is left as it was. The server is the test suite's
(TEST_DATABASE_URL, or the embedded PostgreSQL).
"""

from __future__ import annotations

import asyncio
import datetime
import random
import re
import secrets
import string
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from server.validators import (
    IBAN_LENGTHS,
    IdentifierError,
    make_reference,
    make_rf_reference,
    validate_business_id,
    validate_gsrn,
    validate_hetu,
    validate_iban,
    validate_reference,
    validate_rf_reference,
)

SQL_FILE = Path(__file__).resolve().parents[1] / "migrations" / "sql" / "identifier_checks.sql"
SEED = 20231219  # the day the first Y-sign code was issued
RANDOM_CASES = 2000

VALIDATORS: dict[str, Callable[[str], str]] = {
    "fi_valid_hetu": validate_hetu,  # default: temporary 9xx codes refused
    "fi_valid_business_id": validate_business_id,
    "fi_valid_gsrn": validate_gsrn,
    "fi_valid_reference": validate_reference,
    "fi_valid_rf_reference": validate_rf_reference,
    "fi_valid_iban": validate_iban,
}

# The fact sheet's valid and invalid examples, as typed (normalised forms are
# added by `_cases`).
EXAMPLES: dict[str, list[str]] = {
    "fi_valid_hetu": [
        "131052-308T", "290224A004M", "010100A002H", "100190-999P", "100190Y999P",
        "010594Y9032", "020594X903P", "030594W903B", "040594V9030", "050594U903M",
        "010516B903X", "020516C903K", "030516D9037", "010501E9032", "020503F9037",
        "020504A902E", "020504B904H", "131052-308U", "310252-308Y", "290223A004K",
        "131052G308T", "131052-001F", "010190-999K", "010190Y999K", "010190-999W",
        "010190Y999W", "010150+002D", "311299-0029", "290200A002C", "290200-002C",
        "131052-308t", " 131052-308T", "131052-308T\n", "",
    ],
    "fi_valid_business_id": [
        "2077474-0", "0737546-2", "1366959-8", "0112038-9", "1234567-1", "2077474-1",
        "1234567-9", *[f"1234568-{k}" for k in range(10)], "1234568-x", "20774740",
        "737546-2", " 2077474-0", "",
    ],
    "fi_valid_gsrn": [
        "643007127000012344", "643007127000012345", "64300712700001234",
        "857643212345678921", " 643007127000012344", "",
    ],
    "fi_valid_reference": [
        "1234561", "2348236", "11112", "10003", "00000000000001234561", "12 34561",
        "1234560", "123", "0000", "0000123", "01234561", "",
    ],
    "fi_valid_rf_reference": [
        "RF33 2348 236", "RF332348236", "RF34 1234 561", "RF98 11112", "RF9811112",
        "RF48 5000 0567 8901 2345", "RF18 5390 0754 7034", "RF45G72UUR", "RF6518K5",
        "rf6518k5", "RF9911112", "RF35C4", "RF214377", "",
    ],
    "fi_valid_iban": [
        "FI3715903000000776", "FI37 1590 3000 0007 76", "FI3715903000000777",
        "FI2112345600000785", "DE89370400440532013000", "GB82WEST12345698765432",
        "NO9386011117947", "FR1420041010050500013M02606", "XX3715903000000776",
        "FI0115903000000776", "fi3715903000000776", "",
    ],
}  # fmt: skip

# Characters for mutations and random strings, including traps: lower case,
# whitespace, Unicode digits (U+0663, U+00B2), letters that upper-case to
# ASCII (U+00DF, U+017F) and a Kelvin sign (U+212A).
ALPHABET = (
    string.digits * 3
    + string.ascii_uppercase
    + "abcfhrxyz"
    + "-+ \t\n_.,/"
    + "\u00c4\u00f6\u0663\u00b2\u00df\u017f\u212a\u00a0"
)
HETU_CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
HETU_SIGNS = {1800: "+", 1900: "-YXWVU", 2000: "ABCDEF"}


# --------------------------------------------------------------------------
# Generated values (valid or nearly so)
# --------------------------------------------------------------------------


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _mod97(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text)) % 97


def _gen_hetu(rng: random.Random) -> str:
    day = datetime.date(1800, 1, 1) + datetime.timedelta(days=rng.randrange(300 * 366 - 400))
    sign = rng.choice(HETU_SIGNS[day.year // 100 * 100])
    individual = rng.choice([rng.randrange(1000), rng.randrange(2, 900), rng.randrange(2, 900)])
    base = f"{day:%d%m}{day.year % 100:02d}"
    check = HETU_CHECK_CHARS[int(f"{base}{individual:03d}") % 31]
    if rng.random() < 0.1:
        check = rng.choice(HETU_CHECK_CHARS)
    return f"{base}{sign}{individual:03d}{check}"


def _gen_business_id(rng: random.Random) -> str:
    body = _digits(rng, 7)
    total = sum(int(d) * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    check = rng.choice(string.digits) if total == 1 else str(0 if total == 0 else 11 - total)
    return f"{body}-{check}"


def _gen_gsrn(rng: random.Random) -> str:
    body = rng.choice(["643", "640", "857", _digits(rng, 3)]) + _digits(rng, 14)
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _gen_reference(rng: random.Random) -> str:
    reference = make_reference(str(rng.randint(1, 9)) + _digits(rng, rng.randint(2, 18)))
    if rng.random() < 0.2:
        reference = reference.zfill(rng.randint(len(reference), 20))
    return reference


def _gen_rf_reference(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return make_rf_reference(_gen_reference(rng))
    body = "".join(
        rng.choice(string.digits + string.ascii_uppercase) for _ in range(rng.randint(1, 21))
    )
    return f"RF{98 - _mod97(body + 'RF00'):02d}{body}"


def _gen_iban(rng: random.Random) -> str:
    country = rng.choice([*IBAN_LENGTHS, "FI", "FI", "FI", "DE", "SE"])
    chars = string.digits if country == "FI" or rng.random() < 0.5 else string.digits + "ABCXYZ"
    bban = "".join(rng.choice(chars) for _ in range(IBAN_LENGTHS[country] - 4))
    return f"{country}{98 - _mod97(bban + country + '00'):02d}{bban}"


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "fi_valid_hetu": _gen_hetu,
    "fi_valid_business_id": _gen_business_id,
    "fi_valid_gsrn": _gen_gsrn,
    "fi_valid_reference": _gen_reference,
    "fi_valid_rf_reference": _gen_rf_reference,
    "fi_valid_iban": _gen_iban,
}


def _check_digit_aliases(rng: random.Random, function: str) -> list[str]:
    """Valid values with check digits 02, 97 or 98, and their mod-97 aliases 99, 00, 01.

    Both pass the MOD 97-10 sum; only the 02-98 range rule refuses the alias.
    """
    generate = GENERATORS[function]
    aliases: list[str] = []
    while len(aliases) < 30:
        value = generate(rng)
        check = int(value[2:4])
        if check in (2, 97, 98):
            alias = check + 97 if check == 2 else check - 97
            aliases += [value, f"{value[:2]}{alias:02d}{value[4:]}"]
    return aliases


def _mutate(rng: random.Random, value: str) -> str:
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        i = rng.randrange(len(value) + 1)
        operation = rng.randrange(9)
        if operation == 0 and value:  # substitute
            i = min(i, len(value) - 1)
            value = value[:i] + rng.choice(ALPHABET) + value[i + 1 :]
        elif operation == 1:  # insert
            value = value[:i] + rng.choice(ALPHABET) + value[i:]
        elif operation == 2 and value:  # delete
            i = min(i, len(value) - 1)
            value = value[:i] + value[i + 1 :]
        elif operation == 3 and len(value) > 1:  # transpose
            i = min(i, len(value) - 2)
            value = value[:i] + value[i + 1] + value[i] + value[i + 2 :]
        elif operation == 4:
            value = value.lower()
        elif operation == 5:
            value = rng.choice([" ", "\t", "\n", "\u00a0"]) + value + rng.choice(["", " "])
        elif operation == 6:
            value = value[:i] + " " + value[i:]
        elif operation == 7:
            value = "0" + value
        else:
            value = value[: rng.randrange(len(value) + 1)]
    return value


def _cases(function: str) -> list[str]:
    """Examples, generated values, mutations and random strings, plus normal forms."""
    rng = random.Random(f"{SEED}:{function}")
    generate = GENERATORS[function]
    values = list(EXAMPLES[function])
    for _ in range(RANDOM_CASES // 4):
        values.append(generate(rng))
    for _ in range(RANDOM_CASES // 2):
        values.append(_mutate(rng, generate(rng)))
    for _ in range(RANDOM_CASES // 4):
        values.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 25))))
    if function in ("fi_valid_rf_reference", "fi_valid_iban"):
        values += _check_digit_aliases(rng, function)
    normalised = [n for v in values if (n := _python(function, v)) is not None]
    return list(dict.fromkeys(values + normalised))


def _python(function: str, value: str) -> str | None:
    """The canonical form of ``value``, or None when the validator refuses it."""
    try:
        return VALIDATORS[function](value)
    except IdentifierError:
        return None


# --------------------------------------------------------------------------
# Database
# --------------------------------------------------------------------------


async def _evaluate(
    cases: dict[str, list[str]], dsn: str
) -> tuple[dict[str, list[bool | None]], list[str]]:
    """Run every fi_valid_* function over its cases (and over NULL) in a throwaway schema."""
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        transaction = conn.transaction()
        await transaction.start()
        try:
            schema = f"tmp_{secrets.token_hex(8)}"
            await conn.execute(f"CREATE SCHEMA {schema}")
            await conn.execute(f"SET LOCAL search_path TO {schema}")
            await conn.execute(SQL_FILE.read_text(encoding="utf-8"))
            results: dict[str, list[bool | None]] = {}
            for function, values in cases.items():
                rows = await conn.fetch(
                    f"SELECT {function}(v) AS ok FROM unnest($1::text[]) WITH ORDINALITY"
                    " AS t(v, n) ORDER BY n",
                    values,
                )
                results[function] = [row["ok"] for row in rows]
                null_result = await conn.fetchval(f"SELECT {function}(NULL)")
                results[function + "(NULL)"] = [null_result]
            properties = await conn.fetch(
                "SELECT proname, provolatile::text, proisstrict, proparallel::text FROM pg_proc"
                " WHERE pronamespace = $1::regnamespace ORDER BY proname",
                schema,
            )
            described = [
                f"{r['proname']} {r['provolatile']}{r['proisstrict']}{r['proparallel']}"
                for r in properties
            ]
        finally:
            await transaction.rollback()
    finally:
        await conn.close()
    return results, described


# The cases per function, the results per SQL expression, and how each SQL function is
# described (see sql_run).
SqlRun = tuple[dict[str, list[str]], dict[str, list[bool | None]], list[str]]


@pytest.fixture(scope="module")
def sql_run(server_url: str) -> SqlRun:
    cases = {function: _cases(function) for function in VALIDATORS}
    results, described = asyncio.run(_evaluate(cases, server_url))
    return cases, results, described


@pytest.mark.parametrize("function", list(VALIDATORS))
def test_sql_agrees_with_python(sql_run: SqlRun, function: str) -> None:
    cases, results, _ = sql_run
    values = cases[function]
    assert len(values) >= RANDOM_CASES
    expected = [_python(function, v) == v for v in values]
    mismatches = [
        (value, got, want)
        for value, got, want in zip(values, results[function], expected, strict=True)
        if got is not want
    ]
    assert mismatches == [], f"{function}: (value, SQL, Python) {mismatches[:20]}"
    # The random cases must exercise both answers.
    accepted = sum(expected)
    assert accepted >= len(values) // 10
    assert len(values) - accepted >= len(values) // 10


@pytest.mark.parametrize("function", list(VALIDATORS))
def test_sql_null_gives_null(sql_run: SqlRun, function: str) -> None:
    _, results, _ = sql_run
    assert results[function + "(NULL)"] == [None]


def test_sql_functions_immutable_strict_parallel_safe(sql_run: SqlRun) -> None:
    _, _, described = sql_run
    assert described == [f"{function} iTrues" for function in sorted(VALIDATORS)]


def test_sql_file_is_safe_for_migrations() -> None:
    sql = SQL_FILE.read_text(encoding="utf-8")
    # Runs inside Alembic's transaction, in the schema search_path names.
    assert re.search(r"\b(BEGIN|COMMIT|ROLLBACK)\s*;", sql, re.IGNORECASE) is None
    assert re.search(r"\b(public|pg_temp)\.", sql, re.IGNORECASE) is None
    # Every function can be re-run.
    assert sql.count("CREATE OR REPLACE FUNCTION") == len(VALIDATORS)
    assert "CREATE FUNCTION" not in sql
    # No ":name" that SQLAlchemy's text() would take for a bind parameter.
    assert re.search(r"(?<![:\w\\]):\w", sql) is None
