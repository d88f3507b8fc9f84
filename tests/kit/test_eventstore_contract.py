"""The event-store port's contract, run against both adapters: JetStream on a real nats-server and
the in-memory one (libs/kit/memory_eventstore.py).

Every test says what the port promises (DESIGN.md §2, docs/adr/0001), and both adapters must keep
it alike; where the promise rests on how the log answers (the 10071 resend pitfall, 10201 for a
re-sent batch, 10164), the tests also compare the raw answers, so the in-memory log is checked to
answer as nats-server 2.15.1 does. What only JetStream has (immutability of the stream, direct gets,
replication) stays in tests/kit/test_eventstore.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import nats
import nats.js.errors
import pytest
from uuid6 import uuid7

from libs.contracts.envelope import CORRELATION_HEADER, Envelope
from libs.contracts.errors import OutcomeUnknown, TooLarge, Unavailable
from libs.contracts.onboarding import ConsentGiven, MemberRegistered, ProfileUpdated, RulesAcknowledged
from libs.contracts.subjects import EVENTS_STREAM, event_subject
from libs.kit import scope
from libs.kit.eventstore import (
    EXPECTED_HEADER,
    PUBACK_RETRIES,
    ConcurrencyConflict,
    EventStore,
    EventStorePort,
    Meta,
    Stream,
)
from libs.kit.memory_eventstore import MemoryEventStore, MemoryLog, MemoryVault
from libs.kit.pii import PiiVault
from libs.kit.provision import provision

EMAIL_LOCAL = "anna.petrova"
FULL_NAME = "Anna Petrovna Ivanova-Smirnova"
FULL_NAME_RU = "Анна Петровна"

#: how long the JetStream adapter waits for a PubAck in the lost-PubAck tests
ACK_TIMEOUT = 0.5


@dataclass
class Backend:
    """One adapter under test, and what a test needs to look behind it."""

    kind: str
    store: EventStorePort
    vault: Any  # the writer vault (shreds)
    #: (headers, bytes) of the message stored at a sequence: what is really on the log
    raw: Callable[[int], Awaitable[tuple[dict[str, str], bytes]]]
    #: how many messages a subject holds on the log
    count: Callable[[str], Awaitable[int]]
    #: another process on the same log, with its own vault (nothing cached)
    other: Callable[[], Awaitable[EventStorePort]]
    #: the next PubAck(s) do not arrive: ``lose_pubacks(n)`` for n attempts
    lose_pubacks: Callable[[int], Awaitable[None]] = None  # type: ignore[assignment]
    #: waits until every fault injected has run its course
    settle: Callable[[], Awaitable[None]] = None  # type: ignore[assignment]
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        for c in reversed(self.closers):
            await c()


async def jetstream_backend(url: str, *, timeout: float = 5.0, server=None) -> Backend:
    """The store built the way libs/kit/service.py builds it."""
    nc = await nats.connect(url, max_reconnect_attempts=-1)
    js = nc.jetstream()
    await provision(nc)
    vault = await PiiVault.connect(nc, writer=True)
    store = EventStore(nc, vault, timeout=timeout)

    async def raw(seq: int):
        msg = await js.get_msg(EVENTS_STREAM, seq)
        return dict(msg.headers or {}), msg.data

    async def count(subject: str) -> int:
        info = await js.stream_info(EVENTS_STREAM, subjects_filter=subject)
        return (info.state.subjects or {}).get(subject, 0)

    b = Backend("jetstream", store, vault, raw, count, other=None)  # type: ignore[arg-type]

    async def other() -> EventStorePort:
        onc = await nats.connect(url)
        ovault = await PiiVault.connect(onc)
        ostore = EventStore(onc, ovault)
        b.closers.append(onc.close)
        b.closers.append(ovault.close)
        b.closers.append(ostore.close)
        return ostore

    frozen: list[asyncio.Task] = []

    async def lose_pubacks(n: int) -> None:
        """Freeze the server (SIGSTOP) for ``n`` PubAck timeouts and a little: what was sent meanwhile
        is taken when it wakes, its PubAcks too late for the attempts that waited for them."""
        assert server is not None, "lost PubAcks need a server of the test's own (fresh_nats)"
        os.kill(server.proc.pid, signal.SIGSTOP)
        await frozen_solid(server.proc.pid)

        async def wake() -> None:
            await asyncio.sleep(n * timeout + timeout * 0.6)
            os.kill(server.proc.pid, signal.SIGCONT)

        frozen.append(asyncio.create_task(wake()))

    async def settle() -> None:
        for t in frozen:
            await t
        await asyncio.sleep(0.3)  # the server answers what it took while frozen

    async def resume() -> None:
        for t in frozen:
            t.cancel()
        if server is not None and server.proc.poll() is None:
            os.kill(server.proc.pid, signal.SIGCONT)

    b.other, b.lose_pubacks, b.settle = other, lose_pubacks, settle
    b.closers += [nc.close, vault.close, store.close, resume]
    return b


async def frozen_solid(pid: int) -> None:
    """Until every thread of the process has stopped: os.kill returns before they all have, and a
    thread still running answers a request sent meanwhile (seen: a PubAck 0.4 ms after SIGSTOP,
    the process already in state T; about 1 run in 15)."""
    deadline = time.monotonic() + 2.0
    while True:
        states = []
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/stat") as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except FileNotFoundError:
                continue  # a thread that ended meanwhile
        if all(st in ("T", "t") for st in states):
            return
        assert time.monotonic() < deadline, f"nats-server {pid} did not stop: {states}"
        await asyncio.sleep(0.001)


def memory_backend() -> Backend:
    log = MemoryLog()
    vault = MemoryVault(writer=True)
    store = MemoryEventStore(vault, log=log)

    async def raw(seq: int):
        msg = log.message(seq)
        return dict(msg.headers), msg.data

    async def count(subject: str) -> int:
        return len(log.on_subject(subject))

    async def other() -> EventStorePort:
        return MemoryEventStore(vault.reader(), log=log)

    async def lose_pubacks(n: int) -> None:
        store.lose_pubacks(n)

    async def settle() -> None:
        store.lose_pubacks(0)  # the fault is over (on JetStream: the server woke up)

    return Backend("memory", store, vault, raw, count, other, lose_pubacks, settle)


@pytest.fixture(params=["jetstream", "memory"])
async def backend(request) -> AsyncIterator[Backend]:
    if request.param == "jetstream":
        b = await jetstream_backend(request.getfixturevalue("nats_server").url)
    else:
        b = memory_backend()
    yield b
    await b.close()


@pytest.fixture(params=["jetstream", "memory"])
async def faulty(request) -> AsyncIterator[Backend]:
    """A backend whose PubAcks can be lost: on JetStream a server of the test's own, frozen with SIGSTOP."""
    if request.param == "jetstream":
        server = request.getfixturevalue("fresh_nats")
        b = await jetstream_backend(server.url, timeout=ACK_TIMEOUT, server=server)
    else:
        b = memory_backend()
    yield b
    await b.close()


