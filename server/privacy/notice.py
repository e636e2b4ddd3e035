"""What the privacy notice says, as data the record of processing is written from.

The notice itself is `docs/privacy-notice.fi.txt` (the original, in Finnish) with its English
version `docs/privacy-notice.en.md`. The service does not read them at run time (the image
ships without docs/); the tests check every value here against their text, so the two
cannot drift apart unnoticed.

`NOTICE_PURPOSES` is the one mapping from the policy's purposes (policies/purposes.csv) to
the wording of the notice's section 4. A purpose the policy lets a role use must be there,
or be one of `CONTROLLER_DUTIES` (processing the controller must do by law, which section 4
does not list); anything else is a purpose the notice does not tell the data subjects
about, and the record of processing says so and fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from server.authz.policy import CompiledPolicy

NOTICE_FILES = {"fi": "privacy-notice.fi.txt", "en": "privacy-notice.en.md"}


@dataclass(frozen=True, slots=True)
class Wording:
    fi: str
    en: str

    def of(self, language: str) -> str:
        return self.fi if language == "fi" else self.en


@dataclass(frozen=True, slots=True)
class Controller:
    """Section 1 (controller), 2 (contact person) and 3 (name of the register)."""

    name: str
    business_id: str
    address: str
    phone: str
    website: str
    contact_name: str
    contact_email: str
    contact_phone: str
    register: Wording


CONTROLLER = Controller(
    name="Koillis-Satakunnan Sähkö Oy",
    business_id="0206323-2",
    address="PL 25, 34801 VIRRAT",
    phone="03 4855 11",
    website="www.ksat.fi",
    contact_name="Aija Ylä-Soininmäki",
    contact_email="aija.yla-soininmaki@ksat.fi",
    contact_phone="044 7355 230",
    register=Wording(
        "Koillis-Satakunnan Sähkö Oy:n asiakasrekisteri",
        "the customer register of Koillis-Satakunnan Sähkö Oy",
    ),
)

# Policy purpose -> the notice's section-4 wording (Finnish original, English version).
NOTICE_PURPOSES: dict[str, Wording] = {
    "customer_relationship": Wording(
        "asiakassuhteen hoitaminen ja kehittäminen",
        "managing and developing the customer relationship",
    ),
    "delivery": Wording(
        "tuotteiden ja palvelujen tarjoaminen ja toimitus",
        "offering and delivering products and services",
    ),
    "billing": Wording(
        "laskutus, maksujen valvonta ja perintä",
        "billing, monitoring of payments, and debt collection",
    ),
    "marketing": Wording(
        "rekisterinpitäjän tuotteiden ja palvelujen markkinointi ja etämyynti",
        "marketing and distance selling of the controller's products and services",
    ),
    "business_development": Wording(
        "rekisterinpitäjän liiketoiminnan kehittäminen",
        "developing the controller's business",
    ),
}

# Purposes of the policy that are the controller's own legal duties rather than purposes
# it chose: section 4 does not list them, the record names them with their legal ground.
CONTROLLER_DUTIES: dict[str, Wording] = {
    "oversight": Wording(
        "tietosuojan ja tietoturvan valvonta: lokitiedot ja rekisteröityjen pyynnöt "
        "(rekisterinpitäjän osoitusvelvollisuus ja turvallisuus, tietosuoja-asetus 5(2), "
        "12-22 ja 32 art.)",
        "data-protection and security oversight: the access log and data subjects' requests "
        "(the controller's accountability and security duties, GDPR Art. 5(2), 12-22 and 32)",
    ),
}

_SECTION = re.compile(r"^(\d+)\.\s+(.*)$")
_BULLET = re.compile(r"^\s*(?:•|-|\*)\s+(.*)$")


def sections(text: str) -> dict[int, str]:
    """The notice's numbered sections: number -> the text under the heading line."""
    found: dict[int, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        heading = _SECTION.match(line)
        if heading:
            current = found.setdefault(int(heading.group(1)), [])
            current.append(heading.group(2))
            continue
        if current is not None:
            current.append(line)
    return {number: "\n".join(lines) for number, lines in found.items()}


def _plain(value: str) -> str:
    return " ".join(value.replace("*", "").split()).rstrip(".;").casefold()


def purpose_bullets(text: str) -> list[str]:
    """The purposes section 4 lists, as plain lower-case text."""
    return [
        _plain(match.group(1))
        for line in sections(text).get(4, "").splitlines()
        if (match := _BULLET.match(line))
    ]


def granted_purposes(policy: CompiledPolicy) -> set[str]:
    """The purposes some role of the policy may act under."""
    granted: set[str] = set()
    for purposes in policy.role_purposes.values():
        granted |= purposes
    return granted


def unnamed_purposes(
    policy: CompiledPolicy, notice_texts: Iterable[tuple[str, str]] = ()
) -> list[str]:
    """Purposes the policy grants that the notice's section 4 does not name (and that are
    not a controller duty). With notice texts ((language, text) pairs), a mapped purpose
    whose wording is missing from that text's section 4 counts as unnamed too."""
    texts = list(notice_texts)
    unnamed: list[str] = []
    for purpose in sorted(granted_purposes(policy)):
        if purpose in CONTROLLER_DUTIES:
            continue
        wording = NOTICE_PURPOSES.get(purpose)
        if wording is None or any(
            _plain(wording.of(language)) not in purpose_bullets(text) for language, text in texts
        ):
            unnamed.append(purpose)
    return unnamed


def purpose_wording(purpose: str, language: str) -> tuple[str, bool]:
    """(the notice's wording or the duty's description, whether section 4 names it)."""
    if purpose in NOTICE_PURPOSES:
        return NOTICE_PURPOSES[purpose].of(language), True
    if purpose in CONTROLLER_DUTIES:
        return CONTROLLER_DUTIES[purpose].of(language), False
    return "", False


def read_notice(directory: Path) -> list[tuple[str, str]]:
    """(language, text) of the notice files found in `directory` (docs/)."""
    return [
        (language, (directory / name).read_text(encoding="utf-8"))
        for language, name in NOTICE_FILES.items()
        if (directory / name).is_file()
    ]
