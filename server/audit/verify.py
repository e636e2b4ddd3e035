"""`rekisteri audit verify`: find edited, deleted and inserted access-log rows.

Checks, in one pass over the three row tables in seq order (as the owner):

* every request and old object row's stored hash is recomputed in SQL with the function
  the insert trigger used (by hash version for request rows), so a row edited with the
  triggers disabled shows up with its table and seq;
* subject rows have no stored hash: theirs is computed in SQL, as the sealer did;
* every sealed batch: the rows in its range are exactly the positions it sealed (a
  missing position is a deleted row, an extra or duplicate one an inserted row), each
  row's hash starts with the digest stored for its position when it was sealed (a row
  changed after sealing, even together with its stored hash, is named) and their hashes
  give its Merkle root;
* the seals themselves: consecutive numbers and ranges, each chained to the previous
  root, each signature valid under a trusted Ed25519 public key looked up by its key
  id (the service's own, or those an auditor gives), old HMAC seals under the HMAC
  key, and no HMAC seal after an Ed25519 one (server/audit/signing.py);
* optionally, signed heads kept outside the database are still in the chain;
* rows after the last seal are reported separately: sealing protects them later.

Incremental runs (the command's default) read only the rows after the newest successful
verification recorded in `access_log_verification` (signed with the service's Ed25519 key, and its
batch still in the chain with the same root), plus the unsealed tail; seals, chain,
signatures and heads are always checked in full. `--full` reads every row again.

Batches whose rows were partly dropped by retention (see `access_log_retention`) are
checked for inserted rows and signatures only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.seal import (
    DIGEST_BYTES,
    ZERO_ROOT,
    SealHead,
    merkle_root,
    micros,
    parse_ranges,
    retention_parts,
)
from server.audit.signing import (
    Keyring,
    Signer,
    Verdict,
    explain,
    first_ed25519,
    is_legacy_key_id,
    keyring_for,
    signer_for,
)
from server.cli_progress import NO_PROGRESS, Positions, Progress
from server.settings import Settings

MAX_PROBLEMS = 1000
MAX_MISSING_PER_BATCH = 100
VERIFICATION_CONTEXT = "rekisteri-access-log-verification-v2"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding; `kind` is a stable keyword, `detail` says where and what."""

    kind: str
    detail: str
    batch_no: int | None = None
    seq: int | None = None
    table: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "batch": self.batch_no,
            "seq": self.seq,
            "table": self.table,
            "detail": self.detail,
        }


@dataclass
class VerifyReport:
    """The outcome of a verification; `ok` only when nothing at all was found."""

    rows_checked: int = 0
    sealed_rows: int = 0
    batches_checked: int = 0
    batches_retired: int = 0
    unsealed_rows: int = 0
    unsealed_first_seq: int | None = None
    unsealed_last_seq: int | None = None
    head: SealHead | None = None
    retained_from: datetime | None = None
    heads_checked: int = 0
    full: bool = True
    verified_before_batch: int = 0  # incremental: batches up to this one were verified before
    verified_before_seq: int = 0
    problems: list[Problem] = field(default_factory=list)
    problems_total: int = 0

    @property
    def ok(self) -> bool:
        return self.problems_total == 0

    def add(self, problem: Problem) -> None:
        self.problems_total += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def kinds(self) -> set[str]:
        return {p.kind for p in self.problems}

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rowsChecked": self.rows_checked,
            "sealedRows": self.sealed_rows,
            "batchesChecked": self.batches_checked,
            "batchesRetired": self.batches_retired,
            "unsealedRows": self.unsealed_rows,
            "unsealedFirstSeq": self.unsealed_first_seq,
            "unsealedLastSeq": self.unsealed_last_seq,
            "head": self.head.to_json() if self.head else None,
            "retainedFrom": self.retained_from.isoformat() if self.retained_from else None,
            "headsChecked": self.heads_checked,
            "full": self.full,
            "verifiedBeforeBatch": self.verified_before_batch,
            "verifiedBeforeSeq": self.verified_before_seq,
            "problemsTotal": self.problems_total,
            "problems": [p.to_json() for p in self.problems],
        }

    def summary(self) -> str:
        lines = [
            f"access log {'OK' if self.ok else 'NOT OK'}: {self.rows_checked} rows checked, "
            f"{self.sealed_rows} in {self.batches_checked} sealed batches "
            f"({self.batches_retired} partly removed by retention)",
        ]
        if not self.full:
            lines.append(
                f"incremental: batches up to {self.verified_before_batch} (seq up to "
                f"{self.verified_before_seq}) were verified before; use --full to check "
                "everything again"
            )
        if self.head is not None:
            lines.append(
                f"head: batch {self.head.batch_no}, seq up to {self.head.last_seq}, "
                f"root {self.head.merkle_root.hex()}"
            )
        if self.unsealed_rows:
            lines.append(
                f"not sealed yet: {self.unsealed_rows} rows, seq {self.unsealed_first_seq}"
                f"..{self.unsealed_last_seq}"
            )
        if self.heads_checked:
            lines.append(f"external heads checked: {self.heads_checked}")
        for problem in self.problems:
            lines.append(f"PROBLEM {problem.kind}: {problem.detail}")
        if self.problems_total > len(self.problems):
            lines.append(f"... and {self.problems_total - len(self.problems)} more problems")
        return "\n".join(lines)


