"""The projection runner on a real JetStream: order kept through failures,
poison events dead-lettered after bounded retries, the consumer carries on."""

from __future__ import annotations

import asyncio
import uuid

import nats
import pytest

from libs.contracts.onboarding import RulesAcknowledged
from libs.contracts.subjects import DEADLETTER_STREAM
from libs.kit.eventstore import Meta
from libs.kit.service import Service
from libs.kit.settings import KitSettings


@pytest.fixture
async def probe(nats_server):
    name = f"probe{uuid.uuid4().hex[:8]}"
    svc = Service(name, KitSettings(nats_url=nats_server.url, docstore_url="sqlite://:memory:", max_deliver=3,
                                    log_level="WARNING"))
    failures: dict[str, int] = {}

    @svc.projection("things", [f"hr.evt.{name}.thing.*"], ["things"], batch=10)
    async def when_thing_happened_record_it(rec):
        member = rec.event.member_id
        if failures.get(member, 0) != 0:
            failures[member] -= 1
            raise RuntimeError(f"failing on {member}")
        # the order of application, kept in the read model itself: a rolled-back
        # batch leaves no trace there
        order = await svc.store.get("things", "order") or {"members": []}
        await svc.store.put("things", "order", {"members": [*order["members"], member]})

    await svc.start()
    applied: list[str] = []

    async def follow():
        while True:
            doc = await svc.store.get("things", "order")
            applied[:] = doc["members"] if doc else []
            await asyncio.sleep(0.01)

    task = asyncio.create_task(follow())
    yield svc, name, applied, failures
    task.cancel()
    await svc.stop()


async def append_all(svc, name, members):
    for m in members:
        stream = await svc.events.load(f"hr.evt.{name}.thing.{m}")
        await svc.events.append(stream, [RulesAcknowledged(member_id=m)], Meta("test", "c"))


async def wait_for(predicate, timeout=20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_an_event_that_fails_then_succeeds_keeps_the_order(probe):
    svc, name, applied, failures = probe
    members = [f"m{i}" for i in range(6)]
    failures["m2"] = 2  # two failed attempts, then it works
    await append_all(svc, name, members)
    await wait_for(lambda: len(applied) == 6)
    assert applied == members
    runner = svc.runners[0]
    assert runner.checkpoint == (await svc.events.load(f"hr.evt.{name}.thing.m5")).last_seq
    assert (await runner.status())["lag"] == 0


async def test_a_poison_event_is_dead_lettered_after_bounded_retries_and_the_rest_goes_on(probe):
    svc, name, applied, failures = probe
    failures["m1"] = 10**6  # never works
    await append_all(svc, name, ["m0", "m1", "m2"])
    await wait_for(lambda: applied == ["m0", "m2"])
    nc = await nats.connect(svc.settings.nats_url)
    try:
        sub = await nc.jetstream().pull_subscribe(f"hr.dlq.{name}.things", stream=DEADLETTER_STREAM)
        [msg] = await sub.fetch(1, timeout=5)
        assert "handler failed 3 times" in msg.headers["Hr-Dlq-Reason"]
        assert msg.headers["Hr-Dlq-Subject"] == f"hr.evt.{name}.thing.m1"
    finally:
        await nc.close()
    assert (await svc.runners[0].status())["lag"] == 0
