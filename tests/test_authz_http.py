"""Field decisions and row scopes seen over HTTP, checked against Casbin itself."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema

from server.authz.masks import MASKS
from server.authz.oracle import CasbinOracle
from server.authz.policy import load_policy
from server.schema import catalogue, is_policed, schema
from server.settings import PROJECT_ROOT
from tests.conftest import Users, gql, raw_id
from tests.scenario import AGENCY_A, Scenario, build_scenario

POLICY_DIR = PROJECT_ROOT / "policies"
ORGANISATION_OF = {"collection_agency": "perinta-a", "field_service": "kenttapalvelu-a"}
ROOTS = {
    "customers": "Customer",
    "sites": "Site",
    "contracts": "Contract",
    "invoices": "Invoice",
    "prospects": "Prospect",
}
# The access history changes with every read (the oracle's own reads are in it).
SKIPPED_RELATIONS = {"accessHistory"}
ARGUMENTS = {
    "consumption": '(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", resolution: DAY)'
}


def _object_type(field_type: Any) -> GraphQLObjectType | None:
    while isinstance(field_type, GraphQLNonNull | GraphQLList):
        field_type = field_type.of_type
    return field_type if isinstance(field_type, GraphQLObjectType) else None


def selection(graphql_schema: GraphQLSchema, type_name: str, depth: int) -> str:
    """Every field of a type; relations expanded `depth` levels, always with id/__typename."""
    graphql_type = graphql_schema.type_map[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    parts = ["__typename"]
    for name, field in graphql_type.fields.items():
        target = _object_type(field.type)
        if name in SKIPPED_RELATIONS:
            continue
        if target is None:
            parts.append(name)
        elif depth > 0:
            inner = selection(graphql_schema, node_type(target).name, depth - 1)
            arguments = ARGUMENTS.get(name, "")
            if target.name.endswith("Connection"):  # its wrappers are no level of their own
                inner = f"edges {{ node {{ {inner} }} }}"
                arguments = "(first: 10)"
            parts.append(f"{name}{arguments} {{ {inner} }}")
    return " ".join(parts)


def node_type(target: GraphQLObjectType) -> GraphQLObjectType:
    """The type of a connection's nodes, or the type itself."""
    if not target.name.endswith("Connection"):
        return target
    edge = _object_type(target.fields["edges"].type)
    assert edge is not None
    node = _object_type(edge.fields["node"].type)
    assert node is not None
    return node


def leaf_coordinates() -> set[str]:
    graphql_schema = schema()._schema
    leaves = set()
    for coordinate in catalogue().coordinates():
        type_name, field_name = coordinate.split(".")
        graphql_type = graphql_schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        if _object_type(graphql_type.fields[field_name].type) is None:
            leaves.add(coordinate)
    return leaves


def oracle_query(root: str) -> str:
    graphql_schema = schema()._schema
    inner = selection(graphql_schema, ROOTS[root], 2)
    return f"{{ {root}(first: 20) {{ edges {{ node {{ {inner} }} }} }} }}"


