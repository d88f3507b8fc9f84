"""Access and refresh tokens, signed with Ed25519 (EdDSA, DESIGN.md §2, §5).

Only onboarding holds the private key; the gateway and every service verify
with the public key, so no process but onboarding can mint a token. A token
proves who the caller is, not what they may do: services resolve the
actor's current roles themselves (libs/kit/actors.py), so a demotion or an
erasure takes effect on the next request, not when the token expires.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ISSUER = "hr-mnenie"
ALGORITHM = "EdDSA"

#: development only: known to everyone who reads this file, refused with HRM_ENV=production
DEV_PRIVATE_KEY = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIH2Qujgy/Qt4s08Rv4dOZlkGkgElwKMeWS+t1Ru4EzWe
-----END PRIVATE KEY-----
"""
DEV_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA0ess1Q9Pc+3mhCfwkbvBA3i7fobkHE+DLutoQ8JRfGg=
-----END PUBLIC KEY-----
"""


@dataclass(frozen=True)
class Claims:
    member_id: str
    roles: tuple[str, ...]
    kind: str
    jti: str
    expires_at: int


class InvalidToken(Exception):
    pass


@lru_cache(maxsize=8)
def private_key(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the token private key must be an Ed25519 key")
    return key


@lru_cache(maxsize=8)
def public_key(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the token public key must be an Ed25519 key")
    return key


def public_pem_of(private_pem: str) -> str:
    return private_key(private_pem).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def issue(private_pem: str, member_id: str, roles: tuple[str, ...], kind: str, ttl_s: int) -> tuple[str, Claims]:
    now = int(time.time())
    claims = Claims(member_id, tuple(roles), kind, uuid.uuid4().hex, now + ttl_s)
    token = jwt.encode(
        {"iss": ISSUER, "sub": member_id, "roles": list(roles), "typ": kind, "jti": claims.jti, "iat": now,
         "exp": claims.expires_at},
        private_key(private_pem),
        algorithm=ALGORITHM,
    )
    return token, claims


#: tokens already verified: every request is verified by the gateway and again by the service, and the
#: signature check was most of the cost of both (issue 18); the same bytes under the same key verify the
#: same way, so only the expiry is checked again
VERIFIED_KEPT = 4096
_verified: OrderedDict[tuple[str, str, str], Claims] = OrderedDict()


def verify(public_pem: str, token: str, kind: str) -> Claims:
    key = (public_pem, token, kind)
    claims = _verified.get(key)
    if claims is not None:
        if time.time() >= claims.expires_at:  # as PyJWT decides: valid while now < exp
            del _verified[key]
            raise InvalidToken("ExpiredSignatureError")
        _verified.move_to_end(key)
        return claims
    claims = _verify(public_pem, token, kind)
    _verified[key] = claims
    while len(_verified) > VERIFIED_KEPT:
        _verified.popitem(last=False)
    return claims


def _verify(public_pem: str, token: str, kind: str) -> Claims:
    try:
        data = jwt.decode(token, public_key(public_pem), algorithms=[ALGORITHM], issuer=ISSUER,
                          options={"require": ["exp", "sub", "jti"]})
    except jwt.PyJWTError as e:
        raise InvalidToken(type(e).__name__) from e
    if data.get("typ") != kind:
        raise InvalidToken("wrong token type")
    sub = data["sub"]
    if not isinstance(sub, str) or not sub:
        raise InvalidToken("no subject")
    return Claims(sub, tuple(data.get("roles", ())), kind, data["jti"], int(data["exp"]))