def new_member() -> tuple[str, str]:
    member_id = uuid.uuid4().hex
    return member_id, event_subject("onboarding", "member", member_id)


def new_vacancy() -> tuple[str, str]:
    vacancy_id = uuid.uuid4().hex
    return vacancy_id, event_subject("kittest", "vacancy", vacancy_id)  # a made-up service: the log test skips it


def meta() -> Meta:
    return Meta(actor="tester", correlation_id=uuid.uuid4().hex, causation_id="cause-1")


def registered(member_id: str, name: str = FULL_NAME) -> MemberRegistered:
    return MemberRegistered(
        member_id=member_id,
        invitation_id="inv-12345678",
        roles=("guest",),
        email=f"{EMAIL_LOCAL}.{member_id[:8]}@example.org",
        full_name=name,
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
    )


@asynccontextmanager
async def answers(store) -> AsyncIterator[list[dict[str, Any]]]:
    """Every raw answer the log gives the store meanwhile (PubAck or error): the same scenario must
    be answered alike by nats-server and by the in-memory log."""
    seen: list[dict[str, Any]] = []
    send = store._send

    async def spy(messages):
        ack = await send(messages)
        seen.append(ack)
        return ack

    store._send = spy
    try:
        yield seen
    finally:
        del store._send


async def ours_since(backend: Backend, before: int, m: Meta) -> list[int]:
    """The sequences after ``before`` that carry ``m``'s correlation id: what an append with ``m``
    left on the log. Not the log's last sequence alone: the JetStream backend shares its server with
    the whole session, and another test's service may append meanwhile (seen once in CI)."""
    last = await backend.store.last_seq()
    found = []
    for seq in range(before + 1, last + 1):
        try:
            headers, _ = await backend.raw(seq)
        except nats.js.errors.NotFoundError:
            continue  # erased or purged by someone else meanwhile
        if headers.get(CORRELATION_HEADER) == m.correlation_id:
            found.append(seq)
    return found


