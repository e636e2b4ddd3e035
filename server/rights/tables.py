"""The register's tables that the access report and retention read and change, under the
short names their statements use."""

from __future__ import annotations

from server.billing import models as billing
from server.contracts.models import Contract, Offer, Product
from server.customers.models import Customer
from server.db.tables import table_of
from server.imports.models import ImportProvenance, ImportSource
from server.organisations.models import Assignment, Organisation
from server.prospects.models import Prospect
from server.rights import models as rights
from server.sites.models import Consumption, Site

customer_t, site_t, consumption_t = table_of(Customer), table_of(Site), table_of(Consumption)
contract_t, offer_t, product_t = table_of(Contract), table_of(Offer), table_of(Product)
assignment_t, organisation_t = table_of(Assignment), table_of(Organisation)
prospect_t = table_of(Prospect)
provenance_t, import_source_t = table_of(ImportProvenance), table_of(ImportSource)

# Accounting records
invoice_t, line_t = table_of(billing.Invoice), table_of(billing.InvoiceLine)
payment_t, deposit_t = table_of(billing.Payment), table_of(billing.SecurityDeposit)
case_t = table_of(billing.CollectionCase)
case_invoice_t = table_of(billing.CollectionCaseInvoice)

# What the data subjects' rights keep
change_t, request_t = table_of(rights.ChangeRecord), table_of(rights.DataSubjectRequest)
disclosure_t = table_of(rights.Disclosure)
disclosure_customer_t = table_of(rights.DisclosureCustomer)
run_t = table_of(rights.RetentionRun)
