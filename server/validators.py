"""Validators for Finnish identifiers and contact details (stdlib only).

Every ``validate_*`` function takes user input, returns the value in its one
canonical form (the form stored in the database) and raises `IdentifierError`
for anything it refuses. The rules follow
the Finnish domain fact sheet the project was specified with.

The database enforces the same rules with the ``fi_valid_*`` functions in
``migrations/sql/identifier_checks.sql``. Those accept exactly the canonical
values this module returns: ``fi_valid_x(v)`` is true iff ``validate_x(v) == v``
(``tests/test_identifier_sql.py`` checks the agreement). Change both together.

Error messages never contain the value: identity codes are personal data, and
messages end up in logs and GraphQL error responses. Exceptions are raised
``from None`` so no chained exception (such as the one from ``int()``, which
quotes its input) carries the value either.

Only ASCII is accepted inside identifiers. ``str.isdigit``/``\\d``/``int()``
would accept other Unicode digits and ``str.upper`` maps some non-ASCII letters
to ASCII ones, so the checks below use explicit ASCII character sets.
"""

from __future__ import annotations

import datetime
import re
from typing import Final

__all__ = [
    "BIDI_CONTROLS",
    "COUNTRY_CODES",
    "EU_EEA_COUNTRIES",
    "IBAN_LENGTHS",
    "MAIN_FUSE_AMPERES",
    "IdentifierError",
    "find_identity_codes",
    "format_reference",
    "hetu_birth_date",
    "is_eu_eea",
    "make_business_id",
    "make_gsrn",
    "make_hetu",
    "make_reference",
    "make_rf_reference",
    "text_problem",
    "validate_business_id",
    "validate_country",
    "validate_email",
    "validate_gsrn",
    "validate_hetu",
    "validate_iban",
    "validate_main_fuse",
    "validate_phone",
    "validate_postal_code",
    "validate_reference",
    "validate_rf_reference",
    "validate_text",
    "virtual_barcode",
]


_LABELS: Final[dict[str, str]] = {
    "personal_identity_code": "personal identity code",
    "business_id": "business ID",
    "gsrn": "GSRN",
    "reference": "reference number",
    "rf_reference": "RF creditor reference",
    "iban": "IBAN",
    "main_fuse": "main fuse",
    "postal_code": "postal code",
    "email": "e-mail address",
    "phone": "phone number",
}


class IdentifierError(ValueError):
    """An identifier or contact detail was refused.

    ``kind`` names the identifier (e.g. ``"personal_identity_code"``) and
    ``reason`` says briefly what is wrong (e.g. ``"invalid date"``). Neither
    they nor the message ever contain the refused value.
    """

    kind: str
    reason: str

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind
        self.reason = reason
        super().__init__(f"invalid {_LABELS.get(kind, kind.replace('_', ' '))}: {reason}")

    def __reduce__(self) -> tuple[type[IdentifierError], tuple[str, str]]:
        return (type(self), (self.kind, self.reason))


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------

_WHITESPACE_RE: Final = re.compile(r"\s+")
_DIGITS_RE: Final = re.compile(r"[0-9]+")
_ASCII_UPPER: Final = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _remove_whitespace(value: str) -> str:
    return _WHITESPACE_RE.sub("", value)


def _ascii_upper(value: str) -> str:
    """Upper-case ASCII letters only (``"ß".upper()`` is ``"SS"``, for instance)."""
    return value.translate(_ASCII_UPPER)


def _is_digits(value: str) -> bool:
    return _DIGITS_RE.fullmatch(value) is not None


def _mod97(value: str) -> int:
    """ISO 7064 MOD 97-10 remainder of [0-9A-Z] text, letters as A=10 ... Z=35."""
    return int("".join(str(int(char, 36)) for char in value)) % 97


def _checked_mod97(kind: str, code: str) -> str:
    """The code, when its check digits (code[2:4]) are 02-98 and it is 1 mod 97 with its
    first four characters moved to the end (ISO 7064, as RF references and IBANs are)."""
    if not 2 <= int(code[2:4]) <= 98:
        raise IdentifierError(kind, "check digits out of range")
    if _mod97(code[4:] + code[:4]) != 1:
        raise IdentifierError(kind, "check digits mismatch")
    return code