def codes(acks: list[dict[str, Any]]) -> list[int | str]:
    return [a["error"]["err_code"] if "error" in a else ("duplicate" if a.get("duplicate") else "ok") for a in acks]


# ------------------------------------------------------------------ append / load


async def test_append_to_a_new_aggregate_and_load_it_back(backend):
    store = backend.store
    member_id, subject = new_member()
    empty = await store.load(subject)
    assert empty == Stream(subject=subject, events=[], last_seq=0)

    event = RulesAcknowledged(member_id=member_id)
    m = meta()
    seq = await store.append(empty, [event], m)
    assert seq > 0
    assert await store.last_seq_of(subject) == seq
    assert await store.last_seq() >= seq

    loaded = await store.load(subject)
    assert loaded.last_seq == seq
    assert loaded.version == 1
    [rec] = loaded.events
    assert rec.seq == seq
    assert rec.subject == subject
    assert rec.event == event
    env = rec.envelope
    assert env.type == "RulesAcknowledged"
    assert env.schema_version == 1
    assert env.aggregate_id == member_id
    assert env.aggregate_version == 1
    assert env.correlation_id == m.correlation_id
    assert env.causation_id == "cause-1"
    assert env.actor == "tester"
    assert env.event_id.version == 7
    assert env.occurred_at.utcoffset().total_seconds() == 0
    assert env.pii is None and env.pii_subject is None

    # the message itself carries the routing headers and the event id for dedup, and decodes alike
    headers, data = await backend.raw(seq)
    assert headers["Nats-Msg-Id"] == str(env.event_id)
    assert headers["Hr-Event-Type"] == "RulesAcknowledged"
    assert headers["Hr-Correlation-Id"] == m.correlation_id
    assert headers[EXPECTED_HEADER] == "0"
    assert await store.decode(seq, subject, data) == rec

    # the next append continues the aggregate version
    seq2 = await store.append(loaded, [ConsentGiven(member_id=member_id)], meta())
    again = await store.load(subject)
    assert seq2 > seq
    assert [r.envelope.aggregate_version for r in again.events] == [1, 2]
    assert [r.seq for r in again.events] == [seq, seq2]
    assert [type(r.event) for r in again.events] == [RulesAcknowledged, ConsentGiven]
    assert (await backend.raw(seq2))[0][EXPECTED_HEADER] == str(seq)


async def test_loading_an_unknown_aggregate_is_empty(backend):
    _, subject = new_member()
    stream = await backend.store.load(subject)
    assert stream.events == [] and stream.last_seq == 0 and stream.version == 0
    assert await backend.store.last_seq_of(subject) == 0


async def test_load_after_a_known_state_reads_only_what_came_since(backend):
    store = backend.store
    member_id, subject = new_member()
    s1 = await store.append(await store.load(subject), [registered(member_id)], meta())
    s2 = await store.append(await store.load(subject), [ConsentGiven(member_id=member_id)], meta())
    s3 = await store.append(await store.load(subject), [RulesAcknowledged(member_id=member_id)], meta())

    since = await store.load(subject, after=s1, base_version=1)
    assert [r.seq for r in since.events] == [s2, s3]
    assert since.base_version == 1 and since.version == 3 and since.last_seq == s3

    # nothing new: the stream stands where the caller's state does
    nothing = await store.load(subject, after=s3, base_version=3)
    assert nothing.events == [] and nothing.last_seq == s3 and nothing.version == 3

    # and an append continues from there
    s4 = await store.append(nothing, [ConsentGiven(member_id=member_id)], meta())
    assert [r.envelope.aggregate_version for r in (await store.load(subject)).events] == [1, 2, 3, 4]
    assert (await store.load(subject, after=s3, base_version=3)).events[0].seq == s4


