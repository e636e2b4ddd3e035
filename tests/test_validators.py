"""Tests for server.validators.

The identifier examples are the verified ones of the domain fact sheet
(the Finnish domain fact sheet, "Verified identifiers").
"""

from __future__ import annotations

import datetime
import pickle
from collections.abc import Callable

import pytest

from server.validators import (
    IBAN_LENGTHS,
    MAIN_FUSE_AMPERES,
    IdentifierError,
    format_reference,
    hetu_birth_date,
    make_business_id,
    make_gsrn,
    make_hetu,
    make_reference,
    make_rf_reference,
    validate_business_id,
    validate_email,
    validate_gsrn,
    validate_hetu,
    validate_iban,
    validate_main_fuse,
    validate_phone,
    validate_postal_code,
    validate_reference,
    validate_rf_reference,
    virtual_barcode,
)

# --------------------------------------------------------------------------
# Henkilötunnus
# --------------------------------------------------------------------------

# Fact sheet: official example and computed codes.
HETU_VALID = [
    "131052-308T",
    "290224A004M",
    "010100A002H",
    # computed here: 1800s, last day of a 1900s year, 29 February 2000.
    "010150+002D",
    "311299-0029",
    "290200A002C",
]

# Fact sheet: valid only as temporary codes (individual number 900-999).
HETU_TEMPORARY = [
    "100190-999P",
    "100190Y999P",
    # DVV fictional test persons
    "010594Y9032",
    "020594X903P",
    "030594W903B",
    "040594V9030",
    "050594U903M",
    "010516B903X",
    "020516C903K",
    "030516D9037",
    "010501E9032",
    "020503F9037",
    "020504A902E",
    "020504B904H",
    # telp.fi prints 010190-999K/Y999K; the correct check character is W.
    "010190-999W",
    "010190Y999W",
]

HETU_INVALID = [
    ("131052-308U", "check character mismatch"),  # check should be T
    ("310252-308Y", "invalid date"),
    ("290223A004K", "invalid date"),
    ("290200-002C", "invalid date"),  # 1900 was not a leap year
    ("131052G308T", "invalid century sign"),
    ("131052-001F", "individual number below 002"),
    ("010190-999K", "check character mismatch"),  # telp.fi, wrong
    ("010190Y999K", "check character mismatch"),  # telp.fi, wrong
    ("", "wrong length"),
    ("131052-308", "wrong length"),
    ("131052-308TT", "wrong length"),
    ("131052 308T", "invalid century sign"),
    ("13105X-308T", "invalid format"),
    ("131052-308G", "invalid format"),  # G is not a check character
    ("131052-3O8T", "invalid format"),
    ("131352-308T", "invalid date"),
]


@pytest.mark.parametrize("code", HETU_VALID)
def test_hetu_valid(code: str) -> None:
    assert validate_hetu(code) == code
    assert validate_hetu(code, allow_temporary=True) == code


@pytest.mark.parametrize("code", HETU_TEMPORARY)
def test_hetu_temporary_needs_allow_temporary(code: str) -> None:
    assert validate_hetu(code, allow_temporary=True) == code
    with pytest.raises(IdentifierError) as info:
        validate_hetu(code)
    assert info.value.kind == "personal_identity_code"
    assert info.value.reason == "temporary individual number (900-999) not accepted"


@pytest.mark.parametrize(("code", "reason"), HETU_INVALID)
def test_hetu_invalid(code: str, reason: str) -> None:
    for allow_temporary in (False, True):
        with pytest.raises(IdentifierError) as info:
            validate_hetu(code, allow_temporary=allow_temporary)
        assert info.value.kind == "personal_identity_code"
        assert info.value.reason == reason


def test_hetu_is_normalised() -> None:
    assert validate_hetu("  131052-308t\n") == "131052-308T"
    assert validate_hetu("290224a004m") == "290224A004M"


def test_hetu_century_sign_distinguishes_people() -> None:
    plain = validate_hetu("100190-999P", allow_temporary=True)
    new_sign = validate_hetu("100190Y999P", allow_temporary=True)
    assert plain != new_sign


