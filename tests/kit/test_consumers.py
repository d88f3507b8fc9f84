"""The projection runner on a real JetStream: order kept through failures; a passing cause
never skips or dead-letters an event (the consumer stalls, says why, and goes on once it
passes); what can never be applied — the closed list — is dead-lettered and the rest goes on;
dead letters are replayed after a fix."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid

import nats
import pytest

from libs.contracts.onboarding import RulesAcknowledged
from libs.contracts.subjects import DEADLETTER_STREAM
from libs.kit.eventstore import Meta
from libs.kit.service import Service
from libs.kit.settings import KitSettings


@pytest.fixture(params=["projection", "policy"])
async def probe(nats_server, request):
    name = f"probe{uuid.uuid4().hex[:8]}"
    svc = Service(name, KitSettings(nats_url=nats_server.url, docstore_url="sqlite://:memory:",
                                    retry_max_backoff_s=0.2, log_level="WARNING"))
    failures: dict[str, int] = {}
    applied: list[str] = []

    async def when_thing_happened_record_it(rec, view=None):
        member = rec.event.member_id
        if failures.get(member, 0) != 0:
            failures[member] -= 1
            raise RuntimeError(f"failing on {member}")
        # the order of application, kept in the read model itself: a rolled-back batch leaves no trace there
        order = await svc.store.get("things", "order") or {"members": []}
        await svc.store.put("things", "order", {"members": [*order["members"], member]})

    if request.param == "projection":
        svc.projection("things", [f"hr.evt.{name}.thing.*"], ["things"], batch=10)(when_thing_happened_record_it)
    else:
        svc.policy("things", [f"hr.evt.{name}.thing.*"])(when_thing_happened_record_it)
    await svc.start()

    async def follow():
        while True:
            doc = await svc.store.get("things", "order")
            applied[:] = doc["members"] if doc else []
            await asyncio.sleep(0.01)

    task = asyncio.create_task(follow())
    yield svc, name, applied, failures
    task.cancel()
    await svc.stop()


def runner(svc):
    return next(r for r in svc.runners if r.c.name == "things")


async def append_all(svc, name, members):
    for m in members:
        stream = await svc.events.load(f"hr.evt.{name}.thing.{m}")
        await svc.events.append(stream, [RulesAcknowledged(member_id=m)], Meta("test", str(uuid.uuid4())))


async def wait_for(predicate, timeout=20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate() if asyncio.iscoroutinefunction(predicate) else not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def dead_letters(svc, name) -> list:
    nc = await nats.connect(svc.settings.nats_url)
    try:
        info = await nc.jetstream().stream_info(DEADLETTER_STREAM, subjects_filter=f"hr.dlq.{name}.things")
        return list((info.state.subjects or {}).items())
    finally:
        await nc.close()


async def test_an_event_that_fails_then_succeeds_keeps_the_order(probe):
    svc, name, applied, failures = probe
    members = [f"m{i}" for i in range(6)]
    failures["m2"] = 2  # two failed attempts, then it works
    await append_all(svc, name, members)
    await wait_for(lambda: len(applied) >= 6)
    assert applied == members
    assert runner(svc).checkpoint == (await svc.events.load(f"hr.evt.{name}.thing.m5")).last_seq
    status = await runner(svc).status()
    assert status["lag"] == 0 and status["state"] == "running" and status["dead_letters"] == 0


async def test_a_failure_that_lasts_stalls_the_consumer_and_never_skips_or_dead_letters(probe):
    """The erasure lost to a full disk: however long it fails, the event waits for its turn."""
    svc, name, applied, failures = probe
    failures["m1"] = 10**9  # fails until "fixed"
    await append_all(svc, name, ["m0", "m1", "m2"])
    await wait_for(lambda: runner(svc).stall is not None and runner(svc).stall["attempts"] >= 8)
    status = await runner(svc).status()
    assert status["state"] == "stalled"
    assert "RuntimeError" in status["stalled"]["reason"]
    assert "failing on" not in status["stalled"]["reason"], "a reason carries no message (it may hold data)"
    assert status["lag"] > 0
    assert applied == ["m0"], "nothing after the stuck event is applied before it"
    assert await dead_letters(svc, name) == []

    failures["m1"] = 0  # the cause passes
    await wait_for(lambda: applied == ["m0", "m1", "m2"])
    status = await runner(svc).status()
    assert status["state"] == "running" and "stalled" not in status and status["lag"] == 0
    assert await dead_letters(svc, name) == []


async def publish_raw(svc, subject: str, data: bytes, event_type: str = "RulesAcknowledged") -> None:
    js = svc.nc.jetstream()
    await js.publish(subject, data, headers={"Hr-Event-Type": event_type})


def envelope(name: str, member: str, **over) -> bytes:
    env = {"event_id": str(uuid.uuid4()), "type": "RulesAcknowledged", "schema_version": 1, "aggregate_id": member,
           "aggregate_version": 1, "occurred_at": "2026-12-01T00:00:00Z", "actor": "x",
           "correlation_id": str(uuid.uuid4()), "causation_id": None,
           "payload": {"member_id": member, "rules_version": "2026-1"}}
    env.update(over)
    return json.dumps(env).encode()


POISON = {
    "invalid JSON": lambda name, m: b"{not json",
    "unknown type": lambda name, m: envelope(name, m, type="NoSuchEvent"),
    "invalid payload": lambda name, m: envelope(name, m, payload={"member_id": 5}),
    "unsupported version": lambda name, m: envelope(name, m, schema_version=99),
    "undecryptable": lambda name, m: envelope(name, m, pii=base64.b64encode(os.urandom(40)).decode(),
                                              pii_subject=m),
}


@pytest.mark.parametrize("kind", sorted(POISON))
async def test_an_event_that_can_never_be_applied_is_dead_lettered_and_the_rest_goes_on(probe, kind):
    svc, name, applied, failures = probe
    if kind == "undecryptable":
        await svc.vault.key("mx", create=False)  # a reader: the key of mx does not exist…
        # …so make one exist (as onboarding would) for the garbage to fail to decrypt under
        writer = type(svc.vault)(svc.nc, writer=True)
        await writer.key("mx", create=True)
    await append_all(svc, name, ["m0"])
    await publish_raw(svc, f"hr.evt.{name}.thing.mx", POISON[kind](name, "mx"))
    await append_all(svc, name, ["m2"])
    await wait_for(lambda: applied == ["m0", "m2"])
    letters = await dead_letters(svc, name)
    assert letters == [(f"hr.dlq.{name}.things", 1)]
    status = await runner(svc).status()
    assert status["dead_letters"] == 1 and status["state"] == "running" and status["lag"] == 0


async def test_a_policy_dead_letter_is_replayed_after_a_fix(nats_server):
    name = f"probe{uuid.uuid4().hex[:8]}"
    svc = Service(name, KitSettings(nats_url=nats_server.url, docstore_url="sqlite://:memory:",
                                    retry_max_backoff_s=0.2, log_level="WARNING"))
    known: set[str] = set()
    seen: list[str] = []

    @svc.policy("things", [f"hr.evt.{name}.thing.*"])
    async def when_thing_happened_note_it(rec):
        seen.append(rec.event.member_id)

    await svc.start()
    try:
        # an event of a type this build does not know yet: dead-lettered
        await publish_raw(svc, f"hr.evt.{name}.thing.m1", envelope(name, "m1", type="ThingInvented"))
        await wait_for(lambda: runner(svc).checkpoint > 0)
        assert await dead_letters(svc, name) == [(f"hr.dlq.{name}.things", 1)]
        # "the fix": the type becomes known (here: the letter is rewritten as a known one by the registry)
        from libs.contracts import registry

        registry.EVENT_TYPES["ThingInvented"] = RulesAcknowledged
        known.add("ThingInvented")
        try:
            report = await runner(svc).replay()
        finally:
            del registry.EVENT_TYPES["ThingInvented"]
        assert report["applied"] == 1 and report["still_failing"] == []
        assert seen == ["m1"]
        assert await dead_letters(svc, name) == [] or sum(n for _, n in await dead_letters(svc, name)) == 0
    finally:
        await svc.stop()


async def test_a_take_over_that_fails_half_way_is_tried_again_not_abandoned(probe, monkeypatch):
    """Seen under chaos: the lease won while the stream's leader was being elected, the consumer
    could not be created, and the runner stopped for good — every later event unapplied."""
    from nats.js.errors import ServiceUnavailableError

    svc, name, applied, failures = probe
    r = runner(svc)
    await append_all(svc, name, ["a1"])
    await wait_for(lambda: applied == ["a1"])
    subscribe, refusals = r._subscribe, {"left": 2}

    async def mid_election():
        if refusals["left"]:
            refusals["left"] -= 1
            raise ServiceUnavailableError()
        await subscribe()

    monkeypatch.setattr(r, "_subscribe", mid_election)
    await r._lease.release()  # as when the holder's lease lapsed: the runner must take it over again
    await append_all(svc, name, ["a2", "a3"])
    await wait_for(lambda: applied == ["a1", "a2", "a3"], timeout=30)
    assert refusals["left"] == 0
    status = await r.status()
    assert status["state"] == "running" and status["lag"] == 0


async def test_a_loop_that_fails_unexpectedly_is_logged_and_starts_over_from_the_checkpoint(probe, monkeypatch):
    """Whatever escapes the loop (a bug nobody foresaw) must not leave the consumer stopped for good."""
    svc, name, applied, failures = probe
    r = runner(svc)
    await append_all(svc, name, ["b1"])
    await wait_for(lambda: applied == ["b1"])
    step_down, broken = r._step_down, {"left": 1}

    async def unforeseen():
        if broken["left"]:
            broken["left"] -= 1
            raise RuntimeError("a bug nobody foresaw")
        await step_down()

    monkeypatch.setattr(r, "_step_down", unforeseen)
    await r._lease.release()
    await append_all(svc, name, ["b2", "b3"])
    await wait_for(lambda: applied == ["b1", "b2", "b3"], timeout=30)
    assert broken["left"] == 0
    assert (await r.status())["state"] == "running"


async def test_a_projection_of_a_new_version_rebuilds_its_read_models_once(nats_server, tmp_path):
    """A release that writes its documents differently raises the projection's version: on its first
    start the old read models are dropped and written again from the log, in the new shape; the next
    start takes up the checkpoint as usual."""
    name = f"probe{uuid.uuid4().hex[:8]}"
    settings = KitSettings(nats_url=nats_server.url, docstore_url=f"sqlite:///{tmp_path}", log_level="WARNING")
    applied: list[int] = []

    def release(version: int) -> Service:
        svc = Service(name, settings)

        @svc.projection("things", [f"hr.evt.{name}.thing.*"], ["things"], version=version)
        async def when_thing_happened_record_it_in_this_shape(rec, view):
            applied.append(version)
            await view.put("things", rec.event.member_id, {"shape": version})

        return svc

    async def run(version: int) -> dict:
        svc = release(version)
        await svc.start()
        try:
            if not applied:  # the first release: the log's only events
                await append_all(svc, name, ["a", "b"])
            last = (await svc.events.load(f"hr.evt.{name}.thing.b")).last_seq
            # taken over (the lease won, the checkpoint taken up or started over) and caught up
            await wait_for(lambda: runner(svc).active and runner(svc)._sub is not None
                           and runner(svc).checkpoint >= last)
            return {m: (await svc.store.get("things", m))["shape"] for m in ("a", "b")}
        finally:
            await svc.stop()

    assert await run(1) == {"a": 1, "b": 1}
    assert await run(1) == {"a": 1, "b": 1} and applied == [1, 1]  # same version: nothing again
    assert await run(2) == {"a": 2, "b": 2} and applied == [1, 1, 2, 2]
    assert await run(2) == {"a": 2, "b": 2} and applied == [1, 1, 2, 2]


@pytest.mark.parametrize("waits_for_views", [True, False])
async def test_a_policy_that_waits_for_views_sees_them_catch_up(nats_server, waits_for_views):
    """A policy that reads a projection after waiting for it (groups: who is in Main) must not hold the
    store's transaction while it waits: the projection could not write, and every wait would time out.
    The atomic default (a policy's own store writes with its checkpoint) shows the difference."""
    name = f"probe{uuid.uuid4().hex[:8]}"
    svc = Service(name, KitSettings(nats_url=nats_server.url, docstore_url="sqlite://:memory:",
                                    retry_max_backoff_s=0.2, consistency_wait_s=1.0, log_level="ERROR"))
    waited: list[bool] = []  # the first wait's outcome (a policy that failed is tried again)

    async def when_thing_happened_keep_it(rec, view):
        await view.put("things", rec.event.member_id, {"member_id": rec.event.member_id})

    async def when_thing_happened_look_at_it(rec):
        if rec.event.member_id != "a1":
            return
        # as a policy does: append (here: the next thing), then wait until the view has applied it
        stream = await svc.events.load(f"hr.evt.{name}.thing.a2")
        seq = await svc.events.append(stream, [RulesAcknowledged(member_id="a2")], Meta("test", str(uuid.uuid4())),
                                      [uuid.uuid5(rec.envelope.event_id, "a2")])
        view = next(r for r in svc.runners if r.c.name == "things")
        waited.append(await view.wait_caught_up(seq, 1.0))

    svc.projection("things", [f"hr.evt.{name}.thing.*"], ["things"])(when_thing_happened_keep_it)
    svc.policy("looks", [f"hr.evt.{name}.thing.*"], waits_for_views=waits_for_views)(when_thing_happened_look_at_it)
    await svc.start()
    try:
        await append_all(svc, name, ["a1"])
        await wait_for(lambda: len(waited) >= 1)
        # waiting outside the transaction, the view gets there; inside it, it cannot
        assert waited[0] is waits_for_views
    finally:
        await svc.stop()


@pytest.mark.parametrize("pattern,subject,taken", [
    ("hr.evt.groups.*.*", "hr.evt.groups.message.m-1", True),
    ("hr.evt.groups.*.*", "hr.evt.groups.message", False),
    ("hr.evt.groups.*.*", "hr.evt.groups.message.m-1.x", False),
    ("hr.evt.groups.message.*", "hr.evt.groups.read_mark.g:m", False),
    ("hr.evt.>", "hr.evt.onboarding.member.m", True),
    ("hr.evt.>", "hr.evt", False),
    ("hr.evt.onboarding.member.*", "hr.evt.onboarding.member.m", True),
])
def test_a_filter_covers_the_subjects_it_takes(pattern, subject, taken):
    """What decides whether only a consumer's checkpoint may say it has seen an event (caught_up_to)."""
    from libs.kit.consumers import covers

    assert covers(pattern, subject) is taken


async def test_releasing_a_lease_someone_else_took_over_leaves_theirs_and_stops_cleanly(nats_server):
    """A stop while a renewal raced it: our revision is stale; the release must neither raise (a stop that
    raises leaves the process half stopped) nor delete the new holder's lease."""

    from libs.kit.lease import LEASES_BUCKET, Lease

    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        kv = await js.create_key_value(bucket=LEASES_BUCKET + "_release_test")
        ours, theirs = Lease(kv, "svc.release", "ours"), Lease(kv, "svc.release", "theirs")
        assert await ours.acquire()
        await kv.put("svc.release", b"theirs")  # as a take-over after our time-to-live would write it
        await ours.release()
        assert (await kv.get("svc.release")).value == b"theirs" and not ours.held
        assert not await theirs.acquire()  # still held by "theirs": nothing was deleted
    finally:
        await nc.close()


def keeping_things(nats_url: str, consistency_wait_s: float) -> tuple[Service, str]:
    """A service of its own whose one projection keeps a document per event of ``hr.evt.<name>.thing.*``."""
    name = f"probe{uuid.uuid4().hex[:8]}"
    svc = Service(name, KitSettings(nats_url=nats_url, docstore_url="sqlite://:memory:",
                                    consistency_wait_s=consistency_wait_s, log_level="ERROR"))

    async def when_thing_happened_keep_it(rec, view):
        await view.put("things", rec.event.member_id, {"member_id": rec.event.member_id})

    svc.projection("things", [f"hr.evt.{name}.thing.*"], ["things"])(when_thing_happened_keep_it)
    return svc, name


async def test_a_commands_own_event_is_applied_only_when_the_views_checkpoint_says_so(nats_server):
    """A command that answers from its view waits for the view to apply the event it appended. A consumer
    the server reports idle (nothing pending, nothing unacknowledged) has seen an event outside its subjects,
    but not necessarily one of its own: a consumer the server has not counted the event for (here: one made
    afresh after it, as a new leader or a re-creation can leave it) must not let the command read a view
    without it — the permissions matrix saw a request answered "not found" right after it was made. A command
    over several aggregates waits for the last of its events each view applies, and for nothing else."""
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

    from libs.contracts.subjects import EVENTS_STREAM
    from libs.kit.service import Executed

    svc, name = keeping_things(nats_server.url, consistency_wait_s=0.3)
    await svc.start()
    try:
        await append_all(svc, name, ["a"])
        a = Executed(await svc.events.last_seq(), None, f"hr.evt.{name}.thing.a")
        assert await svc.wait_read_back(a, ["things"])
        view = runner(svc)
        await view._pause()  # the view applies nothing more
        await append_all(svc, name, ["b"])
        b = Executed(await svc.events.last_seq(), None, f"hr.evt.{name}.thing.b")
        # its consumer made afresh after the event: the server counts nothing pending for it
        await svc.js.delete_consumer(EVENTS_STREAM, view.durable)
        await svc.js.add_consumer(EVENTS_STREAM, ConsumerConfig(
            name=view.durable, durable_name=view.durable, ack_policy=AckPolicy.ALL, deliver_policy=DeliverPolicy.NEW,
            filter_subject=view.c.subject))
        assert await svc.wait_applied(b.seq, ["things"])  # the precondition: it looks idle
        assert not await svc.wait_read_back(b, ["things"])
        assert await svc.store.get("things", "b") is None
        # an event before its checkpoint is applied, whatever its subject
        assert await svc.wait_read_back(a, ["things"])
        # several aggregates: the view waits for the last event it applies (b), not the first (a) ...
        assert not await svc.wait_read_back([a, b], ["things"])
        # ... and not for a later one it never receives, which no checkpoint of its own would ever pass
        other = await svc.events.load(f"hr.evt.{name}.other.o")
        o = Executed(await svc.events.append(other, [RulesAcknowledged(member_id="o")], Meta("test", "o")), None,
                     other.subject)
        assert o.seq > b.seq
        assert await svc.wait_read_back([a, o], ["things"])
        assert await svc.wait_read_back(o, ["things"])  # a view applying none of a command's subjects: no wait
    finally:
        await svc.stop()


async def test_a_trickle_of_events_is_acknowledged_a_few_times_a_second_and_every_write_still_reads_back(
        nats_server):
    """Acknowledgements are flow control (docs/adr/0030): a consumer sends one for all it has processed at most
    every ACK_EVERY_S, not one per event — every consumer of a subject answered every event of it alone. What
    must not change: a command reads its write at once (its own subject, and another's, for which the view's
    being idle counts), and the last acknowledgement is sent even when nothing more comes (a standby reads
    the holder's progress from it; an unacknowledged message would come again after the ack wait)."""
    from libs.contracts.subjects import EVENTS_STREAM
    from libs.kit.consumers import ACK_EVERY_S
    from libs.kit.service import Executed

    svc, name = keeping_things(nats_server.url, consistency_wait_s=2.0)
    watcher = await nats.connect(nats_server.url)
    acks: list = []

    async def seen(msg) -> None:
        acks.append(msg)

    await watcher.subscribe(f"$JS.ACK.{EVENTS_STREAM}.{name}_things.>", cb=seen)
    await watcher.flush()
    await svc.start()
    try:
        n = 60
        began = asyncio.get_running_loop().time()
        for i in range(n):
            await append_all(svc, name, [f"t{i}"])
            seq = await svc.events.last_seq()
            assert await svc.wait_read_back(Executed(seq, None, f"hr.evt.{name}.thing.t{i}"), ["things"])
            assert await svc.store.get("things", f"t{i}") is not None
            other = await svc.events.load(f"hr.evt.{name}.other.o{i}")
            seq = await svc.events.append(other, [RulesAcknowledged(member_id=f"o{i}")], Meta("test", str(i)))
            assert await svc.wait_applied(seq, ["things"])  # outside its subject: applied all it was given
        last, took = seq, asyncio.get_running_loop().time() - began
        view = runner(svc)

        async def acknowledged_all() -> bool:
            info = await svc.js.consumer_info(EVENTS_STREAM, view.durable)
            return info.num_ack_pending == 0 and info.ack_floor.stream_seq >= last - 1

        await wait_for(acknowledged_all, timeout=5.0)
        assert await view.lag() == 0
        # one per window at most (and one more at the end), far from one per event
        assert 1 <= len(acks) <= min(n // 2, took / ACK_EVERY_S + 2), f"{len(acks)} acknowledgements for {n} events"
    finally:
        await svc.stop()
        await watcher.close()


async def test_a_rebuild_asks_the_store_only_for_what_it_wrote_and_leaves_the_same_documents(nats_server, tmp_path):
    """After its drop, a rebuild knows a document it has not written is not there (no read of the store for it).
    Counts kept by read-modify-write over many events of the same members, with a batch failing half-way through
    the rebuild (rolled back, applied again one by one), come out as the live run left them; and once it has
    caught up, the projection reads the store again for everything (a document made meanwhile by someone else
    would otherwise be taken for absent)."""
    name = f"probe{uuid.uuid4().hex[:8]}"
    svc = Service(name, KitSettings(nats_url=nats_server.url, docstore_url=f"sqlite:///{tmp_path}",
                                    retry_max_backoff_s=0.2, log_level="ERROR"))
    fail = {"at": None}

    @svc.projection("tally", [f"hr.evt.{name}.thing.*"], ["tally", "odd"], batch=4)
    async def when_thing_happened_count_it(rec, view):
        key = rec.event.member_id
        if fail["at"] == rec.seq:
            fail["at"] = None
            raise RuntimeError("once")
        doc = await view.get("tally", key) or {"n": 0}
        await view.put("tally", key, {"n": doc["n"] + 1})
        if doc["n"] % 2:
            await view.delete("odd", key)
        else:
            await view.put("odd", key, {"n": doc["n"] + 1})

    await svc.start()
    try:
        members = [f"m{i}" for i in range(5)]
        for _ in range(3):
            await append_all(svc, name, members)
        last = (await svc.events.load(f"hr.evt.{name}.thing.m4")).last_seq
        r = next(r for r in svc.runners if r.c.name == "tally")
        await wait_for(lambda: r.checkpoint >= last)

        async def documents():
            return {c: {m: await svc.store.get(c, m) for m in members} for c in ("tally", "odd")}

        live = await documents()
        assert {m: d["n"] for m, d in live["tally"].items()} == dict.fromkeys(members, 3)
        asked: list[str] = []
        unwritten: list[str] = []
        written: set[str] = set()
        get, put = svc.store.get, svc.store.put

        async def counted(collection, doc_id):
            if collection in ("tally", "odd"):
                asked.append(f"{collection}/{doc_id}")
                if f"{collection}/{doc_id}" not in written:
                    unwritten.append(f"{collection}/{doc_id}")
            return await get(collection, doc_id)

        svc.store.get = counted

        async def noted(collection, doc_id, doc):
            written.add(f"{collection}/{doc_id}")
            await put(collection, doc_id, doc)

        svc.store.put = noted
        fail["at"] = last - 3  # a batch of the rebuild fails once
        await r.rebuild()
        await wait_for(lambda: r.checkpoint >= last)
        assert fail["at"] is None, "the failure happened"
        svc.store.get, svc.store.put = get, put
        assert await documents() == live
        # a read of the rebuild's own collection for a member it had not written yet never reached the store
        assert unwritten == [] and asked, asked
        await wait_for(lambda: r._written is None, timeout=10)  # caught up: the shortcut is over
    finally:
        await svc.stop()


async def test_a_replica_that_lost_a_rebuild_half_way_does_not_trust_what_it_knew_of_it(nats_server, tmp_path):
    """Two replicas on one store. A rebuilds, and loses the projection half-way (its lease gone, its batch
    fenced); B takes over and writes the members A had not reached. When A holds the projection again, the
    rebuild's knowledge of what it had written is gone with its subscription: it reads what B wrote, and every
    member's count (read-modify-write over their events) comes out right, not started over."""
    name = f"probe{uuid.uuid4().hex[:8]}"
    settings = KitSettings(nats_url=nats_server.url, docstore_url=f"sqlite:///{tmp_path}",
                           retry_max_backoff_s=0.2, log_level="CRITICAL")
    members = [f"m{i:02d}" for i in range(40)]
    gate = asyncio.Event()
    hold = {"at": None}

    def replica(label: str) -> Service:
        svc = Service(name, settings)

        # batches of one (a rebuild's: eight): A's rebuild reaches only some of the members before it is stopped
        @svc.projection("tally", [f"hr.evt.{name}.thing.*"], ["tally"], batch=1)
        async def when_thing_happened_count_it(rec, view):
            if label == "A" and hold["at"] == rec.seq:
                hold["at"] = None
                await gate.wait()  # A, half-way through its rebuild
            doc = await view.get("tally", rec.event.member_id) or {"n": 0}
            await view.put("tally", rec.event.member_id, {"n": doc["n"] + 1})

        return svc

    a, b = replica("A"), replica("B")
    await a.start()
    ra = next(r for r in a.runners if r.c.name == "tally")
    await wait_for(lambda: ra.active)
    await b.start()
    rb = next(r for r in b.runners if r.c.name == "tally")
    try:
        for _ in range(3):
            await append_all(a, name, members)
        last = (await a.events.load(f"hr.evt.{name}.thing.{members[-1]}")).last_seq
        await wait_for(lambda: ra.checkpoint >= last)
        first = last - 3 * len(members) + 1
        hold["at"] = first + 10  # in the first round: A will have written at most 16 members, not the rest
        acquire_a = ra._lease.acquire

        async def refused():
            return False

        await ra.rebuild()
        await wait_for(lambda: hold["at"] is None)  # A waits inside its rebuild's batch
        ra._lease.acquire = refused
        await ra._lease.release()
        await wait_for(lambda: rb.active and rb.checkpoint >= last, timeout=30)  # B finished the rebuild
        gate.set()
        await wait_for(lambda: ra._sub is None and not ra.active)  # A's batch fenced: it stood down
        rb._lease.acquire = refused
        await rb._lease.release()
        await append_all(a, name, members)  # a fourth round, while nobody holds the projection
        last = (await a.events.load(f"hr.evt.{name}.thing.{members[-1]}")).last_seq
        ra._lease.acquire = acquire_a
        await wait_for(lambda: ra.active and ra.checkpoint >= last, timeout=30)
        counts = {m: (await a.store.get("tally", m) or {}).get("n") for m in members}
        assert counts == dict.fromkeys(members, 4)
    finally:
        gate.set()
        await b.stop()
        await a.stop()


async def test_a_lingering_view_is_not_waited_for_past_its_pause_when_someone_reads_back(nats_server, monkeypatch):
    """Consumers linger after a delivery so that events come in bursts (docs/adr/0038); whoever waits for one
    cuts the pause short. With a pause of 30 s, a command's read-back of its own event — on its subject and on
    another the view is idle for — still comes within the 2 s it may wait, every time, and nothing is lost."""
    from libs.kit import consumers
    from libs.kit.service import Executed

    monkeypatch.setattr(consumers, "LINGER_S", 30.0)
    svc, name = keeping_things(nats_server.url, consistency_wait_s=2.0)
    await svc.start()
    try:
        for i in range(5):  # the first after a quiet spell comes at once anyway; the next ones linger
            await append_all(svc, name, [f"t{i}"])
            seq = await svc.events.last_seq()
            assert await svc.wait_read_back(Executed(seq, None, f"hr.evt.{name}.thing.t{i}"), ["things"]), i
            assert await svc.store.get("things", f"t{i}") is not None
            other = await svc.events.load(f"hr.evt.{name}.other.o{i}")
            seq = await svc.events.append(other, [RulesAcknowledged(member_id=f"o{i}")], Meta("test", str(i)))
            assert await svc.wait_applied(seq, ["things"]), i
    finally:
        await svc.stop()
