"""What travels on hr.cmd.* and hr.qry.*: one request shape, one reply shape."""

from __future__ import annotations

from typing import Any

from libs.contracts.base import Contract
from libs.contracts.envelope import Actor
from libs.contracts.errors import ErrorBody


class Request(Contract):
    body: dict[str, Any]
    actor: Actor
    correlation_id: str
    #: read-your-writes: the query waits until the service has applied this sequence
    after_seq: int | None = None


class Reply(Contract):
    ok: bool
    #: stream sequence of the last event a command appended (consistency token)
    seq: int | None = None
    result: Any = None
    error: ErrorBody | None = None
