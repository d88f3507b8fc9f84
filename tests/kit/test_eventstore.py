"""The event store against a real nats-server with JetStream (DESIGN.md §2).

TestNatsBroker has no JetStream semantics, so none of this can be faked:
expected-sequence checks, dedup by Nats-Msg-Id, atomic batches, deny
delete/purge and crypto-shredding are all checked on the real server.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass

import nats
import nats.js.errors
import pytest
from uuid6 import uuid7

from libs.contracts.envelope import Envelope
from libs.contracts.onboarding import ConsentGiven, MemberRegistered, RulesAcknowledged
from libs.contracts.subjects import EVENTS_STREAM, event_subject
from libs.kit.eventstore import ConcurrencyConflict, EventStore, Meta, Stream
from libs.kit.pii import PiiVault
from libs.kit.provision import provision

EMAIL_LOCAL = "anna.petrova"
FULL_NAME = "Anna Petrovna Ivanova-Smirnova"
FULL_NAME_RU = "Анна Петровна"


@dataclass
class Conn:
    nc: nats.NATS
    js: object
    vault: PiiVault
    store: EventStore

    async def close(self) -> None:
        await self.vault.close()
        await self.store.close()
        await self.nc.close()


async def connect(url: str) -> Conn:
    """Build the store the way libs/kit/service.py does."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    await provision(nc)
    vault = await PiiVault.connect(nc, writer=True)
    return Conn(nc, js, vault, EventStore(nc, vault))


@pytest.fixture
async def conn(nats_server):
    c = await connect(nats_server.url)
    yield c
    await c.close()


def new_member() -> tuple[str, str]:
    member_id = uuid.uuid4().hex
    return member_id, event_subject("onboarding", "member", member_id)


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


async def subject_count(c: Conn, subject: str) -> int:
    info = await c.js.stream_info(EVENTS_STREAM, subjects_filter=subject)
    return (info.state.subjects or {}).get(subject, 0)


# ------------------------------------------------------------------ append / load


async def test_append_to_a_new_aggregate_and_load_it_back(conn):
    member_id, subject = new_member()
    empty = await conn.store.load(subject)
    assert empty == Stream(subject=subject, events=[], last_seq=0)

    event = RulesAcknowledged(member_id=member_id)
    m = meta()
    seq = await conn.store.append(empty, [event], m)
    assert seq > 0

    loaded = await conn.store.load(subject)
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

    # the message itself carries the routing headers and the event id for dedup
    raw = await conn.js.get_last_msg(EVENTS_STREAM, subject)
    assert raw.seq == seq
    assert raw.headers["Nats-Msg-Id"] == str(env.event_id)
    assert raw.headers["Hr-Event-Type"] == "RulesAcknowledged"
    assert raw.headers["Hr-Correlation-Id"] == m.correlation_id

    # the next append continues the aggregate version
    seq2 = await conn.store.append(loaded, [ConsentGiven(member_id=member_id)], meta())
    again = await conn.store.load(subject)
    assert seq2 > seq
    assert [r.envelope.aggregate_version for r in again.events] == [1, 2]
    assert [r.seq for r in again.events] == [seq, seq2]
    assert [type(r.event) for r in again.events] == [RulesAcknowledged, ConsentGiven]


async def test_loading_an_unknown_aggregate_is_empty(conn):
    _, subject = new_member()
    stream = await conn.store.load(subject)
    assert stream.events == [] and stream.last_seq == 0 and stream.version == 0


async def test_append_with_a_stale_stream_conflicts_and_stores_nothing(conn):
    member_id, subject = new_member()
    stale = await conn.store.load(subject)
    first = await conn.store.append(stale, [RulesAcknowledged(member_id=member_id)], meta())

    with pytest.raises(ConcurrencyConflict) as info:
        await conn.store.append(stale, [ConsentGiven(member_id=member_id)], meta())
    assert info.value.subject == subject
    assert info.value.expected == 0

    loaded = await conn.store.load(subject)
    assert loaded.last_seq == first
    assert [type(r.event) for r in loaded.events] == [RulesAcknowledged]
    assert await subject_count(conn, subject) == 1


