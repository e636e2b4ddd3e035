"""identity: users, sessions, API keys, login failures and authentication events

Create Date: 2026-11-24 19:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from server.db.migrate import timestamp_now

revision: str = "0002"
down_revision: str | None = "0001"

AUTH_EVENTS = (
    "login_succeeded",
    "login_failed",
    "locked_out",
    "logout",
    "token_rejected",
    "session_revoked",
    "user_created",
    "user_disabled",
    "roles_changed",
    "password_changed",
    "api_key_created",
    "api_key_revoked",
    "api_key_rejected",
)


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("roles", sa.ARRAY(sa.String(length=64)), server_default="{}", nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        timestamp_now("created_at"),
        timestamp_now("updated_at"),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_index(
        "app_user_username_lower_key", "app_user", [sa.text("lower(username)")], unique=True
    )
    op.create_index(
        op.f("ix_app_user_organisation_id"), "app_user", ["organisation_id"], unique=False
    )
    op.create_table(
        "user_session",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("client_address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        timestamp_now("created_at"),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_user_session_user_id"), "user_session", ["user_id"], unique=False)
    op.create_table(
        "api_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("secret_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("roles", sa.ARRAY(sa.String(length=64)), server_default="{}", nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        timestamp_now("created_at"),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("prefix"),
    )
    op.create_index(
        op.f("ix_api_key_organisation_id"), "api_key", ["organisation_id"], unique=False
    )
    op.create_table(
        "login_failure",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client_address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "login_failure_account_idx", "login_failure", ["account_key", "at"], unique=False
    )
    op.create_index(
        "login_failure_client_idx", "login_failure", ["client_address", "at"], unique=False
    )
    op.create_table(
        "auth_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("principal_kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("principal_id", sa.Uuid(), nullable=True),
        sa.Column("username_hmac", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("client_address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.CheckConstraint(
            "event IN (" + ", ".join(f"'{e}'" for e in AUTH_EVENTS) + ")", name="event_allowed"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("auth_event_principal_idx", "auth_event", ["principal_id", "at"], unique=False)
    op.create_index(
        "auth_event_client_idx", "auth_event", ["client_address", "event", "at"], unique=False
    )
    op.create_index(
        "auth_event_known_address_idx",
        "auth_event",
        ["principal_id", "client_address", "at"],
        unique=False,
        postgresql_where=sa.text("event = 'login_succeeded'"),
    )
    # The runtime role: no DELETE on users, sessions or keys (they are disabled or revoked);
    # login failures expire after an hour; authentication events are append-only for it.
    op.execute("GRANT SELECT, INSERT, UPDATE ON app_user, user_session, api_key TO rekisteri_app")
    op.execute("GRANT SELECT, INSERT, DELETE ON login_failure TO rekisteri_app")
    op.execute("GRANT SELECT, INSERT ON auth_event TO rekisteri_app")


def downgrade() -> None:
    # Each table with its indexes and constraints.
    op.execute("DROP TABLE auth_event, login_failure, api_key, user_session, app_user")