def test_hetu_refuses_non_ascii_look_alikes() -> None:
    # Arabic-Indic digit three; U+017F (long s) upper-cases to "S".
    with pytest.raises(IdentifierError):
        validate_hetu("1310\u0665\u0662-308T")
    with pytest.raises(IdentifierError):
        validate_hetu("131052-308\u017f")


@pytest.mark.parametrize(
    ("code", "allow_temporary", "birth_date"),
    [
        ("131052-308T", False, datetime.date(1952, 10, 13)),
        ("290224A004M", False, datetime.date(2024, 2, 29)),
        ("010100A002H", False, datetime.date(2000, 1, 1)),
        ("010150+002D", False, datetime.date(1850, 1, 1)),
        ("010594Y9032", True, datetime.date(1994, 5, 1)),
        ("010501E9032", True, datetime.date(2001, 5, 1)),
    ],
)
def test_hetu_birth_date(code: str, allow_temporary: bool, birth_date: datetime.date) -> None:
    assert hetu_birth_date(code, allow_temporary=allow_temporary) == birth_date


def test_hetu_birth_date_validates() -> None:
    with pytest.raises(IdentifierError):
        hetu_birth_date("131052-308U")
    with pytest.raises(IdentifierError):
        hetu_birth_date("010594Y9032")


@pytest.mark.parametrize("code", [*HETU_VALID, *HETU_TEMPORARY])
def test_make_hetu_rebuilds_every_valid_code(code: str) -> None:
    birth = hetu_birth_date(code, allow_temporary=True)
    assert make_hetu(birth, int(code[7:10]), sign=code[6]) == code


def test_make_hetu_takes_the_traditional_sign_of_the_century() -> None:
    assert make_hetu(datetime.date(1952, 10, 13), 308) == "131052-308T"
    assert make_hetu(datetime.date(2024, 2, 29), 4) == "290224A004M"
    assert make_hetu(datetime.date(1850, 1, 1), 2) == "010150+002D"


@pytest.mark.parametrize(
    ("birth", "individual", "sign", "reason"),
    [
        (datetime.date(1952, 10, 13), 308, "A", "invalid century sign"),
        (datetime.date(1952, 10, 13), 308, "G", "invalid century sign"),
        (datetime.date(1752, 10, 13), 308, None, "invalid century sign"),
        (datetime.date(1952, 10, 13), 1, None, "individual number out of range"),
        (datetime.date(1952, 10, 13), 1000, None, "individual number out of range"),
    ],
)
def test_make_hetu_refuses(
    birth: datetime.date, individual: int, sign: str | None, reason: str
) -> None:
    with pytest.raises(IdentifierError) as info:
        make_hetu(birth, individual, sign=sign)
    assert info.value.reason == reason


# --------------------------------------------------------------------------
# Y-tunnus
# --------------------------------------------------------------------------

BUSINESS_ID_VALID = ["2077474-0", "0737546-2", "1366959-8", "0112038-9", "1234567-1"]

BUSINESS_ID_INVALID = [
    ("2077474-1", "check digit mismatch"),
    ("1234567-9", "check digit mismatch"),
    # 1234568: weighted sum mod 11 is 1, so no check digit exists.
    *[(f"1234568-{k}", "number cannot exist (remainder 1)") for k in range(10)],
    ("1234568-x", "invalid format"),
    ("", "invalid format"),
    ("207747-40", "invalid format"),
    ("2077474_0", "invalid format"),
    ("737546 2", "invalid format"),
    ("FI20774740", "invalid format"),
]


@pytest.mark.parametrize("code", BUSINESS_ID_VALID)
def test_business_id_valid(code: str) -> None:
    assert validate_business_id(code) == code


@pytest.mark.parametrize(("code", "reason"), BUSINESS_ID_INVALID)
def test_business_id_invalid(code: str, reason: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate_business_id(code)
    assert info.value.kind == "business_id"
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [(" 2077474-0 ", "2077474-0"), ("20774740", "2077474-0"), ("737546-2", "0737546-2")],
)
def test_business_id_normalised(raw: str, normalised: str) -> None:
    assert validate_business_id(raw) == normalised


