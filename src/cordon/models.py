"""Imports every slice's models so that Base.metadata holds the whole schema (for Alembic)."""

from cordon.audit import models as audit_models
from cordon.auth import models as auth_models
from cordon.border import models as border_models
from cordon.cases import models as case_models
from cordon.codes import models as code_models
from cordon.db import Base
from cordon.facts import models as fact_models
from cordon.geo import models as geo_models
from cordon.jobs import models as job_models
from cordon.people import models as people_models
from cordon.screening import models as screening_models
from cordon.trace import models as trace_models

__all__ = [
    "Base",
    "audit_models",
    "auth_models",
    "border_models",
    "case_models",
    "code_models",
    "fact_models",
    "geo_models",
    "job_models",
    "people_models",
    "screening_models",
    "trace_models",
]
