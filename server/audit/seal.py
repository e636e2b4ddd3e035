"""Sealing the access log in signed Merkle batches, without a lock in the request path.

Requests insert freely. The sealer, run every `audit_seal_interval_seconds` by the app
and on demand by `rekisteri audit seal`:

1. takes a transaction-level advisory lock (only sealers contend for it);
2. reads the watermark: the highest position handed out (S), then the next transaction id
   (X). The stamp trigger takes a row's transaction id before its position, so every
   row with seq <= S belongs to a transaction older than X;
3. waits until no transaction of this database older than X is running: from then on the
   rows up to S are committed or gone for good, and the range can be sealed;
4. reads the row hashes after the previous batch up to S in seq order (stored for request
   and old object rows, computed in SQL for subject rows), builds an RFC 6962
   Merkle tree (leaf = SHA-256(0x00 || row_hash), node = SHA-256(0x01 || left || right)),
   chains it to the previous root and inserts a seal signed with the service's Ed25519
   key (`AUDIT_SIGNING_KEY`, server/audit/signing.py), which never reaches the database
   and whose public key alone verifies the seal, with the batch's leaf
   digests (access_log_seal_digest) beside it.

The signed head it prints is to be kept outside the database; `rekisteri audit verify
--head` checks that the log still contains it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.audit.signing import Keyring, Signer, signer_for
from server.settings import Settings

log = logging.getLogger(__name__)

SEAL_LOCK = "rekisteri.access_log.seal"
ZERO_ROOT = bytes(32)
DEFAULT_MAX_LEAVES = 100_000
SIGNATURE_CONTEXT = "rekisteri-access-log-seal-v1"
RETENTION_CONTEXT = "rekisteri-access-log-retention-v1"
PARTITION_CHECK_SECONDS = 3600.0


# ---------------------------------------------------------------------------------------
# Merkle tree (RFC 6962 section 2.1)
# ---------------------------------------------------------------------------------------


def leaf_hash(row_hash: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + row_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(row_hashes: Sequence[bytes]) -> bytes:
    """The RFC 6962 tree head over the row hashes, in order.

    Built level by level; a last node without a sibling moves up unchanged, which gives
    the same tree as the RFC's split at the largest power of two below n.
    """
    if not row_hashes:
        return hashlib.sha256(b"").digest()
    level = [leaf_hash(h) for h in row_hashes]
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def seq_ranges(seqs: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted distinct positions as half-open runs [lower, upper)."""
    runs: list[tuple[int, int]] = []
    for seq in seqs:
        if runs and seq == runs[-1][1]:
            runs[-1] = (runs[-1][0], seq + 1)
        elif runs and seq < runs[-1][1]:
            raise ValueError("positions must be strictly increasing")
        else:
            runs.append((seq, seq + 1))
    return runs


def ranges_text(runs: Sequence[tuple[int, int]]) -> str:
    """The canonical text of an int8multirange, as PostgreSQL prints it."""
    return "{" + ",".join(f"[{lo},{hi})" for lo, hi in runs) + "}"


def parse_ranges(value: str) -> list[tuple[int, int]]:
    """Runs from the text of a canonical int8multirange ({[a,b),[c,d)})."""
    inner = value.strip()[1:-1]
    runs: list[tuple[int, int]] = []
    if not inner:
        return runs
    for part in inner.split("),"):
        lo, hi = part.strip("[)").split(",")
        runs.append((int(lo), int(hi)))
    return runs


# ---------------------------------------------------------------------------------------
# Signatures
# ---------------------------------------------------------------------------------------


