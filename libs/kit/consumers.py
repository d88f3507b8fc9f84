"""Projection and policy runners: durable pull consumers on the event log.

Why not FastStream subscribers here: a projection needs explicit control of
batching (one store transaction per batch), of its checkpoint, and of a
rebuild from sequence 1 on demand — see docs/adr/0003-consumers.md.

Guarantees:
- a message is acknowledged only after its effect is stored (and, for a
  projection, after the checkpoint that records it);
- a redelivered event at or below the checkpoint changes nothing;
- a malformed message (bad JSON, unknown type, unsupported schema version,
  oversized) goes to the dead-letter stream with the reason, then is acked;
- a handler that raises is retried (nak with back-off) and dead-lettered
  only after ``max_deliver`` attempts: nothing is swallowed or lost.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

import nats.errors
import structlog
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from opentelemetry import propagate, trace
from pydantic import ValidationError

from libs.contracts.registry import UnknownEvent, UnsupportedVersion
from libs.contracts.subjects import DEADLETTER_ROOT, DEADLETTER_STREAM, EVENTS_STREAM, deadletter_subject
from libs.kit.docstore.port import DocumentStore
from libs.kit.eventstore import MAX_EVENT_BYTES, EventStore, Recorded
from libs.kit.logging import describe, get_logger

log = get_logger(__name__)
tracer = trace.get_tracer("hr.kit.consumers")

Handler = Callable[[Recorded], Awaitable[None]]

#: a read-your-writes waiter is woken by the runner after each batch; this is
#: only the fallback re-check (as often as the old polling), e.g. for acks still
#: in flight when it last asked the server
RECHECK_S = 0.005


class Malformed(Exception):
    pass


@dataclass
class Consumer:
    """A projection (writes read models) or a policy (sends commands)."""

    name: str
    subjects: list[str]
    handle: Handler
    kind: str = "projection"
    #: collections a rebuild drops (projections only)
    collections: list[str] = field(default_factory=list)
    batch: int = 256


async def ensure_deadletter_stream(js, replicas: int = 1) -> None:
    config = StreamConfig(
        name=DEADLETTER_STREAM, subjects=[f"{DEADLETTER_ROOT}.>"], num_replicas=replicas, max_msg_size=2 * MAX_EVENT_BYTES
    )
    try:
        await js.add_stream(config)
    except BadRequestError as e:
        if e.err_code != 10058:
            raise


class Runner:
    def __init__(
        self,
        service: str,
        consumer: Consumer,
        nc,
        events: EventStore,
        store: DocumentStore,
        *,
        max_deliver: int = 5,
    ):
        self.service = service
        self.c = consumer
        self._nc = nc
        self._js = nc.jetstream()
        self._events = events
        self._store = store
        self._max_deliver = max_deliver
        self.durable = f"{service}_{consumer.name}"
        self.checkpoint = 0
        self.rebuilding: dict | None = None
        self._task: asyncio.Task | None = None
        self._sub = None
        self._stopping = False
        #: set (and replaced) after every fetched batch: wakes read-your-writes waiters
        self._progress = asyncio.Event()

    @property
    def checkpoint_name(self) -> str:
        return f"{self.c.kind}:{self.c.name}"

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.checkpoint = await self._store.get_checkpoint(self.checkpoint_name)
        await self._subscribe()
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name=self.durable)

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
            durable_name=self.durable,
            ack_policy=AckPolicy.ALL,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE if self.checkpoint else DeliverPolicy.ALL,
            opt_start_seq=self.checkpoint + 1 if self.checkpoint else None,
            filter_subjects=self.c.subjects,
            ack_wait=60,
            max_ack_pending=self.c.batch * 4,
        )
        if await self._exists():
            await self._js.delete_consumer(EVENTS_STREAM, self.durable)
        await self._js.add_consumer(EVENTS_STREAM, config)
        self._sub = await self._js.pull_subscribe_bind(durable=self.durable, stream=EVENTS_STREAM)

    async def _rewind(self) -> None:
        """Start over from the checkpoint: what was delivered but not applied comes again, in order."""
        if self._sub:
            try:
                await self._sub.unsubscribe()
            except Exception:  # noqa: BLE001 - the connection may be down
                pass
            self._sub = None
        await self._subscribe()

    async def _exists(self) -> bool:
        try:
            await self._js.consumer_info(EVENTS_STREAM, self.durable)
            return True
        except NotFoundError:
            return False

    async def stop(self) -> None:
        self._stopping = True
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        if self._sub:
            try:
                await self._sub.unsubscribe()
            except Exception:  # noqa: BLE001 - connection may be closing
                pass
            self._sub = None

    async def rebuild(self) -> dict:
        """Drop the read models and replay the whole log into them."""
        if self.c.kind != "projection":
            raise ValueError("only projections can be rebuilt")
        await self.stop()
        try:
            await self._js.delete_consumer(EVENTS_STREAM, self.durable)
        except NotFoundError:
            pass
        async with self._store.batch():
            # the checkpoint first: a crash half-way replays over what is left
            # instead of leaving dropped documents behind a stale checkpoint
            await self._store.set_checkpoint(self.checkpoint_name, 0)
            for coll in self.c.collections:
                await self._store.drop(coll)
        total = await self._events.last_seq()
        self.rebuilding = {"target_seq": total, "started_at": time.time()}
        await self.start()
        return {"projection": self.c.name, "target_seq": total}

    # ------------------------------------------------------------ status

    async def status(self) -> dict:
        pending = None
        try:
            info = await self._js.consumer_info(EVENTS_STREAM, self.durable)
            pending = info.num_pending + info.num_ack_pending
        except NotFoundError:
            pass
        out = {"name": self.c.name, "kind": self.c.kind, "checkpoint": self.checkpoint, "lag": pending}
        if self.rebuilding and pending == 0:
            self.rebuilding = None  # caught up with the log: the rebuild is over
        if self.rebuilding:
            # the last event of this projection's subjects may lie before the
            # log's end, so progress is measured in the log's sequence space
            target = self.rebuilding["target_seq"]
            out["rebuild"] = {"target_seq": target, "progress": round(min(1.0, self.checkpoint / target), 3) if target else 1.0}
        return out

    async def caught_up_to(self, seq: int) -> bool:
        if self.checkpoint >= seq:
            return True
        # the sequence may lie outside this consumer's subjects: then being
        # idle (nothing pending, nothing unacked) means it has seen it
        try:
            info = await self._js.consumer_info(EVENTS_STREAM, self.durable)
        except NotFoundError:  # being re-created from the checkpoint (start, rewind, rebuild)
            return False
        return info.num_pending == 0 and info.num_ack_pending == 0

    async def wait_caught_up(self, seq: int, timeout: float) -> bool:
        """Wait, at most ``timeout`` seconds, until ``caught_up_to(seq)``.

        Checks once, then sleeps until the loop finishes a batch (or, as a
        fallback, RECHECK_S passes) instead of polling the server; the
        in-memory checkpoint answers without a request once ``seq`` is applied.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            progress = self._progress  # taken before the check: a batch ending during it still wakes us
            if await self.caught_up_to(seq):
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(progress.wait(), min(remaining, RECHECK_S))
            except (asyncio.TimeoutError, TimeoutError):
                pass

    def _advanced(self) -> None:
        progress, self._progress = self._progress, asyncio.Event()
        progress.set()

    # ------------------------------------------------------------ the loop

    async def _loop(self) -> None:
        rewind = False
        reconnects = self._nc.stats["reconnects"]
        while not self._stopping:
            if self._nc.stats["reconnects"] != reconnects:
                # deliveries in flight when the connection dropped may be lost,
                # and acks too: start over from the checkpoint
                reconnects = self._nc.stats["reconnects"]
                rewind = True
            if rewind:
                try:
                    await self._rewind()
                    rewind = False
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # noqa: BLE001 - the bus is still away: try again
                    log.warning("rewind_failed", consumer=self.durable, error=describe(e))
                    await asyncio.sleep(0.5)
                    continue
            try:
                msgs = await self._sub.fetch(self.c.batch, timeout=1.0)
            except (nats.errors.TimeoutError, asyncio.TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - connection trouble: wait, then start over from the checkpoint
                log.warning("fetch_failed", consumer=self.durable, error=describe(e))
                await asyncio.sleep(0.5)
                rewind = True
                continue
            try:
                await self._process(msgs)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - e.g. the bus dropped mid-ack
                # what was not applied must come again before anything newer: a
                # redelivery after ack_wait would arrive behind the checkpoint
                log.error("batch_failed", consumer=self.durable, error=describe(e))
                await asyncio.sleep(0.5)
                rewind = True
            finally:
                self._advanced()

    async def _process(self, msgs) -> None:
        good: list[tuple[object, Recorded]] = []
        for msg in msgs:
            seq = msg.metadata.sequence.stream
            if seq <= self.checkpoint:
                await msg.ack()  # already applied: a redelivery changes nothing
                continue
            try:
                rec = await self._decode(msg)
            except Malformed as e:
                await self._deadletter(msg, f"malformed: {e}")
                continue
            good.append((msg, rec))
        if not good:
            return
        if self.c.kind == "projection":
            try:
                async with self._store.batch():
                    for msg, rec in good:
                        await self._apply(msg, rec)
                    await self._store.set_checkpoint(self.checkpoint_name, good[-1][1].seq)
            except Exception:  # noqa: BLE001 - fall back to one by one to find the culprit
                await self._one_by_one(good)
                return
            self.checkpoint = good[-1][1].seq
            await good[-1][0].ack()  # AckPolicy.ALL: one ack for the whole batch
        else:
            await self._one_by_one(good)

    async def _one_by_one(self, good) -> None:
        """Apply in order, retrying a failing event in place.

        Retrying here rather than with a delayed nak keeps the order: a nak'd
        message comes back after later ones, which would move the checkpoint
        past it. The message stays unacknowledged meanwhile, so if this
        process dies JetStream redelivers it from there.
        """
        for msg, rec in good:
            attempt = msg.metadata.num_delivered
            while True:
                try:
                    async with self._store.batch():
                        await self._apply(msg, rec)
                        await self._store.set_checkpoint(self.checkpoint_name, rec.seq)
                    error = None
                    break
                except Exception as e:
                    error = e
                    log.error("consumer_failed", consumer=self.durable, seq=rec.seq, type=rec.envelope.type,
                              attempt=attempt, error=describe(e))
                    if attempt >= self._max_deliver:
                        break
                    await asyncio.sleep(min(0.2 * 2 ** (attempt - 1), 10.0))
                    await msg.in_progress()
                    attempt += 1
            if error is not None:
                await self._deadletter(msg, f"handler failed {attempt} times: {describe(error)}")
                continue
            self.checkpoint = rec.seq
            await msg.ack()

    async def _apply(self, msg, rec: Recorded) -> None:
        if self.rebuilding:
            # a replay is no user's action: no span per old event (a rebuild
            # would flood the traces of the past, and spans cost a third of it)
            await self.c.handle(rec)
            return
        with tracer.start_as_current_span(
            f"{self.c.kind} {self.service}.{self.c.name} {rec.envelope.type}",
            context=propagate.extract(msg.headers) if msg.headers else None,  # the causing action's trace
            attributes={"hr.event.type": rec.envelope.type, "hr.stream.seq": rec.seq,
                        "hr.correlation_id": rec.envelope.correlation_id},
        ), structlog.contextvars.bound_contextvars(correlation_id=rec.envelope.correlation_id):
            await self.c.handle(rec)
            log.debug("event_applied", consumer=self.durable, type=rec.envelope.type, seq=rec.seq)

    async def _decode(self, msg) -> Recorded:
        if len(msg.data) > MAX_EVENT_BYTES:
            raise Malformed(f"payload of {len(msg.data)} bytes exceeds {MAX_EVENT_BYTES}")
        seq = msg.metadata.sequence.stream
        try:
            rec = await self._events.decode(seq, msg.subject, msg.data)
        except ValidationError as e:
            if any(err["type"] == "json_invalid" for err in e.errors()):
                raise Malformed("invalid JSON") from e
            where = ", ".join(".".join(map(str, err["loc"])) for err in e.errors()[:5])
            raise Malformed(f"invalid envelope or payload ({where})") from e
        except json.JSONDecodeError as e:
            raise Malformed("invalid JSON") from e
        except UnknownEvent as e:
            raise Malformed(f"unknown event type {e}") from e
        except UnsupportedVersion as e:
            raise Malformed(f"unsupported schema version {e}") from e
        return rec

    async def _deadletter(self, msg, reason: str) -> None:
        headers = {
            "Hr-Dlq-Reason": reason[:1000],
            "Hr-Dlq-Subject": msg.subject,
            "Hr-Dlq-Seq": str(msg.metadata.sequence.stream),
            "Hr-Dlq-Consumer": self.durable,
            "Nats-Msg-Id": f"dlq-{self.durable}-{msg.metadata.sequence.stream}",
        }
        await self._js.publish(deadletter_subject(self.service, self.c.name), msg.data, headers=headers)
        log.warning("dead_lettered", consumer=self.durable, seq=msg.metadata.sequence.stream, reason=reason)
        await msg.ack()