async def test_append_with_a_stale_stream_conflicts_and_stores_nothing(backend):
    store = backend.store
    member_id, subject = new_member()
    stale = await store.load(subject)
    first = await store.append(stale, [RulesAcknowledged(member_id=member_id)], meta())

    async with answers(store) as acks:
        with pytest.raises(ConcurrencyConflict) as info:
            await store.append(stale, [ConsentGiven(member_id=member_id)], meta())
    assert codes(acks) == [10071]
    assert info.value.subject == subject
    assert info.value.expected == 0

    loaded = await store.load(subject)
    assert loaded.last_seq == first
    assert [type(r.event) for r in loaded.events] == [RulesAcknowledged]
    assert await backend.count(subject) == 1


async def test_a_stream_ahead_of_the_log_conflicts_too(backend):
    store = backend.store
    member_id, subject = new_member()
    seq = await store.append(await store.load(subject), [RulesAcknowledged(member_id=member_id)], meta())
    ahead = Stream(subject=subject, events=[], last_seq=seq + 1000)
    with pytest.raises(ConcurrencyConflict):
        await store.append(ahead, [ConsentGiven(member_id=member_id)], meta())
    assert await backend.count(subject) == 1


async def test_an_empty_append_stores_nothing(backend):
    _, subject = new_member()
    stream = await backend.store.load(subject)
    assert await backend.store.append(stream, [], meta()) == 0
    assert await backend.store.append_many([], meta()) == {}
    assert await backend.count(subject) == 0


# ------------------------------------------------------------------ atomic batches


async def test_a_multi_event_append_is_stored_as_one_batch(backend):
    store = backend.store
    member_id, subject = new_member()
    events = [registered(member_id), ConsentGiven(member_id=member_id), RulesAcknowledged(member_id=member_id)]
    m = meta()
    last = await store.append(await store.load(subject), events, m)

    loaded = await store.load(subject)
    assert loaded.last_seq == last
    assert [r.event for r in loaded.events] == events
    assert [r.seq for r in loaded.events] == [last - 2, last - 1, last]
    assert [r.envelope.aggregate_version for r in loaded.events] == [1, 2, 3]
    assert {r.envelope.correlation_id for r in loaded.events} == {m.correlation_id}
    assert len({r.envelope.event_id for r in loaded.events}) == 3
    # the expected sequence rides on the first message only
    assert [EXPECTED_HEADER in (await backend.raw(s))[0] for s in (last - 2, last - 1, last)] == [True, False, False]


async def test_a_stale_batch_stores_nothing(backend):
    store = backend.store
    member_id, subject = new_member()
    stale = await store.load(subject)
    first = await store.append(stale, [RulesAcknowledged(member_id=member_id)], meta())
    before = await store.load(subject)

    async with answers(store) as acks:
        with pytest.raises(ConcurrencyConflict):
            await store.append(stale, [registered(member_id), ConsentGiven(member_id=member_id)], meta())
    assert codes(acks) == [10071]

    after = await store.load(subject)
    assert after.last_seq == first == before.last_seq
    assert [r.envelope.event_id for r in after.events] == [r.envelope.event_id for r in before.events]
    assert await backend.count(subject) == 1


async def test_a_batch_after_a_batch_continues_versions(backend):
    store = backend.store
    member_id, subject = new_member()
    await store.append(await store.load(subject), [registered(member_id), ConsentGiven(member_id=member_id)], meta())
    loaded = await store.load(subject)
    last = await store.append(
        loaded, [RulesAcknowledged(member_id=member_id), RulesAcknowledged(member_id=member_id)], meta()
    )
    again = await store.load(subject)
    assert again.last_seq == last
    assert [r.envelope.aggregate_version for r in again.events] == [1, 2, 3, 4]


# ------------------------------------------------------------------ the retry pitfall


async def test_resending_a_successful_single_append_returns_its_sequence(backend):
    store = backend.store
    member_id, subject = new_member()
    stream = await store.load(subject)
    ids = [uuid7()]
    event = [RulesAcknowledged(member_id=member_id)]
    seq = await store.append(stream, event, meta(), ids)

    # the same request again: same ids, same (now stale) Stream object; the log answers 10071 (both
    # headers), not "duplicate", and the subject's last message being ours makes it a success
    async with answers(store) as acks:
        assert await store.append(stream, event, meta(), ids) == seq
    assert codes(acks) == [10071]
    loaded = await store.load(subject)
    assert [r.envelope.event_id for r in loaded.events] == ids
    assert await backend.count(subject) == 1


