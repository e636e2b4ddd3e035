"""imports: consumption as one row per site, resolution and UTC day; the importers' source
records and the provenance of what each imported file wrote

Metering data arrive in files of millions of values (a year of hourly values for a site is
8,760). Stored one row per value, a file costs the database a row, an index entry and a
foreign-key check per value; one row per UTC day holds the day's values in an array (24 or
96 steps, NULL for a gap) with one quality letter per step (m measured, e estimated,
r revised, - none), and `revisions` counts the values an import replaced. The view
`consumption_value` shows the values one per row as before. A value that does not start a
step of its resolution cannot be stored this way: the upgrade refuses such data.

Create Date: 2026-12-02 20:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

from server.db.migrate import timestamp_now

revision: str = "0008"
down_revision: str | None = "0013"

STEP = "CASE {t}.resolution WHEN 'PT15M' THEN interval '15 minutes' ELSE interval '1 hour' END"

MISALIGNED = f"""
DO $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM consumption_v1 c
        WHERE date_trunc('minute', c.period_start) <> c.period_start
           OR extract(epoch FROM c.period_start)::bigint
              % extract(epoch FROM {STEP.format(t="c")})::bigint <> 0
    ) THEN
        RAISE EXCEPTION 'consumption holds values that do not start a step of their resolution';
    END IF;
END
$$
"""

TO_DAYS = f"""
INSERT INTO consumption (site_id, resolution, day, energy_kwh, quality)
SELECT d.site_id, d.resolution, d.day,
       array_agg(v.energy_kwh ORDER BY s.n),
       string_agg(CASE v.quality WHEN 'measured' THEN 'm' WHEN 'estimated' THEN 'e'
                  WHEN 'revised' THEN 'r' ELSE '-' END, '' ORDER BY s.n)
FROM (SELECT DISTINCT site_id, resolution, CAST(timezone('UTC', period_start) AS date) AS day
      FROM consumption_v1) d
CROSS JOIN LATERAL generate_series(1, CASE d.resolution WHEN 'PT15M' THEN 96 ELSE 24 END) AS s(n)
LEFT JOIN consumption_v1 v
  ON v.site_id = d.site_id AND v.resolution = d.resolution
 AND v.period_start = timezone('UTC', d.day + (s.n - 1) * {STEP.format(t="d")})
GROUP BY d.site_id, d.resolution, d.day
"""

VALUE_VIEW = f"""
CREATE VIEW consumption_value AS
SELECT c.site_id, c.resolution,
       timezone('UTC', c.day + (v.n - 1) * {STEP.format(t="c")}) AS period_start,
       v.energy_kwh,
       CASE substr(c.quality, CAST(v.n AS integer), 1) WHEN 'm' THEN 'measured'
            WHEN 'e' THEN 'estimated' WHEN 'r' THEN 'revised' END AS quality
