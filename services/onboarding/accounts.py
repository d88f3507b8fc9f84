"""Credentials: password hashes, the e-mail index, token issue and rotation,
sign-in throttling.

The e-mail index (HMAC of the address -> member id) and the refresh-token
registry live in JetStream key-value buckets, outside the log: uniqueness of
an address needs an atomic create, and erasure must be able to purge both.
Failed sign-ins are counted per e-mail key in a third bucket whose TTL is the
lock time, so a counter forgets itself ``login_lock_s`` after its last failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError

from libs.contracts.errors import Conflict, RateLimited, Unauthorized
from libs.contracts.onboarding import Tokens
from libs.kit import auth

EMAILS_BUCKET = "hr_onboarding_emails"
REFRESH_BUCKET = "hr_onboarding_refresh"
FAILURES_BUCKET = "hr_onboarding_login_failures"


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
        # each hash takes argon2_memory_kib of RAM: a burst of sign-ins must not
        # multiply that past the container's limit
        self._hashing = asyncio.Semaphore(2)
        self._emails = None
        self._refresh = None
        self._failures = None

    async def open(self) -> None:
        self._emails = await _bucket(self._js, EMAILS_BUCKET, self._s.stream_replicas)
        self._refresh = await _bucket(self._js, REFRESH_BUCKET, self._s.stream_replicas, ttl=float(self._s.refresh_ttl_s))
        self._failures = await _bucket(self._js, FAILURES_BUCKET, self._s.stream_replicas, ttl=float(self._s.login_lock_s))

    # ------------------------------------------------------------ passwords

    async def hash_password(self, password: str) -> str:
        async with self._hashing:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify_password(self, password_hash: str | None, password: str) -> bool:
        if not password_hash:
            # spend the same time as a real check: no timing oracle for unknown e-mails
            async with self._hashing:
                await asyncio.to_thread(self._hasher.hash, password)
            return False
        try:
            async with self._hashing:
                return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    # ------------------------------------------------------------ e-mail index

    def email_key(self, email: str) -> str:
        secret = self._s.email_index_secret.get_secret_value().encode()
        return hmac.new(secret, email.strip().lower().encode(), hashlib.sha256).hexdigest()

    async def reserve_email(self, email: str, member_id: str) -> None:
        try:
            await self._emails.create(self.email_key(email), f"{member_id} {time.time():.3f}".encode())
        except KeyWrongLastSequenceError:
            raise Conflict("email_taken") from None

    async def reservation(self, email: str) -> tuple[str, float, int] | None:
        """(member id, reserved at, revision) of the address, or None when free."""
        try:
            entry = await self._emails.get(self.email_key(email))
        except KeyNotFoundError:
            return None
        if not entry.value:
            return None
        member_id, _, at = entry.value.decode().partition(" ")
        return member_id, float(at or 0), entry.revision

    async def take_over_email(self, email: str, member_id: str, revision: int) -> None:
        """Claim a reservation whose registration died; only one claimant wins."""
        try:
            await self._emails.update(self.email_key(email), f"{member_id} {time.time():.3f}".encode(), last=revision)
        except KeyWrongLastSequenceError:
            raise Conflict("email_taken") from None

    async def release_email(self, email: str) -> None:
        await self._emails.purge(self.email_key(email))
        await self._failures.purge(self.email_key(email))

    async def member_by_email(self, email: str) -> str | None:
        held = await self.reservation(email)
        return held[0] if held else None

    # ------------------------------------------------------------ sign-in throttling

    async def _failures_of(self, key: str) -> tuple[int, float, int | None]:
        """(failures, time of the last one, revision) of one e-mail key; a stale entry counts 0."""
        try:
            entry = await self._failures.get(key)
        except KeyNotFoundError:
            return 0, 0.0, None
        try:
            count, at = entry.value.decode().split(" ")
            count_, at_ = int(count), float(at)
        except (AttributeError, ValueError):  # a delete marker, or garbage
            return 0, 0.0, entry.revision
        if time.time() - at_ >= self._s.login_lock_s:
            return 0, 0.0, entry.revision
        return count_, at_, entry.revision

    async def throttle_login(self, email: str) -> int:
        """Refuse a sign-in while the e-mail is locked; else return its recent failures."""
        count, at, _ = await self._failures_of(self.email_key(email))
        if count >= self._s.login_max_failures:
            retry_after_s = max(1, math.ceil(at + self._s.login_lock_s - time.time()))
            raise RateLimited("too_many_attempts", retry_after_s=retry_after_s)
        return count

    async def login_failed(self, email: str) -> None:
        key = self.email_key(email)
        for _ in range(10):  # racing failures: compare-and-set, bounded
            count, _, revision = await self._failures_of(key)
            value = f"{count + 1} {time.time():.3f}".encode()
            try:
                if revision is None:
                    await self._failures.create(key, value)
                else:
                    await self._failures.update(key, value, last=revision)
                return
            except KeyWrongLastSequenceError:
                continue

    async def login_succeeded(self, email: str) -> None:
        await self._failures.purge(self.email_key(email))

    # ------------------------------------------------------------ tokens

    async def issue_tokens(self, member_id: str, roles: tuple[str, ...]) -> Tokens:
        secret = self._s.jwt_secret.get_secret_value()
        access, _ = auth.issue(secret, member_id, roles, "access", self._s.access_ttl_s)
        refresh, claims = auth.issue(secret, member_id, (), "refresh", self._s.refresh_ttl_s)
        await self._refresh.put(claims.jti, member_id.encode())
        return Tokens(access_token=access, refresh_token=refresh, expires_in=self._s.access_ttl_s)

    async def spend_refresh(self, token: str) -> str:
        """A refresh token works once: replaying it is refused."""
        try:
            claims = auth.verify(self._s.jwt_secret.get_secret_value(), token, "refresh")
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