async def test_resending_a_successful_batch_returns_its_last_sequence(backend):
    store = backend.store
    member_id, subject = new_member()
    stream = await store.load(subject)
    ids = [uuid7(), uuid7()]
    events = [registered(member_id), ConsentGiven(member_id=member_id)]
    last = await store.append(stream, events, meta(), ids)

    async with answers(store) as acks:
        assert await store.append(stream, events, meta(), ids) == last
    assert codes(acks) == [10201]  # a re-sent batch: duplicate message ids, checked before the sequence
    loaded = await store.load(subject)
    assert [r.envelope.event_id for r in loaded.events] == ids
    assert loaded.last_seq == last
    assert await backend.count(subject) == 2


async def test_a_resend_is_a_conflict_once_someone_else_appended(backend):
    store = backend.store
    member_id, subject = new_member()
    stream = await store.load(subject)
    ids = [uuid7()]
    await store.append(stream, [RulesAcknowledged(member_id=member_id)], meta(), ids)
    await store.append(await store.load(subject), [ConsentGiven(member_id=member_id)], meta())

    # a different event id on the stale stream is never mistaken for our own
    with pytest.raises(ConcurrencyConflict):
        await store.append(stream, [RulesAcknowledged(member_id=member_id)], meta(), [uuid7()])
    # nor is our own once it is no longer the last
    with pytest.raises(ConcurrencyConflict):
        await store.append(stream, [RulesAcknowledged(member_id=member_id)], meta(), ids)
    assert await backend.count(subject) == 2


async def test_a_resent_batch_is_a_conflict_once_someone_else_appended(backend):
    store = backend.store
    member_id, subject = new_member()
    stream = await store.load(subject)
    ids = [uuid7(), uuid7()]
    events = [registered(member_id), ConsentGiven(member_id=member_id)]
    await store.append(stream, events, meta(), ids)
    await store.append(await store.load(subject), [RulesAcknowledged(member_id=member_id)], meta())

    with pytest.raises(ConcurrencyConflict):
        await store.append(stream, events, meta(), ids)
    assert await backend.count(subject) == 3


async def test_a_repeated_request_appends_the_same_ids_once(backend):
    """Within one request scope, ids derive from the request key: the repeat is a re-send."""
    store = backend.store
    member_id, subject = new_member()
    stream = await store.load(subject)
    key = uuid.uuid4()
    with scope.scoped(scope.Scope(request_key=key)):
        seq = await store.append(stream, [RulesAcknowledged(member_id=member_id)], meta())
        assert await store.append(stream, [RulesAcknowledged(member_id=member_id)], meta()) == seq
    [rec] = (await store.load(subject)).events
    assert rec.envelope.event_id == uuid.uuid5(key, f"{subject}:1")


# ------------------------------------------------------------------ several aggregates at once


async def test_one_decision_appends_to_two_aggregates_each_with_its_expected_sequence(backend):
    """A member's pick and a vacancy's seat, one batch over two subjects: each subject's first
    message carries that subject's expected sequence, also where it is not the batch's first."""
    store = backend.store
    member_id, member = new_member()
    vacancy_id, vacancy = new_vacancy()
    await store.append(await store.load(member), [registered(member_id)], meta())
    m_stream, v_stream = await store.load(member), await store.load(vacancy)
    m = meta()
    before = await store.last_seq()

    got = await store.append_many(
        [(m_stream, [ConsentGiven(member_id=member_id), RulesAcknowledged(member_id=member_id)]),
         (v_stream, [RulesAcknowledged(member_id=vacancy_id)])],
        m,
    )
    m_after, v_after = await store.load(member), await store.load(vacancy)
    assert got == {member: m_after.last_seq, vacancy: v_after.last_seq}
    # stored in one piece, in order: contiguous sequences
    assert [r.seq for r in m_after.events[1:]] + [r.seq for r in v_after.events] == [
        got[vacancy] - 2, got[vacancy] - 1, got[vacancy]
    ]
    assert [r.envelope.aggregate_version for r in m_after.events] == [1, 2, 3]
    assert [r.envelope.aggregate_version for r in v_after.events] == [1]
    assert {r.envelope.correlation_id for r in m_after.events[1:] + v_after.events} == {m.correlation_id}
    expected = [(await backend.raw(s))[0].get(EXPECTED_HEADER) for s in range(got[vacancy] - 2, got[vacancy] + 1)]
    assert expected == [str(m_stream.last_seq), None, "0"]
    assert await ours_since(backend, before, m) == [got[vacancy] - 2, got[vacancy] - 1, got[vacancy]]


