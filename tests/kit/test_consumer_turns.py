"""A batch of events does not hold its process's event loop for its whole length (docs/adr/0042) — on a real
JetStream and SQLite file. What a user would notice if this broke: a request to a service waits behind a
projection's batch (8–40 ms a batch under load); and if giving the loop up broke the batch instead, a reader
would see half a batch, or an event applied twice or not at all."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from libs.contracts.onboarding import RulesAcknowledged
from libs.kit import consumers
from libs.kit.eventstore import Meta
from libs.kit.service import Service
from libs.kit.settings import KitSettings
from tests.kit.test_consumer_types import runner
from tests.kit.test_consumers import wait_for

EVENTS = 12


def make(name: str, st: KitSettings, kind: str, seen: list[tuple[str, int]], ticks: list[int]) -> Service:
    svc = Service(name, st)

    async def when_rules_acknowledged_work_a_while(rec, view=None):
        seen.append((rec.event.member_id, ticks[0]))
        time.sleep(consumers.SLICE_S * 1.5)  # a handler that holds the thread past a slice, waiting for nothing
        order = await svc.store.get("things", "order") or {"members": []}
        await svc.store.put("things", "order", {"members": [*order["members"], rec.event.member_id]})

    if kind == "projection":
        svc.projection("things", [f"hr.evt.{name}.thing.*"], ["things"], batch=64,
                       types=(RulesAcknowledged,))(when_rules_acknowledged_work_a_while)
    else:
        svc.policy("things", [f"hr.evt.{name}.thing.*"], types=(RulesAcknowledged,))(
            when_rules_acknowledged_work_a_while)
    return svc


@pytest.mark.parametrize("kind", ["projection", "policy"])
async def test_a_long_batch_lets_the_rest_of_the_process_run_between_its_events_and_stays_one_batch(
        nats_server, tmp_path, kind, monkeypatch):
    name = f"turns{uuid.uuid4().hex[:8]}"
    st = KitSettings(nats_url=nats_server.url, docstore_url=f"sqlite:///{tmp_path}", retry_max_backoff_s=0.2,
                     log_level="WARNING")
    writer = Service(f"{name}w", KitSettings(nats_url=nats_server.url, docstore_url="sqlite://:memory:",
                                              log_level="WARNING"))
    await writer.start()
    seen: list[tuple[str, int]] = []
    ticks = [0]
    svc = make(name, st, kind, seen, ticks)
    observed: list[int] = []
    batches: list[int] = []
    stop = asyncio.Event()
    real_commit = consumers.Runner._commit

    async def counting_commit(self, items):
        await real_commit(self, items)
        if self.durable == f"{name}_things":  # not the actors' projection every service keeps
            batches.append(len(items))

    monkeypatch.setattr(consumers.Runner, "_commit", counting_commit)

    async def another_task_of_the_process():
        while not stop.is_set():
            ticks[0] += 1
            order = await svc.store.get("things", "order")
            observed.append(len(order["members"]) if order else 0)
            await asyncio.sleep(0)

    await svc.start()
    ticker = asyncio.create_task(another_task_of_the_process())
    # all in one append: they reach the consumer together and come in as few batches as can be
    stream = await writer.events.load(f"hr.evt.{name}.thing.all")
    await writer.events.append(stream, [RulesAcknowledged(member_id=f"m{i:02}") for i in range(EVENTS)],
                               Meta("test", str(uuid.uuid4())))
    last = (await writer.events.load(f"hr.evt.{name}.thing.all")).last_seq
    try:
        await wait_for(lambda: runner(svc).checkpoint >= last)
        stop.set()
        await ticker
        members = [m for m, _ in seen]
        assert members == [f"m{i:02}" for i in range(EVENTS)], "each event applied once, in order"
        assert (await svc.store.get("things", "order"))["members"] == members
        assert await svc.store.get_checkpoint(f"{kind}:things") == last
        assert sum(batches) == EVENTS
        # the other task ran between every two events of a batch (each held the thread past a slice)
        in_batch_ticks = [t for _, t in seen]
        assert len(set(in_batch_ticks)) >= EVENTS - len(batches) + 1, (in_batch_ticks, batches)
        assert all(b > a for a, b in zip(in_batch_ticks, in_batch_ticks[1:]))
        if kind == "projection":
            # and it never saw half a batch: only what a committed batch left
            ends = {0}
            total = 0
            for b in batches:
                total += b
                ends.add(total)
            assert set(observed) <= ends, (sorted(set(observed)), batches)
            assert any(b > 1 for b in batches), "the events came one by one: the test proves nothing"
    finally:
        stop.set()
        await svc.stop()
        await writer.stop()
