"""Working groups end to end: real HTTP, NATS JetStream and SQLite."""

from __future__ import annotations

import asyncio
import itertools
import uuid

import pytest

from libs.contracts.subjects import event_subject
from tests.e2e.helpers import settle
from tests.e2e.journey import admin_token, make_member, make_moderator, ready_for_review
from tests.platform_harness import Platform


@pytest.fixture(scope="module")
async def people(platform) -> dict[str, tuple[str, str]]:
    """(member_id, token) of the admin, a moderator, a proposer (coordinator to be) and two members."""
    admin = await admin_token(platform)
    out: dict[str, tuple[str, str]] = {"admin": ("", admin)}
    moderator = await make_moderator(platform, admin)
    out["moderator"] = ("", moderator)
    for name in ("proposer", "member", "outsider"):
        member_id, _, token = await make_member(platform, admin)
        out[name] = (member_id, token)
    await settle(platform)
    return out


async def call(p: Platform, token: str, method: str, url: str, json=None):
    async with p.client(token) as c:
        return await c.request(method, url, json=json)


async def ok(p: Platform, token: str, method: str, url: str, json=None) -> dict:
    r = await call(p, token, method, url, json)
    assert r.status_code in (200, 201), r.text
    await settle(p)
    return r.json()


async def approved_group(p: Platform, people, title: str | None = None, **settings: str) -> str:
    """Proposed by the proposer, approved by the moderator, then given these settings."""
    _, proposer = people["proposer"]
    body = {"title": title or f"Команда {uuid.uuid4().hex[:6]}", "description": "Деловая игра",
            "group_type": "game_team"}
    group_id = (await ok(p, proposer, "POST", "/v1/groups", body))["group_id"]
    await ok(p, people["moderator"][1], "POST", f"/v1/groups/{group_id}/decision", {"decision": "approve"})
    if settings:
        await ok(p, proposer, "PUT", f"/v1/groups/{group_id}/settings",
                 {"visibility": "main", "content": "members", "joining": "request", **settings})
    return group_id


async def test_propose_approve_and_the_proposer_is_coordinator(platform, people):
    proposer_id, proposer = people["proposer"]
    r = await call(platform, proposer, "POST", "/v1/groups", {"title": "HR-ВЛИЯНИЕ: осень", "group_type": "game_team"})
    assert r.status_code == 201 and r.json()["status"] == "proposed", r.text
    group_id = r.json()["group_id"]
    await settle(platform)
    listed = await ok(platform, people["moderator"][1], "GET", "/v1/groups?status=proposed")
    assert group_id in [g["group_id"] for g in listed["items"]]
    # a proposal is not there for others yet
    assert (await call(platform, people["member"][1], "GET", f"/v1/groups/{group_id}")).status_code == 404
    await ok(platform, people["moderator"][1], "POST", f"/v1/groups/{group_id}/decision", {"decision": "approve"})
    page = await ok(platform, proposer, "GET", f"/v1/groups/{group_id}")
    assert page["status"] == "active" and page["is_coordinator"] and page["is_member"]
    assert [c["member_id"] for c in page["coordinators"]] == [proposer_id]
    assert page["coordinators"][0]["display_name"] == "Анна Смирнова"


async def test_a_decline_needs_a_reason_and_an_unknown_type_is_refused(platform, people):
    _, proposer = people["proposer"]
    group_id = (await ok(platform, proposer, "POST", "/v1/groups", {"title": "Дубль", "group_type": "research"}))[
        "group_id"]
    r = await call(platform, people["moderator"][1], "POST", f"/v1/groups/{group_id}/decision", {"decision": "decline"})
    assert r.status_code == 422 and r.json()["code"] == "reason_required", r.text
    await ok(platform, people["moderator"][1], "POST", f"/v1/groups/{group_id}/decision",
             {"decision": "decline", "reason": "Такая группа уже есть"})
    r = await call(platform, proposer, "POST", "/v1/groups", {"title": "Хор", "group_type": "choir"})
    assert r.status_code == 422 and r.json()["code"] == "unknown_group_type", r.text


MATRIX = list(itertools.product(["main", "members"], ["main", "members"], ["open", "request", "invitation"]))


