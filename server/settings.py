"""One validated settings class for the whole service."""

from __future__ import annotations

import ipaddress
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Where policies/, migrations/ and schema.graphql live: the checkout, or REKISTERI_HOME
# when the package is installed elsewhere (as in the container image).
PROJECT_ROOT = Path(os.environ.get("REKISTERI_HOME") or Path(__file__).resolve().parent.parent)
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "development-only-secret"})
DEVELOPMENT_SECRET = "development-only-secret"  # noqa: S105 - refused outside development


class Environment(StrEnum):
    """Where the service runs; only development relaxes safety checks."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Configuration read from the environment (prefix-less names such as DATABASE_URL)."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", frozen=True, hide_input_in_errors=True
    )

    environment: Environment = Environment.DEVELOPMENT
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of the owner role; none starts the embedded server.",
    )
    app_db_role: str | None = Field(
        default="rekisteri_app",
        description="Role the service switches to at runtime (INSERT-only on the access log).",
    )
    embedded_data_dir: Path = PROJECT_ROOT / "var" / "pgdata"
    policy_dir: Path = PROJECT_ROOT / "policies"
    secret_key: str = DEVELOPMENT_SECRET
    audit_signing_key: str = Field(
        default="",
        description=(
            "Ed25519 private key that signs access-log seals: PKCS#8 PEM text, or the path "
            "of a PEM file. Development derives one from SECRET_KEY when it is empty."
        ),
    )
    audit_seal_key: str = Field(
        default=DEVELOPMENT_SECRET,
        description="HMAC key of seals made before Ed25519 signing (and of verification records).",
    )
    token_audience: str = "rekisteri"  # noqa: S105
    token_issuer: str = "rekisteri"  # noqa: S105
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    session_idle_timeout_seconds: int = Field(default=1800, ge=60)
    session_absolute_lifetime_seconds: int = Field(default=8 * 3600, ge=300)
    max_page_size: int = Field(default=100, ge=1, le=1000)
    default_page_size: int = Field(default=20, ge=1)
    statement_timeout_ms: int = Field(default=5000, ge=100)
    request_timeout_seconds: float = Field(
        default=15.0, gt=0, description="A GraphQL request running longer is cancelled (503)."
    )
    read_executor: Literal["compiled", "resolver"] = Field(
        default="compiled",
        description="compiled: a query the compiler covers runs as one SQL statement; "
        "resolver: every operation runs on the resolver executor (the reference).",
    )
    pool_size: int = Field(default=10, ge=1)
    pool_timeout_seconds: float = Field(default=3.0, gt=0)
    introspection: bool | None = Field(
        default=None, description="Schema introspection; default: on except in production."
    )
    policy_reload_interval_seconds: float = Field(default=2.0, gt=0)
    audit_seal_interval_seconds: float = Field(default=30.0, gt=0)
    audit_sealer: bool = Field(
        default=True, description="Run the background sealer in this process (one is enough)."
    )
    audit_retention_months: int = Field(default=24, ge=1)
    login_failures_per_hour: int = Field(default=100, ge=1)
    login_delay_base_seconds: float = Field(
        default=0.5,
        ge=0,
        description="Delay of the first login attempt once an account is over its failure limit.",
    )
    login_delay_max_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="Cap of the per-account login delay (it doubles with every failure).",
    )
    login_queue_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Longest wait for an account's turn before a login is refused (429).",
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Peers whose X-Forwarded-For is believed: addresses or CIDRs, comma-separated.",
    )
    web_concurrency: int = Field(
        default=1, ge=1, le=64, description="Worker processes of `rekisteri serve` (--workers)."
    )
    shutdown_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        description="On SIGTERM, how long requests in flight may take before connections close.",
    )
    log_format: Literal["json", "console"] | None = Field(
        default=None,
        description="json: one JSON object a line; console: readable text. "
        "Default: console in development, json elsewhere.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    import_max_bytes: int = Field(
        default=2 * 1024**3,
        ge=1,
        description="The largest file POST /imports/... accepts (its body is streamed to a "
        "temporary file, never held in memory).",
    )
    metrics_allowed_addresses: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("127.0.0.1/32", "::1/128"),
        description="Client addresses or CIDRs that may read /metrics, comma-separated.",
    )
    trusted_documents_required_roles: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Roles (policy names, comma-separated; * for everyone) whose callers may "
        "run registered documents only.",
    )
    trusted_documents_required_for_api_keys: bool = Field(
        default=False, description="Every API key may run registered documents only."
    )
    trusted_documents_reload_interval_seconds: float = Field(
        default=2.0, gt=0, description="How often the registered documents are checked for changes."
    )
    metrics_token: str = Field(
        default="",
        description="A bearer token that also opens /metrics (at least 16 characters); "
        "empty: addresses only.",
    )
    otel_exporter_otlp_endpoint: str = Field(
        default="",
        description="OTLP/HTTP base URL (e.g. http://collector:4318) to send traces to; "
        "empty: no tracing at all.",
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        return value.strip()

    @field_validator("trusted_proxies", "metrics_allowed_addresses", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object, info: ValidationInfo) -> tuple[str, ...]:
        setting = (info.field_name or "").upper()
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple | set | frozenset):
            raise ValueError(f"{setting} must be addresses or networks, comma-separated")
        networks = []
        for item in items:
            text = str(item).strip()
            if not text:
                continue
            try:
                networks.append(str(ipaddress.ip_network(text, strict=False)))
            except ValueError:
                raise ValueError(f"{setting}: not an IP address or network: {text!r}") from None
        return tuple(networks)

    @field_validator("trusted_documents_required_roles", mode="before")
    @classmethod
    def _parse_roles(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple | set | frozenset):
            raise ValueError("TRUSTED_DOCUMENTS_REQUIRED_ROLES must be role names, comma-separated")
        return tuple(sorted({str(item).strip() for item in items if str(item).strip()}))

    @field_validator("otel_exporter_otlp_endpoint")
    @classmethod
    def _http_endpoint(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: str) -> str:
        if value and len(value) < 16:
            raise ValueError("METRICS_TOKEN must be empty or at least 16 characters")
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment is not Environment.DEVELOPMENT:
            for name in ("secret_key", "audit_seal_key"):
                value = getattr(self, name)
                if value in PLACEHOLDER_SECRETS or len(value) < 32:
                    raise ValueError(
                        f"{name.upper()} must be set to a random value of at least 32 "
                        f"characters outside development (environment={self.environment})"
                    )
            if self.audit_signing_key.strip() in PLACEHOLDER_SECRETS:
                raise ValueError(
                    "AUDIT_SIGNING_KEY must be set to an Ed25519 private key (PEM, or a PEM "
                    f"file's path) outside development (environment={self.environment})"
                )
            from server.audit.signing import load_private_key

            load_private_key(self.audit_signing_key)  # SigningKeyError is a ValueError
        if self.default_page_size > self.max_page_size:
            raise ValueError("DEFAULT_PAGE_SIZE must not exceed MAX_PAGE_SIZE")
        return self

    @property
    def introspection_enabled(self) -> bool:
        if self.introspection is not None:
            return self.introspection
        return self.environment is not Environment.PRODUCTION

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    @property
    def log_style(self) -> Literal["json", "console"]:
        if self.log_format is not None:
            return self.log_format
        return "console" if self.is_development else "json"

    @property
    def legacy_seal_key(self) -> str | None:
        """The HMAC key that seals made before Ed25519 signing are checked with."""
        return self.audit_seal_key or None