FROM consumption c
CROSS JOIN LATERAL unnest(c.energy_kwh) WITH ORDINALITY AS v(energy_kwh, n)
WHERE v.energy_kwh IS NOT NULL
"""


def upgrade() -> None:
    op.execute("ALTER TABLE consumption RENAME TO consumption_v1")
    for suffix in ("pkey", "site_id_fkey"):  # the new table's constraints keep their names
        op.execute(
            f"ALTER TABLE consumption_v1 RENAME CONSTRAINT consumption_{suffix}"
            f" TO consumption_v1_{suffix}"
        )
    op.execute(MISALIGNED)
    _day_table()
    op.execute(TO_DAYS)
    op.drop_table("consumption_v1")
    op.execute(VALUE_VIEW)
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON consumption TO rekisteri_app")
    op.execute("GRANT SELECT ON consumption_value TO rekisteri_app")
    # Address changes name organisations by business ID (not unique: one per customer).
    op.create_index("customer_business_id_idx", "customer", ["business_id"], unique=False)
    _import_tables()


def _day_table() -> None:
    op.create_table(
        "consumption",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("resolution", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "energy_kwh", postgresql.ARRAY(sa.Numeric(precision=12, scale=3)), nullable=False
        ),
        sa.Column("quality", sqlmodel.sql.sqltypes.AutoString(length=96), nullable=False),
        sa.Column("revisions", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("resolution IN ('PT15M', 'PT1H')", name="resolution_allowed"),
        sa.CheckConstraint(
            "cardinality(energy_kwh) = CASE resolution WHEN 'PT15M' THEN 96 ELSE 24 END",
            name="one_value_per_step",
        ),
        sa.CheckConstraint(
            "length(quality) = cardinality(energy_kwh)", name="one_quality_per_step"
        ),
        sa.CheckConstraint("quality ~ '^[mer-]+$'", name="quality_letters"),
        sa.CheckConstraint("0 <= ALL(energy_kwh)", name="energy_not_negative"),
        sa.CheckConstraint("revisions >= 0", name="revisions_not_negative"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("site_id", "resolution", "day"),
    )


def _import_tables() -> None:
    op.create_table(
        "import_source",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("file_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("file_bytes", sa.BigInteger(), nullable=False),
        sa.Column("file_format", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("counts", postgresql.JSONB(), nullable=False),
        sa.Column("accept_partial", sa.Boolean(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("imported_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("imported_by_name", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("organisation", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        timestamp_now("finished_at"),
        sa.Column("log_request_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('prospects', 'consumption', 'addresses')", name="kind_allowed"
        ),
        sa.CheckConstraint("channel IN ('cli', 'http')", name="channel_allowed"),
        sa.CheckConstraint("file_sha256 ~ '^[0-9a-f]{64}$'", name="file_sha256_format"),
        sa.CheckConstraint(
            "rows_accepted >= 0 AND rows_rejected >= 0"
            " AND rows_accepted + rows_rejected = rows_total",
            name="rows_add_up",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_import_source_file_sha256"), "import_source", ["file_sha256"], unique=False
    )
    op.create_table(
        "import_provenance",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("prospect_id", sa.Uuid(), nullable=True),
        sa.Column("object_type", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("fields", postgresql.ARRAY(sa.String(length=100)), nullable=False),
        sa.Column("resolution", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("first_step", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.DateTime(timezone=True), nullable=True),
        sa.Column("values_added", sa.Integer(), nullable=True),
        sa.Column("values_revised", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["import_source.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["prospect_id"], ["prospect.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("source_id", "customer_id", "prospect_id"):
        op.create_index(
            op.f(f"ix_import_provenance_{column}"), "import_provenance", [column], unique=False
        )
    op.execute("GRANT SELECT, INSERT, UPDATE ON import_source TO rekisteri_app")
    op.execute("GRANT SELECT, INSERT, DELETE ON import_provenance TO rekisteri_app")


FROM_DAYS = """
INSERT INTO consumption (site_id, resolution, period_start, energy_kwh, quality)
SELECT site_id, resolution, period_start, energy_kwh, quality FROM consumption_v1
"""


def downgrade() -> None:
    op.drop_index("customer_business_id_idx", table_name="customer")
    op.drop_table("import_provenance")
    op.drop_table("import_source")
    op.execute("CREATE TABLE consumption_v1 AS SELECT * FROM consumption_value")
    op.execute("DROP VIEW consumption_value")
    op.drop_table("consumption")
    op.create_table(
        "consumption",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("resolution", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("energy_kwh", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column(
            "quality",
            sqlmodel.sql.sqltypes.AutoString(length=10),
            server_default="measured",
            nullable=False,
        ),
        sa.CheckConstraint(
            "quality IN ('measured', 'estimated', 'revised')", name="quality_allowed"
        ),
        sa.CheckConstraint("resolution IN ('PT15M', 'PT1H')", name="resolution_allowed"),
        sa.CheckConstraint("energy_kwh >= 0", name="energy_not_negative"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("site_id", "resolution", "period_start"),
    )
    op.execute(FROM_DAYS)
    op.drop_table("consumption_v1")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON consumption TO rekisteri_app")