@pytest.mark.parametrize("visibility,content,joining", MATRIX)
async def test_the_settings_matrix(platform, people, visibility, content, joining):
    group_id = await approved_group(platform, people, visibility=visibility, content=content, joining=joining)
    outsider, member, moderator = people["outsider"][1], people["member"][1], people["moderator"][1]
    # a member, by the way the group is joined
    if joining == "invitation":
        await ok(platform, people["proposer"][1], "POST", f"/v1/groups/{group_id}/invitations",
                 {"member_id": people["member"][0]})
        assert (await ok(platform, member, "POST", f"/v1/groups/{group_id}/invitations/accept"))["state"] == "member"
    else:
        state = (await ok(platform, member, "POST", f"/v1/groups/{group_id}/join", {"message": "Хочу участвовать"}))[
            "state"]
        assert state == ("member" if joining == "open" else "requested")
        if joining == "request":
            await ok(platform, people["proposer"][1], "POST",
                     f"/v1/groups/{group_id}/requests/{people['member'][0]}/decision", {"decision": "approve"})
    for token in (member, moderator):
        page = await ok(platform, token, "GET", f"/v1/groups/{group_id}")
        assert people["member"][0] in [m["member_id"] for m in page["members"]]
        assert page["calls"] == []
        # the call link is for the group's members, whatever the settings: not for a moderator outside it
        assert (page["room_url"] is not None) == (token == member)
    listed = [g["group_id"] for g in (await ok(platform, outsider, "GET", "/v1/groups"))["items"]]
    r = await call(platform, outsider, "GET", f"/v1/groups/{group_id}")
    members = await call(platform, outsider, "GET", f"/v1/groups/{group_id}/members")
    if visibility == "members":
        assert group_id not in listed
        assert r.status_code == 404 and r.json()["code"] == "group_not_found"
        assert members.status_code == 404
        return
    assert group_id in listed
    assert r.status_code == 200 and r.json()["description"] == "Деловая игра"
    assert r.json()["room_url"] is None
    calls = await call(platform, outsider, "GET", f"/v1/groups/{group_id}/calls")
    if content == "members":
        assert r.json()["members"] is None and r.json()["calls"] is None
        assert calls.status_code == 403 and calls.json()["code"] == "group_content_members_only", calls.text
        assert members.status_code == 403 and members.json()["code"] == "not_a_group_member"
    else:
        assert people["member"][0] in [m["member_id"] for m in r.json()["members"]]
        assert r.json()["calls"] == [] and calls.status_code == 200 and calls.json()["room_url"] is None
        assert members.status_code == 200
    join = await call(platform, outsider, "POST", f"/v1/groups/{group_id}/join", {"message": ""})
    if joining == "invitation":
        assert join.status_code == 403 and join.json()["code"] == "invitation_only"
    else:
        assert join.status_code == 200


async def test_two_coordinators_decide_one_request_at_once(platform, people):
    group_id = await approved_group(platform, people, joining="request")
    admin = await admin_token(platform)
    second_id, _, second = await make_member(platform, admin)
    applicant_id, _, applicant = await make_member(platform, admin)
    await settle(platform)
    await ok(platform, people["moderator"][1], "PUT", f"/v1/groups/{group_id}/coordinators/{second_id}")
    await ok(platform, applicant, "POST", f"/v1/groups/{group_id}/join", {"message": "Возьмите меня"})
    pending = await ok(platform, people["proposer"][1], "GET", f"/v1/groups/{group_id}/requests")
    assert [(i["member_id"], i["display_name"], i["message"]) for i in pending["items"]] == [
        (applicant_id, "Анна Смирнова", "Возьмите меня")]
    url = f"/v1/groups/{group_id}/requests/{applicant_id}/decision"
    results = await asyncio.gather(
        call(platform, people["proposer"][1], "POST", url, {"decision": "approve"}),
        call(platform, second, "POST", url, {"decision": "approve"}))
    assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
    loser = next(r for r in results if r.status_code == 409)
    assert loser.json()["code"] == "join_request_decided"
    await settle(platform)
    page = await ok(platform, applicant, "GET", f"/v1/groups/{group_id}/members")
    assert [m["member_id"] for m in page["items"]].count(applicant_id) == 1
    assert (await ok(platform, people["proposer"][1], "GET", f"/v1/groups/{group_id}/requests"))["items"] == []


