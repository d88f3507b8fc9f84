"""Aggregate state cached per process stays right when another process appends."""

from __future__ import annotations

import asyncio
import contextvars
import uuid

import pytest

from libs.contracts.base import Command
from libs.contracts.envelope import Actor
from libs.kit import auth, scope
from libs.kit.decider import Decider
from libs.kit.eventstore import Meta
from libs.kit.rpc import Context, Done, Server
from libs.kit.service import Service
from libs.kit.settings import KitSettings
from services.groups import domain


@pytest.fixture
async def two_processes(nats_server):
    services = [Service(f"state{uuid.uuid4().hex[:6]}", KitSettings(nats_url=nats_server.url,
                                                                   docstore_url="sqlite://:memory:"))
                for _ in range(2)]
    for s in services:
        await s.start()
    yield services
    for s in services:
        await s.stop()


async def test_a_cached_state_catches_up_with_appends_made_elsewhere(two_processes):
    a, b = two_processes
    agg = Decider("probe", "membership", domain.Membership, domain.evolve_membership, domain.decide_membership)
    mid = uuid.uuid4().hex
    meta = Meta("test", str(uuid.uuid4()))

    await a.decide(agg, mid, domain.Join("g", mid, "r"), meta)
    state, stream = await b.load(agg, mid)
    assert state.member and stream.version == 1

    await a.decide(agg, mid, domain.Leave("g", mid, "r"), meta)
    state, stream = await b.load(agg, mid)
    assert not state.member
    assert len(stream.events) == 1 and stream.version == 2  # only what came since

    # b decides on its cached state and appends where the log really is
    done = await b.decide(agg, mid, domain.Join("g", mid, "again"), meta)
    assert done.state.member
    full = await a.events.load(agg.subject(mid))
    assert [r.envelope.aggregate_version for r in full.events] == [1, 2, 3]
    assert full.last_seq == done.seq
    # and a's stale cache loses no race: it reloads what b appended before deciding
    done = await a.decide(agg, mid, domain.Leave("g", mid, "bye"), meta)
    assert not done.state.member
    assert [r.envelope.aggregate_version for r in (await a.events.load(agg.subject(mid))).events] == [1, 2, 3, 4]


async def test_a_service_says_it_is_starting_until_its_start_hooks_have_run(nats_server):
    """Readiness must not be answered before the first admin exists: the status subscription comes up
    first, so the service says "starting" until the hooks and consumers are up (seen: a sign-in right
    after /readyz said ready failed with bad_credentials)."""
    import asyncio
    import json

    import nats

    from libs.contracts.subjects import control_subject

    name = f"starting{uuid.uuid4().hex[:6]}"
    svc = Service(name, KitSettings(nats_url=nats_server.url, docstore_url="sqlite://:memory:"))
    release = asyncio.Event()

    @svc.on_start
    async def wait_for_the_test() -> None:
        await release.wait()

    starting = asyncio.create_task(svc.start())
    nc = await nats.connect(nats_server.url)
    try:
        for _ in range(100):
            try:
                body = json.loads((await nc.request(control_subject(name, "status"), b"{}", timeout=0.5)).data)
                break
            except (nats.errors.TimeoutError, nats.errors.NoRespondersError):  # not subscribed yet
                await asyncio.sleep(0.05)
        assert body["starting"] is True
        release.set()
        await starting
        body = json.loads((await nc.request(control_subject(name, "status"), b"{}", timeout=2)).data)
        assert body["starting"] is False
    finally:
        await nc.close()
        await svc.stop()


class _Counted:
    """The event store's loads, counted: each is a round trip to the server (a direct get)."""

    def __init__(self, events):
        self._events = events
        self.loads = 0

    async def load(self, *args, **kwargs):
        self.loads += 1
        return await self._events.load(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._events, name)


class JoinProbe(Command):
    group_id: str
    leave: bool = False


