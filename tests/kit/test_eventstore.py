"""What only the JetStream adapter of the event store has, on real nats-servers (DESIGN.md §2).

The port's contract (expected sequences, dedup by event id, atomic batches over one aggregate or
several, the resend pitfalls, limits, deadlines, personal data) is one suite run against this
adapter and the in-memory one: tests/kit/test_eventstore_contract.py. Here: the stream's own
configuration (immutable, atomic batches allowed) and a replicated stream on a 3-node cluster,
whose answers differ from a single node's (10164, "duplicate") and which the adapter reads from
the stream leader.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import nats
import nats.js.errors
import pytest
from uuid6 import uuid7

from libs.contracts.onboarding import ConsentGiven, RulesAcknowledged
from libs.contracts.subjects import EVENTS_STREAM, event_subject
from libs.kit.eventstore import ConcurrencyConflict, EventStore
from libs.kit.pii import PiiVault
from libs.kit.provision import provision
from tests.kit.test_eventstore_contract import meta, registered

EMAIL_LOCAL = "anna.petrova"
FULL_NAME = "Anna Petrovna Ivanova-Smirnova"


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


# ------------------------------------------------------------------ a replicated stream


async def test_on_a_replicated_stream_racing_appends_are_conflicts_and_resends_succeed(tmp_path):
    """Three nodes, HR_EVENTS with 3 replicas, stores on every node reading from the leader.

    Measured with nats-server 2.15.1: most appends that lose a race on a replicated stream are
    answered 10164 ("wrong last sequence", no number), not 10071, and a re-sent append carrying both
    headers is answered "duplicate" (single node: 10071). Both must end as on one node: exactly one
    racer wins, the others get ConcurrencyConflict (not AppendFailed), a re-send returns the first
    sequence; a multi-aggregate batch with one stale aggregate stores nothing.
    """
    from libs.kit.eventstore import WRONG_LAST_SEQUENCE_CONSTANT
    from tests.chaos.harness import Supervisor

    sup = Supervisor(tmp_path, replicas=3)
    nodes = sup.add_nats_cluster(3)
    for n in nodes:
        n.start()
    conns: list[Conn] = []
    try:
        await sup.wait_jetstream()
        for n in nodes:
            nc = await nats.connect(n.url)
            if not conns:
                await provision(nc, replicas=3)
            vault = await PiiVault.connect(nc, writer=True)
            conns.append(Conn(nc, nc.jetstream(), vault, EventStore(nc, vault, leader_reads=True)))
        stores = [c.store for c in conns]
        answers: list[dict] = []
        for store in stores:
            send = store._send

            async def spy(messages, send=send):
                ack = await send(messages)
                answers.append(ack)
                return ack

            store._send = spy

        for _ in range(5):
            member_id, subject = new_member()
            stream = await stores[0].load(subject)

            async def one(i: int):
                try:
                    return await stores[i % 3].append(stream, [RulesAcknowledged(member_id=member_id)], meta())
                except ConcurrencyConflict as e:
                    return e

            results = await asyncio.gather(*(one(i) for i in range(6)))
            assert sum(isinstance(r, int) for r in results) == 1
            assert sum(isinstance(r, ConcurrencyConflict) for r in results) == 5
            assert (await stores[1].load(subject)).last_seq == next(r for r in results if isinstance(r, int))
        seen = {a["error"]["err_code"] for a in answers if "error" in a}
        assert WRONG_LAST_SEQUENCE_CONSTANT in seen, seen  # the case a single node never shows

        # a re-send: answered "duplicate" here, the first sequence either way
        member_id, subject = new_member()
        stream = await stores[0].load(subject)
        ids = [uuid7()]
        seq = await stores[0].append(stream, [registered(member_id)], meta(), ids)
        assert await stores[2].append(stream, [registered(member_id)], meta(), ids) == seq
        assert [r.event.email for r in (await stores[1].load(subject)).events] == [registered(member_id).email]

        # several aggregates: a stale one on any node stores nothing anywhere
        vacancy = event_subject("kittest", "vacancy", uuid.uuid4().hex)  # a made-up service's: the log's documentation skips it
        v_stream = await stores[0].load(vacancy)
        await stores[1].append(v_stream, [RulesAcknowledged(member_id=member_id)], meta())
        before = await stores[0].last_seq()
        with pytest.raises(ConcurrencyConflict) as info:
            await stores[2].append_many([(await stores[2].load(subject), [ConsentGiven(member_id=member_id)]),
                                         (v_stream, [RulesAcknowledged(member_id=member_id)])], meta())
        assert info.value.subject == vacancy
        assert await stores[0].last_seq() == before
    finally:
        for c in conns:
            await c.close()
        sup.stop_all()
