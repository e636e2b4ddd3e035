"""Prospects (notice section 6): never stored without consent; withdrawal erases."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import raw_id
from tests.test_mutations_harness import Api, api_fixture  # noqa: F401

CREATE = """
mutation($input: CreateProspectInput!) {
  createProspect(input: $input) { prospect { id email consentExpiresOn } }
}
"""
WITHDRAW = """
mutation($input: WithdrawProspectConsentInput!) {
  withdrawProspectConsent(input: $input) { prospectId erasedAt }
}
"""
PROSPECT = {
    "firstName": "Pekka",
    "lastName": "Prospekti",
    "email": "pekka@example.com",
    "source": "PRIZE_DRAW",
    "campaign": "Kesäarvonta",
}


async def test_prospect_without_consent_is_refused_and_nothing_stored(api: Api) -> None:
    result = await api.mutate(CREATE, as_="marketing", input=PROSPECT)
    error = result.error()
    assert error["code"] == "BAD_USER_INPUT"
    assert error["field"] == "input.consent"
    assert "consent" in result.errors[0]["message"]
    empty_text = await api.mutate(
        CREATE,
        as_="marketing",
        input={
            **PROSPECT,
            "consent": {"givenAt": datetime.now(UTC).isoformat(), "text": "  "},
        },
    )
    assert empty_text.error()["field"] == "input.consent.text"
    assert await api.count("prospect") == 0


async def test_withdrawing_consent_erases_the_prospect(api: Api) -> None:
    created = await api.mutate(
        CREATE,
        as_="marketing",
        input={
            **PROSPECT,
            "consent": {
                "givenAt": datetime.now(UTC).isoformat(),
                "text": "Saa lähettää markkinointia ja ottaa yhteyttä.",
            },
        },
    )
    prospect = created.ok()["createProspect"]["prospect"]
    assert prospect["consentExpiresOn"] is not None
    erased = await api.mutate(WITHDRAW, as_="marketing", input={"prospectId": prospect["id"]})
    # The prospect's ID is the global one in and out; the log keeps its UUID.
    assert erased.ok()["withdrawProspectConsent"]["prospectId"] == prospect["id"]
    assert await api.count("prospect") == 0
    # The access log keeps the prospect's ID only: no name, no contact data.
    logged = await api.logged(erased.request_id)
    assert [(str(r["subject_prospect_id"]), r["subject_customer_id"]) for r in logged] == [
        (raw_id(prospect["id"]), None)
    ]
    again = await api.mutate(WITHDRAW, as_="marketing", input={"prospectId": prospect["id"]})
    assert again.error()["reason"] == "not found"


async def test_billing_may_not_store_prospects(api: Api) -> None:
    result = await api.mutate(CREATE, as_="billing", input=PROSPECT)
    assert result.error()["code"] == "FORBIDDEN"
