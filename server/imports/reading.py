"""Reading an import file as a stream: fixed-size chunks, its SHA-256 and size as it goes,
UTF-8 lines with their numbers. Nothing holds more than a chunk and a line."""

from __future__ import annotations

import codecs
import csv
import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

CHUNK_BYTES = 1 << 16


class FileRefused(Exception):
    """The file as a whole cannot be imported (not UTF-8 text, a wrong header): names the
    line and the field, never content."""

    def __init__(self, line: int, field: str, reason: str) -> None:
        self.line = line
        self.field = field
        self.reason = reason
        super().__init__(f"line {line}: {field}: {reason}")


class FileLines:
    """The lines of a UTF-8 file (a BOM is skipped), numbered from 1, without their line
    ends; `sha256`, `bytes_read` and `size` follow the bytes read so far."""

    def __init__(self, path: Path, *, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.bytes_read = 0
        self._digest = hashlib.sha256()
        self._chunk_bytes = chunk_bytes

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def __iter__(self) -> Iterator[tuple[int, str]]:
        for first, block in self.blocks():
            for number, line in enumerate(block, start=first):
                yield number, line.removesuffix("\r")

    def blocks(self) -> Iterator[tuple[int, list[str]]]:
        """The lines a chunk completes, with the number of the first; a line may still
        end in "\r" (CRLF files)."""
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        number = 1
        pending = ""
        with self.path.open("rb") as stream:
            while True:
                chunk = stream.read(self._chunk_bytes)
                self._digest.update(chunk)
                self.bytes_read += len(chunk)
                text = pending + self._decode(decoder, chunk, final=not chunk, line=number)
                lines = text.split("\n")
                pending = lines.pop()
                if lines:
                    yield number, lines
                    number += len(lines)
                # A parser thread lets the event loop's thread run between blocks (the
                # interpreter would switch only every few milliseconds).
                time.sleep(0)
                if not chunk:
                    break
        if pending:
            yield number, [pending]

    @staticmethod
    def _decode(decoder: codecs.IncrementalDecoder, chunk: bytes, *, final: bool, line: int) -> str:
        """The chunk's text; FileRefused naming the line (first line of the chunk plus
        the line ends before the bad byte) when it is not UTF-8."""
        try:
            return decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            where = line + chunk[: max(exc.start, 0)].count(b"\n")
            raise FileRefused(where, "file", "not UTF-8 text") from None


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One record of a CSV file: the line it starts on and its values by column name."""

    line: int
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class BadRow:
    """A record that is not a row of the table (its number of fields)."""

    line: int
    reason: str


def csv_records(
    lines: Iterator[tuple[int, str]], *, required: Sequence[str], optional: Sequence[str] = ()
) -> Iterator[CsvRow | BadRow]:
    """The records of a CSV file with a header row naming its columns (any order), separated
    by commas or semicolons (whichever the header uses); blank lines are skipped. A header
    that lacks a required column or names an unknown one refuses the file."""
    numbered = ((number, line) for number, line in lines if line.strip())
    first = next(numbered, None)
    if first is None:
        raise FileRefused(1, "file", "the file is empty")
    header_line, header = first
    delimiter = ";" if header.count(";") > header.count(",") else ","
    columns = [c.strip() for c in next(csv.reader([header], delimiter=delimiter))]
    _check_header(header_line, columns, required, optional)
    numbers: list[int] = []

    def physical() -> Iterator[str]:
        for number, line in numbered:
            numbers.append(number)
            yield line + "\n"

    reader = csv.reader(physical(), delimiter=delimiter, strict=True)
    while True:
        numbers.clear()  # the physical lines of the next record
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield BadRow(numbers[0], "not valid CSV (a quote out of place)")
            continue
        if len(record) != len(columns):
            yield BadRow(numbers[0], f"expected {len(columns)} fields, found {len(record)}")
            continue
        yield CsvRow(numbers[0], {c: v.strip() for c, v in zip(columns, record, strict=True)})


def _check_header(
    line: int, columns: list[str], required: Sequence[str], optional: Sequence[str]
) -> None:
    missing = [c for c in required if c not in columns]
    if missing:
        raise FileRefused(line, "header", f"missing column {missing[0]}")
    unknown = [c for c in columns if c not in required and c not in optional]
    if unknown or len(set(columns)) != len(columns):
        raise FileRefused(line, "header", "unknown or repeated column")
