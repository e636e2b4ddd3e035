"""`rekisteri privacy record`: the record of processing (GDPR Art. 30) from the policy, the
database, the retention rules and the privacy notice."""

from __future__ import annotations

import shutil
import uuid
from datetime import date
from pathlib import Path

import pytest

from server.authz.policy import load_policy
from server.privacy.cli import make_record
from server.privacy.notice import (
    CONTROLLER,
    CONTROLLER_DUTIES,
    NOTICE_PURPOSES,
    purpose_bullets,
    read_notice,
    sections,
    unnamed_purposes,
)
from server.privacy.render import render_html, render_markdown
from server.rights.retention import (
    CONTACT,
    PROSPECT_MONTHS,
    SETTLE_GRACE_DAYS,
    VOUCHER_YEARS,
)
from server.schema import catalogue
from server.settings import PROJECT_ROOT, Settings
from tests import factories
from tests.conftest import run_cli
from tests.test_mutations_harness import Api, api_fixture, policy  # noqa: F401

DOCS = PROJECT_ROOT / "docs"
POLICIES = PROJECT_ROOT / "policies"


def _notice(language: str) -> str:
    return dict(read_notice(DOCS))[language]


# ------------------------------------------------------------------- the notice itself


def test_the_notice_is_in_the_repository_in_both_languages() -> None:
    assert [language for language, _ in read_notice(DOCS)] == ["fi", "en"]
    for language in ("fi", "en"):
        assert set(sections(_notice(language))) == set(range(1, 11))


def test_the_controller_is_the_notices() -> None:
    finnish = sections(_notice("fi"))
    for value in (CONTROLLER.name, CONTROLLER.business_id, CONTROLLER.address):
        assert value in finnish[1]
    assert CONTROLLER.phone in finnish[1] and CONTROLLER.website in finnish[1]
    for value in (CONTROLLER.contact_name, CONTROLLER.contact_email, CONTROLLER.contact_phone):
        assert value in finnish[2]
    assert CONTROLLER.register.fi in finnish[3]
    assert CONTROLLER.register.en in sections(_notice("en"))[3]


def test_every_purpose_of_section_4_is_mapped_in_both_languages() -> None:
    for language in ("fi", "en"):
        bullets = purpose_bullets(_notice(language))
        assert len(bullets) == 5
        mapped = sorted(w.of(language).casefold() for w in NOTICE_PURPOSES.values())
        assert mapped == sorted(bullets), language


def test_the_policy_grants_no_purpose_the_notice_does_not_name() -> None:
    """Fails when policies/ lets a role act under a purpose that section 4 of the notice
    (the copy in docs/, both languages) does not name: add it to the notice first, then
    to NOTICE_PURPOSES (server/privacy/notice.py)."""
    compiled = load_policy(POLICIES, catalogue())
    assert unnamed_purposes(compiled, read_notice(DOCS)) == []
    # The one exception is a duty of the controller, not a purpose it chose.
    assert set(compiled.purposes) - set(NOTICE_PURPOSES) == set(CONTROLLER_DUTIES)


def _policy_with_extra_purpose(tmp_path: Path) -> Path:
    directory = tmp_path / "policies"
    shutil.copytree(POLICIES, directory)
    with (directory / "purposes.csv").open("a", encoding="utf-8") as purposes:
        purposes.write("profiling, Profiling customers for credit decisions\n")
    with (directory / "policy.csv").open("a", encoding="utf-8") as rules:
        rules.write("\np, business_analyst, purpose, use, profiling, allow\n")
        rules.write("p, business_analyst, Customer.email, read, profiling, allow\n")
    return directory


def test_a_purpose_outside_section_4_is_caught(tmp_path: Path) -> None:
    compiled = load_policy(_policy_with_extra_purpose(tmp_path), catalogue())
    assert unnamed_purposes(compiled, read_notice(DOCS)) == ["profiling"]
    # Mapped, but with wording the notice does not have: caught too.
    altered = _notice("fi").replace("laskutus, maksujen valvonta ja perintä", "laskutus")
    assert unnamed_purposes(compiled, [("fi", altered)]) == ["billing", "profiling"]


# ---------------------------------------------------------------------------- content


async def _organisations(api: Api) -> None:
    await factories.organisation(api.owner, code="ksat", kind="company", name="KSAT")
    await factories.organisation(
        api.owner, code="perinta-a", kind="subcontractor", name="Perintä A Oy"
    )
    await factories.organisation(
        api.owner, code="energiavirasto", kind="authority", name="Energiavirasto"
    )
    await api.owner.execute("UPDATE organisation SET country = 'SE' WHERE code = 'perinta-a'")


async def _disclosure(api: Api) -> None:
    person = await factories.customer(api.owner)
    disclosure = await factories.insert(
        api.owner,
        "disclosure",
        {
            "id": uuid.uuid4(),
            "recipient": "Ulosottolaitos",
            "recipient_kind": "authority",
            "legal_basis": "Ulosottokaari 3:64",
            "case_reference": "UO-1",
            "disclosed_on": date(2026, 3, 1),
            "fields": ["Customer.streetAddress"],
            "made_by": "user:test",
            "made_by_name": "Test",
            "confidential": False,
        },
    )
    await factories.insert(
        api.owner,
        "disclosure_customer",
        {"disclosure_id": disclosure["id"], "customer_id": person["id"]},
    )