async def test_a_request_reads_its_actors_aggregate_once_and_decides_on_what_was_appended_elsewhere(two_processes):
    """Onboarding resolves the actor from the member's aggregate, then decides on it: the second load in the same
    request reads nothing again. It must not decide on a state another process has moved meanwhile: the append is
    refused at the expected sequence and the decision is taken again on a fresh load — not answered
    ``concurrent_update``, not appended twice."""
    a, b = two_processes
    agg = Decider("probe", "membership", domain.Membership, domain.evolve_membership, domain.decide_membership)
    counted = _Counted(b.events)
    b.events = counted
    meta = Meta("test", str(uuid.uuid4()))
    moved_elsewhere: list[str] = []

    async def resolve(member_id: str) -> Actor | None:
        state, _ = await b.load(agg, member_id)
        if member_id in moved_elsewhere:  # another process appends between the resolution and the decision
            # in a context of its own: the other process does not share this request's scope
            await asyncio.create_task(a.decide(agg, member_id, domain.Leave("g", member_id, "elsewhere"), meta),
                                      context=contextvars.Context())
        return Actor(id=member_id, roles=("member",))

    async def handler(cmd: JoinProbe, ctx: Context) -> Done:
        command = (domain.Leave if cmd.leave else domain.Join)(cmd.group_id, ctx.actor.id, "probe")
        done = await b.decide(agg, ctx.actor.id, command, meta)
        return Done(done.seq, {"member": done.state.member})

    server = Server(auth.DEV_PUBLIC_KEY, resolve)

    async def serve(member_id: str, leave: bool = False) -> dict:
        token, _ = auth.issue(auth.DEV_PRIVATE_KEY, member_id, ("member",), "access", 60)
        raw = {"body": {"group_id": "g", "leave": leave}, "token": token, "correlation_id": str(uuid.uuid4())}
        return await server.serve(JoinProbe, handler, raw)

    # a member known to the process: one load resolves the actor, the decision reads nothing again
    first = uuid.uuid4().hex
    await a.decide(agg, first, domain.Join("g", first, "before"), meta)
    await a.decide(agg, first, domain.Leave("g", first, "before"), meta)
    await b.load(agg, first)
    counted.loads = 0
    reply = await serve(first)
    assert reply["ok"] and reply["result"] == {"member": True}
    assert counted.loads == 1
    # a second request reads again: what it read is its own, not the process's
    reply = await serve(first)
    assert reply["ok"] and reply["result"] == {"member": True}
    assert counted.loads == 2
    log = await a.events.load(agg.subject(first))
    assert [type(r.event).__name__ for r in log.events] == ["MemberJoinedGroup", "MemberLeftGroup",
                                                            "MemberJoinedGroup"]

    # moved by another process between the resolution and the decision: the leave decided on what the request
    # read is refused at the expected sequence, decided again on the fresh state (already left: nothing), and
    # not appended a second time
    second = uuid.uuid4().hex
    await a.decide(agg, second, domain.Join("g", second, "before"), meta)
    moved_elsewhere.append(second)
    counted.loads = 0
    reply = await serve(second, leave=True)
    assert reply["ok"], reply
    assert reply["result"] == {"member": False}
    assert counted.loads == 2  # the resolution's, and the fresh one after the refused append
    log = await a.events.load(agg.subject(second))
    assert [type(r.event).__name__ for r in log.events] == ["MemberJoinedGroup", "MemberLeftGroup"]
    assert reply["seq"] == log.last_seq
    # a decision that appends nothing is answered as of what the request read: the join came before the leave
    # another process appended meanwhile (both orders are the two requests' own; nothing is written)
    third = uuid.uuid4().hex
    await a.decide(agg, third, domain.Join("g", third, "before"), meta)
    moved_elsewhere.append(third)
    counted.loads = 0
    reply = await serve(third)
    assert reply["ok"] and reply["result"] == {"member": True}
    assert counted.loads == 1
    log = await a.events.load(agg.subject(third))
    assert [type(r.event).__name__ for r in log.events] == ["MemberJoinedGroup", "MemberLeftGroup"]

    # outside a request (a policy, a timer), every load asks the server: nothing to read it at
    counted.loads = 0
    await b.load(agg, second)
    await b.load(agg, second)
    assert counted.loads == 2


async def test_a_decision_across_aggregates_in_a_request_is_taken_again_on_what_another_process_appended(
        two_processes):
    a, b = two_processes
    agg = Decider("probe", "membership", domain.Membership, domain.evolve_membership, domain.decide_membership)
    meta = Meta("test", str(uuid.uuid4()))
    one, two = uuid.uuid4().hex, uuid.uuid4().hex
    for mid in (one, two):
        await a.decide(agg, mid, domain.Join("g", mid, "before"), meta)

    def leave_both(states: dict) -> dict:
        return {key: domain.decide_membership(domain.Leave("g", mid, "probe"), states[key])
                for key, mid in (("one", one), ("two", two))}

    with scope.scoped(scope.Scope(read={})):
        await b.load(agg, one)
        await b.load(agg, two)
        await asyncio.create_task(a.decide(agg, two, domain.Leave("g", two, "elsewhere"), meta),
                                  context=contextvars.Context())
        done = await b.decide_across({"one": (agg, one), "two": (agg, two)}, leave_both, meta)
    assert not done["one"].state.member and not done["two"].state.member
    for mid in (one, two):  # each left once
        log = await a.events.load(agg.subject(mid))
        assert [type(r.event).__name__ for r in log.events] == ["MemberJoinedGroup", "MemberLeftGroup"]
