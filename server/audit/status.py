"""The seal status of the access log: the newest seal and how many positions came after it.

Cheap whatever the size of the log (the newest seal by its primary key, and the sequence's
last value), and readable by the runtime role: /metrics asks on every scrape.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

SEAL_STATUS = text(
    "SELECT batch_no, sealed_seq, issued_seq,"
    " extract(epoch FROM clock_timestamp() - sealed_at)::float8 AS age_seconds"
    " FROM access_log_seal_status()"
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
