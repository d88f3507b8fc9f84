"""A member's own data end to end (issue 17, docs/adr/0024): real HTTP, NATS JetStream and SQLite.

A member active everywhere — a chat message, a personal message, a file, tasks in a working group; a
registration in the calendar; a role picked in an open window; feedback to their team in a game; a help
request — asks for their data: every service answers with its part, and the download (JSON, and the page
the web client makes of it) holds their items from each and nothing of another member's personal data (the
other's name, e-mail and words are in the same chat, the same conversation, the same group's tasks and the
same help thread). A second request while
one is assembling is refused in words, and names what is awaited; nobody anonymous asks. Withdrawing
consent without the typed word changes nothing; with it the member is erased, their parts in the log open
to nothing and their words are gone from every file on disk."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import pytest

from libs.contracts.my_data import DATA_AGGREGATE, MemberDataCollected
from libs.contracts.subjects import event_subject
from tests.disk_scan import traces
from tests.e2e.helpers import log_position, settle
from tests.e2e.journey import FULL_PROFILE, admin_token, invite, login, make_member, make_moderator, register
from tests.e2e.test_calendar import event_url, plan, planned_season, refused
from tests.e2e.test_drive import upload
from tests.e2e.test_roles import run_season
from tests.e2e.test_working_groups import ok
from tests.platform_harness import Platform
from tests.season_years import fresh_year
from tests.web.test_web_security import Visitor

pytestmark = pytest.mark.timeout(240)

SERVICES = ["calendar", "feedback", "groups", "notifications", "onboarding", "roles"]
PARTS = {
    "situation": "Команда распределяла роли в первые десять минут раунда",
    "behaviour": "Капитан сам назначил всех, никого не спросив о предпочтениях",
    "impact": "Двое участников молчали до конца раунда и не предложили своих идей",
    "recommendation": "В следующем раунде спросите каждого, какую задачу он хочет взять",
}


def marked(label: str, marker: str) -> str:
    return f"{label} {marker}"


async def person(p: Platform, admin: str, name: str, email: str, about: str | None = None) -> tuple[str, str]:
    """A Main-group member with this name and e-mail: (member_id, token)."""
    profile = {**FULL_PROFILE, "full_name": name, **({"about": about} if about else {})}
    member_id, _, token = await make_member(p, admin, profile, email=email)
    return member_id, token


async def ask(p: Platform, token: str, lang: str | None = None):
    async with p.client(token, lang=lang) as c:
        return await c.post("/v1/me/data")


async def ready(p: Platform, token: str, timeout: float = 30.0) -> dict:
    """The member's export once every part is in."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        state = await ok(p, token, "GET", "/v1/me/data")
        if state["status"] == "ready" or loop.time() > deadline:
            assert state["status"] == "ready", state
            return state
        await asyncio.sleep(0.1)


async def download(p: Platform, token: str) -> tuple[bytes, dict]:
    async with p.client(token) as c:
        r = await c.get("/v1/me/data/export.json")
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"] and r.headers["cache-control"] == "no-store"
    return r.content, r.json()


