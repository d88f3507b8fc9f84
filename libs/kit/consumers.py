"""Projection and policy runners: durable pull consumers on the event log.

Why not FastStream subscribers here: a projection needs explicit control of
batching (one store transaction per batch), of its checkpoint, and of a
rebuild from sequence 1 on demand — see docs/adr/0003-consumers.md.

Guarantees (DESIGN.md §2):
- a message is acknowledged only after its effect is stored (and, for a
  projection, after the checkpoint that records it);
- a redelivered event at or below the checkpoint changes nothing;
- an event that can never be applied — a closed list: it cannot be decoded
  or decrypted, its type is unknown, its payload invalid, it is oversized —
  goes to the dead-letter stream with its reason, and the consumer goes on;
- any other failure is a passing cause (disk full, database locked, the bus
  away, a bug fixed by the next deploy): the same event is retried with
  back-off, without limit, never dead-lettered, never skipped; meanwhile the
  consumer reports itself stalled, with the reason, and readiness fails.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import nats.errors
import structlog
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry import propagate, trace
from pydantic import ValidationError

from libs.contracts.base import Event
from libs.contracts.envelope import EVENT_TYPE_HEADER
from libs.contracts.registry import EVENT_TYPES, UnknownEvent, UnsupportedVersion
from libs.contracts.subjects import DEADLETTER_STREAM, EVENTS_STREAM, deadletter_subject
from libs.kit.direct import DirectReader
from libs.kit.docstore.port import DocumentStore, Fenced
from libs.kit.eventstore import MAX_MESSAGE_BYTES, EventStorePort, Recorded
from libs.kit.lease import RENEW_S, keep
from libs.kit.logging import describe, get_logger
from libs.kit.pii import Undecryptable
from libs.kit.projection import View, Written
from libs.kit.pull import Deliveries, stream_seq
from libs.kit.tasks import cancel_and_wait

log = get_logger(__name__)
tracer = trace.get_tracer("hr.kit.consumers")

#: a policy's handler takes the event; a projection's the event and its View of the store
Handler = Callable[..., Awaitable[None]]

#: a read-your-writes waiter is woken by the runner after each batch; this is
#: only the fallback re-check, e.g. for acks still in flight when it last asked the server
RECHECK_S = 0.005
#: a rebuild applies this many batches at once (the live loop one; 8 measured faster than 4 and as fast as 16);
#: a pull request asks for as many, and twice
#: that is the bound of unacknowledged deliveries (the batch being applied and the one on its way)
REBUILD_BATCHES = 8
#: the first pause after a failure; doubled on each attempt up to the setting's maximum
FIRST_BACKOFF_S = 0.2
#: past events it does not apply, a consumer stores its checkpoint at most this often (a write per event
#: was most of what passing one cost): a restart passes over at most that much again
PASSED_STORE_EVERY_S = 1.0
#: acknowledgements are flow control only (the stored checkpoint says what is applied): one is sent for
#: everything applied or passed over so far at most this often, or at once past ACK_AT_MOST messages
#: (docs/adr/0030). Under load, every event of a subject reached every consumer of it and was acknowledged
#: alone — a write by the service and one more message for the server each time
ACK_EVERY_S = 0.05
ACK_AT_MOST = 256
#: a consumer's deliveries gather this long after each delivery and come in one burst (libs/kit/pull.py,
#: docs/adr/0038): under load most of what reaches a consumer it passes over, and each delivery woke the
#: server, the socket and the runner. Whoever waits for a consumer (read-your-writes, an actor's
#: resolution, a policy waiting for its views) cuts the pause short (``wait_caught_up``)
LINGER_S = 0.05
#: a batch gives the event loop's thread up between its events once it has held it this long (docs/adr/0042):
#: on SQLite nothing in a batch waits, so a batch ran as one step of 8–40 ms under load, and every request of
#: the same process that came meanwhile waited behind it
SLICE_S = 0.003


class Malformed(Exception):
    """The closed list of reasons an event can never be applied."""


class NotActive(Exception):
    """A replica standing by was asked to do what only the active one does (rebuild)."""


@dataclass
class Consumer:
    """A projection (writes read models) or a policy (sends commands)."""

    name: str
    #: one filter subject: the consumer is created with it in the API subject, which NATS
    #: permissions can pin (a list of filters could not be)
    subjects: list[str]
    handle: Handler
    kind: str = "projection"
    #: collections a rebuild drops (projections only)
    collections: list[str] = field(default_factory=list)
    batch: int = 256
    #: the shape of a projection's documents: raised when a new release writes them differently, so
    #: that the read models an earlier one wrote are rebuilt from the log (``Runner._resume``)
    version: int = 1
    #: a policy's store writes are applied atomically with its checkpoint (a store transaction around
    #: it); False for a policy that writes only to the log and waits for projections (``Service.policy``)
    atomic: bool = True
    #: the event types it applies (None: every one its subject carries). The others it passes over
    #: reading only their type: no decryption, no span, no handler (docs/adr/0027)
    types: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if len(self.subjects) != 1:
            raise ValueError(f"consumer {self.name}: exactly one filter subject (use a wildcard), got {self.subjects}")
        if self.types is not None:
            unknown = sorted(set(self.types) - set(EVENT_TYPES))
            if unknown or not self.types:
                raise ValueError(f"consumer {self.name}: declares no event type or unknown ones: {unknown}")

    def passes_over(self, data: bytes, headers: dict[str, str] | None = None) -> bool:
        """Whether the message is an event of a known type this consumer does not apply. Anything
        else — a type it applies, a message that cannot be read, an unknown type — goes the whole
        way, where what can never be applied is dead-lettered. The type is read from the header the
        event store writes beside the envelope (only the service that owns a subject publishes on it),
        else from the envelope: decoding a member's event (1.4 KB) to read its type took 7 µs, and a
        profile save reaches 18 consumers, most of which only pass it over."""
        if self.types is None or len(data) > MAX_MESSAGE_BYTES:
            return False
        kind = headers.get(EVENT_TYPE_HEADER) if headers else None
        if kind is None:
            try:
                kind = json.loads(data).get("type")
            except (ValueError, UnicodeDecodeError, AttributeError):
                return False
        return isinstance(kind, str) and kind in EVENT_TYPES and kind not in self.types

    @property
    def subject(self) -> str:
        return self.subjects[0]


def type_names(types: tuple[type[Event], ...] | None) -> frozenset[str] | None:
    """The names of these types and of every registered subclass (``case FileStored()`` takes a
    ``FileVersionAdded`` too), and of every event that erases a person: whoever applies one scrubs the
    store's files after it (``Runner._commit``), so none is passed over."""
    if types is None:
        return None
    return frozenset(name for name, cls in EVENT_TYPES.items() if issubclass(cls, types) or cls.erases)


