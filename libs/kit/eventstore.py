"""The event log on JetStream: append with optimistic concurrency, load an aggregate.

See DESIGN.md §2 and docs/adr/0001-event-sourced-services-on-jetstream.md for the rules this keeps:
one subject per aggregate, ``Nats-Expected-Last-Subject-Sequence`` for
concurrency, ``Nats-Msg-Id`` = event id for dedup, atomic batches for commands
that yield several events.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Callable, Sequence

import nats.errors
from nats.aio.client import Client
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from opentelemetry import propagate
from uuid6 import uuid7

from libs.contracts.base import Event
from libs.contracts.envelope import (
    CORRELATION_HEADER,
    EVENT_TYPE_HEADER,
    SCHEMA_VERSION_HEADER,
    Envelope,
)
from libs.contracts.registry import decode_payload
from libs.contracts.subjects import EVENTS_ROOT, EVENTS_STREAM
from libs.kit.pii import PiiVault

WRONG_LAST_SEQUENCE = 10071
MAX_EVENT_BYTES = 256 * 1024


class ConcurrencyConflict(Exception):
    """Someone appended to the aggregate since we loaded it."""

    def __init__(self, subject: str, expected: int):
        super().__init__(f"{subject}: expected last sequence {expected}")
        self.subject = subject
        self.expected = expected


class AppendFailed(Exception):
    pass


@dataclass(frozen=True)
class Meta:
    """Who and why: copied into every envelope a command or policy appends."""

    actor: str | None
    correlation_id: str
    causation_id: str | None = None


@dataclass(frozen=True)
class Recorded:
    seq: int
    subject: str
    envelope: Envelope
    event: Event


@dataclass(frozen=True)
class Stream:
    """An aggregate's events as loaded, and where an append must continue."""

    subject: str
    #: the events loaded: all of them, or those after a state the caller already holds
    events: list[Recorded]
    last_seq: int
    #: how many events came before ``events`` (those the caller's state already holds)
    base_version: int = 0

    @property
    def version(self) -> int:
        return self.base_version + len(self.events)


async def ensure_events_stream(js, *, replicas: int = 1) -> None:
    """Create the log's stream if it is missing.

    The stream denies delete and purge: the log is immutable. Durability of
    the write itself (fsync) is a server setting (deploy/nats/*.conf).
    """
    config = StreamConfig(
        name=EVENTS_STREAM,
        subjects=[f"{EVENTS_ROOT}.>"],
        storage=StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=120.0,
        deny_delete=True,
        deny_purge=True,
        allow_direct=True,
        allow_atomic=True,
        max_msg_size=MAX_EVENT_BYTES,
    )
    try:
        await js.add_stream(config)
    except BadRequestError as e:
        if e.err_code != 10058:  # stream name already in use with a different config
            raise
        await js.update_stream(config)


