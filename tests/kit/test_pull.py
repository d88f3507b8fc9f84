"""A durable consumer's deliveries (``Deliveries``) on a real nats-server: every message once and in
order, at most the asked number at a time; a trickle of events costs a pull request per batch or per
second, not one per event; a request lost with a killed server is renewed and nothing is missed;
a deleted consumer is said so (the runner starts over), never taken for an idle one. A lingering consumer
(every runner's since docs/adr/0038) keeps every one of these, and takes a steady stream in bursts."""

from __future__ import annotations

import asyncio
import json

import nats
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig

from libs.kit.pull import LOST_AFTER_S, ConsumerGone, Deliveries, stream_seq

STREAM = "PULLT"


LINGERS = pytest.mark.parametrize("linger", [0.0, 0.05], ids=["prompt", "lingering"])


async def consumer(nc, name: str = "c", linger: float = 0.0, opened: bool = True) -> Deliveries:
    js = nc.jetstream()
    await js.add_stream(name=STREAM, subjects=["pullt.>"])
    await js.add_consumer(STREAM, ConsumerConfig(durable_name=name, ack_policy=AckPolicy.ALL, max_ack_pending=4096))
    d = Deliveries(nc, STREAM, name, batch=64, linger_s=linger)
    return await d.open() if opened else d


async def watch_requests(url: str, name: str = "c") -> tuple[nats.NATS, list]:
    watcher = await nats.connect(url)
    requests: list = []

    async def seen(msg) -> None:
        requests.append(json.loads(msg.data))

    await watcher.subscribe(f"$JS.API.CONSUMER.MSG.NEXT.{STREAM}.{name}", cb=seen)
    await watcher.flush()
    return watcher, requests


async def take(d: Deliveries, count: int, most: int = 1000, timeout: float = 10.0) -> list[bytes]:
    got: list[bytes] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while len(got) < count and loop.time() < end:
        try:
            msgs = await d.next(most, timeout=0.5)
        except TimeoutError:
            continue
        assert len(msgs) <= most
        got += [m.data for m in msgs]
        await msgs[-1].ack()
    return got


