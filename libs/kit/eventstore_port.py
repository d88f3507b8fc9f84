"""The event-store port: what services, projections and policies ask of the event log.

Two adapters keep it (DESIGN.md §2, docs/adr/0001):

- ``libs.kit.eventstore.EventStore`` on JetStream, the source of truth in every mode;
- ``libs.kit.memory_eventstore.MemoryEventStore`` in memory, for unit tests of handlers that
  need no nats-server.

Both pass one contract suite (tests/kit/test_eventstore_contract.py), the way both document
stores do (docs/adr/0004). The port is narrow on purpose: everything the design calls real
(immutability of the stream, direct gets, leader reads, replication) stays the JetStream
adapter's and is tested on a real server only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from libs.contracts.base import Event
from libs.contracts.envelope import Envelope

#: what one event may weigh, checked before it is appended (the log is immutable: an oversized
#: event would stay there forever); well above what the contracts' field limits let through
MAX_EVENT_BYTES = 64 * 1024


class ConcurrencyConflict(Exception):
    """Someone appended to the aggregate since we loaded it.

    ``subject`` names the aggregate that moved on: in an append to several aggregates, the one
    whose expected sequence was stale (the caller reloads that one, or all, and decides again).
    """

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


#: one aggregate's share of a multi-aggregate append: its stream as loaded, the new events and,
#: optionally, their ids (a re-sent request passes the same ids)
Append = (
    tuple[Stream, Sequence[Event]]
    | tuple[Stream, Sequence[Event], Sequence[uuid.UUID] | None]
)


class EventStorePort(Protocol):
    """The event log as a service sees it. Sequences are the log's global sequence (one order
    over every aggregate); a subject is one aggregate instance."""

    async def load(self, subject: str, after: int = 0, base_version: int = 0) -> Stream:
        """The aggregate's events after sequence ``after`` (all by default); a caller that holds the
        state as of ``after`` (``base_version`` events) reads only what came since."""

    async def append(
        self,
        stream: Stream,
        events: Sequence[Event],
        meta: Meta,
        event_ids: Sequence[uuid.UUID] | None = None,
    ) -> int:
        """Append after ``stream.last_seq``, all events or none; return the last stored sequence.

        ConcurrencyConflict when the aggregate moved on (nothing stored). A re-send of an append
        that was stored (same event ids, same stream) returns its sequence and stores nothing.
        TooLarge for an oversized event and Unavailable past the request's deadline, both before
        anything is sent; OutcomeUnknown when no acknowledgement came after every re-send.
        """

    async def append_many(self, appends: Sequence[Append], meta: Meta) -> dict[str, int]:
        """One decision over several aggregates: every aggregate's events, or none at all.

        Each aggregate is guarded by its own expected sequence: a stale one on any of them is a
        ConcurrencyConflict naming it, and nothing is stored anywhere. Returns each subject's last
        stored sequence. Each aggregate appears once and with at least one event (an aggregate that
        is only read is not guarded by the append: ValueError).
        """

    async def decode(self, seq: int, subject: str, data: bytes) -> Recorded:
        """One stored message as an event, personal data opened (None once its subject is shredded)."""

    async def last_seq(self) -> int:
        """The log's last sequence (0: empty)."""

    async def last_seq_of(self, subject: str) -> int:
        """The last sequence on one aggregate's subject (0: none)."""

    async def close(self) -> None: ...


__all__ = [
    "MAX_EVENT_BYTES",
    "Append",
    "AppendFailed",
    "ConcurrencyConflict",
    "EventStorePort",
    "Meta",
    "Recorded",
    "Stream",
]