class EventStore:
    def __init__(self, nc: Client, vault: PiiVault, *, timeout: float = 5.0, leader_reads: bool = False):
        self._nc = nc
        self._js = nc.jetstream(timeout=timeout)
        self._vault = vault
        self._timeout = timeout
        #: replies of direct gets: one wildcard inbox subscription, made on first use
        self._reply_sub = None
        self._reply_prefix = ""
        self._reply_n = 0
        self._reply_lock = asyncio.Lock()
        self._replies: dict[str, Callable[[Any], None]] = {}
        #: the stream is replicated: any replica answers a direct get, and a
        #: follower may not have applied the latest appends yet (a node that
        #: is catching up after a restart, or just raft lag). Loads are then
        #: checked against the stream leader, so a decision never sees a stale
        #: aggregate and a handler reads its own append.
        self._leader_reads = leader_reads

    # ---------------------------------------------------------------- reading

    async def load(self, subject: str, after: int = 0, base_version: int = 0) -> Stream:
        """The aggregate's events after stream sequence ``after`` (all by default).

        A caller holding the state as of ``after`` (and ``base_version``
        events) reads only what came since: one round trip, nothing decoded twice.
        """
        raw = await self._direct_batch(subject, start=after + 1)
        if self._leader_reads:
            leader_last = await self._leader_last_seq(subject)
            if (raw[-1][0] if raw else after) < leader_last:
                raw = await self._leader_batch(subject, start=after + 1)
        events = [await self.decode(seq, subj, data) for seq, subj, data in raw]
        last = raw[-1][0] if raw else after
        return Stream(subject=subject, events=events, last_seq=last, base_version=base_version)

    async def _direct_batch(self, subject: str, start: int = 1, batch: int = 1000) -> list[tuple[int, str, bytes]]:
        """All messages of one subject via batched direct get: one request, many replies.

        The replies come to one long-lived wildcard inbox (no SUB/UNSUB per
        load) and are gathered by its callback; the loader waits once per
        batch, not once per message (a wait_for per message cost more than
        decoding the message).
        """
        out: list[tuple[int, str, bytes]] = []
        while True:
            loop = asyncio.get_running_loop()
            done: asyncio.Future = loop.create_future()
            got = 0

            def on_reply(msg) -> None:
                nonlocal got
                if done.done():
                    return
                headers = msg.headers or {}
                status = headers.get("Status")
                if status in ("404", "408"):
                    done.set_result(True)  # nothing (more) on this subject
                elif status == "204":  # end of batch
                    done.set_result(False)
                elif status:
                    done.set_exception(AppendFailed(f"direct get failed: {status} {headers.get('Description')}"))
                else:
                    out.append((int(headers["Nats-Sequence"]), headers["Nats-Subject"], msg.data))
                    got += 1

            inbox = await self._reply_inbox(on_reply)
            try:
                req = json.dumps({"seq": start, "next_by_subj": subject, "batch": batch}).encode()
                await self._nc.publish(f"$JS.API.DIRECT.GET.{EVENTS_STREAM}", req, reply=inbox)
                ended = await asyncio.wait_for(done, self._timeout)
            finally:
                self._replies.pop(inbox, None)
            if ended or got < batch:
                return out
            start = out[-1][0] + 1

    async def _reply_inbox(self, on_reply: Callable[[Any], None]) -> str:
        """A fresh reply subject under this store's one wildcard inbox subscription."""
        if self._reply_sub is None:
            async with self._reply_lock:
                if self._reply_sub is None:
                    prefix = self._nc.new_inbox()

                    async def dispatch(msg) -> None:
                        handler = self._replies.get(msg.subject)
                        if handler is not None:
                            handler(msg)

                    self._reply_sub = await self._nc.subscribe(f"{prefix}.*", cb=dispatch)
                    self._reply_prefix = prefix
        self._reply_n += 1
        inbox = f"{self._reply_prefix}.{self._reply_n}"
        self._replies[inbox] = on_reply
        return inbox

    async def _leader_last_seq(self, subject: str) -> int:
        try:
            return (await self._js.get_last_msg(EVENTS_STREAM, subject)).seq  # not direct: the leader answers
        except NotFoundError:
            return 0

    async def _leader_batch(self, subject: str, start: int = 1) -> list[tuple[int, str, bytes]]:
        """The subject's messages from ``start`` on, from the stream leader, one request each (the rare,
        stale-follower path)."""
        out: list[tuple[int, str, bytes]] = []
        seq = start
        while True:
            try:
                msg = await self._js.get_msg(EVENTS_STREAM, seq=seq, subject=subject, next=True)
            except NotFoundError:
                return out
            out.append((msg.seq, msg.subject, msg.data))
            seq = msg.seq + 1

    async def decode(self, seq: int, subject: str, data: bytes) -> Recorded:
        envelope = Envelope.model_validate_json(data)
        payload = dict(envelope.payload)
        if envelope.pii is not None:
            payload.update(await self._vault.open(envelope.pii_subject, envelope.pii, str(envelope.event_id)))
        event = decode_payload(envelope.type, envelope.schema_version, payload)
        return Recorded(seq=seq, subject=subject, envelope=envelope, event=event)

    async def last_seq(self) -> int:
        info = await self._js.stream_info(EVENTS_STREAM)
        return info.state.last_seq

    # ---------------------------------------------------------------- writing

    async def seal(
        self,
        stream: Stream,
        events: Sequence[Event],
        meta: Meta,
        event_ids: Sequence[uuid.UUID] | None = None,
    ) -> list[tuple[Envelope, bytes]]:
        """Build the envelopes, encrypting personal data with its subject's key."""
        aggregate_id = stream.subject.rsplit(".", 1)[1]
        now = datetime.now(UTC)
        sealed = []
        for i, event in enumerate(events):
            event_id = event_ids[i] if event_ids else uuid7()
            data = event.model_dump(mode="json")
            pii_blob = pii_subject = None
            pii = {k: data.pop(k) for k in event.pii_fields if k in data}
            if pii:
                pii_subject = str(data.get(event.pii_subject_field) or aggregate_id)
                pii_blob = await self._vault.seal(pii_subject, pii, str(event_id))
            envelope = Envelope(
                event_id=event_id,
                type=event.type_name,
                schema_version=event.schema_version,
                aggregate_id=aggregate_id,
                aggregate_version=stream.version + i + 1,
                occurred_at=now,
                actor=meta.actor,
                correlation_id=meta.correlation_id,
                causation_id=meta.causation_id,
                payload=data,
                pii=pii_blob,
                pii_subject=pii_subject,
            )
            sealed.append((envelope, envelope.model_dump_json().encode()))
        return sealed

    async def append(
        self,
        stream: Stream,
        events: Sequence[Event],
        meta: Meta,
        event_ids: Sequence[uuid.UUID] | None = None,
    ) -> int:
        """Append after ``stream.last_seq``; return the last stored sequence.

        Raises ConcurrencyConflict when the aggregate moved on. A re-sent
        append of the same event ids is recognised and succeeds.
        """
        if not events:
            return stream.last_seq
        sealed = await self.seal(stream, events, meta, event_ids)
        messages = []
        for envelope, body in sealed:
            headers = {
                "Nats-Msg-Id": str(envelope.event_id),
                EVENT_TYPE_HEADER: envelope.type,
                SCHEMA_VERSION_HEADER: str(envelope.schema_version),
                CORRELATION_HEADER: envelope.correlation_id,
            }
            propagate.inject(headers)
            messages.append((headers, body))
        messages[0][0]["Nats-Expected-Last-Subject-Sequence"] = str(stream.last_seq)
        if len(messages) == 1:
            ack = await self._request(stream.subject, *messages[0])
        else:
            ack = await self._atomic_batch(stream.subject, messages)
        if "error" in ack:
            err = ack["error"]
            if err.get("err_code") in (WRONG_LAST_SEQUENCE, 10201):  # 10201: a re-sent atomic batch (duplicate msg id)
                mine = await self._already_mine(stream.subject, str(sealed[-1][0].event_id))
                if mine is not None:
                    return mine
                raise ConcurrencyConflict(stream.subject, stream.last_seq)
            raise AppendFailed(f"{stream.subject}: {err.get('description')} ({err.get('err_code')})")
        return int(ack["seq"])

    async def _request(self, subject: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        try:
            reply = await self._nc.request(subject, body, timeout=self._timeout, headers=dict(headers))
        except nats.errors.NoRespondersError as e:
            raise AppendFailed(f"no stream listens on {subject}") from e
        return json.loads(reply.data)

    async def _atomic_batch(self, subject: str, messages: list[tuple[dict[str, str], bytes]]) -> dict[str, Any]:
        """JetStream atomic batch publish (server >= 2.12): all or nothing.

        nats-py has no helper: each message carries the batch id and its
        position; the last also carries the commit flag and is sent as a
        request, whose reply is the PubAck (or the error) for the whole batch.
        """
        batch_id = uuid.uuid4().hex
        last = len(messages)
        for i, (headers, body) in enumerate(messages, start=1):
            h = dict(headers)
            h["Nats-Batch-Id"] = batch_id
            h["Nats-Batch-Sequence"] = str(i)
            if i < last:
                await self._nc.publish(subject, body, headers=h)
            else:
                h["Nats-Batch-Commit"] = "1"
                return await self._request(subject, h, body)
        raise AssertionError("unreachable")

    async def _already_mine(self, subject: str, last_event_id: str) -> int | None:
        """The retry pitfall: a re-sent append with both headers gets 10071.

        If the subject's last message is our own last event, the first
        attempt was stored: report its sequence instead of a conflict.
        """
        try:
            msg = await self._js.get_last_msg(EVENTS_STREAM, subject, direct=not self._leader_reads)
        except NotFoundError:
            return None
        if (msg.headers or {}).get("Nats-Msg-Id") == last_event_id:
            return msg.seq
        return None
