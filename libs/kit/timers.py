"""Durable timers: what must happen at a time (an offer that expires, a pick window that opens).

A timer is declared with the events that set, move or cancel it: a projection keeps one document per
pending timer (its key and due time) in the service's own store — so timers are rebuilt from the log
like any read model and survive restarts — and a ticker, single-active among the replicas through a
lease of its own, fires those that are due (a range query on the due time), oldest first, and
removes each once its handler succeeded. A handler that fails stays due and is tried again on the
next tick (never skipped); it must be safe to repeat, as every policy is: derive the event ids of
what it appends from the timer's key and due time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from libs.kit.eventstore import Recorded
from libs.kit.lease import RENEW_S, Lease, keep
from libs.kit.logging import describe, get_logger
from libs.kit.tasks import cancel_and_wait

log = get_logger(__name__)

TICK_S = 1.0
FIRE_BATCH = 100


@dataclass(frozen=True)
class Due:
    """A timer to set (``at`` a time) or cancel (``at`` None), for the timer named by ``key``."""

    key: str
    at: datetime | None


@dataclass(frozen=True)
class Timer:
    name: str
    key: str
    at: datetime


@dataclass
class TimerSpec:
    name: str
    subjects: list[str]
    #: what an event does to the timers: a list of Due (empty: nothing)
    schedule: Callable[[Recorded], list[Due]]
    fire: Callable[[Timer], Awaitable[None]]

    @property
    def collection(self) -> str:
        return f"timers_{self.name}"


class Ticker:
    def __init__(self, svc, spec: TimerSpec, lease: Lease, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._svc = svc
        self.spec = spec
        self._lease = lease
        self._clock = clock
        self._task: asyncio.Task | None = None
        self._keeper: asyncio.Task | None = None
        self.fired = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"timer-{self.spec.name}")

    async def stop(self) -> None:
        for task in (self._task, self._keeper):
            await cancel_and_wait(task)
        self._task = self._keeper = None
        await self._lease.release()

    async def _lost(self) -> None:
        log.warning("timer_lease_lost", timer=self.spec.name)

    async def _loop(self) -> None:
        while True:
            if not self._lease.held:
                try:
                    acquired = await self._lease.acquire()
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # noqa: BLE001 - the lease store away (a stream leader killed): try again
                    # (the chaos suite saw it end this loop, and with it every e-mail of the outbox for good)
                    log.warning("timer_lease_unavailable", timer=self.spec.name, error=describe(e))
                    acquired = False
                if not acquired:
                    await asyncio.sleep(RENEW_S)
                    continue
                self._keeper = asyncio.create_task(keep(self._lease, self._lost))
            try:
                await self.fire_due()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - a passing cause: the timers stay due, the next tick tries again
                log.error("timers_failed", timer=self.spec.name, error=describe(e))
            await asyncio.sleep(TICK_S)

    async def fire_due(self) -> int:
        now = self._clock().isoformat()
        due = await self._svc.store.find(self.spec.collection, {"at": {"$lte": now}}, sort=[("at", 1)],
                                         limit=FIRE_BATCH)
        fired = 0
        for doc in due:
            timer = Timer(self.spec.name, doc["key"], datetime.fromisoformat(doc["at"]))
            await self.spec.fire(timer)  # a failure leaves this and the later ones due
            # removed only if not moved meanwhile, in one step of the store: the projection applying what the
            # handler appended (the timer moved to a later time) must not commit between a check and a delete,
            # which would remove the moved timer for good — an e-mail whose address could not be read yet never
            # retried
            await self._svc.store.delete_if(self.spec.collection, doc["key"], {"at": doc["at"]})
            fired += 1
            self.fired += 1
        return fired


def timer_projection(spec: TimerSpec):
    async def when_event_set_or_cancel_timers(rec: Recorded, view) -> None:
        for due in spec.schedule(rec):
            if due.at is None:
                await view.delete(spec.collection, due.key)
            else:
                at = due.at.astimezone(UTC).isoformat()
                await view.put(spec.collection, due.key, {"key": due.key, "at": at})

    when_event_set_or_cancel_timers.__name__ = f"when_event_set_timers_{spec.name}"
    return when_event_set_or_cancel_timers
