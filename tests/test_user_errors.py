"""User errors are BAD_USER_INPUT naming the variable or field and the reason, never
INTERNAL_SERVER_ERROR; refused requests log one line without the document."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from graphql import GraphQLError, parse

from server.graphql.errors import GENERIC_VALIDATION_MESSAGE, format_error
from server.validators import IdentifierError, text_problem, validate_country, validate_text
from tests import factories
from tests.conftest import Users, gql, raw_id

PAGE = "query($x: Int) { customers(first: $x) { edges { cursor } } }"
SEARCH = "query($f: CustomerFilter) { customers(filter: $f) { edges { cursor } } }"
WINDOW = (
    'query($d: DateTime!) { site(id: "00000000-0000-0000-0000-000000000000") '
    '{ consumption(from: $d, to: "2026-01-01T00:00:00Z") { energyKwh } } }'
)
CREATE_SITE = (
    "mutation($i: CreateSiteInput!) { createSite(input: $i) { site { id connectionPowerKw } } }"
)
CREATE_CUSTOMER = (
    "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) "
    "{ customer { id country } } }"
)


def site_input(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "customerId": str(uuid.uuid4()),
        "meteringPointId": "643000000000000017",
        "streetAddress": "Mäkitie 1",
        "postalCode": "34800",
        "postOffice": "Virrat",
        "housingType": "DETACHED_HOUSE",
        "ownership": "OWNED",
        "heatingType": "DIRECT_ELECTRIC",
        "mainFuse": "3x25A",
        "connectionId": "LI-1",
        "gridOperator": "Koillis-Satakunnan Sähköverkko",
    }
    values.update(overrides)
    return values


async def only_error(
    client: httpx.AsyncClient, users: Users, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await gql(client, query, as_="customer_service", users=users, variables=variables)
    assert response.status_code == 200
    body = response.json()
    assert body.get("data") is None or all(v is None for v in body["data"].values())
    [error] = body["errors"]
    return dict(error)


@pytest.mark.parametrize(
    ("query", "variables", "field", "reason"),
    [
        (PAGE, {"x": "abc"}, "$x", "must be an integer"),
        (PAGE, {"x": 2**31}, "$x", "must be an integer from -2147483648 to 2147483647"),
        (PAGE, {"x": 1.5}, "$x", "must be an integer"),
        (SEARCH, {"f": {"invoiceStatus": "NOPE"}}, "$f.invoiceStatus", "not one of the allowed"),
        (SEARCH, {"f": {"bogus": 1}}, "$f.bogus", "unknown field"),
        (SEARCH, {"f": {"overdue": "yes"}}, "$f.overdue", "must be true or false"),
        (SEARCH, {"f": "name"}, "$f", "must be an object"),
        (WINDOW, {"d": "0000-01-01T00:00:00"}, "$d", "must be a date and time"),
        (WINDOW, {}, "$d", "required"),
        (CREATE_SITE, {"i": site_input(connectedOn="0000-01-01")}, "$i.connectedOn", "valid date"),
        (CREATE_SITE, {"i": site_input(connectionPowerKw="NaN")}, "$i.connectionPowerKw", "finite"),
        (
            CREATE_SITE,
            {"i": site_input(connectionPowerKw="-Infinity")},
            "$i.connectionPowerKw",
            "finite",
        ),
        (
            CREATE_SITE,
            {"i": site_input(connectionPowerKw="1e999999")},
            "$i.connectionPowerKw",
            "finite",
        ),
        (CREATE_SITE, {"i": site_input(mainFuse=None)}, "$i.mainFuse", "must not be null"),
    ],
)
async def test_variables_that_cannot_be_coerced_are_bad_user_input(
    client: httpx.AsyncClient,
    users: Users,
    query: str,
    variables: dict[str, Any],
    field: str,
    reason: str,
) -> None:
    error = await only_error(client, users, query, variables)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == field
    assert reason in error["extensions"]["reason"]
    assert field in error["message"]
    assert "Did you mean" not in str(error)
    assert "NOPE" not in str(error) and "abc" not in str(error)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Mäki\u0000tie", "control character"),
        ("\u001b[31mred", "control character"),
        ("abc\u202eexe.txt", "bidirectional"),
        ("a\u2066b", "bidirectional"),
        ("del\u007f", "control character"),
        ("c1\u0085", "control character"),
        ("tab\there", "control character"),
        ("line\nbreak", "line breaks"),
    ],
)
async def test_text_with_control_characters_is_refused(
    client: httpx.AsyncClient, users: Users, value: str, problem: str
) -> None:
    # In variables and in literals, in filters and in mutation inputs alike.
    error = await only_error(client, users, SEARCH, {"f": {"name": value}})
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "CustomerFilter.name",
        "reason": error["extensions"]["reason"],
    }
    assert problem in error["extensions"]["reason"]
    created = await only_error(
        client, users, CREATE_CUSTOMER, {"input": factories.person_input(streetAddress=value)}
    )
    assert created["extensions"]["field"] == "CreateCustomerInput.streetAddress"
    assert problem in created["extensions"]["reason"]


async def test_a_nul_in_a_literal_is_refused(client: httpx.AsyncClient, users: Users) -> None:
    query = '{ customers(filter: {name: "a\\u0000b"}) { edges { cursor } } }'
    body = (await gql(client, query, as_="customer_service", users=users)).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "CustomerFilter.name"


async def test_multi_line_fields_accept_line_breaks_only(
    client: httpx.AsyncClient, users: Users
) -> None:
    reason = "Ordered by phone.\nConfirmed in writing."
    response = await gql(
        client,
        CREATE_CUSTOMER,
        as_="customer_service",
        users=users,
        variables={"input": factories.person_input(reason=reason)},
    )
    body = response.json()
    assert "errors" not in body, body
    refused = await only_error(
        client, users, CREATE_CUSTOMER, {"input": factories.person_input(reason="Ordered\u0000")}
    )
    assert refused["extensions"]["field"] == "CreateCustomerInput.reason"


@pytest.mark.parametrize("country", ["XX", "F1", "FIN", "ÅL", "", "  "])
async def test_country_must_be_an_iso_code(
    client: httpx.AsyncClient, users: Users, country: str
) -> None:
    error = await only_error(
        client, users, CREATE_CUSTOMER, {"input": factories.person_input(country=country)}
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "input.country"


async def test_a_lower_case_country_is_stored_upper_case(
    client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    response = await gql(
        client,
        CREATE_CUSTOMER,
        as_="customer_service",
        users=users,
        variables={"input": factories.person_input(country=" se")},
    )
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["createCustomer"]["customer"]["country"] in ("SE", None)
    stored = await owner.fetchval(
        "SELECT country FROM customer WHERE id = $1",
        uuid.UUID(raw_id(body["data"]["createCustomer"]["customer"]["id"])),
    )
    assert stored == "SE"


async def test_a_valid_site_decimal_still_works(
    client: httpx.AsyncClient, users: Users, owner: asyncpg.Connection
) -> None:
    customer = await factories.customer(owner)
    response = await gql(
        client,
        CREATE_SITE,
        as_="customer_service",
        users=users,
        variables={
            "i": site_input(
                customerId=str(customer["id"]),
                meteringPointId=factories.make_gsrn(987654),
                connectionPowerKw="17.5",
            )
        },
    )
    body = response.json()
    assert "errors" not in body, body


async def test_a_refused_request_logs_one_line_without_the_document(
    client: httpx.AsyncClient, users: Users, caplog: pytest.LogCaptureFixture
) -> None:
    await users.token("customer_service")
    marker = "Z" * 50_000
    query = f'{{ customr(x: "{marker}") {{ id }} nme: customers {{ edges {{ nod {{ id }} }} }} }}'
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        body = (await gql(client, query, as_="customer_service", users=users)).json()
    assert {e["message"] for e in body["errors"]} == {GENERIC_VALIDATION_MESSAGE}
    graphql_records = [
        r for r in caplog.records if r.name.startswith(("server.graphql", "strawberry"))
    ]
    assert len(graphql_records) == 1, [r.getMessage()[:200] for r in graphql_records]
    assert "refused" in graphql_records[0].getMessage()
    assert all(marker[:100] not in r.getMessage() for r in caplog.records)
    assert all("customr" not in r.getMessage() for r in caplog.records)


async def test_a_refused_variable_logs_no_value(
    client: httpx.AsyncClient, users: Users, caplog: pytest.LogCaptureFixture
) -> None:
    await users.token("customer_service")
    with caplog.at_level(logging.DEBUG):
        await gql(
            client,
            SEARCH,
            as_="customer_service",
            users=users,
            variables={"f": {"personalIdentityCode": 131052, "name": "Secret Name"}},
        )
    graphql_records = [
        r for r in caplog.records if r.name.startswith(("server.graphql", "strawberry"))
    ]
    assert len(graphql_records) == 1
    assert all("Secret Name" not in r.getMessage() for r in caplog.records)


@pytest.mark.usefixtures("resolver_executor")
async def test_a_resolver_exception_logs_one_line_with_the_exception(
    client: httpx.AsyncClient,
    users: Users,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import server.customers.queries as queries

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(queries, "root_connection", broken)
    await users.token("customer_service")
    with caplog.at_level(logging.DEBUG):
        body = (
            await gql(
                client, "{ customers { edges { cursor } } }", as_="customer_service", users=users
            )
        ).json()
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    records = [r for r in caplog.records if r.name.startswith(("server.graphql", "strawberry"))]
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert "RuntimeError" in records[0].getMessage()


# format_error on its own


REQUEST_ID = uuid.UUID(int=1)


def test_validation_errors_are_detailed_in_development_only() -> None:
    error = GraphQLError("Cannot query field 'customr' on type 'Query'.")
    assert format_error(error, REQUEST_ID, detailed=False) == {
        "message": GENERIC_VALIDATION_MESSAGE,
        "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
    }
    detailed = format_error(error, REQUEST_ID, detailed=True)
    assert detailed["message"] == "Cannot query field 'customr' on type 'Query'."
    assert detailed["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}


def test_errors_with_our_codes_keep_their_message() -> None:
    error = GraphQLError("first must be between 0 and 100", extensions={"code": "BAD_USER_INPUT"})
    assert format_error(error, REQUEST_ID, detailed=False)["message"] == error.message


def test_other_errors_are_internal_with_the_request_id() -> None:
    error = GraphQLError("boom", path=["customers"], original_error=KeyError("x"))
    payload = format_error(error, REQUEST_ID, detailed=True)
    assert payload == {
        "message": "Internal error.",
        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": str(REQUEST_ID)},
        "path": ["customers"],
    }


def test_variable_errors_name_the_path_into_lists() -> None:
    document = parse("query($i: RecordDisclosureInput!) { __typename }")
    node = document.definitions[0].variable_definitions[0]  # type: ignore[attr-defined]
    error = GraphQLError(
        "Variable '$i' has invalid value at .customerIds[2]: ID cannot represent value: {}",
        node,
        original_error=GraphQLError("ID cannot represent value: {}"),
    )
    payload = format_error(error, REQUEST_ID, detailed=False)
    assert payload["extensions"]["field"] == "$i.customerIds[2]"
    assert payload["extensions"]["code"] == "BAD_USER_INPUT"


# The validators


@pytest.mark.parametrize(
    ("value", "multiline", "problem"),
    [
        ("Kauppakatu 12 B 4", False, None),
        ("Ääkköset ja émojit 🙂", False, None),
        ("two\nlines", True, None),
        ("two\r\nlines", True, None),
        ("two\nlines", False, "line breaks are not allowed here"),
        ("nul\x00", True, "contains a control character"),
        ("esc\x1b", True, "contains a control character"),
        ("tab\t", True, "contains a control character"),
        ("rlo\u202e", True, "contains a bidirectional control character"),
        ("lrm\u200e", False, "contains a bidirectional control character"),
        ("bom\ufeff", False, "contains an invalid character"),
    ],
)
def test_text_problem(value: str, multiline: bool, problem: str | None) -> None:
    assert text_problem(value, multiline=multiline) == problem
    if problem is None:
        assert validate_text(value, multiline=multiline) == value
    else:
        with pytest.raises(IdentifierError):
            validate_text(value, multiline=multiline)


@pytest.mark.parametrize(("value", "expected"), [("FI", "FI"), (" fi ", "FI"), ("ax", "AX")])
def test_validate_country(value: str, expected: str) -> None:
    assert validate_country(value) == expected


@pytest.mark.parametrize("value", ["", "F", "FIN", "XX", "ZZ", "Fİ", "1A", "EU", "UK"])
def test_validate_country_refuses(value: str) -> None:
    with pytest.raises(IdentifierError) as refused:
        validate_country(value)
    assert refused.value.kind == "country"