# Rows after a position in seq order, each with its hash: stored and recomputed for old
# request rows (versions 1 and 2) and old object rows (hash_ok compares them), computed
# for newer request rows and subject rows (their only check is the seal and its leaf
# digests).
ROWS = text(
    """
    SELECT r.seq, 'access_log_request' AS tbl, r.at, r.request_id,
           access_log_request_leaf_hash(r) AS row_hash,
           r.hash_version = 3
           OR r.row_hash IS NOT DISTINCT FROM access_log_request_expected_hash(r) AS hash_ok
    FROM access_log_request r
    WHERE r.seq > :after
    UNION ALL
    SELECT o.seq, 'access_log_object', o.at, o.request_id, o.row_hash,
           o.row_hash IS NOT DISTINCT FROM access_log_object_hash(
               o.seq, o.at, o.request_id, o.type_name, o.object_id, o.subject_customer_id,
               o.subject_prospect_id, o.operation, o.fields_read, o.fields_masked,
               o.fields_denied, o.xid
           )
    FROM access_log_object o
    WHERE o.seq > :after
    UNION ALL
    SELECT s.seq, 'access_log_subject', s.at, s.request_id,
           access_log_subject_hash(
               s.seq, s.at, s.request_id, s.subject_customer_id, s.subject_prospect_id,
               s.object_ids, s.object_sets, s.xid
           ),
           true
    FROM access_log_subject s
    WHERE s.seq > :after
    ORDER BY 1
    """
)

ISSUED = text("SELECT coalesce(pg_sequence_last_value('access_log_seq'), 0)")
DIGESTS = text("SELECT batch_no, digests FROM access_log_seal_digest WHERE batch_no > :after_batch")

VERIFICATIONS = text(
    "SELECT id, at, batch_no, last_seq, merkle_root, full_check, rows_checked, result,"
    " principal, key_id, signature FROM access_log_verification WHERE result = 'ok'"
    " ORDER BY id DESC"
)

RECORD_VERIFICATION = text(
    """
    INSERT INTO access_log_verification (
        at, batch_no, last_seq, merkle_root, full_check, rows_checked, result, principal,
        key_id, signature
    ) VALUES (
        :at, :batch_no, :last_seq, :merkle_root, :full_check, :rows_checked, :result,
        :principal, :key_id, :signature
    )
    """
)

SEALS = text(
    "SELECT batch_no, first_seq, last_seq, leaf_count, leaf_ranges::text AS leaf_ranges,"
    " min_at, max_at, merkle_root, prev_root, sealed_at, key_id, signature"
    " FROM access_log_seal ORDER BY batch_no"
)


@dataclass(slots=True)
class _Row:
    seq: int
    table: str
    at: datetime
    request_id: Any
    row_hash: bytes


