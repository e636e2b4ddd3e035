"""The outcome of a field decision, ordered so that the wider access compares greater."""

from __future__ import annotations

from enum import IntEnum


class Access(IntEnum):
    DENY = 0
    MASK = 1
    READ = 2

    @property
    def label(self) -> str:
        return {Access.DENY: "deny", Access.MASK: "mask", Access.READ: "read"}[self]
