"""The compiled executor's caches: an LRU for ad-hoc documents, and apart from it the
entries of pinned (registered) documents, which ad-hoc traffic never evicts.

Keys are tuples whose first member is the document's key (the SHA-256 of its text). A
pinned document keeps up to PINNED_PER_DOCUMENT entries of its own (its warm-up plans come
first); more of them (plans for yet more variable values) go to the shared LRU.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

V = TypeVar("V")

PINNED_PER_DOCUMENT = 256


class PinnableCache(Generic[V]):
    def __init__(self, size: int, pinned_per_document: int = PINNED_PER_DOCUMENT) -> None:
        self.size = size
        self.pinned_per_document = pinned_per_document
        self._lru: OrderedDict[tuple[Any, ...], V] = OrderedDict()
        self._pinned: dict[str, dict[tuple[Any, ...], V]] = {}

    def get(self, key: tuple[Any, ...]) -> V | None:
        pinned = self._pinned.get(key[0])
        if pinned is not None and key in pinned:
            return pinned[key]
        value = self._lru.get(key)
        if value is not None:
            self._lru.move_to_end(key)
        return value

    def put(self, key: tuple[Any, ...], value: V) -> None:
        pinned = self._pinned.get(key[0])
        if pinned is not None and len(pinned) < self.pinned_per_document:
            pinned[key] = value
            return
        self._lru[key] = value
        if len(self._lru) > self.size:
            self._lru.popitem(last=False)

    def pin(self, document_key: str) -> None:
        """Keep this document's entries from now on; its entries in the LRU move over."""
        pinned = self._pinned.setdefault(document_key, {})
        for key in [k for k in self._lru if k[0] == document_key]:
            if len(pinned) < self.pinned_per_document:
                pinned[key] = self._lru.pop(key)

    def unpin(self, document_key: str) -> None:
        """Forget the document's pinned entries (removed, or planned for an older policy)."""
        self._pinned.pop(document_key, None)

    def pinned(self, document_key: str) -> dict[tuple[Any, ...], V]:
        return dict(self._pinned.get(document_key, {}))

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for entries in self._pinned.values():
            yield from entries
        yield from self._lru

    def __len__(self) -> int:
        return len(self._lru) + sum(len(entries) for entries in self._pinned.values())