def micros(moment: datetime) -> int:
    """Microseconds since the epoch, exact (no float)."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def key_id(key: str) -> str:
    """The key id of an HMAC key (old seals; Ed25519 key ids come from server.audit.signing)."""
    return hmac.new(key.encode(), b"rekisteri-access-log-key-id", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class SealHead:
    """One sealed batch: what `rekisteri audit seal` prints as the signed head."""

    batch_no: int
    first_seq: int
    last_seq: int
    leaf_count: int
    leaf_ranges: str
    min_at: datetime
    max_at: datetime
    merkle_root: bytes
    prev_root: bytes
    sealed_at: datetime
    key_id: str
    signature: str

    def signed_parts(self) -> list[object]:
        return [
            SIGNATURE_CONTEXT,
            self.batch_no,
            self.first_seq,
            self.last_seq,
            self.leaf_count,
            self.leaf_ranges,
            micros(self.min_at),
            micros(self.max_at),
            self.merkle_root.hex(),
            self.prev_root.hex(),
            micros(self.sealed_at),
        ]

    def signature_valid(self, keys: Keyring) -> bool:
        """Signed by one of the keys (looked up by the seal's key id)."""
        return keys.accepts(self.key_id, self.signed_parts(), self.signature)

    def to_json(self) -> dict[str, Any]:
        return {
            "log": "rekisteri-access-log",
            "batch": self.batch_no,
            "firstSeq": self.first_seq,
            "lastSeq": self.last_seq,
            "leafCount": self.leaf_count,
            "leafRanges": self.leaf_ranges,
            "minAt": self.min_at.astimezone(UTC).isoformat(),
            "maxAt": self.max_at.astimezone(UTC).isoformat(),
            "root": self.merkle_root.hex(),
            "prevRoot": self.prev_root.hex(),
            "sealedAt": self.sealed_at.astimezone(UTC).isoformat(),
            "keyId": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SealHead:
        return cls(
            batch_no=int(data["batch"]),
            first_seq=int(data["firstSeq"]),
            last_seq=int(data["lastSeq"]),
            leaf_count=int(data["leafCount"]),
            leaf_ranges=str(data["leafRanges"]),
            min_at=datetime.fromisoformat(data["minAt"]),
            max_at=datetime.fromisoformat(data["maxAt"]),
            merkle_root=bytes.fromhex(data["root"]),
            prev_root=bytes.fromhex(data["prevRoot"]),
            sealed_at=datetime.fromisoformat(data["sealedAt"]),
            key_id=str(data["keyId"]),
            signature=str(data["signature"]),
        )

    @classmethod
    def from_row(cls, row: Any) -> SealHead:
        return cls(
            batch_no=row.batch_no,
            first_seq=row.first_seq,
            last_seq=row.last_seq,
            leaf_count=row.leaf_count,
            leaf_ranges=row.leaf_ranges,
            min_at=row.min_at,
            max_at=row.max_at,
            merkle_root=bytes(row.merkle_root),
            prev_root=bytes(row.prev_root),
            sealed_at=row.sealed_at,
            key_id=row.key_id,
            signature=row.signature,
        )


def retention_parts(
    *, dropped_before: datetime, partitions: Sequence[str], dropped_at: datetime
) -> list[object]:
    """What a retention record's signature covers."""
    return [
        RETENTION_CONTEXT,
        micros(dropped_before),
        ",".join(sorted(partitions)),
        micros(dropped_at),
    ]


def sign_retention(
    signer: Signer, *, dropped_before: datetime, partitions: Sequence[str], dropped_at: datetime
) -> str:
    return signer.sign(
        retention_parts(dropped_before=dropped_before, partitions=partitions, dropped_at=dropped_at)
    )


@dataclass(frozen=True, slots=True)
class SealResult:
    """The batches one sealer run inserted (in order); `head` is the newest."""

    batches: tuple[SealHead, ...]

    @property
    def head(self) -> SealHead:
        return self.batches[-1]

    @property
    def leaf_count(self) -> int:
        return sum(b.leaf_count for b in self.batches)


# ---------------------------------------------------------------------------------------
# The sealer
# ---------------------------------------------------------------------------------------

SEAL_INSERT = text(
    """
    INSERT INTO access_log_seal (
        batch_no, first_seq, last_seq, leaf_count, leaf_ranges, min_at, max_at,
        merkle_root, prev_root, sealed_at, key_id, signature
    ) VALUES (
        :batch_no, :first_seq, :last_seq, :leaf_count,
        CAST(CAST(:leaf_ranges AS text) AS int8multirange), :min_at, :max_at,
        :merkle_root, :prev_root, :sealed_at, :key_id, :signature
    )
    """
)


# Which row of a batch changed: the first DIGEST_BYTES of every leaf's row hash, in seq
# order, beside the seal (not signed: the root is what proves; this only locates).
DIGEST_INSERT = text(
    "INSERT INTO access_log_seal_digest (batch_no, digests) VALUES (:batch_no, :digests)"
)
DIGEST_BYTES = 8


def leaf_digests(row_hashes: Iterable[bytes]) -> bytes:
    return b"".join(bytes(h)[:DIGEST_BYTES] for h in row_hashes)


async def _lock(session: AsyncSession, *, block: bool) -> bool:
    if block:
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": SEAL_LOCK}
        )
        return True
    acquired = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(hashtext(:name))"), {"name": SEAL_LOCK}
    )
    return bool(acquired)


async def _writers_done(session: AsyncSession, next_xid: str, wait_seconds: float) -> bool:
    deadline = time.monotonic() + wait_seconds
    pause = 0.005
    while True:
        done = await session.scalar(
            text("SELECT access_log_writers_done(CAST(CAST(:x AS text) AS xid8))"),
            {"x": next_xid},
        )
        if done:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.2)


