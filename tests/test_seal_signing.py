"""Seals are signed with Ed25519: whoever verifies with the public key cannot make a head.

The service holds the private key (AUDIT_SIGNING_KEY); the security team and auditors
check with public keys alone, looked up by key id, so rotated keys keep old seals
verifiable. Seals made with the old HMAC key still verify when that key is configured.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from server.audit.seal import SealHead, retention_parts, seal_pending
from server.audit.service import write_access_log
from server.audit.signing import (
    Keyring,
    Verdict,
    generate_private_key_pem,
    keyring_for,
    legacy_key_id,
    legacy_signature,
    load_public_keys,
    parse_public_keys,
    signer_for,
)
from server.audit.verify import VerifyReport, verify
from server.settings import DEVELOPMENT_SECRET, Environment, Settings
from tests.conftest import run_cli
from tests.dbserver import Database
from tests.factories import customer_objects, request_record

STRONG = "s" * 40


async def write(db: Database, count: int = 2) -> None:
    async with db.app_session() as session:
        await write_access_log(session, request_record(), customer_objects(count))


async def seal(db: Database, settings: Settings | None = None) -> SealHead:
    async with db.owner_session() as session:
        result = await seal_pending(session=session, settings=settings or db.settings)
    assert result is not None
    return result.head


async def check(
    db: Database, settings: Settings | None = None, keys: Keyring | None = None
) -> VerifyReport:
    async with db.owner_session() as session:
        return await verify(session=session, settings=settings or db.settings, keys=keys)


async def sign_the_old_way(db: Database, head: SealHead) -> None:
    """Replace the seal's Ed25519 signature with an HMAC under AUDIT_SEAL_KEY, as seals
    were signed before Ed25519 (the log's triggers are bypassed)."""
    seal_key = db.settings.audit_seal_key
    conn = await db.raw()
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(
            "UPDATE access_log_seal SET key_id = $1, signature = $2 WHERE batch_no = $3",
            legacy_key_id(seal_key),
            legacy_signature(seal_key, head.signed_parts()),
            head.batch_no,
        )
    finally:
        await conn.close()


def public_pem(settings: Settings) -> str:
    return signer_for(settings).public_key_pem()


def auditor(db: Database, **changes: object) -> Settings:
    """What an outside auditor runs with: the database, no key of the service's."""
    return Settings(environment=Environment.DEVELOPMENT, database_url=db.url, **changes)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------


async def test_a_head_verifies_with_the_public_key_alone(
    audit_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await write(audit_db)
    assert await run_cli(audit_db.settings, "audit", "seal", "--wait", "5") == 0
    head_line = capsys.readouterr().out.strip()
    head = json.loads(head_line)
    signer = signer_for(audit_db.settings)
    assert head["keyId"] == signer.key_id and head["keyId"].startswith("ed25519:")
    assert len(bytes.fromhex(head["signature"])) == 64
    heads = tmp_path / "heads.jsonl"
    heads.write_text(head_line + "\n", encoding="utf-8")

    assert await run_cli(audit_db.settings, "audit", "public-key") == 0
    printed = capsys.readouterr()
    assert printed.out.startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in printed.out and signer.key_id in printed.err
    key_file = tmp_path / "rekisteri-audit.pub.pem"
    key_file.write_text(printed.out, encoding="utf-8")

    # The auditor has the public key and the database, nothing of the service's secrets.
    outsider = auditor(audit_db)
    argv = ["audit", "verify", "--head", str(heads), "--public-key", str(key_file)]
    assert await run_cli(outsider, *argv) == 0
    assert "access log OK" in capsys.readouterr().out
    # Without the public key, the auditor's own (development) key is not the service's.
    assert await run_cli(outsider, "audit", "verify", "--head", str(heads)) == 1
    assert "PROBLEM unknown_key" in capsys.readouterr().out
    # A private key is refused where a public key is expected.
    secret_file = tmp_path / "oops.pem"
    secret_file.write_text(generate_private_key_pem(), encoding="utf-8")
    assert await run_cli(outsider, "audit", "verify", "--public-key", str(secret_file)) == 2
    assert "private key" in capsys.readouterr().err


async def test_whoever_can_verify_cannot_forge_a_head(audit_db: Database) -> None:
    """The old scheme's flaw: the key that checked a head could also make one."""
    await write(audit_db)
    head = await seal(audit_db)
    verifier = keyring_for(audit_db.settings)  # what a verifier holds: public key, HMAC key
    assert head.signature_valid(verifier)
    forged_root = dataclasses.replace(head, merkle_root=bytes(32))
    # An HMAC under the seal key, named as the Ed25519 key, is no signature ...
    hmac_forgery = legacy_signature(audit_db.settings.audit_seal_key, forged_root.signed_parts())
    assert verifier.check(head.key_id, forged_root.signed_parts(), hmac_forgery) is (
        Verdict.BAD_SIGNATURE
    )
    # ... and a valid old-style HMAC seal after an Ed25519 one is refused as a downgrade.
    await write(audit_db)
    await sign_the_old_way(audit_db, await seal(audit_db))
    report = await check(audit_db)
    assert [(p.kind, p.batch_no) for p in report.problems] == [("downgraded_signature", 2)]


async def test_rotated_keys_keep_old_seals_verifiable(
    audit_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = audit_db.settings
    new = old.model_copy(update={"audit_signing_key": generate_private_key_pem()})
    await write(audit_db)
    first = await seal(audit_db, old)
    await write(audit_db)
    second = await seal(audit_db, new)  # after the rotation
    assert first.key_id != second.key_id

    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "2026.pem").write_text(public_pem(old), encoding="utf-8")
    (keys / "2027.pem").write_text(public_pem(new), encoding="utf-8")
    outsider = auditor(audit_db)
    assert await run_cli(outsider, "audit", "verify", "--public-key", str(keys)) == 0
    capsys.readouterr()
    files = ["--public-key", str(keys / "2026.pem"), "--public-key", str(keys / "2027.pem")]
    assert await run_cli(outsider, "audit", "verify", *files) == 0
    capsys.readouterr()
    assert await run_cli(outsider, "audit", "verify", "--public-key", str(keys / "2027.pem")) == 1
    problems = [line for line in capsys.readouterr().out.splitlines() if "PROBLEM" in line]
    assert len(problems) == 1 and problems[0].startswith("PROBLEM unknown_key: seal batch 1 ")

    # One file may hold several keys, as a keyring.
    ring = tmp_path / "ring.pem"
    ring.write_text(public_pem(old) + public_pem(new), encoding="utf-8")
    assert len(load_public_keys([ring])) == 2
    report = await check(audit_db, new, Keyring.of(parse_public_keys(ring.read_text())))
    assert report.ok, report.summary()


async def test_old_hmac_seals_verify_with_the_old_key_or_are_named(audit_db: Database) -> None:
    await write(audit_db)
    first = await seal(audit_db)
    # As a database sealed before Ed25519 has it: batch 1 carries an HMAC.
    assert first.batch_no == 1
    await sign_the_old_way(audit_db, first)
    await write(audit_db)
    await seal(audit_db)  # batch 2, Ed25519, chained to the old one

    report = await check(audit_db)  # the service: AUDIT_SEAL_KEY is configured
    assert report.ok, report.summary()

    public = Keyring.of(parse_public_keys(public_pem(audit_db.settings)))
    outsider = auditor(audit_db)
    report = await check(
        audit_db, outsider, keyring_for(outsider, list(public.public_keys.values()))
    )
    assert [(p.kind, p.batch_no) for p in report.problems] == [("legacy_hmac_seal", 1)]
    assert "legacy HMAC seal" in report.summary()
    with_old_key = auditor(audit_db, audit_seal_key=audit_db.settings.audit_seal_key)
    keys = keyring_for(with_old_key, list(public.public_keys.values()))
    report = await check(audit_db, with_old_key, keys)
    assert report.ok, report.summary()
    wrong_old_key = auditor(audit_db, audit_seal_key="another old seal key 0123456789abcdef")
    keys = keyring_for(wrong_old_key, list(public.public_keys.values()))
    report = await check(audit_db, wrong_old_key, keys)
    assert [(p.kind, p.batch_no) for p in report.problems] == [("unknown_key", 1)]


def test_retention_records_are_signed_the_same_way() -> None:
    from datetime import UTC, datetime

    from server.audit.seal import sign_retention

    settings = Settings(audit_signing_key=generate_private_key_pem())
    signer = signer_for(settings)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    names = ["access_log_request_y2024m01", "access_log_object_y2024m01"]
    signature = sign_retention(signer, dropped_before=when, partitions=names, dropped_at=when)
    parts = retention_parts(dropped_before=when, partitions=names, dropped_at=when)
    public_only = Keyring.of(parse_public_keys(signer.public_key_pem()))
    assert public_only.check(signer.key_id, parts, signature) is Verdict.VALID
    parts[2] = "access_log_request_y2024m01"
    assert public_only.check(signer.key_id, parts, signature) is Verdict.BAD_SIGNATURE


# ---------------------------------------------------------------------------------------
# The setting
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", [Environment.TEST, Environment.PRODUCTION])
@pytest.mark.parametrize("value", ["", "change-me", DEVELOPMENT_SECRET, "/no/such/key.pem"])
def test_a_placeholder_signing_key_is_refused_outside_development(
    environment: Environment, value: str
) -> None:
    with pytest.raises(ValidationError, match="AUDIT_SIGNING_KEY") as raised:
        Settings(
            environment=environment,
            secret_key=STRONG,
            audit_seal_key=STRONG,
            audit_signing_key=value,
        )
    assert STRONG not in str(raised.value)  # secrets are not echoed in the error


def test_the_signing_key_is_a_pem_or_a_file_of_one(tmp_path: Path) -> None:
    pem = generate_private_key_pem()
    key_file = tmp_path / "audit-signing.pem"
    key_file.write_text(pem, encoding="utf-8")
    common = {"environment": Environment.PRODUCTION, "secret_key": STRONG, "audit_seal_key": STRONG}
    by_text = Settings(**common, audit_signing_key=pem)  # type: ignore[arg-type]
    by_file = Settings(**common, audit_signing_key=str(key_file))  # type: ignore[arg-type]
    assert signer_for(by_text).key_id == signer_for(by_file).key_id
    ec_key = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ValidationError, match="Ed25519"):
        Settings(**common, audit_signing_key=ec_key)  # type: ignore[arg-type]


def test_development_derives_a_stable_key_with_no_configuration() -> None:
    first, second = Settings(), Settings()
    assert signer_for(first).key_id == signer_for(second).key_id
    other = Settings(secret_key="another development secret")
    assert signer_for(other).key_id != signer_for(first).key_id
