"""The exceptions of ipocket.

Every error the Rust crates return is mapped, variant by variant, to one of these classes
in one place (``bindings-python/src/errors.rs``). All derive from :class:`IpocketError`;
those about bad input also derive from :class:`ValueError`, lookups from
:class:`LookupError`, role checks from :class:`PermissionError` and file errors from
:class:`OSError`, so ordinary ``except`` clauses keep working.
"""

from __future__ import annotations

from typing import NamedTuple, Optional


class IpocketError(Exception):
    """Base class of every ipocket error; ``message`` is the full text."""

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ParseError(IpocketError, ValueError):
    """Exposition text that does not parse; ``line`` and ``column`` are 1-based."""

    line: int
    column: int
    kind: str
    snippet: str

    def __init__(self, message: str, line: int, column: int, kind: str, snippet: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.kind = kind
        self.snippet = snippet


class InvalidInputError(IpocketError, ValueError):
    """A value given by the caller is not valid; ``field`` names it."""

    field: str

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(IpocketError, LookupError):
    """The record does not exist: ``entity`` is its kind, ``key`` what was looked up."""

    entity: str
    key: str

    def __init__(self, message: str, entity: str, key: str) -> None:
        super().__init__(message)
        self.entity = entity
        self.key = key


class ConflictError(IpocketError):
    """The change conflicts with an existing record (duplicate name, active address…)."""


class ForbiddenError(IpocketError, PermissionError):
    """The actor's role does not allow the operation."""


class StorageError(IpocketError, OSError):
    """Reading or writing a file failed."""


class DatabaseError(IpocketError):
    """SQLite failed, or the database was written by a newer ipocket."""


class ImportIssue(NamedTuple):
    """One problem of an import input: ``location`` is a JSON path or ``file:line:column``."""

    location: str
    message: str


class ImportValidationError(IpocketError, ValueError):
    """The import input had errors; ``errors`` lists every one; nothing was written."""

    errors: list[ImportIssue]

    def __init__(self, message: str, errors: list[ImportIssue]) -> None:
        super().__init__(message)
        self.errors = errors


class StalePlanError(IpocketError):
    """The inventory changed between ``plan_import`` and ``apply``: plan again."""


class RangeFullError(IpocketError):
    """The address range has no free address left."""


class PrometheusConnectorError(IpocketError):
    """A hard failure of the Prometheus connector; nothing was imported.

    ``kind`` is one of ``invalid_input``, ``http``, ``auth``, ``http_status``,
    ``invalid_json``, ``api``, ``unsupported_result_type``; ``status`` is the HTTP status
    when there was an answer.
    """

    kind: str
    status: Optional[int]

    def __init__(self, message: str, kind: str, status: Optional[int]) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


class VcenterError(IpocketError):
    """A hard failure of the vCenter connector (``kind``: ``http``, ``login``, ``status``,
    ``invalid_json``); ``status`` is the HTTP status when there was an answer."""

    kind: str
    status: Optional[int]

    def __init__(self, message: str, kind: str, status: Optional[int]) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


class ValidationIssue(NamedTuple):
    """One problem of a generated rule: group and rule in ``location``, the rule's ``field``."""

    location: str
    field: Optional[str]
    message: str


class RuleValidationError(IpocketError, ValueError):
    """Generated rules failed validation (ours or promtool's); nothing was written."""

    issues: list[ValidationIssue]

    def __init__(self, message: str, issues: list[ValidationIssue]) -> None:
        super().__init__(message)
        self.issues = issues


class PrometheusError(IpocketError):
    """Prometheus's HTTP API failed or refused a reload (rule generation); ``status`` is the
    HTTP status when there was an answer."""

    status: Optional[int]

    def __init__(self, message: str, status: Optional[int]) -> None:
        super().__init__(message)
        self.status = status


class RemoteServerError(IpocketError):
    """A remote ipocket server did not do what was asked.

    ``kind`` is one of ``http`` (no answer: refused, TLS, timeout), ``unauthorized`` (a
    missing, wrong or expired token), ``api`` (an error answer in the API's shape; ``code``
    is its stable code such as ``stale_plan``), ``unexpected`` (an answer that is not the
    API's) or ``invalid_json``; ``status`` is the HTTP status when there was an answer. A bad
    bundle raises :class:`ImportValidationError` and a role refusal :class:`ForbiddenError`
    instead, as a local import does. The token never appears in the message.
    """

    kind: str
    status: Optional[int]
    code: Optional[str]

    def __init__(self, message: str, kind: str, status: Optional[int], code: Optional[str]) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.code = code


__all__ = [
    "IpocketError",
    "ParseError",
    "InvalidInputError",
    "NotFoundError",
    "ConflictError",
    "ForbiddenError",
    "StorageError",
    "DatabaseError",
    "ImportIssue",
    "ImportValidationError",
    "StalePlanError",
    "RangeFullError",
    "PrometheusConnectorError",
    "VcenterError",
    "ValidationIssue",
    "RuleValidationError",
    "PrometheusError",
    "RemoteServerError",
]