@pytest.mark.parametrize("code", BUSINESS_ID_VALID)
def test_make_business_id(code: str) -> None:
    assert make_business_id(code[:7]) == code


def test_make_business_id_refuses_a_body_no_id_can_have() -> None:
    with pytest.raises(IdentifierError) as info:
        make_business_id("1234568")
    assert info.value.reason == "number cannot exist (remainder 1)"


@pytest.mark.parametrize("body", ["123456", "12345678", "123456x", "123\u0664567"])
def test_make_business_id_needs_seven_digits(body: str) -> None:
    with pytest.raises(ValueError, match="7 digits"):
        make_business_id(body)


# --------------------------------------------------------------------------
# GSRN
# --------------------------------------------------------------------------


def test_gsrn_valid() -> None:
    assert validate_gsrn("643007127000012344") == "643007127000012344"
    assert validate_gsrn(" 643007127 000012344 ") == "643007127000012344"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("643007127000012345", "check digit mismatch"),
        ("64300712700001234", "wrong length"),
        ("6430071270000123440", "wrong length"),
        ("857643212345678921", "check digit mismatch"),  # Elhub doc example
        ("64300712700001234X", "only digits allowed"),
        ("", "only digits allowed"),
    ],
)
def test_gsrn_invalid(code: str, reason: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate_gsrn(code)
    assert info.value.kind == "gsrn"
    assert info.value.reason == reason


def test_make_gsrn() -> None:
    assert make_gsrn("64300712700001234") == "643007127000012344"


@pytest.mark.parametrize("body", ["6430071270000123", "643007127000012344", "6430071270000123X"])
def test_make_gsrn_needs_seventeen_digits(body: str) -> None:
    with pytest.raises(ValueError, match="17 digits"):
        make_gsrn(body)


# --------------------------------------------------------------------------
# Viitenumero
# --------------------------------------------------------------------------

REFERENCE_VALID = [
    ("1234561", "1234561", "12 34561"),
    ("2348236", "2348236", "23 48236"),
    ("11112", "11112", "11112"),
    ("10003", "10003", "10003"),
    ("00000000000001234561", "1234561", "12 34561"),
    ("12 34561", "1234561", "12 34561"),
]


@pytest.mark.parametrize(("raw", "normalised", "printed"), REFERENCE_VALID)
def test_reference_valid(raw: str, normalised: str, printed: str) -> None:
    assert validate_reference(raw) == normalised
    assert format_reference(raw) == printed


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("1234560", "check digit mismatch"),
        ("123", "wrong length"),
        ("0000123", "wrong length"),  # three significant digits
        ("0000", "wrong length"),
        ("123456789012345678901", "wrong length"),
        ("12345A1", "only digits allowed"),
        ("", "only digits allowed"),
    ],
)
def test_reference_invalid(code: str, reason: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate_reference(code)
    assert info.value.kind == "reference"
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("base", "reference"),
    [
        ("123456", "1234561"),
        (123456, "1234561"),
        ("234823", "2348236"),
        ("1111", "11112"),
        (1000, "10003"),
        ("000123456", "1234561"),
    ],
)
def test_make_reference(base: str | int, reference: str) -> None:
    assert make_reference(base) == reference
    assert validate_reference(reference) == reference


@pytest.mark.parametrize("base", ["12", 12, -123456, "12345678901234567890", "12a", ""])
def test_make_reference_refuses(base: str | int) -> None:
    with pytest.raises(IdentifierError):
        make_reference(base)


def test_format_reference_long() -> None:
    reference = make_reference("1234567890123456789")
    assert len(reference) == 20
    assert format_reference(reference) == f"12345 67890 12345 6789{reference[-1]}"


# --------------------------------------------------------------------------
# RF creditor reference
# --------------------------------------------------------------------------

