"""The access report: the person's data, objections, disclosures and access dates, as
GraphQL, JSON and PDF; and the register of disclosures."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from server.rights import pdf
from server.settings import Settings
from tests import factories
from tests.conftest import export_for_oversight
from tests.test_mutations_harness import Api, api_fixture, today  # noqa: F401

REPORT = """
query($id: ID!, $language: String) {
  dataSubjectReport(customerId: $id, language: $language) { id generatedAt language content }
}
"""
DISCLOSE = """
mutation($input: RecordDisclosureInput!) {
  recordDisclosure(input: $input) {
    disclosure { id recipient confidential fields customers { customerNumber } }
  }
}
"""
DISCLOSURES = """
query($id: ID) { disclosures(customerId: $id) { edges { node { recipient legalBasis } } } }
"""
ACCESS_HISTORY = """
query($id: ID!) { customer(id: $id) {
  accessHistory { edges { node { at purpose operations dataCategories } } } } }
"""


async def _person_with_everything(api: Api) -> dict[str, Any]:
    product = await factories.product(api.owner)
    graph = await factories.customer_graph(
        api.owner, product_id=product["id"], sites=1, invoices_per_contract=1
    )
    start = datetime(2026, 10, 1, tzinfo=UTC)
    await factories.consumption(
        api.owner,
        site_id=graph.sites[0]["id"],
        resolution="PT1H",
        values=[(start + timedelta(hours=hour), Decimal("1.250"), "measured") for hour in range(3)],
    )
    # A report is produced only against the person's open access request (GDPR Art. 15).
    await record_access_request(api, graph.customer["id"])
    return {"customer": graph.customer, "site": graph.sites[0], "invoice": graph.invoices[0]}


async def record_access_request(api: Api, customer_id: Any) -> None:
    await factories.insert(
        api.owner,
        "data_subject_request",
        {
            "id": uuid.uuid4(),
            "customer_id": customer_id,
            "kind": "access",
            "channel": "written_signed",
            "received_on": today(),
            "due_on": today() + timedelta(days=30),
            "status": "received",
            "reference": "",
            "notes": "",
            "created_by": "test",
        },
    )


async def _disclose(api: Api, customer_id: object, recipient: str, confidential: bool) -> None:
    result = await api.mutate(
        DISCLOSE,
        as_="auditor",
        input={
            "recipient": recipient,
            "recipientKind": "AUTHORITY",
            "legalBasis": "Ulosottokaari 3:64",
            "caseReference": "UO-2026-1",
            "disclosedOn": today().isoformat(),
            "customerIds": [str(customer_id)],
            "fields": ["Customer.streetAddress", "Customer.phone"],
            "confidential": confidential,
        },
    )
    disclosure = result.ok()["recordDisclosure"]["disclosure"]
    assert disclosure["customers"][0]["customerNumber"] is not None


def _section(content: dict[str, Any], key: str) -> dict[str, Any]:
    sections: list[dict[str, Any]] = content["sections"]
    [section] = [s for s in sections if s["key"] == key]
    return section


def _values(item: dict[str, Any]) -> dict[str, Any]:
    return {f["name"]: f["value"] for f in item["fields"]}


async def test_report_holds_data_disclosures_and_access_dates(api: Api) -> None:
    held = await _person_with_everything(api)
    person = held["customer"]
    cid = str(person["id"])
    # Someone in customer service looks at the customer: an access with a purpose.
    read = await api.run(
        "query($id: ID!) { customer(id: $id) { email } }",
        as_="customer_service",
        variables={"id": cid},
    )
    read.ok()
    await _disclose(api, person["id"], "Ulosottolaitos", confidential=False)
    await _disclose(api, person["id"], "Keskusrikospoliisi", confidential=True)
    await api.mutate(
        """mutation($input: SetObjectionInput!) { setObjection(input: $input) { changeId } }""",
        as_="auditor",
        input={"customerId": cid, "kind": "DIRECT_MARKETING", "source": "signed letter"},
    )
    result = await api.run(REPORT, as_="auditor", variables={"id": cid, "language": "en"})
    report = result.ok()["dataSubjectReport"]
    content = report["content"]
    assert report["language"] == "en" and content["customerNumber"] == person["customer_number"]
    basic = _values(_section(content, "customer")["items"][0])
    assert basic["personal_identity_code"] == person["personal_identity_code"]
    assert basic["email"] == person["email"]
    objections = _section(content, "objections")["items"]
    assert _values(objections[0])["in_force"] is True
    assert _values(objections[0])["source"] == "signed letter"
    site = _values(_section(content, "sites")["items"][0])
    assert site["metering_point_id"] == held["site"]["metering_point_id"]
    months = _section(content, "consumption")["items"][0]["fields"]
    assert months == [{"name": "2026-10", "label": "2026-10", "value": "3.750 kWh"}]
    invoice = _values(_section(content, "invoices")["items"][0])
    assert invoice["reference_number"] == held["invoice"]["reference_number"]
    assert _section(content, "payments")["items"]
    recipients = [i["title"] for i in _section(content, "disclosures")["items"]]
    assert recipients == ["Ulosottolaitos"]  # the confidential one is left out
    access = _section(content, "access")
    assert access["available"] is True
    purposes = {_values(i)["purpose"] for i in access["items"]}
    assert "Managing and developing the customer relationship" in purposes
    dates = {_values(i)["at"][:10] for i in access["items"]}
    assert today().isoformat() in dates
    # Producing the report is itself an access, recorded object by object.
    logged = await api.logged(result.request_id)
    assert {"Customer", "Site", "Invoice", "Payment"} <= {r["type_name"] for r in logged}
    assert all(r["operation"] == "read" for r in logged)


async def test_report_and_access_history_only_for_the_roles_allowed(api: Api) -> None:
    person = await factories.customer(api.owner)
    cid = str(person["id"])
    refused = await api.run(REPORT, as_="customer_service", variables={"id": cid})
    assert refused.error()["code"] == "FORBIDDEN"
    assert refused.error()["coordinate"] == "DataSubjectReport.content"
    await api.run(
        "query($id: ID!) { customer(id: $id) { phone } }", as_="marketing", variables={"id": cid}
    )
    history = await api.run(ACCESS_HISTORY, as_="auditor", variables={"id": cid})
    entries = [edge["node"] for edge in history.ok()["customer"]["accessHistory"]["edges"]]
    assert entries[0]["purpose"] == "marketing"
    assert entries[0]["dataCategories"] == ["Customer"]
    hidden = await api.run(ACCESS_HISTORY, as_="customer_service", variables={"id": cid})
    assert hidden.ok()["customer"]["accessHistory"] is None
    assert "Customer.accessHistory" in hidden.denied


async def test_disclosure_register_and_refusals(api: Api) -> None:
    person = await factories.customer(api.owner)
    await _disclose(api, person["id"], "Energiavirasto", confidential=False)
    listed = await api.run(DISCLOSURES, as_="auditor", variables={"id": str(person["id"])})
    assert listed.ok()["disclosures"]["edges"] == [
        {"node": {"recipient": "Energiavirasto", "legalBasis": "Ulosottokaari 3:64"}}
    ]
    bad_field = await api.mutate(
        DISCLOSE,
        as_="auditor",
        input={
            "recipient": "X",
            "recipientKind": "ENERGY_COMPANY",
            "legalBasis": "Sähkömarkkinalaki",
            "caseReference": "1",
            "disclosedOn": today().isoformat(),
            "customerIds": [str(person["id"])],
            "fields": ["Customer.shoeSize"],
        },
    )
    assert bad_field.error()["field"] == "input.fields.0"
    not_allowed = await api.run(DISCLOSURES, as_="customer_service")
    assert not_allowed.ok()["disclosures"]["edges"] == []
    assert await api.count("disclosure") == 1


async def test_pdf_in_finnish_and_english(api: Api, settings: Settings) -> None:
    held = await _person_with_everything(api)
    for language in ("fi", "en"):
        content, name = await export_for_oversight(
            settings, str(held["customer"]["customer_number"]), "pdf", language
        )
        assert content.startswith(b"%PDF")
        assert name.endswith(".pdf")


async def test_pdf_without_a_unicode_font(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = await _person_with_everything(api)
    monkeypatch.setattr(pdf, "unicode_font", lambda: None)
    content, _ = await export_for_oversight(settings, str(held["customer"]["id"]), "pdf", "fi")
    assert content.startswith(b"%PDF")
    assert pdf.latin1("Mäkitie \u2013 5 \u20ac") == "Mäkitie - 5 EUR"


async def test_cli_json_export_is_recorded(api: Api, settings: Settings) -> None:
    held = await _person_with_everything(api)
    content, name = await export_for_oversight(settings, str(held["customer"]["id"]))
    document = json.loads(content)
    assert document["customerNumber"] == held["customer"]["customer_number"]
    assert document["language"] == "fi"
    assert name == f"dsar-{held['customer']['customer_number']}.json"
    event = await api.owner.fetchrow(
        "SELECT event, purpose, detail FROM access_log_request WHERE event = 'cli' AND detail = $1",
        f"dsar export {held['customer']['id']} json",
    )
    assert event is not None and event["purpose"] == "oversight"
    # Object records in every layout of the log (the view, when the log has one).
    records = (
        "access_log_object_all"
        if await api.owner.fetchval("SELECT to_regclass('access_log_object_all')")
        else "access_log_object"
    )
    objects = await api.count(records, "subject_customer_id = $1", held["customer"]["id"])
    assert objects >= 3
    with pytest.raises(LookupError):
        await export_for_oversight(settings, "999999999")
