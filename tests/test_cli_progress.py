"""Progress bars: drawn on stderr when it is a terminal (a pseudo-terminal here), nothing
when it is not; and what a bar shows."""

from __future__ import annotations

import io
import os
import pty
import subprocess
from pathlib import Path

from server import cli_progress
from server.settings import PROJECT_ROOT
from tests.processes import rekisteri, service_env

LABELS = (
    "generating customers",
    "writing",
    "verifying the access log",
    "exporting the access log",
    "applying retention",
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_stage_with_a_total_draws_a_bar_with_the_share_and_the_time_left() -> None:
    out, clock = io.StringIO(), Clock()
    progress = cli_progress.TerminalProgress(out, clock=clock)
    with progress.stage("loading", total=200, unit="rows") as advance:
        clock.now += 10
        advance(50)
    lines = out.getvalue().split("\r")
    assert lines[1].startswith("loading [") and "0/200 rows" in lines[1]
    quarter = lines[2]
    assert " 25%  50/200 rows  10 s, ~30 s left" in quarter
    bar = quarter[quarter.index("[") + 1 : quarter.index("]")]
    assert bar.count("#") == round(len(bar) / 4)
    assert out.getvalue().endswith("\n")


def test_redraws_are_limited_and_the_end_is_always_drawn() -> None:
    out, clock = io.StringIO(), Clock()
    progress = cli_progress.TerminalProgress(out, clock=clock)
    with progress.stage("counting") as advance:
        for _ in range(1000):
            advance(1)  # no time passes: no redraw
    drawn = out.getvalue().split("\r")[1:]
    assert len(drawn) == 2  # the first line and the last
    assert drawn[-1].startswith("counting  1,000  0 s")


def test_nothing_is_drawn_when_the_output_is_not_a_terminal() -> None:
    out = io.StringIO()
    progress = cli_progress.for_terminal(out)
    assert progress is cli_progress.NO_PROGRESS and not progress.enabled
    with progress.stage("anything", total=3) as advance:
        advance(3)
    assert out.getvalue() == ""


def test_positions_report_ranges_in_steps() -> None:
    reported: list[int] = []
    positions = cli_progress.Positions(reported.append, start=100, every=2)
    for seq in (101, 103, 104, 110, 111):
        positions.at(seq)
    positions.flush()
    assert reported == [3, 7, 1] and sum(reported) == 111 - 100


# -- the commands, in a pseudo-terminal and in a pipe ----------------------------------


def run(database_url: str, *argv: str, terminal: bool) -> str:
    """Run `rekisteri ARGV` with stderr on a pseudo-terminal or a pipe; its stderr."""
    env = service_env(database_url)
    command = rekisteri(*argv)
    if not terminal:
        done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
            command, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stderr.decode()
    leader, follower = pty.openpty()
    process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        command, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=follower,
    )  # fmt: skip
    os.close(follower)
    output = bytearray()
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the other side is closed: the command ended
                break
            if not chunk:
                break
            output.extend(chunk)
    finally:
        os.close(leader)
    assert process.wait(timeout=120) == 0, output.decode(errors="replace")
    return output.decode(errors="replace")


def commands(tmp_path: Path) -> list[tuple[str, ...]]:
    return [
        ("seed", "--customers", "3"),
        ("audit", "verify"),
        ("audit", "export", "--from", "2000-01-01", "--to", "2100-01-01",
         "--output", str(tmp_path / "export.jsonl")),
        ("retention", "apply"),
    ]  # fmt: skip


def test_long_commands_draw_bars_on_a_terminal(fresh_database_url: str, tmp_path: Path) -> None:
    output = "".join(run(fresh_database_url, *argv, terminal=True) for argv in commands(tmp_path))
    for label in LABELS:
        assert f"\r{label}" in output, label
    assert "100%" in output


def test_long_commands_draw_nothing_into_a_pipe(fresh_database_url: str, tmp_path: Path) -> None:
    export = commands(tmp_path)[2]
    output = run(fresh_database_url, "audit", "verify", terminal=False)
    output += run(fresh_database_url, *export, terminal=False)
    assert "\r" not in output and "%" not in output
    for label in LABELS:
        assert label not in output, label
    assert (tmp_path / "export.jsonl").stat().st_size > 0
