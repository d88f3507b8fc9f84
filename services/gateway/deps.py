"""Dependencies of the routes: the verified caller and the bus client.

All ``async def``: FastAPI runs a plain ``def`` dependency in the thread pool, a hand-off per dependency per
request that took about a third of the gateway's time under load; none of these waits on anything."""

from __future__ import annotations

import hmac
import ipaddress
import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from libs.contracts.base import Command, Query
from libs.contracts.errors import ErrorBody
from libs.contracts.rpc import IDEMPOTENCY_KEY_PATTERN
from libs.contracts.types import UUID_RE
from libs.kit import auth
from libs.kit.rpc import ServiceClient
from services.gateway.problems import Problem

bearer = HTTPBearer(auto_error=False, description="Access token from POST /v1/auth/token")
CONSISTENCY_HEADER = "X-Consistency-Token"
REPLAYED_HEADER = "Idempotent-Replayed"
FORWARDED_SECRET_HEADER = "x-hrm-forwarded-secret"


def _unauthorized(code: str) -> Problem:
    return Problem(ErrorBody(kind="unauthorized", code=code))


def _unknown() -> ErrorBody:
    return ErrorBody(kind="unavailable", code="internal_error")


class Caller:
    """A verified access token: who, for the routes that need the id. What they may do is
    decided by the services, with the member's current roles."""

    def __init__(self, token: str, claims: auth.Claims):
        self.token = token
        self.id = claims.member_id


async def current_caller(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Caller:
    if creds is None:
        raise _unauthorized("login_required")
    try:
        claims = auth.verify(request.app.state.settings.token_public_key, creds.credentials, "access")
    except auth.InvalidToken:
        raise _unauthorized("invalid_token") from None
    return Caller(creds.credentials, claims)


def correlation_id(scope) -> str:
    """The client's own when it is a UUID (it is copied into every event), a new one otherwise."""
    given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-correlation-id"), "")
    return given.lower() if UUID_RE.match(given) else str(uuid.uuid4())


def client_address(request: Request) -> str | None:
    """The peer's address; the web client's forwarded one only when it proves itself with the shared secret."""
    settings = request.app.state.settings
    forwarded = request.headers.get("x-forwarded-for")
    secret = request.headers.get(FORWARDED_SECRET_HEADER)
    if forwarded and secret and settings.forwarded_secret is not None and hmac.compare_digest(
            secret.encode(), settings.forwarded_secret.get_secret_value().encode()):
        candidate = forwarded.split(",")[0].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
    return request.client.host if request.client else None


class Bus:
    """Sends one request's commands and queries, carrying the caller's token, its correlation id,
    its deadline and Idempotency-Key, and the client's consistency token, handing back the new one."""

    def __init__(self, client: ServiceClient, caller: Caller | None, correlation_id: str, after_seq: int | None,
                 response: Response, idempotency_key: str | None = None, address: str | None = None):
        self.client = client
        self.caller = caller
        self.correlation_id = correlation_id
        self.after_seq = after_seq
        self.response = response
        self.idempotency_key = idempotency_key
        self.address = address

    @property
    def token(self) -> str | None:
        return self.caller.token if self.caller else None

    @property
    def member_id(self) -> str:
        assert self.caller is not None
        return self.caller.id

    async def command(self, service: str, command: Command) -> Any:
        reply = await self.client.command(service, command, token=self.token, correlation_id=self.correlation_id,
                                          idempotency_key=self.idempotency_key, client_address=self.address)
        if reply.replayed:
            self.response.headers[REPLAYED_HEADER] = "true"
        if not reply.ok:
            raise Problem(reply.error or _unknown())
        if reply.seq:
            self.after_seq = max(self.after_seq or 0, reply.seq)
            self.response.headers[CONSISTENCY_HEADER] = str(self.after_seq)
        return reply.result

    async def query(self, service: str, query: Query) -> Any:
        reply = await self.client.query(service, query, token=self.token, correlation_id=self.correlation_id,
                                        after_seq=self.after_seq)
        if not reply.ok:
            raise Problem(reply.error or _unknown())
        return reply.result


def _after_seq(token: str | None) -> int | None:
    try:
        value = int(token) if token and len(token) <= 20 else None
    except ValueError:
        return None
    return value if value is not None and value >= 0 else None


Consistency = Annotated[str | None, Header(alias=CONSISTENCY_HEADER, include_in_schema=False)]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN,
    description="Send the same key again (same body) and get the first answer: nothing is done twice; "
                "another body with the same key is refused (422). Answers are kept 24 h.")]


async def authenticated_bus(request: Request, response: Response, caller: Annotated[Caller, Depends(current_caller)],
                      consistency: Consistency = None) -> Bus:
    return Bus(request.app.state.client, caller, request.state.correlation_id, _after_seq(consistency), response)


async def authenticated_command_bus(request: Request, response: Response,
                              caller: Annotated[Caller, Depends(current_caller)],
                              idempotency_key: IdempotencyKey = None) -> Bus:
    return Bus(request.app.state.client, caller, request.state.correlation_id, None, response, idempotency_key,
               client_address(request))


async def anonymous_bus(request: Request, response: Response) -> Bus:
    return Bus(request.app.state.client, None, request.state.correlation_id, None, response)


async def anonymous_command_bus(request: Request, response: Response, idempotency_key: IdempotencyKey = None) -> Bus:
    return Bus(request.app.state.client, None, request.state.correlation_id, None, response, idempotency_key,
               client_address(request))


AuthBus = Annotated[Bus, Depends(authenticated_bus)]
AuthCommandBus = Annotated[Bus, Depends(authenticated_command_bus)]
AnonBus = Annotated[Bus, Depends(anonymous_bus)]
AnonCommandBus = Annotated[Bus, Depends(anonymous_command_bus)]