def collect(value: Any, found: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Every object in a response with its leaf fields, keyed by (type, id)."""
    if isinstance(value, list):
        for item in value:
            collect(item, found)
    elif isinstance(value, dict):
        if "__typename" in value and "id" in value:
            entry = found.setdefault((value["__typename"], value["id"]), {})
            for key, item in value.items():
                if not isinstance(item, dict | list):
                    entry[key] = item
        for item in value.values():
            collect(item, found)


def expected_access(oracle: CasbinOracle, role: str, coordinate: str, purpose: str) -> str:
    return oracle.access(role, coordinate, purpose).label


@pytest.fixture
async def scenario(owner: asyncpg.Connection) -> Scenario:
    return await build_scenario(owner)


@pytest.mark.usefixtures("scenario")
async def test_every_leaf_field_matches_casbin_for_every_role_and_purpose(
    client: httpx.AsyncClient, users: Users
) -> None:
    """The oracle: each non-null leaf is allowed by enforce(); masked values are masked,
    read values equal the administrator's, denied values are null with a FORBIDDEN error."""
    enforcer = CasbinOracle(POLICY_DIR)
    policy = load_policy(POLICY_DIR, catalogue())
    truth: dict[tuple[str, str], dict[str, Any]] = {}
    for root in ROOTS:
        body = (
            await gql(
                client, oracle_query(root), as_="administrator", users=users, purpose="billing"
            )
        ).json()
        collect(body["data"], truth)
    checked: set[str] = set()
    leaves = leaf_coordinates()
    expected: dict[tuple[str, str, str], str] = {}
    for role in sorted(policy.roles):
        for purpose in sorted(policy.role_purposes[role]):
            as_ = (role, ORGANISATION_OF.get(role, "ksat"))
            for root in ROOTS:
                response = await gql(
                    client, oracle_query(root), as_=as_, users=users, purpose=purpose
                )
                body = response.json()
                forbidden = {
                    e["extensions"]["coordinate"]
                    for e in body.get("errors", [])
                    if e["extensions"]["code"] == "FORBIDDEN"
                }
                assert {e["extensions"]["code"] for e in body.get("errors", [])} <= {"FORBIDDEN"}
                seen: dict[tuple[str, str], dict[str, Any]] = {}
                collect(body["data"], seen)
                for (type_name, object_id), fields in seen.items():
                    if not is_policed(type_name):
                        continue
                    for field_name, value in fields.items():
                        if field_name in ("id", "__typename"):
                            continue
                        coordinate = f"{type_name}.{field_name}"
                        key = (role, coordinate, purpose)
                        if key not in expected:
                            expected[key] = expected_access(enforcer, role, coordinate, purpose)
                        want = expected[key]
                        context = (role, purpose, coordinate)
                        if coordinate not in leaves:
                            if want == "deny":  # a denied relation is null as a whole
                                assert value is None, context
                                assert coordinate in forbidden, context
                            continue
                        real = truth[(type_name, object_id)][field_name]
                        if want == "deny":
                            assert value is None, context
                            assert coordinate in forbidden, context
                        elif want == "mask":
                            mask = MASKS[policy.masks[coordinate]]
                            assert value == (None if real is None else mask(str(real))), context
                        else:
                            assert value == real, context
                        checked.add(coordinate)
    register_types = {
        "Customer",
        "Site",
        "ConsumptionPoint",
        "Contract",
        "Product",
        "Price",
        "Invoice",
        "InvoiceLine",
        "Payment",
        "SecurityDeposit",
        "CollectionCase",
        "Organisation",
        "Prospect",
    }
    assert {c for c in leaves if c.split(".")[0] in register_types} - checked == set()


CUSTOMER_HETU = """
query One($id: ID!) { customer(id: $id) { id personalIdentityCode } }
"""


@pytest.mark.parametrize(
    "query",
    [
        "query One($id: ID!) { customer(id: $id) { a: personalIdentityCode b: personalIdentityCode } }",
        "query One($id: ID!) { customer(id: $id) { ...F } } fragment F on Customer { personalIdentityCode }",
        "query One($id: ID!) { customer(id: $id) { ... on Customer { personalIdentityCode } } }",
        "query One($id: ID!) { customer(id: $id) { sites { edges { node { customer { personalIdentityCode } } } } } }",
    ],
)
async def test_aliases_and_fragments_do_not_reveal_a_denied_field(
    client: httpx.AsyncClient, users: Users, scenario: Scenario, query: str
) -> None:
    body = (
        await gql(
            client,
            query,
            as_="marketing",
            users=users,
            variables={"id": str(scenario.plain.customer["id"])},
        )
    ).json()
    hetu = scenario.plain.customer["personal_identity_code"]
    assert hetu not in str(body["data"])
    assert hetu[:6] not in str(body["data"])
    errors = [e for e in body["errors"] if e["extensions"]["code"] == "FORBIDDEN"]
    assert [e["extensions"]["coordinate"] for e in errors] == ["Customer.personalIdentityCode"]
    assert errors[0]["extensions"]["purpose"] == "marketing"


IDENTITY_CODES = "{ customers(first: 50) { edges { node { personalIdentityCode } } } }"
CUSTOMER_IDS = "{ customers(first: 50) { edges { node { id } } } }"


@pytest.mark.usefixtures("scenario")
async def test_one_error_per_denied_coordinate_not_per_item(
    client: httpx.AsyncClient, users: Users
) -> None:
    body = (await gql(client, IDENTITY_CODES, as_="marketing", users=users)).json()
    assert len(body["data"]["customers"]["edges"]) >= 3
    assert len(body["errors"]) == 1


@pytest.mark.usefixtures("scenario")
async def test_nested_path_to_identity_code_is_masked_for_customer_service(
    client: httpx.AsyncClient, users: Users
) -> None:
    query = "{ invoices(first: 50) { edges { node { customer { personalIdentityCode } } } } }"
    body = (await gql(client, query, as_="customer_service", users=users)).json()
    codes = {
        edge["node"]["customer"]["personalIdentityCode"]
        for edge in body["data"]["invoices"]["edges"]
    }
    assert codes and all(code.endswith("-****") for code in codes)


async def test_lookup_by_id_outside_the_row_scope_is_not_found(
    client: httpx.AsyncClient, users: Users, scenario: Scenario
) -> None:
    theirs = str(scenario.in_collection_b.customer["id"])
    ours = str(scenario.in_collection_a.customer["id"])
    found = (
        await gql(client, CUSTOMER_HETU, as_=AGENCY_A, users=users, variables={"id": ours})
    ).json()
    assert raw_id(found["data"]["customer"]["id"]) == ours
    hidden = (
        await gql(client, CUSTOMER_HETU, as_=AGENCY_A, users=users, variables={"id": theirs})
    ).json()
    assert hidden == {"data": {"customer": None}, "extensions": hidden["extensions"]}


async def test_two_subcontractors_never_see_each_others_rows(
    client: httpx.AsyncClient, users: Users, scenario: Scenario
) -> None:
    customers = "{ customers(first: 50) { edges { node { id } } } }"
    invoices = "{ invoices(first: 50) { edges { node { id } } } }"
    sites = "{ sites(first: 50) { edges { node { id } } } }"

    async def ids(query: str, role: str, org: str) -> set[str]:
        body = (await gql(client, query, as_=(role, org), users=users)).json()
        root = next(iter(body["data"].values()))
        return {raw_id(edge["node"]["id"]) for edge in root["edges"]}

    assert await ids(customers, "collection_agency", "perinta-a") == {
        str(scenario.in_collection_a.customer["id"])
    }
    assert await ids(customers, "collection_agency", "perinta-b") == {
        str(scenario.in_collection_b.customer["id"])
    }
    assert await ids(invoices, "collection_agency", "perinta-a") == {
        str(scenario.in_collection_a.invoices[-1]["id"])
    }
    assert await ids(sites, "field_service", "kenttapalvelu-a") == {
        str(scenario.assigned_site_a["id"])
    }
    assert await ids(sites, "field_service", "kenttapalvelu-b") == {str(scenario.site_b["id"])}


async def test_marketing_never_sees_customers_who_objected(
    client: httpx.AsyncClient, users: Users, scenario: Scenario
) -> None:
    body = (await gql(client, CUSTOMER_IDS, as_="marketing", users=users)).json()
    ids = {raw_id(edge["node"]["id"]) for edge in body["data"]["customers"]["edges"]}
    assert str(scenario.objector.customer["id"]) not in ids
    assert str(scenario.plain.customer["id"]) in ids


@pytest.mark.parametrize(
    ("role", "filter_", "coordinate"),
    [
        ("marketing", {"personalIdentityCode": "x"}, "Customer.personalIdentityCode"),
        ("business_analyst", {"name": "Testinen"}, "Customer.lastName"),
        (
            "customer_service",
            {"personalIdentityCode": "010170-002L"},
            "Customer.personalIdentityCode",
        ),
    ],
)
@pytest.mark.usefixtures("scenario")
async def test_filtering_on_a_hidden_field_is_forbidden(
    client: httpx.AsyncClient, users: Users, role: str, filter_: dict[str, str], coordinate: str
) -> None:
    query = (
        "query S($f: CustomerFilter) { customers(first: 5, filter: $f) { edges { node { id } } } }"
    )
    body = (await gql(client, query, as_=role, users=users, variables={"f": filter_})).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {
        "code": "FORBIDDEN",
        "coordinate": coordinate,
        "purpose": body["errors"][0]["extensions"]["purpose"],
    }


@pytest.mark.usefixtures("scenario")
async def test_a_purpose_outside_the_roles_is_refused(
    client: httpx.AsyncClient, users: Users
) -> None:
    response = await gql(
        client,
        "{ customers { edges { cursor } } }",
        as_="field_service",
        users=users,
        purpose="billing",
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


INTROSPECT = "{ __schema { types { name fields { name } } } }"


async def test_introspection_shows_only_what_the_role_may_see(
    client: httpx.AsyncClient, users: Users
) -> None:
    def fields_of(body: dict[str, Any], type_name: str) -> set[str] | None:
        for graphql_type in body["data"]["__schema"]["types"]:
            if graphql_type["name"] == type_name:
                return {f["name"] for f in graphql_type["fields"] or []}
        return None

    field_service = (await gql(client, INTROSPECT, as_="field_service", users=users)).json()
    admin = (await gql(client, INTROSPECT, as_="administrator", users=users)).json()
    assert "personalIdentityCode" in (fields_of(admin, "Customer") or set())
    visible = fields_of(field_service, "Customer") or set()
    assert "phone" in visible
    assert "personalIdentityCode" not in visible
    assert "invoices" not in visible
    assert fields_of(field_service, "Invoice") is None


async def test_mutations_are_hidden_from_roles_that_may_write_nothing(
    client: httpx.AsyncClient, users: Users
) -> None:
    query = "{ __schema { mutationType { name } types { name } } }"
    auditor = (await gql(client, query, as_="business_analyst", users=users)).json()
    service = (await gql(client, query, as_="customer_service", users=users)).json()
    assert auditor["data"]["__schema"]["mutationType"] is None
    assert "Mutation" not in {t["name"] for t in auditor["data"]["__schema"]["types"]}
    assert service["data"]["__schema"]["mutationType"] == {"name": "Mutation"}