@pytest.fixture(scope="module")
async def world(platform: Platform) -> dict:
    """Мария (the member who asks) and Олег (another member), active in the same places."""
    marker = uuid.uuid4().hex[:8]
    admin = await admin_token(platform)
    moderator = await make_moderator(platform, admin)
    coordinator_id, _, coordinator = await make_member(platform, admin)
    me_email, other_email = f"maria-{marker}@example.ru", f"oleg-{marker}@example.ru"
    me_name, other_name = f"Мария Выгрузкина {marker}", f"Олег Посторонний {marker}"
    words = {w: marked(w, marker) for w in (
        "Моё сообщение в чате", "Моё личное сообщение", "Моя задача", "Мой комментарий", "Мой файл",
        "О себе пишу", "Прошу помочь с адаптацией")}
    others = {w: marked(w, marker) for w in (
        "Чужое сообщение в чате", "Чужое личное сообщение", "Задача Олега", "Ответ эксперта Олега",
        "Комментарий Олега")}
    me_id, me = await person(platform, admin, me_name, me_email, about=words["О себе пишу"])
    other_id, other = await person(platform, admin, other_name, other_email)
    await ok(platform, admin, "PUT", f"/v1/members/{other_id}/roles", {"roles": ["observer"]})
    observer_id, observer_email, _ = await make_member(platform, admin)
    await ok(platform, admin, "PUT", f"/v1/members/{observer_id}/roles", {"roles": ["observer"]})
    observer = (await login(platform, observer_email, "s3cret-pass"))["access_token"]
    await settle(platform)

    # groups: a working group with both in it; the chat, a conversation, a file, tasks and comments
    group = {"title": f"Команда выгрузки {marker}", "description": "", "group_type": "game_team"}
    group_id = (await ok(platform, coordinator, "POST", "/v1/groups", group))["group_id"]
    await ok(platform, moderator, "POST", f"/v1/groups/{group_id}/decision", {"decision": "approve"})
    await ok(platform, coordinator, "PUT", f"/v1/groups/{group_id}/settings",
             {"visibility": "main", "content": "members", "joining": "open"})
    for token in (me, other):
        await ok(platform, token, "POST", f"/v1/groups/{group_id}/join", {})
    mine = await ok(platform, me, "POST", f"/v1/groups/{group_id}/messages", {"text": words["Моё сообщение в чате"]})
    await ok(platform, other, "POST", f"/v1/groups/{group_id}/messages",
             {"text": others["Чужое сообщение в чате"], "thread_id": mine["message_id"]})
    await ok(platform, me, "POST", f"/v1/conversations/{other_id}/messages", {"text": words["Моё личное сообщение"]})
    await ok(platform, other, "POST", f"/v1/conversations/{me_id}/messages", {"text": others["Чужое личное сообщение"]})
    r = await upload(platform, me, group_id, b"my own bytes", name=f"{words['Мой файл']}.pdf")
    assert r.status_code == 201, r.text
    file_id = r.json()["file_id"]
    tasks = f"/v1/groups/{group_id}/tasks"
    my_task = (await ok(platform, me, "POST", tasks, {"title": words["Моя задача"], "assignees": [me_id]}))["task_id"]
    their_task = (await ok(platform, other, "POST", tasks, {"title": others["Задача Олега"],
                                                            "assignees": [me_id]}))["task_id"]
    await ok(platform, me, "POST", f"{tasks}/{my_task}/comments", {"text": words["Мой комментарий"]})
    await ok(platform, other, "POST", f"{tasks}/{my_task}/comments", {"text": others["Комментарий Олега"]})

    # the calendar: a registration; a game whose team is the group, and feedback to it
    season_id = await planned_season(platform, moderator)
    meeting = (await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/events",
                        plan(season_id, coordinator_id, title=f"Встреча {marker}")))["event_id"]
    game_plan = {**plan(season_id, coordinator_id, title=f"Игра {marker}", day=12, capacity=4), "kind": "game",
                 "place": "Екатеринбург", "call_link": None}
    game_id = (await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/events", game_plan))["event_id"]
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/open")
    await ok(platform, me, "PUT", event_url(season_id, meeting) + "/registration")
    teams = event_url(season_id, game_id) + "/teams"
    await ok(platform, coordinator, "POST", teams, {"group_id": group_id, "roster": [coordinator_id, me_id, other_id]})
    await ok(platform, moderator, "POST", f"{teams}/{group_id}/confirm")
    await settle(platform)
    await ok(platform, moderator, "PUT", f"/v1/games/{game_id}/observers/{observer_id}")
    await ok(platform, coordinator, "POST", f"/v1/games/{game_id}/rounds")
    await ok(platform, observer, "PUT", f"/v1/games/{game_id}/rounds/1/teams/{group_id}/feedback",
             {**PARTS, "quality": "expertise", "role": 5})
    await ok(platform, coordinator, "POST", f"/v1/games/{game_id}/rounds/close")

    # feedback: a help request, routed to Олег, who answers in its thread
    help_body = {"title": words["Прошу помочь с адаптацией"],
                 "need": "Нужно выстроить адаптацию для линейного персонала на заводе",
                 "data": "Текучесть в первые три месяца сорок процентов, наставников нет",
                 "closure": "Получу план адаптации на первый месяц и запущу его в цехе",
                 "dialogue": "Готов созвониться по вторникам и четвергам после шестнадцати часов"}
    request_id = (await ok(platform, me, "POST", "/v1/help-requests", help_body))["request_id"]
    await ok(platform, moderator, "POST", f"/v1/help-requests/{request_id}/route", {"expert_id": other_id})
    await ok(platform, other, "POST", f"/v1/help-requests/{request_id}/messages", {"text": others["Ответ эксперта Олега"]})

    # roles: a window of a season of this module's own, and a pick in the group
    year = fresh_year(4000, 4900)
    await run_season(platform, moderator, coordinator_id, f"{year}-spring")
    await ok(platform, me, "PUT", f"/v1/groups/{group_id}/roles/1/pick")
    await settle(platform)
    return {"marker": marker, "me": (me_id, me), "other": (other_id, other), "me_email": me_email,
            "other_email": other_email, "me_name": me_name, "other_name": other_name, "words": words,
            "others": others, "group_id": group_id, "file_id": file_id, "my_task": my_task,
            "their_task": their_task, "my_message": mine["message_id"], "meeting": meeting, "game_id": game_id, "help": request_id,
            "season": f"{year}-autumn", "admin": admin}


async def test_my_data_holds_my_items_from_every_service_and_nothing_of_another_member(platform, world):
    me_id, me = world["me"]
    asked = await ask(platform, me)
    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] == "assembling" and [p["service"] for p in asked.json()["parts"]] == SERVICES
    state = await ready(platform, me)
    assert [(p["service"], p["status"]) for p in state["parts"]] == [(s, "received") for s in SERVICES]
    raw, got = await download(platform, me)
    assert got["member_id"] == me_id and set(got["services"]) == set(SERVICES)
    s = got["services"]
    words = world["words"]
    # onboarding: the account, the profile, consent and rules with their versions
    assert s["onboarding"]["account"]["email"] == world["me_email"]
    assert s["onboarding"]["profile"]["full_name"] == world["me_name"]
    assert s["onboarding"]["profile"]["about"] == words["О себе пишу"]
    assert [c["version"] for c in s["onboarding"]["consents"]] == ["152fz-2026-1"]
    assert [d["decision"] for d in s["onboarding"]["decisions"]] == ["grant"]
    # groups: the group, my own words only, the file as a link, my tasks (the other's task without its title)
    g = s["groups"]
    assert world["group_id"] in [x["group_id"] for x in g["groups"]]
    assert [m["text"] for m in g["chat_messages"]] == [words["Моё сообщение в чате"]]
    assert [m["text"] for m in g["personal_messages_sent"]] == [words["Моё личное сообщение"]]
    assert [c["text"] for c in g["task_comments"]] == [words["Мой комментарий"]]
    assert [(f["file_id"], f["name"], f["link"]) for f in g["files_uploaded"]] == [
        (world["file_id"], f"{words['Мой файл']}.pdf",
         f"/v1/groups/{world['group_id']}/files/{world['file_id']}/versions/1/content")]
    by_task = {t["task_id"]: t for t in g["tasks"]}
    assert by_task[world["my_task"]]["title"] == words["Моя задача"] and by_task[world["my_task"]]["assigned_to_me"]
    assert "title" not in by_task[world["their_task"]] and by_task[world["their_task"]]["assigned_to_me"]
    # the calendar, roles, feedback, notifications
    assert [(r["event_id"], r["status"]) for r in s["calendar"]["registrations"]] == [(world["meeting"], "registered")]
    assert [(r["season_id"], r["group_id"], r["role"]) for r in s["roles"]["roles"]] == [
        (world["season"], world["group_id"], 1)]
    fb = s["feedback"]
    assert [(f["game_id"], f["group_id"], f["behaviour"]) for f in fb["feedback_to_my_teams"]] == [
        (world["game_id"], world["group_id"], PARTS["behaviour"])]
    assert [r["title"] for r in fb["help_requests"]] == [words["Прошу помочь с адаптацией"]]
    assert fb["help_messages"] == []  # only the expert wrote in the thread: their words are theirs
    assert s["notifications"]["email_address"] == world["me_email"]
    assert "access_granted" in [n["kind"] for n in s["notifications"]["notifications"]]
    # the tracking read model is disposable: rebuilt from the log, the same download
    runner = next(r for r in platform.services["onboarding"].runners if r.c.name == "data_exports")
    await runner.rebuild()
    await settle(platform)
    assert await ok(platform, me, "GET", "/v1/me/data") == state
    assert (await download(platform, me))[1] == got
    # the same as a page through the web client
    await platform.start_web()
    async with Visitor(platform) as browser:
        await browser.sign_in(world["me_email"])
        page = await browser.get("/my-data/export.html")
    assert page.status_code == 200 and words["Моё сообщение в чате"] in page.text and PARTS["impact"] in page.text
    # nothing of Олег, in the JSON nor the page: not his name, his e-mail, his id, nor any of his words
    other_id, _ = world["other"]
    for needle in [world["other_name"], world["other_email"], other_id, *world["others"].values()]:
        assert needle.encode() not in page.content, needle
        assert needle.encode() not in raw, (needle, [raw[max(0, m.start() - 300):m.end() + 50].decode(errors="replace")
                                                     for m in re.finditer(re.escape(needle.encode()), raw)])
        assert needle not in json.dumps(got, ensure_ascii=False), needle


