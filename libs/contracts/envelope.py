from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from libs.contracts.base import Contract

#: header carrying the event type, so routing needs no JSON parsing
EVENT_TYPE_HEADER = "Hr-Event-Type"
SCHEMA_VERSION_HEADER = "Hr-Schema-Version"
CORRELATION_HEADER = "Hr-Correlation-Id"


class Envelope(Contract):
    """What one message of the log holds.

    ``payload`` never carries personal data in clear: those fields travel in
    ``pii``, encrypted with the key of ``pii_subject`` (crypto-shredding).
    """

    event_id: UUID
    type: str
    schema_version: int = Field(ge=1)
    aggregate_id: str
    aggregate_version: int = Field(ge=1)
    occurred_at: datetime
    actor: str | None = None
    correlation_id: str
    causation_id: str | None = None
    payload: dict[str, Any]
    pii: str | None = None
    pii_subject: str | None = None


class Actor(Contract):
    """The verified caller, as the gateway passes it with every command."""

    id: str
    roles: tuple[str, ...] = ()

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_moderator(self) -> bool:
        return self.has("moderator", "admin")


SYSTEM_ACTOR = Actor(id="system", roles=("system",))
ANONYMOUS = Actor(id="anonymous", roles=())