RF_VALID = [
    ("RF33 2348 236", "RF332348236"),
    ("RF34 1234 561", "RF341234561"),
    ("RF98 11112", "RF9811112"),
    ("RF48 5000 0567 8901 2345", "RF485000056789012345"),
    ("RF18 5390 0754 7034", "RF18539007547034"),
    ("RF45G72UUR", "RF45G72UUR"),
    ("RF6518K5", "RF6518K5"),
    ("rf45g72uur", "RF45G72UUR"),
    ("RF02 1588", "RF021588"),
]


@pytest.mark.parametrize(("raw", "normalised"), RF_VALID)
def test_rf_reference_valid(raw: str, normalised: str) -> None:
    assert validate_rf_reference(raw) == normalised


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("RF9911112", "check digits out of range"),
        # 99 = 02 + 97 passes the mod-97 sum; ISO 11649 check digits are 02-98.
        ("RF991588", "check digits out of range"),
        # mobilefish.com strings: they fail mod-97.
        ("RF35C4", "check digits mismatch"),
        ("RF214377", "check digits mismatch"),
        ("RF3323482360", "check digits mismatch"),
        ("RF33", "invalid format"),
        ("RF33-2348236", "invalid format"),
        ("RF01" + "1" * 22, "invalid format"),
        ("XX332348236", "invalid format"),
    ],
)
def test_rf_reference_invalid(code: str, reason: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate_rf_reference(code)
    assert info.value.kind == "rf_reference"
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("national", "rf"),
    [
        ("2348236", "RF332348236"),
        ("1234561", "RF341234561"),
        ("11112", "RF9811112"),
        ("00000000000001234561", "RF341234561"),
    ],
)
def test_make_rf_reference(national: str, rf: str) -> None:
    assert make_rf_reference(national) == rf


def test_make_rf_reference_needs_valid_national_reference() -> None:
    with pytest.raises(IdentifierError) as info:
        make_rf_reference("1234560")
    assert info.value.kind == "reference"


# --------------------------------------------------------------------------
# IBAN
# --------------------------------------------------------------------------

