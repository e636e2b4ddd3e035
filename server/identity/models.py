"""Tables of authentication: users, their sessions, API keys, login failures, auth events."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ARRAY, BigInteger, Column, Identity, Index, String, text
from sqlmodel import Field, SQLModel

from server.db.columns import (
    created_at_field,
    enum_check,
    id_field,
    required_timestamp_field,
    timestamp_field,
)

USERNAME_MAX_LENGTH = 150
ROLE_MAX_LENGTH = 64


def roles_column() -> Column[list[str]]:
    return Column(ARRAY(String(ROLE_MAX_LENGTH)), nullable=False, server_default="{}")


class AuthEventKind(StrEnum):  # values are event names, not secrets
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    LOCKED_OUT = "locked_out"
    LOGOUT = "logout"
    TOKEN_REJECTED = "token_rejected"  # noqa: S105
    SESSION_REVOKED = "session_revoked"
    USER_CREATED = "user_created"
    USER_DISABLED = "user_disabled"
    ROLES_CHANGED = "roles_changed"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    API_KEY_CREATED = "api_key_created"
    API_KEY_REVOKED = "api_key_revoked"
    API_KEY_REJECTED = "api_key_rejected"


class AppUser(SQLModel, table=True):
    """A person who logs in; roles are policy names, checked again on every request."""

    __tablename__ = "app_user"
    __table_args__ = (Index("app_user_username_lower_key", text("lower(username)"), unique=True),)

    id: uuid.UUID = id_field()
    username: str = Field(unique=True, max_length=USERNAME_MAX_LENGTH)
    password_hash: str = Field(max_length=255)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    roles: list[str] = Field(default_factory=list, sa_column=roles_column())
    active: bool = Field(default=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    last_login_at: datetime | None = timestamp_field()


class UserSession(SQLModel, table=True):
    """One login: every access token names it, so revoking it ends the login at once."""

    __tablename__ = "user_session"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="app_user.id", index=True)
    client_address: str | None = Field(default=None, max_length=64)
    created_at: datetime = created_at_field()
    last_seen_at: datetime = required_timestamp_field()
    expires_at: datetime = required_timestamp_field()
    revoked_at: datetime | None = timestamp_field()


class ApiKey(SQLModel, table=True):
    """A subcontractor system's key: only the SHA-256 of its secret is stored."""

    __tablename__ = "api_key"

    id: uuid.UUID = id_field()
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(unique=True, max_length=16)
    secret_sha256: str = Field(max_length=64)
    roles: list[str] = Field(default_factory=list, sa_column=roles_column())
    expires_at: datetime = required_timestamp_field()
    revoked_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
    last_used_at: datetime | None = timestamp_field()


class LoginFailure(SQLModel, table=True):
    """One failed login, for throttling; keyed by an HMAC of the username, never the name."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("login_failure_account_idx", "account_key", "at"),
        Index("login_failure_client_idx", "client_address", "at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    account_key: str = Field(max_length=64)
    client_address: str = Field(max_length=64)
    at: datetime = required_timestamp_field()


class AuthEvent(SQLModel, table=True):
    """An authentication event; the runtime role may only insert and read these rows."""

    __tablename__ = "auth_event"
    __table_args__ = (
        enum_check("event", AuthEventKind),
        Index("auth_event_principal_idx", "principal_id", "at"),
        Index("auth_event_client_idx", "client_address", "event", "at"),
        Index(
            "auth_event_known_address_idx",
            "principal_id",
            "client_address",
            "at",
            postgresql_where=text("event = 'login_succeeded'"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    at: datetime = required_timestamp_field()
    event: str = Field(max_length=30)
    principal_kind: str | None = Field(default=None, max_length=10)
    principal_id: uuid.UUID | None = Field(default=None)
    username_hmac: str | None = Field(default=None, max_length=64)
    client_address: str | None = Field(default=None, max_length=64)
    detail: str = Field(default="", max_length=500)