def covers(pattern: str, subject: str) -> bool:
    """Whether a NATS subject filter (``*`` one token, ``>`` the rest) takes ``subject``."""
    tokens, parts = pattern.split("."), subject.split(".")
    for i, token in enumerate(tokens):
        if token == ">":
            return len(parts) > i
        if i >= len(parts) or token not in ("*", parts[i]):
            return False
    return len(tokens) == len(parts)


class Runner:
    def __init__(
        self,
        service: str,
        consumer: Consumer,
        nc,
        events: EventStorePort,
        store: DocumentStore,
        *,
        max_backoff_s: float = 10.0,
        lease=None,
    ):
        """``lease`` (libs/kit/lease.py): run single-active among replicas; None: this process alone."""
        self.service = service
        self.c = consumer
        self._nc = nc
        self._js = nc.jetstream()
        self._events = events
        self._store = store
        self._max_backoff_s = max_backoff_s
        self.durable = f"{service}_{consumer.name}"
        self.checkpoint = 0
        self.rebuilding: dict | None = None
        #: set while a passing cause holds the consumer at one event: {reason, seq, since, attempts}
        self.stall: dict | None = None
        self._task: asyncio.Task | None = None
        self._sub = None
        self._stopping = False
        #: set (and replaced) after every fetched batch: wakes read-your-writes waiters
        self._progress = asyncio.Event()
        self._lease = lease
        self._keeper: asyncio.Task | None = None
        #: when the checkpoint was last stored (monotonic): see ``_pass``
        self._stored_at = 0.0
        #: the last message processed and not yet acknowledged, how many are, since when (``_acknowledge``)
        self._unacked = None
        self._unacked_n = 0
        self._unacked_since = 0.0
        #: what a replay from its own drop of the collections has written so far (``Written``); None otherwise
        self._written: Written | None = None
        #: since when the batch being applied has held the event loop's thread (``_share_the_loop``)
        self._slice_since = 0.0

    @property
    def active(self) -> bool:
        """This replica applies the events (alone, or holding the lease); else it stands by."""
        return self._lease is None or self._lease.held

    @property
    def fence(self) -> int:
        return (self._lease.fence or 0) if self._lease is not None else 0

    @property
    def checkpoint_name(self) -> str:
        return f"{self.c.kind}:{self.c.name}"

    @property
    def version_name(self) -> str:
        """Where the version of the stored read models is kept: beside the checkpoints, written in the
        same transaction as the drop that starts them over."""
        return f"version:{self.checkpoint_name}"

    async def _resume(self) -> None:
        """Take up the stored checkpoint, unless the read models were written by another version of
        the projection: then drop them and start over from the log's first event, so that no document
        of the old shape outlives the upgrade. A store written before versions were kept holds
        version 1. Only the active replica calls this (it writes)."""
        self.checkpoint = await self._store.get_checkpoint(self.checkpoint_name)
        if self.c.kind != "projection":
            return
        stored = await self._store.get_checkpoint(self.version_name) or 1
        if stored == self.c.version:
            return
        async with self._store.batch():
            await self._store.set_checkpoint(self.checkpoint_name, 0, self.fence)
            for coll in self.c.collections:
                await self._store.drop(coll)
            await self._store.set_checkpoint(self.version_name, self.c.version, self.fence)
        self._written = Written(self.c.collections)
        log.info("projection_upgraded", consumer=self.durable, stored=stored, version=self.c.version,
                 dropped_at=self.checkpoint)
        if self.checkpoint:
            self.rebuilding = {"target_seq": await self._events.last_seq(), "started_at": time.time()}
        self.checkpoint = 0

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._lease is None:
            await self._resume()
            await self._subscribe()
        else:  # standing by until the lease is won: read, never write
            self.checkpoint = await self._store.get_checkpoint(self.checkpoint_name)
        self._stopping = False
        self._task = asyncio.create_task(self._supervised(), name=self.durable)

    async def _supervised(self) -> None:
        """The loop never dies quietly: what escapes it is logged and the loop starts over from the
        checkpoint (a consumer that stopped for good would leave every later event unapplied)."""
        failures = 0
        while not self._stopping:
            try:
                await self._loop()
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - logged, then started again: nothing skipped
                failures += 1
                log.error("consumer_loop_failed", consumer=self.durable, attempt=failures, error=describe(e))
                self._stalled(f"cannot read the log: {describe(e)}", self.checkpoint + 1, failures)
                await self._drop_subscription()
                await cancel_and_wait(self._keeper)  # a keeper left renewing would hold the lease for ever
                self._keeper = None
                if self._lease is not None:
                    self._lease.forget()  # take it over afresh (it lapses after its time-to-live)
                await asyncio.sleep(self._backoff(failures))

    async def _take_over_or_stand_by(self) -> bool:
        """Standing by: try for the lease; on winning it, start from the stored checkpoint (the previous
        holder's last word) with a consumer made afresh, which evicts whatever the old holder pulled."""
        try:
            won = await self._lease.acquire()
        except (TimeoutError, nats.errors.Error) as e:
            log.warning("lease_unavailable", consumer=self.durable, error=describe(e))
            won = False
        if not won:
            await asyncio.sleep(RENEW_S)
            return False
        try:
            await self._resume()
            await self._subscribe()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - the bus mid-election: give the lease back, try again
            log.warning("take_over_failed", consumer=self.durable, error=describe(e))
            await self._drop_subscription()
            try:
                await self._lease.release()
            except (TimeoutError, nats.errors.Error):
                self._lease.forget()  # it lapses after its time-to-live
            await asyncio.sleep(RENEW_S)
            return False
        self._keeper = asyncio.create_task(keep(self._lease, self._lost), name=f"{self.durable}-lease")
        log.info("took_over", consumer=self.durable, checkpoint=self.checkpoint, fence=self.fence)
        return True

    async def _lost(self) -> None:
        log.warning("lease_lost", consumer=self.durable, checkpoint=self.checkpoint)

    async def _step_down(self) -> None:
        await cancel_and_wait(self._keeper)
        self._keeper = None
        await self._drop_subscription()

    async def _subscribe(self) -> None:
        """(Re)create the durable consumer at the first event after the checkpoint.

        Never resume an existing consumer as it is: events it delivered to a
        process that died (or to a batch that failed) before they were applied
        stay unacknowledged and come back only after ack_wait, behind newer
        ones; by then the checkpoint has passed them and they would be skipped
        as already applied. Starting over from the checkpoint keeps the order.
        """
        # acks are flow control only — the stored checkpoint says what is
        # applied — so one ack per batch (AckPolicy.ALL) is enough
        config = ConsumerConfig(
            name=self.durable,
            durable_name=self.durable,
            ack_policy=AckPolicy.ALL,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE if self.checkpoint else DeliverPolicy.ALL,
            opt_start_seq=self.checkpoint + 1 if self.checkpoint else None,
            filter_subject=self.c.subject,
            ack_wait=60,
            max_ack_pending=self.c.batch * REBUILD_BATCHES * 2,
        )
        if await self._exists():
            await self._js.delete_consumer(EVENTS_STREAM, self.durable)
        await self._js.add_consumer(EVENTS_STREAM, config)
        self._sub = await Deliveries(self._nc, EVENTS_STREAM, self.durable, self.c.batch * REBUILD_BATCHES,
                                     linger_s=LINGER_S).open()

    async def _drop_subscription(self) -> None:
        self._unacked, self._unacked_n = None, 0  # the consumer's next deliveries start over from the checkpoint
        # past a step-down, a lost lease or a failure, another replica may have written meanwhile
        self._written = None
        if self._sub:
            sub, self._sub = self._sub, None
            try:
                await sub.close()
            except (TimeoutError, nats.errors.Error) as e:
                # the connection is gone: so is the subscription
                log.info("unsubscribe_failed", consumer=self.durable, error=describe(e))

    async def _rewind(self) -> None:
        """Start over from the checkpoint: what was delivered but not applied comes again, in order."""
        await self._drop_subscription()
        await self._subscribe()

    async def _exists(self) -> bool:
        try:
            await self._js.consumer_info(EVENTS_STREAM, self.durable)
            return True
        except NotFoundError:
            return False

    async def stop(self) -> None:
        await self._pause()
        await self._step_down()
        if self._lease is not None:
            try:
                await self._lease.release()  # the standby takes over at once
            except (TimeoutError, nats.errors.Error) as e:
                log.info("lease_not_released", consumer=self.durable, error=describe(e))

    async def rebuild(self) -> dict:
        """Drop the read models and replay the whole log into them."""
        if self.c.kind != "projection":
            raise ValueError("only projections can be rebuilt")
        if not self.active:
            raise NotActive(self.durable)
        await self._pause()
        try:
            await self._js.delete_consumer(EVENTS_STREAM, self.durable)
        except NotFoundError:
            pass
        async with self._store.batch():
            # the checkpoint first: a crash half-way replays over what is left
            # instead of leaving dropped documents behind a stale checkpoint
            await self._store.set_checkpoint(self.checkpoint_name, 0, self.fence)
            for coll in self.c.collections:
                await self._store.drop(coll)
        self._written = Written(self.c.collections)
        total = await self._events.last_seq()
        self.rebuilding = {"target_seq": total, "started_at": time.time()}
        self.checkpoint = 0
        await self._subscribe()
        self._stopping = False
        self._task = asyncio.create_task(self._supervised(), name=self.durable)
        return {"projection": self.c.name, "target_seq": total}

    async def _pause(self) -> None:
        """Stop applying without giving up the lease (a rebuild keeps it)."""
        self._stopping = True
        await cancel_and_wait(self._task)
        self._task = None
        await self._drop_subscription()

    # ------------------------------------------------------------ dead letters

    async def deadletters(self) -> int:
        info = await self._js.stream_info(DEADLETTER_STREAM, subjects_filter=self.deadletter_subject)
        return sum((info.state.subjects or {}).values())

    @property
    def deadletter_subject(self) -> str:
        return deadletter_subject(self.service, self.c.name)

    async def replay(self) -> dict:
        """After a fix, apply the dead letters again. A projection is rebuilt (its dead letters
        cleared first: what still cannot be applied is dead-lettered again); a policy re-runs each
        dead letter in order, and each one that now applies is removed."""
        reader = DirectReader(self._nc)
        try:
            letters = await reader.batch(DEADLETTER_STREAM, self.deadletter_subject)
        finally:
            await reader.close()
        if self.c.kind == "projection":
            for letter in letters:
                await self._js.delete_msg(DEADLETTER_STREAM, letter.seq)
            await self.rebuild()
            return {"consumer": self.c.name, "cleared": len(letters), "rebuilding": True}
        applied, still = 0, []
        for letter in letters:
            seq = int(letter.headers.get("Hr-Dlq-Seq", "0"))
            try:
                rec = await self._decode_raw(seq, letter.headers.get("Hr-Dlq-Subject", ""), letter.data)
                await self.c.handle(rec)
            except Malformed as e:
                still.append({"seq": seq, "reason": f"malformed: {e}"})
                continue
            except Exception as e:  # noqa: BLE001 - reported to the operator; the letter stays
                still.append({"seq": seq, "reason": describe(e)})
                continue
            await self._js.delete_msg(DEADLETTER_STREAM, letter.seq)
            applied += 1
        return {"consumer": self.c.name, "applied": applied, "still_failing": still}

    # ------------------------------------------------------------ status

    async def lag(self) -> int | None:
        """Events of its filter not yet applied (None when its durable consumer is gone): the one number
        a wait for the consumer to catch up needs, without ``status``'s dead-letter count."""
        try:
            info = await self._js.consumer_info(EVENTS_STREAM, self.durable)
        except NotFoundError:
            return None
        return self._lag_of(info)

    def _lag_of(self, info) -> int:
        """What the server has not delivered, and what it delivered that is not applied yet: delivered messages
        at or below the checkpoint are applied (or passed over) even while their acknowledgement waits."""
        delivered = info.delivered.stream_seq if info.delivered is not None else None
        unapplied = 0 if delivered is not None and self.checkpoint >= delivered else info.num_ack_pending
        return info.num_pending + unapplied

    async def status(self) -> dict:
        pending = None
        try:
            info = await self._js.consumer_info(EVENTS_STREAM, self.durable)
            pending = self._lag_of(info)
        except NotFoundError:
            pass
        alive = self._task is not None and not self._task.done()
        if not alive:
            state = "stopped"
        elif not self.active:
            state = "standby"
            self.checkpoint = await self._store.get_checkpoint(self.checkpoint_name)  # the holder's progress
        else:
            state = "stalled" if self.stall else "running"
        out = {"name": self.c.name, "kind": self.c.kind, "state": state, "checkpoint": self.checkpoint,
               "lag": pending, "dead_letters": await self.deadletters()}
        if self.stall:
            out["stalled"] = {**self.stall, "for_s": round(time.time() - self.stall["since"], 1)}
        if self.rebuilding and pending == 0:
            self.rebuilding = None  # caught up with the log: the rebuild is over
        if self.rebuilding:
            # the last event of this projection's subjects may lie before the
            # log's end, so progress is measured in the log's sequence space
            target = self.rebuilding["target_seq"]
            progress = round(min(1.0, self.checkpoint / target), 3) if target else 1.0
            out["rebuild"] = {"target_seq": target, "progress": progress}
        return out

    async def caught_up_to(self, seq: int, subject: str | None = None) -> bool:
        """``subject``: the subject of the event at ``seq``, when the caller knows it."""
        if self.checkpoint >= seq:
            return True
        if not self.active:  # a standby answers from the checkpoint its active twin stored
            self.checkpoint = await self._store.get_checkpoint(self.checkpoint_name)
            if self.checkpoint >= seq:
                return True
            # or from its acknowledgement: the holder acknowledges a batch once it has stored what it
            # applied, and it stores its checkpoint past events it only passes over now and then (``_pass``)
            try:
                info = await self._js.consumer_info(EVENTS_STREAM, self.durable)
            except NotFoundError:  # being re-created by the holder
                return False
            if info.ack_floor is not None and (info.ack_floor.stream_seq or 0) >= seq:
                return True
        if subject is not None and any(covers(pattern, subject) for pattern in self.c.subjects):
            # this consumer applies that event: only its checkpoint says it has. A consumer that looks idle
            # may not be (a new consumer leader right after a cluster's stream leader died reported nothing
            # pending: the chaos suite saw a policy read a view that had not applied the event yet)
            return False
        # the sequence may lie outside this consumer's subjects: then being idle (nothing left to deliver,
        # everything delivered applied or passed over) means it has seen it
        try:
            info = await self._js.consumer_info(EVENTS_STREAM, self.durable)
        except NotFoundError:  # being re-created from the checkpoint (start, rewind, rebuild)
            return False
        return self._lag_of(info) == 0

    async def wait_caught_up(self, seq: int, timeout: float, subject: str | None = None) -> bool:
        """Wait, at most ``timeout`` seconds, until ``caught_up_to(seq)``.

        Checks once, then sleeps until the loop finishes a batch (or, as a
        fallback, RECHECK_S passes) instead of polling the server; the
        in-memory checkpoint answers without a request once ``seq`` is applied.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            progress = self._progress  # taken before the check: a batch ending during it still wakes us
            if await self.caught_up_to(seq, subject):
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            if self._sub is not None:
                self._sub.hurry()  # someone waits: what has gathered comes now, not after the pause
            try:
                await asyncio.wait_for(progress.wait(), min(remaining, RECHECK_S))
            except TimeoutError:
                pass

    def _advanced(self) -> None:
        progress, self._progress = self._progress, asyncio.Event()
        progress.set()

    # ------------------------------------------------------------ the loop

    async def _loop(self) -> None:
        rewind = self._sub is None and self._lease is None  # started over after a failure
        reconnects = self._nc.stats["reconnects"]
        fetch_failures = 0
        while not self._stopping:
            if not self.active:
                await self._step_down()
                if not await self._take_over_or_stand_by():
                    continue
                rewind = False
            if self._nc.stats["reconnects"] != reconnects:
                # deliveries in flight when the connection dropped may be lost,
                # and acks too: start over from the checkpoint
                reconnects = self._nc.stats["reconnects"]
                rewind = True
            # a rebuild applies larger batches (one store transaction and one acknowledgement per batch); the
            # next messages arrive while it applies these (``Deliveries``)
            size = self.c.batch * (REBUILD_BATCHES if self.rebuilding else 1)
            wait = 1.0 if self._unacked is None else max(0.0, self._unacked_since + ACK_EVERY_S - time.monotonic())
            try:
                if rewind:
                    await self._rewind()
                    rewind = False
                msgs = await self._sub.next(size, timeout=wait)
                fetch_failures = 0
            except (TimeoutError, nats.errors.TimeoutError):
                if self._unacked is None:
                    self._written = None  # nothing came for a while: caught up, the replay is over
                    continue
                msgs = []  # nothing new: the acknowledgement that waited is due
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - the bus away: wait, then start over from the checkpoint
                fetch_failures += 1
                log.warning("fetch_failed", consumer=self.durable, attempt=fetch_failures, error=describe(e))
                if fetch_failures >= 3:
                    self._stalled(f"cannot read the log: {describe(e)}", self.checkpoint + 1, fetch_failures)
                await asyncio.sleep(self._backoff(fetch_failures))
                rewind = True
                continue
            if fetch_failures == 0 and self.stall and self.stall.get("fetch"):
                self._recovered()
            try:
                await self._process(msgs)
            except asyncio.CancelledError:
                raise
            except Fenced:
                # a successor holds the lease now: nothing of this batch was written
                log.warning("fenced", consumer=self.durable, checkpoint=self.checkpoint)
                await self._step_down()
                if self._lease is not None:
                    self._lease.forget()
            except Exception as e:  # noqa: BLE001 - an ack lost with the connection: the checkpoint holds
                log.warning("ack_failed", consumer=self.durable, error=describe(e))
                rewind = True
            finally:
                self._advanced()

    def _backoff(self, attempt: int) -> float:
        return min(FIRST_BACKOFF_S * 2 ** (attempt - 1), self._max_backoff_s)

    def _stalled(self, reason: str, seq: int, attempts: int) -> None:
        since = self.stall["since"] if self.stall else time.time()
        self.stall = {
            "reason": reason,
            "seq": seq,
            "since": since,
            "attempts": attempts,
            "fetch": reason.startswith("cannot read"),
        }

    def _recovered(self) -> None:
        log.info("consumer_recovered", consumer=self.durable, after_s=round(time.time() - self.stall["since"], 1))
        self.stall = None

    async def _until_done(self, seq: int, what: str, step: Callable[[], Awaitable[object]]):
        """Run ``step`` until it succeeds: a passing cause never skips an event. Malformed
        (the closed list) is not retried: it is the caller's to dead-letter."""
        attempt = 0
        while True:
            try:
                result = await step()
            except (Malformed, Fenced, asyncio.CancelledError):
                raise
            except Exception as e:  # noqa: BLE001 - a passing cause: retried, reported, never skipped
                attempt += 1
                self._stalled(f"{what} failed: {describe(e)}", seq, attempt)
                log.error(
                    "consumer_stalled", consumer=self.durable, seq=seq, step=what, attempt=attempt, error=describe(e)
                )
                if self._stopping:
                    raise
                await asyncio.sleep(self._backoff(attempt))
                continue
            if self.stall and not self.stall.get("fetch"):
                self._recovered()
            return result

    async def _process(self, msgs) -> None:
        good: list[tuple[object, Recorded]] = []
        passed = 0
        self._slice_since = time.monotonic()
        for msg in msgs:
            await self._share_the_loop()
            seq = stream_seq(msg)
            if seq <= self.checkpoint:
                continue  # already applied: a redelivery changes nothing (acked with the batch)
            if self.c.passes_over(msg.data, msg.headers):
                passed = seq
                continue
            try:
                rec = await self._until_done(seq, "decode", lambda m=msg: self._decode(m))
            except Malformed as e:
                # everything before it first, so the checkpoint passes them in order
                await self._apply(good)
                good = []
                await self._until_done(seq, "dead-letter", lambda m=msg, r=str(e): self._deadletter(m, r))
                continue
            good.append((msg, rec))
        await self._apply(good)
        if passed > self.checkpoint:
            await self._until_done(passed, "checkpoint", lambda: self._pass(passed))
        await self._acknowledge(msgs)

    async def _acknowledge(self, msgs: list) -> None:
        """AckPolicy.ALL: one acknowledgement for everything up to the last message processed, sent once
        ACK_EVERY_S has passed since the first it covers (or at once, past ACK_AT_MOST or in a rebuild). Held
        back, it changes nothing that counts: a restart, a rewind and a take-over start from the stored
        checkpoint, not from the acknowledgements; ``_lag_of`` does not count what is applied and unacknowledged."""
        if msgs:
            if self._unacked is None:
                self._unacked_since = time.monotonic()
            self._unacked = msgs[-1]
            self._unacked_n += len(msgs)
        if self._unacked is None:
            return
        if (self.rebuilding or self._unacked_n >= ACK_AT_MOST
                or time.monotonic() - self._unacked_since >= ACK_EVERY_S):
            msg, self._unacked, self._unacked_n = self._unacked, None, 0
            await msg.ack()

    async def _apply(self, good: list[tuple[object, Recorded]]) -> None:
        if not good:
            return
        if self.c.kind == "projection":
            try:
                await self._commit(good)
            except Exception as e:  # noqa: BLE001 - one by one, so that a stall names the very event
                log.warning("batch_failed", consumer=self.durable, first=good[0][1].seq, error=describe(e))
            else:
                return
        for item in good:
            if item[1].seq > self.checkpoint:
                await self._until_done(
                    item[1].seq, f"{self.c.kind} {item[1].envelope.type}", lambda i=item: self._commit([i])
                )

    async def _pass(self, seq: int) -> None:
        """Past events it does not apply, after the last it did. Stored now and then only: nothing was
        written for them, so starting again from an earlier checkpoint passes them over again; and a
        standby learns that the holder has passed them from the acknowledgement (``caught_up_to``)."""
        now = time.monotonic()
        if now - self._stored_at >= PASSED_STORE_EVERY_S:
            await self._store.set_checkpoint(self.checkpoint_name, seq, self.fence)
            self._stored_at = now
        self.checkpoint = seq

    async def _commit(self, items: list[tuple[object, Recorded]]) -> None:
        if self.c.kind == "projection" or self.c.atomic:
            async with self._store.batch():
                for msg, rec in items:
                    await self._share_the_loop()
                    await self._handle(msg, rec)
                await self._store.set_checkpoint(self.checkpoint_name, items[-1][1].seq, self.fence)
        else:
            # a policy whose only effects are appends to the log (idempotent by their event ids) reacts
            # outside the store's transaction, so that it may wait for a projection: held open around
            # that wait, the transaction would keep the projection out until the wait timed out
            for msg, rec in items:
                await self._share_the_loop()
                await self._handle(msg, rec)
            await self._store.set_checkpoint(self.checkpoint_name, items[-1][1].seq, self.fence)
        self.checkpoint = items[-1][1].seq
        self._stored_at = time.monotonic()
        if any(rec.event.erases for _, rec in items):
            # the person's data must not linger in the store's files (freed pages, the WAL)
            await self._until_done(self.checkpoint, "scrub", self._store.scrub)

    async def _share_the_loop(self) -> None:
        """Let whatever else is ready run (a request, a reply, another consumer) once this batch has run for
        SLICE_S without waiting. Inside a store batch too: the batch's writes are its own task's (other tasks read
        what is committed), and another writer waits for the batch's lock as it did for its commit."""
        now = time.monotonic()
        if now - self._slice_since >= SLICE_S:
            await asyncio.sleep(0)
            self._slice_since = time.monotonic()

    async def _handle(self, msg, rec: Recorded) -> None:
        if self.rebuilding:
            # a replay is no user's action: no span per old event (a rebuild
            # would flood the traces of the past, and spans cost a third of it)
            await self._call(rec)
            return
        with (
            tracer.start_as_current_span(
                f"{self.c.kind} {self.service}.{self.c.name} {rec.envelope.type}",
                context=propagate.extract(msg.headers) if msg.headers else None,  # the causing action's trace
                attributes={
                    "hr.event.type": rec.envelope.type,
                    "hr.stream.seq": rec.seq,
                    "hr.correlation_id": rec.envelope.correlation_id,
                },
            ),
            structlog.contextvars.bound_contextvars(correlation_id=rec.envelope.correlation_id),
        ):
            await self._call(rec)
            log.debug("event_applied", consumer=self.durable, type=rec.envelope.type, seq=rec.seq)

    async def _call(self, rec: Recorded) -> None:
        if self.c.kind == "projection":
            await self.c.handle(rec, View(self._store, rec.seq, self._written))
        else:
            await self.c.handle(rec)

    async def _decode(self, msg) -> Recorded:
        return await self._decode_raw(stream_seq(msg), msg.subject, msg.data)

    async def _decode_raw(self, seq: int, subject: str, data: bytes) -> Recorded:
        if len(data) > MAX_MESSAGE_BYTES:
            raise Malformed(f"payload of {len(data)} bytes exceeds {MAX_MESSAGE_BYTES}")
        try:
            return await self._events.decode(seq, subject, data)
        except ValidationError as e:
            if any(err["type"] == "json_invalid" for err in e.errors()):
                raise Malformed("invalid JSON") from e
            where = ", ".join(".".join(map(str, err["loc"])) for err in e.errors()[:5])
            raise Malformed(f"invalid envelope or payload ({where})") from e
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise Malformed("invalid JSON") from e
        except UnknownEvent as e:
            raise Malformed(f"unknown event type {str(e)[:100]}") from e
        except UnsupportedVersion as e:
            raise Malformed(f"unsupported schema version {str(e)[:100]}") from e
        except Undecryptable as e:
            raise Malformed(f"undecryptable: {e}") from e

    async def _deadletter(self, msg, reason: str) -> None:
        seq = stream_seq(msg)
        replay = int(self.rebuilding["started_at"] * 1000) if self.rebuilding else 0
        headers = {
            "Hr-Dlq-Reason": reason[:1000],
            "Hr-Dlq-Subject": msg.subject,
            "Hr-Dlq-Seq": str(seq),
            "Hr-Dlq-Consumer": self.durable,
            # once per event and replay: a crash between this and the checkpoint stores no second copy,
            # while a replay's rebuild dead-letters again what still fails
            "Nats-Msg-Id": f"dlq-{self.durable}-{seq}-{replay}",
        }
        await self._js.publish(deadletter_subject(self.service, self.c.name), msg.data, headers=headers)
        # past it for good: a rewind must not dead-letter it a second time
        await self._store.set_checkpoint(self.checkpoint_name, seq, self.fence)
        self.checkpoint = seq
        log.warning("dead_lettered", consumer=self.durable, seq=seq, reason=reason)