async def test_a_member_whose_main_access_is_revoked_leaves_every_working_group(platform, people):
    admin = await admin_token(platform)
    member_id, _, token = await make_member(platform, admin)
    await settle(platform)
    groups = [await approved_group(platform, people, joining="open") for _ in range(2)]
    for group_id in groups:
        assert (await ok(platform, token, "POST", f"/v1/groups/{group_id}/join", {}))["state"] == "member"
    await ok(platform, admin, "POST", f"/v1/moderation/{member_id}/decision",
             {"decision": "revoke", "message": "Нарушение правил"})
    for group_id in groups:
        page = await ok(platform, admin, "GET", f"/v1/groups/{group_id}")
        assert member_id not in [m["member_id"] for m in page["members"]]


async def test_leave_and_removal_with_a_reason(platform, people):
    group_id = await approved_group(platform, people, joining="open")
    member_id, member = people["outsider"]
    await ok(platform, member, "POST", f"/v1/groups/{group_id}/join", {})
    assert (await ok(platform, member, "POST", f"/v1/groups/{group_id}/leave"))["state"] == "none"
    await ok(platform, member, "POST", f"/v1/groups/{group_id}/join", {})
    r = await call(platform, people["member"][1], "DELETE", f"/v1/groups/{group_id}/members/{member_id}?reason=x")
    assert r.status_code == 403 and r.json()["code"] == "coordinator_only"
    r = await call(platform, people["proposer"][1], "DELETE", f"/v1/groups/{group_id}/members/{member_id}?reason=%20")
    assert r.status_code == 422, r.text
    removed = await ok(platform, people["proposer"][1], "DELETE",
                       f"/v1/groups/{group_id}/members/{member_id}?reason=Спам")
    assert removed["state"] == "none"


async def test_archived_groups_are_hidden_from_non_members_and_refuse_joining(platform, people):
    title = f"Архивная{uuid.uuid4().hex[:6]}"
    group_id = await approved_group(platform, people, title=title, joining="open")
    await ok(platform, people["member"][1], "POST", f"/v1/groups/{group_id}/join", {})
    found = await ok(platform, people["outsider"][1], "GET", f"/v1/groups?q={title.lower()}")
    assert [g["group_id"] for g in found["items"]] == [group_id]
    await ok(platform, people["proposer"][1], "POST", f"/v1/groups/{group_id}/archive")
    outsider = people["outsider"][1]
    assert group_id not in [g["group_id"] for g in (await ok(platform, outsider, "GET", "/v1/groups"))["items"]]
    assert (await ok(platform, outsider, "GET", f"/v1/groups?q={title}"))["items"] == []
    assert (await call(platform, outsider, "GET", f"/v1/groups/{group_id}")).status_code == 404
    r = await call(platform, outsider, "POST", f"/v1/groups/{group_id}/join", {})
    assert r.status_code == 409 and r.json()["code"] == "group_archived"
    # kept and readable by its members
    page = await ok(platform, people["member"][1], "GET", f"/v1/groups/{group_id}")
    assert page["status"] == "archived" and page["members"]
    mine = await ok(platform, people["member"][1], "GET", "/v1/groups?status=archived")
    assert group_id in [g["group_id"] for g in mine["items"]]
    r = await call(platform, people["proposer"][1], "PUT", f"/v1/groups/{group_id}/settings",
                   {"visibility": "main", "content": "main", "joining": "open"})
    assert r.status_code == 409 and r.json()["code"] == "group_archived"


async def test_search_folds_cyrillic(platform, people):
    title = f"Ёлочная{uuid.uuid4().hex[:4]} аналитика"
    group_id = await approved_group(platform, people, title=title)
    word = title.split()[0].lower().replace("ё", "е").upper()
    found = await ok(platform, people["outsider"][1], "GET", f"/v1/groups?q={word}")
    assert [g["group_id"] for g in found["items"]] == [group_id]