async def test_a_stream_ahead_of_the_log_conflicts_too(conn):
    member_id, subject = new_member()
    seq = await conn.store.append(await conn.store.load(subject), [RulesAcknowledged(member_id=member_id)], meta())
    ahead = Stream(subject=subject, events=[], last_seq=seq + 1000)
    with pytest.raises(ConcurrencyConflict):
        await conn.store.append(ahead, [ConsentGiven(member_id=member_id)], meta())
    assert await subject_count(conn, subject) == 1


# ------------------------------------------------------------------ atomic batches


async def test_a_multi_event_append_is_stored_as_one_batch(conn):
    member_id, subject = new_member()
    events = [registered(member_id), ConsentGiven(member_id=member_id), RulesAcknowledged(member_id=member_id)]
    m = meta()
    last = await conn.store.append(await conn.store.load(subject), events, m)

    loaded = await conn.store.load(subject)
    assert loaded.last_seq == last
    assert [r.event for r in loaded.events] == events
    assert [r.seq for r in loaded.events] == [last - 2, last - 1, last]
    assert [r.envelope.aggregate_version for r in loaded.events] == [1, 2, 3]
    assert {r.envelope.correlation_id for r in loaded.events} == {m.correlation_id}
    assert len({r.envelope.event_id for r in loaded.events}) == 3


async def test_a_stale_batch_stores_nothing(conn):
    member_id, subject = new_member()
    stale = await conn.store.load(subject)
    first = await conn.store.append(stale, [RulesAcknowledged(member_id=member_id)], meta())
    before = await conn.store.load(subject)

    with pytest.raises(ConcurrencyConflict):
        await conn.store.append(stale, [registered(member_id), ConsentGiven(member_id=member_id)], meta())

    after = await conn.store.load(subject)
    assert after.last_seq == first == before.last_seq
    assert [r.envelope.event_id for r in after.events] == [r.envelope.event_id for r in before.events]
    assert await subject_count(conn, subject) == 1


async def test_a_batch_after_a_batch_continues_versions(conn):
    member_id, subject = new_member()
    await conn.store.append(
        await conn.store.load(subject), [registered(member_id), ConsentGiven(member_id=member_id)], meta()
    )
    loaded = await conn.store.load(subject)
    last = await conn.store.append(
        loaded, [RulesAcknowledged(member_id=member_id), RulesAcknowledged(member_id=member_id)], meta()
    )
    again = await conn.store.load(subject)
    assert again.last_seq == last
    assert [r.envelope.aggregate_version for r in again.events] == [1, 2, 3, 4]


# ------------------------------------------------------------------ the retry pitfall


async def test_resending_a_successful_single_append_returns_its_sequence(conn):
    member_id, subject = new_member()
    stream = await conn.store.load(subject)
    ids = [uuid7()]
    event = [RulesAcknowledged(member_id=member_id)]
    seq = await conn.store.append(stream, event, meta(), ids)

    # the same request again: same ids, same (now stale) Stream object
    assert await conn.store.append(stream, event, meta(), ids) == seq
    loaded = await conn.store.load(subject)
    assert [r.envelope.event_id for r in loaded.events] == ids
    assert await subject_count(conn, subject) == 1


async def test_resending_a_successful_batch_returns_its_last_sequence(conn):
    member_id, subject = new_member()
    stream = await conn.store.load(subject)
    ids = [uuid7(), uuid7()]
    events = [registered(member_id), ConsentGiven(member_id=member_id)]
    last = await conn.store.append(stream, events, meta(), ids)

    assert await conn.store.append(stream, events, meta(), ids) == last
    loaded = await conn.store.load(subject)
    assert [r.envelope.event_id for r in loaded.events] == ids
    assert loaded.last_seq == last
    assert await subject_count(conn, subject) == 2


