"""ipocket: an IP inventory (mini IPAM) joined with Prometheus.

- :mod:`ipocket.expfmt`: Prometheus text format / OpenMetrics parser and encoder.
- :class:`ipocket.Inventory`: the inventory on SQLite (CRUD, queries, utilization,
  import plan/apply, export, metrics, service-discovery targets).
- :mod:`ipocket.connectors`: Prometheus and vCenter connectors, the file_sd writer.
- :func:`ipocket.liveness` and :func:`ipocket.reconcile`: what Prometheus sees beside the
  inventory (up / down / not scraped, last seen up) and the three reconciliation lists.
- :mod:`ipocket.rulegen`: alert rule generation, validation and reload.
- :mod:`ipocket.errors`: the exceptions, all subclasses of :class:`IpocketError`.
"""

from ipocket import connectors, errors, expfmt, rulegen
from ipocket._native import ImportPlan, Inventory, PlannedItem, Reconciliation, liveness, reconcile
from ipocket.errors import (
    ConflictError,
    ForbiddenError,
    ImportIssue,
    ImportValidationError,
    InternalError,
    InvalidInputError,
    IpocketError,
    NotFoundError,
    ParseError,
    RangeFullError,
    RuleValidationError,
    StalePlanError,
    TooLargeError,
    UnauthorizedError,
    UnavailableError,
    ValidationIssue,
)

__all__ = [
    "connectors",
    "errors",
    "expfmt",
    "rulegen",
    "ImportPlan",
    "Inventory",
    "PlannedItem",
    "Reconciliation",
    "liveness",
    "reconcile",
    "ConflictError",
    "ForbiddenError",
    "ImportIssue",
    "ImportValidationError",
    "InternalError",
    "InvalidInputError",
    "IpocketError",
    "NotFoundError",
    "ParseError",
    "RangeFullError",
    "RuleValidationError",
    "StalePlanError",
    "TooLargeError",
    "UnauthorizedError",
    "UnavailableError",
    "ValidationIssue",
]