HOSTILE = [
    ("POST", "/v1/groups", {"title": "x" * 121, "group_type": "research"}),
    ("POST", "/v1/groups", {"title": "ok", "description": "x" * 4001, "group_type": "research"}),
    ("POST", "/v1/groups", {"title": "a\u202eb", "group_type": "research"}),
    ("POST", "/v1/groups", {"title": "a\x00b", "group_type": "research"}),
    ("POST", "/v1/groups", {"title": "", "group_type": "research"}),
    ("POST", "/v1/groups", {"title": "ok", "group_type": "*"}),
    ("POST", "/v1/groups", {"title": "ok", "group_type": "research", "settings": {"joining": "everyone"}}),
    ("GET", "/v1/groups?q=" + "я" * 101, None),
    ("GET", "/v1/groups?q=%00", None),
    ("GET", "/v1/groups?group_type=%3E", None),
    ("GET", "/v1/groups/a.b.%3E", None),
    ("GET", "/v1/groups/*", None),
    ("POST", "/v1/groups/g%2A/join", {"message": ""}),
]


@pytest.mark.parametrize("method,url,body", HOSTILE)
async def test_hostile_input_is_422_never_500(platform, people, method, url, body):
    r = await call(platform, people["member"][1], method, url, body)
    assert r.status_code == 422, (r.status_code, r.text)


async def test_a_huge_join_message_is_refused(platform, people):
    group_id = await approved_group(platform, people, joining="request")
    r = await call(platform, people["outsider"][1], "POST", f"/v1/groups/{group_id}/join", {"message": "я" * 2001})
    assert r.status_code == 422, r.text
    r = await call(platform, people["outsider"][1], "POST", f"/v1/groups/{group_id}/join", {"message": "a\x07"})
    assert r.status_code == 422, r.text


async def test_a_member_granted_a_moment_ago_joins_at_once_and_a_guest_is_still_refused(platform, people):
    """Main's membership follows a grant through a policy and a read model: a join right after the grant is decided
    once both have taken it in (it was refused as from an outsider, "main_group_only", while they had not)."""
    group_id = await approved_group(platform, people, joining="open")
    admin = people["admin"][1]
    for _ in range(3):
        member_id, token = await ready_for_review(platform, admin)
        r = await call(platform, token, "POST", f"/v1/groups/{group_id}/join", {})
        assert r.status_code == 403 and r.json()["code"] == "main_group_only", r.text
        r = await call(platform, admin, "POST", f"/v1/moderation/{member_id}/decision", {"decision": "grant"})
        assert r.status_code == 200, r.text
        r = await call(platform, token, "POST", f"/v1/groups/{group_id}/join", {})
        assert r.status_code == 200 and r.json()["state"] == "member", r.text
    await settle(platform)
    listed = await ok(platform, admin, "GET", f"/v1/groups/{group_id}/members")
    assert len(listed["items"]) == 4  # the proposer and the three


async def test_a_join_while_main_cannot_be_known_is_unavailable_not_refused(platform, people):
    """With the policy that places members in Main held, a member just granted is not called an outsider: the
    answer is 503 once the wait is over, nothing is decided, and the join goes through once the policy runs."""
    group_id = await approved_group(platform, people, joining="open")
    admin = people["admin"][1]
    member_id, token = await ready_for_review(platform, admin)
    await settle(platform)
    base = next(r for r in platform.services["groups"].runners if r.c.name == "base_groups")
    await base.stop()
    try:
        r = await call(platform, admin, "POST", f"/v1/moderation/{member_id}/decision", {"decision": "grant"})
        assert r.status_code == 200, r.text
        group = event_subject("groups", "working_group", group_id)
        before = await platform.services["groups"].events.last_seq_of(group)
        r = await call(platform, token, "POST", f"/v1/groups/{group_id}/join", {})
        assert r.status_code == 503 and r.json()["code"] == "service_unavailable", r.text
        assert await platform.services["groups"].events.last_seq_of(group) == before, "an undecided join appended"
    finally:
        await base.start()
    await settle(platform)
    r = await call(platform, token, "POST", f"/v1/groups/{group_id}/join", {})
    assert r.status_code == 200 and r.json()["state"] == "member", r.text
