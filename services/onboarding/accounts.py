"""Credentials: password hashes, the e-mail index, token issue and rotation.

The e-mail index (HMAC of the address -> member id) and the refresh-token
registry live in JetStream key-value buckets, outside the log: uniqueness of
an address needs an atomic create, and erasure must be able to purge both.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError

from libs.contracts.errors import Conflict, Unauthorized
from libs.contracts.onboarding import Tokens
from libs.kit import auth

EMAILS_BUCKET = "hr_onboarding_emails"
REFRESH_BUCKET = "hr_onboarding_refresh"


async def _bucket(js, name: str, replicas: int, ttl: float | None = None):
    try:
        return await js.key_value(name)
    except BucketNotFoundError:
        return await js.create_key_value(
            KeyValueConfig(bucket=name, history=1, storage=StorageType.FILE, replicas=replicas, ttl=ttl)
        )


class Accounts:
    def __init__(self, settings, js):
        self._s = settings
        self._js = js
        self._hasher = PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib)
        self._emails = None
        self._refresh = None

    async def open(self) -> None:
        self._emails = await _bucket(self._js, EMAILS_BUCKET, self._s.stream_replicas)
        self._refresh = await _bucket(self._js, REFRESH_BUCKET, self._s.stream_replicas, ttl=float(self._s.refresh_ttl_s))

    # ------------------------------------------------------------ passwords

    async def hash_password(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify_password(self, password_hash: str | None, password: str) -> bool:
        if not password_hash:
            # spend the same time as a real check: no timing oracle for unknown e-mails
            await asyncio.to_thread(self._hasher.hash, password)
            return False
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    # ------------------------------------------------------------ e-mail index

    def email_key(self, email: str) -> str:
        secret = self._s.email_index_secret.get_secret_value().encode()
        return hmac.new(secret, email.strip().lower().encode(), hashlib.sha256).hexdigest()

    async def reserve_email(self, email: str, member_id: str) -> None:
        try:
            await self._emails.create(self.email_key(email), member_id.encode())
        except KeyWrongLastSequenceError:
            raise Conflict("email_taken") from None

    async def release_email(self, email: str) -> None:
        await self._emails.purge(self.email_key(email))

    async def member_by_email(self, email: str) -> str | None:
        try:
            entry = await self._emails.get(self.email_key(email))
        except KeyNotFoundError:
            return None
        return entry.value.decode() if entry.value else None

    # ------------------------------------------------------------ tokens

    async def issue_tokens(self, member_id: str, roles: tuple[str, ...]) -> Tokens:
        secret = self._s.jwt_secret
        access, _ = auth.issue(secret, member_id, roles, "access", self._s.access_ttl_s)
        refresh, claims = auth.issue(secret, member_id, (), "refresh", self._s.refresh_ttl_s)
        await self._refresh.put(claims.jti, member_id.encode())
        return Tokens(access_token=access, refresh_token=refresh, expires_in=self._s.access_ttl_s)

    async def spend_refresh(self, token: str) -> str:
        """A refresh token works once: replaying it is refused."""
        try:
            claims = auth.verify(self._s.jwt_secret, token, "refresh")
        except auth.InvalidToken:
            raise Unauthorized("invalid_token") from None
        try:
            entry = await self._refresh.get(claims.jti)
            if not entry.value:
                raise KeyNotFoundError
            await self._refresh.delete(claims.jti, last=entry.revision)
        except (KeyNotFoundError, KeyWrongLastSequenceError):
            raise Unauthorized("refresh_token_used") from None
        return claims.member_id
