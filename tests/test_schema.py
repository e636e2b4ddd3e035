"""The committed schema.graphql is generated from the code and must not drift.

The tests only read the committed file; `rekisteri schema export` is what writes it.
"""

from __future__ import annotations

import argparse
import difflib
from pathlib import Path

import pytest
from graphql import GraphQLObjectType, build_schema

from server.cli import cmd_schema_export
from server.schema import catalogue, export_sdl
from server.settings import PROJECT_ROOT, Settings


def test_committed_schema_matches_the_code() -> None:
    committed = (PROJECT_ROOT / "schema.graphql").read_text(encoding="utf-8")
    exported = export_sdl()
    if committed != exported:
        diff = difflib.unified_diff(
            committed.splitlines(),
            exported.splitlines(),
            "schema.graphql (committed)",
            "schema.graphql (from the code)",
            lineterm="",
        )
        excerpt = "\n".join(list(diff)[:60])
        pytest.fail(
            "schema.graphql differs from the code: run `rekisteri schema export` and commit "
            f"schema.graphql\n{excerpt}",
            pytrace=False,
        )


@pytest.fixture
def schema_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root of the test's own, so the export command runs without touching the
    tracked schema.graphql. Before any test writes, the command is seen to read there."""
    monkeypatch.setattr("server.settings.PROJECT_ROOT", tmp_path)
    check = argparse.Namespace(check=True)
    (tmp_path / "schema.graphql").write_text(export_sdl(), encoding="utf-8")
    up_to_date = cmd_schema_export(check, Settings())
    (tmp_path / "schema.graphql").unlink()
    assert (up_to_date, cmd_schema_export(check, Settings())) == (0, 1), (
        "`rekisteri schema export` must follow server.settings.PROJECT_ROOT"
    )
    return tmp_path


def test_export_check_fails_on_drift(schema_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = schema_home / "schema.graphql"
    check = argparse.Namespace(check=True)
    target.write_text(export_sdl(), encoding="utf-8")
    capsys.readouterr()
    assert cmd_schema_export(check, Settings()) == 0
    assert "up to date" in capsys.readouterr().out
    target.write_text(export_sdl().replace("Customer", "Client", 1), encoding="utf-8")
    assert cmd_schema_export(check, Settings()) == 1
    assert "run `rekisteri schema export`" in capsys.readouterr().err


def test_export_writes_the_schema(schema_home: Path) -> None:
    assert cmd_schema_export(argparse.Namespace(check=False), Settings()) == 0
    assert (schema_home / "schema.graphql").read_text(encoding="utf-8") == export_sdl()


def test_every_type_and_field_has_a_description() -> None:
    schema = build_schema(export_sdl())
    missing = []
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, GraphQLObjectType):
            missing.extend(
                f"{name}.{field}" for field, f in graphql_type.fields.items() if not f.description
            )
    assert missing == []


def test_personal_data_is_marked_in_the_catalogue() -> None:
    personal = catalogue().personal_data
    assert "Customer.personalIdentityCode" in personal
    assert "Site.meteringPointId" in personal
    assert "Customer.kind" not in personal
