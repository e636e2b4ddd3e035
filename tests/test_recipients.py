"""Recipients and transfers (privacy notice sections 7 and 8): organisations and disclosure
recipients carry their country, and nothing goes to a recipient outside the EU/EEA."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.cli_support import owner_session
from server.identity.apikeys import InvalidApiKey, create_api_key, verify_api_key
from server.identity.errors import IdentityError
from server.privacy.transfers import TransferRefused, check_country, refusal
from server.settings import Settings
from server.validators import COUNTRY_CODES, EU_EEA_COUNTRIES, is_eu_eea
from tests import factories
from tests.conftest import export_for_oversight, run_cli
from tests.test_mutations_assignments import assignment_input
from tests.test_mutations_harness import Api, api_fixture, today  # noqa: F401

GRANT = """
mutation($input: GrantAssignmentInput!) {
  grantAssignment(input: $input) { assignment { id } organisation { code country } }
}
"""
DISCLOSE = """
mutation($input: RecordDisclosureInput!) {
  recordDisclosure(input: $input) { disclosure { id recipient recipientCountry } }
}
"""
DISCLOSURES = "{ disclosures { edges { node { recipient recipientCountry } } } }"


# ---------------------------------------------------------------------------- the list


def test_the_eu_eea_list() -> None:
    members = set(
        [
            "AT",
            "BE",
            "BG",
            "CY",
            "CZ",
            "DE",
            "DK",
            "EE",
            "ES",
            "FI",
            "FR",
            "GR",
            "HR",
            "HU",
            "IE",
            "IT",
            "LT",
            "LU",
            "LV",
            "MT",
            "NL",
            "PL",
            "PT",
            "RO",
            "SE",
            "SI",
            "SK",
        ]
    )
    assert len(members) == 27
    assert members | {"IS", "LI", "NO"} <= EU_EEA_COUNTRIES
    assert EU_EEA_COUNTRIES <= COUNTRY_CODES
    # Åland is Finland's; the French outermost regions are the EU's.
    assert {"AX", "RE", "GF"} <= EU_EEA_COUNTRIES
    for outside in ("GB", "US", "CH", "RU", "CN", "IN", "EL", "UK", "NC"):
        assert not is_eu_eea(outside), outside
    assert refusal("FI") is None and refusal("NO") is None
    assert refusal("US") == "outside the EU/EEA"
    assert refusal("ZZ") == "not an ISO 3166-1 country code"
    with pytest.raises(TransferRefused) as refused:
        check_country("GB", field="input.organisationId", recipient="the organisation")
    assert refused.value.field == "input.organisationId"
    assert "GB, outside the EU/EEA" in str(refused.value)


# ------------------------------------------------------------------- organisation rows


async def _organisation(
    api: Api, code: str, country: str, kind: str = "subcontractor"
) -> uuid.UUID:
    organisation_id = await api.organisation(code, kind)
    await api.owner.execute(
        "UPDATE organisation SET country = $2 WHERE id = $1", organisation_id, country
    )
    return organisation_id


async def test_country_column_defaults_to_finland_and_is_checked(api: Api) -> None:
    row = await factories.organisation(api.owner, code="oletus")
    assert row["country"] == "FI"
    with pytest.raises(Exception, match="country_format"):
        await api.owner.execute("UPDATE organisation SET country = 'fi' WHERE id = $1", row["id"])
    swedish = await _organisation(api, "kentta-se", "SE")
    holder = await factories.customer(api.owner)
    assignment = assignment_input(swedish, customerId=str(holder["id"]))
    seen = await api.mutate(GRANT, as_="customer_service", purpose="delivery", input=assignment)
    assert seen.ok()["grantAssignment"]["organisation"] == {"code": "kentta-se", "country": "SE"}


# ------------------------------------------------------------------------- assignments


async def test_assignment_to_an_organisation_outside_is_refused(api: Api) -> None:
    holder = await factories.customer(api.owner)
    outside = await _organisation(api, "offshore", "US")
    assignment = assignment_input(outside, customerId=str(holder["id"]))
    refused = await api.mutate(GRANT, as_="customer_service", purpose="delivery", input=assignment)
    assert refused.codes == ["BAD_USER_INPUT"]
    error = refused.error()
    assert (error["field"], error["reason"]) == ("input.organisationId", "outside the EU/EEA")
    assert "US" in refused.errors[0]["message"]
    assert await api.count("assignment") == 0


# ------------------------------------------------------------------------- disclosures


def _disclosure(customer_id: object, **extra: object) -> dict[str, object]:
    return {
        "input": {
            "recipient": "Energiavirasto",
            "recipientKind": "AUTHORITY",
            "legalBasis": "Sähkömarkkinalaki 588/2013",
            "caseReference": "EV-2026-7",
            "disclosedOn": today().isoformat(),
            "customerIds": [str(customer_id)],
            "fields": ["Customer.email"],
            **extra,
        }
    }


async def test_disclosure_country_given_derived_or_refused(api: Api) -> None:
    person = await factories.customer(api.owner)
    plain = await api.run(DISCLOSE, as_="auditor", variables=_disclosure(person["id"]))
    assert plain.ok()["recordDisclosure"]["disclosure"]["recipientCountry"] == "FI"
    swedish = await api.run(
        DISCLOSE, as_="auditor", variables=_disclosure(person["id"], recipientCountry=" se")
    )
    assert swedish.ok()["recordDisclosure"]["disclosure"]["recipientCountry"] == "SE"
    estonian = await _organisation(api, "elering", "EE", kind="energy_company")
    derived = await api.run(
        DISCLOSE, as_="auditor", variables=_disclosure(person["id"], organisationId=str(estonian))
    )
    assert derived.ok()["recordDisclosure"]["disclosure"]["recipientCountry"] == "EE"

    for extra, field, reason in [
        ({"recipientCountry": "US"}, "input.recipientCountry", "outside the EU/EEA"),
        ({"recipientCountry": "XX"}, "input.recipientCountry", "not an ISO 3166-1 country code"),
        ({"recipientCountry": "Finland"}, "input.recipientCountry", None),
        (
            {"recipientCountry": "FI", "organisationId": str(estonian)},
            "input.recipientCountry",
            "differs from the organisation",
        ),
        (
            {"organisationId": str(await _organisation(api, "ofgem", "GB", "authority"))},
            "input.organisationId",
            "outside the EU/EEA",
        ),
    ]:
        refused = await api.run(
            DISCLOSE, as_="auditor", variables=_disclosure(person["id"], **extra)
        )
        assert refused.codes == ["BAD_USER_INPUT"], extra
        assert refused.error()["field"] == field
        if reason is not None:
            assert refused.error()["reason"] == reason
    assert await api.count("disclosure") == 3
    listed = await api.run(DISCLOSURES, as_="auditor")
    assert sorted(e["node"]["recipientCountry"] for e in listed.ok()["disclosures"]["edges"]) == [
        "EE",
        "FI",
        "SE",
    ]


# ---------------------------------------------------------------------------- API keys


async def test_api_key_for_an_organisation_outside_is_refused(api: Api, settings: Settings) -> None:
    await _organisation(api, "pilvi-us", "US")
    await _organisation(api, "pilvi-de", "DE")
    expires = datetime.now(UTC) + timedelta(days=30)
    async with owner_session(settings) as session:
        with pytest.raises(IdentityError, match=r"--org: organisation pilvi-us is in US"):
            await create_api_key(
                session=session,
                organisation_code="pilvi-us",
                roles=["field_service"],
                known_roles={"field_service"},
                expires_at=expires,
            )
    async with owner_session(settings) as session:
        created = await create_api_key(
            session=session,
            organisation_code="pilvi-de",
            roles=["field_service"],
            known_roles={"field_service"},
            expires_at=expires,
        )
    assert await api.count("api_key", "organisation_id = $1", api.organisations["pilvi-us"]) == 0
    async with owner_session(settings) as session:
        assert (await verify_api_key(session=session, key=created.key)).organisation_code == (
            "pilvi-de"
        )
    # Moved outside after the key was made: the key no longer works.
    await api.owner.execute("UPDATE organisation SET country = 'CH' WHERE code = 'pilvi-de'")
    async with owner_session(settings) as session:
        with pytest.raises(InvalidApiKey, match="outside the EU/EEA"):
            await verify_api_key(session=session, key=created.key)


async def test_apikey_create_command_refuses_outside(
    api: Api, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await _organisation(api, "pilvi-jp", "JP")
    code = await run_cli(
        settings,
        "apikey",
        "create",
        "--org",
        "pilvi-jp",
        "--role",
        "field_service",
        "--expires",
        (today() + timedelta(days=30)).isoformat(),
    )
    assert code == 1
    error = capsys.readouterr().err
    assert "--org" in error and "JP, outside the EU/EEA" in error


# ----------------------------------------------------------------------------- exports


async def test_exports_for_a_recipient_outside_are_refused(
    api: Api, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _organisation(api, "siem-us", "US")
    await _organisation(api, "siem-fi", "FI")
    person = await factories.customer(api.owner)
    with pytest.raises(TransferRefused) as refused:
        await export_for_oversight(settings, str(person["id"]), recipient="siem-us")
    assert refused.value.field == "--recipient"

    target = tmp_path / "dsar.json"
    code = await run_cli(settings, "dsar", "export", str(person["id"]), "--recipient", "siem-us",
        "--output", str(target),
    )  # fmt: skip
    assert code == 1 and not target.exists()
    assert (
        "--recipient: organisation siem-us is in US, outside the EU/EEA" in capsys.readouterr().err
    )
    code = await run_cli(settings, "dsar", "export", str(person["id"]), "--recipient", "nobody",
    )  # fmt: skip
    assert code == 1
    assert "no organisation with code 'nobody'" in capsys.readouterr().err

    now = datetime.now(UTC)
    window = [
        "--from",
        (now - timedelta(hours=1)).isoformat(),
        "--to",
        (now + timedelta(hours=1)).isoformat(),
    ]
    before = await api.count("access_log_request", "operation_name = 'audit export'")
    out = tmp_path / "log.jsonl"
    code = await run_cli(settings, "audit", "export", *window, "--recipient", "siem-us",
        "--output", str(out),
    )  # fmt: skip
    assert code == 2 and not out.exists()
    assert "audit export refused: --recipient" in capsys.readouterr().err
    assert await api.count("access_log_request", "operation_name = 'audit export'") == before
    code = await run_cli(settings, "audit", "export", *window, "--recipient", "siem-fi",
        "--output", str(out),
    )  # fmt: skip
    assert code == 0 and out.exists()
    assert await api.count("access_log_request", "detail LIKE '%for=siem-fi'") == 1