@pytest.mark.parametrize("stale_one", ["first", "second"])
async def test_a_stale_aggregate_in_a_multi_aggregate_append_stores_nothing_anywhere(backend, stale_one):
    store = backend.store
    member_id, member = new_member()
    vacancy_id, vacancy = new_vacancy()
    m_stream, v_stream = await store.load(member), await store.load(vacancy)
    # someone else moves one of the two on
    moved, moved_id = (member, member_id) if stale_one == "first" else (vacancy, vacancy_id)
    await store.append(await store.load(moved), [RulesAcknowledged(member_id=moved_id)], meta())
    before = await store.last_seq()
    m = meta()

    async with answers(store) as acks:
        with pytest.raises(ConcurrencyConflict) as info:
            await store.append_many(
                [(m_stream, [registered(member_id)]), (v_stream, [RulesAcknowledged(member_id=vacancy_id)])], m
            )
    assert codes(acks) == [10071]
    assert info.value.subject == moved and info.value.expected == 0
    assert await ours_since(backend, before, m) == []
    assert await backend.count(member) + await backend.count(vacancy) == 1


async def test_a_resent_multi_aggregate_append_returns_its_sequences(backend):
    store = backend.store
    member_id, member = new_member()
    vacancy_id, vacancy = new_vacancy()
    m_stream, v_stream = await store.load(member), await store.load(vacancy)
    appends = [(m_stream, [registered(member_id)], [uuid7()]),
               (v_stream, [RulesAcknowledged(member_id=vacancy_id)], [uuid7()])]
    got = await store.append_many(appends, meta())

    async with answers(store) as acks:
        assert await store.append_many(appends, meta()) == got
    assert codes(acks) == [10201]
    assert await backend.count(member) == await backend.count(vacancy) == 1

    # once one of them moved on, the re-send is no longer recognised as ours
    await store.append(await store.load(vacancy), [ConsentGiven(member_id=vacancy_id)], meta())
    with pytest.raises(ConcurrencyConflict) as info:
        await store.append_many(appends, meta())
    assert info.value.subject == vacancy


async def test_a_multi_aggregate_append_names_each_aggregate_once_with_events(backend):
    member_id, member = new_member()
    stream = await backend.store.load(member)
    with pytest.raises(ValueError):
        await backend.store.append_many(
            [(stream, [registered(member_id)]), (stream, [ConsentGiven(member_id=member_id)])], meta()
        )
    _, vacancy = new_vacancy()
    with pytest.raises(ValueError):  # only read: an append would not guard it
        await backend.store.append_many([(stream, [registered(member_id)]), (await backend.store.load(vacancy), [])],
                                        meta())
    assert await backend.count(member) == 0


async def test_the_log_refuses_a_second_expected_sequence_on_a_subject_the_batch_wrote(backend):
    """Why each aggregate appears once in a batch: nats-server 2.15.1 answers 10164 to an expected
    sequence on a subject the same batch has already written, whatever its value; the in-memory log
    answers alike."""
    _, subject = new_member()

    def msg(expected: str | None) -> tuple[str, dict[str, str], bytes]:
        headers = {"Nats-Msg-Id": uuid.uuid4().hex}
        if expected is not None:
            headers[EXPECTED_HEADER] = expected
        return subject, headers, b"{}"

    store: Any = backend.store
    assert codes([await store._send([msg("0"), msg("1")])]) == [10164]
    assert codes([await store._send([msg("0"), msg("0")])]) == [10164]
    assert await backend.count(subject) == 0
    assert codes([await store._send([msg("0"), msg(None)])]) == ["ok"]


# ------------------------------------------------------------------ concurrency


async def test_concurrent_appends_with_one_expected_sequence_exactly_one_wins(backend):
    store = backend.store
    member_id, subject = new_member()
    stream = await store.load(subject)
    others = [await backend.other() for _ in range(3)]
    stores = [store, *others]

    async def one(i: int):
        try:
            return await stores[i % len(stores)].append(stream, [RulesAcknowledged(member_id=member_id)], meta())
        except ConcurrencyConflict as e:
            return e

    results = await asyncio.gather(*(one(i) for i in range(8)))
    won = [r for r in results if isinstance(r, int)]
    lost = [r for r in results if isinstance(r, ConcurrencyConflict)]
    assert len(won) == 1 and len(lost) == 7
    assert {e.subject for e in lost} == {subject}
    assert await backend.count(subject) == 1
    assert (await store.load(subject)).last_seq == won[0]