IBAN_VALID = [
    ("FI37 1590 3000 0007 76", "FI3715903000000776"),  # fact sheet (barcode account)
    ("fi21 1234 5600 0007 85", "FI2112345600000785"),
    ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
    ("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),
    ("NO93 8601 1117 947", "NO9386011117947"),
    ("FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606"),
    ("SE45 5000 0000 0583 9825 7466", "SE4550000000058398257466"),
    ("EE38 2200 2210 2014 5685", "EE382200221020145685"),
    ("FI98 1590 3000 0000 66", "FI9815903000000066"),
]


@pytest.mark.parametrize(("raw", "normalised"), IBAN_VALID)
def test_iban_valid(raw: str, normalised: str) -> None:
    assert validate_iban(raw) == normalised


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("FI3715903000000777", "check digits mismatch"),
        ("FI371590300000077", "wrong length"),
        ("FI37159030000007760", "wrong length"),
        ("XX3715903000000776", "unknown country code"),
        ("FI37159030000007A6", "invalid format"),
        ("FI0115903000000776", "check digits out of range"),
        # 01 = 98 - 97 passes the mod-97 sum; ISO 13616 check digits are 02-98.
        ("FI0115903000000066", "check digits out of range"),
        ("DE89370400440532013001", "check digits mismatch"),
        ("", "invalid format"),
    ],
)
def test_iban_invalid(code: str, reason: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate_iban(code)
    assert info.value.kind == "iban"
    assert info.value.reason == reason


EU_EEA = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO"


@pytest.mark.parametrize("country", EU_EEA.split())
def test_iban_lengths_cover_eu_eea(country: str) -> None:
    assert country in IBAN_LENGTHS


def test_iban_length_finland() -> None:
    assert IBAN_LENGTHS["FI"] == 18


# --------------------------------------------------------------------------
# Main fuse, postal code, e-mail, phone
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("3x25A", "3x25A"),
        ("1x25A", "1x25A"),
        ("3X35A", "3x35A"),
        ("3 x 63 A", "3x63A"),
        ("3\u00d780A", "3x80A"),
        ("3*100a", "3x100A"),
        ("3x50", "3x50A"),
        ("3x630A", "3x630A"),
        ("1x16A", "1x16A"),
    ],
)
def test_main_fuse_valid(raw: str, normalised: str) -> None:
    assert validate_main_fuse(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2x25A", "invalid format"),
        ("3x025A", "invalid format"),
        ("25A", "invalid format"),
        ("x25A", "invalid format"),
        ("", "invalid format"),
        ("3x24A", "not a standard fuse rating"),
        ("3x600A", "not a standard fuse rating"),
        ("3x1000A", "invalid format"),
    ],
)
def test_main_fuse_invalid(raw: str, reason: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate_main_fuse(raw)
    assert info.value.reason == reason


def test_main_fuse_series() -> None:
    assert MAIN_FUSE_AMPERES == (
        16, 20, 25, 35, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630,
    )  # fmt: skip
    for amperes in MAIN_FUSE_AMPERES:
        assert validate_main_fuse(f"3x{amperes}A") == f"3x{amperes}A"


@pytest.mark.parametrize(("raw", "normalised"), [("00100", "00100"), (" 33100 ", "33100")])
def test_postal_code_valid(raw: str, normalised: str) -> None:
    assert validate_postal_code(raw) == normalised


@pytest.mark.parametrize("raw", ["0010", "001000", "FI-00100", "00 100", "0010A", "", "\u0660" * 5])
def test_postal_code_invalid(raw: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate_postal_code(raw)
    assert info.value.kind == "postal_code"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("matti.meikalainen@example.fi", "matti.meikalainen@example.fi"),
        (" Matti.Meikalainen@Example.FI ", "Matti.Meikalainen@example.fi"),
        ("laskutus+sahko@sub.example-energia.fi", "laskutus+sahko@sub.example-energia.fi"),
        ("a@b.co", "a@b.co"),
    ],
)
def test_email_valid(raw: str, normalised: str) -> None:
    assert validate_email(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "matti",
        "matti@example",
        "matti@@example.fi",
        "matti@foo@example.fi",
        "@example.fi",
        "matti meikalainen@example.fi",
        "matti@example..fi",
        "matti@.example.fi",
        "matti@example.fi.",
        "matti@-example.fi",
        "matti@example_x.fi",
        "matti@example.123",
        "matti\x00@example.fi",
        "x" * 65 + "@example.fi",
        "m@" + "a" * 250 + ".fi",
    ],
)
def test_email_invalid(raw: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate_email(raw)
    assert info.value.kind == "email"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("044 7355 230", "+358447355230"),
        ("03 4855 11", "+3583485511"),
        ("09-123 4567", "+35891234567"),
        ("(09) 123 4567", "+35891234567"),
        ("+358 44 7355 230", "+358447355230"),
        ("+358 (0)44 7355 230", "+358447355230"),
        ("+358 044 7355 230", "+358447355230"),
        ("00358 44 7355230", "+358447355230"),
        ("+46 8 123 456 78", "+46812345678"),
        ("+1 202 555 0123", "+12025550123"),
    ],
)
def test_phone_valid(raw: str, normalised: str) -> None:
    assert validate_phone(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "447355230",  # no area or country code
        "044 abc 230",
        "+123456",  # 6 digits
        "+1234567890123456",  # 16 digits
        "0123",  # too short for a Finnish number
        "+0447355230",
        "++358447355230",
        "+358 44 \u0663\u0665\u0665 230",
    ],
)
def test_phone_invalid(raw: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate_phone(raw)
    assert info.value.kind == "phone"


# --------------------------------------------------------------------------
# Virtual bank barcode
# --------------------------------------------------------------------------

BARCODE_IBAN = "FI37 1590 3000 0007 76"


def test_virtual_barcode_v4() -> None:
    code = virtual_barcode(BARCODE_IBAN, 1225, "11112", datetime.date(2016, 12, 21))
    assert code == "437159030000007760000122500000000000000000011112161221"


def test_virtual_barcode_v5() -> None:
    code = virtual_barcode(BARCODE_IBAN, 110, "RF98 11112", datetime.date(2017, 1, 1))
    assert code == "537159030000007760000011098000000000000000011112170101"


def test_virtual_barcode_without_due_date() -> None:
    code = virtual_barcode(BARCODE_IBAN, 1225, "11112", None)
    assert len(code) == 54
    assert code.endswith("000000")
    assert code[:-6] == "437159030000007760000122500000000000000000011112"


def test_virtual_barcode_refusals() -> None:
    due = datetime.date(2016, 12, 21)
    with pytest.raises(IdentifierError):
        virtual_barcode("DE89370400440532013000", 1225, "11112", due)
    with pytest.raises(IdentifierError):
        virtual_barcode(BARCODE_IBAN, 1225, "11113", due)
    with pytest.raises(IdentifierError):
        virtual_barcode(BARCODE_IBAN, 1225, "RF45G72UUR", due)  # letters in the RF body
    with pytest.raises(ValueError, match="amount"):
        virtual_barcode(BARCODE_IBAN, -1, "11112", due)
    with pytest.raises(ValueError, match="amount"):
        virtual_barcode(BARCODE_IBAN, 100_000_000, "11112", due)


# --------------------------------------------------------------------------
# The error itself
# --------------------------------------------------------------------------

# (validator, refused value): the message must mention neither the value nor
# its normalised form.
REFUSED: list[tuple[Callable[[str], object], str]] = [
    *[(validate_hetu, code) for code, _ in HETU_INVALID if len(code) >= 5],
    *[(validate_hetu, code) for code in HETU_TEMPORARY],
    (hetu_birth_date, "131052-308U"),
    (validate_business_id, "2077474-1"),
    (validate_business_id, "1234568-0"),
    (validate_gsrn, "643007127000012345"),
    (validate_reference, "1234560"),
    (validate_reference, "123456789012345678901"),
    (validate_rf_reference, "RF35C4"),
    (validate_iban, "FI3715903000000777"),
    (validate_main_fuse, "3x24A"),
    (validate_postal_code, "0010A"),
    (validate_email, "matti@example"),
    (validate_phone, "044 abc 230"),
    (validate_phone, "+1234567890123456"),
]


@pytest.mark.parametrize(("validator", "value"), REFUSED)
def test_error_message_does_not_contain_value(
    validator: Callable[[str], object], value: str
) -> None:
    with pytest.raises(IdentifierError) as info:
        validator(value)
    error = info.value
    for text in (str(error), repr(error), error.reason, error.kind):
        assert value not in text
        assert value.strip().upper() not in text
    # No chained exception (int() quotes its input) is shown with it.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def test_error_message_format() -> None:
    with pytest.raises(IdentifierError) as info:
        validate_hetu("131052-308U")
    assert str(info.value) == "invalid personal identity code: check character mismatch"
    assert isinstance(info.value, ValueError)


def test_error_pickles() -> None:
    error = IdentifierError("iban", "wrong length")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (copy.kind, copy.reason, str(copy)) == (error.kind, error.reason, str(error))


# --------------------------------------------------------------------------
# Normalisation is idempotent
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("validator", "raw"),
    [
        (validate_hetu, " 131052-308t "),
        (validate_business_id, "737546-2"),
        (validate_gsrn, " 643007127000012344"),
        (validate_reference, "0000 0000 0000 0123 4561"),
        (validate_rf_reference, "rf18 5390 0754 7034"),
        (validate_iban, "fi37 1590 3000 0007 76"),
        (validate_main_fuse, "3 X 25"),
        (validate_email, "A@Example.FI"),
        (validate_phone, "+358 (0)44 7355 230"),
    ],
)
def test_validators_idempotent(validator: Callable[[str], str], raw: str) -> None:
    once = validator(raw)
    assert validator(once) == once
