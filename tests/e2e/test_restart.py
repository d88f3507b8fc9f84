"""Stopping and starting the whole platform — nats-server included — keeps
every member and every decision."""

from __future__ import annotations

from libs.kit.natsserver import NatsServer
from tests.e2e.helpers import settle
from tests.e2e.journey import admin_token, ready_for_review
from tests.platform_harness import Platform


async def test_members_and_decisions_survive_a_full_restart(tmp_path):
    nats_dir, data_dir = tmp_path / "nats", tmp_path / "data"
    server = NatsServer(nats_dir).start()
    port = server.port
    p = await Platform(server.url, data_dir).start()
    try:
        admin = await admin_token(p)
        granted, _ = await ready_for_review(p, admin)
        waiting, waiting_token = await ready_for_review(p, admin)
        declined, _ = await ready_for_review(p, admin)
        async with p.client(admin) as c:
            assert (await c.post(f"/v1/moderation/{granted}/decision", json={"decision": "grant"})).status_code == 200
            r = await c.post(f"/v1/moderation/{declined}/decision", json={"decision": "decline", "message": "Нет мест"})
            assert r.status_code == 200
        await settle(p)
    finally:
        await p.stop()
        server.stop()

    server = NatsServer(nats_dir, port).start()
    p = await Platform(server.url, data_dir).start()
    try:
        admin = await admin_token(p)  # the admin is not created twice: sign-in still works
        async with p.client(admin) as c:
            assert (await c.get(f"/v1/members/{granted}")).json()["status"] == "member"
            assert (await c.get(f"/v1/members/{declined}")).json()["status"] == "declined"
            queue = [i["member_id"] for i in (await c.get("/v1/moderation/queue")).json()["items"]]
            assert waiting in queue and granted not in queue and declined not in queue
            # decisions recorded before the restart still bind: a second decision is refused
            r = await c.post(f"/v1/moderation/{granted}/decision", json={"decision": "decline", "message": "x"})
            assert r.status_code == 409
            members = (await c.get("/v1/groups/main/members")).json()["items"]
            assert granted in [m["member_id"] for m in members]
        # the waiting newcomer's session still works after the restart
        async with p.client(waiting_token) as c:
            assert (await c.get("/v1/me")).json()["status"] == "pending_review"
    finally:
        await p.stop()
        server.stop()