async def test_markdown_holds_purposes_categories_recipients_transfers_retention(
    api: Api, settings: Settings
) -> None:
    await _organisations(api)
    await _disclosure(api)
    document = await make_record(settings, language="en", today=date(2026, 12, 1))
    assert document.problems == []
    text = render_markdown(document)
    assert text.startswith("# Record of processing activities (GDPR Art. 30)")
    assert CONTROLLER.name in text and CONTROLLER.contact_email in text
    for wording in NOTICE_PURPOSES.values():
        assert wording.en in text
    assert "Not in section 4 of the privacy notice: a legal duty" in text  # oversight

    # Categories per purpose and role, from the compiled policy.
    def role(purpose: str, name: str) -> str:
        section = text.split(f"`{purpose}`", 1)[1].split("\n### ", 1)[0]
        return section.split(f"**{name}**:", 1)[1].split("\n**", 1)[0]

    marketing = role("marketing", "marketing")
    assert "Customer: " in marketing and "email*" in marketing
    assert "personalIdentityCode" not in marketing
    assert "personalIdentityCode* (masked)" in role("customer_relationship", "customer_service")
    collection = role("billing", "collection_agency")
    assert "Invoice: " in collection and "CollectionCase (own_agency)" in collection
    assert "**marketing**" not in text.split("`billing`", 1)[1].split("\n### ", 1)[0]
    # Recipients by kind, disclosures by legal basis.
    assert "**Subcontractors**" in text and "| Perintä A Oy | perinta-a |" in text
    assert "**Authorities**" in text
    assert "| Ulosottokaari 3:64 | authority | FI | 1 | 1 | 2026-03-01 - 2026-03-01 |" in text
    # Transfers checked against the organisations' countries.
    assert "No data is transferred outside the EU or EEA" in text
    assert "(FI, SE)" in text
    # Retention from the rules retention apply enforces.
    assert f"Former customers: {SETTLE_GRACE_DAYS} days after" in text
    assert f"{VOUCHER_YEARS} years from the end of the calendar year" in text
    assert f"at the latest {PROSPECT_MONTHS} months" in text
    assert all(f"Customer.{name}" in text for name in CONTACT.fields)
    assert f"Access log: {settings.audit_retention_months} months" in text


async def test_html_in_finnish_escapes_and_shows_the_same(api: Api, settings: Settings) -> None:
    await _organisations(api)
    await api.owner.execute(
        "UPDATE organisation SET description = '<b>perintä</b>' WHERE code = 'perinta-a'"
    )
    document = await make_record(settings, language="fi")
    page = render_html(document)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="fi">' in page
    assert "<h1>Seloste käsittelytoimista (tietosuoja-asetus 30 art.)</h1>" in page
    for wording in NOTICE_PURPOSES.values():
        assert wording.fi in page
    assert "&lt;b&gt;perintä&lt;/b&gt;" in page and "<b>perintä</b>" not in page
    assert "<td>SE</td>" in page
    assert "Tietoja ei siirretä EU:n tai ETA:n ulkopuolelle" in page
    assert 'class="alert"' not in page
    assert "Luovutuksia ei ole kirjattu." in page


# ------------------------------------------------------------------------ the command


async def test_pdf_and_files(api: Api, settings: Settings, tmp_path: Path) -> None:
    await _organisations(api)
    for language in ("fi", "en"):
        target = tmp_path / f"record-{language}.pdf"
        code = await run_cli(
            settings, "privacy", "record", "--format", "pdf", "--language", language,
            "--output", str(target),
        )  # fmt: skip
        assert code == 0
        assert target.read_bytes().startswith(b"%PDF")
    markdown = tmp_path / "record.md"
    assert await run_cli(settings, "privacy", "record", "--output", str(markdown)) == 0
    assert markdown.read_text(encoding="utf-8").startswith("# Seloste käsittelytoimista")


async def test_an_organisation_outside_the_eu_eea_fails_loudly(
    api: Api, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _organisations(api)
    await api.owner.execute("UPDATE organisation SET country = 'US' WHERE code = 'perinta-a'")
    target = tmp_path / "record.html"
    code = await run_cli(
        settings, "privacy", "record", "--format", "html", "--language", "en", "--output",
        str(target),
    )  # fmt: skip
    assert code == 1
    page = target.read_text(encoding="utf-8")
    assert '<div class="alert" role="alert"><p>WARNING</p>' in page
    assert "Perintä A Oy (perinta-a) is in US, outside the EU/EEA" in page
    assert "No data is transferred" not in page
    assert "outside the EU/EEA" in capsys.readouterr().err
    code = await run_cli(
        settings, "privacy", "record", "--format", "pdf", "--output", str(tmp_path / "r.pdf")
    )
    assert code == 1 and (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


async def test_a_purpose_the_notice_does_not_name_fails_loudly(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    changed = settings.model_copy(update={"policy_dir": _policy_with_extra_purpose(tmp_path)})
    document = await make_record(changed, language="en")
    assert document.problems == [
        "The policy grants purpose profiling, which section 4 of the privacy notice does not name."
    ]
    text = render_markdown(document)
    assert text.index("> **WARNING**") < text.index("## 1. Controller")
    assert "> **⚠ Section 4 of the privacy notice does not name this purpose.**" in text
    target = tmp_path / "record.md"
    assert await run_cli(changed, "privacy", "record", "--output", str(target)) == 1


async def test_pdf_without_a_unicode_font(
    api: Api, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.privacy import render

    changed = settings.model_copy(update={"policy_dir": _policy_with_extra_purpose(tmp_path)})
    document = await make_record(changed, language="fi")
    assert document.problems
    monkeypatch.setattr(render, "unicode_font", lambda: None)
    assert render.render_pdf(document).startswith(b"%PDF")
