"""A member erased between a notification's raising and its telling keeps nothing on their live stream: the
erasure's purges (this service's and the groups service's) ran before the item was appended, and the policy
that told it loads the member's preferences again and purges what it told. It stayed there for good."""

from __future__ import annotations

import asyncio

from services.notifications.domain import PREFERENCES
from tests.e2e.helpers import settle
from tests.e2e.journey import admin_token, make_member
from tests.e2e.test_working_groups import ok
from tests.platform_harness import Platform

NTF = "notifications"


async def until(what: str, check, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, f"not within {timeout}s: {what}"
        await asyncio.sleep(0.02)


async def applied(p: Platform, service: str, consumer: str) -> bool:
    [runner] = [r for r in p.services[service].runners if r.c.name == consumer]
    return await runner.lag() == 0


async def test_a_member_erased_between_the_raise_and_the_tell_keeps_nothing_on_their_stream(platform, monkeypatch):
    svc = platform.services[NTF]
    admin = await admin_token(platform)
    member_id, _, _ = await make_member(platform, admin)
    await settle(platform)
    real_tell = svc.member_streams.tell
    erased_first: list[str] = []

    async def tell(to: str, data: dict, msg_id: str) -> int:
        if to == member_id and data.get("kind") == "notification":
            # the groups service's own item for the message is told before the erasure (not what is tested)
            await until("the groups service told the message", lambda: applied(platform, "groups",
                                                                              "conversation_stream"))
            async with platform.client(admin) as c:
                r = await c.delete(f"/v1/members/{member_id}")
                assert r.status_code == 200, r.text

            async def erased() -> bool:
                return (await svc.load(PREFERENCES, member_id))[0].erased

            await until("their preferences erased", erased)
            await until("this service's purge", lambda: applied(platform, NTF, "tell_onboarding"))
            await until("the groups service's purge", lambda: applied(platform, "groups", "erased_streams"))
            assert await svc.member_streams.read(member_id, 0, 100) == []
            erased_first.append(data["notification_id"])
        return await real_tell(to, data, msg_id)

    monkeypatch.setattr(svc.member_streams, "tell", tell)
    await ok(platform, admin, "POST", f"/v1/conversations/{member_id}/messages", {"text": "Добрый день"})
    await settle(platform)
    assert len(erased_first) == 1  # the race happened: the erasure went between the raise and the tell
    assert await svc.member_streams.read(member_id, 0, 100) == []
