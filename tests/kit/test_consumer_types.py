"""A consumer that declares the event types it applies passes over the others of its subject unread
(docs/adr/0027) — on a real JetStream and SQLite file. What a user would notice if this broke: an
event applied twice or not at all, a read model that skips what it needs, a personal field decrypted
by a service that never shows it, a poisoned message that stalls a consumer, a request on a standby
that waits for an event its holder never applies."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from libs.contracts.envelope import EVENT_TYPE_HEADER
from libs.contracts.onboarding import ConsentGiven, ProfileUpdated, RulesAcknowledged
from libs.kit.consumers import Consumer
from libs.kit.eventstore import Meta
from libs.kit.service import Service
from libs.kit.settings import KitSettings
from tests.kit.test_consumers import POISON, dead_letters, envelope, publish_raw, wait_for


def settings(nats_server, tmp_path) -> KitSettings:
    return KitSettings(nats_url=nats_server.url, docstore_url=f"sqlite:///{tmp_path}", retry_max_backoff_s=0.2,
                       log_level="WARNING")


def make(name: str, st: KitSettings, kind: str, calls: list[str], *, pii_writer: bool = False) -> Service:
    svc = Service(name, st, pii_writer=pii_writer)

    async def when_rules_acknowledged_note_it(rec, view=None):
        calls.append(rec.event.member_id)
        order = await svc.store.get("things", "order") or {"members": []}
        await svc.store.put("things", "order", {"members": [*order["members"], rec.event.member_id]})

    if kind == "projection":
        svc.projection("things", [f"hr.evt.{name}.thing.*"], ["things"], batch=10,
                       types=(RulesAcknowledged,))(when_rules_acknowledged_note_it)
    else:
        svc.policy("things", [f"hr.evt.{name}.thing.*"], types=(RulesAcknowledged,))(when_rules_acknowledged_note_it)
    return svc


def runner(svc):
    return next(r for r in svc.runners if r.c.name == "things")


async def append(svc, name, member, event) -> int:
    stream = await svc.events.load(f"hr.evt.{name}.thing.{member}")
    await svc.events.append(stream, [event], Meta("test", str(uuid.uuid4())))
    return (await svc.events.load(f"hr.evt.{name}.thing.{member}")).last_seq


def test_a_consumer_must_declare_types_the_platform_knows():
    async def h(rec):
        return None

    with pytest.raises(ValueError, match="NoSuchEvent"):
        Consumer("x", ["hr.evt.x.>"], h, types=frozenset({"NoSuchEvent"}))
    with pytest.raises(ValueError):
        Consumer("x", ["hr.evt.x.>"], h, types=frozenset())


def test_a_collection_belongs_to_one_projection():
    """A rebuild drops its projection's collections, and trusts that only its own events wrote them: a second
    projection writing one of them is refused when it is declared, not found out when a rebuild wipes it."""
    svc = Service("probe", KitSettings(nats_url="nats://127.0.0.1:1", docstore_url="sqlite://:memory:"))

    async def h(rec, view):
        return None

    svc.projection("first", ["hr.evt.x.>"], ["docs", "more"])(h)
    with pytest.raises(ValueError, match=r"\['more'\] belong to projection first"):
        svc.projection("second", ["hr.evt.y.>"], ["own", "more"])
    svc.projection("second", ["hr.evt.y.>"], ["own"])(h)  # its own collections: declared
    assert [c.name for c in svc._consumers][-2:] == ["first", "second"]


def test_a_declared_type_takes_its_subclasses_and_erasing_events_are_never_passed_over():
    from libs.contracts.drive import FileStored, FileVersionAdded
    from libs.contracts.onboarding import MemberErased
    from libs.kit.consumers import type_names

    assert issubclass(FileVersionAdded, FileStored)
    names = type_names((FileStored,))
    assert {"FileVersionAdded", "MemberErased"} <= names and "FileRenamed" not in names
    assert "MemberErased" in type_names((RulesAcknowledged,))  # whoever applies it scrubs the store after it
    assert MemberErased.erases


@pytest.mark.parametrize("data,passed", [
    (envelope("n", "m", type="ProfileUpdated"), True),  # known, not declared
    (envelope("n", "m"), False),  # declared: applied
    (envelope("n", "m", type="NoSuchEvent"), False),  # unknown: the whole way, to be dead-lettered
    (b"{not json", False),
    (b"[1, 2]", False),
    (b'{"type": 5}', False),
    (b"\xff\xfe", False),
    (b"x" * 2_000_000, False),  # oversized: dead-lettered, not read
])
def test_only_a_readable_event_of_a_known_undeclared_type_is_passed_over(data, passed):
    async def h(rec):
        return None

    c = Consumer("x", ["hr.evt.x.>"], h, types=frozenset({"RulesAcknowledged"}))
    assert c.passes_over(data) is passed
    assert Consumer("y", ["hr.evt.x.>"], h).passes_over(data) is False  # declares nothing: applies all


@pytest.mark.parametrize("header,passed", [
    ("ProfileUpdated", True),  # known, not declared: passed over on the header alone
    ("RulesAcknowledged", False),  # declared: applied, whatever the body says it is
    ("NoSuchEvent", False),  # unknown: the whole way, to be dead-lettered
    ("", False),
])
def test_the_event_stores_type_header_decides_without_reading_the_body(header, passed):
    async def h(rec):
        return None

    c = Consumer("x", ["hr.evt.x.>"], h, types=frozenset({"RulesAcknowledged"}))
    headers = {EVENT_TYPE_HEADER: header, "Nats-Msg-Id": "1"}
    body = envelope("n", "m", type="ProfileUpdated")
    assert c.passes_over(body, headers) is passed
    # the body is not read: one that cannot be decoded is passed over the same way (a consumer that applies its
    # type dead-letters it)
    assert c.passes_over(b"{not json", headers) is passed
    assert c.passes_over(b"x" * 2_000_000, headers) is False  # oversized: dead-lettered, whatever it claims
    assert Consumer("y", ["hr.evt.x.>"], h).passes_over(body, headers) is False  # declares nothing: applies all
    # no header (a message the event store did not write): the body decides
    assert c.passes_over(body, {"Nats-Msg-Id": "1"}) is True
    assert c.passes_over(b"{not json", {}) is False


@pytest.mark.parametrize("kind", ["projection", "policy"])
async def test_undeclared_events_are_passed_over_unread_and_never_applied_again(nats_server, tmp_path, kind):
    name = f"probe{uuid.uuid4().hex[:8]}"
    st = settings(nats_server, tmp_path)
    calls: list[str] = []
    svc = make(name, st, kind, calls)
    # onboarding's part: a process of its own writes (and reads back, to decide) the personal data
    writer = Service(f"{name}w", KitSettings(nats_url=nats_server.url, docstore_url="sqlite://:memory:",
                                              log_level="WARNING"), pii_writer=True)
    await writer.start()
    await svc.start()
    opened: list[str] = []
    real_open = svc.vault.open

    async def counting_open(subject, blob, aad):
        opened.append(subject)
        return await real_open(subject, blob, aad)

    svc.vault.open = counting_open
    try:
        for i in range(3):
            # a profile full of personal data: this consumer has no use for it, and must not open it
            for j in range(4):
                await append(writer, name, f"p{i}", ProfileUpdated(member_id=f"p{i}", full_name=f"Имя {j}",
                                                                   phone="+7 900 000-00-00"))
            await append(writer, name, f"r{i}", RulesAcknowledged(member_id=f"r{i}"))
        last = await append(writer, name, "c", ConsentGiven(member_id="c"))  # the log ends on a passed event
        await wait_for(lambda: runner(svc).checkpoint >= last)
        assert calls == ["r0", "r1", "r2"]
        assert (await svc.store.get("things", "order"))["members"] == ["r0", "r1", "r2"]
        assert [s for s in opened if s.startswith("p")] == [], "a personal field was decrypted for nothing"
        status = await runner(svc).status()
        assert status["lag"] == 0 and status["state"] == "running" and status["dead_letters"] == 0
        # a read-your-writes wait on the passed event answers at once
        assert await runner(svc).wait_caught_up(last, 1.0)
    finally:
        await svc.stop()
        await writer.stop()

    # started again on the same store: what was applied is not applied again, what was passed is not applied
    again = make(name, st, kind, calls)
    await again.start()
    try:
        await wait_for(lambda: runner(again).checkpoint >= last)
        await append(again, name, "r3", RulesAcknowledged(member_id="r3"))
        await wait_for(lambda: calls[-1:] == ["r3"])
        await asyncio.sleep(0.3)
        assert calls == ["r0", "r1", "r2", "r3"]
        assert (await again.store.get("things", "order"))["members"] == ["r0", "r1", "r2", "r3"]
    finally:
        await again.stop()


@pytest.mark.parametrize("poison", sorted(POISON))
async def test_a_consumer_with_declared_types_still_dead_letters_what_can_never_be_applied(
        nats_server, tmp_path, poison):
    name = f"probe{uuid.uuid4().hex[:8]}"
    calls: list[str] = []
    svc = make(name, settings(nats_server, tmp_path), "projection", calls)
    await svc.start()
    try:
        if poison == "undecryptable":
            writer = type(svc.vault)(svc.nc, writer=True)
            await writer.key("mx", create=True)
        await append(svc, name, "m0", RulesAcknowledged(member_id="m0"))
        await publish_raw(svc, f"hr.evt.{name}.thing.mx", POISON[poison](name, "mx"))
        await append(svc, name, "m2", RulesAcknowledged(member_id="m2"))
        await wait_for(lambda: calls == ["m0", "m2"])
        assert await dead_letters(svc, name) == [(f"hr.dlq.{name}.things", 1)]
    finally:
        await svc.stop()


async def test_a_standby_knows_its_holder_passed_an_event_it_never_applies(nats_server, tmp_path):
    """Two replicas on one store (as two processes of a service share a MongoDB): the holder stores its
    checkpoint past passed events only now and then; a standby's read-your-writes wait on such an event
    must still answer at once, not time out (a request on that replica would have waited for nothing)."""
    name = f"probe{uuid.uuid4().hex[:8]}"
    st = settings(nats_server, tmp_path)
    calls: list[str] = []
    first, second = make(name, st, "projection", calls, pii_writer=True), make(name, st, "projection", calls)
    await first.start()
    await second.start()
    try:
        await wait_for(lambda: runner(first).active or runner(second).active)
        holder, standby = (first, second) if runner(first).active else (second, first)
        await append(holder, name, "r0", RulesAcknowledged(member_id="r0"))
        await wait_for(lambda: calls == ["r0"])
        passed = 0
        for j in range(3):
            passed = await append(holder, name, "p0", ProfileUpdated(member_id="p0", full_name=f"Имя {j}"))
        await wait_for(lambda: runner(holder).checkpoint >= passed)
        assert not runner(standby).active
        assert await runner(standby).wait_caught_up(passed, 5.0, f"hr.evt.{name}.thing.p0")
        # and one it would apply, not yet applied, is not taken for reached
        ahead = passed + 10
        assert not await runner(standby).wait_caught_up(ahead, 0.3, f"hr.evt.{name}.thing.r9")
    finally:
        await second.stop()
        await first.stop()
