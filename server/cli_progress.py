"""Progress bars for long commands: drawn on stderr when it is a terminal, nothing otherwise.

Code that does long work takes a `Progress` (default `NO_PROGRESS`) and reports through it;
the command line hands in `for_terminal()`:

    def load(rows, *, progress: Progress = NO_PROGRESS) -> None:
        with progress.stage("loading", total=len(rows), unit="rows") as advance:
            for chunk in chunks(rows):
                write(chunk)
                advance(len(chunk))

A stage with a total draws `label [#####.....]  42%  12,345/29,000 rows  3 s, ~4 s left`;
one without a total draws the count and the time. The line is redrawn at most ten times a
second and ends with a newline when the stage ends. `progress.enabled` tells whether
anything is drawn, for code that would otherwise count for nothing.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol, TextIO, TypeVar

T = TypeVar("T")
Advance = Callable[[int], None]

REDRAW_SECONDS = 0.1
MIN_BAR_WIDTH = 10


class Progress(Protocol):
    """Where long work reports how far it is."""

    enabled: bool

    def stage(
        self, label: str, total: int | None = None, unit: str = ""
    ) -> AbstractContextManager[Advance]:
        """A step of the work; the context yields `advance(n)`, to call as n more are done."""
        ...


def _ignore(done: int) -> None:
    return None


class NoProgress:
    """Reports go nowhere (output is not a terminal, or nobody asked)."""

    enabled = False

    def stage(
        self, label: str, total: int | None = None, unit: str = ""
    ) -> AbstractContextManager[Advance]:
        return contextlib.nullcontext(_ignore)


NO_PROGRESS: Progress = NoProgress()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class _Bar:
    def __init__(
        self,
        stream: TextIO,
        label: str,
        total: int | None,
        unit: str,
        clock: Callable[[], float],
    ) -> None:
        self.stream, self.label, self.total, self.unit, self.clock = (
            stream,
            label,
            total,
            unit,
            clock,
        )
        self.done = 0
        self.started = clock()
        self.drawn = -REDRAW_SECONDS

    def advance(self, done: int = 1) -> None:
        self.done += done
        now = self.clock()
        if now - self.drawn >= REDRAW_SECONDS:
            self.draw(now)

    def line(self, now: float, width: int) -> str:
        elapsed = now - self.started
        unit = f" {self.unit}" if self.unit else ""
        if not self.total:
            return f"{self.label}  {self.done:,}{unit}  {_duration(elapsed)}"
        share = min(1.0, self.done / self.total)
        left = f", ~{_duration(elapsed / share - elapsed)} left" if 0 < share < 1 else ""
        counts = f"{share:4.0%}  {self.done:,}/{self.total:,}{unit}  {_duration(elapsed)}{left}"
        room = width - len(self.label) - len(counts) - 6
        if room < MIN_BAR_WIDTH:
            return f"{self.label}  {counts}"
        filled = round(room * share)
        return f"{self.label} [{'#' * filled}{'.' * (room - filled)}]  {counts}"

    def draw(self, now: float, *, last: bool = False) -> None:
        self.drawn = now
        width = shutil.get_terminal_size((80, 24)).columns
        self.stream.write("\r" + self.line(now, width)[: width - 1] + "\x1b[K")
        if last:
            self.stream.write("\n")
        self.stream.flush()


class TerminalProgress:
    """Draws each stage as one line on `stream` (a terminal)."""

    enabled = True

    def __init__(self, stream: TextIO, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock

    @contextlib.contextmanager
    def stage(self, label: str, total: int | None = None, unit: str = "") -> Iterator[Advance]:
        bar = _Bar(self.stream, label, total, unit, self.clock)
        bar.draw(bar.started)
        try:
            yield bar.advance
        finally:
            bar.draw(self.clock(), last=True)


def for_terminal(stream: TextIO | None = None) -> Progress:
    """Bars on `stream` (stderr) when it is a terminal; `NO_PROGRESS` when it is not."""
    stream = stream if stream is not None else sys.stderr
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        interactive = False
    return TerminalProgress(stream) if interactive else NO_PROGRESS


def counted(items: Iterable[T], advance: Advance, every: int = 10_000) -> Iterator[T]:
    """`items`, calling `advance(every)` after each `every` of them (and for the rest)."""
    count = 0
    for item in items:
        yield item
        count += 1
        if count == every:
            advance(count)
            count = 0
    if count:
        advance(count)


class Positions:
    """Turns the increasing positions of rows read in order (the access log's seq) into
    `advance` calls, one per `every` rows: for a stage whose total is a range of positions."""

    def __init__(self, advance: Advance, start: int, every: int = 10_000) -> None:
        self.advance, self.reported, self.every, self.rows = advance, start, every, 0
        self.last = start

    def at(self, position: int) -> None:
        self.last = position
        self.rows += 1
        if self.rows >= self.every:
            self.flush()

    def flush(self) -> None:
        """Report what was read since the last report."""
        if self.last > self.reported:
            self.advance(self.last - self.reported)
            self.reported = self.last
        self.rows = 0
