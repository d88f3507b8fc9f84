"""Commands and queries over NATS request/reply (DESIGN.md §3).

Server side: FastStream subscribers in a queue group, one per command or
query type. A handler never raises to the bus — the caller would only see a
time-out — it answers a typed error instead.
Client side: the gateway's way to send them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import nats.errors
import structlog
from opentelemetry import propagate
from pydantic import BaseModel, ValidationError

from libs.contracts.base import Command, Query
from libs.contracts.envelope import Actor
from libs.contracts.errors import DomainError, ErrorBody
from libs.contracts.rpc import Reply, Request
from libs.contracts.subjects import command_subject, query_subject
from libs.kit.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Context:
    actor: Actor
    correlation_id: str
    after_seq: int | None = None


@dataclass(frozen=True)
class Done:
    """What a command handler returns: the consistency token and a result."""

    seq: int | None = None
    result: Any = None


def validation_error(e: ValidationError) -> ErrorBody:
    fields = [
        {"field": ".".join(str(p) for p in err["loc"]), "type": err["type"]}
        for err in e.errors(include_url=False, include_context=False, include_input=False)
    ]
    return ErrorBody(kind="validation", code="invalid_fields", params={"fields": fields})


def _dump(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if isinstance(result, list):
        return [_dump(r) for r in result]
    return result


async def serve(
    model: type[Command] | type[Query],
    handler: Callable[[Any, Context], Awaitable[Any]],
    raw: Any,
) -> dict[str, Any]:
    """Run one request; always return a Reply as a dict."""
    try:
        if isinstance(raw, bytes | str):
            raw = json.loads(raw)
        request = Request.model_validate(raw)
        body = model.model_validate(request.body)
    except (ValidationError, ValueError) as e:
        error = validation_error(e) if isinstance(e, ValidationError) else ErrorBody(kind="validation", code="malformed_request")
        return Reply(ok=False, error=error).model_dump(mode="json")
    ctx = Context(actor=request.actor, correlation_id=request.correlation_id, after_seq=request.after_seq)
    with structlog.contextvars.bound_contextvars(correlation_id=ctx.correlation_id):
        started = time.perf_counter()
        reply = await _handle(model, handler, body, ctx)
        # no bodies in logs: they may hold personal data
        log.info("request_handled", request=model.type_name, actor=ctx.actor.id, ok=reply.ok,
                 error=reply.error.code if reply.error else None, ms=round((time.perf_counter() - started) * 1000, 1))
    return reply.model_dump(mode="json")


async def _handle(model, handler, body, ctx: Context) -> Reply:
    try:
        out = await handler(body, ctx)
    except DomainError as e:
        return Reply(ok=False, error=e.body())
    except ValidationError as e:
        return Reply(ok=False, error=validation_error(e))
    except Exception:
        log.exception("handler_failed", request=model.type_name)
        return Reply(ok=False, error=ErrorBody(kind="unavailable", code="internal_error"))
    if isinstance(out, Done):
        return Reply(ok=True, seq=out.seq, result=_dump(out.result))
    return Reply(ok=True, result=_dump(out))


class ServiceClient:
    """Sends commands and queries; used by the gateway and the admin tools."""

    def __init__(self, nc, timeout: float = 10.0):
        self._nc = nc
        self._timeout = timeout

    async def _call(self, subject: str, body: dict[str, Any], actor: Actor, correlation_id: str, after_seq: int | None) -> Reply:
        request = Request(body=body, actor=actor, correlation_id=correlation_id, after_seq=after_seq)
        headers: dict[str, str] = {"Hr-Correlation-Id": correlation_id}
        propagate.inject(headers)
        try:
            msg = await self._nc.request(subject, request.model_dump_json().encode(), timeout=self._timeout, headers=headers)
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
            return Reply(ok=False, error=ErrorBody(kind="unavailable", code="service_unavailable", params={"subject": subject}))
        return Reply.model_validate_json(msg.data)

    async def command(self, service: str, command: Command, actor: Actor, correlation_id: str) -> Reply:
        return await self._call(
            command_subject(service, command.type_name), command.model_dump(mode="json"), actor, correlation_id, None
        )

    async def query(
        self, service: str, query: Query, actor: Actor, correlation_id: str, after_seq: int | None = None
    ) -> Reply:
        return await self._call(
            query_subject(service, query.type_name), query.model_dump(mode="json"), actor, correlation_id, after_seq
        )
