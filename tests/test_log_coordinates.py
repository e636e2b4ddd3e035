"""Code that logs model columns gets their GraphQL coordinates from one place, and refuses a
column that no field of the type shows."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from server.audit.coordinates import UnknownField, logged, stored_fields
from server.billing.types import Invoice
from server.contracts.types import Contract
from server.customers.types import Customer
from server.settings import PROJECT_ROOT
from tests.log_names import is_coordinate


def test_columns_are_named_by_their_graphql_field_in_order() -> None:
    shown = logged(Customer, "personal_identity_code", "customer_number", "email", "email")
    assert shown.type_name == "Customer"
    assert shown.fields == ("personalIdentityCode", "customerNumber", "email")
    assert shown.coordinates == (
        "Customer.personalIdentityCode",
        "Customer.customerNumber",
        "Customer.email",
    )


def test_a_column_may_be_shown_by_another_field_or_by_none() -> None:
    shown = logged(
        Contract,
        "contract_number",
        "product_name",
        "former_number",
        shown_as={"product_name": "product", "former_number": None},
    )
    assert shown.fields == ("contractNumber", "product")


def test_an_unknown_column_or_field_is_refused() -> None:
    with pytest.raises(UnknownField, match="Customer has no field for the column customer_no"):
        logged(Customer, "customer_no")
    with pytest.raises(UnknownField, match=r"Contract\.productName"):
        logged(Contract, "product_name", shown_as={"product_name": "productName"})
    # A GraphQL name is no column: the declarations name the columns they read.
    with pytest.raises(UnknownField):
        logged(Customer, "customerNumber")


def test_a_deletion_writes_every_stored_field_and_no_relation() -> None:
    fields = stored_fields(Invoice).fields
    assert {"invoiceNumber", "totalInclVat", "status"} <= set(fields)
    assert not {"id", "lines", "payments", "customer"} & set(fields)


def _migration(name: str) -> ModuleType:
    path = Path(PROJECT_ROOT, "migrations", "versions", name)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_old_name_of_migration_0016_stands_for_fields_of_its_type() -> None:
    aliases = _migration("0016_access_log_field_alias.py").aliases()
    assert len(aliases) == len({(a["type_name"], a["stored_name"]) for a in aliases})
    for alias in aliases:
        assert not is_coordinate(alias["type_name"], alias["stored_name"]), alias
        for name in alias["field_names"]:
            assert is_coordinate(alias["type_name"], name), alias
