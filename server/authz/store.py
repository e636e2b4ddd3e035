"""Holds the current compiled policy and swaps it only for a policy that validates."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from server.authz.policy import Catalogue, CompiledPolicy, PolicyError, policy_version
from server.authz.policy_tests import load_tested_policy

log = logging.getLogger(__name__)

# Compiled policies by (folder, version): a policy is immutable data, so processes that
# build several apps (tests, workers restarting) compile each version once.
_COMPILED: dict[tuple[Path, str], CompiledPolicy] = {}


def load_cached(directory: Path, catalogue: Catalogue) -> CompiledPolicy:
    key = (directory.resolve(), policy_version(directory))
    compiled = _COMPILED.get(key)
    if compiled is None or compiled.catalogue is not catalogue:
        compiled = load_tested_policy(directory, catalogue)
        _COMPILED[key] = compiled
    return compiled


@dataclass(frozen=True, slots=True)
class ReloadFailure:
    at: datetime
    version: str
    problems: tuple[str, ...]


class PolicyStore:
    """The last good policy; a broken edit is reported and never replaces it."""

    def __init__(
        self,
        directory: Path,
        catalogue: Catalogue,
        on_reload: Callable[[CompiledPolicy | None, ReloadFailure | None], None] | None = None,
    ) -> None:
        self.directory = directory
        self.catalogue = catalogue
        self.current: CompiledPolicy = load_cached(directory, catalogue)
        self.loaded_at = datetime.now(UTC)  # when `current` came into force here
        self.last_failure: ReloadFailure | None = None
        self._on_reload = on_reload
        self._seen_version = self.current.version

    def reload_if_changed(self) -> bool:
        """Check the files; compile and swap if they changed and are valid. True if swapped."""
        try:
            version = policy_version(self.directory)
        except OSError as exc:
            self._fail("unreadable", [f"cannot read policy files: {exc}"])
            return False
        if version == self._seen_version:
            return False
        self._seen_version = version
        try:
            compiled = load_cached(self.directory, self.catalogue)
        except PolicyError as exc:
            self._fail(version, exc.problems)
            return False
        except Exception as exc:  # fail closed: any surprise keeps the last good policy
            self._fail(version, [f"{type(exc).__name__}: {exc}"])
            return False
        self.current = compiled
        self.loaded_at = datetime.now(UTC)
        self.last_failure = None
        log.info("policy %s loaded", compiled.version)
        if self._on_reload:
            self._on_reload(compiled, None)
        return True

    def _fail(self, version: str, problems: list[str]) -> None:
        failure = ReloadFailure(datetime.now(UTC), version, tuple(problems))
        self.last_failure = failure
        log.error(
            "policy %s rejected, keeping %s: %s", version, self.current.version, "; ".join(problems)
        )
        if self._on_reload:
            self._on_reload(None, failure)

    async def watch(
        self,
        interval: float,
        record: Callable[[CompiledPolicy | None, ReloadFailure | None], Awaitable[None]]
        | None = None,
    ) -> None:
        """Poll the files; report every swap and every rejected version to `record`."""
        while True:
            await asyncio.sleep(interval)
            failure_before = self.last_failure
            swapped = await asyncio.to_thread(self.reload_if_changed)
            if record is None:
                continue
            if swapped:
                await record(self.current, None)
            elif self.last_failure is not None and self.last_failure is not failure_before:
                await record(None, self.last_failure)