async def test_concurrent_multi_aggregate_appends_over_a_shared_aggregate_exactly_one_wins(backend):
    """Many members pick the last seat of one vacancy: each decision appends to its member and to
    the vacancy; the vacancy's expected sequence lets one of them through."""
    store = backend.store
    vacancy_id, vacancy = new_vacancy()
    v_stream = await store.load(vacancy)
    other = await backend.other()

    async def pick(i: int):
        member_id, member = new_member()
        try:
            return await (store, other)[i % 2].append_many(
                [(await store.load(member), [RulesAcknowledged(member_id=member_id)]),
                 (v_stream, [ConsentGiven(member_id=vacancy_id)])], meta())
        except ConcurrencyConflict as e:
            return e

    results = await asyncio.gather(*(pick(i) for i in range(6)))
    won = [r for r in results if isinstance(r, dict)]
    assert len(won) == 1
    assert {e.subject for e in results if isinstance(e, ConcurrencyConflict)} == {vacancy}
    assert await backend.count(vacancy) == 1
    [member] = [s for s in won[0] if s != vacancy]
    assert await backend.count(member) == 1


# ------------------------------------------------------------------ limits and deadlines


async def test_an_event_over_the_size_limit_is_refused_before_it_is_appended(backend):
    store = backend.store
    member_id, subject = new_member()
    stream = await store.load(subject)
    huge = ProfileUpdated(member_id=member_id, about="я" * 40_000)  # 80 KB of UTF-8, sealed and encoded
    before = await store.last_seq()
    m = meta()
    async with answers(store) as acks:
        with pytest.raises(TooLarge):
            await store.append(stream, [huge], m)
        with pytest.raises(TooLarge):  # nor half of a batch
            await store.append(stream, [RulesAcknowledged(member_id=member_id), huge], m)
    assert acks == []  # nothing was sent
    assert (await store.load(subject)).events == []
    assert await ours_since(backend, before, m) == []


async def test_nothing_is_appended_once_the_deadline_has_passed(backend):
    store = backend.store
    member_id, subject = new_member()
    _, vacancy = new_vacancy()
    stream = await store.load(subject)
    with scope.scoped(scope.Scope(deadline=time.time() - 0.001)):
        with pytest.raises(Unavailable):
            await store.append(stream, [RulesAcknowledged(member_id=member_id)], meta())
        with pytest.raises(Unavailable):
            await store.append_many(
                [(stream, [registered(member_id)]), (await store.load(vacancy), [ConsentGiven(member_id=member_id)])],
                meta())
    assert await backend.count(subject) == await backend.count(vacancy) == 0


# ------------------------------------------------------------------ a PubAck that does not come


async def test_a_lost_puback_is_waited_for_by_sending_the_same_append_again(faulty):
    """The log takes the append, its PubAck does not come in time, the append is sent again with the
    same ids and expected sequence, and the log holds it once."""
    store = faulty.store
    member_id, subject = new_member()
    stream = await store.load(subject)
    await faulty.lose_pubacks(1)
    async with answers(store) as acks:
        seq = await store.append(stream, [RulesAcknowledged(member_id=member_id)], meta())
    assert codes(acks) == [10071]  # the first answer lost; the re-send's is the pitfall, resolved as ours
    await faulty.settle()
    assert [r.seq for r in (await store.load(subject)).events] == [seq]


async def test_a_lost_puback_of_a_multi_aggregate_batch_is_waited_for_too(faulty):
    store = faulty.store
    member_id, member = new_member()
    vacancy_id, vacancy = new_vacancy()
    # no personal data: sealing would ask the (frozen) key store before anything is appended
    appends = [(await store.load(member), [ConsentGiven(member_id=member_id), RulesAcknowledged(member_id=member_id)]),
               (await store.load(vacancy), [RulesAcknowledged(member_id=vacancy_id)])]
    await faulty.lose_pubacks(1)
    async with answers(store) as acks:
        got = await store.append_many(appends, meta())
    assert codes(acks) == [10201]
    await faulty.settle()
    assert await faulty.count(member) == 2 and await faulty.count(vacancy) == 1
    assert got == {member: await store.last_seq_of(member), vacancy: await store.last_seq_of(vacancy)}


