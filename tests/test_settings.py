"""One validated settings class: placeholder secrets are refused outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from server.audit.signing import generate_private_key_pem
from server.settings import Environment, Settings

STRONG = "k" * 40


@pytest.mark.parametrize("environment", [Environment.TEST, Environment.PRODUCTION])
@pytest.mark.parametrize("secret", ["", "change-me", "development-only-secret", "short"])
def test_placeholder_secrets_are_refused_outside_development(
    environment: Environment, secret: str
) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment=environment, secret_key=secret, audit_seal_key=STRONG)


def test_development_runs_with_its_own_secret() -> None:
    settings = Settings(environment=Environment.DEVELOPMENT)
    assert settings.is_development
    assert settings.introspection_enabled


def test_production_turns_introspection_off_by_default() -> None:
    settings = Settings(
        environment=Environment.PRODUCTION,
        secret_key=STRONG,
        audit_seal_key=STRONG,
        audit_signing_key=generate_private_key_pem(),
    )
    assert not settings.introspection_enabled


def test_page_size_defaults_must_fit_the_maximum() -> None:
    with pytest.raises(ValidationError, match="DEFAULT_PAGE_SIZE"):
        Settings(default_page_size=500, max_page_size=100)