# --------------------------------------------------------------------------
# Henkilötunnus (personal identity code)
# --------------------------------------------------------------------------

_HETU_RE: Final = re.compile(r"[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-FHJ-NPR-Y]")
_HETU_CHECK_CHARS: Final = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_HETU_CENTURIES: Final[dict[str, int]] = {
    "+": 1800,
    "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900,
    "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000,
}  # fmt: skip
_HETU_TRADITIONAL_SIGNS: Final[dict[int, str]] = {1800: "+", 1900: "-", 2000: "A"}


def _hetu_check_character(digits: str) -> str:
    """The check character of the nine digits DDMMYYZZZ: their value mod 31 in the table."""
    return _HETU_CHECK_CHARS[int(digits) % 31]


def _parse_hetu(value: str, allow_temporary: bool) -> tuple[str, datetime.date]:
    kind = "personal_identity_code"
    code = _ascii_upper(value.strip())
    if len(code) != 11:
        raise IdentifierError(kind, "wrong length")
    if _HETU_RE.fullmatch(code) is None:
        if code[6] not in _HETU_CENTURIES:
            raise IdentifierError(kind, "invalid century sign")
        raise IdentifierError(kind, "invalid format")
    try:
        birth_date = datetime.date(
            _HETU_CENTURIES[code[6]] + int(code[4:6]), int(code[2:4]), int(code[0:2])
        )
    except ValueError:
        raise IdentifierError(kind, "invalid date") from None
    individual = int(code[7:10])
    if individual < 2:
        raise IdentifierError(kind, "individual number below 002")
    if _hetu_check_character(code[0:6] + code[7:10]) != code[10]:
        raise IdentifierError(kind, "check character mismatch")
    if individual >= 900 and not allow_temporary:
        raise IdentifierError(kind, "temporary individual number (900-999) not accepted")
    return code, birth_date


def validate_hetu(value: str, *, allow_temporary: bool = False) -> str:
    """A henkilötunnus ``DDMMYYCZZZQ``, upper-cased and stripped.

    Century signs as in the 2023 decree: ``+`` 1800s, ``-`` and ``Y X W V U``
    1900s, ``A B C D E F`` 2000s. The sign distinguishes people, so all 11
    characters are significant. The date must exist; it may lie in the future
    (the database check cannot know today's date). Individual numbers 002-899
    are issued; 900-999 are temporary codes, refused unless ``allow_temporary``.
    """
    return _parse_hetu(value, allow_temporary)[0]


def hetu_birth_date(value: str, *, allow_temporary: bool = False) -> datetime.date:
    """The birth date in a valid henkilötunnus (validated as `validate_hetu`)."""
    return _parse_hetu(value, allow_temporary)[1]


def make_hetu(birth: datetime.date, individual: int, *, sign: str | None = None) -> str:
    """The henkilötunnus of a birth date and individual number (002-999), with its check
    character. ``sign`` is the century sign, by default the traditional one of the birth's
    century (``+``, ``-`` or ``A``); it must belong to that century."""
    kind = "personal_identity_code"
    century = birth.year // 100 * 100
    century_sign = _HETU_TRADITIONAL_SIGNS.get(century) if sign is None else sign
    if century_sign is None or _HETU_CENTURIES.get(century_sign) != century:
        raise IdentifierError(kind, "invalid century sign")
    if not 2 <= individual <= 999:
        raise IdentifierError(kind, "individual number out of range")
    date_part = f"{birth.day:02d}{birth.month:02d}{birth.year % 100:02d}"
    check = _hetu_check_character(f"{date_part}{individual:03d}")
    return f"{date_part}{century_sign}{individual:03d}{check}"


# A candidate in running text: not part of a longer word or number (so never a piece of a
# UUID or an account number), any letter case.
_HETU_IN_TEXT: Final = re.compile(
    r"(?<![0-9A-Za-z])[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-FHJ-NPR-Y](?![0-9A-Za-z])", re.IGNORECASE
)


def find_identity_codes(text: str) -> list[str]:
    """The valid personal identity codes (check character and date correct; temporary
    codes included) written in free text, in canonical form, in order of appearance.

    For refusing identity codes in free-text fields (change reasons, notes): the caller
    must never echo what is returned."""
    found: list[str] = []
    for match in _HETU_IN_TEXT.finditer(text):
        try:
            code = validate_hetu(match.group(), allow_temporary=True)
        except IdentifierError:
            continue
        if code not in found:
            found.append(code)
    return found