async def test_an_append_whose_pubacks_never_come_is_reported_unknown_and_stored_at_most_once(faulty):
    store = faulty.store
    member_id, subject = new_member()
    stream = await store.load(subject)
    await faulty.lose_pubacks(PUBACK_RETRIES + 2)
    async with answers(store) as acks:
        with pytest.raises(OutcomeUnknown):
            await store.append(stream, [RulesAcknowledged(member_id=member_id)], meta())
    assert acks == []  # every attempt's answer lost
    await faulty.settle()
    after = await store.load(subject)
    assert len(after.events) <= 1  # stored or not: unknown to the caller, never twice
    # and the log goes on: the caller reloads and decides again
    await store.append(after, [ConsentGiven(member_id=member_id)], meta())
    assert await faulty.count(subject) == len(after.events) + 1


# ------------------------------------------------------------------ personal data


def assert_no_clear_pii(data: bytes, event: MemberRegistered) -> None:
    text = data.decode()
    for secret in (event.email, event.full_name, event.password_hash):
        assert secret not in text
        assert json.dumps(secret) not in text  # not even JSON-escaped
    assert EMAIL_LOCAL not in text
    assert "Petrov" not in text and "Петров" not in text


@pytest.mark.parametrize("name", [FULL_NAME, FULL_NAME_RU], ids=["latin", "cyrillic"])
async def test_personal_data_is_stored_sealed_opened_on_load_and_shredded(backend, name):
    store = backend.store
    member_id, subject = new_member()
    event = registered(member_id, name)
    seq = await store.append(await store.load(subject), [event], meta())

    # on the log: ciphertext only
    _, data = await backend.raw(seq)
    assert_no_clear_pii(data, event)
    env = Envelope.model_validate_json(data)
    assert env.pii and env.pii_subject == member_id
    assert set(env.payload) == {"member_id", "invitation_id", "roles"}

    # decodes back in clear, here and in another process
    [rec] = (await store.load(subject)).events
    assert rec.event == event
    other = await backend.other()
    [rec] = (await other.load(subject)).events
    assert rec.event == event

    await backend.vault.shred(member_id)

    shredded = event.model_copy(update={"email": None, "full_name": None, "password_hash": None})
    [rec] = (await store.load(subject)).events
    assert rec.event == shredded
    fresh = await backend.other()
    [rec] = (await fresh.load(subject)).events
    assert rec.event == shredded
    assert rec.event.member_id == member_id and rec.event.roles == ("guest",)


async def test_shredding_one_member_leaves_the_others_readable(backend):
    store = backend.store
    a, subject_a = new_member()
    b, subject_b = new_member()
    ea, eb = registered(a), registered(b)
    await store.append(await store.load(subject_a), [ea], meta())
    await store.append(await store.load(subject_b), [eb], meta())

    await backend.vault.shred(a)

    fresh = await backend.other()
    assert (await fresh.load(subject_a)).events[0].event.email is None
    assert (await fresh.load(subject_b)).events[0].event == eb


async def test_nothing_new_is_sealed_for_a_shredded_member(backend):
    from libs.contracts.errors import NotFound

    store = backend.store
    member_id, subject = new_member()
    await store.append(await store.load(subject), [registered(member_id)], meta())
    await backend.vault.shred(member_id)
    with pytest.raises(NotFound):
        await store.append(await store.load(subject), [ProfileUpdated(member_id=member_id, phone="+7 900")], meta())
    assert await backend.count(subject) == 1


# ------------------------------------------------------------------ the in-memory log's own knobs


async def test_the_in_memory_duplicate_window_forgets_like_jetstreams():
    """JetStream dedups by message id within the stream's duplicate window (120 s on HR_EVENTS);
    past it, the same id is a new message. Too slow to wait for on a real server: checked on the
    model with its clock."""
    now = [1000.0]
    log = MemoryLog(clock=lambda: now[0])
    store = MemoryEventStore(log=log)
    member_id, subject = new_member()
    ids = [uuid7()]
    seq = await store.append(await store.load(subject), [RulesAcknowledged(member_id=member_id)], meta(), ids)
    h = {"Nats-Msg-Id": str(ids[0])}
    assert log.publish(subject, h, b"{}") == {"stream": EVENTS_STREAM, "seq": seq, "duplicate": True}
    now[0] += log.duplicate_window_s
    assert log.publish(subject, h, b"{}")["seq"] == seq + 1
