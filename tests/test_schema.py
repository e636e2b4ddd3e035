"""The committed schema.graphql is generated from the code and must not drift."""

from __future__ import annotations

import argparse

from graphql import GraphQLObjectType, build_schema

from server.cli import cmd_schema_export
from server.schema import catalogue, export_sdl
from server.settings import PROJECT_ROOT, Settings


def test_committed_schema_matches_the_code() -> None:
    committed = (PROJECT_ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == export_sdl(), "run `rekisteri schema export` and commit schema.graphql"


def test_export_check_fails_on_drift() -> None:
    target = PROJECT_ROOT / "schema.graphql"
    original = target.read_text(encoding="utf-8")
    check = argparse.Namespace(check=True)
    assert cmd_schema_export(check, Settings()) == 0
    try:
        target.write_text(original.replace("Customer", "Client", 1), encoding="utf-8")
        assert cmd_schema_export(check, Settings()) == 1
    finally:
        target.write_text(original, encoding="utf-8")


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