def _where(row: _Row) -> str:
    at = row.at.astimezone(UTC).isoformat()
    return f"{row.table} seq {row.seq} (at {at}, request {row.request_id})"


def _check_chain(report: VerifyReport, seals: Sequence[SealHead], keys: Keyring) -> None:
    after_ed25519 = False
    prev_root = ZERO_ROOT
    expected_no = 1
    expected_first = 1
    for seal in seals:
        if seal.batch_no != expected_no:
            report.add(
                Problem(
                    "chain_break",
                    f"seal batch {expected_no} is missing (next found: {seal.batch_no})",
                    batch_no=expected_no,
                )
            )
        if seal.first_seq != expected_first:
            report.add(
                Problem(
                    "chain_break",
                    f"seal batch {seal.batch_no} starts at seq {seal.first_seq}, "
                    f"expected {expected_first}",
                    batch_no=seal.batch_no,
                )
            )
        if seal.prev_root != prev_root:
            report.add(
                Problem(
                    "chain_break",
                    f"seal batch {seal.batch_no} does not chain to the root before it",
                    batch_no=seal.batch_no,
                )
            )
        what = f"seal batch {seal.batch_no} (seq {seal.first_seq}..{seal.last_seq})"
        verdict = keys.check(seal.key_id, seal.signed_parts(), seal.signature)
        legacy = is_legacy_key_id(seal.key_id)
        if not verdict.accepted:
            kind, detail = explain(verdict, what, seal.key_id, keys)
            report.add(Problem(kind, detail, batch_no=seal.batch_no))
        elif legacy and after_ed25519:
            report.add(
                Problem(
                    "downgraded_signature",
                    f"{what} carries an HMAC signature after Ed25519-signed seals: "
                    "anyone holding the HMAC key could have made it",
                    batch_no=seal.batch_no,
                )
            )
        after_ed25519 = after_ed25519 or not legacy
        prev_root = seal.merkle_root
        expected_no = seal.batch_no + 1
        expected_first = seal.last_seq + 1


def _check_heads(
    report: VerifyReport, seals: Sequence[SealHead], heads: Sequence[SealHead], keys: Keyring
) -> None:
    by_number = {seal.batch_no: seal for seal in seals}
    for head in heads:
        report.heads_checked += 1
        if not head.signature_valid(keys):
            report.add(
                Problem(
                    "head_invalid",
                    f"the external head for batch {head.batch_no} is not signed with a "
                    f"trusted key (it names {head.key_id}; trusted: {keys.describe()})",
                    batch_no=head.batch_no,
                )
            )
            continue
        stored = by_number.get(head.batch_no)
        if stored is None:
            report.add(
                Problem(
                    "head_missing",
                    f"the externally kept head of batch {head.batch_no} (seq up to "
                    f"{head.last_seq}) is no longer in the log: seals were removed",
                    batch_no=head.batch_no,
                )
            )
        elif stored != head:
            report.add(
                Problem(
                    "head_mismatch",
                    f"seal batch {head.batch_no} differs from the externally kept head",
                    batch_no=head.batch_no,
                )
            )


async def _retention_boundary(
    session: AsyncSession,
    report: VerifyReport,
    keys: Keyring,
    ed25519_since: datetime | None = None,
) -> datetime | None:
    """The newest retention boundary whose record is signed with a trusted key (an HMAC
    one only from before the first Ed25519 seal)."""
    rows = (
        await session.execute(
            text(
                "SELECT id, dropped_at, dropped_before, partitions, key_id, signature"
                " FROM access_log_retention ORDER BY id"
            )
        )
    ).all()
    boundary: datetime | None = None
    for row in rows:
        parts = retention_parts(
            dropped_before=row.dropped_before,
            partitions=list(row.partitions),
            dropped_at=row.dropped_at,
        )
        accepted = keys.accepts(row.key_id, parts, row.signature)
        if accepted and is_legacy_key_id(row.key_id) and ed25519_since is not None:
            accepted = row.dropped_at < ed25519_since
        if not accepted:
            report.add(
                Problem(
                    "retention_signature",
                    f"retention record {row.id} (before {row.dropped_before.isoformat()}) "
                    "is not signed with a trusted key; it is ignored",
                )
            )
            continue
        if boundary is None or row.dropped_before > boundary:
            boundary = row.dropped_before
    return boundary


