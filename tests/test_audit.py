"""The access log in the database: append-only, one round trip, sealed, verifiable."""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from server.audit.records import EventKind, ObjectAccess, Outcome
from server.audit.seal import (
    ZERO_ROOT,
    leaf_hash,
    merkle_root,
    node_hash,
    parse_ranges,
    ranges_text,
    run_sealer,
    seal_pending,
    seq_ranges,
)
from server.audit.service import (
    log_object_id,
    request_insert_sql,
    request_parameters,
    subject_rows,
    write_access_log,
    write_event,
)
from server.audit.signing import Keyring, generate_private_key_pem, keyring_for, signer_for
from server.audit.verify import verify
from server.db.session import StatementCounter
from tests import dbserver
from tests.dbserver import Database
from tests.factories import customer_objects, request_record

LOG_TABLES = ("access_log_request", "access_log_object", "access_log_seal", "access_log_retention")


async def write(
    db: Database, objects: list[ObjectAccess] | None = None, **record: object
) -> uuid.UUID:
    entry = request_record(**record)  # type: ignore[arg-type]
    async with db.app_session() as session:
        await write_access_log(session, entry, objects or [])
    return entry.request_id


async def seal(db: Database, **options: object):  # type: ignore[no-untyped-def]
    async with db.app_session() as session:
        return await seal_pending(session=session, settings=db.settings, **options)  # type: ignore[arg-type]


async def check(db: Database, **options: object):  # type: ignore[no-untyped-def]
    async with db.owner_session() as session:
        return await verify(session=session, settings=db.settings, **options)  # type: ignore[arg-type]


async def tamper(db: Database, *statements: str) -> None:
    """Run statements as a superuser with every trigger off."""
    conn = await db.raw()
    try:
        await conn.execute("SET session_replication_role = replica")
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


# ---------------------------------------------------------------------------------------
# Merkle tree
# ---------------------------------------------------------------------------------------


