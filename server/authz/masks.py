"""Mask functions; the policy's masks.csv says which field uses which mask."""

from __future__ import annotations

from collections.abc import Callable

MaskFn = Callable[[str], str]


def mask_identity_code(value: str) -> str:
    """Keep the date of birth and the century sign, hide the individual part: 131052-****."""
    return value[:7] + "****" if len(value) == 11 else "****"


def mask_email(value: str) -> str:
    """m***@example.fi: first letter of the local part and the whole domain."""
    local, sep, domain = value.partition("@")
    if not sep:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str) -> str:
    """Keep the last three digits: ********230."""
    digits = value[-3:] if len(value) > 3 else ""
    return "*" * max(len(value) - 3, 3) + digits


def mask_initial(value: str) -> str:
    """First letter and a full stop: Virtanen -> V."""
    return value[:1] + "." if value else value


def mask_street(value: str) -> str:
    """The street name without the house number: Kauppakatu 12 B 4 -> Kauppakatu."""
    return value.split(" ", 1)[0] if value else value


def mask_postal_area(value: str) -> str:
    """The postal area to three digits: 34800 -> 348**."""
    return value[:3] + "**" if value else value


def mask_last4(value: str) -> str:
    """Keep the last four characters (metering point, account)."""
    return "*" * max(len(value) - 4, 0) + value[-4:]


def mask_redact(value: str) -> str:
    return "***"


MASKS: dict[str, MaskFn] = {
    "identity_code": mask_identity_code,
    "email": mask_email,
    "phone": mask_phone,
    "initial": mask_initial,
    "street": mask_street,
    "postal_area": mask_postal_area,
    "last4": mask_last4,
    "redact": mask_redact,
}
