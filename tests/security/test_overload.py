"""Overload is answered, not queued: past its bound of requests in flight, a gateway refuses at once with 503
and Retry-After, in the caller's language, carrying out nothing; what it accepted is carried out; probes and
one address's neighbours are not starved.

Requests are held in flight for real: the onboarding service's password hashing is taken, so sign-ins wait
inside the service (the gateway waits for their replies) until the test lets them go. A second gateway with a
small bound serves the test, on the session's platform."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from contextlib import asynccontextmanager
from types import SimpleNamespace

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from libs.contracts.types import UUID_RE
from libs.kit.natsserver import free_port
from libs.kit.tracing import setup_tracing
from services.gateway import app as gateway_app
from services.gateway.app import create_app
from services.gateway.overload import Bound
from services.gateway.settings import Settings
from tests.e2e.helpers import settled_position
from tests.e2e.journey import FULL_PROFILE
from tests.platform_harness import ADMIN_EMAIL, ADMIN_PASSWORD, FORWARDED_SECRET, _serve
from tests.security.test_edge import onboarding_accounts

ADMIN = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}


@asynccontextmanager
async def small_gateway(platform, limit: int, per_address: int, **adaptive):
    """(base URL, the gateway's Load) of a gateway carrying at most ``limit`` requests, ``per_address`` from
    one address; a fixed bound unless ``adaptive`` gives overload_target_ms (the held sign-ins' time would lower
    it)."""
    port = free_port()
    app = create_app(platform.gateway_settings.model_copy(update={
        "port": port, "max_in_flight": limit, "max_in_flight_per_address": per_address,
        "overload_target_ms": None, **adaptive}))
    server, task = await _serve(app, port)
    try:
        yield f"http://127.0.0.1:{port}", app.state.load
    finally:
        server.should_exit = True
        await task


def client(base: str, address: str, lang: str | None = None, token: str | None = None) -> httpx.AsyncClient:
    headers = {"X-Forwarded-For": address, "X-Hrm-Forwarded-Secret": FORWARDED_SECRET}
    if lang:
        headers["Accept-Language"] = lang
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(base_url=base, headers=headers, timeout=30.0)


@asynccontextmanager
async def hashing_held(platform):
    """Every sign-in waits inside the onboarding service until the block ends."""
    hashing = onboarding_accounts(platform.services["onboarding"])._hashing
    held = 0
    try:
        while not hashing.locked():
            await hashing.acquire()
            held += 1
        yield
    finally:
        for _ in range(held):
            hashing.release()


async def sign_in(base: str, address: str) -> httpx.Response:
    async with client(base, address) as c:
        return await c.post("/v1/auth/token", json=ADMIN)


async def until(predicate, what: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.01)


def assert_overloaded(r: httpx.Response, lang: str) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["retry-after"] == "1"
    assert r.headers["content-language"] == lang
    assert UUID_RE.match(r.headers["x-correlation-id"]), r.headers  # like every answer: one to quote
    body = r.json()
    assert body["code"] == "overloaded" and body["status"] == 503
    if lang == "ru":
        assert "перегружен" in body["title"], body
    else:
        assert "overloaded" in body["title"], body


async def test_past_the_bound_the_excess_is_refused_at_once_and_the_accepted_are_carried_out(platform):
    async with small_gateway(platform, limit=4, per_address=4) as (base, load):
        async with hashing_held(platform):
            held = [asyncio.create_task(sign_in(base, f"198.51.100.{i}")) for i in range(4)]
            await until(lambda: load.in_flight == 4, f"4 sign-ins in flight, {load.in_flight} seen")

            # a fifth caller of any kind is refused at once, in Russian by default, in English when asked
            loop = asyncio.get_running_loop()
            started = loop.time()
            async with client(base, "203.0.113.9") as c:
                refused_ru = await c.post("/v1/auth/token", json=ADMIN)
            async with client(base, "203.0.113.9", lang="en") as c:
                refused_en = await c.get("/v1/roles")
            waited = loop.time() - started
            assert_overloaded(refused_ru, "ru")
            assert_overloaded(refused_en, "en")
            assert waited < 5, f"refusals took {waited:.1f} s: queued behind the held requests"
            assert not any(t.done() for t in held), "the held requests did not wait"

            # probes are never refused, and readiness says what the gateway carries and refused
            async with client(base, "203.0.113.9") as c:
                assert (await c.get("/healthz")).status_code == 200
                ready = (await c.get("/readyz")).json()
            assert ready["in_flight"] == 4 and ready["refused_overloaded"] == 2, ready
        # let go: every accepted request is carried out
        answers = await asyncio.gather(*held)
        assert [r.status_code for r in answers] == [200] * 4, [r.text for r in answers]
        admin_token = answers[0].json()["access_token"]
        assert load.in_flight == 0

        # a refused command appends nothing; the same command once there is room is carried out
        async with hashing_held(platform):
            held = [asyncio.create_task(sign_in(base, f"198.51.100.{i}")) for i in range(4)]
            await until(lambda: load.in_flight == 4, "4 sign-ins in flight again")
            before = await settled_position(platform)
            async with client(base, "203.0.113.9", token=admin_token) as c:
                refused = await c.put("/v1/me/profile", json=FULL_PROFILE)
            assert_overloaded(refused, "ru")
            assert await settled_position(platform) == before, "a refused command appended to the log"
        assert [r.status_code for r in await asyncio.gather(*held)] == [200] * 4
        async with client(base, "203.0.113.9", token=admin_token) as c:
            assert (await c.put("/v1/me/profile", json=FULL_PROFILE)).status_code == 200


async def test_one_address_cannot_take_every_place(platform):
    async with small_gateway(platform, limit=8, per_address=2) as (base, load):
        async with hashing_held(platform):
            held = [asyncio.create_task(sign_in(base, "198.51.100.77")) for _ in range(2)]
            await until(lambda: load.in_flight == 2, "2 sign-ins in flight")
            assert_overloaded(await sign_in(base, "198.51.100.77"), "ru")
            # a neighbour is carried (its sign-in waits for the hash like the others, then succeeds)
            neighbour = asyncio.create_task(sign_in(base, "203.0.113.10"))
            await until(lambda: load.in_flight == 3, "the neighbour's sign-in in flight")
        assert [r.status_code for r in await asyncio.gather(*held, neighbour)] == [200] * 3


def spans_kept(monkeypatch):
    """A function giving the finished spans of the gateways created from here on (flushed first: they are
    exported in batches)."""
    exported = InMemorySpanExporter()
    providers = []

    def traced(service, namespace, sample_ratio):
        providers.append(setup_tracing(service, namespace, exporter=exported, sample_ratio=sample_ratio))
        return providers[-1]

    def finished():
        for provider in providers:
            provider.force_flush()
        return exported.get_finished_spans()

    monkeypatch.setattr(gateway_app, "setup_tracing", traced)
    return finished


async def test_a_refusal_keeps_the_callers_correlation_id_and_is_traced_under_the_callers_trace(platform,
                                                                                              monkeypatch):
    """A refusal runs before the tracing middleware and the access log (docs/adr/0039): it still answers with the
    caller's correlation id (a new one for anything but a UUID), and makes one span of its own in the caller's
    trace when the caller's trace is sampled, none when it is not."""
    finished_spans = spans_kept(monkeypatch)
    sampled_trace, unsampled_trace = uuid.uuid4().hex, uuid.uuid4().hex
    mine = str(uuid.uuid4())
    async with small_gateway(platform, limit=1, per_address=1) as (base, load):
        async with hashing_held(platform):
            held = asyncio.create_task(sign_in(base, "198.51.100.1"))
            await until(lambda: load.in_flight == 1, "a sign-in in flight")
            async with client(base, "203.0.113.9", lang="en") as c:
                sampled = await c.put("/v1/me/profile", json=FULL_PROFILE, headers={
                    "X-Correlation-Id": mine, "traceparent": f"00-{sampled_trace}-00f067aa0ba902b7-01"})
                unsampled = await c.get("/v1/roles", headers={
                    "X-Correlation-Id": "*", "traceparent": f"00-{unsampled_trace}-00f067aa0ba902b7-00"})
        assert (await held).status_code == 200
    assert_overloaded(sampled, "en")
    assert_overloaded(unsampled, "en")
    assert sampled.headers["x-correlation-id"] == mine
    assert unsampled.headers["x-correlation-id"] not in ("*", mine)
    spans = finished_spans()
    refused = [s for s in spans if format(s.context.trace_id, "032x") == sampled_trace]
    assert len(refused) == 1, [(s.name, s.attributes) for s in spans]
    span = refused[0]
    assert span.kind == trace.SpanKind.SERVER and span.status.status_code == trace.StatusCode.ERROR
    assert span.parent is not None and format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert (span.name, span.attributes["http.response.status_code"], span.attributes["error.type"],
            span.attributes["url.path"]) == ("PUT", 503, "overloaded", "/v1/me/profile")
    assert not [s for s in spans if format(s.context.trace_id, "032x") == unsampled_trace]
    assert any(s.attributes.get("http.route") == "/v1/auth/token" for s in spans), "the accepted one is traced too"


BAD_TRACEPARENTS = [
    "garbage",
    "00-" + "0" * 32 + "-00f067aa0ba902b7-01",  # an all-zero trace id is invalid
    "00-" + "a" * 32 + "-" + "0" * 16 + "-01",  # so is an all-zero parent
    "ff-" + "a" * 32 + "-00f067aa0ba902b7-01",  # a forbidden version
    "00-" + "a" * 32 + "-00f067aa0ba902b7-01-" + "x" * 6000,  # huge, and version 00 allows nothing after
    "00-*-*-01",
]


async def test_a_refusal_under_a_malformed_or_huge_traceparent_is_still_a_refusal_in_a_trace_of_its_own(
        platform, monkeypatch):
    """The refusal reads the caller's ``traceparent`` before any other part of the gateway has looked at the
    request: whatever it holds, the answer is the same 503, and its span starts a trace of its own rather than
    joining one the header made up."""
    finished_spans = spans_kept(monkeypatch)
    async with small_gateway(platform, limit=1, per_address=1) as (base, load):
        async with hashing_held(platform):
            held = asyncio.create_task(sign_in(base, "198.51.100.1"))
            await until(lambda: load.in_flight == 1, "a sign-in in flight")
            async with client(base, "203.0.113.9") as c:
                refused = [await c.put("/v1/me/profile", json=FULL_PROFILE, headers={"traceparent": bad})
                           for bad in BAD_TRACEPARENTS]
            refused_before = load.refused
        assert (await held).status_code == 200
    for r in refused:
        assert_overloaded(r, "ru")
    assert refused_before >= len(BAD_TRACEPARENTS)
    spans = [s for s in finished_spans() if s.attributes.get("error.type") == "overloaded"]
    assert len(spans) == len(BAD_TRACEPARENTS), [(s.name, s.attributes) for s in spans]
    assert all(s.parent is None for s in spans), [s.parent for s in spans]
    assert len({s.context.trace_id for s in spans}) == len(spans)  # each its own, none made up from a header


def test_the_bound_is_a_setting_within_limits():
    settings = Settings()
    assert (settings.max_in_flight, settings.max_in_flight_per_address, settings.overload_retry_after_s) == (64, None, 1)
    assert (settings.overload_target_ms, settings.min_in_flight) == (15.0, 2)
    for bad in ({"max_in_flight": 0}, {"max_in_flight_per_address": 0}, {"overload_retry_after_s": 0},
                {"overload_target_ms": 0}, {"min_in_flight": 0}):
        with pytest.raises(ValueError):
            Settings(**bad)


async def test_slow_answers_with_the_bound_taken_lower_it_and_fast_ones_raise_it_back(platform):
    """The bound follows what the machine carries (docs/adr/0031): requests that take long while most of the
    bound is taken make the gateway carry fewer at once — the next caller is refused at once though the
    ceiling has room — and once the load has passed the bound comes back. Slow answers with the bound at most
    half taken (light load) change nothing."""
    async with small_gateway(platform, limit=4, per_address=4, overload_target_ms=200, min_in_flight=2) as (
            base, load):
        async def held_sign_ins(n: int) -> list[httpx.Response]:
            """``n`` sign-ins held in the service (longer than the target); one more is refused when ``n`` is
            the bound."""
            async with hashing_held(platform):
                held = [asyncio.create_task(sign_in(base, f"198.51.100.{i}")) for i in range(n)]
                await until(lambda: load.in_flight == n, f"{n} sign-ins in flight, {load.in_flight} seen")
                await asyncio.sleep(0.3)
                if n == load.bound.current:
                    async with client(base, "203.0.113.9") as c:
                        assert_overloaded(await c.post("/v1/auth/token", json=ADMIN), "ru")
            answers = await asyncio.gather(*held)
            assert [r.status_code for r in answers] == [200] * n, [r.text for r in answers]  # all carried out
            # their window closed at its end, as a request arriving then would: closed later, it also counts the
            # empty windows since, one back each — on a busy machine /readyz came late enough to add back all
            # that the window had taken away (seen in a make test on a slow hour)
            await asyncio.sleep(max(0.0, load.bound._window_ends - time.monotonic()))
            load.bound.tick(time.monotonic(), load.in_flight)
            return answers

        async def bound() -> int:
            async with client(base, "203.0.113.9") as c:
                return (await c.get("/readyz")).json()["in_flight_bound"]

        assert await bound() == 4
        await held_sign_ins(2)  # slow, but only half the bound taken: nothing learnt
        assert await bound() == 4
        await held_sign_ins(4)  # slow with the bound taken: it shrinks
        learnt = load.bound.current
        assert 2 <= learnt < 4, learnt
        # so as many slow requests as it learnt are all the gateway takes: one more is refused at once, though
        # fewer than the ceiling are in flight
        answers = await held_sign_ins(learnt)
        assert load.bound.current >= 2, "the floor holds"
        # quiet, then a fast answer: the bound grows back by the quiet windows, to the ceiling
        await asyncio.sleep(0.5)
        async with client(base, "203.0.113.9", token=answers[0].json()["access_token"]) as c:
            assert (await c.get("/v1/me")).status_code == 200
        assert await bound() == 4
        await held_sign_ins(4)  # four carried at once again


async def test_the_bound_learns_each_route_alone_by_its_template_and_nothing_clients_make_up(platform):
    """What a route takes alone is keyed by the template the router matched, read after the whole stack has
    answered (docs/adr/0041): never by the path clients send (ids, made-up paths and methods would make the
    keys as many as the requests)."""
    async with small_gateway(platform, limit=4, per_address=4, overload_target_ms=200) as (base, load):
        async with client(base, "203.0.113.9") as c:
            token = (await c.post("/v1/auth/token", json=ADMIN)).json()["access_token"]
        async with client(base, "203.0.113.9", token=token) as c:
            for i in range(3):  # one at a time: quiet
                assert (await c.get("/v1/me")).status_code == 200
                r = await c.get(f"/v1/groups/{uuid.uuid4()}/messages", params={"limit": i + 1})
                assert r.status_code in (403, 404), r.text
                assert (await c.get(f"/v1/no/such/{uuid.uuid4()}")).status_code == 404
                assert (await c.request("BREW", "/v1/me")).status_code == 405
                assert (await c.request("*", "/v1/*")).status_code in (400, 404, 405)
            await asyncio.sleep(0.15)
            assert (await c.get("/readyz")).status_code in (200, 503)  # closes the window
    assert set(load.bound._quiet) == {("POST", "/v1/auth/token"), ("GET", "/v1/me"),
                                      ("GET", "/v1/groups/{group_id}/messages")}, load.bound._quiet
    assert len(load.bound._quiet[("GET", "/v1/me")]) == 3


STEP = 0.125  # a little more than a window (a binary fraction: no rounding between steps)


def windows(bound: Bound, took: list[float | None], in_flight: int, n: int, start: float = 1.0,
            key: object = None) -> list[int]:
    """``n`` windows in a row, each with ``in_flight`` requests admitted together and ``took`` completed (of the
    route ``key``, or a list of one per request); the bound once each has closed."""
    seen = []
    keys = key if isinstance(key, list) else [key] * len(took)
    for k in range(n):
        at = start + k * STEP
        for i in range(in_flight):
            bound.admitted(i + 1, at)
        for i, (t, route) in enumerate(zip(took, keys, strict=True)):
            bound.completed(t, max(in_flight - i - 1, 0), at, route)
        bound.tick(at + STEP, 0 if len(took) >= in_flight else in_flight - len(took))
        seen.append(bound.current)
    return seen


def test_without_a_target_the_bound_is_fixed():
    bound = Bound(ceiling=64, floor=2, target_s=None)
    assert windows(bound, [5.0] * 10, 64, 10) == [64] * 10


def test_a_slow_median_at_a_taken_bound_shrinks_it_to_the_floor_within_a_few_windows_and_no_further():
    bound = Bound(ceiling=64, floor=2, target_s=0.02)
    seen = [windows(bound, [0.2] * 9, bound.current, 1, start=1.0 + k * 2 * STEP)[0] for k in range(8)]
    assert seen[:5] == [32, 16, 8, 4, 2] and set(seen[5:]) == {2}, seen
    # a median just past the target shrinks in proportion, not by half
    bound = Bound(ceiling=64, floor=2, target_s=0.02)
    assert windows(bound, [0.025] * 9, 64, 1) == [int(64 * 0.02 / 0.025)]


@pytest.mark.parametrize("took,in_flight", [
    ([0.5] * 9, 32),  # slow, but at most half the bound taken: light load of slow requests
    ([0.001] * 5 + [9.0] * 4, 64),  # a few very slow among fast ones: the median is fast
    ([None] * 9, 64),  # only unmeasured requests (uploads: their time is the client's bandwidth)
    ([], 64),  # nothing completed while the bound was taken: nothing learnt
])
def test_what_does_not_show_a_queue_never_lowers_the_bound(took, in_flight):
    bound = Bound(ceiling=64, floor=2, target_s=0.02)
    assert windows(bound, took, in_flight, 3) == [64] * 3


def test_fast_windows_and_quiet_ones_grow_the_bound_back_to_the_ceiling_and_no_further():
    bound = Bound(ceiling=64, floor=2, target_s=0.02)
    windows(bound, [1.0] * 9, 64, 8)
    assert bound.current == 2
    assert windows(bound, [0.001] * 2, 2, 2, start=2.0) == [3, 4]  # one more for each fast window
    assert windows(bound, [], 3, 1, start=2.25) == [4]  # busy with nothing completed: nothing learnt
    # the last window closed at 2.375 and ended at 2.475; then nothing in flight until 3.0: five quiet windows
    bound.tick(3.0, 0)
    assert bound.current == 4 + 5
    bound.tick(60.0, 0)
    assert bound.current == 64


PUT_PROFILE, GET_ME, SIGN_IN = ("PUT", "/v1/me/profile"), ("GET", "/v1/me"), ("POST", "/v1/auth/token")


def after_a_stall(bound: Bound, took: list[float], key: object, start: float) -> list[int]:
    """A stall (every request 200 ms with the bound taken) shrinks the bound to its floor; then six windows of
    ``took`` at the bound the stall left, taken: the bound after each."""
    windows(bound, [0.2] * 9, 64, 5, start=start, key=PUT_PROFILE)
    assert bound.current == 2
    return windows(bound, took, bound.current, 6, start=start + 5 * STEP, key=key)


def test_on_a_slow_moment_ordinary_load_is_not_taken_for_a_queue():
    """The bench's failure (docs/adr/0041): a command took 10 ms alone and 16 ms at 175 a second — no queue, a
    slow machine — against a 15 ms target; a stall shrank the bound, and with the median above the target and
    the small bound taken it never grew back, refusing a sixth of a load the machine carried. 16 ms is 1.6 times
    what the route takes alone, within 1.75: not a queue, so the bound grows back."""
    def slow_moment(quiet_ms: float | None) -> list[int]:
        bound = Bound(ceiling=64, floor=2, target_s=0.015)
        if quiet_ms is not None:  # light load: one request at a time
            windows(bound, [quiet_ms / 1000], 1, 20, key=PUT_PROFILE)
        return after_a_stall(bound, [0.016] * 3, PUT_PROFILE, start=10.0)

    assert slow_moment(10.0) == [3, 4, 5, 6, 7, 8]
    assert slow_moment(None) == [2] * 6  # nothing known of the route alone: the target holds
    assert slow_moment(8.0) == [2] * 6  # a fast moment: 16 ms is twice what it takes alone, a queue


def test_each_request_is_compared_with_its_own_route_alone():
    bound = Bound(ceiling=64, floor=2, target_s=0.015)
    windows(bound, [0.002], 1, 20, key=GET_ME)  # quiet reads of 2 ms: they say nothing of commands
    assert after_a_stall(bound, [0.016] * 3, PUT_PROFILE, start=10.0) == [2] * 6
    bound = Bound(ceiling=64, floor=2, target_s=0.015)
    windows(bound, [0.002], 1, 20, key=GET_ME)
    windows(bound, [0.010], 1, 20, start=5.0, key=PUT_PROFILE)
    # reads at 3.5 ms and commands at 17 ms at once: the typical request took 1.7 times its route alone
    assert after_a_stall(bound, [0.0035, 0.017, 0.017], [GET_ME, PUT_PROFILE, PUT_PROFILE], start=10.0)[-1] == 8
    # ... and reads at 2 ms with commands at 25 ms: 2.5 times, a queue
    assert after_a_stall(bound, [0.002, 0.025, 0.025], [GET_ME, PUT_PROFILE, PUT_PROFILE], start=20.0) == [2] * 6
    # most of the window's requests of a route never seen alone: not known, the target holds
    assert after_a_stall(bound, [0.0021, 0.016, 0.016], [GET_ME, ("GET", "/v1/roles"), None],
                         start=30.0) == [2] * 6


def test_past_twice_the_target_a_median_is_slow_whatever_its_route_takes_alone():
    bound = Bound(ceiling=64, floor=2, target_s=0.015)
    windows(bound, [0.5], 1, 10, key=SIGN_IN)  # sign-ins alone: hashing, slow by design
    assert windows(bound, [0.029] * 9, 64, 1, start=3.0, key=SIGN_IN) == [64]  # 0.06 of alone, within 30 ms
    assert windows(bound, [0.045] * 9, 64, 1, start=4.0, key=SIGN_IN) == [32]  # shrunk (by half at most)


def test_a_long_overload_teaches_nothing_and_a_slow_moment_is_forgotten():
    bound = Bound(ceiling=64, floor=2, target_s=0.015)
    windows(bound, [0.016] * 9, 64, 200, key=PUT_PROFILE)  # 25 s loaded: requests waited for each other
    assert bound.current == 2 and bound.slowdown is None
    windows(bound, [0.010], 1, 10, start=40.0, key=PUT_PROFILE)
    assert after_a_stall(bound, [0.016] * 3, PUT_PROFILE, start=42.0)[-1] == 8
    assert bound.slowdown == pytest.approx(1.6)
    windows(bound, [0.2] * 9, 64, 500, start=45.0, key=PUT_PROFILE)  # a minute since the last quiet window
    assert after_a_stall(bound, [0.016] * 3, PUT_PROFILE, start=120.0) == [2] * 6


def test_any_run_of_windows_keeps_the_bound_within_its_limits_and_its_memory_small():
    rnd = random.Random(41)
    keys = [None, GET_ME, PUT_PROFILE, SIGN_IN]
    for _ in range(200):
        ceiling = rnd.randint(1, 80)
        bound = Bound(ceiling=ceiling, floor=rnd.randint(1, 10), target_s=rnd.choice([0.001, 0.015, 0.2]))
        at = 1.0
        for _ in range(rnd.randint(1, 60)):
            took = [rnd.choice([None, 0.0, 1e-6, 0.004, 0.016, 0.05, 3.0, 1e9]) for _ in range(rnd.randint(0, 12))]
            windows(bound, took, rnd.randint(0, ceiling), 1, start=at, key=[rnd.choice(keys) for _ in took])
            at += rnd.choice([STEP, 2 * STEP, 30.0])
            assert bound.floor <= bound.current <= ceiling
        assert set(bound._quiet) <= set(keys) and all(len(q) <= 32 for q in bound._quiet.values())


def test_a_floor_above_the_ceiling_is_the_ceiling():
    bound = Bound(ceiling=4, floor=8, target_s=0.02)
    assert (bound.current, bound.floor) == (4, 4)
    assert windows(bound, [1.0] * 3, 4, 1) == [4]


async def test_files_in_transit_count_against_the_ceiling_only_not_against_a_learnt_bound():
    """A download's or an upload's time is the client's bandwidth: after an overload has taught the gateway to
    carry two requests at once, two long downloads must not make it refuse everyone else until they end."""
    from services.gateway.overload import InFlightLimit, Load
    from services.gateway.routers.drive import TRANSFER_PATHS

    release = asyncio.Event()

    async def inner(scope, receive, send):
        if scope["path"].endswith("/content"):
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    load = Load()
    bound = Bound(ceiling=4, floor=2, target_s=0.02)
    bound.limit = 2.0  # as an overload left it
    limit = InFlightLimit(inner, load, bound, per_address=4, retry_after_s=1, transfers=TRANSFER_PATHS)
    state = SimpleNamespace(state=SimpleNamespace(settings=Settings()))  # what the client's address is read from

    async def app(scope, receive, send):
        await limit({**scope, "app": state}, receive, send)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        downloads = [asyncio.create_task(c.get(f"/v1/groups/g1/files/f{i}/content")) for i in range(2)]
        await until(lambda: load.in_flight == 2, "two downloads in flight")
        assert (await c.get("/v1/roles")).status_code == 200  # the learnt bound counts the others only
        more = [asyncio.create_task(c.get(f"/v1/groups/g1/files/f{i}/versions/1/content")) for i in (2, 3)]
        await until(lambda: load.in_flight == 4, "four downloads in flight")
        refused = await c.get("/v1/roles")  # the ceiling counts everything
        assert refused.status_code == 503 and refused.json()["code"] == "overloaded", refused.text
        release.set()
        assert [r.status_code for r in await asyncio.gather(*downloads, *more)] == [200] * 4
    assert (load.in_flight, load.transfers) == (0, 0)
    assert TRANSFER_PATHS.match("/v1/groups/g1/files") and TRANSFER_PATHS.match("/v1/groups/g1/files/f1/versions")
    assert not TRANSFER_PATHS.match("/v1/groups/g1/files/f1") and not TRANSFER_PATHS.match("/v1/roles")
