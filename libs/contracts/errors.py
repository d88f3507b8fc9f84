"""Typed errors a service answers with; the gateway localises them by ``code``."""

from __future__ import annotations

from typing import Any, Literal

from libs.contracts.base import Contract

ErrorKind = Literal[
    "validation", "forbidden", "not_found", "conflict", "unauthorized", "rate_limited", "unavailable",
    "too_large", "unknown",
]


class ErrorBody(Contract):
    kind: ErrorKind
    code: str
    params: dict[str, Any] = {}


class DomainError(Exception):
    """Raised by deciders; carries what the user needs to know, never prose."""

    kind: ErrorKind = "validation"

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params

    def body(self) -> ErrorBody:
        return ErrorBody(kind=self.kind, code=self.code, params=self.params)


class Invalid(DomainError):
    kind = "validation"


class Forbidden(DomainError):
    kind = "forbidden"


class NotFound(DomainError):
    kind = "not_found"


class Conflict(DomainError):
    kind = "conflict"


class Unauthorized(DomainError):
    kind = "unauthorized"


class RateLimited(DomainError):
    """Too many attempts: the caller should wait ``retry_after_s`` seconds."""

    kind = "rate_limited"


class TooLarge(DomainError):
    """The input, or the event it would make, exceeds a size limit."""

    kind = "too_large"


class Unavailable(DomainError):
    """A passing cause (the bus, the store, a deadline): nothing was carried out."""

    kind = "unavailable"


class OutcomeUnknown(DomainError):
    """The request may or may not have been carried out (a time-out after it was sent)."""

    kind = "unknown"


ERRORS_BY_KIND: dict[str, type[DomainError]] = {
    c.kind: c for c in (Invalid, Forbidden, NotFound, Conflict, Unauthorized, RateLimited, TooLarge, Unavailable,
                        OutcomeUnknown)
}
