"""Import every domain's tables so that SQLModel.metadata holds the whole register."""

from sqlmodel import SQLModel

from server.billing import models as billing_models
from server.contracts import models as contract_models
from server.customers import models as customer_models
from server.identity import models as identity_models
from server.imports import models as import_models
from server.operations import models as operation_models
from server.organisations import models as organisation_models
from server.prospects import models as prospect_models
from server.sites import models as site_models

metadata = SQLModel.metadata

__all__ = [
    "billing_models",
    "contract_models",
    "customer_models",
    "identity_models",
    "import_models",
    "metadata",
    "operation_models",
    "organisation_models",
    "prospect_models",
    "site_models",
]
