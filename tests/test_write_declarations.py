"""Every write a service declares names fields of the schema: the coordinates `write` is
checked on, and that the access log records, are known coordinates of their type."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest

from server.graphql.inputs import camel
from server.operations.writes import Writes
from server.schema import catalogue

DOMAINS = ("billing", "contracts", "customers", "organisations", "prospects", "rights", "sites")


def declared_writes() -> Iterator[tuple[str, Writes]]:
    """The module-level Writes of every service (and those in a table of them)."""
    for domain in DOMAINS:
        module = importlib.import_module(f"server.{domain}.service")
        for name, value in vars(module).items():
            for item in value.values() if isinstance(value, dict) else [value]:
                if isinstance(item, Writes):
                    yield f"{domain}.{name}", item


WRITES = list(declared_writes())


def test_the_services_declare_their_writes() -> None:
    declaring = {label.split(".")[0] for label, _ in WRITES}
    assert declaring == set(DOMAINS) - {"customers", "sites"}  # those write the fields given


@pytest.mark.parametrize(("label", "writes"), WRITES, ids=[label for label, _ in WRITES])
def test_a_declared_write_names_known_coordinates(label: str, writes: Writes) -> None:
    everything = writes.when(**dict.fromkeys(writes.optional, True))
    known = catalogue().fields[writes.type_name]
    assert [c for c in everything.coordinates if c.split(".")[1] not in known] == []


@pytest.mark.parametrize("domain", ["customers", "sites"])
def test_the_checked_fields_of_customers_and_sites_are_known(domain: str) -> None:
    module = importlib.import_module(f"server.{domain}.service")
    rules = module.RULES
    names = {*rules.required, *rules.text_limits, *rules.identifiers, *rules.checks}
    names |= set(module.DEFAULTS)
    known = catalogue().fields[domain.removesuffix("s").capitalize()]
    assert sorted(camel(name) for name in names if camel(name) not in known) == []


def test_optional_fields_must_be_declared() -> None:
    writes = Writes("Offer", ("status",), optional=("valid_until",))
    assert writes.when(valid_until=True).coordinates == ("Offer.status", "Offer.validUntil")
    assert writes.when(valid_until=False).coordinates == ("Offer.status",)
    with pytest.raises(ValueError, match="not optional fields of Offer"):
        writes.when(product=True)


async def test_an_update_sets_only_declared_fields() -> None:
    writes = Writes("CollectionCase", ("agency", "stage"))
    with pytest.raises(ValueError, match=r"CollectionCase writes no \['closed_on'\]"):
        await writes.update(None, None, None, {"closed_on": None}, customer_id=None)  # type: ignore[arg-type]
