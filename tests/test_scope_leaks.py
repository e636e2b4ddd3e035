"""Facts outside the row scope: filters and cursors test only rows the principal may see,
and an assignment applies only under its own purpose."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql

from server.authz.access import AccessView
from server.authz.policy import load_policy
from server.authz.scopes import ScopeEnv
from server.billing.loaders import invoice_filter_conditions
from server.contracts.loaders import contract_filter_conditions
from server.customers.loaders import customer_table, filter_conditions
from server.graphql.relay import SortKey, encode_cursor, keyset_condition
from server.rights.queries import disclosure_filter_conditions
from server.rights.requests import request_filter_conditions
from server.schema import catalogue
from server.settings import PROJECT_ROOT
from server.sites.loaders import site_filter_conditions
from tests import factories
from tests.conftest import Users, gql, raw_id
from tests.scenario import AGENCY_A, Scenario, build_scenario

FIELD_A = ("field_service", "kenttapalvelu-a")
# SQLAlchemy's dialect constructors are untyped.
DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]

CUSTOMERS = """
query ($filter: CustomerFilter, $after: String) {
  customers(first: 50, filter: $filter, after: $after) {
    edges { node { id } }
    pageInfo { endCursor hasNextPage }
  }
}
"""


@pytest.fixture
async def scenario(owner: asyncpg.Connection) -> Scenario:
    return await build_scenario(owner)


def ids(body: dict[str, Any], root: str) -> list[str]:
    assert "errors" not in body, body["errors"]
    return [raw_id(edge["node"]["id"]) for edge in body["data"][root]["edges"]]


def bad_cursor(body: dict[str, Any]) -> None:
    assert body["data"] is None or all(v is None for v in body["data"].values()), body
    error = body["errors"][0]["extensions"]
    assert error["code"] == "BAD_USER_INPUT"
    assert error["field"] == "after"


def cursor(row_id: Any) -> str:
    return encode_cursor([row_id])


# --- filters ---------------------------------------------------------------------------


async def test_field_service_metering_point_filter_sees_only_assigned_sites(
    client: httpx.AsyncClient, users: Users, scenario: Scenario
) -> None:
    """The plain customer holds an assigned site and a site whose assignment ended: the
    filter must not say which metering point the unassigned site has."""
    holder = str(scenario.plain.customer["id"])
    assigned = scenario.assigned_site_a["metering_point_id"]
    unassigned = scenario.expired_site_a["metering_point_id"]
    for metering_point, expected in ((assigned, [holder]), (unassigned, [])):
        body = (
            await gql(
                client,
                CUSTOMERS,
                as_=FIELD_A,
                users=users,
                variables={"filter": {"meteringPointId": metering_point}},
            )
        ).json()
        assert ids(body, "customers") == expected


async def test_collection_agency_invoice_filters_see_only_invoices_of_its_cases(
    client: httpx.AsyncClient, users: Users, scenario: Scenario, owner: asyncpg.Connection
) -> None:
    graph = scenario.in_collection_a
    holder = str(graph.customer["id"])
    # An overdue invoice of the same customer that is not in the agency's case.
    await factories.past_due_invoice(owner, customer_id=graph.customer["id"], status="overdue")
    cases = [
        ({"invoiceStatus": "IN_COLLECTION"}, [holder]),
        ({"invoiceStatus": "PAID"}, []),  # paid invoices exist, outside the case
        ({"invoiceStatus": "OVERDUE"}, []),
        ({"overdue": True}, []),
        ({"overdue": False}, [holder]),
    ]
    for chosen, expected in cases:
        body = (
            await gql(client, CUSTOMERS, as_=AGENCY_A, users=users, variables={"filter": chosen})
        ).json()
        assert ids(body, "customers") == expected, chosen


# --- cursors ---------------------------------------------------------------------------


async def test_forged_customer_cursor_of_another_agency_is_refused(
    client: httpx.AsyncClient, users: Users, scenario: Scenario
) -> None:
    for foreign in (scenario.in_collection_b.customer["id"], uuid.uuid4()):
        body = (
            await gql(
                client, CUSTOMERS, as_=AGENCY_A, users=users, variables={"after": cursor(foreign)}
            )
        ).json()
        bad_cursor(body)


@pytest.mark.usefixtures("scenario")
async def test_customer_cursor_inside_the_scope_pages_on(
    client: httpx.AsyncClient, users: Users
) -> None:
    query = """
    query ($after: String) {
      customers(first: 2, after: $after) { edges { node { id } } pageInfo { endCursor } }
    }
    """

    async def page_after(cursor: str | None) -> dict[str, Any]:
        variables = None if cursor is None else {"after": cursor}
        response = await gql(
            client, query, as_="customer_service", users=users, variables=variables
        )
        page: dict[str, Any] = response.json()
        return page

    def end_cursor(page: dict[str, Any]) -> str:
        return str(page["data"]["customers"]["pageInfo"]["endCursor"])

    first = await page_after(None)
    second = await page_after(end_cursor(first))
    seen = ids(first, "customers") + ids(second, "customers")
    assert len(seen) == 4 and len(set(seen)) == 4
    # The last page after its last cursor is empty, not an error.
    last = await page_after(end_cursor(second))
    assert ids(last, "customers") == []


async def test_cursors_outside_the_scope_are_refused_on_every_root(
    client: httpx.AsyncClient, users: Users, scenario: Scenario, owner: asyncpg.Connection
) -> None:
    expired = await factories.prospect(
        owner,
        marketing_consent_at=datetime.now(UTC) - timedelta(days=800),
        consent_expires_on=datetime.now(UTC).date() - timedelta(days=1),
    )
    foreign_invoice = scenario.in_collection_b.invoices[-1]["id"]
    probes: list[tuple[str, tuple[str, str] | str, str | None, Any]] = [
        ("sites", FIELD_A, None, scenario.site_b["id"]),
        ("sites", FIELD_A, None, scenario.expired_site_a["id"]),
        ("invoices", AGENCY_A, None, foreign_invoice),
        ("invoices", AGENCY_A, None, scenario.in_collection_a.invoices[0]["id"]),
        ("prospects", "marketing", None, expired["id"]),
        ("contracts", "marketing", None, scenario.objector.contracts[0]["id"]),
        ("dataSubjectRequests", "auditor", "oversight", uuid.uuid4()),
        ("disclosures", "auditor", "oversight", uuid.uuid4()),
    ]
    for root, role, purpose, row_id in probes:
        query = f"""
        query ($after: String) {{ {root}(first: 5, after: $after) {{ edges {{ node {{ id }} }} }} }}
        """
        body = (
            await gql(
                client,
                query,
                as_=role,
                users=users,
                purpose=purpose,
                variables={"after": cursor(row_id)},
            )
        ).json()
        bad_cursor(body)


# --- assignments and their purpose -----------------------------------------------------


async def test_assignment_for_marketing_gives_nothing_under_delivery(
    client: httpx.AsyncClient, users: Users, scenario: Scenario, owner: asyncpg.Connection
) -> None:
    graph = await factories.customer_graph(owner, product_id=scenario.product["id"], sites=1)
    site = graph.sites[0]
    await factories.assignment(
        owner,
        organisation_id=scenario.organisations["kenttapalvelu-a"]["id"],
        site_id=site["id"],
        purpose="marketing",
    )
    await factories.assignment(
        owner,
        organisation_id=scenario.organisations["kenttapalvelu-a"]["id"],
        customer_id=graph.customer["id"],
        purpose="marketing",
    )
    variables = {"site": str(site["id"]), "customer": str(graph.customer["id"])}
    one_by_one = {
        "site": "query ($site: ID!) { site(id: $site) { id customer { id } } }",
        "customer": "query ($customer: ID!) { customer(id: $customer) { id } }",
        "sites": "{ sites(first: 50) { edges { node { id } } } }",
        "customers": "{ customers(first: 50) { edges { node { id } } } }",
    }
    data: dict[str, Any] = {}
    for root, query in one_by_one.items():
        wanted = {k: v for k, v in variables.items() if f"${k}" in query}
        body = (
            await gql(client, query, as_=FIELD_A, users=users, purpose="delivery", variables=wanted)
        ).json()
        assert "errors" not in body, body
        data[root] = body
    assert data["site"]["data"]["site"] is None
    assert data["customer"]["data"]["customer"] is None
    assert str(site["id"]) not in ids(data["sites"], "sites")
    assert str(graph.customer["id"]) not in ids(data["customers"], "customers")
    # The delivery assignment of the scenario still works.
    assert str(scenario.assigned_site_a["id"]) in ids(data["sites"], "sites")


ASSIGN_CASE = """
mutation ($input: AssignCollectionCaseInput!) {
  assignCollectionCase(input: $input) { collectionCase { id agency { code } } }
}
"""


async def test_collection_case_goes_only_to_a_collection_agency(
    client: httpx.AsyncClient, users: Users, scenario: Scenario, owner: asyncpg.Connection
) -> None:
    """A field service company is a subcontractor too, but it does not collect debts."""
    case_id = await owner.fetchval(
        "SELECT id FROM collection_case WHERE customer_id = $1",
        scenario.in_collection_b.customer["id"],
    )
    # Each organisation has its people: a field service user, a collection agency user.
    await users.token(*FIELD_A)
    await users.token(*AGENCY_A)
    field_service = scenario.organisations["kenttapalvelu-a"]["id"]
    refused = (
        await gql(
            client,
            ASSIGN_CASE,
            as_="billing",
            users=users,
            variables={"input": {"caseId": str(case_id), "agencyId": str(field_service)}},
        )
    ).json()
    [error] = refused["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "input.agencyId"
    assert error["extensions"]["reason"] == "not a collection agency"
    agency = await owner.fetchval("SELECT agency_id FROM collection_case WHERE id = $1", case_id)
    assert agency == scenario.organisations["perinta-b"]["id"]
    moved = (
        await gql(
            client,
            ASSIGN_CASE,
            as_="billing",
            users=users,
            variables={
                "input": {
                    "caseId": str(case_id),
                    "agencyId": str(scenario.organisations["perinta-a"]["id"]),
                }
            },
        )
    ).json()
    assert "errors" not in moved, moved
    assert moved["data"]["assignCollectionCase"]["collectionCase"]["agency"] == {
        "code": "perinta-a"
    }


# --- reusable SQL for a compiled executor ----------------------------------------------


def field_service_view() -> AccessView:
    """What a field-service user of the shipped policy may see, for the delivery purpose."""
    policy = load_policy(PROJECT_ROOT / "policies", catalogue())
    principal = factories.user_principal("fs", "field_service", organisation="kenttapalvelu-a")
    return AccessView(policy, principal, "delivery", datetime.now(UTC).date())


def test_filters_scopes_and_cursors_compile_with_bind_parameters_only() -> None:
    """Scope values, filter values and the cursor may all be bind parameters: the SQL is
    then the same for every request and holds no literal value."""
    view = field_service_view()
    env = ScopeEnv(bindparam("org"), bindparam("today"), bindparam("purpose"))

    def visible(type_name: str) -> Any:
        return view.rows_with(type_name, env)

    conditions = filter_conditions(
        visible,
        name=bindparam("name"),
        customer_number=bindparam("number"),
        metering_point_id=bindparam("mpid"),
        invoice_status=bindparam("status"),
        overdue=bindparam("overdue"),
        today=bindparam("today"),
    )
    statement = select(customer_table.c.id).where(
        visible("Customer"),
        *conditions,
        keyset_condition(
            customer_table, (SortKey("customer_number"),), bindparam("cursor"), visible("Customer")
        ),
    )
    compiled = statement.compile(dialect=DIALECT)
    assert set(compiled.params) >= {"org", "today", "purpose", "name", "mpid", "cursor"}
    sql = str(compiled)
    assert "assignment.purpose = %(purpose)s" in sql
    assert "lower(" in sql and "%(name)s" in sql
    # Every literal the SQL holds is a constant of the code, never a request's value.
    constants = {k: v for k, v in compiled.params.items() if v is not None}
    assert all(not isinstance(v, uuid.UUID | date) for v in constants.values()), constants


def test_name_filter_escapes_like_wildcards_in_sql() -> None:
    view = field_service_view()
    [condition] = filter_conditions(view.rows, name="50%_off", today=view.today)
    sql = str(condition.compile(dialect=DIALECT))
    assert "replace(" in sql and "ESCAPE" in sql


def test_every_root_filter_builder_takes_bind_parameters() -> None:
    view = field_service_view()
    env = ScopeEnv(bindparam("org"), bindparam("today"), bindparam("purpose"))

    def visible(type_name: str) -> Any:
        return view.rows_with(type_name, env)

    built = [
        *site_filter_conditions(visible, metering_point_id=bindparam("mpid")),
        *contract_filter_conditions(
            visible, status=bindparam("status"), customer_id=bindparam("customer")
        ),
        *invoice_filter_conditions(
            visible,
            status=bindparam("status"),
            overdue=bindparam("overdue"),
            customer_id=bindparam("customer"),
            today=bindparam("today"),
        ),
        *request_filter_conditions(
            visible,
            overdue=bindparam("overdue"),
            status=bindparam("status"),
            kind=bindparam("kind"),
            customer_id=bindparam("customer"),
            today=bindparam("today"),
        ),
        *disclosure_filter_conditions(visible, customer_id=bindparam("customer")),
    ]
    assert len(built) == 11
    for condition in built:
        compiled = condition.compile(dialect=DIALECT)
        assert all(not isinstance(v, uuid.UUID | date) for v in compiled.params.values()), (
            compiled.params
        )
