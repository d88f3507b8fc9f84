"""Access and refresh tokens: issued by onboarding, verified by the gateway."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

ISSUER = "hr-mnenie"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class Claims:
    member_id: str
    roles: tuple[str, ...]
    kind: str
    jti: str
    expires_at: int


class InvalidToken(Exception):
    pass


def issue(secret: str, member_id: str, roles: tuple[str, ...], kind: str, ttl_s: int) -> tuple[str, Claims]:
    now = int(time.time())
    claims = Claims(member_id, tuple(roles), kind, uuid.uuid4().hex, now + ttl_s)
    token = jwt.encode(
        {"iss": ISSUER, "sub": member_id, "roles": list(roles), "typ": kind, "jti": claims.jti, "iat": now,
         "exp": claims.expires_at},
        secret,
        algorithm=ALGORITHM,
    )
    return token, claims


def verify(secret: str, token: str, kind: str) -> Claims:
    try:
        data = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub", "jti"]})
    except jwt.PyJWTError as e:
        raise InvalidToken(str(e)) from e
    if data.get("typ") != kind:
        raise InvalidToken("wrong token type")
    return Claims(data["sub"], tuple(data.get("roles", ())), kind, data["jti"], int(data["exp"]))
