"""The runtime every service is made of: a bus connection, the event store,
its read-model store, FastStream subscribers for commands and queries, and
runners for projections and policies.

A service module builds one ``Service`` in its bootstrap, registers plain
handler functions on it, and ``python -m services.<name>`` runs it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import signal
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from faststream.nats import NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from nats.js.errors import BucketNotFoundError, NotFoundError
from pydantic import ValidationError

from libs.contracts.base import Command, Event, Query
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, DomainError
from libs.contracts.subjects import (
    DEADLETTER_STREAM,
    EVENTS_STREAM,
    PII_KEYS_STREAM,
    command_subject,
    control_subject,
    inbox_prefix,
    query_subject,
)
from libs.kit import scope
from libs.kit.actors import register_actors
from libs.kit.consumers import Consumer, Runner, covers, type_names
from libs.kit.decider import Decider
from libs.kit.direct import unsubscribe
from libs.kit.docstore.port import DocumentStore, open_store
from libs.kit.eventstore import ConcurrencyConflict, EventStore, EventStorePort, Meta, Stream
from libs.kit.heap import freeze_what_startup_built
from libs.kit.lease import LEASES_BUCKET, Lease, holder_id
from libs.kit.logging import describe, get_logger, setup_logging
from libs.kit.natsheaders import read_headers_faster
from libs.kit.notify import MemberStreams
from libs.kit.pii import PiiVault
from libs.kit.provision import BUCKETS, provision
from libs.kit.rpc import Context, Done, Server
from libs.kit.settings import KitSettings, exit_refused, redact_url, secret_values
from libs.kit.tasks import cancel_and_wait
from libs.kit.timers import Ticker, TimerSpec, timer_projection
from libs.kit.tracing import setup_tracing

log = get_logger(__name__)
S = TypeVar("S")
MAX_DECIDE_ATTEMPTS = 5
STATE_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class Executed(Generic[S]):
    """``seq``: the aggregate's last event after the command (its own append, or the one before a command that
    appended nothing); ``subject``: that aggregate's, so a read-back knows which views apply it."""

    seq: int
    state: S
    subject: str


def last_seq(done: Iterable[Executed]) -> int | None:
    """The log position after a command that wrote to several aggregates: its consistency token."""
    return max((x.seq for x in done if x.seq), default=None)


class NotProvisioned(RuntimeError):
    pass


