"""The event-store port in memory, for unit tests of handlers that need no nats-server.

Faithful by construction where it can be, and checked where it cannot:

- ``MemoryEventStore`` shares the whole client side with the JetStream adapter
  (``libs.kit.eventstore.SealingStore``: envelopes, sealing, the size limit, deadlines, the
  expected sequence on each aggregate's first message, re-sends after a lost PubAck, the
  "last message is mine" check). Only the log differs:
- ``MemoryLog`` answers publishes and atomic batches the way nats-server 2.15.1 answers them on
  the stream HR_EVENTS (single node), with the same PubAcks and error codes: one global
  sequence; a stale ``Nats-Expected-Last-Subject-Sequence`` is 10071, also for a re-send that
  carries both headers (the pitfall: the client resolves it); a message id seen within the
  duplicate window is a duplicate (the first one's sequence) for a plain publish and 10201 for a
  batch, checked before the expected sequences; a second expected sequence on a subject the
  batch already wrote is 10164; an oversized message is 10054; a batch is stored whole, in
  order, or not at all.
- ``MemoryVault`` seals with AES-GCM per subject through the very code of the key store on
  JetStream (``libs.kit.pii.Sealing``): same refusals, shredding forever.

tests/kit/test_eventstore_contract.py runs one suite against this and the JetStream adapter;
tests/kit/test_vault_contract.py does the same for the two vaults. What the design calls real
(immutability of the stream, replication, direct gets) is not modelled and stays tested on a real
server only.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from libs.contracts.subjects import EVENTS_STREAM, token
from libs.kit.eventstore import EXPECTED_HEADER, AppendFailed, Message, SealingStore
from libs.kit.eventstore_port import Stream
from libs.kit.pii import _SHREDDED, Sealing
from libs.kit.provision import MAX_STREAM_MSG_BYTES

#: the duplicate window of HR_EVENTS (libs/kit/provision.py)
DUPLICATE_WINDOW_S = 120.0
#: the subjects HR_EVENTS takes; a publish elsewhere has no stream to answer it
EVENTS_PREFIX = "hr.evt."


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    subject: str
    headers: dict[str, str]
    data: bytes


def _error(code: int, description: str) -> dict[str, Any]:
    return {"error": {"code": 400, "err_code": code, "description": description}, "stream": EVENTS_STREAM, "seq": 0}


@dataclass
class MemoryLog:
    """The stream HR_EVENTS as nats-server answers it; synchronous, so each publish or batch is one
    step of the event loop, as it is one step of the stream's apply loop on the server. Two stores
    on one log are two processes on one stream."""

    duplicate_window_s: float = DUPLICATE_WINDOW_S
    max_msg_bytes: int = MAX_STREAM_MSG_BYTES
    clock: Callable[[], float] = time.monotonic
    messages: list[StoredMessage] = field(default_factory=list)
    _by_subject: dict[str, list[int]] = field(default_factory=dict)
    _ids: dict[str, tuple[int, float]] = field(default_factory=dict)

    @property
    def last_seq(self) -> int:
        return len(self.messages)

    def message(self, seq: int) -> StoredMessage:
        return self.messages[seq - 1]

    def subject_last(self, subject: str) -> StoredMessage | None:
        seqs = self._by_subject.get(subject)
        return self.message(seqs[-1]) if seqs else None

    def on_subject(self, subject: str, start: int = 1) -> list[StoredMessage]:
        return [self.message(s) for s in self._by_subject.get(subject, ()) if s >= start]

    def _seen(self, msg_id: str | None) -> int | None:
        """The sequence a message id was stored at, while the duplicate window remembers it."""
        if not msg_id:
            return None
        hit = self._ids.get(msg_id)
        if hit is None:
            return None
        seq, at = hit
        if self.clock() - at >= self.duplicate_window_s:
            del self._ids[msg_id]
            return None
        return seq

    def _check_subject(self, subject: str) -> None:
        if not subject.startswith(EVENTS_PREFIX):
            raise AppendFailed(f"no stream listens on {subject}")  # what a request without responders means

    def _store(self, subject: str, headers: dict[str, str], data: bytes) -> int:
        seq = len(self.messages) + 1
        self.messages.append(StoredMessage(seq, subject, dict(headers), bytes(data)))
        self._by_subject.setdefault(subject, []).append(seq)
        if headers.get("Nats-Msg-Id"):
            self._ids[headers["Nats-Msg-Id"]] = (seq, self.clock())
        return seq

    def _expected_ok(self, subject: str, headers: dict[str, str]) -> dict[str, Any] | None:
        expected = headers.get(EXPECTED_HEADER)
        if expected is None:
            return None
        last = self.subject_last(subject)
        current = last.seq if last else 0
        if int(expected) != current:
            return _error(10071, f"wrong last sequence: {current}")
        return None

    def publish(self, subject: str, headers: dict[str, str], data: bytes) -> dict[str, Any]:
        """One message: the expected sequence first (so a re-send with both headers is 10071, not a
        duplicate), then the duplicate window, as measured on nats-server 2.15.1 single node."""
        self._check_subject(subject)
        if len(data) > self.max_msg_bytes:
            return _error(10054, "message size exceeds maximum allowed")
        refused = self._expected_ok(subject, headers)
        if refused:
            return refused
        seen = self._seen(headers.get("Nats-Msg-Id"))
        if seen is not None:
            return {"stream": EVENTS_STREAM, "seq": seen, "duplicate": True}
        return {"stream": EVENTS_STREAM, "seq": self._store(subject, headers, data)}

    def publish_batch(self, messages: list[Message]) -> dict[str, Any]:
        """An atomic batch: every message stored, contiguously and in order, or none. Duplicates
        (within the window or within the batch) are checked before the expected sequences."""
        for subject, _, data in messages:
            self._check_subject(subject)
            if len(data) > self.max_msg_bytes:
                return _error(10054, "message size exceeds maximum allowed")
        ids = [h.get("Nats-Msg-Id") for _, h, _ in messages if h.get("Nats-Msg-Id")]
        if len(set(ids)) != len(ids) or any(self._seen(i) is not None for i in ids):
            return _error(10201, "atomic publish batch contains duplicate message id")
        written: set[str] = set()
        for subject, headers, _ in messages:
            if EXPECTED_HEADER in headers and subject in written:
                return _error(10164, "wrong last sequence")
            refused = self._expected_ok(subject, headers)
            if refused:
                return refused
            written.add(subject)
        seq = 0
        for subject, headers, data in messages:
            seq = self._store(subject, headers, data)
        return {"stream": EVENTS_STREAM, "seq": seq, "batch": uuid.uuid4().hex, "count": len(messages)}


class MemoryVault(Sealing):
    """Personal-data keys in memory: a random AES-256 key per data subject, a permanent tombstone
    when shredded. Sealing and opening are the key store's own code (``Sealing``); a reader made by
    ``reader()`` shares the keys, as every process shares the key stream, and like a reader of the
    key store it may not create or shred."""

    def __init__(self, *, writer: bool = True, keys: dict[str, bytes] | None = None):
        self._writer = writer
        self._keys: dict[str, bytes] = {} if keys is None else keys

    def reader(self) -> MemoryVault:
        return MemoryVault(writer=False, keys=self._keys)

    async def key(self, subject: str, create: bool = False) -> bytes | None:
        token(subject)
        key = self._keys.get(subject)
        if key is None and create:
            if not self._writer:
                raise PermissionError("only the key store's writer (onboarding) creates keys")
            key = self._keys[subject] = AESGCM.generate_key(bit_length=256)
        return key

    async def shred(self, subject: str) -> None:
        if not self._writer:
            raise PermissionError("only the key store's writer (onboarding) shreds keys")
        token(subject)
        self._keys[subject] = _SHREDDED  # the key's bytes are gone; the tombstone stays

    async def close(self) -> None:
        return None


class MemoryEventStore(SealingStore):
    """The port in memory. ``log`` may be shared by several stores (processes); ``vault`` defaults
    to a fresh writer ``MemoryVault`` (then ``store.vault`` shreds)."""

    def __init__(self, vault: Sealing | None = None, *, log: MemoryLog | None = None):
        self.vault = vault if vault is not None else MemoryVault()
        super().__init__(self.vault)
        self.log = log if log is not None else MemoryLog()
        self._lost_pubacks = 0

    def lose_pubacks(self, n: int = 1) -> None:
        """Fault injection: the log takes the next ``n`` publishes but their PubAcks never arrive
        (what a frozen or partitioned server looks like to the client); the client re-sends as it
        does on JetStream."""
        self._lost_pubacks = n

    async def _send(self, messages: list[Message]) -> dict[str, Any]:
        await asyncio.sleep(0)  # a round trip: other tasks run meanwhile, as they do on the bus
        ack = self.log.publish(*messages[0]) if len(messages) == 1 else self.log.publish_batch(messages)
        if self._lost_pubacks:
            self._lost_pubacks -= 1
            raise TimeoutError("PubAck lost")
        return ack

    async def _last_message(self, subject: str) -> tuple[int, dict[str, str]] | None:
        msg = self.log.subject_last(subject)
        return (msg.seq, dict(msg.headers)) if msg else None

    async def load(self, subject: str, after: int = 0, base_version: int = 0) -> Stream:
        await asyncio.sleep(0)
        raw = self.log.on_subject(subject, start=after + 1)
        events = [await self.decode(m.seq, m.subject, m.data) for m in raw]
        last = raw[-1].seq if raw else after
        return Stream(subject=subject, events=events, last_seq=last, base_version=base_version)

    async def last_seq(self) -> int:
        return self.log.last_seq

    async def last_seq_of(self, subject: str) -> int:
        msg = self.log.subject_last(subject)
        return msg.seq if msg else 0

    async def close(self) -> None:
        return None


__all__ = ["MemoryEventStore", "MemoryLog", "MemoryVault", "StoredMessage"]
