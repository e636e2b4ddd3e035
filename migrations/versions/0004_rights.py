"""rights of the data subject: change history, requests register, disclosures, retention runs

Create Date: 2026-11-24 20:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

from server.db.migrate import timestamp_now

revision: str = "0004"
down_revision: str | None = "0003"


def upgrade() -> None:
    op.create_table(
        "data_subject_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "request_number", sa.BigInteger(), sa.Identity(always=False, start=1001), nullable=False
        ),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=25), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("extended_due_on", sa.Date(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("handler", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=True),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        timestamp_now("created_at"),
        sa.CheckConstraint(
            "kind IN ('access', 'rectification', 'objection', 'restriction')", name="kind_allowed"
        ),
        sa.CheckConstraint(
            "channel IN ('written_signed', 'electronic_signature', 'in_person', 'other')",
            name="channel_allowed",
        ),
        sa.CheckConstraint(
            "status IN ('received', 'in_progress', 'completed', 'rejected')", name="status_allowed"
        ),
        sa.CheckConstraint("due_on >= received_on", name="due_after_received"),
        sa.CheckConstraint(
            "extended_due_on IS NULL OR extended_due_on >= due_on", name="extension_after_due"
        ),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_number"),
    )
    op.create_index(
        op.f("ix_data_subject_request_customer_id"),
        "data_subject_request",
        ["customer_id"],
        unique=False,
    )
    op.create_index(
        "data_subject_request_open_idx", "data_subject_request", ["status", "due_on"], unique=False
    )
    op.create_table(
        "change_record",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("object_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("old_values", postgresql.JSONB(), nullable=False),
        sa.Column("new_values", postgresql.JSONB(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("changed_by_name", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("organisation", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("log_request_id", sa.Uuid(), nullable=True),
        timestamp_now("changed_at"),
        sa.CheckConstraint("action IN ('create', 'update', 'anonymise')", name="action_allowed"),
        sa.CheckConstraint("object_type IN ('Customer', 'Site')", name="object_type_allowed"),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["data_subject_request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "change_record_customer_idx", "change_record", ["customer_id", "changed_at"], unique=False
    )
    op.create_table(
        "disclosure",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("recipient_kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("legal_basis", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("case_reference", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("disclosed_on", sa.Date(), nullable=False),
        sa.Column("fields", sa.ARRAY(sa.String(length=100)), nullable=False),
        sa.Column("made_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("made_by_name", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        timestamp_now("created_at"),
        sa.CheckConstraint(
            "recipient_kind IN ('authority', 'energy_company')", name="recipient_kind_allowed"
        ),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "disclosure_customer",
        sa.Column("disclosure_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["disclosure_id"], ["disclosure.id"]),
        sa.PrimaryKeyConstraint("disclosure_id", "customer_id"),
    )
    op.create_index(
        op.f("ix_disclosure_customer_customer_id"),
        "disclosure_customer",
        ["customer_id"],
        unique=False,
    )
    op.create_table(
        "retention_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        timestamp_now("ran_at"),
        sa.Column("ran_by", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("summary", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The runtime role: history, disclosures and retention runs are append-only for it
    # (retention itself runs as the owner); the requests register is kept up to date.
    op.execute(
        "GRANT SELECT, INSERT ON change_record, disclosure, disclosure_customer TO rekisteri_app"
    )
    op.execute("GRANT SELECT, INSERT, UPDATE ON data_subject_request TO rekisteri_app")
    op.execute("GRANT SELECT ON retention_run TO rekisteri_app")


def downgrade() -> None:
    # Each table with its indexes and constraints.
    op.execute(
        "DROP TABLE retention_run, disclosure_customer, disclosure, change_record,"
        " data_subject_request"
    )
