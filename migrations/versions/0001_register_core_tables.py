"""register core tables

Create Date: 2026-11-24 18:47:59.345283
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from server.db.migrate import run_sql_file, timestamp_now

revision: str = '0001'
down_revision: str | None = None


def upgrade() -> None:
    run_sql_file("identifier_checks.sql")
    run_sql_file("app_role.sql")
    op.create_table('customer',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_number', sa.BigInteger(), sa.Identity(always=False, start=100001), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('first_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('last_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('organisation_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('personal_identity_code', sqlmodel.sql.sqltypes.AutoString(length=11), nullable=True),
    sa.Column('business_id', sqlmodel.sql.sqltypes.AutoString(length=9), nullable=True),
    sa.Column('street_address', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('postal_code', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('post_office', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), server_default='FI', nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), server_default='fi', nullable=False),
    sa.Column('direct_marketing_objection_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('direct_marketing_objection_source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('distance_selling_objection_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('distance_selling_objection_source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('research_objection_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('research_objection_source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('processing_restricted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('former_customer_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True),
    timestamp_now('created_at'),
    timestamp_now('updated_at'),
    sa.CheckConstraint("anonymised_at IS NOT NULL OR (kind = 'person' AND business_id IS NULL AND last_name IS NOT NULL) OR (kind = 'organisation' AND personal_identity_code IS NULL AND organisation_name IS NOT NULL)", name='identity_matches_kind'),
    sa.CheckConstraint("kind IN ('person', 'organisation')", name='kind_allowed'),
    sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name='language_allowed'),
    sa.CheckConstraint("postal_code ~ '^[0-9]{5}$'", name='postal_code_format'),
    sa.CheckConstraint('business_id IS NULL OR fi_valid_business_id(business_id)', name='business_id_valid'),
    sa.CheckConstraint('personal_identity_code IS NULL OR fi_valid_hetu(personal_identity_code)', name='personal_identity_code_valid'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_number'),
    sa.UniqueConstraint('personal_identity_code')
    )
    op.create_index('customer_name_idx', 'customer', [sa.text("lower(last_name)"), sa.text("lower(first_name)")], unique=False)
    op.create_index('customer_org_name_idx', 'customer', [sa.text("lower(organisation_name)")], unique=False)
    op.create_table('organisation',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('business_id', sqlmodel.sql.sqltypes.AutoString(length=9), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    timestamp_now('created_at'),
    sa.CheckConstraint("kind IN ('company', 'subcontractor', 'partner', 'authority', 'energy_company')", name='kind_allowed'),
    sa.CheckConstraint('business_id IS NULL OR fi_valid_business_id(business_id)', name='business_id_valid'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('product',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('fixed_term_months', sa.Integer(), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.CheckConstraint("kind IN ('fixed', 'spot', 'hybrid')", name='kind_allowed'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('prospect',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('first_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('last_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('postal_code', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('campaign', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('marketing_consent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consent_text', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('consent_expires_on', sa.Date(), nullable=False),
    timestamp_now('created_at'),
    sa.CheckConstraint("postal_code IS NULL OR postal_code ~ '^[0-9]{5}$'", name='postal_code_format'),
    sa.CheckConstraint("source IN ('competition', 'prize_draw', 'quote_request', 'event')", name='source_allowed'),
    sa.CheckConstraint('email IS NOT NULL OR phone IS NOT NULL', name='reachable'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('collection_case',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=True),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=25), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('amount_due', sa.Numeric(precision=12, scale=2), nullable=False),
    timestamp_now('created_at'),
    sa.CheckConstraint("stage IN ('reminder', 'payment_demand', 'disconnection_warning', 'collection_agency', 'legal', 'closed')", name='stage_allowed'),
    sa.CheckConstraint('closed_on IS NULL OR closed_on >= opened_on', name='period_order'),
    sa.ForeignKeyConstraint(['agency_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('collection_case_agency_idx', 'collection_case', ['agency_id', 'customer_id'], unique=False)
    op.create_index(op.f('ix_collection_case_customer_id'), 'collection_case', ['customer_id'], unique=False)
    op.create_table('price',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('energy_price_c_per_kwh', sa.Numeric(precision=10, scale=4), nullable=True),
    sa.Column('spot_margin_c_per_kwh', sa.Numeric(precision=10, scale=4), nullable=True),
    sa.Column('basic_fee_eur_per_month', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('vat_rate', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name='period_order'),
    sa.CheckConstraint('vat_rate >= 0 AND vat_rate < 100', name='vat_rate_range'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_price_product_id'), 'price', ['product_id'], unique=False)
    op.create_table('site',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('metering_point_id', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('street_address', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('postal_code', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('post_office', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('housing_type', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('ownership', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('heating_type', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('heating_depends_on_electricity', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('annual_consumption_estimate_kwh', sa.Integer(), nullable=True),
    sa.Column('main_fuse', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('connection_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('grid_operator', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('connection_power_kw', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('connected_on', sa.Date(), nullable=True),
    timestamp_now('created_at'),
    timestamp_now('updated_at'),
    sa.CheckConstraint("heating_type IN ('direct_electric', 'storage_electric', 'ground_source_heat_pump', 'air_to_water_heat_pump', 'air_to_air_heat_pump', 'district_heat', 'oil', 'wood_or_pellet')", name='heating_type_allowed'),
    sa.CheckConstraint("housing_type IN ('apartment_block', 'terraced_house', 'semi_detached_house', 'detached_house', 'holiday_home', 'business_premises')", name='housing_type_allowed'),
    sa.CheckConstraint("main_fuse ~ '^[13]x[0-9]{2,3}A$'", name='main_fuse_format'),
    sa.CheckConstraint("ownership IN ('owned', 'rented')", name='ownership_allowed'),
    sa.CheckConstraint("postal_code ~ '^[0-9]{5}$'", name='postal_code_format'),
    sa.CheckConstraint('annual_consumption_estimate_kwh IS NULL OR annual_consumption_estimate_kwh >= 0', name='estimate_not_negative'),
    sa.CheckConstraint('metering_point_id IS NULL OR fi_valid_gsrn(metering_point_id)', name='metering_point_id_valid'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('metering_point_id')
    )
    op.create_index(op.f('ix_site_customer_id'), 'site', ['customer_id'], unique=False)
    op.create_table('assignment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('site_id', sa.Uuid(), nullable=True),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    timestamp_now('created_at'),
    sa.CheckConstraint('(customer_id IS NOT NULL) <> (site_id IS NOT NULL)', name='one_target'),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name='period_order'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('assignment_customer_idx', 'assignment', ['customer_id', 'organisation_id'], unique=False)
    op.create_index('assignment_site_idx', 'assignment', ['site_id', 'organisation_id'], unique=False)
    op.create_index(op.f('ix_assignment_organisation_id'), 'assignment', ['organisation_id'], unique=False)
    op.create_table('consumption',
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('energy_kwh', sa.Numeric(precision=12, scale=3), nullable=False),
    sa.Column('quality', sqlmodel.sql.sqltypes.AutoString(length=10), server_default='measured', nullable=False),
    sa.CheckConstraint("quality IN ('measured', 'estimated', 'revised')", name='quality_allowed'),
    sa.CheckConstraint("resolution IN ('PT15M', 'PT1H')", name='resolution_allowed'),
    sa.CheckConstraint('energy_kwh >= 0', name='energy_not_negative'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('site_id', 'resolution', 'period_start')
    )
    op.create_table('offer',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('prospect_id', sa.Uuid(), nullable=True),
    sa.Column('site_id', sa.Uuid(), nullable=True),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('energy_price_c_per_kwh', sa.Numeric(precision=10, scale=4), nullable=True),
    sa.Column('spot_margin_c_per_kwh', sa.Numeric(precision=10, scale=4), nullable=True),
    sa.Column('basic_fee_eur_per_month', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    timestamp_now('created_at'),
    sa.CheckConstraint("status IN ('open', 'accepted', 'expired', 'withdrawn')", name='status_allowed'),
    sa.CheckConstraint('(customer_id IS NOT NULL) <> (prospect_id IS NOT NULL)', name='one_party'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['prospect_id'], ['prospect.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_offer_customer_id'), 'offer', ['customer_id'], unique=False)
    op.create_index(op.f('ix_offer_prospect_id'), 'offer', ['prospect_id'], unique=False)
    op.create_table('contract',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('contract_number', sa.BigInteger(), sa.Identity(always=False, start=5000001), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('offer_id', sa.Uuid(), nullable=True),
    sa.Column('energy_price_c_per_kwh', sa.Numeric(precision=10, scale=4), nullable=True),
    sa.Column('spot_margin_c_per_kwh', sa.Numeric(precision=10, scale=4), nullable=True),
    sa.Column('basic_fee_eur_per_month', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('sales_channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    timestamp_now('created_at'),
    sa.CheckConstraint("sales_channel IN ('web', 'phone', 'field', 'email', 'customer_service')", name='sales_channel_allowed'),
    sa.CheckConstraint("status IN ('pending', 'active', 'terminated', 'ended')", name='status_allowed'),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name='period_order'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contract_number')
    )
    op.create_index(op.f('ix_contract_customer_id'), 'contract', ['customer_id'], unique=False)
    op.create_index(op.f('ix_contract_site_id'), 'contract', ['site_id'], unique=False)
    op.create_table('invoice',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('invoice_number', sa.BigInteger(), sa.Identity(always=False, start=70000001), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('contract_id', sa.Uuid(), nullable=True),
    sa.Column('reference_number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('billing_method', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('total_excl_vat', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('vat_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('total_incl_vat', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
    timestamp_now('created_at'),
    sa.CheckConstraint("billing_method IN ('e_invoice', 'direct_payment', 'email', 'paper')", name='billing_method_allowed'),
    sa.CheckConstraint("status IN ('open', 'paid', 'overdue', 'in_collection', 'credited')", name='status_allowed'),
    sa.CheckConstraint('due_date >= issue_date', name='due_after_issue'),
    sa.CheckConstraint('reference_number IS NULL OR fi_valid_reference(reference_number)', name='reference_number_valid'),
    sa.CheckConstraint('total_incl_vat = total_excl_vat + vat_amount', name='totals_add_up'),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invoice_number'),
    sa.UniqueConstraint('reference_number')
    )
    op.create_index('invoice_customer_idx', 'invoice', ['customer_id', 'issue_date'], unique=False)
    op.create_index('invoice_status_due_idx', 'invoice', ['status', 'due_date'], unique=False)
    op.create_index(op.f('ix_invoice_contract_id'), 'invoice', ['contract_id'], unique=False)
    op.create_table('security_deposit',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('contract_id', sa.Uuid(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('returned_on', sa.Date(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.CheckConstraint("status IN ('held', 'returned', 'applied')", name='status_allowed'),
    sa.CheckConstraint('amount > 0', name='amount_positive'),
    sa.CheckConstraint('returned_on IS NULL OR returned_on >= received_on', name='return_order'),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_security_deposit_customer_id'), 'security_deposit', ['customer_id'], unique=False)
    op.create_table('collection_case_invoice',
    sa.Column('collection_case_id', sa.Uuid(), nullable=False),
    sa.Column('invoice_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['collection_case_id'], ['collection_case.id'], ),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.PrimaryKeyConstraint('collection_case_id', 'invoice_id')
    )
    op.create_index(op.f('ix_collection_case_invoice_invoice_id'), 'collection_case_invoice', ['invoice_id'], unique=False)
    op.create_table('invoice_line',
    sa.Column('invoice_id', sa.Uuid(), nullable=False),
    sa.Column('line_number', sa.Integer(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.Column('vat_rate', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('amount_excl_vat', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('vat_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.PrimaryKeyConstraint('invoice_id', 'line_number')
    )
    op.create_table('payment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('invoice_id', sa.Uuid(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('reference_number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    timestamp_now('created_at'),
    sa.CheckConstraint('amount > 0', name='amount_positive'),
    sa.CheckConstraint('reference_number IS NULL OR fi_valid_reference(reference_number)', name='reference_number_valid'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_payment_invoice_id'), 'payment', ['invoice_id'], unique=False)
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO rekisteri_app")
    op.execute("REVOKE ALL ON alembic_version FROM rekisteri_app")
    op.execute("GRANT SELECT ON alembic_version TO rekisteri_app")


def downgrade() -> None:
    # Each table with its indexes and constraints.
    op.execute(
        'DROP TABLE payment, invoice_line, collection_case_invoice, security_deposit,'
        ' invoice, contract, offer, consumption, assignment, site, price, collection_case,'
        ' prospect, product, organisation, customer'
    )
