"""Single-active: of the replicas of a service, one applies each projection or policy, the others
stand by and take over within seconds when it dies (DESIGN.md §1, docs/adr/0012).

nats-py 2.16 cannot use JetStream's pinned-client priority groups, so a lease lives in the KV
bucket ``hr_leases``, whose entries expire LEASE_TTL_S after their last write: the holder renews
every RENEW_S; a standby tries to create the key every RENEW_S and wins once it has expired (at
once when the holder stopped cleanly and released it). The revision at which a holder acquired
the lease is its **fence**: a later holder's is greater, and every checkpoint is written with the
writer's fence, which the store refuses when older than the one it holds — so a holder that lost
its lease without knowing (paused, partitioned) cannot write over its successor.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time

from nats.js.errors import BadRequestError, KeyNotFoundError, KeyWrongLastSequenceError

LEASES_BUCKET = "hr_leases"
LEASE_TTL_S = 5.0
RENEW_S = 1.0


def holder_id() -> str:
    """This process, as the lease records its holder (operators and the chaos suite read it)."""
    return f"{socket.gethostname()}:{os.getpid()}"


#: JetStream's error code for an expected last sequence that is not the subject's last
WRONG_LAST_SEQUENCE = 10071


class Lease:
    def __init__(self, kv, name: str, holder: str | None = None):
        self._kv = kv
        self.name = name
        self.holder = holder or holder_id()
        #: the revision of our last write while we hold it; None while standing by
        self._revision: int | None = None
        #: the revision at which we acquired it: the fence of our checkpoint writes
        self.fence: int | None = None
        self._renewed_at = 0.0

    @property
    def held(self) -> bool:
        # past the time-to-live since our last renewal, someone else may hold it already
        return self._revision is not None and time.monotonic() - self._renewed_at < LEASE_TTL_S

    async def acquire(self) -> bool:
        try:
            revision = await self._kv.create(self.name, self.holder.encode())
        except KeyWrongLastSequenceError:
            return False
        self._revision = self.fence = revision
        self._renewed_at = time.monotonic()
        return True

    async def renew(self) -> bool:
        """False when it is no longer ours (expired and taken, or deleted)."""
        if self._revision is None:
            return False
        try:
            self._revision = await self._kv.update(self.name, self.holder.encode(), last=self._revision)
        except (KeyWrongLastSequenceError, KeyNotFoundError):
            self._revision = self.fence = None
            return False
        self._renewed_at = time.monotonic()
        return True

    def forget(self) -> None:
        """We learnt another holder has it (our fence was refused): stand by."""
        self._revision = self.fence = None

    async def release(self) -> None:
        """On a clean stop: the standby takes over at once instead of after the time-to-live."""
        if self._revision is not None:
            try:
                await self._kv.delete(self.name, last=self._revision)
            except (KeyWrongLastSequenceError, KeyNotFoundError):
                pass  # not ours any more: nothing to release
            except BadRequestError as e:
                # nats-py's delete(last=...) reports a stale revision as a bad request (10071, "wrong last
                # sequence"), where update() raises KeyWrongLastSequenceError: not ours any more either
                if e.err_code != WRONG_LAST_SEQUENCE:
                    raise
            finally:
                self._revision = self.fence = None

    async def holder_now(self) -> str | None:
        try:
            entry = await self._kv.get(self.name)
        except KeyNotFoundError:
            return None
        return entry.value.decode() if entry.value else None


async def keep(lease: Lease, on_lost) -> None:
    """Renew ``lease`` every RENEW_S while held; call ``on_lost`` once when it is lost."""
    while True:
        await asyncio.sleep(RENEW_S)
        try:
            ok = await lease.renew()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the bus away: the lease lapses if it stays away past the TTL
            ok = lease.held
        if not ok:
            await on_lost()
            return
