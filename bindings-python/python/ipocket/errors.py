"""The exceptions of ipocket.

Every error of the Rust crates has a kind (``invalid``, ``not_found``, ``conflict``,
``forbidden``, ``unauthorized``, ``too_large``, ``unavailable``, ``internal``), and the class
raised is the kind's class, in one table (``bindings-python/src/errors.rs``); a failure that
carries located details raises a subclass of it (:class:`ParseError`,
:class:`ImportValidationError`, :class:`RuleValidationError`, :class:`StalePlanError`,
:class:`RangeFullError`). The Node module gives the same failure the same kind.

All derive from :class:`IpocketError`; bad input also derives from :class:`ValueError`,
lookups from :class:`LookupError`, refusals from :class:`PermissionError` and failed peers
from :class:`ConnectionError`, so ordinary ``except`` clauses keep working.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple, Optional


class IpocketError(Exception):
    """Base class of every ipocket error.

    ``message`` is the full text, ``kind`` the kind of failure; ``status`` is the HTTP status
    a peer answered with (Prometheus, vCenter, a remote ipocket server) and ``code`` the
    stable API error code a remote ipocket server sent (``stale_plan``), when there was one.
    """

    kind: ClassVar[str] = "internal"
    message: str
    status: Optional[int] = None
    code: Optional[str] = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(IpocketError, ValueError):
    """The input is not valid; ``field`` names the field or argument when one is to blame."""

    kind: ClassVar[str] = "invalid"
    field: Optional[str] = None


class NotFoundError(IpocketError, LookupError):
    """The record does not exist: ``entity`` is its kind, ``key`` what was looked up."""

    kind: ClassVar[str] = "not_found"
    entity: Optional[str] = None
    key: Optional[str] = None


class ConflictError(IpocketError):
    """The change clashes with the current state (duplicate name, active address…)."""

    kind: ClassVar[str] = "conflict"


class ForbiddenError(IpocketError, PermissionError):
    """The actor's role does not allow the operation."""

    kind: ClassVar[str] = "forbidden"


class UnauthorizedError(IpocketError, PermissionError):
    """No credentials, or wrong ones (a remote ipocket server refused the token)."""

    kind: ClassVar[str] = "unauthorized"


class TooLargeError(IpocketError, ValueError):
    """The input is larger than a configured limit."""

    kind: ClassVar[str] = "too_large"


class UnavailableError(IpocketError, ConnectionError):
    """Another system (Prometheus, vCenter, a remote ipocket server) did not answer as it
    should: unreachable, timed out, refused the credentials or answered nonsense. ``status``
    is its HTTP status when it answered."""

    kind: ClassVar[str] = "unavailable"


class InternalError(IpocketError):
    """Local storage failed (SQLite, a file, a missing program) or an invariant broke."""

    kind: ClassVar[str] = "internal"


class ParseError(InvalidInputError):
    """Exposition text that does not parse; ``line`` and ``column`` are 1-based, ``rule``
    names the rule of the format that was broken (``InvalidValue``…)."""

    line: int
    column: int
    rule: str
    snippet: str


class ImportIssue(NamedTuple):
    """One problem of an import input: ``location`` is a JSON path or ``file:line:column``."""

    location: str
    message: str


class ImportValidationError(InvalidInputError):
    """The import input had errors; ``errors`` lists every one; nothing was written."""

    errors: list[ImportIssue]


class ValidationIssue(NamedTuple):
    """One problem of a generated rule: group and rule in ``location``, the rule's ``field``."""

    location: str
    field: Optional[str]
    message: str


class RuleValidationError(InvalidInputError):
    """Generated rules failed validation (ours or promtool's); nothing was written."""

    issues: list[ValidationIssue]


class StalePlanError(ConflictError):
    """The inventory changed between ``plan_import`` and ``apply``: plan again."""


class RangeFullError(ConflictError):
    """The address range has no free address left."""


__all__ = [
    "IpocketError",
    "InvalidInputError",
    "NotFoundError",
    "ConflictError",
    "ForbiddenError",
    "UnauthorizedError",
    "TooLargeError",
    "UnavailableError",
    "InternalError",
    "ParseError",
    "ImportIssue",
    "ImportValidationError",
    "ValidationIssue",
    "RuleValidationError",
    "StalePlanError",
    "RangeFullError",
]
