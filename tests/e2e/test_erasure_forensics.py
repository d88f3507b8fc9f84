"""Erasure as a forensic examiner would check it: after a member is erased, the raw files of
nats-server (every stream, every bucket: the log, the members' live streams) and of every read
model (SQLite database, WAL and shared memory) hold none of their name, e-mail, phone, words
(chat messages and their earlier versions too) or key bytes — nor after a restart, nor after a
rebuild of every projection."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import nats
import pytest

from libs.contracts.subjects import control_subject
from libs.kit.natsserver import NatsServer
from tests.disk_scan import traces
from tests.e2e.helpers import settle
from tests.e2e.journey import FULL_PROFILE, admin_token, invite, register
from tests.platform_harness import Platform

pytestmark = pytest.mark.timeout(180)



async def test_an_erased_member_leaves_no_bytes_on_disk(tmp_path):
    nats_dir, data_dir = tmp_path / "nats", tmp_path / "data"
    server = NatsServer(nats_dir).start()
    platform = await Platform(server.url, data_dir).start()
    try:
        marker = uuid.uuid4().hex[:8]
        digits = f"{uuid.uuid4().int % 10**7:07d}"
        name, phone, about = f"Эрика Стираемая {marker}", f"+7 900 {digits[:3]}-{digits[3:5]}-{digits[5:]}", \
            f"Пишу о себе {marker}"
        admin = await admin_token(platform)
        inv = await invite(platform, admin)
        member_id, email, token = await register(platform, inv["token"], email=f"erika-{marker}@example.ru",
                                                 full_name=name)
        async with platform.client(token) as me:
            assert (await me.post("/v1/me/rules-acknowledgement")).status_code == 200
            r = await me.put("/v1/me/profile", json={**FULL_PROFILE, "full_name": name, "phone": phone,
                                                     "about": about, "city": f"Город-{marker}"})
            assert r.status_code == 200, r.text
        async with platform.client(admin) as c:
            assert (await c.post(f"/v1/moderation/{member_id}/decision", json={"decision": "grant"})).status_code == 200
        await settle(platform)
        # what they write in groups is theirs too: a join request's message, a call's topic, and, as a
        # moderator, an announcement (DESIGN.md §2)
        words = {"join message": f"Прошу принять {marker}", "call topic": f"Созвон {marker}",
                 "announcement": f"Объявление {marker}", "chat message": f"Сообщение в чате {marker}",
                 "chat edit": f"Исправленное {marker}", "chat reply": f"Ответ в ветке {marker}",
                 "personal message": f"Лично {marker}"}
        async with platform.client(admin) as c:
            r = await c.put(f"/v1/members/{member_id}/roles", json={"roles": ["moderator"]})
            assert r.status_code == 200, r.text
            groups = []
            for joining in ("open", "request"):
                r = await c.post("/v1/groups", json={"title": f"Группа {joining}", "group_type": "research",
                                                     "direct": True, "settings": {"joining": joining}})
                assert r.status_code == 201, r.text
                groups.append(r.json()["group_id"])
        await settle(platform)
        async with platform.client(token) as me:
            assert (await me.post(f"/v1/groups/{groups[0]}/join", json={})).status_code == 200
            r = await me.post(f"/v1/groups/{groups[1]}/join", json={"message": words["join message"]})
            assert r.status_code == 200 and r.json()["state"] == "requested", r.text
            r = await me.post(f"/v1/groups/{groups[0]}/calls", json={
                "topic": words["call topic"],
                "starts_at": (datetime.now(UTC) + timedelta(days=30)).isoformat()})
            assert r.status_code == 201, r.text
            r = await me.post("/v1/announcements", json={"title": words["announcement"], "body": "Текст"})
            assert r.status_code == 201, r.text
            # the chat: a message (edited: both versions are theirs), a reply in their own thread, a personal
            # message to the admin; the live streams hold them too
            r = await me.post(f"/v1/groups/{groups[0]}/messages", json={"text": words["chat message"]})
            assert r.status_code == 201, r.text
            said = r.json()["message_id"]
            r = await me.put(f"/v1/groups/{groups[0]}/messages/{said}", json={"text": words["chat edit"]})
            assert r.status_code == 200, r.text
            r = await me.post(f"/v1/groups/{groups[0]}/messages", json={"text": words["chat reply"],
                                                                        "thread_id": said})
            assert r.status_code == 201, r.text
            admin_id = (await me.get(f"/v1/groups/{groups[0]}")).json()["coordinators"][0]["member_id"]
            r = await me.post(f"/v1/conversations/{admin_id}/messages", json={"text": words["personal message"]})
            assert r.status_code == 201, r.text
        await settle(platform)
        key = await platform.services["onboarding"].vault.key(member_id)
        needles = {"name": name.encode(), "e-mail": email.encode(), "phone": phone.encode(),
                   "about": about.encode(), "city": f"Город-{marker}".encode(), "key": key,
                   **{label: text.encode() for label, text in words.items()}}
        roots = [nats_dir, data_dir]
        # the scan sees them while the member exists (else it proves nothing) — all but the chat message's first
        # version: the edit overwrote it in place, and whether an old copy still sits in the WAL depends on when
        # SQLite last wrote the WAL back (secure_delete zeroes it then); the scan after the erasure still looks
        # for it everywhere
        before = traces(roots, needles)
        assert {"name", "phone", "key", *words} - {"chat message"} <= set(before), before
        async with platform.client(admin) as c:
            said = (await c.get(f"/v1/groups/{groups[0]}/messages")).json()["items"][0]
            assert said["text"] == words["chat edit"] and said["replies"] == 1
        # …and the log holds their words sealed: only the read models have them in clear
        assert not any(str(nats_dir) in path for label in words for path in before.get(label, [])), before

        async with platform.client(admin) as c:
            r = await c.delete(f"/v1/members/{member_id}")
            assert r.status_code == 200, r.text
        await settle(platform)
        assert traces(roots, needles) == {}, "after the erasure"
        async with platform.client(admin) as c:
            requests = (await c.get(f"/v1/groups/{groups[1]}/requests")).json()["items"]
            assert member_id not in [x["member_id"] for x in requests], "their request outlived them"
            calls = (await c.get(f"/v1/groups/{groups[0]}/calls")).json()["items"]
            assert [x["topic"] for x in calls] == [None], calls  # the call stays, its words are gone
            titles = [x["title"] for x in (await c.get("/v1/announcements")).json()["items"]]
            assert words["announcement"] not in titles
            said = (await c.get(f"/v1/groups/{groups[0]}/messages")).json()["items"][0]
            assert (said["text"], said["author_id"], said["replies"]) == (None, None, 1), said
            dms = (await c.get(f"/v1/conversations/{member_id}/messages")).json()["items"]
            assert [m["text"] for m in dms] == [None], dms

        await platform.stop()
        server.stop()
        assert traces(roots, needles) == {}, "with everything stopped"
        server.start()
        platform = await Platform(server.url, data_dir).start()
        await settle(platform)
        assert traces(roots, needles) == {}, "after a restart"

        nc = await nats.connect(server.url)
        try:
            for service in platform.services:
                reply = await nc.request(control_subject(service, "rebuild"), b"{}", timeout=10)
                assert b'"ok":true' in reply.data.replace(b" ", b"")
        finally:
            await nc.close()
        await asyncio.sleep(0.3)
        await settle(platform)
        async with platform.client(admin) as c:
            assert (await c.get(f"/v1/members/{member_id}")).status_code == 404
        assert traces(roots, needles) == {}, "after a rebuild"
    finally:
        await platform.stop()
        server.stop()


async def test_profile_updates_racing_an_erasure_end_in_erasure(platform):
    """The finding: an UpdateProfile racing an EraseMember sealed with a fresh key, after which every
    replay of that member failed to decrypt. Now the erasure wins, whatever the order."""
    admin = await admin_token(platform)
    members = next(r for r in platform.services["onboarding"].runners if r.c.name == "members")
    dead_before = await members.deadletters()
    for _ in range(3):
        inv = await invite(platform, admin)
        member_id, _, token = await register(platform, inv["token"])
        async with platform.client(token) as me, platform.client(admin) as c:
            updates = [me.put("/v1/me/profile", json={**FULL_PROFILE, "about": f"гонка {i}"}) for i in range(8)]
            results = await asyncio.gather(*updates, c.delete(f"/v1/members/{member_id}"))
        assert results[-1].status_code == 200, results[-1].text
        assert {r.status_code for r in results[:-1]} <= {200, 401, 404, 409}, [r.text for r in results[:-1]]
        await settle(platform)
        vault = platform.services["groups"].vault
        assert await vault.is_shredded(member_id)
        store = platform.services["onboarding"].events
        stream = await store.load(f"hr.evt.onboarding.member.{member_id}")  # every event still decodes
        profiles = [r.event for r in stream.events if type(r.event).__name__ == "ProfileUpdated"]
        assert all(p.about is None and p.full_name is None for p in profiles)
        async with platform.client(admin) as c:
            assert (await c.get(f"/v1/members/{member_id}")).status_code == 404
    assert await members.deadletters() == dead_before, "an event of the race could not be applied"


async def test_an_erasure_whose_process_died_half_way_is_finished(platform):
    """MemberErased recorded, then the process died before shredding: the policy finishes the erasure
    (the key shredded, the e-mail free again) knowing only the member."""
    from libs.contracts.onboarding import MemberErased
    from libs.kit.eventstore import Meta

    admin = await admin_token(platform)
    inv = await invite(platform, admin)
    member_id, email, _ = await register(platform, inv["token"])
    onboarding = platform.services["onboarding"]
    stream = await onboarding.events.load(f"hr.evt.onboarding.member.{member_id}")
    await onboarding.events.append(stream, [MemberErased(member_id=member_id, erased_by="admin")],
                                   Meta(actor="admin", correlation_id=str(uuid.uuid4())))  # …and nothing more
    await settle(platform)
    assert await onboarding.vault.is_shredded(member_id)
    inv = await invite(platform, admin)
    again, _, _ = await register(platform, inv["token"], email=email)  # the address is free again
    assert again != member_id
