"""Credentials: password hashes, the e-mail index, token issue and rotation,
sign-in throttling.

The e-mail index (HMAC of the address -> member id, and member id -> that
HMAC, so an erasure can release the address knowing only the member) and
the refresh-token registry live in JetStream key-value buckets, outside the
log: uniqueness of an address needs an atomic create, and erasure must be
able to purge both. Failed sign-ins are counted per (e-mail, client
address) and per client address: a stranger who fails on an e-mail locks
only their own address out of it, never the member (docs/adr/0007).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from nats.js.errors import BadRequestError, KeyNotFoundError, KeyWrongLastSequenceError

from libs.contracts.errors import Conflict, RateLimited, Unauthorized
from libs.contracts.onboarding import Tokens
from libs.kit import auth

EMAILS_BUCKET = "hr_onboarding_emails"
REFRESH_BUCKET = "hr_onboarding_refresh"
FAILURES_BUCKET = "hr_onboarding_login_failures"
WRONG_LAST_SEQUENCE = 10071


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
        """Bind the buckets made by provisioning (libs/kit/provision.py)."""
        self._emails = await self._js.key_value(EMAILS_BUCKET)
        self._refresh = await self._js.key_value(REFRESH_BUCKET)
        self._failures = await self._js.key_value(FAILURES_BUCKET)

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

    def _hmac(self, value: str) -> str:
        secret = self._s.email_index_secret.get_secret_value().encode()
        return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()

    def email_key(self, email: str) -> str:
        return self._hmac(email.strip().lower())

    async def reserve_email(self, email: str, member_id: str) -> None:
        key = self.email_key(email)
        try:
            await self._emails.create(key, f"{member_id} {time.time():.3f}".encode())
        except KeyWrongLastSequenceError:
            raise Conflict("email_taken") from None
        await self._emails.put(f"member.{member_id}", key.encode())

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
        key = self.email_key(email)
        try:
            await self._emails.update(key, f"{member_id} {time.time():.3f}".encode(), last=revision)
        except KeyWrongLastSequenceError:
            raise Conflict("email_taken") from None
        await self._emails.put(f"member.{member_id}", key.encode())

    async def release_email(self, email: str) -> None:
        await self._emails.purge(self.email_key(email))

    async def release_member(self, member_id: str, email: str | None = None) -> None:
        """Free the address a member held, knowing only the member (an erasure finished later,
        after a crash, no longer has the address itself). Safe to repeat."""
        key = None
        try:
            entry = await self._emails.get(f"member.{member_id}")
            key = entry.value.decode() if entry.value else None
        except KeyNotFoundError:
            pass
        if key is None and email:
            key = self.email_key(email)  # registered before the reverse index existed
        if key is not None:
            try:
                holder = (await self._emails.get(key)).value or b""
            except KeyNotFoundError:
                holder = b""
            if holder.decode().partition(" ")[0] == member_id:
                await self._emails.purge(key)
        await self._emails.purge(f"member.{member_id}")

    async def member_by_email(self, email: str) -> str | None:
        held = await self.reservation(email)
        return held[0] if held else None

    # ------------------------------------------------------------ sign-in throttling

    def _failure_keys(self, email: str, address: str | None) -> tuple[str, str]:
        addr = self._hmac("address:" + (address or "unknown"))[:32]
        return f"p.{self.email_key(email)[:32]}.{addr}", f"a.{addr}"

    async def _failures_of(self, key: str) -> tuple[int, float, int | None]:
        """(failures, time of the last one, revision) of one key; a stale entry counts 0."""
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

    async def throttle_login(self, email: str, address: str | None) -> int:
        """Refuse a sign-in from an address locked out of this e-mail, or out of signing in at all;
        else return that address's recent failures on this e-mail."""
        pair, addr = self._failure_keys(email, address)
        for key, limit in ((pair, self._s.login_max_failures), (addr, self._s.login_max_failures_per_address)):
            count, at, _ = await self._failures_of(key)
            if count >= limit:
                retry_after_s = max(1, math.ceil(at + self._s.login_lock_s - time.time()))
                raise RateLimited("too_many_attempts", retry_after_s=retry_after_s)
            if key == pair:
                failures = count
        return failures

    async def _count(self, key: str) -> None:
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

    async def login_failed(self, email: str, address: str | None) -> None:
        for key in self._failure_keys(email, address):
            await self._count(key)

    async def login_succeeded(self, email: str, address: str | None) -> None:
        # the address's own count stays: one account of one's own must not reset a guessing run
        await self._failures.purge(self._failure_keys(email, address)[0])

    # ------------------------------------------------------------ tokens

    async def issue_tokens(self, member_id: str, roles: tuple[str, ...]) -> Tokens:
        key = self._s.token_private_key.get_secret_value()
        access, _ = auth.issue(key, member_id, roles, "access", self._s.access_ttl_s)
        refresh, claims = auth.issue(key, member_id, (), "refresh", self._s.refresh_ttl_s)
        await self._refresh.put(claims.jti, member_id.encode())
        return Tokens(access_token=access, refresh_token=refresh, expires_in=self._s.access_ttl_s)

    async def spend_refresh(self, token: str) -> str:
        """A refresh token works once: replaying it is refused."""
        try:
            claims = auth.verify(self._s.token_public_key, token, "refresh")
        except auth.InvalidToken:
            raise Unauthorized("invalid_token") from None
        try:
            entry = await self._refresh.get(claims.jti)
            if not entry.value:
                raise KeyNotFoundError
            await self._refresh.delete(claims.jti, last=entry.revision)
        except (KeyNotFoundError, KeyWrongLastSequenceError):
            raise Unauthorized("refresh_token_used") from None
        except BadRequestError as e:  # a delete racing another: the wrong-last-sequence comes as a plain 400
            if e.err_code != WRONG_LAST_SEQUENCE:
                raise
            raise Unauthorized("refresh_token_used") from None
        return claims.member_id