async def test_a_second_request_while_one_is_assembling_is_refused_and_names_what_is_awaited(platform, world):
    _, me = world["me"]
    await platform.stop_service("roles")
    try:
        assert (await ask(platform, me)).status_code == 202
        second = await ask(platform, me)
        assert second.status_code == 409 and second.json()["code"] == "data_export_assembling", second.text
        assert "уже собираются" in second.json()["title"]
        english = await ask(platform, me, lang="en")
        assert english.status_code == 409 and "already being gathered" in english.json()["title"]
        await settle(platform)
        state = await ok(platform, me, "GET", "/v1/me/data")
        assert state["status"] == "assembling"
        assert [p["service"] for p in state["parts"] if p["status"] == "awaited"] == ["roles"], state
        async with platform.client(me) as c:
            r = await c.get("/v1/me/data/export.json")
        assert r.status_code == 409 and r.json()["code"] == "data_export_not_ready", r.text
    finally:
        await platform.start_service("roles")
    # the roles service back: it answers the request it missed, and the download is whole again
    state = await ready(platform, me)
    _, got = await download(platform, me)
    assert set(got["services"]) == set(SERVICES) and got["request_id"] == state["request_id"]


async def test_nobody_anonymous_asks_and_a_guest_gets_their_own_data(platform, world):
    for method, url in (("POST", "/v1/me/data"), ("GET", "/v1/me/data"), ("GET", "/v1/me/data/export.json"),
                        ("POST", "/v1/me/consent/withdrawal")):
        async with platform.client(None) as c:
            r = await c.request(method, url, json={} if method == "POST" else None)
        assert r.status_code == 401, (url, r.text)
    # a guest (registered, still in Introduction) is a data subject too: their data is theirs to see
    inv = await invite(platform, world["admin"])
    guest_id, guest_email, guest = await register(platform, inv["token"])
    assert (await ask(platform, guest)).status_code == 202
    await ready(platform, guest)
    _, got = await download(platform, guest)
    assert got["services"]["onboarding"]["account"] == {**got["services"]["onboarding"]["account"],
                                                        "email": guest_email, "status": "introduction"}
    assert got["services"]["groups"]["chat_messages"] == []



