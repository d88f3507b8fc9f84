"""The event log on JetStream: append with optimistic concurrency, load an aggregate.

See DESIGN.md §2 and docs/adr/0001-event-sourced-services-on-jetstream.md for the rules this keeps:
one subject per aggregate, ``Nats-Expected-Last-Subject-Sequence`` for
concurrency, ``Nats-Msg-Id`` = event id for dedup, atomic batches for commands
that yield several events.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Sequence

import nats.errors
from nats.aio.client import Client
from nats.js.errors import NotFoundError
from opentelemetry import propagate
from uuid6 import uuid7

from libs.contracts.base import Event
from libs.contracts.envelope import (
    CORRELATION_HEADER,
    EVENT_TYPE_HEADER,
    SCHEMA_VERSION_HEADER,
    Envelope,
)
from libs.contracts.errors import OutcomeUnknown, TooLarge, Unavailable
from libs.contracts.registry import decode_payload
from libs.contracts.subjects import EVENTS_STREAM, token
from libs.kit import scope
from libs.kit.direct import DirectReader
from libs.kit.pii import PiiVault
from libs.kit.provision import MAX_STREAM_MSG_BYTES

WRONG_LAST_SEQUENCE = 10071
#: what one event may weigh, checked before it is appended (the log is immutable: an oversized
#: event would stay there forever); well above what the contracts' field limits let through
MAX_EVENT_BYTES = 64 * 1024
#: a message on the bus larger than the stream accepts is malformed wherever it came from
MAX_MESSAGE_BYTES = MAX_STREAM_MSG_BYTES
#: how often an append whose PubAck timed out is sent again (same ids, same expected sequence: a no-op
#: if the first one was stored) before its outcome is reported unknown
PUBACK_RETRIES = 3


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


class EventStore:
    def __init__(self, nc: Client, vault: PiiVault, *, timeout: float = 5.0, leader_reads: bool = False):
        self._nc = nc
        self._js = nc.jetstream(timeout=timeout)
        self._vault = vault
        self._timeout = timeout
        self._direct = DirectReader(nc, timeout)
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

    async def _direct_batch(self, subject: str, start: int = 1) -> list[tuple[int, str, bytes]]:
        return [(m.seq, m.subject, m.data) for m in await self._direct.batch(EVENTS_STREAM, subject, start)]

    async def last_seq_of(self, subject: str) -> int:
        """The last stream sequence on one aggregate's subject (0: none)."""
        if self._leader_reads:
            return await self._leader_last_seq(subject)
        msg = await self._direct.last(EVENTS_STREAM, subject)
        return msg.seq if msg else 0

    async def close(self) -> None:
        await self._direct.close()

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
        aggregate_id = token(stream.subject.rsplit(".", 1)[1])
        now = datetime.now(UTC)
        request_key = scope.current().request_key
        sealed = []
        for i, event in enumerate(events):
            if event_ids:
                event_id = event_ids[i]
            elif request_key is not None:
                # a repeat of the same request appends the very same ids: the log stores them once
                event_id = uuid.uuid5(request_key, f"{stream.subject}:{stream.version + i + 1}")
            else:
                event_id = uuid7()
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
            body = envelope.model_dump_json().encode()
            if len(body) > MAX_EVENT_BYTES:
                raise TooLarge("event_too_large", limit=MAX_EVENT_BYTES)
            sealed.append((envelope, body))
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
        append of the same event ids is recognised and succeeds. Nothing is
        sent once the request's deadline has passed (its caller gave up);
        a PubAck that does not come is waited for by sending the same
        append again, and only then is the outcome reported unknown.
        """
        if not events:
            return stream.last_seq
        sealed = await self.seal(stream, events, meta, event_ids)
        if scope.current().expired():
            raise Unavailable("deadline_exceeded")
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
        ack = None
        for attempt in range(PUBACK_RETRIES + 1):
            try:
                if len(messages) == 1:
                    ack = await self._request(stream.subject, *messages[0])
                else:
                    ack = await self._atomic_batch(stream.subject, messages)
                break
            except nats.errors.TimeoutError:
                if attempt == PUBACK_RETRIES:
                    raise OutcomeUnknown("outcome_unknown") from None
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
