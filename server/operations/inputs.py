"""Rules every service applies to what it is given: IDs, enum values, free text and the
fields of register objects.

Free text written to the register never holds a personal identity code: it would be shown
in full to roles that see the code itself only masked or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from typing import Any

from server.graphql.errors import UserInputError
from server.graphql.globalid import decode_id
from server.graphql.inputs import camel
from server.validators import IdentifierError, find_identity_codes


def not_found(field: str) -> UserInputError:
    return UserInputError(f"{field}: not found", field=field, reason="not found")


def parse_uuid(value: Any, *, field: str) -> uuid.UUID:
    """The row an ID input names (a global ID or a bare UUID); "not found" otherwise."""
    parsed = decode_id(value)
    if parsed is None:
        raise not_found(field)
    return parsed


def enum_value(value: Any) -> str:
    """The stored text of a GraphQL enum input."""
    return str(getattr(value, "value", value))


def require_reason(reason: str | None, request_id: Any, *, field: str = "input.reason") -> None:
    """A change keeps why it was made: a free-text reason or a data-subject request."""
    if (reason is None or not reason.strip()) and not request_id:
        raise UserInputError(
            "Give a reason for the change or the data-subject request it answers",
            field=field,
            reason="reason or request required",
        )
    if reason is not None and len(reason) > 1000:
        raise UserInputError(
            "The reason is too long", field=field, reason="at most 1000 characters"
        )
    if reason is not None:
        refuse_identity_codes(reason, field=field)


def refuse_identity_codes(value: str, *, field: str) -> None:
    """BAD_USER_INPUT naming the field (never the code) when free text holds an identity
    code."""
    if find_identity_codes(value):
        raise UserInputError(
            f"{field} contains a personal identity code; free text must not hold one (the "
            "code is kept only in its own field, shown by its own access rules)",
            field=field,
            reason="contains a personal identity code",
        )


def text_input(
    value: str | None, *, field: str, max_length: int, required: bool = False
) -> str | None:
    """Trimmed text within its column length; empty text is null (or refused if required).
    Text holding a personal identity code is refused: every free-text input of the
    mutations comes through here (reasons also through `require_reason`)."""
    if value is None:
        if required:
            raise UserInputError(f"{field} is required", field=field, reason="required")
        return None
    stripped = value.strip()
    if not stripped:
        if required:
            raise UserInputError(f"{field} must not be empty", field=field, reason="required")
        return None
    if len(stripped) > max_length:
        raise UserInputError(
            f"{field} is too long", field=field, reason=f"at most {max_length} characters"
        )
    refuse_identity_codes(stripped, field=field)
    return stripped


def identifier(validate: Callable[[str], str], value: Any, *, field: str) -> str:
    """A canonical identifier; BAD_USER_INPUT naming the field and the reason otherwise."""
    try:
        return validate(value)
    except IdentifierError as exc:
        raise UserInputError(f"{field}: {exc}", field=field, reason=exc.reason) from None


@dataclass(frozen=True, slots=True)
class FieldRules:
    """How the fields of a register object are checked: required ones, free text with its
    column length, identifiers with their validator, and other checks by name."""

    required: frozenset[str]
    text_limits: Mapping[str, int]
    identifiers: Mapping[str, Callable[[str], str]]
    checks: Mapping[str, Callable[[Any, str], Any]] = dataclass_field(default_factory=dict)
    blank_is_null: bool = False  # an empty identifier clears the field (or is "required")

    def clean(self, values: Mapping[str, Any], *, prefix: str = "input") -> dict[str, Any]:
        """Canonical values for the given fields; BAD_USER_INPUT naming the first bad one."""
        return {
            name: self._clean(name, value, f"{prefix}.{camel(name)}")
            for name, value in values.items()
        }

    def _clean(self, name: str, raw: Any, field: str) -> Any:
        value = getattr(raw, "value", raw)
        required = name in self.required
        blank = value is None or (
            self.blank_is_null and isinstance(value, str) and not value.strip()
        )
        if name in self.identifiers:
            if blank:
                if required:
                    raise UserInputError(f"{field} is required", field=field, reason="required")
                return None
            return identifier(self.identifiers[name], value, field=field)
        if value is None and required:
            raise UserInputError(f"{field} is required", field=field, reason="required")
        if name in self.text_limits:
            return text_input(
                value, field=field, max_length=self.text_limits[name], required=required
            )
        if name in self.checks:
            return self.checks[name](value, field)
        return value


def not_before(value: date, earliest: date, message: str, *, field: str, reason: str) -> date:
    """The date, or BAD_USER_INPUT naming `field` when it is before `earliest`."""
    if value < earliest:
        raise UserInputError(message, field=field, reason=reason)
    return value