# --------------------------------------------------------------------------
# Y-tunnus (business ID)
# --------------------------------------------------------------------------

_BUSINESS_ID_RE: Final = re.compile(r"([0-9]{7})-?([0-9])|([0-9]{6})-([0-9])")
_BUSINESS_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2)


def validate_business_id(value: str) -> str:
    """A Y-tunnus as ``NNNNNNN-K``.

    Also accepted: surrounding whitespace, a missing hyphen, and the old
    six-digit form with its hyphen (``"737546-2"``, zero-padded to seven
    digits). K is 0 if the weighted sum is 0 mod 11, else 11 - (sum mod 11);
    a remainder of 1 is never issued.
    """
    kind = "business_id"
    match = _BUSINESS_ID_RE.fullmatch(value.strip())
    if match is None:
        raise IdentifierError(kind, "invalid format")
    body = (match.group(1) or match.group(3)).zfill(7)
    check = match.group(2) or match.group(4)
    if str(_business_id_check_digit(body)) != check:
        raise IdentifierError(kind, "check digit mismatch")
    return f"{body}-{check}"


def make_business_id(body: str) -> str:
    """The Y-tunnus ``NNNNNNN-K`` of a seven-digit body; `IdentifierError` for a body no
    business ID can have (its weighted sum leaves 1)."""
    if not _is_digits(body) or len(body) != 7:
        raise ValueError("a business ID body is 7 digits")
    return f"{body}-{_business_id_check_digit(body)}"


def _business_id_check_digit(body: str) -> int:
    """K of the seven digits: 0 if the weighted sum is 0 mod 11, else 11 - (sum mod 11)."""
    remainder = sum(int(d) * w for d, w in zip(body, _BUSINESS_ID_WEIGHTS, strict=True)) % 11
    if remainder == 1:
        raise IdentifierError("business_id", "number cannot exist (remainder 1)")
    return 0 if remainder == 0 else 11 - remainder


# --------------------------------------------------------------------------
# GSRN (Datahub accounting point / metering point ID)
# --------------------------------------------------------------------------


