"""Telling many members at once (``MemberStreams.tell_many``) on a real nats-server: every member gets
their one item, in the order of the events told; told again, nobody gets it twice; one append that fails
fails the whole telling after the others have ended, and telling again adds only what was missing."""

from __future__ import annotations

import nats
import pytest

from libs.kit import notify
from libs.kit.notify import MemberStreams
from libs.kit.provision import ensure_stream, notify_stream


@pytest.fixture
async def streams(fresh_nats):
    nc = await nats.connect(fresh_nats.url)
    await ensure_stream(nc.jetstream(), notify_stream(1))
    s = MemberStreams(nc)
    yield s
    await s.close()
    await nc.close()


MEMBERS = [f"m-{i:03d}" for i in range(notify.TOLD_AT_ONCE * 2 + 7)]


def items(event: str) -> list[tuple[str, dict, str]]:
    return [(m, {"event": event, "for": m}, f"{event}:{m}") for m in MEMBERS]


async def test_each_member_is_told_once_in_the_order_of_the_events(streams):
    await streams.tell_many(items("e1"))
    await streams.tell_many(items("e2"))
    _, last = await streams.bounds()
    await streams.tell_many(items("e1"))  # a redelivered event
    assert (await streams.bounds())[1] == last == 2 * len(MEMBERS)
    for m in (MEMBERS[0], MEMBERS[notify.TOLD_AT_ONCE], MEMBERS[-1]):
        got = await streams.read(m, 0, 10)
        assert [i.data for i in got] == [{"event": "e1", "for": m}, {"event": "e2", "for": m}]


async def test_one_failed_append_fails_the_telling_and_a_retry_adds_only_what_is_missing(streams, monkeypatch):
    real = streams.tell
    unlucky = MEMBERS[notify.TOLD_AT_ONCE + 3]

    async def flaky(member_id, data, msg_id):
        if member_id == unlucky:
            raise TimeoutError("no answer from the server")
        return await real(member_id, data, msg_id)

    monkeypatch.setattr(streams, "tell", flaky)
    with pytest.raises(TimeoutError):
        await streams.tell_many(items("e1"))
    # the appends in flight with the failed one ended (none left running behind it); the rest were not begun
    assert (await streams.bounds())[1] == 2 * notify.TOLD_AT_ONCE - 1
    assert await streams.read(unlucky, 0, 10) == []
    monkeypatch.setattr(streams, "tell", real)
    await streams.tell_many(items("e1"))  # the event, retried
    assert (await streams.bounds())[1] == len(MEMBERS)
    assert [i.data for i in await streams.read(unlucky, 0, 10)] == [{"event": "e1", "for": unlucky}]
