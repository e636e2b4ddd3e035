"""The seal status of the access log for /metrics: the newest seal and how many positions
came after it.

Read through `access_log_seal_status` (migration 0011, readable by the runtime role) with a
count limit of 1, so that a scrape costs a few index look-ups whatever the size of the log:
the newest seal by its primary key, the sequence's last value, one probe per log table and
the newest verification record. The unsealed rows are the positions after the last sealed
one (the console, server/console/service.py, counts the rows themselves up to a limit).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

SEAL_STATUS = text(
    "SELECT batch_no, coalesce(last_sealed_seq, 0) AS sealed_seq, last_issued_seq AS issued_seq,"
    " extract(epoch FROM clock_timestamp() - sealed_at)::float8 AS age_seconds"
    " FROM access_log_seal_status(1)"
)


@dataclass(frozen=True, slots=True)
class SealStatus:
    """The newest seal (None: never sealed) and the positions handed out so far."""

    batch_no: int | None
    sealed_seq: int
    issued_seq: int
    age_seconds: float | None

    @property
    def unsealed_rows(self) -> int:
        """Log rows after the last sealed position (a rolled-back request's position
        counts too until the next seal covers it)."""
        return max(0, self.issued_seq - self.sealed_seq)


async def seal_status(conn: AsyncConnection | AsyncSession) -> SealStatus:
    row = (await conn.execute(SEAL_STATUS)).one()
    return SealStatus(
        batch_no=row.batch_no,
        sealed_seq=int(row.sealed_seq),
        issued_seq=int(row.issued_seq),
        age_seconds=None if row.age_seconds is None else float(row.age_seconds),
    )