async def test_withdrawal_unconfirmed_changes_nothing_and_confirmed_erases_and_the_parts_are_gone(
        platform, world, nats_server):
    me_id, me = world["me"]
    await ready(platform, me)
    onboarding = platform.services["onboarding"]
    before = await log_position(platform)
    for word in ("", "да", "удалите"):
        got = await refused(platform, me, "POST", "/v1/me/consent/withdrawal", 422, "withdrawal_not_confirmed",
                            {"confirmation": word})
        assert "УДАЛИТЬ" in got["title"]
    got = await refused(platform, me, "POST", "/v1/me/consent/withdrawal", 422, "withdrawal_not_confirmed",
                        {"confirmation": "no"}, lang="en")
    assert "DELETE" in got["title"]
    assert await log_position(platform) == before
    assert (await ok(platform, me, "GET", "/v1/me/data"))["status"] == "ready"
    # an admin hands the role over first
    await refused(platform, world["admin"], "POST", "/v1/me/consent/withdrawal", 409, "admin_cannot_withdraw",
                  {"confirmation": "УДАЛИТЬ"})
    # confirmed: erased at once; the token opens nothing any more
    done = await ok(platform, me, "POST", "/v1/me/consent/withdrawal", {"confirmation": " удалить "})
    assert done == {"member_id": me_id, "erased": True}
    await settle(platform)
    async with platform.client(me) as c:
        assert (await c.get("/v1/me/data")).status_code == 401
    assert await onboarding.vault.is_shredded(me_id)
    # every service's parts are still in the log, and open to nothing
    for service in SERVICES:
        stream = await onboarding.events.load(event_subject(service, DATA_AGGREGATE, me_id))
        parts = [r.event for r in stream.events if isinstance(r.event, MemberDataCollected)]
        assert parts and all(part.data is None for part in parts), service
    # and the member's words are in no file of the bus or of any read model
    needles = {label: text.encode() for label, text in world["words"].items()
               if label not in ("Моя задача",)}  # a task's title is the group's, not its creator's words
    needles |= {"name": world["me_name"].encode(), "e-mail": world["me_email"].encode()}
    assert traces([nats_server.store_dir, platform.data_dir], needles) == {}
    # the other member keeps everything of theirs
    other_id, other = world["other"]
    messages = await ok(platform, other, "GET",
                        f"/v1/groups/{world['group_id']}/messages?thread_id={world['my_message']}")
    assert world["others"]["Чужое сообщение в чате"] in [m["text"] for m in messages["items"]]


async def test_a_part_larger_than_a_message_comes_in_chunks_and_back_whole(platform, world):
    """Fifteen messages of 4000 Cyrillic letters are some 120 KB of JSON: the groups part is appended in
    chunks (one decision) and read back whole."""
    admin = world["admin"]
    writer_id, _, writer = await make_member(platform, admin)
    await settle(platform)
    await ok(platform, writer, "POST", f"/v1/groups/{world['group_id']}/join", {})
    long = [f"{i:02d} " + "ж" * 3996 for i in range(15)]
    for text in long:
        await ok(platform, writer, "POST", f"/v1/groups/{world['group_id']}/messages", {"text": text})
    assert (await ask(platform, writer)).status_code == 202
    state = await ready(platform, writer)
    stream = await platform.services["onboarding"].events.load(event_subject("groups", DATA_AGGREGATE, writer_id))
    chunks = [r.event for r in stream.events if r.event.request_id == state["request_id"]]
    assert len(chunks) >= 3 and [c.chunk for c in chunks] == list(range(len(chunks)))
    _, got = await download(platform, writer)
    assert [m["text"] for m in got["services"]["groups"]["chat_messages"]] == long