def _gs1_check_digit(body: str) -> int:
    """GS1 mod-10: weights 3, 1, 3, ... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def validate_gsrn(value: str) -> str:
    """An 18-digit GSRN with a GS1 mod-10 check digit (whitespace removed).

    Finnish IDs start with a GS1 Finland prefix (640-649, so far "643"), but
    the prefix is not checked here: treat a foreign prefix as a warning only.
    """
    kind = "gsrn"
    code = _remove_whitespace(value)
    if not _is_digits(code):
        raise IdentifierError(kind, "only digits allowed")
    if len(code) != 18:
        raise IdentifierError(kind, "wrong length")
    if _gs1_check_digit(code[:17]) != int(code[17]):
        raise IdentifierError(kind, "check digit mismatch")
    return code


def make_gsrn(body: str) -> str:
    """A GSRN from its 17-digit body: the body and its GS1 check digit."""
    if not _is_digits(body) or len(body) != 17:
        raise ValueError("a GSRN body is 17 digits")
    return body + str(_gs1_check_digit(body))


# --------------------------------------------------------------------------
# Viitenumero (Finnish national reference number) and RF reference
# --------------------------------------------------------------------------

_REFERENCE_WEIGHTS: Final = (7, 3, 1)


def _reference_check_digit(base: str) -> str:
    total = sum(int(d) * _REFERENCE_WEIGHTS[i % 3] for i, d in enumerate(reversed(base)))
    return str((10 - total % 10) % 10)


def validate_reference(value: str) -> str:
    """A viitenumero: 4-20 digits including the check digit.

    Whitespace is removed, and so are leading zeros: they do not change the
    reference (banks zero-pad it to 20 digits), and one stored form keeps
    references unique. The result has no spaces and no leading zeros; use
    `format_reference` for printing.
    """
    kind = "reference"
    digits = _remove_whitespace(value)
    if not _is_digits(digits):
        raise IdentifierError(kind, "only digits allowed")
    if len(digits) > 20:
        raise IdentifierError(kind, "wrong length")
    digits = digits.lstrip("0")
    if len(digits) < 4:
        raise IdentifierError(kind, "wrong length")
    if _reference_check_digit(digits[:-1]) != digits[-1]:
        raise IdentifierError(kind, "check digit mismatch")
    return digits


def make_reference(base: str | int) -> str:
    """The viitenumero for ``base`` (3-19 digits, not all zeros): base + check digit.

    Whitespace and leading zeros are removed from ``base`` first, as in
    `validate_reference`.
    """
    kind = "reference"
    if isinstance(base, bool) or (isinstance(base, int) and base < 0):
        raise IdentifierError(kind, "base must be a non-negative integer")
    digits = _remove_whitespace(str(base))
    if not _is_digits(digits):
        raise IdentifierError(kind, "only digits allowed")
    digits = digits.lstrip("0")
    if not 3 <= len(digits) <= 19:
        raise IdentifierError(kind, "base must have 3-19 significant digits")
    return digits + _reference_check_digit(digits)


def format_reference(ref: str) -> str:
    """A viitenumero for printing: no leading zeros, groups of five from the right.

    >>> format_reference("00000000000001234561")
    '12 34561'
    """
    digits = validate_reference(ref)
    head = len(digits) % 5
    groups = [digits[:head]] if head else []
    groups.extend(digits[i : i + 5] for i in range(head, len(digits), 5))
    return " ".join(groups)


_RF_RE: Final = re.compile(r"RF[0-9]{2}[0-9A-Z]{1,21}")


def validate_rf_reference(value: str) -> str:
    """An ISO 11649 creditor reference ``RFcc`` + 1-21 of [0-9A-Z].

    Whitespace is removed and letters upper-cased. The check digits must be
    02-98 and ``body + "RF" + cc`` must be 1 mod 97 (letters as A=10 ... Z=35).
    """
    kind = "rf_reference"
    code = _ascii_upper(_remove_whitespace(value))
    if _RF_RE.fullmatch(code) is None:
        raise IdentifierError(kind, "invalid format")
    return _checked_mod97(kind, code)


def make_rf_reference(national_ref: str) -> str:
    """The RF reference built from a Finnish viitenumero, e.g. ``"RF332348236"``.

    The national reference is validated and normalised first (so it carries
    no leading zeros); the result has no spaces.
    """
    body = validate_reference(national_ref)
    return f"RF{98 - _mod97(body + 'RF00'):02d}{body}"


# --------------------------------------------------------------------------
# IBAN
# --------------------------------------------------------------------------

IBAN_LENGTHS: Final[dict[str, int]] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}  # fmt: skip
"""IBAN length per country (SWIFT IBAN registry, release 101; covers EU/EEA).

``migrations/sql/identifier_checks.sql`` holds a copy: keep the two equal.
"""

_IBAN_RE: Final = re.compile(r"[A-Z]{2}[0-9]{2}[0-9A-Z]{11,30}")


def validate_iban(value: str) -> str:
    """An IBAN in electronic form (no spaces, upper case).

    Generic ISO 13616 check: a known country code, that country's length,
    check digits 02-98 and the MOD 97-10 checksum. The BBAN structure is only
    checked for Finland (14 digits); elsewhere it is [0-9A-Z].
    """
    kind = "iban"
    code = _ascii_upper(_remove_whitespace(value))
    if _IBAN_RE.fullmatch(code) is None:
        raise IdentifierError(kind, "invalid format")
    length = IBAN_LENGTHS.get(code[:2])
    if length is None:
        raise IdentifierError(kind, "unknown country code")
    if len(code) != length:
        raise IdentifierError(kind, "wrong length")
    if code[:2] == "FI" and not _is_digits(code[4:]):
        raise IdentifierError(kind, "invalid format")
    return _checked_mod97(kind, code)


# --------------------------------------------------------------------------
# Main fuse (pääsulake)
# --------------------------------------------------------------------------

MAIN_FUSE_AMPERES: Final[tuple[int, ...]] = (
    16, 20, 25, 35, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630,
)  # fmt: skip
"""Accepted main fuse ratings in amperes: the standard fuse series from 16 A to 630 A.