class _BatchWalker:
    """Receives rows in seq order and checks each sealed batch when it is complete."""

    def __init__(
        self,
        report: VerifyReport,
        seals: Sequence[SealHead],
        boundary: datetime | None,
        *,
        after: int = 0,
        digests: dict[int, bytes] | None = None,
    ) -> None:
        self.report = report
        # Batches ending at or before `after` were verified before: their rows are not read.
        self.seals = sorted(
            (s for s in seals if s.last_seq > after), key=lambda s: (s.last_seq, s.batch_no)
        )
        self.boundary = boundary
        self.index = 0
        self.rows: list[_Row] = []
        self.sealed_upto = self.seals[-1].last_seq if self.seals else 0
        self.digests = digests or {}

    def add(self, row: _Row) -> None:
        while self.index < len(self.seals) and row.seq > self.seals[self.index].last_seq:
            self._finish()
        if self.index >= len(self.seals):
            self._unsealed(row)
            return
        seal = self.seals[self.index]
        if row.seq < seal.first_seq:
            self.report.add(
                Problem(
                    "unexpected_row",
                    f"{_where(row)} lies outside every sealed range",
                    seq=row.seq,
                    table=row.table,
                )
            )
            return
        self.rows.append(row)

    def finish(self) -> None:
        while self.index < len(self.seals):
            self._finish()

    def _unsealed(self, row: _Row) -> None:
        report = self.report
        report.unsealed_rows += 1
        if report.unsealed_first_seq is None:
            report.unsealed_first_seq = row.seq
        report.unsealed_last_seq = row.seq

    def _finish(self) -> None:
        seal = self.seals[self.index]
        rows, self.rows = self.rows, []
        self.index += 1
        report = self.report
        report.batches_checked += 1
        runs = parse_ranges(seal.leaf_ranges)
        retired = self.boundary is not None and seal.min_at < self.boundary
        leaves: list[bytes] = []
        present: list[int] = []
        previous: int | None = None
        run = 0
        before_run = 0  # sealed positions in the runs before runs[run]
        damaged = False
        digests = self.digests.get(seal.batch_no)
        if digests is not None and len(digests) != seal.leaf_count * DIGEST_BYTES:
            digests = None  # damaged or foreign: the root still decides
        for row in rows:
            if row.seq == previous:
                damaged = True
                report.add(
                    Problem(
                        "duplicate_seq",
                        f"{_where(row)} repeats a position in sealed batch {seal.batch_no}: "
                        "an inserted row",
                        batch_no=seal.batch_no,
                        seq=row.seq,
                        table=row.table,
                    )
                )
                continue
            previous = row.seq
            while run < len(runs) and runs[run][1] <= row.seq:
                before_run += runs[run][1] - runs[run][0]
                run += 1
            if run < len(runs) and runs[run][0] <= row.seq:
                present.append(row.seq)
                leaves.append(row.row_hash)
                if digests is not None:
                    index = (before_run + row.seq - runs[run][0]) * DIGEST_BYTES
                    if row.row_hash[:DIGEST_BYTES] != digests[index : index + DIGEST_BYTES]:
                        report.add(
                            Problem(
                                "row_changed",
                                f"{_where(row)} is not the row sealed in batch "
                                f"{seal.batch_no}: it was changed after sealing",
                                batch_no=seal.batch_no,
                                seq=row.seq,
                                table=row.table,
                            )
                        )
            else:
                damaged = True
                report.add(
                    Problem(
                        "unexpected_row",
                        f"{_where(row)} was not there when batch {seal.batch_no} "
                        f"(seq {seal.first_seq}..{seal.last_seq}) was sealed: an inserted row",
                        batch_no=seal.batch_no,
                        seq=row.seq,
                        table=row.table,
                    )
                )
        report.sealed_rows += len(present)
        if retired:
            report.batches_retired += 1
            return
        missing = _missing(runs, present)
        for seq in missing[:MAX_MISSING_PER_BATCH]:
            report.add(
                Problem(
                    "missing_row",
                    f"seq {seq} was sealed in batch {seal.batch_no} "
                    f"(seq {seal.first_seq}..{seal.last_seq}) and is gone: a deleted row",
                    batch_no=seal.batch_no,
                    seq=seq,
                )
            )
        if len(missing) > MAX_MISSING_PER_BATCH:
            report.add(
                Problem(
                    "missing_row",
                    f"{len(missing) - MAX_MISSING_PER_BATCH} more rows of batch "
                    f"{seal.batch_no} are gone",
                    batch_no=seal.batch_no,
                )
            )
        if missing or damaged:
            return
        if merkle_root(leaves) != seal.merkle_root:
            report.add(
                Problem(
                    "root_mismatch",
                    f"batch {seal.batch_no} (seq {seal.first_seq}..{seal.last_seq}): the rows "
                    "no longer give the sealed Merkle root: a row was changed together with "
                    "its hash",
                    batch_no=seal.batch_no,
                )
            )


