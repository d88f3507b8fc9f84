"""Overload is answered, not queued: past its bound of requests in flight, a gateway refuses at once with 503
and Retry-After, in the caller's language, carrying out nothing; what it accepted is carried out; probes and
one address's neighbours are not starved.

Requests are held in flight for real: the onboarding service's password hashing is taken, so sign-ins wait
inside the service (the gateway waits for their replies) until the test lets them go. A second gateway with a
small bound serves the test, on the session's platform."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import httpx
import pytest

from libs.kit.natsserver import free_port
from services.gateway.app import create_app
from services.gateway.settings import Settings
from tests.e2e.helpers import settled_position
from tests.e2e.journey import FULL_PROFILE
from tests.platform_harness import ADMIN_EMAIL, ADMIN_PASSWORD, FORWARDED_SECRET, _serve
from tests.security.test_edge import onboarding_accounts

ADMIN = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}


@asynccontextmanager
async def small_gateway(platform, limit: int, per_address: int):
    """(base URL, the gateway's Load) of a gateway carrying at most ``limit`` requests, ``per_address`` from
    one address."""
    port = free_port()
    app = create_app(platform.gateway_settings.model_copy(update={
        "port": port, "max_in_flight": limit, "max_in_flight_per_address": per_address}))
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


def test_the_bound_is_a_setting_within_limits():
    settings = Settings()
    assert (settings.max_in_flight, settings.max_in_flight_per_address, settings.overload_retry_after_s) == (64, None, 1)
    for bad in ({"max_in_flight": 0}, {"max_in_flight_per_address": 0}, {"overload_retry_after_s": 0}):
        with pytest.raises(ValueError):
            Settings(**bad)
