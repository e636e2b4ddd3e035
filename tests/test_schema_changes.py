"""The breaking-change check: schema.graphql against the last release, and CHANGELOG.md."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from dataclasses import replace

import pytest
from graphql import BreakingChangeType, ObjectTypeDefinitionNode, parse, print_ast

from server.graphql.schema_changes import (
    UNRELEASED,
    changelog_sections,
    check,
    check_project,
    coordinate_of,
    releases,
    report,
    schema_changes,
)
from server.settings import PROJECT_ROOT

OLD = """
directive @audited(reason: String) repeatable on FIELD_DEFINITION | OBJECT
interface Party { name: String }
type Person implements Party { name: String, age: Int }
type Company implements Party { name: String }
union Holder = Person | Company
enum Status { OPEN CLOSED }
input Filter { status: Status }
type Query {
  people(first: Int): [Person!]!
  holder: Holder
  status: Status
  search(filter: Filter): [Person!]!
  legacy: String
}
"""

# Every kind of breaking change graphql-core knows, one each, and the coordinate the
# changelog names it by.
NEW = """
directive @audited repeatable on OBJECT
directive @gone on FIELD_DEFINITION
interface Party { name: String }
type Person { name: String, age: String }
type Company implements Party { name: String, staff: Int }
union Holder = Company
enum Status { OPEN }
input Filter { status: Status, since: String! }
type Query {
  people(first: String, after: String!): [Person!]!
  holder: Holder
  status: Status
  search: [Person!]!
}
"""

EXPECTED = {
    ("Query.legacy", "FIELD_REMOVED"),
    ("Person.age", "FIELD_CHANGED_KIND"),
    ("Person", "IMPLEMENTED_INTERFACE_REMOVED"),
    ("Holder", "TYPE_REMOVED_FROM_UNION"),
    ("Status.CLOSED", "VALUE_REMOVED_FROM_ENUM"),
    ("Filter.since", "REQUIRED_INPUT_FIELD_ADDED"),
    ("Query.people(first:)", "ARG_CHANGED_KIND"),
    ("Query.people(after:)", "REQUIRED_ARG_ADDED"),
    ("Query.search(filter:)", "ARG_REMOVED"),
    ("@audited(reason:)", "DIRECTIVE_ARG_REMOVED"),
    ("@audited", "DIRECTIVE_LOCATION_REMOVED"),
}

CHANGELOG = """# Changelog

## [Unreleased]

### Breaking

{entries}