def _missing(runs: Sequence[tuple[int, int]], present: Sequence[int]) -> list[int]:
    missing: list[int] = []
    index = 0
    for lower, upper in runs:
        for seq in range(lower, upper):
            while index < len(present) and present[index] < seq:
                index += 1
            if index >= len(present) or present[index] != seq:
                missing.append(seq)
    return missing


def _verification_parts(values: Mapping[str, Any]) -> list[object]:
    return [
        VERIFICATION_CONTEXT,
        values["batch_no"],
        values["last_seq"],
        bytes(values["merkle_root"]).hex(),
        micros(values["at"]),
        int(bool(values["full_check"])),
        values["rows_checked"],
        values["result"],
        values["principal"] or "",
    ]


def verification_verdict(values: Mapping[str, Any], keys: Keyring) -> Verdict:
    """Whether a verification record (at, batch_no, last_seq, merkle_root, full_check,
    rows_checked, result, principal, key_id, signature) is signed by a trusted key."""
    return keys.check(values["key_id"], _verification_parts(values), values["signature"])


@dataclass(frozen=True, slots=True)
class _Verified:
    batch_no: int
    last_seq: int
    merkle_root: bytes


async def _last_verified(
    session: AsyncSession, report: VerifyReport, seals: Sequence[SealHead], keys: Keyring
) -> _Verified | None:
    """The newest successful verification signed (Ed25519) with a trusted key whose batch
    is still in the chain as it was; None (check everything) when there is none. Only the
    holder of the service's private key can make such a record, so whoever can check one
    cannot forge one to make a later run skip rows."""
    by_number = {seal.batch_no: seal for seal in seals}
    for row in (await session.execute(VERIFICATIONS)).mappings():
        verdict = keys.check(row["key_id"], _verification_parts(dict(row)), row["signature"])
        if verdict is not Verdict.VALID and verdict is not Verdict.BAD_SIGNATURE:
            continue  # signed with a key this check does not trust: not a starting point
        if verdict is Verdict.BAD_SIGNATURE:
            report.add(
                Problem(
                    "verification_signature",
                    f"verification record {row['id']} (batch {row['batch_no']}) is not signed "
                    "with a trusted Ed25519 key; it is ignored",
                    batch_no=row["batch_no"],
                )
            )
            continue
        seal = by_number.get(row["batch_no"])
        if (
            seal is None
            or seal.last_seq != row["last_seq"]
            or seal.merkle_root != bytes(row["merkle_root"])
        ):
            report.add(
                Problem(
                    "chain_break",
                    f"seal batch {row['batch_no']}, verified on "
                    f"{row['at'].astimezone(UTC).isoformat()}, is gone or has changed; "
                    "everything is checked again",
                    batch_no=row["batch_no"],
                )
            )
            return None
        return _Verified(seal.batch_no, seal.last_seq, seal.merkle_root)
    return None


