"""Per-request collection of what was read: one entry per object, never one per field."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from server.audit.records import ObjectAccess

PathKey = tuple[str, ...]


class AccessCollector:
    """Collects objects as resolvers return them; aggregated per (type, id, operation)."""

    __slots__ = ("_objects", "denied_coordinates")

    def __init__(self) -> None:
        self._objects: dict[tuple[str, str, str], ObjectAccess] = {}
        self.denied_coordinates: set[str] = set()

    def touch(
        self,
        type_name: str,
        object_id: str,
        *,
        customer_id: uuid.UUID | None,
        prospect_id: uuid.UUID | None = None,
        read: Iterable[str] = (),
        masked: Iterable[str] = (),
        denied: Iterable[str] = (),
        operation: str = "read",
    ) -> None:
        key = (type_name, object_id, operation)
        entry = self._objects.get(key)
        if entry is None:
            entry = ObjectAccess(type_name, object_id, customer_id, prospect_id, operation)
            self._objects[key] = entry
        entry.fields_read.update(read)
        entry.fields_masked.update(masked)
        entry.fields_denied.update(denied)

    @property
    def objects(self) -> list[ObjectAccess]:
        return list(self._objects.values())

    def __len__(self) -> int:
        return len(self._objects)
