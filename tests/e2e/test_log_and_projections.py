"""The log is the truth: projections are idempotent and rebuildable, garbage
goes to the dead-letter stream, erasure leaves no readable trace."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import nats
import pytest

from libs.contracts.subjects import DEADLETTER_STREAM, EVENTS_STREAM, control_subject
from libs.kit.eventstore import EventStore
from libs.kit.pii import PiiVault
from services.feedback import domain as feedback_domain
from services.registry import domain_services
from tests.e2e.helpers import settle
from tests.e2e.journey import FULL_PROFILE, admin_token, invite, ready_for_review, register
from tests.e2e.test_calendar import event_url, game_team, new_season_id, plan
from tests.e2e.test_feedback import HELP, PARTS, observer
from tests.e2e.test_roles import _years as role_years
from tests.e2e.test_roles import run_season
from tests.e2e.test_working_groups import ok

#: every domain service of the registry: each one's read models are compared (the roles' pick windows, vacancies,
#: held roles, the seasons and groups it knows, its window timers included; the feedback service's games, pieces
#: of feedback with their answers, help requests and their threads)
DOMAIN = tuple(d.name for d in domain_services())


@pytest.fixture(scope="module")
async def admin(platform):
    return await admin_token(platform)


async def snapshot(platform, service: str) -> dict:
    svc = platform.services[service]
    def key(d: dict) -> str:
        return "|".join(str(d.get(k)) for k in ("member_id", "token", "group_id", "call_id", "announcement_id",
                                                 "message_id", "season_id", "event_id", "request_id", "key"))

    return {
        coll: {key(d): d for d in await svc.store.find(coll)}
        for r in svc.runners
        if r.c.kind == "projection"
        for coll in r.c.collections
    }


async def play_a_feedback_game(platform, admin) -> dict:
    """A game of HR-ВЛИЯНИЕ in a season of its own, in every read model of the feedback service and in what it
    tells the others: its team confirmed by the calendar, two observers assigned; in round 1 the first observer's
    piece written and edited, the round closed (published), the second's piece landing after the close (decided
    on the round still open: published as it lands), the team's answers (useful with an intention, not useful);
    round 2 left open; a help request routed to an expert, its thread both ways and closed, another declined;
    the season closed (the feedback service reports it to the calendar). What the others must then hold."""
    svc = platform.services["feedback"]
    admin_id = (await ok(platform, admin, "GET", "/v1/me"))["member_id"]
    group_id, member_id, member = await game_team(platform, admin, admin)
    (first_id, first), (second_id, second) = [await observer(platform, admin) for _ in range(2)]
    season_id = new_season_id()
    seasons = f"/v1/seasons/{season_id}"
    game = {**plan(season_id, admin_id, title="Игра", day=25, capacity=2), "kind": "game", "place": "Екатеринбург",
            "call_link": None}
    await ok(platform, admin, "POST", "/v1/seasons", {"season_id": season_id, "title": "Обратная связь"})
    game_id = (await ok(platform, admin, "POST", f"{seasons}/events", game))["event_id"]
    await ok(platform, admin, "POST", f"{seasons}/open")
    teams = event_url(season_id, game_id) + "/teams"
    await ok(platform, member, "POST", teams, {"group_id": group_id, "roster": [member_id]})
    await ok(platform, admin, "POST", f"{teams}/{group_id}/confirm")
    await settle(platform)
    games = f"/v1/games/{game_id}"
    for observer_id in (first_id, second_id):
        await ok(platform, admin, "PUT", f"{games}/observers/{observer_id}")
    await ok(platform, admin, "POST", f"{games}/rounds")
    url = f"{games}/rounds/1/teams/{group_id}/feedback"
    await ok(platform, first, "PUT", url, {**PARTS, "quality": "expertise", "role": 5})
    edited = await ok(platform, first, "PUT", url, {
        **PARTS, "quality": "expertise", "role": 5,
        "recommendation": "Перед следующим раундом спросите каждого, какую задачу он возьмёт сам"})
    # the second observer's handler reads the game before the close and decides after it: the piece is appended
    # after RoundClosed, on a round its aggregate had open (the race the publishing policy is for)
    open_game, _ = await svc.load(feedback_domain.GAME, game_id)
    real_load = svc.load

    async def load_the_game_as_it_was(aggregate, aggregate_id):
        if aggregate is feedback_domain.GAME and aggregate_id == game_id:
            del svc.load  # once: the policy that publishes the late piece reads the game as it is
            return open_game, None
        return await real_load(aggregate, aggregate_id)

    await ok(platform, admin, "POST", f"{games}/rounds/close")
    await settle(platform)
    svc.load = load_the_game_as_it_was
    try:
        late = await ok(platform, second, "PUT", url, {**PARTS, "quality": "systemic"})
    finally:
        svc.__dict__.pop("load", None)
    await settle(platform)
    items = {i["feedback_id"]: i for i in (await ok(platform, member, "GET", f"{games}/teams/{group_id}/feedback"))[
        "items"]}
    assert {i["feedback_id"]: i["status"] for i in items.values()} == {
        edited["feedback_id"]: "published", late["feedback_id"]: "published"}, items
    assert items[edited["feedback_id"]]["recommendation"].startswith("Перед следующим раундом"), items
    await ok(platform, member, "PUT", f"/v1/feedback/{edited['feedback_id']}/mark",
             {"useful": True, "intention": "Спрошу каждого перед раундом"})
    await ok(platform, member, "PUT", f"/v1/feedback/{late['feedback_id']}/mark", {"useful": False})
    await ok(platform, admin, "POST", f"{games}/rounds")
    # help: one request through routing, its thread and its close; another declined
    asked = (await ok(platform, member, "POST", "/v1/help-requests", HELP))["request_id"]
    declined = (await ok(platform, member, "POST", "/v1/help-requests", {**HELP, "title": "Второй запрос"}))[
        "request_id"]
    help_url = f"/v1/help-requests/{asked}"
    await ok(platform, admin, "POST", f"{help_url}/route", {"expert_id": first_id})
    await ok(platform, first, "POST", f"{help_url}/messages", {"text": "Начнём с карты первого дня"})
    await ok(platform, member, "POST", f"{help_url}/messages", {"text": "Спасибо, во вторник удобно"})
    await ok(platform, member, "POST", f"{help_url}/close", {"outcome": "План запущен", "helped": "yes"})
    await ok(platform, admin, "POST", f"/v1/help-requests/{declined}/decline", {"reason": "Не по теме сообщества"})
    await ok(platform, admin, "POST", f"{seasons}/close")
    await settle(platform)
    lines = {line["key"]: line["value"] for line in (await platform.services["calendar"].store.get(
        "season_reports_feedback", f"{season_id}:feedback"))["lines"]}
    assert (lines["games"], lines["rounds"], lines["rounds_commented"], lines["feedback_published"],
            lines["observers"], lines["marked_useful"], lines["marked_not_useful"], lines["quality_expertise"],
            lines["quality_systemic"]) == (1, 2, 1, 2, 2, 1, 1, 1, 1), lines
    seen = await platform.services["roles"].store.get("feedback_seen", member_id)
    assert seen["qualities"] == {"expertise": 1, "systemic": 1}, seen
    return {"feedback": {"games": game_id, "feedback": edited["feedback_id"], "help_requests": asked},
            "roles": {"feedback_seen": member_id}, "calendar": {"season_reports_feedback": f"{season_id}:feedback"}}


#: collections the redelivery test leaves empty, and why
EMPTY_HERE = {
    "join_requests": "pending join requests come and go",
    # this platform has no mail server: nothing is queued for e-mail (tests/notifications/test_email.py
    # has one, and restarts the service with e-mails and digests waiting)
    "timers_emails": "no mail server", "timers_digests": "no mail server",
}


async def test_redelivered_events_change_no_projection(platform, admin):
    people = [await ready_for_review(platform, admin) for _ in range(3)]
    bystander, (member_id, token) = people[0][0], people[-1]
    async with platform.client(admin) as c:
        await c.post(f"/v1/moderation/{member_id}/decision", json={"decision": "grant"})
        # and something in every read model of the groups: a group, an invitation, a call, an announcement
        group = await c.post("/v1/groups", json={"title": "Повтор", "group_type": "research", "direct": True,
                                                 "settings": {"joining": "invitation"}})
        group_id = group.json()["group_id"]
        await settle(platform)
        starts = (datetime.now(UTC) + timedelta(days=3)).isoformat()
        for url, body in ((f"/v1/groups/{group_id}/invitations", {"member_id": member_id}),
                          (f"/v1/groups/{group_id}/calls", {"topic": "Сверка", "starts_at": starts}),
                          ("/v1/announcements", {"title": "Повтор", "body": "Всем"})):
            r = await c.post(url, json=body)
            assert r.status_code in (200, 201), r.text
        # and in every read model of the chat: a thread with a mention, a reaction, read marks, a personal
        # message read by its recipient, a block
        chat = (await c.post("/v1/groups", json={"title": "Чат", "group_type": "research", "direct": True,
                                                 "settings": {"joining": "open"}})).json()["group_id"]
        admin_id = (await c.get("/v1/me")).json()["member_id"]
        await settle(platform)
        root = (await c.post(f"/v1/groups/{chat}/messages", json={"text": "Тема"})).json()["message_id"]
    async with platform.client(token) as m:
        for method, url, body in (
                ("POST", f"/v1/groups/{chat}/join", {}),
                ("POST", f"/v1/groups/{chat}/messages", {"text": f"@[Админ]({admin_id}) ответ", "thread_id": root}),
                ("PUT", f"/v1/groups/{chat}/messages/{root}/reactions", {"reaction": "👍"}),
                ("PUT", f"/v1/groups/{chat}/read", {"up_to": 2**40}),
                ("POST", f"/v1/conversations/{admin_id}/messages", {"text": "Лично"}),
                ("PUT", f"/v1/blocks/{bystander}", None)):
            r = await m.request(method, url, json=body)
            assert r.status_code in (200, 201), r.text
        # and in every read model of the tasks: a task assigned to someone, with a comment
        # (due in a month: the notifications service keeps its overdue timer)
        due = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
        task = await m.post(f"/v1/groups/{chat}/tasks", json={"title": "Задача", "assignees": [admin_id], "due": due})
        assert task.status_code == 201, task.text
        r = await m.post(f"/v1/groups/{chat}/tasks/{task.json()['task_id']}/comments", json={"text": "Готово"})
        assert r.status_code == 201, r.text
        # and in every read model of the drive: a file with two versions, another in the bin (its timer set)
        for name in ("план.txt", "черновик.txt"):
            r = await m.post(f"/v1/groups/{chat}/files", params={"name": name}, content=b"v1")
            assert r.status_code == 201, r.text
        kept = (await m.get(f"/v1/groups/{chat}/files")).json()["items"]
        r = await m.post(f"/v1/groups/{chat}/files/{kept[0]['file_id']}/versions", content=b"v2")
        assert r.status_code == 201, r.text
        assert (await m.delete(f"/v1/groups/{chat}/files/{kept[1]['file_id']}")).status_code == 200
    await settle(platform)
    # and in every read model of the calendar: a season (with the working groups and their members it knows),
    # a request supported by another, an event of the chat's group with one place taken and one in line,
    # renewed feed links
    season_id = new_season_id()
    seasons = f"/v1/seasons/{season_id}"
    async with platform.client(admin) as c:
        assert (await c.post("/v1/seasons", json={"season_id": season_id, "title": "Повтор"})).status_code == 201
    async with platform.client(token) as m:
        r = await m.post(f"{seasons}/requests", json={"topic": "Повтор", "format": "online", "experience": "Опыт",
                                                      "group_size": 4})
        assert r.status_code == 201, r.text
        request_id = r.json()["request_id"]
    # and a game of one place (teams apply for it below)
    game = {**plan(season_id, member_id, title="Игра", day=20, capacity=1), "kind": "game", "place": "Екатеринбург",
            "call_link": None}
    async with platform.client(admin) as c:
        made = []
        for url, body in ((f"{seasons}/requests/{request_id}/support", None),
                          (f"{seasons}/requests/{request_id}/accept", None),
                          (f"{seasons}/events", plan(season_id, member_id, capacity=1, group_id=chat,
                                                     answers=[request_id])),
                          (f"{seasons}/events", game),
                          (f"{seasons}/open", None)):
            r = await c.post(url, json=body)
            assert r.status_code in (200, 201), r.text
            made.append(r.json())
        event, game_id = made[2], made[3]["event_id"]
        assert (await c.put(f"{seasons}/events/{event['event_id']}/registration")).json()["my_status"] == "registered"
    async with platform.client(token) as m:
        assert (await m.put(f"{seasons}/events/{event['event_id']}/registration")).json()["my_status"] == "waitlisted"
        assert (await m.post("/v1/me/calendar/links")).status_code == 200
    # and the game's teams: two confirmed, so the second waits; the first withdraws, so the place is offered to
    # the second (its offer's timer set)
    teams_url = f"{seasons}/events/{game_id}/teams"
    teams = [await game_team(platform, admin, admin) for _ in range(2)]
    await settle(platform)
    for group_id, coordinator_id, coordinator in teams:
        async with platform.client(coordinator) as t:
            r = await t.post(teams_url, json={"group_id": group_id, "roster": [coordinator_id]})
            assert r.status_code == 201, r.text
        async with platform.client(admin) as c:
            assert (await c.post(f"{teams_url}/{group_id}/confirm")).status_code == 200
    async with platform.client(teams[0][2]) as t:
        r = await t.post(f"{teams_url}/{teams[0][0]}/withdraw")
        assert r.status_code == 200 and [o["group_id"] for o in r.json()["offered"]] == [teams[1][0]], r.text
    await settle(platform)
    async with platform.client(admin) as c:
        r = await c.put(f"/v1/conversations/{member_id}/read", json={"up_to": 2**40})
        assert r.status_code == 200 and r.json()["up_to"] > 0, r.text
    # and a game of the feedback service, with what the roles service and the calendar keep of it (before the
    # roles' seasons: closing its season opens a pick window, which the roles' seasons below close)
    played = await play_a_feedback_game(platform, admin)
    # and what the roles service tells the others: a pick window opened by closing a season, a role taken in
    # the chat's group (the groups' boards), the window's season closed (the calendar keeps its roles report);
    # and in every read model of the roles service: a second role taken and given up, a capacity set by the
    # group's coordinator, the next window left open (its closing timer set)
    year = next(role_years)
    await run_season(platform, admin, member_id, f"{year}-spring")
    async with platform.client(token) as m:
        for method, url in (("PUT", "1/pick"), ("PUT", "4/pick"), ("DELETE", "4/pick")):
            r = await m.request(method, f"/v1/groups/{chat}/roles/{url}")
            assert r.status_code == 200, r.text
    async with platform.client(admin) as c:
        r = await c.put(f"/v1/groups/{chat}/roles/2/capacity", json={"capacity": 2})
        assert r.status_code == 200, r.text
    await run_season(platform, admin, member_id, f"{year}-autumn")
    # and the member's own data asked for, each service's part of it collected (onboarding's export)
    async with platform.client(token) as m:
        r = await m.post("/v1/me/data")
        assert r.status_code in (200, 201, 202), r.text
    await settle(platform)
    for service in DOMAIN:
        svc = platform.services[service]
        before = await snapshot(platform, service)
        # every collection has documents to compare, but those EMPTY_HERE names
        assert before and all(docs for coll, docs in before.items() if coll not in EMPTY_HERE), {
            coll: len(docs) for coll, docs in before.items()}
        for coll, key in played.get(service, {}).items():
            assert any(d["key"] == key for d in before[coll].values()), (service, coll, key)
        # a crash after the documents were written but before the checkpoint:
        # the whole log comes again over the existing documents
        for runner in [r for r in svc.runners if r.c.kind == "projection"]:
            fence = runner.fence  # the checkpoint is the lease holder's to write
            await runner.stop()
            await svc.js.delete_consumer(EVENTS_STREAM, runner.durable)
            await svc.store.set_checkpoint(runner.checkpoint_name, 0, fence)
            runner.checkpoint = 0
            await runner.start()
        await settle(platform)
        assert await snapshot(platform, service) == before


async def test_projection_dropped_and_rebuilt_gives_the_same_documents(platform, admin):
    await ready_for_review(platform, admin)
    await settle(platform)
    nc = await nats.connect(platform.nats_url)
    try:
        for service in DOMAIN:
            before = await snapshot(platform, service)
            reply = json.loads((await nc.request(control_subject(service, "rebuild"), b"{}", timeout=10)).data)
            assert reply["ok"], reply
            # progress is visible while it runs, and it ends at the log's end
            for _ in range(500):
                status = json.loads((await nc.request(control_subject(service, "status"), b"", timeout=5)).data)
                if all("rebuild" not in c and c["lag"] == 0 for c in status["consumers"]):
                    break
                await asyncio.sleep(0.02)
            assert await snapshot(platform, service) == before
    finally:
        await nc.close()


async def test_malformed_messages_go_to_dead_letters_and_consumers_carry_on(platform, admin):
    nc = await nats.connect(platform.nats_url)
    js = nc.jetstream()
    try:
        garbage = {
            "invalid_json": b"{not json",
            "unknown_type": json.dumps({"event_id": str(uuid.uuid4()), "type": "NoSuchEvent", "schema_version": 1,
                                        "aggregate_id": "x", "aggregate_version": 1,
                                        "occurred_at": "2026-01-01T00:00:00Z", "correlation_id": "c",
                                        "payload": {}}).encode(),
            "future_version": json.dumps({"event_id": str(uuid.uuid4()), "type": "RulesAcknowledged",
                                          "schema_version": 99, "aggregate_id": "x", "aggregate_version": 1,
                                          "occurred_at": "2026-01-01T00:00:00Z", "correlation_id": "c",
                                          "payload": {"member_id": "x"}}).encode(),
        }
        seqs = {}
        for name, body in garbage.items():
            ack = await js.publish(f"hr.evt.onboarding.member.garbage-{uuid.uuid4().hex[:8]}", body)
            seqs[ack.seq] = name
        # the consumers go on: a newcomer registered after the garbage is seen
        member_id, token = await ready_for_review(platform, admin)
        await settle(platform)
        async with platform.client(admin) as c:
            queue = (await c.get("/v1/moderation/queue")).json()["items"]
        assert member_id in [i["member_id"] for i in queue]
        # each bad message is in the dead-letter stream, per consumer, with its reason
        found = {}
        sub = await js.pull_subscribe("hr.dlq.>", stream=DEADLETTER_STREAM)
        while True:
            try:
                msgs = await sub.fetch(100, timeout=1)
            except TimeoutError:  # nats-py raises its own or, near a deadline, asyncio's
                break
            for m in msgs:
                seq = int(m.headers["Hr-Dlq-Seq"])
                if seq in seqs:
                    found.setdefault(seqs[seq], set()).add((m.subject, m.headers["Hr-Dlq-Reason"]))
        assert set(found) == set(garbage)
        subjects = {s for entries in found.values() for s, _ in entries}
        assert {"hr.dlq.onboarding.members", "hr.dlq.groups.directory", "hr.dlq.groups.base_groups",
                "hr.dlq.calendar.actors", "hr.dlq.calendar.calendar_leavers", "hr.dlq.roles.actors",
                "hr.dlq.roles.roles_leavers", "hr.dlq.feedback.actors", "hr.dlq.feedback.erased_authors"} <= subjects
        reasons = {name: " ".join(r for _, r in entries) for name, entries in found.items()}
        assert "invalid JSON" in reasons["invalid_json"]
        assert "unknown event type" in reasons["unknown_type"]
        assert "unsupported schema version" in reasons["future_version"]
    finally:
        await nc.close()


async def test_after_erasure_name_and_email_appear_nowhere(platform, admin):
    marker = uuid.uuid4().hex[:10]
    name = f"Эрика Стираемая {marker}"
    inv = await invite(platform, admin)
    member_id, email, token = await register(platform, inv["token"], email=f"erase-{marker}@example.ru", full_name=name)
    async with platform.client(token) as me:
        await me.post("/v1/me/rules-acknowledgement")
        await me.put("/v1/me/profile", json={**FULL_PROFILE, "full_name": name, "phone": "+7 900 111-22-33"})
    async with platform.client(admin) as c:
        await c.post(f"/v1/moderation/{member_id}/decision", json={"decision": "grant"})
    await settle(platform)

    async def everything_readable() -> str:
        """Every event of the log as a fresh reader decodes it, and every read-model document."""
        nc = await nats.connect(platform.nats_url)
        try:
            js = nc.jetstream()
            vault = await PiiVault.connect(nc)
            store = EventStore(nc, vault)
            last = await store.last_seq()
            texts = []
            for seq in range(1, last + 1):
                msg = await js.get_msg(EVENTS_STREAM, seq)
                texts.append(msg.data.decode(errors="replace"))
                try:
                    texts.append((await store.decode(seq, msg.subject, msg.data)).event.model_dump_json())
                except Exception:  # noqa: BLE001 - garbage from the dead-letter test
                    pass
            await vault.close()
        finally:
            await nc.close()
        for service in platform.services:
            texts.append(json.dumps(await snapshot(platform, service), ensure_ascii=False))
        return "\n".join(texts)

    before = await everything_readable()
    assert name in before and email in before  # readable while the member exists...
    async with platform.client(admin) as c:
        r = await c.delete(f"/v1/members/{member_id}")
        assert r.status_code == 200, r.text
    await settle(platform)
    after = await everything_readable()
    assert name not in after and email not in after and "111-22-33" not in after
    # ...and a rebuild from the log brings nothing back
    nc = await nats.connect(platform.nats_url)
    for service in platform.services:
        await nc.request(control_subject(service, "rebuild"), b"{}", timeout=10)
    await nc.close()
    await asyncio.sleep(0.2)
    await settle(platform)
    rebuilt = await everything_readable()
    assert name not in rebuilt and email not in rebuilt
    # the person cannot sign in, and the address is free again
    async with platform.client() as c:
        r = await c.post("/v1/auth/token", json={"email": email, "password": "s3cret-pass"})
        assert r.status_code == 401
    inv = await invite(platform, admin)
    await register(platform, inv["token"], email=email)