@pytest.fixture
async def nc(fresh_nats):
    c = await nats.connect(fresh_nats.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    yield c
    await c.close()


@LINGERS
async def test_every_message_comes_once_in_order_at_most_the_asked_number_at_a_time(nc, linger):
    d = await consumer(nc, linger=linger)
    js = nc.jetstream()
    for i in range(300):  # more than a request's batch (64): several requests, in order
        await js.publish(f"pullt.{i % 7}", str(i).encode())
    assert await take(d, 300, most=50) == [str(i).encode() for i in range(300)]
    with pytest.raises(TimeoutError):
        await d.next(10, timeout=0.3)
    await d.close()


def nats_py_or_error(reply):
    try:
        return Msg(_client=None, subject="s", reply=reply).metadata.sequence.stream
    except Exception as e:  # noqa: BLE001 - the very error is what must match
        return type(e)


def ours_or_error(reply):
    try:
        return stream_seq(Msg(_client=None, subject="s", reply=reply))
    except Exception as e:  # noqa: BLE001
        return type(e)


NUMBER = st.one_of(st.integers(0, 2**64), st.sampled_from(["", "-1", "+1", "1_0", "٣", " 7", "0" * 30, "9" * 25]))
TOKEN = st.one_of(NUMBER.map(str), st.sampled_from(["", "_", "$JS", "ACK", "hr_events", "a b", "*", ">", "\n", "я"]))


@given(st.lists(TOKEN, min_size=0, max_size=14), st.sampled_from(["$JS.ACK.", "$JS.ACK", "$js.ACK.", "", "$JS.NAK."]))
@settings(max_examples=3000, deadline=None)
def test_a_stream_sequence_reads_as_nats_py_reads_it_from_any_reply(tokens, prefix):
    reply = prefix + ".".join(map(str, tokens))
    assert ours_or_error(reply) == nats_py_or_error(reply), reply


@given(st.booleans(), st.lists(NUMBER, min_size=5, max_size=5), st.lists(TOKEN, max_size=3))
@settings(max_examples=2000, deadline=None)
def test_a_well_formed_reply_with_any_numbers_reads_as_nats_py_reads_it(v2, numbers, after):
    """Both forms nats-server writes, each number anything from 0 to past 64 bits or not a number at all: a
    timestamp far enough ahead makes nats-py fail, and so must we."""
    head = ["$JS", "ACK", "_", "HASH"] if v2 else ["$JS", "ACK"]
    tail = after if v2 else []
    reply = ".".join([*head, "hr_events", "c", *map(str, numbers), *map(str, tail)])
    assert ours_or_error(reply) == nats_py_or_error(reply), reply


@pytest.mark.parametrize("reply", [
    "$JS.ACK.hr_events.c.1.42.7.99999999999999999999.0",  # a timestamp past year 9999: nats-py fails
    "$JS.ACK._.HASH.hr_events.c.1.42.7.99999999999999999999.0",
    "$JS.ACK.hr_events.c.1.42.7.1733412345678901234.0",
    "$JS.ACK._.HASH.hr_events.c.3.42.7.1733412345678901234.9",
    "$JS.ACK.dom.HASH.hr_events.c.3.42.7.1733412345678901234.9.random.more",
    "$JS.ACK.hr_events.c.1.99999999999999999999.7.1.0",  # 20 digits: nats-py's to read
    "$JS.ACK.hr_events.c.1.42.7.1733412345678901234",  # 8 tokens: not a delivery
    "$JS.ACK.hr_events.c.1.42.7.1.0.x",  # 10 tokens: neither form
    None, "", "inbox.reply",
])
def test_the_forms_nats_server_writes_and_those_it_does_not(reply):
    assert ours_or_error(reply) == nats_py_or_error(reply)


async def test_real_deliveries_give_their_stream_sequence(nc):
    d = await consumer(nc)
    js = nc.jetstream()
    acks = [await js.publish(f"pullt.{i}", b"x") for i in range(5)]
    msgs = []
    while len(msgs) < 5:
        msgs += await d.next(5, timeout=5)
    ours = [stream_seq(m) for m in msgs]
    # read without nats-py: its metadata, built and memoised on first use, was never asked for
    assert all(m._metadata is None for m in msgs)
    assert ours == [a.seq for a in acks] == [m.metadata.sequence.stream for m in msgs]
    await d.close()


async def test_a_trickle_of_events_costs_a_request_per_second_not_one_per_event(nc, fresh_nats):
    watcher, requests = await watch_requests(fresh_nats.url)
    d = await consumer(nc)
    js = nc.jetstream()
    reader = asyncio.create_task(take(d, 40, most=10, timeout=20))
    loop = asyncio.get_running_loop()
    began = loop.time()
    for i in range(40):
        await asyncio.sleep(0.025)
        await js.publish("pullt.x", str(i).encode())
    assert await reader == [str(i).encode() for i in range(40)]
    seconds = loop.time() - began
    # nats-py's fetch sent one request per event here (40); one per second plus the first is the bound
    assert len(requests) <= seconds + 2, (len(requests), seconds)
    await d.close()
    await watcher.close()


@LINGERS
async def test_a_request_lost_with_a_killed_server_is_renewed_and_nothing_is_missed(nc, fresh_nats, linger):
    d = await consumer(nc, linger=linger)
    js = nc.jetstream()
    await js.publish("pullt.x", b"before")
    assert await take(d, 1) == [b"before"]
    for _ in range(100):  # the acknowledgement is not awaited: killed before it landed, "before" comes again
        if (await js.consumer_info(STREAM, "c")).num_ack_pending == 0:
            break
        await asyncio.sleep(0.01)
    fresh_nats.kill()  # no word to the waiting request (a stopped server ends it with a 409)
    fresh_nats.start()  # the same port and store: the outstanding request is gone with the old process
    for _ in range(100):
        if nc.is_connected:
            break
        await asyncio.sleep(0.1)
    for attempt in range(50):  # the server recovers its streams after it answers connections
        try:
            await js.publish("pullt.x", b"after", timeout=1)
            break
        except (TimeoutError, nats.errors.Error):
            await asyncio.sleep(0.2)
    assert await take(d, 1, timeout=LOST_AFTER_S + 10) == [b"after"]
    await d.close()


@LINGERS
async def test_a_deleted_consumer_is_said_so_not_taken_for_an_idle_one(nc, linger):
    d = await consumer(nc, linger=linger)
    await nc.jetstream().delete_consumer(STREAM, "c")
    with pytest.raises(ConsumerGone):
        for _ in range(10):
            try:
                await d.next(10, timeout=0.5)
            except TimeoutError:
                continue
    await d.close()


async def test_a_second_reader_is_refused_at_once_not_left_waiting(nc):
    """One waiter is woken per delivery: a second reader waiting beside the first would sit out its timeout
    with the messages already buffered. It is told so, and the first reader still gets every message."""
    d = await consumer(nc)
    first = asyncio.create_task(d.next(10, timeout=5.0))
    await asyncio.sleep(0.05)
    with pytest.raises(RuntimeError, match="one reader"):
        await d.next(10, timeout=5.0)
    await nc.jetstream().publish("pullt.1", b"x")
    assert [m.data for m in await first] == [b"x"]
    await d.close()


async def test_a_lingering_consumer_takes_a_steady_stream_in_bursts(nc, fresh_nats):
    """The point of lingering: events published one by one reach the reader many at a time, one request
    each burst — where a prompt consumer is woken for each."""
    watcher, requests = await watch_requests(fresh_nats.url)
    d = await consumer(nc, linger=0.2)
    js = nc.jetstream()
    returns = 0

    async def read() -> list[bytes]:
        nonlocal returns
        got: list[bytes] = []
        while len(got) < 200:
            try:
                msgs = await d.next(1000, timeout=5.0)
            except TimeoutError:
                break
            returns += 1
            got += [m.data for m in msgs]
            await msgs[-1].ack()
        return got

    reader = asyncio.create_task(read())
    for i in range(200):
        await asyncio.sleep(0.005)
        await js.publish("pullt.x", str(i).encode())
    assert await reader == [str(i).encode() for i in range(200)]
    assert returns <= 50, returns  # a prompt reader returns about once per event here
    assert len(requests) <= returns + 3, (len(requests), returns)
    await d.close()
    await watcher.close()


async def test_an_idle_lingering_consumer_asks_once_a_second(nc, fresh_nats):
    watcher, requests = await watch_requests(fresh_nats.url)
    d = await consumer(nc, linger=0.05)
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(TimeoutError):
        await d.next(10, timeout=2.5)
    seconds = loop.time() - began
    # one request that takes what waited (nothing), then one waiting request a second: not one per linger
    assert len(requests) <= seconds + 2, (len(requests), seconds)
    assert requests[0].get("no_wait") and all(r["batch"] == 1 and not r.get("no_wait") for r in requests[1:])
    await d.close()
    await watcher.close()


async def test_a_backlog_comes_in_full_bursts_without_lingering_between(nc):
    """What waited before the consumer opened (a restart's catch-up) is not slowed by lingering: a full
    burst asks again at once. The linger here (5 s) would show."""
    d = await consumer(nc, linger=5.0, opened=False)
    js = nc.jetstream()
    for i in range(300):
        await js.publish("pullt.x", str(i).encode())
    await d.open()
    assert await take(d, 300, timeout=4.0) == [str(i).encode() for i in range(300)]
    await d.close()


async def test_after_a_quiet_spell_the_first_event_comes_at_once_and_the_next_lingers(nc):
    d = await consumer(nc, linger=2.0)
    js = nc.jetstream()
    with pytest.raises(TimeoutError):  # the backlog (none) taken: now waiting for the next event
        await d.next(10, timeout=0.3)
    await js.publish("pullt.x", b"first")
    assert [m.data for m in await d.next(10, timeout=1.5)] == [b"first"]
    await js.publish("pullt.x", b"second")
    with pytest.raises(TimeoutError):  # gathering: not before the linger is over
        await d.next(10, timeout=1.0)
    assert [m.data for m in await d.next(10, timeout=3.0)] == [b"second"]
    await d.close()


async def test_someone_waiting_ends_the_pause(nc):
    d = await consumer(nc, linger=30.0)
    js = nc.jetstream()
    with pytest.raises(TimeoutError):
        await d.next(10, timeout=0.3)
    await js.publish("pullt.x", b"first")
    assert [m.data for m in await d.next(10, timeout=1.5)] == [b"first"]
    await js.publish("pullt.x", b"second")
    waiting = asyncio.create_task(d.next(10, timeout=5.0))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # lingering
    d.hurry()
    assert [m.data for m in await asyncio.wait_for(waiting, 2.0)] == [b"second"]
    await d.close()
