"""Aggregate state cached per process stays right when another process appends."""

from __future__ import annotations

import uuid

import pytest

from libs.kit.decider import Decider
from libs.kit.eventstore import Meta
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