class Service:
    """``pii_writer``: this service creates and shreds personal-data keys (onboarding alone).
    ``own_actors``: it resolves actors from its own aggregates (set ``resolve_actor``) instead of
    the ``actors`` read model every other service keeps.
    ``events``: the event store to use instead of the JetStream one ``start`` builds; handlers see
    only the port (``load``/``execute``), so a unit test runs them against the in-memory store
    (libs/kit/memory_eventstore.py) without starting the service or a nats-server. An injected
    store is its owner's to close."""

    def __init__(self, name: str, settings: KitSettings, *, pii_writer: bool = False, own_actors: bool = False,
                 events: EventStorePort | None = None):
        self.name = name
        self.settings = settings
        self.pii_writer = pii_writer
        self._commands: list[tuple[type[Command], Callable]] = []
        self._queries: list[tuple[type[Query], Callable]] = []
        self._consumers: list[Consumer] = []
        self._on_start: list[Callable[[], Awaitable[None]]] = []
        self.runners: list[Runner] = []
        #: the start hooks ran and every consumer and timer is up (what readiness waits for)
        self.started = False
        # what start() connects: handlers and projections only run once it has
        self.broker: NatsBroker = None  # type: ignore[assignment]
        self.events: EventStorePort = events  # type: ignore[assignment]
        self._owns_events = events is None
        self.store: DocumentStore = None  # type: ignore[assignment]
        self.vault: PiiVault = None  # type: ignore[assignment]
        self.nc: Any = None
        self.js: Any = None
        self._tracer_provider: Any = None
        self._states: OrderedDict[str, tuple[Any, int, int]] = OrderedDict()
        self.records = None
        self._control_subs: list = []
        self._timers: list[TimerSpec] = []
        self._chores: list[tuple[str, float, Callable[[], Awaitable[Any]]]] = []
        #: one turn at a time per aggregate in this process: [lock, how many hold or wait for it]
        self._turns: dict[str, list[Any]] = {}
        self._chore_tasks: list[asyncio.Task] = []
        self.tickers: list[Ticker] = []
        self.resolve_actor: Callable[[str], Awaitable[Actor | None]] | None = None
        #: what "now" is for its timers and policies: tests of time-bound behaviour (quiet hours, a digest
        #: the next morning) move it instead of waiting
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        #: more parts of its status beside its consumers (an outbox's channel), in a consumer's shape:
        #: one whose state is not running makes readiness fail, with its reason
        self._reports: list[Callable[[], Awaitable[dict]]] = []
        #: it writes to members' live streams (libs/kit/notify.py): the NATS permissions give it those, and
        #: ``member_streams`` is opened at start for its policies and queries
        self.tells_members = False
        self.member_streams: MemberStreams = None  # type: ignore[assignment]
        #: it keeps files in the Object Store buckets (libs/kit/objects.py): the NATS permissions give it
        #: those (the staging bucket to read and erase, the files' bucket to write and erase)
        self.keeps_files = False
        if not own_actors:
            self.resolve_actor = register_actors(self)

    # ------------------------------------------------------------ registration

    def command(self, model: type[Command]):
        def register(fn):
            self._commands.append((model, fn))
            return fn

        return register

    def handles(self, model: type[Command], decider: Decider, to: Callable[[Any, Context], tuple[str, Any]],
                reply: Callable[[Executed, Any, Context], Any], *, attempts: int = MAX_DECIDE_ATTEMPTS) -> None:
        """A command that is one decision on one aggregate: ``to`` names the aggregate and builds the
        decider's command, ``reply`` builds the answer from the state after it. Load, decide, append
        (again on a concurrent append), answer with the consistency token: nothing else to write."""

        async def handler(cmd, ctx: Context) -> Done:
            aggregate_id, command = to(cmd, ctx)
            done = await self.decide(decider, aggregate_id, command, meta_of(ctx), attempts=attempts)
            return Done(done.seq, reply(done, cmd, ctx))

        handler.__name__ = f"handle_{model.type_name}"
        self._commands.append((model, handler))

    def query(self, model: type[Query], reads: Sequence[str] = ()):
        """A query over the named projections: with a consistency token it waits (bounded) until those
        projections — and only those — have applied the client's last write."""

        def register(fn):
            unknown = set(reads) - {c.name for c in self._consumers if c.kind == "projection"}
            if unknown:
                raise ValueError(f"{model.type_name} reads {sorted(unknown)}: register those projections first")

            async def read(q, ctx: Context):
                await self.wait_applied(ctx.after_seq, reads)
                return await fn(q, ctx)

            read.__name__ = fn.__name__
            self._queries.append((model, read))
            return fn

        return register

    def projection(self, name: str, subjects: list[str], collections: list[str], batch: int = 256,
                   version: int = 1, *, types: tuple[type[Event], ...] | None = None):
        """``fn(rec, view)``: ``view`` is the store with the ``_seq`` guard applied (libs/kit/projection.py).
        Raise ``version`` with every change of what the projection writes: its collections are then
        rebuilt from the log on the next start (libs/kit/consumers.py, ``Runner._resume``).
        ``types``: the only events it applies; the others of its subjects are passed over unread.
        A collection belongs to one projection: its rebuild drops it, and only its events write it
        (``Written``, libs/kit/projection.py, relies on that)."""
        owners = {coll: c.name for c in self._consumers for coll in c.collections}
        shared = sorted(set(collections) & owners.keys())
        if shared:
            raise ValueError(f"projection {name}: {shared} belong to projection {owners[shared[0]]}")

        def register(fn: Callable[[Any, Any], Awaitable[None]]):
            self._consumers.append(Consumer(name, subjects, fn, "projection", collections, batch, version,
                                            types=type_names(types)))
            return fn

        return register

    def policy(self, name: str, subjects: list[str], *, waits_for_views: bool = False,
               types: tuple[type[Event], ...] | None = None):
        """``waits_for_views``: the policy only appends to the log and waits for this service's projections
        (``Runner.wait_caught_up``) before it reads them; it then runs outside the store's transaction,
        which would keep those projections from writing while it waits. ``types``: the only events it
        reacts to; the others of its subjects are passed over unread."""
        def register(fn):
            self._consumers.append(Consumer(name, subjects, fn, "policy", [], 64, atomic=not waits_for_views,
                                            types=type_names(types)))
            return fn

        return register

    def reports(self, fn: Callable[[], Awaitable[dict]]):
        """``fn()`` answers one more entry of the service's status (the shape of a consumer's, state
        ``running`` or ``stalled`` with the reason): readiness reads it as it reads the consumers."""
        self._reports.append(fn)
        return fn

    def on_start(self, fn: Callable[[], Awaitable[None]]):
        self._on_start.append(fn)
        return fn

    @property
    def consumers(self) -> tuple[Consumer, ...]:
        """The registered projections and policies (runners exist only once started)."""
        return tuple(self._consumers)

    @property
    def subjects(self) -> dict[str, list[str]]:
        """Every subject this service listens on, for the AsyncAPI document."""
        return {
            "commands": [command_subject(self.name, m.type_name) for m, _ in self._commands],
            "queries": [query_subject(self.name, m.type_name) for m, _ in self._queries],
            "consumers": sorted({s for c in self._consumers for s in c.subjects}),
        }

    # ------------------------------------------------------------ use by handlers

    async def load(self, aggregate: Decider[Any, S], aggregate_id: str) -> tuple[S, Stream]:
        """The aggregate's current state, folded from the last state this
        process knew plus the events appended since (a cache bounded by
        STATE_CACHE_SIZE; states are immutable, so sharing them is safe)."""
        subject = aggregate.subject(aggregate_id)
        state, seq, version = self._states.get(subject) or (aggregate.initial(), 0, 0)
        read = scope.current().read
        if read is not None and subject in self._states and read.get(subject) == seq:
            # this request read the aggregate up to ``seq`` already, and the process knows of nothing since
            # (its own appends move the state): what another process appended meanwhile, the append's expected
            # sequence refuses, and the decision is taken again on a fresh load (``_forget_read``). Onboarding
            # read the member once to resolve the actor and once more to decide, on every command
            return state, Stream(subject=subject, events=[], last_seq=seq, base_version=version)
        stream = await self.events.load(subject, after=seq, base_version=version)
        for r in stream.events:
            state = aggregate.evolve(state, r.event)
        self._remember(subject, state, stream.last_seq, stream.version)
        if read is not None:
            read[subject] = stream.last_seq
        return state, stream

    @staticmethod
    def _read_at(subject: str, seq: int) -> None:
        """This request's own append: nothing sits between what it read and ``seq`` (the expected sequence)."""
        read = scope.current().read
        if read is not None and subject in read:
            read[subject] = seq

    @staticmethod
    def _forget_read(*subjects: str) -> None:
        """The aggregates moved under this request (an append refused): its next load reads them again."""
        read = scope.current().read
        if read is not None:
            for subject in subjects:
                read.pop(subject, None)

    def _remember(self, subject: str, state: Any, seq: int, version: int) -> None:
        self._states[subject] = (state, seq, version)
        self._states.move_to_end(subject)
        if len(self._states) > STATE_CACHE_SIZE:
            self._states.popitem(last=False)

    @asynccontextmanager
    async def _turn(self, *subjects: str) -> AsyncIterator[None]:
        """Commands on one aggregate take turns in this process, in the order they arrive, instead of
        racing and retrying into ``concurrent_update``: a full event with fifty registrations at once
        refuses nobody for a conflict they did not cause. Several aggregates are taken in one order (no
        deadlock); the locks go when nobody holds or waits for them. Other processes still race, and
        the expected sequence of every append keeps that safe."""
        counted: list[str] = []
        held: set[str] = set()
        try:
            for subject in sorted(set(subjects)):
                turn = self._turns.setdefault(subject, [asyncio.Lock(), 0])
                turn[1] += 1
                counted.append(subject)
                await turn[0].acquire()
                held.add(subject)
            yield
        finally:
            for subject in reversed(counted):
                turn = self._turns[subject]
                if subject in held:
                    turn[0].release()
                turn[1] -= 1
                if turn[1] == 0:
                    del self._turns[subject]

    async def decide(
        self,
        aggregate: Decider[Any, S],
        aggregate_id: str,
        command: Any,
        meta: Meta,
        event_ids: Callable[[int], Sequence[UUID]] | None = None,
        attempts: int = MAX_DECIDE_ATTEMPTS,
    ) -> Executed[S]:
        """Load, decide, append; on a concurrent append, decide again on fresh state
        (after a short random pause, so that racing writers spread out).

        Returns the state after the new events, folded here rather than
        loaded again: a second load would decode and decrypt the whole history.
        """
        async with self._turn(aggregate.subject(aggregate_id)):
            return await self._decide(aggregate, aggregate_id, command, meta, event_ids, attempts)

    async def _decide(self, aggregate: Decider[Any, S], aggregate_id: str, command: Any, meta: Meta,
                      event_ids: Callable[[int], Sequence[UUID]] | None, attempts: int) -> Executed[S]:
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(random.uniform(0, 0.005 * attempt))
            state, stream = await self.load(aggregate, aggregate_id)
            new = aggregate.decide(command, state)
            if not new:
                return Executed(stream.last_seq, state, stream.subject)
            try:
                seq = await self.events.append(stream, new, meta, event_ids(len(new)) if event_ids else None)
            except ConcurrencyConflict:
                self._forget_read(stream.subject)
                continue
            for event in new:
                state = aggregate.evolve(state, event)
            # the expected sequence guarantees nothing sits between the loaded
            # events and ours: this is the aggregate's state as of ``seq``
            self._remember(aggregate.subject(aggregate_id), state, seq, stream.version + len(new))
            self._read_at(stream.subject, seq)
            return Executed(seq, state, stream.subject)
        raise Conflict("concurrent_update")

    async def decide_across(
        self,
        parts: dict[str, tuple[Decider, str]],
        decide: Callable[[dict[str, Any]], dict[str, list[Event]]],
        meta: Meta,
        attempts: int = MAX_DECIDE_ATTEMPTS,
        event_ids: Callable[[str, int], Sequence[UUID]] | None = None,
    ) -> dict[str, Executed]:
        """One decision over several aggregates (a member's pick cap and a vacancy's capacity): load them
        all, ``decide(states) -> {part: events}``, append every part's events as one atomic batch, each
        aggregate with its own expected sequence; if any of them moved meanwhile, nothing is stored and
        the decision is taken again on fresh states. A part that gets no events is only read: its
        expected sequence is not checked (give it an event to guard it). ``event_ids(part, n)``: the ids of a
        part's events (a policy's, derived from its cause, so a redelivered cause appends nothing new)."""
        async with self._turn(*(decider.subject(aggregate_id) for decider, aggregate_id in parts.values())):
            return await self._decide_across(parts, decide, meta, attempts, event_ids)

    async def _decide_across(self, parts: dict[str, tuple[Decider, str]],
                             decide: Callable[[dict[str, Any]], dict[str, list[Event]]], meta: Meta,
                             attempts: int,
                             event_ids: Callable[[str, int], Sequence[UUID]] | None = None) -> dict[str, Executed]:
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(random.uniform(0, 0.005 * attempt))
            loaded = {key: await self.load(decider, aggregate_id) for key, (decider, aggregate_id) in parts.items()}
            decided = decide({key: state for key, (state, _) in loaded.items()})
            writes = [(loaded[key][1], events, event_ids(key, len(events)) if event_ids else None)
                      for key, events in decided.items() if events]
            if not writes:
                return {key: Executed(stream.last_seq, state, stream.subject)
                        for key, (state, stream) in loaded.items()}
            try:
                seqs = await self.events.append_many(writes, meta)
            except ConcurrencyConflict:
                self._forget_read(*(stream.subject for _, stream in loaded.values()))
                continue
            out = {}
            for key, (state, stream) in loaded.items():
                decider, aggregate_id = parts[key]
                events = decided.get(key) or []
                for event in events:
                    state = decider.evolve(state, event)
                if events:
                    self._remember(decider.subject(aggregate_id), state, seqs[stream.subject],
                                   stream.version + len(events))
                    self._read_at(stream.subject, seqs[stream.subject])
                out[key] = Executed(seqs.get(stream.subject, stream.last_seq), state, stream.subject)
            return out
        raise Conflict("concurrent_update")

    def timer(self, name: str, subjects: list[str], schedule, fire) -> None:
        """A durable timer (libs/kit/timers.py): ``schedule(rec) -> [Due]`` says what an event sets or
        cancels; ``fire(timer)`` runs when one is due, on the replica holding the timer's lease."""
        spec = TimerSpec(name, subjects, schedule, fire)
        self._timers.append(spec)
        self.projection(f"timers_{name}", subjects, [spec.collection])(timer_projection(spec))

    def every(self, name: str, interval_s: float):
        """A chore run once the service has started and then every ``interval_s`` (a sweep that finds its
        own work and is safe to run twice, on every replica): a failure is logged with its cause and the
        chore runs again at its next turn."""

        def register(fn: Callable[[], Awaitable[Any]]):
            self._chores.append((name, interval_s, fn))
            return fn

        return register

    async def _run_chore(self, name: str, interval_s: float, fn: Callable[[], Awaitable[Any]]) -> None:
        while True:
            try:
                result = await fn()
                if result:
                    log.info("chore_done", chore=name, result=result)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 — reported, and tried again at its next turn
                log.error("chore_failed", chore=name, error=describe(e))
            await asyncio.sleep(interval_s)

    async def wait_applied(self, seq: int | None, projections: Sequence[str] | None = None) -> bool:
        """Read-your-writes for a client's token: wait (bounded) until the named projections (all when None)
        have seen ``seq``; False (and a warning for the operator) when one has not within the setting's wait.
        The subject of the event at ``seq`` is not known here: a projection that looks idle has seen it."""
        if not seq:
            return True
        return await self._wait([(r, seq, None) for r in self._projections(projections)], seq)

    async def wait_read_back(self, done: Executed | Iterable[Executed], projections: Sequence[str] | None = None
                             ) -> bool:
        """Read-your-writes for a command's own answer: wait (bounded) until each named projection has applied
        what the command wrote (``done``: one aggregate's outcome, or several) to the subjects it applies —
        by its checkpoint, never because it looks idle: a consumer the server has not counted the event for
        yet would answer early, and the answer, read from the view, would say "not found" for what the command
        has just done. A projection that applies none of those subjects is not waited for."""
        written = [x for x in ([done] if isinstance(done, Executed) else done) if x.seq]
        waits = []
        for runner in self._projections(projections):
            own = [x for x in written if any(covers(pattern, x.subject) for pattern in runner.c.subjects)]
            if own:
                last = max(own, key=lambda x: x.seq)
                waits.append((runner, last.seq, last.subject))
        return await self._wait(waits, last_seq(written) or 0)

    def _projections(self, names: Sequence[str] | None) -> list[Runner]:
        return [r for r in self.runners if r.c.kind == "projection" and (names is None or r.c.name in names)]

    async def _wait(self, waits: Sequence[tuple[Runner, int, str | None]], seq: int) -> bool:
        # each runner wakes its waiters when it finishes a batch: no polling
        timeout = self.settings.consistency_wait_s
        done = await asyncio.gather(*(r.wait_caught_up(at, timeout, subject) for r, at, subject in waits))
        behind = [r.c.name for (r, _, _), ok in zip(waits, done, strict=True) if not ok]
        if behind:
            log.warning("read_your_writes_timed_out", seq=seq, projections=behind, wait_s=timeout)
        return not behind

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        setup_logging(self.name, self.settings.log_format, self.settings.log_level,
                      secrets=secret_values(self.settings))
        read_headers_faster()
        # FastStream says INFO for each of its workers' tasks that ends: noise at every stop
        logging.getLogger("faststream.access.nats").setLevel(logging.WARNING)
        if self.resolve_actor is None:
            raise RuntimeError(f"{self.name}: own_actors is set but resolve_actor is not")
        provider = self._tracer_provider = setup_tracing(self.name, self.settings.otel_service_namespace,
                                                         sample_ratio=self.settings.trace_sample_ratio)
        self.broker = NatsBroker(
            self.settings.nats_servers,
            middlewares=[NatsTelemetryMiddleware(tracer_provider=provider)],
            name=f"hr-{self.name}",
            inbox_prefix=inbox_prefix(self.name).encode(),
            max_reconnect_attempts=-1,
            graceful_timeout=5.0,
            log_level=logging.DEBUG,  # one line per message is noise at INFO
            # a logger of our own rather than FastStream's, which prints to stdout past the sanitized handler
            logger=logging.getLogger("faststream.access.nats"),
            # no dependency injection: every endpoint takes the body FastStream decoded and nothing else, and
            # resolving that one parameter through FastDepends cost 40 µs a request (a loop of requests against
            # nats-server, client and responder in one process: 504 → 463 µs each, measured; issue 18)
            apply_types=False,
        )
        server_ref: list[Server] = []
        for model, fn in self._commands:
            self._subscribe(command_subject(self.name, model.type_name), model, fn, server_ref)
        for query, fn in self._queries:
            self._subscribe(query_subject(self.name, query.type_name), query, fn, server_ref)
        self._subscribe_control()
        await self.broker.start()
        self.nc = self.broker.connection
        self.js = self.nc.jetstream()
        await self._ensure_provisioned()
        self.vault = await PiiVault.connect(self.nc, kek=self.settings.kek, writer=self.pii_writer)
        if self._owns_events:
            self.events = EventStore(self.nc, self.vault, leader_reads=self.settings.stream_replicas > 1)
        if self.tells_members:
            self.member_streams = MemberStreams(self.nc)
        records = f"hr_{self.name}_requests"
        self.records = await self.js.key_value(records) if any(b.name == records for b in BUCKETS) else None
        server_ref.append(Server(self.settings.token_public_key, self.resolve_actor, self.records))
        self.store = await open_store(self.settings.docstore_url, f"{self.settings.docstore_prefix}{self.name}")
        for fn in self._on_start:
            await fn()
        leases = await self.js.key_value(LEASES_BUCKET)
        for c in self._consumers:
            runner = Runner(
                self.name,
                c,
                self.nc,
                self.events,
                self.store,
                lease=Lease(leases, f"{self.name}.{c.name}"),
                max_backoff_s=self.settings.retry_max_backoff_s,
            )
            await runner.start()
            self.runners.append(runner)
        for spec in self._timers:
            ticker = Ticker(self, spec, Lease(leases, f"{self.name}.timer.{spec.name}"), clock=lambda: self.clock())
            await ticker.start()
            self.tickers.append(ticker)
        await self._subscribe_active_control()
        self._chore_tasks = [asyncio.create_task(self._run_chore(*chore)) for chore in self._chores]
        self.started = True
        log.info(
            "service_started", nats=redact_url(self.settings.nats_url), docstore=redact_url(self.settings.docstore_url)
        )

    async def _ensure_provisioned(self) -> None:
        """Streams and buckets come from the provisioning step; in development this process runs it."""
        if self.settings.env == "development":
            await provision(self.nc, replicas=self.settings.stream_replicas, kek=self.settings.kek)
            return
        missing = []
        for stream in (EVENTS_STREAM, DEADLETTER_STREAM, PII_KEYS_STREAM):
            try:
                await self.js.stream_info(stream)
            except NotFoundError:
                missing.append(stream)
        for bucket in BUCKETS:
            if bucket.name.startswith(f"hr_{self.name}_") or bucket.name == LEASES_BUCKET:
                try:
                    await self.js.key_value(bucket.name)
                except BucketNotFoundError:
                    missing.append(bucket.name)
        if missing:
            raise NotProvisioned(f"not provisioned: {', '.join(missing)}; run `python -m libs.kit.provision` first")

    def _subscribe(self, subject: str, model: type[Command] | type[Query], fn: Callable, server_ref: list) -> None:
        # the body as FastStream decoded it (JSON, or the bytes it could not read): a ``NatsMessage``
        # parameter is resolved by a synchronous dependency, handed to a thread on every request (7 % of a
        # service's time under load, issue 18)
        async def endpoint(body: Any) -> dict:
            if not server_ref:  # a request that arrives while the service is still starting
                return {"ok": False, "error": {"kind": "unavailable", "code": "service_unavailable", "params": {}}}
            return await server_ref[0].serve(model, fn, body)

        endpoint.__name__ = f"{self.name}_{model.type_name}"
        # concurrent (bounded): one slow request (an argon2 hash) must not hold every other behind it
        self.broker.subscriber(
            subject, queue=self.name, title=subject, max_workers=self.settings.max_concurrent_requests
        )(endpoint)

    def _subscribe_control(self) -> None:
        async def status(body: Any) -> dict:
            # the status subscription is up before the start hooks (the first admin) and the consumers are:
            # until they are, the service says it is starting, and readiness waits for it
            return {"service": self.name, "replica": holder_id(), "starting": not self.started,
                    "consumers": [*[await r.status() for r in self.runners],
                                  *([await fn() for fn in self._reports] if self.started else [])]}

        self.broker.subscriber(control_subject(self.name, "status"), title="status")(status)

    async def _subscribe_active_control(self) -> None:
        """Rebuild and replay go to every replica (no queue group): each acts on the consumers whose lease
        it holds and answers only then, so the operator hears from the replica that did the work."""

        def targets_of(msg, key: str, kinds: tuple[str, ...]) -> tuple[str | None, list[Runner]]:
            try:
                name = json.loads(msg.data or b"{}").get(key)
            except ValueError:
                name = None
            return name, [r for r in self.runners if r.c.kind in kinds and (name is None or r.c.name == name)]

        async def answer(msg, body: dict) -> None:
            if msg.reply:
                await msg.respond(json.dumps(body).encode())

        async def rebuild(msg) -> None:
            name, targets = targets_of(msg, "projection", ("projection",))
            if not targets:
                return await answer(msg, {"ok": False, "error": f"no projection named {name!r}"})
            mine = [r for r in targets if r.active]
            if mine:
                await answer(msg, {"ok": True, "rebuilding": [await r.rebuild() for r in mine]})

        async def replay(msg) -> None:
            name, targets = targets_of(msg, "consumer", ("projection", "policy"))
            if not targets:
                return await answer(msg, {"ok": False, "error": f"no consumer named {name!r}"})
            mine = [r for r in targets if r.active]
            if mine:
                await answer(msg, {"ok": True, "replayed": [await r.replay() for r in mine]})

        self._control_subs = [
            await self.nc.subscribe(control_subject(self.name, "rebuild"), cb=rebuild),
            await self.nc.subscribe(control_subject(self.name, "replay"), cb=replay),
        ]

    async def stop(self) -> None:
        self.started = False
        await asyncio.gather(*(cancel_and_wait(task) for task in self._chore_tasks), return_exceptions=True)
        self._chore_tasks = []
        for sub in self._control_subs:
            await unsubscribe(sub)
        self._control_subs = []
        for t in self.tickers:
            await t.stop()
        self.tickers.clear()
        for r in self.runners:
            await r.stop()
        self.runners.clear()
        if self.member_streams:
            await self.member_streams.close()
        if self.vault:
            await self.vault.close()
        if self.events and self._owns_events:
            await self.events.close()
        if self.broker:
            await self.broker.stop()
        if self.store:
            await self.store.close()
        log.info("service_stopped")
        if self._tracer_provider:
            self._tracer_provider.shutdown()  # flush spans still in the batch

    async def run_forever(self) -> None:
        await self.start()
        freeze_what_startup_built()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await self.stop()


def main(bootstrap: Callable[[], Service]) -> None:
    """``python -m services.<name>``: a refused configuration is one clear line, not a traceback."""
    try:
        svc = bootstrap()
    except ValidationError as e:
        exit_refused(e)
    asyncio.run(svc.run_forever())


def meta_of(ctx: Context, causation_id: str | None = None) -> Meta:
    return Meta(actor=ctx.actor.id, correlation_id=ctx.correlation_id, causation_id=causation_id)


__all__ = ["Decider", "Executed", "Service", "meta_of", "DomainError"]