async def test_a_resend_is_a_conflict_once_someone_else_appended(conn):
    member_id, subject = new_member()
    stream = await conn.store.load(subject)
    ids = [uuid7()]
    await conn.store.append(stream, [RulesAcknowledged(member_id=member_id)], meta(), ids)
    await conn.store.append(await conn.store.load(subject), [ConsentGiven(member_id=member_id)], meta())

    # a different event id on the stale stream is never mistaken for our own
    with pytest.raises(ConcurrencyConflict):
        await conn.store.append(stream, [RulesAcknowledged(member_id=member_id)], meta(), [uuid7()])
    assert await subject_count(conn, subject) == 2


async def test_a_resent_batch_is_a_conflict_once_someone_else_appended(conn):
    member_id, subject = new_member()
    stream = await conn.store.load(subject)
    ids = [uuid7(), uuid7()]
    events = [registered(member_id), ConsentGiven(member_id=member_id)]
    await conn.store.append(stream, events, meta(), ids)
    await conn.store.append(await conn.store.load(subject), [RulesAcknowledged(member_id=member_id)], meta())

    with pytest.raises(ConcurrencyConflict):
        await conn.store.append(stream, events, meta(), ids)
    assert await subject_count(conn, subject) == 3


# ------------------------------------------------------------------ personal data


def assert_no_clear_pii(data: bytes, event: MemberRegistered) -> None:
    text = data.decode()
    for secret in (event.email, event.full_name, event.password_hash):
        assert secret not in text
        assert json.dumps(secret) not in text  # not even JSON-escaped
    assert EMAIL_LOCAL not in text
    assert "Petrov" not in text and "Петров" not in text


@pytest.mark.parametrize("name", [FULL_NAME, FULL_NAME_RU], ids=["latin", "cyrillic"])
async def test_personal_data_is_stored_encrypted_and_shredded(conn, nats_server, name):
    member_id, subject = new_member()
    event = registered(member_id, name)
    seq = await conn.store.append(await conn.store.load(subject), [event], meta())

    # on the wire and on disk: ciphertext only
    for raw in (
        await conn.js.get_last_msg(EVENTS_STREAM, subject),
        await conn.js.get_msg(EVENTS_STREAM, seq),
    ):
        assert raw.seq == seq
        assert_no_clear_pii(raw.data, event)
        env = Envelope.model_validate_json(raw.data)
        assert env.pii and env.pii_subject == member_id
        assert set(env.payload) == {"member_id", "invitation_id", "roles"}

    # decodes back in clear
    [rec] = (await conn.store.load(subject)).events
    assert rec.event == event

    # and from another process, too
    other = await connect(nats_server.url)
    try:
        [rec] = (await other.store.load(subject)).events
        assert rec.event == event
    finally:
        await other.close()

    await conn.vault.shred(member_id)

    shredded = event.model_copy(update={"email": None, "full_name": None, "password_hash": None})
    [rec] = (await conn.store.load(subject)).events
    assert rec.event == shredded

    fresh = await connect(nats_server.url)
    try:
        [rec] = (await fresh.store.load(subject)).events
        assert rec.event == shredded
        assert rec.event.member_id == member_id and rec.event.roles == ("guest",)
    finally:
        await fresh.close()


async def test_shredding_one_member_leaves_the_others_readable(conn, nats_server):
    a, subject_a = new_member()
    b, subject_b = new_member()
    ea, eb = registered(a), registered(b)
    await conn.store.append(await conn.store.load(subject_a), [ea], meta())
    await conn.store.append(await conn.store.load(subject_b), [eb], meta())

    await conn.vault.shred(a)

    fresh = await connect(nats_server.url)
    try:
        assert (await fresh.store.load(subject_a)).events[0].event.email is None
        assert (await fresh.store.load(subject_b)).events[0].event == eb
    finally:
        await fresh.close()


