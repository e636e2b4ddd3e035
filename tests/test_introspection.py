"""Per-role introspection answers from the schema each role may use: aliases, fragments and
variables do not get around it, and input types are pruned too."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from graphql import GraphQLEnumType, get_introspection_query

from server.authz.access import AccessView
from server.authz.decision import Access
from server.authz.policy import CompiledPolicy, load_policy
from server.graphql.introspection import filter_introspection, introspection_schema
from server.schema import catalogue, is_policed
from server.settings import PROJECT_ROOT
from tests import factories
from tests.conftest import Users, gql

# (role, organisation): subcontractor roles log in from a subcontractor organisation.
ROLES = [
    ("employee", "ksat"),
    ("customer_service", "ksat"),
    ("billing", "ksat"),
    ("collection_agency", "perinta"),
    ("field_service", "kentta"),
    ("marketing", "ksat"),
    ("business_analyst", "ksat"),
    ("auditor", "ksat"),
    ("administrator", "ksat"),
]


@pytest.fixture(scope="module")
def policy() -> CompiledPolicy:
    return load_policy(PROJECT_ROOT / "policies", catalogue())


def view(policy: CompiledPolicy, role: str) -> AccessView:
    principal = factories.user_principal(role, role)
    return AccessView(policy, principal, policy.roles[role].default_purpose, date(2026, 1, 1))


async def ask(
    client: httpx.AsyncClient,
    users: Users,
    who: tuple[str, str],
    query: str,
    variables: dict[str, Any] | None = None,
) -> Any:
    response = await gql(client, query, as_=who, users=users, variables=variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


# The attacks of the report, as tables over roles.

ALIASED_TYPE = '{ t: __type(name: "Customer") { fields { name } } }'
ALIASED_SCHEMA = "{ s: __schema { mutationType { name } } }"
FILTER_FIELDS = '{ f: __type(name: "CustomerFilter") { inputFields { name } } }'
IN_A_FRAGMENT = (
    '{ ...Q } fragment Q on Query { x: __type(name: "Customer") { ...F } } '
    "fragment F on __Type { fields { name } }"
)
BY_VARIABLE = "query($name: String!) { v: __type(name: $name) { fields { name } } }"


@pytest.mark.parametrize(
    ("who", "sees_identity_code"),
    [
        (("customer_service", "ksat"), True),  # masked, so it is there
        (("billing", "ksat"), True),
        (("marketing", "ksat"), False),
        (("business_analyst", "ksat"), False),
        (("field_service", "kentta"), False),
        (("administrator", "ksat"), True),
    ],
)
async def test_an_aliased_type_lists_only_visible_fields(
    client: httpx.AsyncClient,
    users: Users,
    who: tuple[str, str],
    sees_identity_code: bool,
) -> None:
    for query, key, variables in [
        (ALIASED_TYPE, "t", None),
        (IN_A_FRAGMENT, "x", None),
        (BY_VARIABLE, "v", {"name": "Customer"}),
    ]:
        data = await ask(client, users, who, query, variables)
        if data[key] is None:
            assert not sees_identity_code
            continue
        names = {f["name"] for f in data[key]["fields"]}
        assert ("personalIdentityCode" in names) is sees_identity_code, (query, names)


@pytest.mark.parametrize(
    ("who", "mutation_type"),
    [
        (("business_analyst", "ksat"), None),
        (("collection_agency", "perinta"), None),
        (("customer_service", "ksat"), {"name": "Mutation"}),
        (("marketing", "ksat"), {"name": "Mutation"}),
        (("billing", "ksat"), {"name": "Mutation"}),
        (("field_service", "kentta"), {"name": "Mutation"}),
    ],
)
async def test_an_aliased_schema_shows_mutations_only_to_writers(
    client: httpx.AsyncClient,
    users: Users,
    who: tuple[str, str],
    mutation_type: dict[str, str] | None,
) -> None:
    data = await ask(client, users, who, ALIASED_SCHEMA)
    assert data["s"]["mutationType"] == mutation_type
    single = await ask(client, users, who, '{ m: __type(name: "Mutation") { name } }')
    assert single["m"] == mutation_type


@pytest.mark.parametrize(
    ("who", "filters_on_identity_code"),
    [
        (("customer_service", "ksat"), False),  # reads it masked only
        (("billing", "ksat"), True),
        (("marketing", "ksat"), False),
        (("administrator", "ksat"), True),
    ],
)
async def test_input_types_are_pruned(
    client: httpx.AsyncClient,
    users: Users,
    who: tuple[str, str],
    filters_on_identity_code: bool,
) -> None:
    data = await ask(client, users, who, FILTER_FIELDS)
    names = {f["name"] for f in (data["f"] or {}).get("inputFields", [])}
    assert ("personalIdentityCode" in names) is filters_on_identity_code


async def test_introspection_mixes_with_data_fields(
    client: httpx.AsyncClient, users: Users
) -> None:
    data = await ask(
        client,
        users,
        ("marketing", "ksat"),
        '{ me { roles } __typename a: __type(name: "Customer") { name } '
        'b: __type(name: "AccessLogEntry") { name } }',
    )
    assert data["me"] == {"roles": ["marketing"]}
    assert data["__typename"] == "Query"
    assert data["a"] == {"name": "Customer"}
    assert data["b"] is None


# The pruned schema itself, for every role: everything it shows may be used.


@pytest.mark.parametrize("role", [role for role, _ in ROLES])
def test_every_shown_field_is_allowed(policy: CompiledPolicy, role: str) -> None:
    access = view(policy, role)
    pruned = introspection_schema(access)
    writes = {
        c
        for r in access.principal.roles
        if (g := policy.grants.get((r, access.purpose)))
        for c in g.writes
    }
    for name, graphql_type in pruned.type_map.items():
        fields = getattr(graphql_type, "fields", None)
        if name.startswith("__") or fields is None:
            continue
        if is_policed(name) and hasattr(graphql_type, "interfaces"):
            for field_name in fields:
                if field_name != "id":
                    assert access.field(f"{name}.{field_name}") is not Access.DENY, (
                        role,
                        name,
                        field_name,
                    )
        if name.startswith(("Create", "Update")) and name.endswith("Input"):
            target = name[6:-5]
            for field_name in fields:
                if field_name in policy.catalogue.fields.get(target, ()):
                    assert f"{target}.{field_name}" in writes, (role, name, field_name)
    assert (pruned.mutation_type is not None) is bool(writes)
    assert pruned is introspection_schema(view(policy, role))  # built once, cached


@pytest.mark.parametrize("role", [role for role, _ in ROLES])
def test_the_full_introspection_query_runs_against_every_pruned_schema(
    policy: CompiledPolicy, role: str
) -> None:
    from graphql import parse

    data: dict[str, Any] = {"__schema": {}}
    result = filter_introspection(
        data,
        view(policy, role),
        document=parse(get_introspection_query()),
        operation_name="IntrospectionQuery",
    )
    types = {t["name"] for t in result["__schema"]["types"]}
    assert "Query" in types
    if role == "employee":
        assert "Customer" not in types
        assert "CustomerFilter" not in types


def test_a_field_service_company_cannot_create_sites(policy: CompiledPolicy) -> None:
    pruned = introspection_schema(view(policy, "field_service"))
    assert pruned.mutation_type is not None
    assert "createSite" not in pruned.mutation_type.fields  # needs fields it may not write
    update = pruned.type_map["UpdateSiteInput"]
    assert "mainFuse" in update.fields  # type: ignore[attr-defined]
    assert "streetAddress" not in update.fields  # type: ignore[attr-defined]


def test_order_fields_and_nested_filters_show_only_what_the_role_reads_in_full(
    policy: CompiledPolicy,
) -> None:
    """orderBy and filters reveal values: introspection offers only fields read in full."""
    analyst = introspection_schema(view(policy, "business_analyst"))
    order = analyst.type_map["CustomerOrderField"]
    assert isinstance(order, GraphQLEnumType)
    assert "CREATED_AT" in order.values and "LAST_NAME" not in order.values
    service = introspection_schema(view(policy, "customer_service"))
    service_order = service.type_map["CustomerOrderField"]
    assert isinstance(service_order, GraphQLEnumType)
    assert {"LAST_NAME", "CUSTOMER_NUMBER"} <= set(service_order.values)
    agency = introspection_schema(view(policy, "collection_agency"))
    assert "ContractListFilter" not in agency.type_map  # no contracts at all
    listed = agency.type_map["InvoiceListFilter"]
    assert {"status", "issuedFrom"} <= set(listed.fields)  # type: ignore[attr-defined]
