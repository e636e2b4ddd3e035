"""What the seed generator returns: the rows of every table, and how many there are."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

__all__ = ["Row", "SeedData", "SeedSummary", "TableRows"]

Row = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """How many rows the seed wrote into each table."""

    organisations: int = 0
    products: int = 0
    prices: int = 0
    customers: int = 0
    prospects: int = 0
    sites: int = 0
    offers: int = 0
    contracts: int = 0
    consumption: int = 0
    invoices: int = 0
    invoice_lines: int = 0
    payments: int = 0
    security_deposits: int = 0
    collection_cases: int = 0
    collection_case_invoices: int = 0
    assignments: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def total(self) -> int:
        return sum(self.as_dict().values())

    def as_table(self) -> str:
        counts = self.as_dict()
        width = max(len(name) for name in counts)
        lines = [f"{'table':<{width}}  {'rows':>10}", f"{'-' * width}  {'-' * 10}"]
        lines += [f"{name:<{width}}  {count:>10,}" for name, count in counts.items()]
        lines += [f"{'-' * width}  {'-' * 10}", f"{'total':<{width}}  {self.total:>10,}"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.as_table()


@dataclass(frozen=True, slots=True)
class TableRows:
    """The rows of one table, with the columns they fill (COPY column list)."""

    summary_field: str
    table: str
    columns: tuple[str, ...]
    rows: Iterable[Row]  # a list, or a re-iterable lazy sequence (consumption)
    count: int


@dataclass(frozen=True, slots=True)
class SeedData:
    tables: tuple[TableRows, ...]  # in foreign-key order
    max_numbers: dict[tuple[str, str], int]  # (table, column) -> highest explicit number

    @property
    def summary(self) -> SeedSummary:
        return SeedSummary(**{t.summary_field: t.count for t in self.tables})

    def table(self, name: str) -> TableRows:
        for rows in self.tables:
            if rows.table == name:
                return rows
        raise KeyError(name)