Homes have 1x25 A or 3x25/35/50/63 A; larger sites 3x80 A and up.
"""

_MAIN_FUSE_RE: Final = re.compile("([13])[xX\u00d7*]([1-9][0-9]{0,2})[aA]?")


def validate_main_fuse(value: str) -> str:
    """A main fuse as ``<phases>x<amperes>A``, e.g. ``"3x25A"`` or ``"1x25A"``.

    Accepts whitespace, ``X``, ``*`` or the multiplication sign (U+00D7) for
    the ``x``, and an optional or lower-case ``A`` (``"3 X 25 a"``, ``"3x25"``).
    Phases must be 1 or 3 and the rating one of `MAIN_FUSE_AMPERES`.
    """
    kind = "main_fuse"
    match = _MAIN_FUSE_RE.fullmatch(_remove_whitespace(value))
    if match is None:
        raise IdentifierError(kind, "invalid format")
    amperes = int(match.group(2))
    if amperes not in MAIN_FUSE_AMPERES:
        raise IdentifierError(kind, "not a standard fuse rating")
    return f"{match.group(1)}x{amperes}A"


# --------------------------------------------------------------------------
# Postal code, e-mail, phone
# --------------------------------------------------------------------------

_POSTAL_CODE_RE: Final = re.compile(r"[0-9]{5}")


def validate_postal_code(value: str) -> str:
    """A Finnish postal code: five digits (surrounding whitespace removed)."""
    code = value.strip()
    if _POSTAL_CODE_RE.fullmatch(code) is None:
        raise IdentifierError("postal_code", "must be five digits")
    return code


_DOMAIN_LABEL_RE: Final = re.compile(r"[^\W_](?:(?:[^\W_]|-)*[^\W_])?")


def validate_email(value: str) -> str:
    """A pragmatic e-mail check; returns the address with the domain lower-cased.

    One ``@``, a non-empty local part of at most 64 characters, no whitespace
    or control characters, at most 254 characters, and a domain of at least two
    dot-separated labels (letters, digits, inner hyphens; non-numeric TLD).
    The local part keeps its case (it may be case-sensitive).
    """
    kind = "email"
    address = value.strip()
    if len(address) > 254:
        raise IdentifierError(kind, "too long")
    if any(char.isspace() or not char.isprintable() for char in address):
        raise IdentifierError(kind, "contains whitespace or control characters")
    if address.count("@") != 1:
        raise IdentifierError(kind, "must contain exactly one @")
    local, domain = address.split("@")
    if not local or len(local) > 64:
        raise IdentifierError(kind, "invalid local part")
    labels = domain.split(".")
    if (
        len(labels) < 2
        or any(len(label) > 63 or _DOMAIN_LABEL_RE.fullmatch(label) is None for label in labels)
        or labels[-1].isdigit()
    ):
        raise IdentifierError(kind, "invalid domain")
    return f"{local}@{domain.lower()}"


_PHONE_SEPARATORS_RE: Final = re.compile(r"[\s\-./()]")


def validate_phone(value: str) -> str:
    """A phone number in E.164 form (``+`` and 7-15 digits).

    Finnish national numbers (leading 0, 5-12 digits after it) get +358:
    ``"044 7355 230"`` -> ``"+358447355230"``, ``"03 4855 11"`` ->
    ``"+3583485511"``. International numbers may start with ``+`` or ``00``.
    Spaces, hyphens, dots, slashes and parentheses are ignored, and so is the
    trunk ``(0)`` in ``"+358 (0)44 ..."``.
    """
    kind = "phone"
    number = _PHONE_SEPARATORS_RE.sub("", value.replace("(0)", ""))
    if number.startswith("+"):
        digits = number[1:]
    elif number.startswith("00"):
        digits = number[2:]
    elif number.startswith("0"):
        national = number[1:]
        if not _is_digits(national) or not 5 <= len(national) <= 12:
            raise IdentifierError(kind, "invalid Finnish number")
        digits = "358" + national
    else:
        raise IdentifierError(kind, "needs an area code or a country code")
    if not _is_digits(digits):
        raise IdentifierError(kind, "only digits allowed")
    if digits.startswith("3580"):
        digits = "358" + digits[4:]  # "+358 044 ..." written with the trunk 0
    if digits.startswith("0") or not 7 <= len(digits) <= 15:
        raise IdentifierError(kind, "wrong length or country code")
    return "+" + digits


# --------------------------------------------------------------------------
# Virtual bank barcode (virtuaaliviivakoodi)
# --------------------------------------------------------------------------


def virtual_barcode(iban: str, amount_cents: int, reference: str, due: datetime.date | None) -> str:
    """The 54-digit Finnish virtual bank barcode (Bank Bar Code Guide v5.3).

    Version 4 for a national reference, version 5 for an RF reference (whose
    body must then be digits only). ``iban`` must be a Finnish IBAN and
    ``amount_cents`` 0-99 999 999 (EUR 999 999.99); 0 leaves the amount for
    the payer to enter. ``due=None`` writes ``000000``.
    """
    account = validate_iban(iban)
    if account[:2] != "FI":
        raise IdentifierError("iban", "barcode requires a Finnish IBAN")
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise TypeError("amount_cents must be an int")
    if not 0 <= amount_cents <= 99_999_999:
        raise ValueError("amount must be between 0 and 999 999.99 euros for a barcode")
    euros, cents = divmod(amount_cents, 100)
    due_text = due.strftime("%y%m%d") if due is not None else "000000"
    if _ascii_upper(_remove_whitespace(reference)).startswith("RF"):
        rf = validate_rf_reference(reference)
        if not _is_digits(rf[4:]):
            raise IdentifierError("rf_reference", "barcode needs a numeric reference")
        body = f"5{account[2:]}{euros:06d}{cents:02d}{rf[2:4]}{rf[4:].zfill(21)}"
    else:
        ref = validate_reference(reference)
        body = f"4{account[2:]}{euros:06d}{cents:02d}000{ref.zfill(20)}"
    return body + due_text


# --------------------------------------------------------------------------
# Free text and country codes
# --------------------------------------------------------------------------

# Bidirectional formatting characters: they make text display differently from what it
# is (U+202E turns "txt.exe" around, for instance).
BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_LINE_BREAKS: Final = frozenset("\n\r")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` is refused as text (None when it is fine).

    Refused: control characters (C0, DEL and C1, also NUL and ESC), bidirectional
    overrides and isolates, unpaired surrogates and the BOM. Line breaks (LF, CR) are
    allowed only in multi-line text; a tab never is.
    """
    for char in value:
        code = ord(char)
        if char in _LINE_BREAKS:
            if not multiline:
                return "line breaks are not allowed here"
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            return "contains a control character"
        elif char in BIDI_CONTROLS:
            return "contains a bidirectional control character"
        elif 0xD800 <= code <= 0xDFFF or char == "\ufeff":
            return "contains an invalid character"
    return None


