"""Errors of administrative identity operations; messages are for the operator, never secret."""

from __future__ import annotations


class IdentityError(ValueError):
    """A request to manage users or keys cannot be carried out."""


class UnknownUser(IdentityError):
    pass


class UnknownOrganisation(IdentityError):
    pass


class UnknownRole(IdentityError):
    pass


class UsernameTaken(IdentityError):
    pass


class InvalidUsername(IdentityError):
    pass


class UnknownApiKey(IdentityError):
    pass