def rfc6962_root(leaves: list[bytes]) -> bytes:
    """The recursive definition of RFC 6962 section 2.1."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return node_hash(rfc6962_root(leaves[:split]), rfc6962_root(leaves[split:]))


def test_merkle_root_is_the_rfc6962_tree_head() -> None:
    for count in range(0, 40):
        leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(count)]
        assert merkle_root(leaves) == rfc6962_root(leaves), count


def test_ranges_round_trip() -> None:
    runs = seq_ranges([1, 2, 3, 7, 9, 10])
    assert runs == [(1, 4), (7, 8), (9, 11)]
    assert ranges_text(runs) == "{[1,4),[7,8),[9,11)}"
    assert parse_ranges(ranges_text(runs)) == runs
    assert parse_ranges("{}") == []


async def test_ranges_text_is_what_postgresql_prints(audit_db: Database) -> None:
    text_form = ranges_text(seq_ranges([5, 6, 8, 20, 21, 22]))
    conn = await audit_db.raw()
    try:
        printed = await conn.fetchval("SELECT CAST($1::text AS int8multirange)::text", text_form)
    finally:
        await conn.close()
    assert printed == text_form


# ---------------------------------------------------------------------------------------
# Append-only
# ---------------------------------------------------------------------------------------


async def test_app_role_may_only_insert(audit_db: Database) -> None:
    await write(audit_db, customer_objects(1))
    conn = await audit_db.raw()
    try:
        rows = await conn.fetch(
            """
            SELECT c.relname, p.privilege
            FROM pg_class c
            CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) AS p(privilege)
            WHERE c.relname LIKE 'access_log%' AND c.relkind IN ('r', 'p')
              AND has_any_column_privilege('rekisteri_app', c.oid, p.privilege)
            UNION ALL
            SELECT c.relname, p.privilege
            FROM pg_class c
            CROSS JOIN unnest(ARRAY['DELETE', 'TRUNCATE', 'TRIGGER']) AS p(privilege)
            WHERE c.relname LIKE 'access_log%' AND c.relkind IN ('r', 'p')
              AND has_table_privilege('rekisteri_app', c.oid, p.privilege)
            """
        )
        granted = {(r["relname"], r["privilege"]) for r in rows}
        # The old object table is sealed history: nobody writes it any more.
        assert granted == {
            ("access_log_request", "INSERT"),
            ("access_log_subject", "INSERT"),
            ("access_log_seal", "INSERT"),
            ("access_log_seal_digest", "INSERT"),
        }
        filled_by_the_database = await conn.fetch(
            """
            SELECT a.attrelid::regclass::text, a.attname FROM pg_attribute a
            WHERE a.attrelid IN ('access_log_request'::regclass, 'access_log_subject'::regclass)
              AND a.attname IN ('seq', 'xid', 'row_hash', 'hash_version')
              AND has_column_privilege('rekisteri_app', a.attrelid, a.attnum, 'INSERT')
            """
        )
        assert filled_by_the_database == []
        assert not await conn.fetchval(
            "SELECT has_table_privilege('rekisteri_app', 'access_log_object_all', 'SELECT')"
            " OR has_table_privilege('rekisteri_app', 'access_log_verification', 'INSERT')"
        )
        await conn.execute("SET ROLE rekisteri_app")
        for statement in (
            "SELECT * FROM access_log_request",
            "SELECT * FROM access_log_object",
            "SELECT * FROM access_log_subject",
            "SELECT * FROM access_log_object_all",
            "SELECT * FROM access_log_verification",
            "SELECT * FROM access_log_seal",
            "SELECT * FROM access_log_retention",
            "UPDATE access_log_request SET principal = 'someone else'",
            "UPDATE access_log_object SET fields_denied = '{}'",
            "UPDATE access_log_subject SET object_sets = object_sets",
            "DELETE FROM access_log_request",
            "DELETE FROM access_log_object",
            "DELETE FROM access_log_subject",
            "DELETE FROM access_log_seal",
            "DELETE FROM access_log_seal_digest",
            "TRUNCATE access_log_request",
            "TRUNCATE access_log_object",
            "TRUNCATE access_log_subject",
            "INSERT INTO access_log_object (at, request_id, type_name, object_id, operation)"
            " VALUES (now(), gen_random_uuid(), 'Customer', 'x', 'read')",
            "INSERT INTO access_log_verification (at, batch_no, last_seq, merkle_root,"
            " full_check, rows_checked, result, key_id, signature) VALUES (now(), 1, 1,"
            " '\\x00', true, 0, 'ok', 'k', 's')",
            "SELECT setval('access_log_seq', 1)",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await conn.execute(statement)
        # The log is readable only through the functions; the API polices their output.
        found = await conn.fetchval(
            "SELECT count(*) FROM access_log_search(NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
            " NULL, NULL, 10)"
        )
        assert found == 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SELECT access_log_drop_before('2000-01-01')")
    finally:
        await conn.close()


async def test_triggers_refuse_update_delete_truncate_even_for_the_owner(
    audit_db: Database,
) -> None:
    await write(audit_db, customer_objects(2))
    await insert_v1_objects(audit_db, 2)  # sealed history of the old layout
    await seal(audit_db)
    month = datetime.now(UTC)
    suffix = f"_y{month:%Y}m{month:%m}"
    conn = await audit_db.raw()  # the owner in the tests is a superuser
    try:
        assert await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        for statement in (
            "UPDATE access_log_request SET principal = 'someone else'",
            "UPDATE access_log_object SET fields_denied = '{}'",
            f"UPDATE access_log_object{suffix} SET fields_denied = '{{}}'",
            "UPDATE access_log_subject SET object_sets = object_sets",
            f"UPDATE access_log_subject{suffix} SET object_ids = object_ids",
            "DELETE FROM access_log_subject",
            f"TRUNCATE access_log_subject{suffix}",
            "TRUNCATE access_log_subject",
            "UPDATE access_log_seal_digest SET digests = ''",
            "TRUNCATE access_log_seal_digest",
            "DELETE FROM access_log_request",
            f"DELETE FROM access_log_request{suffix}",
            "DELETE FROM access_log_object",
            "UPDATE access_log_seal SET signature = 'x'",
            "DELETE FROM access_log_seal",
            "TRUNCATE access_log_request",
            "TRUNCATE access_log_object",
            f"TRUNCATE access_log_request{suffix}",
            f"TRUNCATE access_log_object{suffix}",
            "TRUNCATE access_log_seal",
            "TRUNCATE access_log_retention",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement)
        assert await conn.fetchval("SELECT count(*) FROM access_log_subject") == 2
        assert await conn.fetchval("SELECT count(*) FROM access_log_object") == 2
    finally:
        await conn.close()


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


async def test_write_access_log_is_one_round_trip_and_records_every_object(
    audit_db: Database,
) -> None:
    counter = StatementCounter(audit_db.app_engine)
    objects = customer_objects(50, invoices_per_customer=12)
    entry = request_record(outcome=Outcome.PARTIAL)
    async with audit_db.app_session() as session:
        before = counter.count
        await write_access_log(session, entry, objects)
        assert counter.count - before == 1
    conn = await audit_db.raw()
    try:
        request = await conn.fetchrow("SELECT * FROM access_log_request")
        assert request["request_id"] == entry.request_id
        assert request["event"] == "graphql"
        assert request["outcome"] == "partial"
        assert request["principal"] == entry.principal
        assert request["roles"] == ["customer_service"]
        assert request["purpose"] == "customer_relationship"
        assert request["client_address"] == "10.1.2.3"
        assert request["document_hash"] == "ab" * 32
        assert abs(request["at"] - entry.at) < timedelta(microseconds=1)
        assert request["hash_version"] == 3  # the hash is computed when sealing
        assert request["row_hash"] is None
        assert request["executor"] is None
        # One row per data subject; the objects expand back to what was touched.
        subjects = await conn.fetch("SELECT * FROM access_log_subject ORDER BY seq")
        assert len(subjects) == 50
        rows = await conn.fetch(
            "SELECT * FROM access_log_object_all WHERE request_id = $1 ORDER BY seq, position",
            entry.request_id,
        )
        assert len(rows) == len(objects) == 650
        recorded = {
            (r["type_name"], r["object_id"]): (
                r["subject_customer_id"],
                r["operation"],
                r["fields_read"],
                r["fields_masked"],
                r["fields_denied"],
            )
            for r in rows
        }
        expected = {
            (o.type_name, o.object_id): (
                o.subject_customer_id,
                o.operation,
                sorted(o.fields_read),
                sorted(o.fields_masked),
                sorted(o.fields_denied),
            )
            for o in objects
        }
        assert recorded == expected
        customer = next(r for r in rows if r["type_name"] == "Customer")
        assert customer["fields_masked"] == ["personalIdentityCode"]
        assert customer["fields_denied"] == ["collectionCases"]
        assert [s["type"] for s in orjson.loads(request["field_sets"])] == ["Customer", "Invoice"]
        # One transaction: one xid; positions are distinct; the request's leaf is the v2
        # hash of its columns.
        assert {r["xid"] for r in subjects} == {request["xid"]}
        assert len({r["seq"] for r in subjects} | {request["seq"]}) == 51
        assert await conn.fetchval(
            "SELECT access_log_request_leaf_hash(r) = access_log_request_hash_v2(r.seq, r.at,"
            " r.request_id, r.event, r.principal, r.organisation, r.roles, r.purpose,"
            " r.client_address, r.operation_name, r.operation_type, r.document_hash,"
            " r.policy_version, r.outcome, r.duration_ms, r.detail, r.xid, r.executor,"
            " r.field_sets) FROM access_log_request r"
        )
        assert await conn.fetchval("SELECT count(*) FROM access_log_object") == 0
    finally:
        await conn.close()


async def test_the_record_is_canonical_and_duplicates_are_written_once(
    audit_db: Database,
) -> None:
    """The same objects in any order give the same record (both executors write alike);
    composite and numeric IDs are logged as UUIDs."""
    customer_id = uuid.uuid4()
    invoice_id = uuid.uuid4()

    def touched() -> list[ObjectAccess]:
        customer = ObjectAccess("Customer", str(customer_id), customer_id, None, "read")
        customer.fields_read.update({"lastName", "id"})
        lines = []
        for line in (1, 2, 3):
            item = ObjectAccess("InvoiceLine", f"{invoice_id}:{line}", customer_id, None, "read")
            item.fields_read.update({"amountExclVat", "id"})
            lines.append(item)
        invoice = ObjectAccess("Invoice", str(invoice_id), customer_id, None, "read")
        invoice.fields_read.add("id")
        product = ObjectAccess("Product", str(uuid.uuid4()), None, None, "read")
        product.fields_read.add("name")
        entry = ObjectAccess("AccessLogEntry", "12345", None, None, "read")
        entry.fields_read.add("at")
        return [customer, *lines, invoice, product, entry]

    forward = touched()
    first = subject_rows(forward)
    second = subject_rows(list(reversed(forward)))
    assert first == second
    assert first.field_set_json() == second.field_set_json()
    assert [s["type"] for s in first.field_sets] == [
        "AccessLogEntry",
        "Customer",
        "Invoice",
        "InvoiceLine",
        "Product",
    ]
    assert first.field_sets[3]["read"] == ["amountExclVat", "id"]
    # No subject first, then the customer; the three lines of one invoice are one entry.
    assert first.customer_ids == [None, customer_id]
    assert first.object_sets[1] == [2, 3, 4]
    assert first.object_ids[1] == [str(customer_id), str(invoice_id), str(invoice_id)]
    upper = ObjectAccess("Site", str(invoice_id).upper(), None, None, "read")
    assert subject_rows([upper]).object_ids == [[str(invoice_id)]]
    assert log_object_id("12345") == uuid.UUID(int=12345)
    assert log_object_id(f"{invoice_id}:7") == invoice_id
    assert log_object_id("5:2") == uuid.UUID(int=5 << 32 | 2) != log_object_id("5")
    assert log_object_id("not an id") == log_object_id("not an id")

    entry = request_record()
    async with audit_db.app_session() as session:
        await write_access_log(session, entry, forward)
    conn = await audit_db.raw()
    try:
        rows = await conn.fetch(
            "SELECT type_name, object_id FROM access_log_objects($1::uuid[], now() - interval"
            " '1 day', now() + interval '1 day', NULL)",
            [entry.request_id],
        )
        assert sorted((r["type_name"], r["object_id"]) for r in rows) == sorted(
            [
                ("AccessLogEntry", str(uuid.UUID(int=12345))),
                ("Customer", str(customer_id)),
                ("Invoice", str(invoice_id)),
                ("InvoiceLine", str(invoice_id)),
                ("Product", forward[5].object_id),
            ]
        )
    finally:
        await conn.close()


def test_request_insert_sql_binds_the_request_parameters() -> None:
    """The compiled executor embeds this text: its parameters are request_parameters'
    keys plus executor and field_sets."""
    sql = request_insert_sql()
    assert sql.startswith("INSERT INTO access_log_request (")
    assert "RETURNING" not in sql.upper()
    names = set(re.findall(r"(?<!:):([a-z_]+)", sql))
    assert names == set(request_parameters(request_record())) | {"executor", "field_sets"}


async def test_request_insert_sql_writes_a_record_that_verifies(audit_db: Database) -> None:
    entry = request_record()
    entry.executor = "compiled"
    parameters = request_parameters(entry)
    rows = subject_rows(customer_objects(2))
    parameters.update(executor="compiled", field_sets=rows.field_set_json())
    async with audit_db.app_session() as session:
        await session.execute(text(request_insert_sql()), parameters)
    await seal(audit_db)
    conn = await audit_db.raw()
    try:
        row = await conn.fetchrow(
            "SELECT executor, field_sets, hash_version FROM access_log_request"
        )
        assert row["executor"] == "compiled" and row["hash_version"] == 3
        assert orjson.loads(row["field_sets"]) == rows.field_sets
    finally:
        await conn.close()
    assert (await check(audit_db)).ok
    # executor and field_sets are covered by the row's hash, hence by its seal.
    await tamper(audit_db, "UPDATE access_log_request SET executor = 'resolver'")
    report = await check(audit_db)
    assert ("row_changed", "access_log_request") in {(p.kind, p.table) for p in report.problems}
    await tamper(
        audit_db,
        "UPDATE access_log_request SET executor = 'compiled', field_sets = '[]'",
    )
    report = await check(audit_db)
    assert ("row_changed", "access_log_request") in {(p.kind, p.table) for p in report.problems}
    # Version 1 (whose hash covers neither column) is refused with them set, and claiming
    # it without them is an edit the seal shows.
    with pytest.raises(asyncpg.CheckViolationError):
        await tamper(audit_db, "UPDATE access_log_request SET hash_version = 1")
    await tamper(
        audit_db,
        """
        UPDATE access_log_request SET hash_version = 1, executor = NULL, field_sets = NULL,
            row_hash = access_log_request_hash(seq, at, request_id, event, principal,
                organisation, roles, purpose, client_address, operation_name, operation_type,
                document_hash, policy_version, outcome, duration_ms, detail, xid)
        """,
    )
    report = await check(audit_db)
    assert {"row_changed", "root_mismatch"} <= report.kinds()


async def test_positions_transaction_ids_and_hashes_come_from_the_database(
    audit_db: Database,
) -> None:
    conn = await audit_db.raw()
    try:
        await conn.execute("SET ROLE rekisteri_app")
        for column, value in (
            ("seq", "1"),
            ("xid", "'1'"),
            ("row_hash", "'\\x00'"),
            ("hash_version", "2"),
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await conn.execute(
                    f"INSERT INTO access_log_request (at, request_id, event, outcome,"
                    f" duration_ms, {column}) VALUES (now(), gen_random_uuid(), 'graphql', 'ok',"
                    f" 1, {value})"
                )
        await conn.execute("RESET ROLE")
        # Even the owner cannot store a hash on a row of the current version ...
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                """
                INSERT INTO access_log_request (at, request_id, event, outcome, duration_ms,
                    row_hash)
                VALUES (now(), gen_random_uuid(), 'cli', 'ok', 1, '\\x00')
                """
            )
        await conn.execute(
            """
            INSERT INTO access_log_request (at, request_id, event, outcome, duration_ms)
            VALUES (now(), gen_random_uuid(), 'cli', 'ok', 1)
            """
        )
        row = await conn.fetchrow(
            "SELECT seq, xid::text AS xid, row_hash, access_log_request_leaf_hash(r) AS leaf,"
            " pg_current_xact_id()::text AS now FROM access_log_request r"
        )
        assert int(row["xid"]) < int(row["now"])
        assert row["row_hash"] is None  # ... which gets its hash when it is sealed
        assert len(bytes(row["leaf"])) == 32
    finally:
        await conn.close()
    assert (await check(audit_db)).ok


async def test_free_text_loses_identity_codes_and_control_characters(audit_db: Database) -> None:
    await write(
        audit_db,
        operation_name="Find131052-308T",
        detail="customer 131052-308T not found\nFAKE LINE",
    )
    conn = await audit_db.raw()
    try:
        row = await conn.fetchrow("SELECT operation_name, detail FROM access_log_request")
    finally:
        await conn.close()
    assert "131052-308T" not in row["operation_name"]
    assert "131052-308T" not in row["detail"]
    assert "\n" not in row["detail"]


async def test_write_event_records_a_request_without_objects(audit_db: Database) -> None:
    entry = request_record(
        event=EventKind.AUTHENTICATION,
        outcome=Outcome.UNAUTHENTICATED,
        principal=None,
        purpose=None,
        operation_name=None,
        detail="invalid token",
    )
    async with audit_db.app_session() as session:
        await write_event(session, entry)
    conn = await audit_db.raw()
    try:
        row = await conn.fetchrow("SELECT event, outcome, principal FROM access_log_request")
        assert tuple(row) == ("authentication", "unauthenticated", None)
        assert await conn.fetchval("SELECT count(*) FROM access_log_subject") == 0
        assert await conn.fetchval("SELECT field_sets FROM access_log_request") is None
    finally:
        await conn.close()


async def test_without_the_insert_right_the_write_fails_and_nothing_is_kept(
    audit_db: Database,
) -> None:
    conn = await audit_db.raw()
    try:
        await conn.execute("REVOKE INSERT ON access_log_subject FROM rekisteri_app")
        with pytest.raises(DBAPIError, match="permission denied"):
            await write(audit_db, customer_objects(3))
        # The request row was in the same statement: it is gone too.
        assert await conn.fetchval("SELECT count(*) FROM access_log_request") == 0
        await conn.execute("GRANT INSERT ON access_log_subject TO rekisteri_app")
        await write(audit_db, customer_objects(3))
        assert await conn.fetchval("SELECT count(*) FROM access_log_subject") == 3
    finally:
        await conn.close()


async def test_a_month_without_partition_fails_closed(audit_db: Database) -> None:
    with pytest.raises(DBAPIError, match="no partition"):
        await write(audit_db, customer_objects(1), at=datetime(2001, 1, 1, tzinfo=UTC))


async def test_ensure_partitions_creates_months_ahead_once(audit_db: Database) -> None:
    async with audit_db.app_session() as session:  # the app role may call it
        created = list(
            (await session.execute(text("SELECT access_log_ensure_partitions(6)"))).scalars()
        )
    assert len(created) == 12  # months +3 .. +6 of the three tables (-1 .. +2 exist)
    async with audit_db.app_session() as session:
        again = (await session.execute(text("SELECT access_log_ensure_partitions(6)"))).all()
    assert again == []
    ahead = datetime.now(UTC) + timedelta(days=130)
    await write(audit_db, customer_objects(1), at=ahead)
    conn = await audit_db.raw()
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute(f"TRUNCATE {created[-1]}")
    finally:
        await conn.close()


# ---------------------------------------------------------------------------------------
# Sealing and verification
# ---------------------------------------------------------------------------------------


async def test_seal_chains_signed_batches_and_verify_is_clean(audit_db: Database) -> None:
    assert await seal(audit_db) is None  # nothing to seal
    for _ in range(3):
        await write(audit_db, customer_objects(4, invoices_per_customer=2))
    first = await seal(audit_db)
    assert first is not None
    head = first.head
    # 3 requests of 4 customers: one request row and one row per customer each.
    assert (head.batch_no, head.first_seq, head.leaf_count) == (1, 1, 15)
    assert head.prev_root == ZERO_ROOT
    assert head.key_id == signer_for(audit_db.settings).key_id
    assert head.signature_valid(keyring_for(audit_db.settings))
    other = audit_db.settings.model_copy(update={"audit_signing_key": generate_private_key_pem()})
    assert not head.signature_valid(Keyring.of([signer_for(other).public_key]))
    assert await seal(audit_db) is None

    await write(audit_db, customer_objects(2))
    second = await seal(audit_db)
    assert second is not None
    assert second.head.batch_no == 2
    assert second.head.first_seq == head.last_seq + 1
    assert second.head.prev_root == head.merkle_root

    report = await check(audit_db, heads=[head, second.head])
    assert report.ok, report.summary()
    assert report.rows_checked == report.sealed_rows == 18
    assert report.batches_checked == 2
    assert report.unsealed_rows == 0
    assert report.heads_checked == 2

    await write(audit_db, customer_objects(1))
    report = await check(audit_db)
    assert report.ok
    assert report.unsealed_rows == 2


async def test_large_batches_are_split(audit_db: Database) -> None:
    await write(audit_db, customer_objects(25))
    result = await seal(audit_db, max_leaves=10)
    assert result is not None
    assert [b.leaf_count for b in result.batches] == [10, 10, 6]
    assert (await check(audit_db)).ok


async def insert_v1_objects(db: Database, count: int) -> uuid.UUID:
    """Rows as the code before layout 2 wrote them (the old table still stamps its hash)."""
    request_id = uuid.uuid4()
    conn = await db.raw()
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO access_log_request (at, request_id, event, outcome, duration_ms)"
                " VALUES (now(), $1, 'graphql', 'ok', 1)",
                request_id,
            )
            await conn.execute(
                "INSERT INTO access_log_object (at, request_id, type_name, object_id,"
                " subject_customer_id, operation, fields_read, fields_denied)"
                " SELECT now(), $1, 'Customer', gen_random_uuid()::text, gen_random_uuid(),"
                " 'read', '{id,lastName}', '{email}' FROM generate_series(1, $2)",
                request_id,
                count,
            )
    finally:
        await conn.close()
    return request_id


async def test_verify_finds_an_edited_row_and_where(audit_db: Database) -> None:
    await write(audit_db, customer_objects(5))
    await insert_v1_objects(audit_db, 3)
    await seal(audit_db)
    conn = await audit_db.raw()
    try:
        seq = await conn.fetchval("SELECT seq FROM access_log_object ORDER BY seq OFFSET 1 LIMIT 1")
        subject_seq = await conn.fetchval(
            "SELECT seq FROM access_log_subject ORDER BY seq OFFSET 2 LIMIT 1"
        )
    finally:
        await conn.close()
    await tamper(
        audit_db,
        f"UPDATE access_log_object SET fields_denied = '{{}}', fields_read = fields_read "
        f"|| fields_denied WHERE seq = {seq}",
    )
    report = await check(audit_db)
    assert not report.ok
    assert [(p.kind, p.seq, p.table) for p in report.problems] == [
        ("row_hash_mismatch", seq, "access_log_object")
    ]
    # A subject row has no stored hash: the batch's leaf digest names it, the root proves it.
    await tamper(
        audit_db,
        f"UPDATE access_log_subject SET object_ids = ARRAY[gen_random_uuid()] WHERE seq = {subject_seq}",
    )
    report = await check(audit_db)
    assert [(p.kind, p.seq, p.table) for p in report.problems] == [
        ("row_hash_mismatch", seq, "access_log_object"),
        ("row_changed", subject_seq, "access_log_subject"),
        ("root_mismatch", None, None),
    ]


async def test_verify_names_a_subject_row_moved_to_another_customer(audit_db: Database) -> None:
    await write(audit_db, customer_objects(3, invoices_per_customer=2))
    await seal(audit_db)
    conn = await audit_db.raw()
    try:
        seq = await conn.fetchval("SELECT min(seq) FROM access_log_subject")
    finally:
        await conn.close()
    await tamper(
        audit_db,
        f"UPDATE access_log_subject SET subject_customer_id = gen_random_uuid() WHERE seq = {seq}",
    )
    report = await check(audit_db)
    assert [(p.kind, p.batch_no, p.seq) for p in report.problems] == [
        ("row_changed", 1, seq),
        ("root_mismatch", 1, None),
    ]


async def test_verify_finds_an_edit_whose_hash_was_recomputed(audit_db: Database) -> None:
    await write(audit_db, customer_objects(5))
    await seal(audit_db)
    await tamper(
        audit_db,
        """
        UPDATE access_log_request SET principal = 'user:someone-else', hash_version = 2,
            row_hash = access_log_request_hash_v2(seq, at, request_id, event,
                'user:someone-else', organisation, roles, purpose, client_address,
                operation_name, operation_type, document_hash, policy_version, outcome,
                duration_ms, detail, xid, executor, field_sets)
        """,
    )
    report = await check(audit_db)
    assert [(p.kind, p.batch_no, p.table) for p in report.problems] == [
        ("row_changed", 1, "access_log_request"),
        ("root_mismatch", 1, None),
    ]


async def test_verify_finds_a_deleted_row_and_where(audit_db: Database) -> None:
    await write(audit_db, customer_objects(5))
    await seal(audit_db)
    conn = await audit_db.raw()
    try:
        seq = await conn.fetchval("SELECT max(seq) FROM access_log_subject")
    finally:
        await conn.close()
    await tamper(audit_db, f"DELETE FROM access_log_subject WHERE seq = {seq}")
    report = await check(audit_db)
    assert [(p.kind, p.batch_no, p.seq) for p in report.problems] == [("missing_row", 1, seq)]


async def test_verify_finds_inserted_rows_in_a_sealed_range(audit_db: Database) -> None:
    await write(audit_db, customer_objects(2))
    # A request that never committed leaves a gap of positions in the sealed range.
    with pytest.raises(RuntimeError, match="abandoned"):
        async with audit_db.app_session() as session:
            await write_access_log(session, request_record(), customer_objects(2))
            raise RuntimeError("abandoned")
    await write(audit_db, customer_objects(2))
    result = await seal(audit_db)
    assert result is not None
    runs = parse_ranges(result.head.leaf_ranges)
    assert len(runs) == 2
    gap = runs[0][1]
    assert (await check(audit_db)).ok

    forged = """
        INSERT INTO access_log_subject (seq, at, request_id, subject_customer_id, object_ids,
            object_sets, xid)
        SELECT {seq}, now(), gen_random_uuid(), gen_random_uuid(), ARRAY[gen_random_uuid()],
               '{{1}}', pg_current_xact_id()
    """
    await tamper(audit_db, forged.format(seq=gap))
    report = await check(audit_db)
    assert ("unexpected_row", gap) in {(p.kind, p.seq) for p in report.problems}

    duplicate = runs[0][0]
    await tamper(audit_db, forged.format(seq=duplicate))
    report = await check(audit_db)
    assert ("duplicate_seq", duplicate) in {(p.kind, p.seq) for p in report.problems}

    await tamper(audit_db, forged.format(seq=10_000))
    report = await check(audit_db)
    assert ("unexpected_row", 10_000) in {(p.kind, p.seq) for p in report.problems}


async def test_verify_checks_signatures_chain_and_external_heads(audit_db: Database) -> None:
    await write(audit_db, customer_objects(2))
    first = await seal(audit_db)
    await write(audit_db, customer_objects(2))
    second = await seal(audit_db)
    assert first is not None and second is not None

    other_key = audit_db.settings.model_copy(
        update={"audit_signing_key": generate_private_key_pem()}
    )
    async with audit_db.owner_session() as session:
        report = await verify(session=session, settings=other_key)
    assert {p.kind for p in report.problems} == {"unknown_key"}

    await tamper(
        audit_db,
        "UPDATE access_log_seal SET sealed_at = sealed_at - interval '1 day' WHERE batch_no = 2",
    )
    report = await check(audit_db, heads=[first.head])
    assert [(p.kind, p.batch_no) for p in report.problems] == [("bad_signature", 2)]

    await tamper(audit_db, "DELETE FROM access_log_seal WHERE batch_no = 2")
    report = await check(audit_db, heads=[first.head, second.head])
    assert [(p.kind, p.batch_no) for p in report.problems] == [("head_missing", 2)]
    assert report.unsealed_rows == 3  # its rows count as unsealed again

    await tamper(audit_db, "DELETE FROM access_log_seal WHERE batch_no = 1")
    await write(audit_db)
    async with audit_db.app_session() as session:
        # The database refuses a seal that does not follow on.
        with pytest.raises(DBAPIError, match="first seal must be batch 1"):
            await session.execute(
                text(
                    "INSERT INTO access_log_seal VALUES (5, 1, 3, 1, '{[1,2)}', now(), now(),"
                    " :root, :root, now(), 'k', 's')"
                ),
                {"root": bytes(32)},
            )


# ---------------------------------------------------------------------------------------
# Concurrency
# ---------------------------------------------------------------------------------------


async def test_concurrent_requests_and_sealer_lose_nothing(audit_db: Database) -> None:
    rng = random.Random(5)
    sizes = [rng.randint(0, 60) for _ in range(20)]
    done = asyncio.Event()
    sealed: list[int] = []

    async def request(size: int) -> None:
        await asyncio.sleep(rng.random() / 50)
        await write(audit_db, customer_objects(size))

    async def sealer() -> None:
        while not done.is_set():
            result = await seal(audit_db, wait_seconds=2.0)
            if result is not None:
                sealed.extend(b.batch_no for b in result.batches)
            await asyncio.sleep(0.005)

    sealing = asyncio.create_task(sealer())
    await asyncio.gather(*(request(size) for size in sizes))
    done.set()
    await sealing
    await seal(audit_db, wait_seconds=5.0)
    report = await check(audit_db)
    assert report.ok, report.summary()
    assert report.rows_checked == sum(sizes) + len(sizes)
    assert report.unsealed_rows == 0
    assert sealed, "the sealer ran while requests were written"


async def test_a_running_transaction_holds_sealing_back_only_in_its_own_database(
    audit_db: Database,
) -> None:
    # An open transaction with an id in another database does not block sealing.
    other = await asyncpg.connect(dbserver.with_database(audit_db.url, "postgres"))
    open_here = await audit_db.raw()
    try:
        async with other.transaction():
            await other.fetchval("SELECT pg_current_xact_id()")
            await write(audit_db, customer_objects(1))
            assert await seal(audit_db, wait_seconds=0.5) is not None

            # An unfinished writer here holds the range open; positions after it wait.
            transaction = open_here.transaction()
            await transaction.start()
            await open_here.execute("SET ROLE rekisteri_app")
            await open_here.execute(
                "INSERT INTO access_log_request (at, request_id, event, outcome, duration_ms)"
                " VALUES (now(), gen_random_uuid(), 'graphql', 'ok', 1)"
            )
            await write(audit_db, customer_objects(1))
            assert await seal(audit_db, wait_seconds=0.3) is None
            await transaction.rollback()
            result = await seal(audit_db, wait_seconds=0.3)
            assert result is not None
            assert result.head.leaf_count == 2
            assert len(parse_ranges(result.head.leaf_ranges)) == 1
    finally:
        await other.close()
        await open_here.close()
    assert (await check(audit_db)).ok


async def test_the_background_sealer_seals_as_it_goes(audit_db: Database) -> None:
    settings = audit_db.settings.model_copy(update={"audit_seal_interval_seconds": 0.05})
    task = asyncio.create_task(run_sealer(audit_db.app, settings))
    try:
        await write(audit_db, customer_objects(3))
        for _ in range(200):
            await asyncio.sleep(0.05)
            report = await check(audit_db)
            if report.batches_checked and not report.unsealed_rows:
                break
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert report.ok, report.summary()
    assert (report.sealed_rows, report.unsealed_rows) == (4, 0)


def test_free_text_keeps_uuids_whole() -> None:
    from server.audit.service import clean

    shaped = "aa123456-7890-4abc-8def-0123456789ab"  # "123456-7890" has the shape of a code
    assert clean(f"dsar export {shaped} json", 200, free_text=True) == (
        f"dsar export {shaped} json"
    )
    assert "131052-308T" not in (clean(f"{shaped} 131052-308T", 200, free_text=True) or "")
