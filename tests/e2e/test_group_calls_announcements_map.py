"""Calls, the Main group's announcements and the map of working groups, end to end: real HTTP, NATS
JetStream and SQLite. Each promise is tried by the people it is not for, too."""

from __future__ import annotations

import asyncio
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.helpers import log_position, settle
from tests.e2e.journey import admin_token, invite, make_member, make_moderator, register
from tests.e2e.test_working_groups import approved_group, call, ok

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
async def people(platform) -> dict[str, tuple[str, str]]:
    admin = await admin_token(platform)
    out: dict[str, tuple[str, str]] = {"admin": ("", admin), "moderator": ("", await make_moderator(platform, admin))}
    for name in ("proposer", "member", "outsider"):
        member_id, _, token = await make_member(platform, admin)
        out[name] = (member_id, token)
    inv = await invite(platform, admin)
    guest_id, _, guest = await register(platform, inv["token"])
    out["guest"] = (guest_id, guest)
    await settle(platform)
    return out


def ahead(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def group_with_member(platform, people, **settings: str) -> str:
    group_id = await approved_group(platform, people, joining="open", **settings)
    await ok(platform, people["member"][1], "POST", f"/v1/groups/{group_id}/join", {})
    return group_id


# ------------------------------------------------------------------ calls


async def test_members_see_the_room_and_schedule_calls_others_are_refused(platform, people):
    group_id = await group_with_member(platform, people, content="main")
    member, outsider, moderator = people["member"][1], people["outsider"][1], people["moderator"][1]
    page = await ok(platform, member, "GET", f"/v1/groups/{group_id}")
    room = page["room_url"]
    assert room and re.fullmatch(r"https://meet\.jit\.si/hr-mnenie-[A-Za-z0-9_-]{22}", room), room
    other = await ok(platform, member, "GET", f"/v1/groups/{await group_with_member(platform, people)}")
    assert other["room_url"] != room, "two groups share a room"

    starts = ahead(days=2)
    made = await ok(platform, member, "POST", f"/v1/groups/{group_id}/calls",
                    {"topic": "Разбор второго раунда", "starts_at": starts, "duration_minutes": 90})
    page = await ok(platform, member, "GET", f"/v1/groups/{group_id}")
    assert [(c["call_id"], c["topic"], c["duration_minutes"], c["scheduled_by"]) for c in page["calls"]] == [
        (made["call_id"], "Разбор второго раунда", 90, people["member"][0])]
    assert datetime.fromisoformat(page["calls"][0]["starts_at"]) == datetime.fromisoformat(starts)
    assert page["calls"][0]["scheduled_by_name"]

    # content open to Main: an outsider sees the schedule, never the room
    seen = await ok(platform, outsider, "GET", f"/v1/groups/{group_id}")
    assert seen["room_url"] is None and [c["call_id"] for c in seen["calls"]] == [made["call_id"]]
    listed = await ok(platform, outsider, "GET", f"/v1/groups/{group_id}/calls")
    assert listed["room_url"] is None and len(listed["items"]) == 1
    # a moderator outside the group sees no room either: the link is for its members
    assert (await ok(platform, moderator, "GET", f"/v1/groups/{group_id}"))["room_url"] is None

    before = await log_position(platform)
    r = await call(platform, outsider, "POST", f"/v1/groups/{group_id}/calls", {"topic": "x", "starts_at": starts})
    assert r.status_code == 403 and r.json()["code"] == "group_members_only", r.text
    r = await call(platform, outsider, "DELETE", f"/v1/groups/{group_id}/calls/{made['call_id']}")
    assert r.status_code == 403 and r.json()["code"] == "coordinator_only", r.text
    assert await log_position(platform) == before


async def test_content_for_members_only_hides_the_calls_and_the_room(platform, people):
    group_id = await group_with_member(platform, people, content="members")
    await ok(platform, people["member"][1], "POST", f"/v1/groups/{group_id}/calls",
             {"topic": "Только свои", "starts_at": ahead(hours=3)})
    outsider = people["outsider"][1]
    page = await ok(platform, outsider, "GET", f"/v1/groups/{group_id}")
    assert page["calls"] is None and page["room_url"] is None and page["members"] is None
    r = await call(platform, outsider, "GET", f"/v1/groups/{group_id}/calls")
    assert r.status_code == 403 and r.json()["code"] == "group_content_members_only", r.text
    # hidden altogether: the calls are not found either
    await ok(platform, people["proposer"][1], "PUT", f"/v1/groups/{group_id}/settings",
             {"visibility": "members", "content": "members", "joining": "open"})
    r = await call(platform, outsider, "GET", f"/v1/groups/{group_id}/calls")
    assert r.status_code == 404 and r.json()["code"] == "group_not_found", r.text


@pytest.mark.parametrize("body,code", [
    ({"topic": "Прошлое", "starts_at": "2020-01-01T10:00:00+05:00"}, "call_in_past"),
    ({"topic": "Далеко", "starts_at": "2999-01-01T10:00:00+05:00"}, "call_too_far"),
    ({"topic": "Без зоны", "starts_at": "2099-01-01T10:00:00"}, None),
    ({"topic": "", "starts_at": "2099-01-01T10:00:00+05:00"}, None),
    ({"topic": "x" * 201, "starts_at": "2099-01-01T10:00:00+05:00"}, None),
    ({"topic": "две\nстроки", "starts_at": "2099-01-01T10:00:00+05:00"}, None),
    ({"topic": "*", "starts_at": "2099-01-01T10:00:00+05:00", "duration_minutes": 10**9}, None),
    ({"topic": "Лишнее", "starts_at": "2099-01-01T10:00:00+05:00", "room": "mine"}, None),
])
async def test_a_bad_call_is_refused_in_russian_and_changes_nothing(platform, people, body, code):
    group_id = await group_with_member(platform, people)
    before = await log_position(platform)
    r = await call(platform, people["member"][1], "POST", f"/v1/groups/{group_id}/calls", body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert re.search("[а-яА-Я]", r.json()["title"]), r.json()
    if code:
        assert r.json()["code"] == code
    assert await log_position(platform) == before


async def test_cancelling_and_the_same_call_twice(platform, people):
    group_id = await group_with_member(platform, people)
    member, proposer = people["member"][1], people["proposer"][1]
    body = {"topic": "Повтор", "starts_at": ahead(days=1)}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    async with platform.client(member) as c:
        first, second = await asyncio.gather(*(c.post(f"/v1/groups/{group_id}/calls", json=body, headers=key)
                                               for _ in range(2)))
    assert {first.status_code, second.status_code} <= {201, 409}, (first.text, second.text)
    await settle(platform)
    calls = (await ok(platform, member, "GET", f"/v1/groups/{group_id}/calls"))["items"]
    assert len(calls) == 1, "one request sent twice made two calls"
    call_id = calls[0]["call_id"]
    # the coordinator cancels a member's call; a second cancel finds nothing
    await ok(platform, proposer, "DELETE", f"/v1/groups/{group_id}/calls/{call_id}")
    r = await call(platform, proposer, "DELETE", f"/v1/groups/{group_id}/calls/{call_id}")
    assert r.status_code == 404 and r.json()["code"] == "call_not_found", r.text
    assert (await ok(platform, member, "GET", f"/v1/groups/{group_id}"))["calls"] == []


async def test_an_archive_keeps_its_calls_readable_and_takes_no_new_ones(platform, people):
    group_id = await group_with_member(platform, people)
    member = people["member"][1]
    await ok(platform, member, "POST", f"/v1/groups/{group_id}/calls", {"topic": "Итоги", "starts_at": ahead(days=3)})
    await ok(platform, people["proposer"][1], "POST", f"/v1/groups/{group_id}/archive")
    page = await ok(platform, member, "GET", f"/v1/groups/{group_id}")
    assert page["status"] == "archived" and [c["topic"] for c in page["calls"]] == ["Итоги"]
    r = await call(platform, member, "POST", f"/v1/groups/{group_id}/calls", {"topic": "Ещё", "starts_at": ahead(days=4)})
    assert r.status_code == 409 and r.json()["code"] == "group_archived", r.text


# ------------------------------------------------------------------ announcements


async def test_a_moderators_announcement_reaches_the_main_group_and_not_guests(platform, people):
    moderator, member, guest = people["moderator"][1], people["member"][1], people["guest"][1]
    title = f"Старт сезона {uuid.uuid4().hex[:6]}"
    made = await ok(platform, moderator, "POST", "/v1/announcements", {"title": title, "body": "Подаём заявки\nдо 1 февраля"})
    items = (await ok(platform, member, "GET", "/v1/announcements"))["items"]
    mine = next(a for a in items if a["announcement_id"] == made["announcement_id"])
    assert (mine["title"], mine["body"], mine["source"]) == (title, "Подаём заявки\nдо 1 февраля", "moderator")
    assert mine["author_name"]
    r = await call(platform, guest, "GET", "/v1/announcements")
    assert r.status_code == 403 and r.json()["code"] == "main_group_only", r.text

    before = await log_position(platform)
    for token in (member, guest):
        r = await call(platform, token, "POST", "/v1/announcements", {"title": "Моё", "body": "Объявление"})
        assert r.status_code == 403 and r.json()["code"] == "moderator_only", r.text
        r = await call(platform, token, "DELETE", f"/v1/announcements/{made['announcement_id']}")
        assert r.status_code == 403, r.text
    for bad in ({"title": "", "body": "x"}, {"title": "x", "body": ""}, {"title": "a\nb", "body": "x"},
                {"title": "x" * 201, "body": "x"}, {"title": "x", "body": "x" * 10001}, {"title": "x"},
                {"title": "x", "body": "x", "author_id": "admin"}):
        r = await call(platform, moderator, "POST", "/v1/announcements", bad)
        assert r.status_code == 422, (bad, r.text)
    assert await log_position(platform) == before

    await ok(platform, moderator, "DELETE", f"/v1/announcements/{made['announcement_id']}")
    items = (await ok(platform, member, "GET", "/v1/announcements"))["items"]
    assert made["announcement_id"] not in [a["announcement_id"] for a in items]


async def test_a_new_group_is_announced_in_the_readers_language_a_hidden_one_is_not(platform, people):
    title = f"Исследование {uuid.uuid4().hex[:6]}"
    shown = await approved_group(platform, people, title=title)
    proposer = people["proposer"][1]
    hidden_title = f"Тайная {uuid.uuid4().hex[:6]}"
    body = {"title": hidden_title, "group_type": "research", "settings": {"visibility": "members"}}
    hidden = (await ok(platform, proposer, "POST", "/v1/groups", body))["group_id"]
    await ok(platform, people["moderator"][1], "POST", f"/v1/groups/{hidden}/decision", {"decision": "approve"})
    async with platform.client(people["outsider"][1]) as c:
        ru = (await c.get("/v1/announcements", params={"limit": 100})).json()["items"]
        en = (await c.get("/v1/announcements", params={"limit": 100}, headers={"Accept-Language": "en"})).json()["items"]
    about = {a["ref_id"]: a for a in ru if a["source"] == "groups"}
    assert shown in about and hidden not in about
    assert about[shown]["title"] == f"Новая рабочая группа: «{title}»"
    assert "Игровая команда" in about[shown]["body"]
    assert next(a for a in en if a.get("ref_id") == shown)["title"] == f"New working group: “{title}”"
    assert not any(hidden_title in a["title"] + a["body"] for a in ru + en)
    # its members see the hidden one's news only through the group itself; a later archive hides it too
    await ok(platform, proposer, "POST", f"/v1/groups/{shown}/archive")
    items = (await ok(platform, people["outsider"][1], "GET", "/v1/announcements?limit=100"))["items"]
    assert shown not in [a.get("ref_id") for a in items]


async def test_announcements_page_through_every_one_once_newest_first(platform, people):
    moderator = people["moderator"][1]
    marker = uuid.uuid4().hex[:6]
    made = [(await ok(platform, moderator, "POST", "/v1/announcements", {"title": f"{marker} №{i}", "body": "."}))[
        "announcement_id"] for i in range(5)]
    seen, cursor = [], None
    async with platform.client(people["member"][1]) as c:
        for _ in range(20):
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await c.get("/v1/announcements", params=params)).json()
            seen += [a["announcement_id"] for a in page["items"] if a["title"].startswith(marker)]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == list(reversed(made))
        for bad in ("garbage", "x" * 501, "*"):
            r = await c.get("/v1/announcements", params={"cursor": bad})
            assert r.status_code == 422, r.text
        r = await c.get("/v1/announcements", params={"limit": 10**6})
        assert r.status_code == 422, r.text


# ------------------------------------------------------------------ the map


def names_in(svg: str) -> str:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return " ".join(t.text or "" for t in root.iter() if t.tag in (f"{SVG}text", f"{SVG}title"))


async def test_the_map_names_every_active_group_and_no_archived_one(platform, people):
    member, outsider = people["member"][1], people["outsider"][1]
    marker = uuid.uuid4().hex[:6]
    async with platform.client(member) as c:
        before = (await c.get("/v1/groups/map.svg")).text
    live = await approved_group(platform, people, title=f"Живая {marker}")
    archived = await approved_group(platform, people, title=f"Архивная {marker}")
    await ok(platform, people["proposer"][1], "POST", f"/v1/groups/{archived}/archive")
    hostile = f'<script>alert(1)</script> & "{marker}"'
    await approved_group(platform, people, title=hostile)
    hidden = await approved_group(platform, people, title=f"Скрытая {marker}", visibility="members")

    async with platform.client(member) as c:
        r = await c.get("/v1/groups/map.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert "sandbox" in r.headers["content-security-policy"]
    assert r.text != before, "the map did not change when groups were created"
    text = names_in(r.text)
    assert f"Живая {marker}" in text and f"Архивная {marker}" not in text
    assert hostile[:20] in text and "<script" not in r.text  # a title is text, never markup
    assert f"Скрытая {marker}" not in text  # hidden from a member who is not in it

    listed = await ok(platform, member, "GET", "/v1/groups/map")
    on_map = {g["group_id"]: g for t in listed["types"] for g in t["groups"]}
    assert live in on_map and archived not in on_map and hidden not in on_map
    assert [t["group_type"] for t in listed["types"]][:3] == ["game_team", "research", "practice"]
    assert on_map[live]["members"] == 1 and on_map[live]["coordinators"][0]["member_id"] == people["proposer"][0]
    # the hidden group is on its own members' and the moderators' map
    moderator_map = await ok(platform, people["moderator"][1], "GET", "/v1/groups/map")
    assert hidden in {g["group_id"] for t in moderator_map["types"] for g in t["groups"]}
    async with platform.client(outsider) as c:
        en = await c.get("/v1/groups/map.svg", headers={"Accept-Language": "en"})
    assert "Map of working groups" in names_in(en.text)


async def test_the_map_is_for_the_main_group(platform, people):
    for token in (people["guest"][1], None):
        async with platform.client(token) as c:
            for path in ("/v1/groups/map", "/v1/groups/map.svg"):
                r = await c.get(path)
                assert r.status_code in (401, 403) and r.headers["content-type"].startswith(
                    "application/problem+json"), r.text


# ------------------------------------------------------------------ Main access lost, whatever the order


async def test_a_join_racing_a_revocation_never_leaves_someone_outside_main_in_a_group(platform, people):
    """Approve a request, accept an invitation and revoke Main access, all at once: afterwards the person
    is in no working group, whichever order the log took."""
    admin, proposer, moderator = people["admin"][1], people["proposer"][1], people["moderator"][1]
    for round_ in range(2):
        member_id, _, token = await make_member(platform, admin)
        requested = await approved_group(platform, people, joining="request")
        invited = await approved_group(platform, people, joining="invitation")
        await settle(platform)
        await ok(platform, token, "POST", f"/v1/groups/{requested}/join", {"message": f"раунд {round_}"})
        await ok(platform, proposer, "POST", f"/v1/groups/{invited}/invitations", {"member_id": member_id})
        async with platform.client(proposer) as coordinator, platform.client(token) as me, \
                platform.client(moderator) as mod:
            results = await asyncio.gather(
                coordinator.post(f"/v1/groups/{requested}/requests/{member_id}/decision", json={"decision": "approve"}),
                me.post(f"/v1/groups/{invited}/invitations/accept"),
                mod.post(f"/v1/moderation/{member_id}/decision", json={"decision": "revoke", "message": "гонка"}))
        assert results[-1].status_code == 200, results[-1].text
        await settle(platform)
        for group_id in (requested, invited):
            page = await ok(platform, moderator, "GET", f"/v1/groups/{group_id}")
            assert member_id not in [m["member_id"] for m in page["members"]], (round_, group_id)
            requests = await ok(platform, moderator, "GET", f"/v1/groups/{group_id}/requests")
            assert member_id not in [x["member_id"] for x in requests["items"]]
        groups = await platform.services["groups"].store.find("group_invitations", {"member_id": member_id})
        assert groups == [], "an invitation outlived the Main access"


async def test_a_join_decided_on_a_stale_read_model_after_a_revocation_is_undone(platform, people):
    """The order the race above only sometimes takes, forced: the read model still shows the person in
    Main (its projection held), the revocation's policy has run, and then a coordinator approves."""
    admin, proposer, moderator = people["admin"][1], people["proposer"][1], people["moderator"][1]
    member_id, _, token = await make_member(platform, admin)
    group_id = await approved_group(platform, people, joining="request")
    await ok(platform, token, "POST", f"/v1/groups/{group_id}/join", {"message": "возьмите"})
    groups = platform.services["groups"]
    view = next(r for r in groups.runners if r.c.name == "groups")
    await view.stop()
    try:
        r = await call(platform, moderator, "POST", f"/v1/moderation/{member_id}/decision",
                       {"decision": "revoke", "message": "вне сообщества"})
        assert r.status_code == 200, r.text
        base = next(r for r in groups.runners if r.c.name == "base_groups")
        target = await platform.services["onboarding"].events.last_seq()
        assert await base.wait_caught_up(target, 10)  # out of Main in the log, not yet in the read model
        r = await call(platform, proposer, "POST", f"/v1/groups/{group_id}/requests/{member_id}/decision",
                       {"decision": "approve"})
        assert r.status_code == 200 and r.json()["state"] == "member", r.text  # the stale read model let them in
    finally:
        await view.start()
    await settle(platform, timeout=30)
    page = await ok(platform, moderator, "GET", f"/v1/groups/{group_id}")
    assert member_id not in [m["member_id"] for m in page["members"]]


async def test_an_invitation_to_a_hidden_group_shows_it_to_the_invitee_until_declined(platform, people):
    outsider_id, outsider = people["outsider"]
    proposer = people["proposer"][1]
    group_id = await approved_group(platform, people, visibility="members", joining="invitation")
    assert (await call(platform, outsider, "GET", f"/v1/groups/{group_id}")).status_code == 404
    await ok(platform, proposer, "POST", f"/v1/groups/{group_id}/invitations", {"member_id": outsider_id})
    page = await ok(platform, outsider, "GET", f"/v1/groups/{group_id}")
    assert page["my_state"] == "invited" and page["members"] is None and page["room_url"] is None
    assert page["proposed_by_name"]
    assert group_id in [g["group_id"] for g in (await ok(platform, outsider, "GET", "/v1/groups"))["items"]]
    # leaving before joining declines the invitation: the group is hidden again
    assert (await ok(platform, outsider, "POST", f"/v1/groups/{group_id}/leave"))["state"] == "none"
    assert (await call(platform, outsider, "GET", f"/v1/groups/{group_id}")).status_code == 404
    r = await call(platform, outsider, "POST", f"/v1/groups/{group_id}/invitations/accept")
    assert r.status_code == 404, r.text


async def test_a_pending_request_is_shown_to_its_author_and_withdrawn_by_leaving(platform, people):
    outsider_id, outsider = people["outsider"]
    group_id = await approved_group(platform, people, joining="request")
    assert (await ok(platform, outsider, "GET", f"/v1/groups/{group_id}"))["my_state"] == "none"
    await ok(platform, outsider, "POST", f"/v1/groups/{group_id}/join", {"message": "Хочу"})
    assert (await ok(platform, outsider, "GET", f"/v1/groups/{group_id}"))["my_state"] == "requested"
    await ok(platform, outsider, "POST", f"/v1/groups/{group_id}/leave")
    assert (await ok(platform, outsider, "GET", f"/v1/groups/{group_id}"))["my_state"] == "none"
    requests = await ok(platform, people["proposer"][1], "GET", f"/v1/groups/{group_id}/requests")
    assert outsider_id not in [x["member_id"] for x in requests["items"]]


async def test_a_stale_withdrawal_or_decline_leaves_a_new_member_in_the_group(platform, people):
    outsider_id, outsider = people["outsider"]
    proposer = people["proposer"][1]
    asked = await approved_group(platform, people, joining="request")
    await ok(platform, outsider, "POST", f"/v1/groups/{asked}/join", {"message": "Хочу"})
    await ok(platform, proposer, "POST", f"/v1/groups/{asked}/requests/{outsider_id}/decision", {"decision": "approve"})
    invited = await approved_group(platform, people, joining="invitation")
    await ok(platform, proposer, "POST", f"/v1/groups/{invited}/invitations", {"member_id": outsider_id})
    await ok(platform, outsider, "POST", f"/v1/groups/{invited}/invitations/accept")
    before = await log_position(platform)
    assert (await ok(platform, outsider, "POST", f"/v1/groups/{asked}/requests/mine/withdraw"))["state"] == "member"
    assert (await ok(platform, outsider, "POST", f"/v1/groups/{invited}/invitations/decline"))["state"] == "member"
    assert await log_position(platform) == before
    listed = {g["group_id"]: g["my_state"] for g in (await ok(platform, outsider, "GET", "/v1/groups"))["items"]}
    assert listed[asked] == listed[invited] == "member"
    # and a real decline: listed as invited, then gone from the list of a hidden group
    hidden = await approved_group(platform, people, visibility="members", joining="invitation")
    await ok(platform, proposer, "POST", f"/v1/groups/{hidden}/invitations", {"member_id": outsider_id})
    listed = {g["group_id"]: g["my_state"] for g in (await ok(platform, outsider, "GET", "/v1/groups"))["items"]}
    assert listed[hidden] == "invited"
    assert (await ok(platform, outsider, "POST", f"/v1/groups/{hidden}/invitations/decline"))["state"] == "none"
    assert hidden not in [g["group_id"] for g in (await ok(platform, outsider, "GET", "/v1/groups"))["items"]]


async def test_ones_own_groups_come_first_however_many_there_are(platform, people):
    outsider_id, outsider = people["outsider"]
    mine = await approved_group(platform, people, joining="invitation")
    await ok(platform, people["proposer"][1], "POST", f"/v1/groups/{mine}/invitations", {"member_id": outsider_id})
    for _ in range(2):
        await approved_group(platform, people)  # newer, and not theirs
    listed = await ok(platform, outsider, "GET", "/v1/groups?limit=1")
    assert [(g["group_id"], g["my_state"]) for g in listed["items"]] == [(mine, "invited")]
    assert listed["total"] >= 3
    newest = await ok(platform, people["member"][1], "GET", "/v1/groups?limit=500")
    others = [g for g in newest["items"] if g["my_state"] == "none"]
    assert len(others) >= 2 and others[0]["group_id"] != mine