def _own_signer(settings: Settings, keys: Keyring) -> Signer | None:
    """The service's signing key when the check trusts it (a verification record is made
    only by whoever holds the key the verifier trusts; an outside auditor's run, with
    public keys only, records nothing)."""
    try:
        signer = signer_for(settings)
    except ValueError:
        return None
    return signer if signer.key_id in keys.public_keys else None


async def _record(
    session: AsyncSession, report: VerifyReport, signer: Signer, principal: str | None
) -> None:
    head = report.head
    if head is None:
        return
    values: dict[str, Any] = {
        "at": datetime.now(UTC),
        "batch_no": head.batch_no,
        "last_seq": head.last_seq,
        "merkle_root": head.merkle_root,
        "full_check": report.full,
        "rows_checked": report.rows_checked,
        "result": "ok" if report.ok else "problems",
        "principal": principal[:200] if principal else None,
        "key_id": signer.key_id,
    }
    values["signature"] = signer.sign(_verification_parts(values))
    await session.execute(RECORD_VERIFICATION, values)


async def verify(
    *,
    session: AsyncSession,
    settings: Settings | None = None,
    heads: Sequence[SealHead] = (),
    full: bool = True,
    record: bool = False,
    principal: str | None = None,
    keys: Keyring | None = None,
    progress: Progress = NO_PROGRESS,
) -> VerifyReport:
    """Verify the log as the owner, reading rows once in seq order.

    full=True reads every row; full=False only the rows after the newest successful,
    signed verification (whose batch must still be in the chain unchanged) plus the
    unsealed tail. Seals, signatures, the chain and external heads are always checked
    in full (one row per batch). record=True stores the outcome in
    access_log_verification (signed), to start the next incremental run from. `progress`
    follows the rows read, by position.
    """
    settings = settings or Settings()
    # The public keys to trust (an auditor's), else the service's own; see signing.py.
    keys = keys or keyring_for(settings)
    report = VerifyReport(full=full)
    await session.execute(text("SET LOCAL statement_timeout = 0"))
    seals = [SealHead.from_row(row) for row in (await session.execute(SEALS)).all()]
    report.head = seals[-1] if seals else None
    _check_chain(report, seals, keys)
    _check_heads(report, seals, heads, keys)
    ed25519_since = first_ed25519((seal.key_id, seal.sealed_at) for seal in seals)
    boundary = await _retention_boundary(session, report, keys, ed25519_since)
    report.retained_from = boundary

    after, after_batch = 0, 0
    if not full:
        verified = await _last_verified(session, report, seals, keys)
        if verified is None:
            report.full = True
        else:
            after, after_batch = verified.last_seq, verified.batch_no
            report.verified_before_batch, report.verified_before_seq = after_batch, after
    digests = {
        int(row.batch_no): bytes(row.digests)
        for row in await session.execute(DIGESTS, {"after_batch": after_batch})
    }
    walker = _BatchWalker(report, seals, boundary, after=after, digests=digests)
    total = int(await session.scalar(ISSUED) or 0) - after if progress.enabled else None
    with progress.stage("verifying the access log", total=total, unit="rows") as advance:
        positions = Positions(advance, after)
        result = await session.stream(ROWS.execution_options(yield_per=10_000), {"after": after})
        async for row in result:
            report.rows_checked += 1
            item = _Row(row.seq, row.tbl, row.at, row.request_id, bytes(row.row_hash))
            if not row.hash_ok:
                report.add(
                    Problem(
                        "row_hash_mismatch",
                        f"{_where(item)} does not match its hash: the row was edited",
                        seq=item.seq,
                        table=item.table,
                    )
                )
            walker.add(item)
            positions.at(item.seq)
        positions.flush()
    walker.finish()

    issued = await session.scalar(ISSUED)
    if report.unsealed_last_seq is not None and report.unsealed_last_seq > int(issued or 0):
        report.add(
            Problem(
                "unexpected_row",
                f"seq {report.unsealed_last_seq} was never handed out by the sequence: "
                "an inserted row",
                seq=report.unsealed_last_seq,
            )
        )
    if record:
        signer = _own_signer(settings, keys)
        if signer is not None:
            await _record(session, report, signer, principal)
    return report
