"""Commands and queries over NATS request/reply (DESIGN.md §3).

Server side: FastStream subscribers in a queue group, one per command or
query type. A handler never raises to the bus — the caller would only see a
time-out — it answers a typed error instead. Before a handler runs, the
server here establishes what the request may do:
- its deadline: an expired request is not carried out (its caller gave up
  and told its client the outcome is unknown), and nothing is appended
  after it (libs/kit/scope.py, libs/kit/eventstore.py);
- its actor: the forwarded token is verified and the actor resolved with
  current roles (libs/kit/actors.py);
- a repeat: a command with an Idempotency-Key records its answer for 24 h in
  the service's own bucket; the same key with the same body gets that
  answer and changes nothing more, with another body it is refused.
Client side: the gateway's way to send them.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import nats.errors
import structlog
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from opentelemetry import propagate
from pydantic import BaseModel, ValidationError

from libs.contracts.base import Command, Query
from libs.contracts.envelope import ANONYMOUS, Actor
from libs.contracts.errors import DomainError, ErrorBody, ErrorKind, Forbidden, Unauthorized
from libs.contracts.rpc import Reply, Request
from libs.contracts.subjects import command_subject, query_subject
from libs.kit import auth, scope
from libs.kit.logging import describe, get_logger

log = get_logger(__name__)

#: answers worth keeping for a repeat: what the same request would get again
DETERMINISTIC = frozenset({"validation", "forbidden", "not_found", "conflict", "unauthorized", "too_large"})
#: a recorded request still running is not taken over before its deadline plus this
TAKEOVER_GRACE_S = 5.0


@dataclass(frozen=True)
class Context:
    actor: Actor
    correlation_id: str
    after_seq: int | None = None
    client_address: str | None = None


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


def _error(kind: ErrorKind, code: str, **params: Any) -> Reply:
    return Reply(ok=False, error=ErrorBody(kind=kind, code=code, params=params))


class Server:
    """Serves one service's requests: ``token_public_key`` verifies tokens, ``resolve`` turns a member
    id into the current Actor (None: unknown or erased), ``records`` keeps repeatable answers."""

    def __init__(self, token_public_key: str, resolve: Callable[[str], Awaitable[Actor | None]], records=None):
        self._public_key = token_public_key
        self._resolve = resolve
        self._records = records

    async def serve(self, model: type[Command] | type[Query], handler: Callable[[Any, Context], Awaitable[Any]],
                    raw: Any) -> dict[str, Any]:
        """Run one request; always return a Reply as a dict."""
        try:
            if isinstance(raw, bytes | str):
                raw = json.loads(raw)
            request = Request.model_validate(raw)
        except (ValidationError, ValueError):
            return _error("validation", "malformed_request").model_dump(mode="json")
        with structlog.contextvars.bound_contextvars(correlation_id=request.correlation_id):
            started = time.perf_counter()
            reply, actor_id = await self._serve(model, handler, request)
            # no bodies in logs: they may hold personal data
            log.info("request_handled", request=model.type_name, actor=actor_id, ok=reply.ok,
                     error=reply.error.code if reply.error else None,
                     ms=round((time.perf_counter() - started) * 1000, 1))
        return reply.model_dump(mode="json")

    async def _serve(self, model, handler, request: Request) -> tuple[Reply, str | None]:
        if request.deadline is not None and time.time() >= request.deadline:
            return _error("unavailable", "deadline_exceeded"), None
        try:
            body = model.model_validate(request.body)
        except ValidationError as e:
            return Reply(ok=False, error=validation_error(e)), None
        # what the actor's resolution reads (onboarding: the member's aggregate) the command need not read again
        read: dict[str, int] = {}
        try:
            with scope.scoped(scope.Scope(deadline=request.deadline, read=read)):
                actor = await self._actor(request.token)
        except DomainError as e:
            return Reply(ok=False, error=e.body()), None
        ctx = Context(actor=actor, correlation_id=request.correlation_id, after_seq=request.after_seq,
                      client_address=request.client_address)
        if (request.idempotency_key and self._records is not None and issubclass(model, Command)
                and model.replayable):
            return await self._once(model, handler, body, ctx, request, read), actor.id
        with scope.scoped(scope.Scope(deadline=request.deadline, read=read)):
            return await self._handle(model, handler, body, ctx), actor.id

    async def _actor(self, token: str | None) -> Actor:
        if token is None:
            return ANONYMOUS
        try:
            claims = auth.verify(self._public_key, token, "access")
        except auth.InvalidToken:
            raise Unauthorized("invalid_token") from None
        actor = await self._resolve(claims.member_id)
        if actor is None:  # no such member, or erased: the token opens nothing
            raise Unauthorized("invalid_token")
        return actor

    async def _once(self, model, handler, body, ctx: Context, request: Request, read: dict[str, int]) -> Reply:
        key = hashlib.sha256(f"{ctx.actor.id}|{model.type_name}|{request.idempotency_key}".encode()).hexdigest()
        body_hash = hashlib.sha256(json.dumps(request.body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        pending = json.dumps({"state": "pending", "body": body_hash, "deadline": request.deadline}).encode()
        try:
            entry = await self._records.get(key)
        except KeyNotFoundError:
            entry = None
        try:
            if entry is None or not entry.value:
                await self._records.create(key, pending)
            else:
                recorded = json.loads(entry.value)
                if recorded["body"] != body_hash:
                    return _error("validation", "idempotency_key_reused")
                if recorded["state"] == "done":
                    return Reply.model_validate({**recorded["reply"], "replayed": True})
                if time.time() < (recorded.get("deadline") or 0) + TAKEOVER_GRACE_S:
                    return _error("conflict", "request_in_progress")
                # its executor died or gave up: this one carries it out (same event ids, libs/kit/scope.py)
                await self._records.update(key, pending, last=entry.revision)
        except KeyWrongLastSequenceError:
            return _error("conflict", "request_in_progress")
        with scope.scoped(scope.Scope(deadline=request.deadline, request_key=uuid.UUID(key[:32]), read=read)):
            reply = await self._handle(model, handler, body, ctx)
        if reply.ok or (reply.error is not None and reply.error.kind in DETERMINISTIC):
            await self._records.put(key, json.dumps({"state": "done", "body": body_hash,
                                                     "reply": reply.model_dump(mode="json")}).encode())
        else:  # not carried out, or not known to be: a repeat may run it (the same ids dedupe)
            await self._records.delete(key)
        return reply

    async def _handle(self, model, handler, body, ctx: Context) -> Reply:
        try:
            out = await handler(body, ctx)
        except DomainError as e:
            return Reply(ok=False, error=e.body())
        except ValidationError as e:
            return Reply(ok=False, error=validation_error(e))
        except Exception as e:  # noqa: BLE001 - answered, never raised to the bus (the caller would only time out)
            log.exception("handler_failed", request=model.type_name, error=describe(e))
            return _error("unavailable", "internal_error")
        seq, result = (out.seq, out.result) if isinstance(out, Done) else (None, out)
        if model.reply_model is not None:
            try:  # the declared reply, or no answer: the gateway and its OpenAPI trust this shape
                result = model.reply_model.model_validate(_dump(result))
            except ValidationError as e:
                log.error("reply_invalid", request=model.type_name, error=describe(e))
                return _error("unavailable", "internal_error")
        return Reply(ok=True, seq=seq, result=_dump(result))


class ServiceClient:
    """Sends commands and queries; used by the gateway and the admin tools."""

    def __init__(self, nc, timeout: float = 10.0):
        self._nc = nc
        self._timeout = timeout

    async def _call(self, subject: str, body: dict[str, Any], *, token: str | None, correlation_id: str,
                    after_seq: int | None = None, idempotency_key: str | None = None,
                    client_address: str | None = None, is_command: bool) -> Reply:
        deadline = time.time() + self._timeout
        request = Request(body=body, token=token, correlation_id=correlation_id, after_seq=after_seq,
                          deadline=deadline, idempotency_key=idempotency_key, client_address=client_address)
        headers: dict[str, str] = {"Hr-Correlation-Id": correlation_id}
        propagate.inject(headers)
        try:
            msg = await self._nc.request(subject, request.model_dump_json().encode(), timeout=self._timeout,
                                         headers=headers)
        except nats.errors.NoRespondersError:
            return _error("unavailable", "service_unavailable")
        except nats.errors.TimeoutError:
            # a query can simply be asked again; a command may have been carried out just before its deadline
            if is_command:
                return _error("unknown", "outcome_unknown")
            return _error("unavailable", "service_unavailable")
        return Reply.model_validate_json(msg.data)

    async def command(self, service: str, command: Command, *, token: str | None, correlation_id: str,
                      idempotency_key: str | None = None, client_address: str | None = None) -> Reply:
        return await self._call(command_subject(service, command.type_name), command.model_dump(mode="json"),
                                token=token, correlation_id=correlation_id, idempotency_key=idempotency_key,
                                client_address=client_address, is_command=True)

    async def query(self, service: str, query: Query, *, token: str | None, correlation_id: str,
                    after_seq: int | None = None) -> Reply:
        return await self._call(query_subject(service, query.type_name), query.model_dump(mode="json"),
                                token=token, correlation_id=correlation_id, after_seq=after_seq, is_command=False)


def signed_in(ctx: Context) -> None:
    """Refuse a caller nobody vouched for (a query or command that needs a person)."""
    if ctx.actor.id in ("anonymous", "system"):
        raise Unauthorized("login_required")


def community_member(ctx: Context, code: str = "calendar_members_only") -> None:
    """Refuse anyone but members of the community (the Main group: role ``member``), moderators and admins."""
    signed_in(ctx)
    if not (ctx.actor.has("member") or ctx.actor.is_moderator):
        raise Forbidden(code)
