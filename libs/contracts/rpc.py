"""What travels on hr.cmd.* and hr.qry.*: one request shape, one reply shape."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from libs.contracts.base import Contract
from libs.contracts.errors import ErrorBody
from libs.contracts.types import UUID_PATTERN

#: an Idempotency-Key as a client may send it
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_.:\-]{1,128}$"


class Request(Contract):
    body: dict[str, Any]
    #: the caller's access token, forwarded as the gateway received it: the service verifies it
    #: and resolves the actor's current roles itself (None: anonymous)
    token: str | None = Field(default=None, max_length=4096)
    correlation_id: str = Field(pattern=UUID_PATTERN)
    #: read-your-writes: the query waits until the service has applied this sequence
    after_seq: int | None = Field(default=None, ge=0)
    #: Unix time after which the request must not be carried out (the caller has given up)
    deadline: float | None = None
    #: the client's Idempotency-Key: a repeat gets the first answer and changes nothing more
    idempotency_key: str | None = Field(default=None, pattern=IDEMPOTENCY_KEY_PATTERN)
    #: the client's network address as the gateway established it (sign-in throttling)
    client_address: str | None = Field(default=None, max_length=64)


class Reply(Contract):
    ok: bool
    #: stream sequence of the last event a command appended (consistency token)
    seq: int | None = None
    result: Any = None
    error: ErrorBody | None = None
    #: the answer recorded for an earlier request with the same Idempotency-Key
    replayed: bool = False
