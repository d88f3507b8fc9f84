"""Marking read is all or nothing: a request that names someone else's notification (or one that does not
exist) beside the caller's own is refused whole, and the caller's own stays unread (found by the permission
matrix: the caller's were marked one by one before the stranger's was refused)."""

from __future__ import annotations

import uuid

from tests.e2e.helpers import log_position, settle
from tests.e2e.test_chat import people
from tests.e2e.test_working_groups import ok
from tests.platform_harness import Platform

__all__ = ["people"]


async def unread(p: Platform, token: str) -> list[str]:
    async with p.client(token) as c:
        r = await c.get("/v1/notifications", params={"unread_only": "true", "limit": 200})
    assert r.status_code == 200, r.text
    return [i["notification_id"] for i in r.json()["items"]]


async def test_a_mark_naming_someone_elses_notification_marks_nothing(platform, people):
    anna_id, anna = people["anna"]
    boris_id, boris = people["boris"]
    admin = people["admin"][1]
    for member_id in (anna_id, boris_id):
        await ok(platform, admin, "POST", f"/v1/conversations/{member_id}/messages", {"text": "Добрый день"})
    await settle(platform)
    [annas, *_] = await unread(platform, anna)
    [boris_own, *_] = await unread(platform, boris)
    await settle(platform)
    before = await log_position(platform)
    async with platform.client(boris) as c:
        for ids in ([boris_own, annas], [boris_own, str(uuid.uuid4())]):
            r = await c.post("/v1/notifications/read", json={"notification_ids": ids})
            assert r.status_code == 404 and r.json()["code"] == "notification_not_found", r.text
    await settle(platform)
    assert await log_position(platform) == before
    assert boris_own in await unread(platform, boris)
    assert annas in await unread(platform, anna)
    # their own alone, named twice: marked once
    async with platform.client(boris) as c:
        r = await c.post("/v1/notifications/read", json={"notification_ids": [boris_own, boris_own]})
    assert r.status_code == 200 and r.json()["marked"] == 1, r.text
    assert boris_own not in await unread(platform, boris)
    assert annas in await unread(platform, anna)