async def seal_pending(
    *,
    session: AsyncSession,
    settings: Settings,
    wait_seconds: float = 5.0,
    block: bool = False,
    max_leaves: int = DEFAULT_MAX_LEAVES,
) -> SealResult | None:
    """Seal every finished, not yet sealed row; None when there was nothing to seal, a
    running transaction kept the range open for `wait_seconds`, or (with block=False)
    another sealer held the lock. Runs in the caller's transaction; commit it."""
    if not await _lock(session, block=block):
        return None
    last = (await session.execute(text("SELECT * FROM access_log_last_seal()"))).one()
    batch_no = int(last.batch_no or 0)
    after = int(last.last_seq or 0)
    prev_root = bytes(last.merkle_root) if last.merkle_root is not None else ZERO_ROOT

    mark = (
        await session.execute(
            text("SELECT last_seq, next_xid::text AS next_xid FROM access_log_watermark()")
        )
    ).one()
    upto = int(mark.last_seq)
    if upto <= after:
        return None
    if not await _writers_done(session, str(mark.next_xid), wait_seconds):
        log.warning(
            "access log sealing postponed: a transaction older than the watermark is "
            "still running (seq %s..%s stay unsealed for now)",
            after + 1,
            upto,
        )
        return None

    signer = signer_for(settings)
    heads: list[SealHead] = []
    while after < upto:
        rows = (
            await session.execute(
                text("SELECT seq, at, row_hash FROM access_log_leaves(:after, :upto, :limit)"),
                {"after": after, "upto": upto, "limit": max_leaves},
            )
        ).all()
        if not rows:
            break  # only positions of transactions that never committed are left
        last_seq = rows[-1].seq if len(rows) >= max_leaves else upto
        seqs = [r.seq for r in rows]
        moments = [r.at for r in rows]
        head = SealHead(
            batch_no=batch_no + 1,
            first_seq=after + 1,
            last_seq=last_seq,
            leaf_count=len(rows),
            leaf_ranges=ranges_text(seq_ranges(seqs)),
            min_at=min(moments),
            max_at=max(moments),
            # In a thread: the event loop keeps serving requests meanwhile (the GIL
            # switches every few ms instead of blocking for the whole tree).
            merkle_root=await asyncio.to_thread(merkle_root, [bytes(r.row_hash) for r in rows]),
            prev_root=prev_root,
            sealed_at=datetime.now(UTC),
            key_id=signer.key_id,
            signature="",
        )
        head = SealHead(**{**_fields(head), "signature": signer.sign(head.signed_parts())})
        await session.execute(SEAL_INSERT, _fields(head))
        await session.execute(
            DIGEST_INSERT,
            {"batch_no": head.batch_no, "digests": leaf_digests(r.row_hash for r in rows)},
        )
        heads.append(head)
        batch_no, after, prev_root = head.batch_no, head.last_seq, head.merkle_root
    return SealResult(tuple(heads)) if heads else None


def _fields(head: SealHead) -> dict[str, Any]:
    return {name: getattr(head, name) for name in SealHead.__slots__}


async def latest_head(session: AsyncSession) -> SealHead | None:
    """The newest seal (owner session: reads the seal table)."""
    row = (
        await session.execute(
            text(
                "SELECT batch_no, first_seq, last_seq, leaf_count,"
                " leaf_ranges::text AS leaf_ranges, min_at, max_at, merkle_root, prev_root,"
                " sealed_at, key_id, signature"
                " FROM access_log_seal ORDER BY batch_no DESC LIMIT 1"
            )
        )
    ).one_or_none()
    return SealHead.from_row(row) if row is not None else None


async def ensure_partitions(session: AsyncSession, months_ahead: int = 2) -> list[str]:
    """Create the monthly partitions from last month to `months_ahead` months ahead."""
    result = await session.execute(
        text("SELECT access_log_ensure_partitions(:months)"), {"months": months_ahead}
    )
    return [str(name) for name in result.scalars()]


async def run_sealer(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """The app's background task: keep partitions ahead (hourly) and seal every interval.

    Failures are logged and retried; they never reach requests, which keep writing to the
    log whether or not it is sealed.
    """
    interval = settings.audit_seal_interval_seconds
    partitions_checked = -PARTITION_CHECK_SECONDS
    failures = 0
    while True:
        if time.monotonic() - partitions_checked >= PARTITION_CHECK_SECONDS:
            try:
                async with sessionmaker() as session, session.begin():
                    created = await ensure_partitions(session)
                partitions_checked = time.monotonic()
                if created:
                    log.info("access log partitions created: %s", ", ".join(created))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not create the access log's partitions ahead")
        try:
            async with sessionmaker() as session, session.begin():
                result = await seal_pending(
                    session=session, settings=settings, wait_seconds=min(5.0, interval)
                )
            if result is not None:
                log.info(
                    "access log sealed: batch %s, seq up to %s, %s rows",
                    result.head.batch_no,
                    result.head.last_seq,
                    result.leaf_count,
                )
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            if failures == 1 or failures % 20 == 0:
                log.exception("access log sealing failed (%s times in a row)", failures)
        await asyncio.sleep(interval)