async def test_each_member_has_their_own_key(conn):
    a, subject_a = new_member()
    b, subject_b = new_member()
    await conn.store.append(await conn.store.load(subject_a), [registered(a)], meta())
    await conn.store.append(await conn.store.load(subject_b), [registered(b)], meta())
    key_a, key_b = await conn.vault.key(a), await conn.vault.key(b)
    assert len(key_a) == len(key_b) == 32
    assert key_a != key_b


# ------------------------------------------------------------------ immutability


async def test_the_log_denies_purge_and_delete(conn):
    member_id, subject = new_member()
    seq = await conn.store.append(await conn.store.load(subject), [RulesAcknowledged(member_id=member_id)], meta())

    with pytest.raises(nats.js.errors.APIError):
        await conn.js.purge_stream(EVENTS_STREAM, subject=subject)
    with pytest.raises(nats.js.errors.APIError):
        await conn.js.purge_stream(EVENTS_STREAM)
    with pytest.raises(nats.js.errors.APIError):
        await conn.js.delete_msg(EVENTS_STREAM, seq)

    info = await conn.js.stream_info(EVENTS_STREAM)
    assert info.config.deny_delete and info.config.deny_purge
    loaded = await conn.store.load(subject)
    assert loaded.last_seq == seq and len(loaded.events) == 1


async def test_provisioning_is_idempotent(conn):
    await provision(conn.nc)
    await provision(conn.nc)
    info = await conn.js.stream_info(EVENTS_STREAM)
    assert info.config.allow_atomic is True
    assert info.config.deny_delete is True and info.config.deny_purge is True
    assert info.config.subjects == ["hr.evt.>"]


# ------------------------------------------------------------------ a PubAck that does not come


async def test_a_lost_puback_is_waited_for_by_sending_the_same_append_again(fresh_nats):
    """The server freezes after taking the append: the PubAck does not come in time, the append is sent
    again with the same ids and expected sequence, and the log holds it once."""
    import os
    import signal

    from libs.contracts.errors import OutcomeUnknown

    nc = await nats.connect(fresh_nats.url, max_reconnect_attempts=-1)
    await provision(nc)
    vault = await PiiVault.connect(nc, writer=True)
    store = EventStore(nc, vault, timeout=0.5)
    try:
        member_id, subject = new_member()
        stream = await store.load(subject)
        os.kill(fresh_nats.proc.pid, signal.SIGSTOP)
        appending = asyncio.create_task(store.append(stream, [RulesAcknowledged(member_id=member_id)], meta()))
        await asyncio.sleep(0.8)  # the first PubAck timed out; the server wakes before the last attempt's does
        os.kill(fresh_nats.proc.pid, signal.SIGCONT)
        seq = await appending
        loaded = await store.load(subject)
        assert [r.seq for r in loaded.events] == [seq]

        # frozen for longer than every attempt: the outcome is unknown, and said so
        stream = await store.load(subject)
        os.kill(fresh_nats.proc.pid, signal.SIGSTOP)
        try:
            with pytest.raises(OutcomeUnknown):
                await store.append(stream, [ConsentGiven(member_id=member_id)], meta())
        finally:
            os.kill(fresh_nats.proc.pid, signal.SIGCONT)
        await asyncio.sleep(0.5)
        after = await store.load(subject)
        assert len(after.events) in (1, 2)  # stored or not: unknown to the caller, never twice
        assert len({r.envelope.event_id for r in after.events}) == len(after.events)
    finally:
        await vault.close()
        await store.close()
        await nc.close()


async def test_an_event_over_the_size_limit_is_refused_before_it_is_appended(conn):
    from libs.contracts.errors import TooLarge
    from libs.contracts.onboarding import ProfileUpdated

    member_id, subject = new_member()
    stream = await conn.store.load(subject)
    huge = ProfileUpdated(member_id=member_id, about="я" * 40_000)  # 80 KB of UTF-8, sealed and encoded
    with pytest.raises(TooLarge):
        await conn.store.append(stream, [huge], meta())
    assert (await conn.store.load(subject)).events == []
