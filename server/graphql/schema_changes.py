"""Breaking and dangerous changes of `schema.graphql` since the last release, and the
CHANGELOG.md lines that accept them.

The schema of every release is committed as `schema/releases/<version>.graphql` (a
checkout without tags still has it). graphql-core's `find_schema_changes` compares the
latest of them with `schema.graphql`; every breaking change must be listed in the
changelog's `## [Unreleased]` section as one bullet naming its schema coordinate and
change type (the format is described at the top of CHANGELOG.md):

    - `Customer.invoices` FIELD_CHANGED_KIND: a connection now; page with first/after.

A listed change that does not happen is reported too, so the list stays true.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from graphql import (
    BreakingChangeType,
    DangerousChangeType,
    build_schema,
    find_schema_changes,
)

from server.settings import PROJECT_ROOT

RELEASES_DIR = PROJECT_ROOT / "schema" / "releases"
CHANGELOG = PROJECT_ROOT / "CHANGELOG.md"
UNRELEASED = "Unreleased"

_NAME = r"[_A-Za-z][_0-9A-Za-z]*"
_COORDINATE = rf"@?{_NAME}(?:\.{_NAME})?(?:\({_NAME}:\))?"
# Where graphql-core's description names the definition that changed: the union or the
# object type for a member or an interface, the directive for a flag or a location, and
# otherwise the first coordinate after the kind of thing ("Field", "Argument", ...).
_WHERE = (
    re.compile(rf"(?:union type|implemented by|(?:from|to)(?= @)) (?P<c>{_COORDINATE})\.$"),
    re.compile(
        r"^(?:Standard scalar |Field |Argument |Enum value |Directive "
        rf"|An? (?:required|optional) (?:field|argument) )?(?P<c>{_COORDINATE}) "
        r"(?:was |changed |has changed |no longer |defaultValue |added )"
    ),
)
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_SECTION = re.compile(r"^## \[(?P<name>[^\]]+)\]", re.MULTILINE)
_CHANGE_TYPES = {t.name for t in BreakingChangeType} | {t.name for t in DangerousChangeType}
_ENTRY = re.compile(rf"^\s*[-*] `(?P<coordinate>{_COORDINATE})` (?P<type>[A-Z_]+)\b", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """One breaking or dangerous change, as the changelog names it."""

    breaking: bool
    type: str  # graphql-core's BreakingChangeType or DangerousChangeType name
    coordinate: str
    description: str

    @property
    def key(self) -> tuple[str, str]:
        return self.coordinate, self.type

    def changelog_line(self) -> str:
        return f"- `{self.coordinate}` {self.type}: {self.description}"


def coordinate_of(description: str) -> str:
    """The schema coordinate of the definition a graphql-core description names."""
    for pattern in _WHERE:
        found = pattern.search(description)
        if found:
            return found.group("c")
    raise ValueError(f"no schema coordinate in graphql-core's description: {description!r}")


def schema_changes(old_sdl: str, new_sdl: str) -> list[SchemaChange]:
    """Breaking and dangerous changes from the old schema to the new one."""
    changes = []
    for change in find_schema_changes(build_schema(old_sdl), build_schema(new_sdl)):
        if isinstance(change.type, BreakingChangeType | DangerousChangeType):
            changes.append(
                SchemaChange(
                    breaking=isinstance(change.type, BreakingChangeType),
                    type=change.type.name,
                    coordinate=coordinate_of(change.description),
                    description=change.description,
                )
            )
    return sorted(changes, key=lambda c: (not c.breaking, c.coordinate, c.type))


def changelog_sections(text: str) -> dict[str, str]:
    """The text of each `## [name]` section of a Keep a Changelog file, by name."""
    headings = list(_SECTION.finditer(text))
    return {
        heading.group("name"): text[heading.end() : following.start() if following else None]
        for heading, following in zip(headings, [*headings[1:], None], strict=True)
    }


def listed_changes(section: str) -> set[tuple[str, str]]:
    """The (coordinate, change type) pairs a changelog section lists."""
    return {
        (entry.group("coordinate"), entry.group("type"))
        for entry in _ENTRY.finditer(section)
        if entry.group("type") in _CHANGE_TYPES
    }


def releases(directory: Path = RELEASES_DIR) -> list[tuple[tuple[int, int, int], Path]]:
    """The committed release schemas, oldest first."""
    found = []
    for path in directory.glob("*.graphql"):
        version = _VERSION.match(path.stem)
        if version:
            found.append(((int(version[1]), int(version[2]), int(version[3])), path))
    return sorted(found)


@dataclass(slots=True)
class ChangeCheck:
    """The changes since a release, against what the changelog's Unreleased section lists."""

    release: str
    changes: list[SchemaChange]
    listed: set[tuple[str, str]]
    unlisted: list[SchemaChange] = field(init=False)
    stale: list[tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.unlisted = [c for c in self.changes if c.breaking and c.key not in self.listed]
        happening = {c.key for c in self.changes}
        self.stale = sorted(self.listed - happening)

    @property
    def ok(self) -> bool:
        return not self.unlisted and not self.stale


def check(release_sdl: str, release: str, current_sdl: str, changelog: str) -> ChangeCheck:
    """Compare a release's schema with the current one and the changelog's Unreleased list."""
    unreleased = changelog_sections(changelog).get(UNRELEASED)
    if unreleased is None:
        raise ValueError(f"the changelog has no ## [{UNRELEASED}] section")
    return ChangeCheck(
        release, schema_changes(release_sdl, current_sdl), listed_changes(unreleased)
    )


def check_project(root: Path = PROJECT_ROOT) -> ChangeCheck:
    """The check for this checkout: schema.graphql against the latest committed release."""
    known = releases(root / "schema" / "releases")
    if not known:
        raise ValueError("no release schema in schema/releases/")
    version, path = known[-1]
    return check(
        path.read_text(encoding="utf-8"),
        ".".join(map(str, version)),
        (root / "schema.graphql").read_text(encoding="utf-8"),
        (root / "CHANGELOG.md").read_text(encoding="utf-8"),
    )


def report(result: ChangeCheck) -> list[str]:
    """The check as lines for the command line: what is listed, what is missing."""
    lines = [f"schema.graphql against release {result.release}:"]
    for change in result.changes:
        if change.key in result.listed:
            mark = "listed"
        elif change.breaking:
            mark = "BREAKING, NOT LISTED"
        else:
            mark = "dangerous"
        lines.append(f"  [{mark}] {change.changelog_line()}")
    for coordinate, change_type in result.stale:
        lines.append(f"  [LISTED, DOES NOT HAPPEN] `{coordinate}` {change_type}")
    if not result.changes and not result.stale:
        lines.append("  no breaking or dangerous change")
    if result.unlisted:
        lines.append(
            f"Add the breaking changes under ## [{UNRELEASED}] / ### Breaking in CHANGELOG.md "
            "(the lines above, with what clients do instead)."
        )
    return lines