def validate_text(value: str, *, multiline: bool = False) -> str:
    """Text as given; `IdentifierError` (kind ``text``) naming what `text_problem` found."""
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise IdentifierError("text", problem)
    return value


_COUNTRY_TEXT: Final = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRY_CODES: Final[frozenset[str]] = frozenset(_COUNTRY_TEXT.split())
"""ISO 3166-1 alpha-2 codes officially assigned (249 codes, as of 2024)."""


def validate_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 country code, upper-cased and stripped (``" fi"`` -> ``"FI"``)."""
    code = _ascii_upper(value.strip())
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise IdentifierError("country", "must be a two-letter ISO 3166-1 code")
    if code not in COUNTRY_CODES:
        raise IdentifierError("country", "not an ISO 3166-1 country code")
    return code


_EU_EEA_TEXT: Final = """
    AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK
    IS LI NO
    AX GF GP MQ RE YT MF
"""
EU_EEA_COUNTRIES: Final[frozenset[str]] = frozenset(_EU_EEA_TEXT.split())
"""Where the register's data may go (privacy notice section 8: nothing is transferred
outside the EU or EEA). First line: the 27 member states of the EU (Greece as ISO's GR,
not the EU's EL); second: the other EEA states (Iceland, Liechtenstein, Norway); third:
parts of member states with an ISO code of their own where EU law applies in full (Åland,
TFEU 355(4); the French outermost regions, TFEU 349). This is the one list the code uses:
change it here, and its test, when a state joins or leaves."""


def is_eu_eea(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code (canonical, upper case) inside the EU/EEA."""
    return code in EU_EEA_COUNTRIES
