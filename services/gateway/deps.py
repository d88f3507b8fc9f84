"""Dependencies of the routes: the verified actor and the bus client."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from libs.contracts.base import Command, Query
from libs.contracts.envelope import ANONYMOUS, Actor
from libs.contracts.errors import ErrorBody
from libs.kit import auth
from libs.kit.rpc import ServiceClient
from services.gateway.problems import Problem

bearer = HTTPBearer(auto_error=False, description="Access token from POST /v1/auth/token")
CONSISTENCY_HEADER = "X-Consistency-Token"


def _unauthorized(code: str) -> Problem:
    return Problem(ErrorBody(kind="unauthorized", code=code))


def current_actor(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Actor:
    if creds is None:
        raise _unauthorized("login_required")
    try:
        claims = auth.verify(request.app.state.settings.jwt_secret.get_secret_value(), creds.credentials, "access")
    except auth.InvalidToken:
        raise _unauthorized("invalid_token") from None
    return Actor(id=claims.member_id, roles=claims.roles)


class Bus:
    """Sends one request's commands and queries, carrying its correlation id and
    the client's consistency token, and handing back the new one."""

    def __init__(self, client: ServiceClient, actor: Actor, correlation_id: str, after_seq: int | None, response: Response):
        self.client = client
        self.actor = actor
        self.correlation_id = correlation_id
        self.after_seq = after_seq
        self.response = response

    async def command(self, service: str, command: Command) -> Any:
        reply = await self.client.command(service, command, self.actor, self.correlation_id)
        if not reply.ok:
            raise Problem(reply.error)
        if reply.seq:
            self.after_seq = max(self.after_seq or 0, reply.seq)
            self.response.headers[CONSISTENCY_HEADER] = str(self.after_seq)
        return reply.result

    async def query(self, service: str, query: Query) -> Any:
        reply = await self.client.query(service, query, self.actor, self.correlation_id, self.after_seq)
        if not reply.ok:
            raise Problem(reply.error)
        return reply.result


def _after_seq(token: str | None) -> int | None:
    try:
        return int(token) if token else None
    except ValueError:
        return None


def authenticated_bus(
    request: Request,
    response: Response,
    actor: Annotated[Actor, Depends(current_actor)],
    consistency: Annotated[str | None, Header(alias=CONSISTENCY_HEADER, include_in_schema=False)] = None,
) -> Bus:
    return Bus(request.app.state.client, actor, request.state.correlation_id, _after_seq(consistency), response)


def anonymous_bus(request: Request, response: Response) -> Bus:
    return Bus(request.app.state.client, ANONYMOUS, request.state.correlation_id, None, response)


AuthBus = Annotated[Bus, Depends(authenticated_bus)]
AnonBus = Annotated[Bus, Depends(anonymous_bus)]