## [1.0.0] - 2026-01-01
- `Query.legacy` FIELD_REMOVED: an old release's entry does not count.
"""


def changelog(*entries: str) -> str:
    return CHANGELOG.format(entries="\n".join(entries))


def entry(coordinate: str, change_type: str) -> str:
    return f"- `{coordinate}` {change_type}: what clients do instead."


def breaking(old: str, new: str) -> set[tuple[str, str]]:
    """The (coordinate, change type) of every breaking change from schema `old` to `new`."""
    return {c.key for c in schema_changes(old, new) if c.breaking}


def test_breaking_changes_since_the_last_release_are_in_the_changelog() -> None:
    result = check_project()
    assert result.ok, "\n" + "\n".join(report(result))


def test_every_kind_of_breaking_change_gets_its_coordinate() -> None:
    assert breaking(OLD, NEW) == EXPECTED
    assert {t for _, t in EXPECTED} == {t.name for t in BreakingChangeType} - {
        "TYPE_REMOVED",
        "TYPE_CHANGED_KIND",
        "DIRECTIVE_REMOVED",
        "REQUIRED_DIRECTIVE_ARG_ADDED",
        "DIRECTIVE_REPEATABLE_REMOVED",
    }


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "type Query { a: Int } type Gone { a: Int } scalar S",
            "type Query { a: Int } union S = Query",
            {("Gone", "TYPE_REMOVED"), ("S", "TYPE_CHANGED_KIND")},
        ),
        (
            "directive @a repeatable on FIELD directive @b on FIELD type Query { a: Int }",
            "directive @a(x: Int!) on FIELD type Query { a: Int }",
            {
                ("@b", "DIRECTIVE_REMOVED"),
                ("@a(x:)", "REQUIRED_DIRECTIVE_ARG_ADDED"),
                ("@a", "DIRECTIVE_REPEATABLE_REMOVED"),
            },
        ),
    ],
)
def test_types_and_directives_get_their_coordinates(
    old: str, new: str, expected: set[tuple[str, str]]
) -> None:
    """The kinds of breaking change OLD and NEW do not show (see above)."""
    assert breaking(old, new) == expected


def test_the_check_fails_on_a_breaking_change_missing_from_the_changelog() -> None:
    current = (PROJECT_ROOT / "schema.graphql").read_text(encoding="utf-8")
    # Remove the first root field the front ends query.
    document = parse(current)
    query = next(
        d
        for d in document.definitions
        if isinstance(d, ObjectTypeDefinitionNode) and d.name.value == "Query"
    )
    first, *others = query.fields or ()
    removed = f"Query.{first.name.value}"
    smaller = replace(query, fields=tuple(others))
    modified = print_ast(
        replace(
            document, definitions=tuple(smaller if d is query else d for d in document.definitions)
        )
    )
    result = check(current, "0.1.0", modified, changelog())
    assert not result.ok
    [missing] = result.unlisted
    assert missing.key == (removed, "FIELD_REMOVED")
    assert (
        f"  [BREAKING, NOT LISTED] - `{removed}` FIELD_REMOVED: Field {removed} was removed."
        in (report(result))
    )

    listed = check(current, "0.1.0", modified, changelog(entry(*missing.key)))
    assert listed.ok and [c.key for c in listed.changes] == [missing.key]


def test_an_entry_for_a_change_that_does_not_happen_fails_the_check() -> None:
    result = check(OLD, "1.0.0", OLD, changelog(entry("Query.people", "FIELD_REMOVED")))
    assert result.stale == [("Query.people", "FIELD_REMOVED")] and not result.ok
    # A bullet that is not an entry (no known change type) is prose, not a claim.
    assert check(OLD, "1.0.0", OLD, changelog("- `Query.people` is faster now.")).ok


def test_entries_count_only_in_the_unreleased_section() -> None:
    result = check(
        OLD,
        "1.0.0",
        NEW,
        changelog(*(entry(*key) for key in EXPECTED - {("Query.legacy", "FIELD_REMOVED")})),
    )
    assert [c.key for c in result.unlisted] == [("Query.legacy", "FIELD_REMOVED")]
    with pytest.raises(ValueError, match="Unreleased"):
        check(OLD, "1.0.0", NEW, "# Changelog\n## [1.0.0]\n")


def test_dangerous_changes_are_reported_but_not_required() -> None:
    result = check(
        "enum S { A } type Query { s: S }",
        "1.0.0",
        "enum S { A B } type Query { s(x: Int): S }",
        changelog(),
    )
    assert result.ok
    assert {c.key for c in result.changes} == {
        ("S.B", "VALUE_ADDED_TO_ENUM"),
        ("Query.s(x:)", "OPTIONAL_ARG_ADDED"),
    }
    assert all(not c.breaking for c in result.changes)


def test_a_description_without_a_coordinate_is_an_error() -> None:
    with pytest.raises(ValueError, match="no schema coordinate"):
        coordinate_of("Something new happened.")


def test_the_newest_release_its_schema_and_the_package_version_agree() -> None:
    sections = changelog_sections((PROJECT_ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))
    names = list(sections)
    assert names[0] == UNRELEASED
    newest = names[1]
    version, path = releases()[-1]
    assert newest == ".".join(map(str, version)) == path.stem
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["version"] == newest


def _git(*args: str) -> str:
    return subprocess.run(  # noqa: S603
        ["git", *args],  # noqa: S607
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _release_tags() -> list[str]:
    if shutil.which("git") is None or not (PROJECT_ROOT / ".git").exists():
        return []
    try:
        return [
            t for t in _git("tag", "--list", "v*").split() if re.fullmatch(r"v\d+\.\d+\.\d+", t)
        ]
    except subprocess.CalledProcessError:
        return []


@pytest.mark.skipif(
    not _release_tags(), reason="no release tags in this checkout (CI clones without them)"
)
def test_each_release_tag_has_its_schema_committed() -> None:
    for tag in _release_tags():
        committed = PROJECT_ROOT / "schema" / "releases" / f"{tag[1:]}.graphql"
        assert committed.exists(), f"{tag} has no schema/releases/{tag[1:]}.graphql"
        assert committed.read_text(encoding="utf-8") == _git("show", f"{tag}:schema.graphql"), tag
