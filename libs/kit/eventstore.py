"""The event log on JetStream: append with optimistic concurrency, load an aggregate.

See DESIGN.md §2 and docs/adr/0001-event-sourced-services-on-jetstream.md for the rules this keeps:
one subject per aggregate, ``Nats-Expected-Last-Subject-Sequence`` for
concurrency, ``Nats-Msg-Id`` = event id for dedup, atomic batches for commands
that yield several events (on one aggregate or several).

``EventStore`` is the JetStream adapter of the port in libs/kit/eventstore_port.py (whose names
this module re-exports, so ``from libs.kit.eventstore import Meta`` keeps working);
``SealingStore`` is the half it shares with the in-memory adapter (libs/kit/memory_eventstore.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

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
from libs.kit.eventstore_port import (
    MAX_EVENT_BYTES,
    Append,
    AppendFailed,
    ConcurrencyConflict,
    EventStorePort,
    Meta,
    Recorded,
    Stream,
)
from libs.kit.pii import Vault
from libs.kit.provision import MAX_STREAM_MSG_BYTES

#: a stale expected sequence (single node), and the resend pitfall: a retry carrying both the
#: expected-sequence and the message-id headers is answered with it, not with "duplicate"
WRONG_LAST_SEQUENCE = 10071
#: "wrong last sequence" without a number: what a replicated stream answers most racing appends
#: (measured on a 3-node cluster of nats-server 2.15.1, 20 rounds of 8 writers with one expected
#: sequence: 119 of the 140 losers got 10164, 21 got 10071), and what an expected sequence on a
#: subject the same atomic batch has already written is refused with
WRONG_LAST_SEQUENCE_CONSTANT = 10164
#: an atomic batch with a message id already stored: a re-sent batch, whatever its expected
#: sequences say (duplicates are checked before them)
BATCH_DUPLICATE = 10201
#: the three mean "maybe someone else appended, maybe it was our own first attempt": answered by
#: looking at the subjects' last messages (``_mine_or_conflict``)
REJECTED = (WRONG_LAST_SEQUENCE, WRONG_LAST_SEQUENCE_CONSTANT, BATCH_DUPLICATE)
EXPECTED_HEADER = "Nats-Expected-Last-Subject-Sequence"
#: a message on the bus larger than the stream accepts is malformed wherever it came from
MAX_MESSAGE_BYTES = MAX_STREAM_MSG_BYTES
#: how often an append whose PubAck timed out is sent again (same ids, same expected sequence: a no-op
#: if the first one was stored) before its outcome is reported unknown
PUBACK_RETRIES = 3

#: one message to the log: (subject, headers, body)
Message = tuple[str, dict[str, str], bytes]


class SealingStore:
    """What both adapters of the port share: building and sealing envelopes, decoding them, and
    the client side of an append (the expected sequence on each aggregate's first message, event
    ids as message ids, re-sends after a lost PubAck, and how a rejection is told apart from our
    own first attempt). Sharing it means the in-memory adapter differs from JetStream only where
    the log itself answers, and the contract suite checks that the answers agree.

    A subclass provides the transport: ``_send`` (one message plainly, several as one atomic
    batch; raises TimeoutError when the PubAck does not come), ``_last_message`` (the subject's
    last message as the log has it, for the resend check) and ``load``/``last_seq``/``last_seq_of``.
    """

    def __init__(self, vault: Vault):
        self._vault = vault

    async def _send(self, messages: list[Message]) -> dict[str, Any]:
        raise NotImplementedError

    async def _last_message(self, subject: str) -> tuple[int, dict[str, str]] | None:
        raise NotImplementedError

    async def last_seq_of(self, subject: str) -> int:
        raise NotImplementedError

    async def decode(self, seq: int, subject: str, data: bytes) -> Recorded:
        envelope = Envelope.model_validate_json(data)
        payload = dict(envelope.payload)
        if envelope.pii is not None:
            payload.update(await self._vault.open(envelope.pii_subject, envelope.pii, str(envelope.event_id)))
        event = decode_payload(envelope.type, envelope.schema_version, payload)
        return Recorded(seq=seq, subject=subject, envelope=envelope, event=event)

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
            # an empty personal field (None) holds nothing of anyone: it stays in the payload, and an event
            # by no one in particular (the system removing someone) needs no key
            pii = {k: data.pop(k) for k in event.pii_fields if data.get(k) is not None}
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
        return (await self.append_many([(stream, events, event_ids)], meta))[stream.subject]

    async def append_many(self, appends: Sequence[Append], meta: Meta) -> dict[str, int]:
        """Several aggregates' events as one atomic batch: all of them or none.

        JetStream takes an atomic batch over several subjects of one stream, and an expected last
        subject sequence on the first message of each subject, also where that message is not the
        batch's first; a stale one on any subject rejects the whole batch (nats-server 2.15.1,
        docs/adr/0001). A second expected sequence on a subject the batch already wrote is refused
        (10164), so each aggregate appears once, its expectation on its first message.
        """
        entries = []
        for a in appends:
            stream, events, ids = (a[0], a[1], a[2] if len(a) > 2 else None)
            if not events:
                raise ValueError(f"nothing to append to {stream.subject}: an aggregate only read is not "
                                 "guarded by an append (leave it out, or give it an event)")
            entries.append((stream, list(events), ids))
        subjects = [s.subject for s, _, _ in entries]
        if len(set(subjects)) != len(subjects):
            raise ValueError(f"an aggregate appears twice in one append: {subjects}")
        if not entries:
            return {}
        sealed = [await self.seal(stream, events, meta, ids) for stream, events, ids in entries]
        if scope.current().expired():
            raise Unavailable("deadline_exceeded")
        messages: list[Message] = []
        for (stream, _, _), envelopes in zip(entries, sealed, strict=True):
            for i, (envelope, body) in enumerate(envelopes):
                headers = {
                    "Nats-Msg-Id": str(envelope.event_id),
                    EVENT_TYPE_HEADER: envelope.type,
                    SCHEMA_VERSION_HEADER: str(envelope.schema_version),
                    CORRELATION_HEADER: envelope.correlation_id,
                }
                propagate.inject(headers)
                if i == 0:
                    headers[EXPECTED_HEADER] = str(stream.last_seq)
                messages.append((stream.subject, headers, body))
        ack = None
        for attempt in range(PUBACK_RETRIES + 1):
            try:
                ack = await self._send(messages)
                break
            except TimeoutError:
                if attempt == PUBACK_RETRIES:
                    raise OutcomeUnknown("outcome_unknown") from None
        if "error" in ack:
            err = ack["error"]
            if err.get("err_code") in REJECTED:
                last_ids = {stream.subject: str(envelopes[-1][0].event_id)
                            for (stream, _, _), envelopes in zip(entries, sealed, strict=True)}
                return await self._mine_or_conflict([stream for stream, _, _ in entries], last_ids)
            raise AppendFailed(f"{', '.join(subjects)}: {err.get('description')} ({err.get('err_code')})")
        if len(messages) == 1:  # a plain publish, also when deduplicated ("duplicate": the first one's sequence)
            return {subjects[0]: int(ack["seq"])}
        # an atomic batch is stored in one piece, in the order sent: its sequences are contiguous
        first = int(ack["seq"]) - len(messages) + 1
        out: dict[str, int] = {}
        for i, (subject, _, _) in enumerate(messages):
            out[subject] = first + i
        return out

    async def _mine_or_conflict(self, streams: list[Stream], last_ids: dict[str, str]) -> dict[str, int]:
        """The retry pitfall: a re-sent append with both headers gets 10071 (a re-sent batch 10201,
        a replicated stream often 10164), not "duplicate".

        If every subject's last message is our own last event on it, the first attempt was
        stored: report its sequences instead of a conflict. Otherwise the conflict names the first
        aggregate that someone else moved on (its last message is not ours and not where we
        expected it); the rejection itself does not say which.
        """
        lasts = {s.subject: await self._last_message(s.subject) for s in streams}

        def mine(subject: str) -> bool:
            msg = lasts[subject]
            return msg is not None and msg[1].get("Nats-Msg-Id") == last_ids[subject]

        if all(mine(s.subject) for s in streams):
            return {s.subject: lasts[s.subject][0] for s in streams}
        for s in streams:
            msg = lasts[s.subject]
            if (msg[0] if msg else 0) != s.last_seq and not mine(s.subject):
                raise ConcurrencyConflict(s.subject, s.last_seq)
        # none moved on as seen from here (ids stored before by another append, a lagging replica)
        first = next(s for s in streams if not mine(s.subject))
        raise ConcurrencyConflict(first.subject, first.last_seq)


class EventStore(SealingStore):
    """The port on JetStream: the stream HR_EVENTS, loads by direct get (from the leader when the
    stream is replicated), appends as plain publishes or atomic batches."""

    def __init__(self, nc: Client, vault: Vault, *, timeout: float = 5.0, leader_reads: bool = False):
        super().__init__(vault)
        self._nc = nc
        self._js = nc.jetstream(timeout=timeout)
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

    async def last_seq(self) -> int:
        info = await self._js.stream_info(EVENTS_STREAM)
        return info.state.last_seq

    # ---------------------------------------------------------------- writing

    async def _send(self, messages: list[Message]) -> dict[str, Any]:
        if len(messages) == 1:
            return await self._request(*messages[0])
        return await self._atomic_batch(messages)

    async def _request(self, subject: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        try:
            reply = await self._nc.request(subject, body, timeout=self._timeout, headers=dict(headers))
        except nats.errors.NoRespondersError as e:
            raise AppendFailed(f"no stream listens on {subject}") from e
        return json.loads(reply.data)

    async def _atomic_batch(self, messages: list[Message]) -> dict[str, Any]:
        """JetStream atomic batch publish (server >= 2.12): all or nothing, over one subject or several.

        nats-py has no helper: each message carries the batch id and its
        position; the last also carries the commit flag and is sent as a
        request, whose reply is the PubAck (or the error) for the whole batch.
        A re-send is a new batch (a new batch id) of the same messages.
        """
        batch_id = uuid.uuid4().hex
        last = len(messages)
        for i, (subject, headers, body) in enumerate(messages, start=1):
            h = dict(headers)
            h["Nats-Batch-Id"] = batch_id
            h["Nats-Batch-Sequence"] = str(i)
            if i < last:
                await self._nc.publish(subject, body, headers=h)
            else:
                h["Nats-Batch-Commit"] = "1"
                return await self._request(subject, h, body)
        raise AssertionError("unreachable")

    async def _last_message(self, subject: str) -> tuple[int, dict[str, str]] | None:
        try:
            msg = await self._js.get_last_msg(EVENTS_STREAM, subject, direct=not self._leader_reads)
        except NotFoundError:
            return None
        return msg.seq, dict(msg.headers or {})


__all__ = [
    "MAX_EVENT_BYTES",
    "MAX_MESSAGE_BYTES",
    "Append",
    "AppendFailed",
    "ConcurrencyConflict",
    "EventStore",
    "EventStorePort",
    "Meta",
    "Recorded",
    "SealingStore",
    "Stream",
]
