"""Who is told what, in the app, end to end from the other services' events (no mail server here): a new
applicant to the moderators, a join request to the group's coordinators, a mention, a personal message, a
task assigned and overdue, an event changed, a waitlist promotion and a reminder before an event; marking
read; refusals in Russian and English; a round waiting for its observers, a help request routed to its
expert and answered to its asker, a pick window opening to every member. The member's live stream carries
each notification once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone

from tests.e2e.helpers import settle
from tests.e2e.journey import make_moderator, ready_for_review
from tests.e2e.test_calendar import event_url, plan, planned_season
from tests.e2e.test_chat import chat_group, people, post, read_stream
from tests.e2e.test_feedback import HELP, game
from tests.e2e.test_roles import open_window
from tests.e2e.test_tasks import new_task
from tests.e2e.test_working_groups import call, ok
from tests.platform_harness import Platform

__all__ = ["game", "people"]
NTF = "notifications"


async def told(p: Platform, token: str, kind: str, lang: str | None = None) -> list[dict]:
    async with p.client(token, lang=lang) as c:
        r = await c.get("/v1/notifications", params={"limit": 200})
        assert r.status_code == 200, r.text
    return [i for i in r.json()["items"] if i["kind"] == kind]


async def test_a_new_applicant_reaches_the_moderators(platform, people):
    admin = people["admin"][1]
    moderator = await make_moderator(platform, admin)
    applicant, _ = await ready_for_review(platform, admin)
    await settle(platform)
    [item] = [i for i in await told(platform, moderator, "new_applicant") if i["params"]["member_id"] == applicant]
    assert (item["link"], item["read"]) == ("/moderation", False)
    assert item["title"] == "Новая заявка ждёт решения модератора"


async def test_a_join_request_a_mention_a_personal_message_and_tasks_reach_whom_they_concern(platform, people):
    anna_id, anna = people["anna"]
    boris_id, boris = people["boris"]
    outsider_id, outsider = people["outsider"]
    coordinator_id, coordinator = people["coordinator"]
    group_id = await chat_group(platform, people)
    title = (await ok(platform, anna, "GET", f"/v1/groups/{group_id}"))["title"]
    await ok(platform, coordinator, "PUT", f"/v1/groups/{group_id}/settings",
             {"visibility": "main", "content": "members", "joining": "request"})
    await ok(platform, outsider, "POST", f"/v1/groups/{group_id}/join", {"message": "Можно к вам?"})
    [request] = [i for i in await told(platform, coordinator, "join_request") if i["params"]["group_id"] == group_id]
    assert request["params"] == {"group_id": group_id, "group_title": title, "member_id": outsider_id}
    assert request["title"] == f"Заявка на вступление в группу «{title}»"
    assert request["link"] == f"/groups/{group_id}"
    assert not [i for i in await told(platform, outsider, "join_request") if i["params"]["group_id"] == group_id]

    message_id = await post(platform, anna, group_id, f"@[Борис]({boris_id}) посмотрите")
    await settle(platform)
    [mention] = [i for i in await told(platform, boris, "mention", "en") if i["params"]["message_id"] == message_id]
    assert mention["title"] == f"You were mentioned in \"{title}\"" and mention["email"] is None  # no mail here
    assert "посмотрите" not in str(mention)  # the words stay in the chat, sealed with their author's key

    await ok(platform, anna, "POST", f"/v1/conversations/{boris_id}/messages", {"text": "Борис, вопрос"})
    personal = [i for i in await told(platform, boris, "personal_message") if i["params"]["sender_id"] == anna_id]
    assert personal and "вопрос" not in str(personal)

    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    task_id = await new_task(platform, anna, group_id, "Сценарий", assignees=[boris_id, anna_id], due=yesterday)
    await settle(platform)
    [assigned] = [i for i in await told(platform, boris, "task_assigned") if i["params"]["task_id"] == task_id]
    assert assigned["title"] == "Вам назначена задача «Сценарий»"
    assert not [i for i in await told(platform, anna, "task_assigned") if i["params"]["task_id"] == task_id]
    for _ in range(50):  # the overdue timer fires on its next tick, and tells each assignee in turn
        overdue = [i for i in await told(platform, boris, "task_overdue") if i["params"]["task_id"] == task_id]
        annas = [i for i in await told(platform, anna, "task_overdue") if i["params"]["task_id"] == task_id]
        if overdue and annas:
            break
        await asyncio.sleep(0.1)
    assert overdue and overdue[0]["params"]["due"] == yesterday, overdue
    assert annas

    # pages, newest first, the next one before the last of this one (a bound in any zone)
    async with platform.client(boris) as c:
        first = (await c.get("/v1/notifications", params={"limit": 2})).json()
        assert len(first["items"]) == 2 and first["next_before"], first
        bound = datetime.fromisoformat(first["next_before"]).astimezone(timezone(timedelta(hours=5)))
        second = (await c.get("/v1/notifications", params={"limit": 2, "before": bound.isoformat()})).json()
        assert second["items"] and all(i["raised_at"] < first["items"][-1]["raised_at"] for i in second["items"])
        seen = [i["notification_id"] for i in (*first["items"], *second["items"])]
        assert len(seen) == len(set(seen))

    # read: one, then all; what is not one's own is not found, in either language
    async with platform.client(boris) as c:
        r = await c.post("/v1/notifications/read", json={"notification_ids": [mention["notification_id"]]})
        assert r.status_code == 200 and r.json()["marked"] == 1, r.text
        r = await c.post("/v1/notifications/read", json={})
        assert r.status_code == 200 and r.json()["unread"] == 0, r.text
        r = await c.get("/v1/notifications", params={"unread_only": "true"})
        assert r.json()["items"] == [] and r.json()["unread"] == 0
    r = await call(platform, anna, "POST", "/v1/notifications/read", {"notification_ids": [mention["notification_id"]]})
    assert r.status_code == 404 and r.json()["title"] == "Такого уведомления нет.", r.text


async def test_the_stream_carries_each_notification_once(platform, people):
    boris_id, boris = people["boris"]
    anna = people["anna"][1]
    start = int((await read_stream(platform, boris, None, 0.2))[0]["id"])
    await ok(platform, anna, "POST", f"/v1/conversations/{boris_id}/messages", {"text": "Ещё вопрос"})
    await settle(platform)
    events = await read_stream(platform, boris, start, 0.5)
    ours = [e["data"] for e in events if e.get("event") == "notification"]
    assert [i["notification_kind"] for i in ours] == ["personal_message"], events
    assert [e["event"] for e in events if e.get("event") == "direct_message"], events  # the chat's own item too


async def test_an_event_changed_a_place_from_the_waitlist_and_a_reminder_before_it(platform, people):
    moderator, anna_id = people["moderator"][1], people["anna"][0]
    boris_id, boris = people["boris"]
    outsider_id, outsider = people["outsider"]
    title = f"Встреча {uuid.uuid4().hex[:4]}"
    season_id = await planned_season(platform, moderator)
    body = plan(season_id, anna_id, title=title, capacity=1)
    event_id = (await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/events", body))["event_id"]
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/open")
    url = event_url(season_id, event_id)
    await ok(platform, boris, "PUT", url + "/registration")
    await ok(platform, outsider, "PUT", url + "/registration")  # waitlisted
    await ok(platform, moderator, "PUT", url, {**body, "title": title + "!"})
    for token in (boris, outsider):
        [changed] = [i for i in await told(platform, token, "event_changed") if i["params"]["event_id"] == event_id]
        assert changed["title"] == f"Событие «{title}!» изменилось"
    await ok(platform, boris, "DELETE", url + "/registration")
    [promoted] = [i for i in await told(platform, outsider, "waitlist_promoted") if i["params"]["event_id"] == event_id]
    assert promoted["params"]["title"] == title + "!"

    # a day before it starts: the one registered now is reminded, once
    starts_at = datetime.fromisoformat(body["starts_at"])
    svc = platform.services[NTF]
    offset = starts_at - timedelta(hours=23) - datetime.now(UTC)
    svc.clock = lambda: datetime.now(UTC) + offset
    try:
        for _ in range(50):
            reminded = [i for i in await told(platform, outsider, "event_reminder", "en")
                        if i["params"]["event_id"] == event_id]
            if reminded:
                break
            await asyncio.sleep(0.1)
        assert [i["title"] for i in reminded] == [f"In 24 h: \"{title}!\""], reminded
        assert not [i for i in await told(platform, boris, "event_reminder") if i["params"]["event_id"] == event_id]
    finally:
        svc.clock = lambda: datetime.now(UTC)


async def test_a_round_waits_for_its_observers_and_a_help_request_for_its_expert_then_its_asker(
        platform, people, game):
    moderator, anna = people["moderator"][1], people["anna"][1]
    observer_id, observer = game["observer"]
    await ok(platform, moderator, "PUT", f"/v1/games/{game['game_id']}/observers/{observer_id}")
    await ok(platform, moderator, "POST", f"/v1/games/{game['game_id']}/rounds")
    [waiting] = [i for i in await told(platform, observer, "round_waiting") if i["params"]["game_id"] == game["game_id"]]
    assert waiting["title"] == "Раунд 1 игры «Игра HR-ВЛИЯНИЕ» ждёт вашей обратной связи", waiting
    assert waiting["link"] == f"/feedback/games/{game['game_id']}"
    assert not [i for i in await told(platform, moderator, "round_waiting")
                if i["params"]["game_id"] == game["game_id"]]

    request = await ok(platform, anna, "POST", "/v1/help-requests", HELP)
    url = f"/v1/help-requests/{request['request_id']}"
    await ok(platform, moderator, "POST", url + "/route", {"expert_id": observer_id})
    routed = [i for i in await told(platform, observer, "help_request_routed")
              if i["params"]["request_id"] == request["request_id"]]
    assert len(routed) == 1 and HELP["title"] not in str(routed)  # the asker's words stay theirs
    await ok(platform, observer, "POST", url + "/messages", {"text": "Давайте начнём с карты первого дня"})
    await ok(platform, anna, "POST", url + "/messages", {"text": "Спасибо!"})
    answered = [i for i in await told(platform, anna, "help_request_answered")
                if i["params"]["request_id"] == request["request_id"]]
    assert len(answered) == 1  # the expert's message; not the asker's own
    assert not [i for i in await told(platform, observer, "help_request_answered")
                if i["params"]["request_id"] == request["request_id"]]


async def test_a_pick_window_opening_reaches_every_member(platform, people):
    year, season_id = await open_window(platform, people)
    for name in ("anna", "boris", "outsider"):
        mine = [i for i in await told(platform, people[name][1], "pick_window_opened")
                if i["params"]["season_id"] == season_id]
        assert len(mine) == 1 and mine[0]["title"] == f"Открыт выбор ролей на сезон {season_id}", mine
        assert mine[0]["email"] is None  # the digest's kind, but no mail server here: in the app alone
