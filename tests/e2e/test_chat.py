"""Group chat, personal messages and the live stream end to end: real HTTP, NATS JetStream and SQLite."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from tests.e2e.helpers import log_position, settle
from tests.e2e.journey import admin_token, make_member, make_moderator
from tests.e2e.test_working_groups import call, ok
from tests.platform_harness import Platform


@pytest.fixture(scope="module")
async def people(platform) -> dict[str, tuple[str, str]]:
    """(member_id, token): the admin, a moderator, a coordinator, two members, an outsider."""
    admin = await admin_token(platform)
    out: dict[str, tuple[str, str]] = {"admin": ("", admin)}
    out["moderator"] = ("", await make_moderator(platform, admin))
    for name in ("coordinator", "anna", "boris", "outsider"):
        member_id, _, token = await make_member(platform, admin)
        out[name] = (member_id, token)
    await settle(platform)
    return out


async def chat_group(p: Platform, people, *, content: str = "members", members=("anna", "boris")) -> str:
    """A group the coordinator opened (open joining) with these members in it."""
    coordinator = people["coordinator"][1]
    body = {"title": f"Чат {uuid.uuid4().hex[:6]}", "description": "", "group_type": "game_team"}
    group_id = (await ok(p, coordinator, "POST", "/v1/groups", body))["group_id"]
    await ok(p, people["moderator"][1], "POST", f"/v1/groups/{group_id}/decision", {"decision": "approve"})
    await ok(p, coordinator, "PUT", f"/v1/groups/{group_id}/settings",
             {"visibility": "main", "content": content, "joining": "open"})
    for name in members:
        await ok(p, people[name][1], "POST", f"/v1/groups/{group_id}/join", {})
    return group_id


async def post(p: Platform, token: str, group_id: str, text: str, thread_id: str | None = None) -> str:
    body = {"text": text, **({"thread_id": thread_id} if thread_id else {})}
    return (await ok(p, token, "POST", f"/v1/groups/{group_id}/messages", body))["message_id"]


async def unread_of(p: Platform, token: str, group_id: str) -> dict:
    summary = await ok(p, token, "GET", "/v1/me/unread")
    return next((g for g in summary["groups"] if g["group_id"] == group_id), {"unread": None, "mentions": None})


async def read_stream(p: Platform, token: str, after: int | None, seconds: float = 1.0,
                      drop_after: int | None = None) -> list[dict]:
    """The SSE stream for a bounded time, parsed: every event with an id (the `ready` one too); with
    ``drop_after``, the connection is cut as soon as that many events arrived (whatever is in flight)."""
    headers = {"Last-Event-ID": str(after)} if after is not None else {}
    events, current = [], {}
    async with p.client(token) as c:
        async with c.stream("GET", f"/v1/stream?max_seconds={seconds}", headers=headers) as r:
            assert r.status_code == 200, await r.aread()
            assert r.headers["content-type"].startswith("text/event-stream")
            async for line in r.aiter_lines():
                if not line:
                    if current:
                        events.append(current)
                    current = {}
                    if drop_after is not None and len(events) >= drop_after:
                        break  # leaves the stream mid-flow: the connection is closed under it
                elif line.startswith(("id:", "event:", "data:")):
                    key, _, value = line.partition(":")
                    current[key] = value.strip()
    return [{**e, "data": json.loads(e["data"]) if "data" in e else None} for e in events]


async def test_members_talk_in_threads_with_mentions_reactions_and_unread_that_follows_them(platform, people):
    anna_id, anna = people["anna"]
    boris_id, boris = people["boris"]
    group_id = await chat_group(platform, people)
    first = await post(platform, anna, group_id, "Привет, коллеги! Обсудим ёлку для игры")
    mention = await post(platform, anna, group_id, f"@[Борис]({boris_id}) посмотрите, пожалуйста")
    reply = await post(platform, boris, group_id, "Смотрю", thread_id=first)
    page = await ok(platform, boris, "GET", f"/v1/groups/{group_id}/messages")
    assert [m["message_id"] for m in page["items"]] == [first, mention]
    assert page["items"][0]["replies"] == 1 and page["items"][1]["mentions_me"]
    assert page["items"][0]["author_name"] and page["items"][0]["text"].startswith("Привет")
    # Boris has two unread in the flow (Anna's), one of them naming him; Anna has Boris's reply in her thread
    assert await unread_of(platform, boris, group_id) == {**await unread_of(platform, boris, group_id),
                                                         "unread": 2, "mentions": 1}
    assert (await unread_of(platform, anna, group_id))["unread"] == 1
    thread = await ok(platform, anna, "GET", f"/v1/groups/{group_id}/messages?thread_id={first}")
    assert [m["message_id"] for m in thread["items"]] == [reply] and thread["root"]["message_id"] == first
    # reading on one device is read everywhere: the mark is the platform's
    last = page["items"][-1]["position"]
    marked = await ok(platform, boris, "PUT", f"/v1/groups/{group_id}/read", {"up_to": last})
    assert marked["unread"] == 0 and marked["up_to"] == last
    assert await unread_of(platform, boris, group_id) == {**await unread_of(platform, boris, group_id),
                                                         "unread": 0, "mentions": 0}
    # a mark never moves back, and one past the newest message stops at it
    assert (await ok(platform, boris, "PUT", f"/v1/groups/{group_id}/read", {"up_to": 1}))["up_to"] == last
    assert (await ok(platform, boris, "PUT", f"/v1/groups/{group_id}/read", {"up_to": 2**53}))["up_to"] == last
    await ok(platform, anna, "PUT", f"/v1/groups/{group_id}/read",
             {"thread_id": first, "up_to": thread["items"][-1]["position"]})
    assert (await unread_of(platform, anna, group_id))["unread"] == 0
    # reactions: once per member and kind, withdrawn by its author
    for _ in range(2):
        await ok(platform, boris, "PUT", f"/v1/groups/{group_id}/messages/{first}/reactions", {"reaction": "👍"})
    await ok(platform, anna, "PUT", f"/v1/groups/{group_id}/messages/{first}/reactions", {"reaction": "👍"})
    shown = (await ok(platform, anna, "GET", f"/v1/groups/{group_id}/messages"))["items"][0]["reactions"]
    assert shown == [{"reaction": "👍", "count": 2, "mine": True}]
    await ok(platform, anna, "PUT", f"/v1/groups/{group_id}/messages/{first}/reactions",
             {"reaction": "👍", "on": False})
    shown = (await ok(platform, anna, "GET", f"/v1/groups/{group_id}/messages"))["items"][0]["reactions"]
    assert shown == [{"reaction": "👍", "count": 1, "mine": False}]
    # search folds case and ё
    hits = await ok(platform, boris, "GET", f"/v1/groups/{group_id}/messages/search?q=ЕЛК")
    assert [m["message_id"] for m in hits["items"]] == [first]


async def test_edit_and_delete_who_may_and_who_may_not(platform, people):
    anna_id, anna = people["anna"]
    _, boris = people["boris"]
    group_id = await chat_group(platform, people)
    mine = await post(platform, anna, group_id, "Первый вариант")
    r = await call(platform, boris, "PUT", f"/v1/groups/{group_id}/messages/{mine}", {"text": "Чужая правка"})
    assert r.status_code == 403 and r.json()["code"] == "not_your_message", r.text
    r = await call(platform, boris, "DELETE", f"/v1/groups/{group_id}/messages/{mine}")
    assert r.status_code == 403 and r.json()["code"] == "not_your_message", r.text
    await ok(platform, anna, "PUT", f"/v1/groups/{group_id}/messages/{mine}", {"text": "Второй вариант"})
    got = (await ok(platform, boris, "GET", f"/v1/groups/{group_id}/messages"))["items"][0]
    assert got["text"] == "Второй вариант" and got["edited"]
    # the coordinator removes anyone's message; twice is once; then it cannot be edited
    other = await post(platform, boris, group_id, "Не по теме")
    for _ in range(2):
        await ok(platform, people["coordinator"][1], "DELETE", f"/v1/groups/{group_id}/messages/{other}")
    items = (await ok(platform, anna, "GET", f"/v1/groups/{group_id}/messages"))["items"]
    assert [(m["deleted"], m["text"]) for m in items] == [(False, "Второй вариант"), (True, None)]
    r = await call(platform, boris, "PUT", f"/v1/groups/{group_id}/messages/{other}", {"text": "Верну"})
    assert r.status_code == 404 and r.json()["code"] == "message_not_found", r.text
    # a message of another group is not this group's
    elsewhere = await chat_group(platform, people)
    r = await call(platform, anna, "DELETE", f"/v1/groups/{elsewhere}/messages/{mine}")
    assert r.status_code == 404, r.text


@pytest.mark.parametrize("body,code", [
    ({"text": ""}, "invalid_fields"),
    ({"text": "   \n "}, "invalid_fields"),
    ({"text": "x" * 4001}, "invalid_fields"),
    ({"text": "ok", "thread_id": "*"}, "invalid_fields"),
    ({"text": "ok", "thread_id": "nope"}, "thread_not_found"),
    ({"text": "ok\u202e"}, "invalid_fields"),
    ({"text": "ok", "extra": 1}, "invalid_fields"),
])
async def test_a_bad_message_is_refused_in_russian_and_changes_nothing(platform, people, body, code):
    group_id = await chat_group(platform, people)
    before = await log_position(platform)
    r = await call(platform, people["anna"][1], "POST", f"/v1/groups/{group_id}/messages", body)
    assert r.status_code in (404, 422) and r.json()["code"] == code, r.text
    assert r.headers["content-language"] == "ru"
    await settle(platform)
    assert await log_position(platform) == before


async def test_a_non_member_sees_nothing_of_a_members_only_chat(platform, people):
    outsider_id, outsider = people["outsider"]
    group_id = await chat_group(platform, people)
    start = (await read_stream(platform, outsider, None, 0.2))[0]["id"]
    await post(platform, people["anna"][1], group_id, "Только для своих")
    for url in (f"/v1/groups/{group_id}/messages", f"/v1/groups/{group_id}/messages/search?q=своих"):
        r = await call(platform, outsider, "GET", url)
        assert r.status_code == 403 and r.json()["code"] == "group_content_members_only", r.text
    r = await call(platform, outsider, "POST", f"/v1/groups/{group_id}/messages", {"text": "Можно к вам?"})
    assert r.status_code == 403 and r.json()["code"] == "group_members_only", r.text
    r = await call(platform, outsider, "PUT", f"/v1/groups/{group_id}/read", {"up_to": 1})
    assert r.status_code == 403, r.text
    events = await read_stream(platform, outsider, int(start), 0.5)
    assert [e for e in events if e["event"] != "ready"] == []
    assert group_id not in [g["group_id"] for g in (await ok(platform, outsider, "GET", "/v1/me/unread"))["groups"]]
    # a members' chat open to the Main group is read by the outsider, still not written, nor streamed
    open_id = await chat_group(platform, people, content="main")
    await post(platform, people["anna"][1], open_id, "Открыто для Главной")
    assert (await ok(platform, outsider, "GET", f"/v1/groups/{open_id}/messages"))["items"][0]["text"]
    events = await read_stream(platform, outsider, int(start), 0.5)
    assert [e for e in events if e["event"] != "ready"] == []


async def test_the_stream_tells_members_live_and_a_resume_loses_and_repeats_nothing(platform, people):
    """A steady flow of messages while the reader drops and resumes with Last-Event-ID, over and over:
    every message arrives once, in order."""
    _, anna = people["anna"]
    _, boris = people["boris"]
    group_id = await chat_group(platform, people)
    start = int((await read_stream(platform, boris, None, 0.2))[0]["id"])
    sent: list[str] = []

    async def writer() -> None:
        for i in range(40):
            sent.append(await post(platform, anna, group_id, f"Сообщение {i}"))
            await asyncio.sleep(0.02)

    writing = asyncio.create_task(writer())
    seen: list[dict] = []
    position = start
    rounds = 0
    while not writing.done() or len(seen) < 40:
        rounds += 1
        # every other time the reader drops the connection itself after a few events, mid-flow
        cut = 3 if rounds % 2 else None
        events = [e for e in await read_stream(platform, boris, position, 0.3, drop_after=cut) if e["event"] != "ready"]
        seen += events
        if events:
            position = int(events[-1]["id"])
        if writing.done() and len(seen) >= len(sent):
            break
    await writing
    posted = [e["data"]["message"]["message_id"] for e in seen if e["event"] == "message_posted"]
    assert posted == sent
    ids = [int(e["id"]) for e in seen]
    assert ids == sorted(set(ids))
    last = seen[-1]["data"]
    assert last["unread"] == 40 and last["message"]["text"] == "Сообщение 39"


async def test_a_reading_on_one_device_reaches_the_others_live(platform, people):
    _, anna = people["anna"]
    _, boris = people["boris"]
    group_id = await chat_group(platform, people)
    # the counts say where the stream stood when they were read: open it after that, miss nothing
    start = (await ok(platform, boris, "GET", "/v1/me/unread"))["stream_position"]
    await post(platform, anna, group_id, "Раз")
    newest = await post(platform, anna, group_id, "Два")
    page = await ok(platform, boris, "GET", f"/v1/groups/{group_id}/messages")
    await ok(platform, boris, "PUT", f"/v1/groups/{group_id}/read", {"up_to": page["items"][-1]["position"]})
    events = [e for e in await read_stream(platform, boris, start, 0.5) if e["event"] != "ready"]
    assert [e["event"] for e in events] == ["message_posted", "message_posted", "read"]
    assert [e["data"]["unread"] for e in events] == [1, 2, 0]
    assert events[1]["data"]["message"]["message_id"] == newest
    # a reaction's item carries the message as it reads (a page updates it in place from the item)
    await ok(platform, anna, "PUT", f"/v1/groups/{group_id}/messages/{newest}/reactions", {"reaction": "🎉"})
    events = [e for e in await read_stream(platform, boris, int(events[-1]["id"]), 0.4) if e["event"] != "ready"]
    [reacted] = events
    assert reacted["event"] == "reaction_changed", reacted
    shown = reacted["data"]["message"]
    assert (shown["text"], shown["author_name"], shown["reactions"]) == (
        "Два", page["items"][-1]["author_name"], [{"reaction": "🎉", "count": 1, "mine": False}])
    # a reply tells its thread's count, up and down again when it is deleted
    reply = await post(platform, anna, group_id, "Ответ", thread_id=newest)
    await ok(platform, anna, "DELETE", f"/v1/groups/{group_id}/messages/{reply}")
    events = [e for e in await read_stream(platform, boris, int(events[-1]["id"]), 0.4) if e["event"] != "ready"]
    assert [(e["event"], e["data"]["thread_replies"]) for e in events] == [("message_posted", 1),
                                                                           ("message_deleted", 0)]


async def test_personal_messages_blocks_and_guests(platform, people):
    anna_id, anna = people["anna"]
    boris_id, boris = people["boris"]
    sent = await ok(platform, anna, "POST", f"/v1/conversations/{boris_id}/messages", {"text": "Борис, добрый день"})
    listed = await ok(platform, boris, "GET", "/v1/conversations")
    mine = next(x for x in listed["items"] if x["member_id"] == anna_id)
    assert mine["unread"] >= 1 and mine["display_name"]
    page = await ok(platform, boris, "GET", f"/v1/conversations/{anna_id}/messages")
    assert page["items"][-1]["message_id"] == sent["message_id"] and page["items"][-1]["text"] == "Борис, добрый день"
    await ok(platform, boris, "PUT", f"/v1/conversations/{anna_id}/read", {"up_to": page["items"][-1]["position"]})
    assert anna_id not in [x["member_id"] for x in (await ok(platform, boris, "GET", "/v1/me/unread"))["conversations"]]
    # blocked: Anna's messages are refused; Boris cannot write to her either until he unblocks
    for _ in range(2):
        assert (await ok(platform, boris, "PUT", f"/v1/blocks/{anna_id}"))["blocked"]
    before = await log_position(platform)
    r = await call(platform, anna, "POST", f"/v1/conversations/{boris_id}/messages", {"text": "Ответьте!"})
    assert r.status_code == 403 and r.json()["code"] == "blocked_by_member", r.text
    r = await call(platform, boris, "POST", f"/v1/conversations/{anna_id}/messages", {"text": "Нет"})
    assert r.status_code == 409 and r.json()["code"] == "member_blocked_by_you", r.text
    assert await log_position(platform) == before
    await ok(platform, boris, "DELETE", f"/v1/blocks/{anna_id}")
    await ok(platform, anna, "POST", f"/v1/conversations/{boris_id}/messages", {"text": "Спасибо"})
    r = await call(platform, anna, "POST", f"/v1/conversations/{anna_id}/messages", {"text": "Себе"})
    assert r.status_code == 422 and r.json()["code"] == "cannot_message_yourself", r.text
    # a guest in Introduction cannot be written to by a stranger, and cannot write first
    admin = people["admin"][1]
    async with platform.client(admin) as c:
        inv = (await c.post("/v1/invitations", json={})).json()
    from tests.e2e.journey import register
    guest_id, _, guest = await register(platform, inv["token"])
    await settle(platform)
    r = await call(platform, anna, "POST", f"/v1/conversations/{guest_id}/messages", {"text": "Привет"})
    assert r.status_code == 403 and r.json()["code"] == "recipient_not_in_main_group", r.text
    r = await call(platform, guest, "POST", f"/v1/conversations/{anna_id}/messages", {"text": "Привет"})
    assert r.status_code == 403 and r.json()["code"] == "main_group_only", r.text


async def test_an_erased_authors_messages_are_gone_from_the_api_the_stream_and_a_rebuild(platform, people):
    admin = people["admin"][1]
    _, boris = people["boris"]
    doomed_id, _, doomed = await make_member(platform, admin)
    await settle(platform)
    group_id = await chat_group(platform, people)
    await ok(platform, doomed, "POST", f"/v1/groups/{group_id}/join", {})
    start = int((await read_stream(platform, boris, None, 0.2))[0]["id"])
    root = await post(platform, doomed, group_id, "Секрет уходящего")
    kept = await post(platform, boris, group_id, "Ответ остаётся", thread_id=root)
    await ok(platform, doomed, "POST", f"/v1/conversations/{people['boris'][0]}/messages", {"text": "Личный секрет"})
    await ok(platform, admin, "DELETE", f"/v1/members/{doomed_id}")
    await settle(platform)

    async def check() -> None:
        page = await ok(platform, boris, "GET", f"/v1/groups/{group_id}/messages")
        gone = next(m for m in page["items"] if m["message_id"] == root)
        assert gone["text"] is None and gone["author_id"] is None and gone["author_name"] is None
        thread = await ok(platform, boris, "GET", f"/v1/groups/{group_id}/messages?thread_id={root}")
        assert [m["text"] for m in thread["items"]] == ["Ответ остаётся"] and thread["items"][0]["message_id"] == kept
        hits = await ok(platform, boris, "GET", f"/v1/groups/{group_id}/messages/search?q=секрет")
        assert hits["items"] == []
        dms = await ok(platform, boris, "GET", f"/v1/conversations/{doomed_id}/messages")
        assert [m["text"] for m in dms["items"]] == [None]
        events = await read_stream(platform, boris, start, 0.5)
        texts = json.dumps([e["data"] for e in events], ensure_ascii=False)
        assert "Ответ остаётся" in texts and "секрет" not in texts.lower()

    await check()
    groups = platform.services["groups"]
    runner = next(r for r in groups.runners if r.c.name == "chat")
    await runner.rebuild()
    await settle(platform)
    await check()


async def test_two_devices_marking_at_once_end_at_the_furthest_mark(platform, people):
    _, anna = people["anna"]
    _, boris = people["boris"]
    group_id = await chat_group(platform, people)
    for i in range(6):
        await post(platform, anna, group_id, f"Пункт {i}")
    positions = [m["position"] for m in (await ok(platform, boris, "GET", f"/v1/groups/{group_id}/messages"))["items"]]

    async def mark(up_to: int):
        return await call(platform, boris, "PUT", f"/v1/groups/{group_id}/read", {"up_to": up_to})

    answers = await asyncio.gather(*(mark(p) for p in positions * 2))
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
    await settle(platform)
    assert (await unread_of(platform, boris, group_id))["unread"] == 0
    page = await ok(platform, boris, "GET", f"/v1/groups/{group_id}/messages")
    assert page["read_up_to"] == positions[-1]
    # an older mark sent late leaves it where it is
    assert (await (await mark(positions[0])).aread()) and page["read_up_to"] == positions[-1]
    assert (await unread_of(platform, boris, group_id))["unread"] == 0


async def test_reactions_at_once_are_counted_exactly(platform, people):
    names = ("anna", "boris", "coordinator")
    group_id = await chat_group(platform, people)
    message = await post(platform, people["anna"][1], group_id, "Голосуем")
    url = f"/v1/groups/{group_id}/messages/{message}/reactions"
    answers = await asyncio.gather(*(call(platform, people[n][1], "PUT", url, {"reaction": r})
                                     for n in names for r in ("👍", "🎉") for _ in range(2)))
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
    await settle(platform)
    shown = (await ok(platform, people["boris"][1], "GET", f"/v1/groups/{group_id}/messages"))["items"][0]
    assert shown["reactions"] == [{"reaction": "👍", "count": 3, "mine": True}, {"reaction": "🎉", "count": 3,
                                                                                  "mine": True}]


@pytest.mark.parametrize("query,code", [
    ("before=1&after=2", "one_cursor_only"),
    (f"before={2**53 + 1}", "invalid_fields"),
    ("after=-1", "invalid_fields"),
    ("limit=201", "invalid_fields"),
    ("limit=0", "invalid_fields"),
    ("thread_id=a.b", "invalid_fields"),
])
async def test_bad_cursors_are_refused(platform, people, query, code):
    group_id = await chat_group(platform, people, members=("anna",))
    r = await call(platform, people["anna"][1], "GET", f"/v1/groups/{group_id}/messages?{query}")
    assert r.status_code == 422 and r.json()["code"] == code, r.text


async def test_pages_go_both_ways_and_show_every_message_once(platform, people):
    _, anna = people["anna"]
    group_id = await chat_group(platform, people, members=("anna",))
    sent = [await post(platform, anna, group_id, f"№{i}") for i in range(7)]
    newest = await ok(platform, anna, "GET", f"/v1/groups/{group_id}/messages?limit=3")
    assert [m["message_id"] for m in newest["items"]] == sent[-3:] and newest["after"] is None
    seen, cursor = list(newest["items"]), newest["before"]
    while cursor is not None:
        page = await ok(platform, anna, "GET", f"/v1/groups/{group_id}/messages?limit=3&before={cursor}")
        seen = page["items"] + seen
        cursor = page["before"]
    assert [m["message_id"] for m in seen] == sent
    forward, cursor = [], 0
    while cursor is not None:
        page = await ok(platform, anna, "GET", f"/v1/groups/{group_id}/messages?limit=2&after={cursor}")
        forward += page["items"]
        cursor = page["after"]
    assert [m["message_id"] for m in forward] == sent


async def test_threads_count_apart_and_only_for_those_who_follow_them(platform, people):
    _, anna = people["anna"]
    _, boris = people["boris"]
    coordinator = people["coordinator"][1]
    group_id = await chat_group(platform, people)
    root = await post(platform, anna, group_id, "Ветка")
    await ok(platform, boris, "PUT", f"/v1/groups/{group_id}/read",
             {"up_to": (await ok(platform, boris, "GET", f"/v1/groups/{group_id}/messages"))["items"][-1]["position"]})
    await post(platform, coordinator, group_id, "Ответ 1", thread_id=root)
    # Boris follows no thread: a reply he was not part of does not count; Anna began it: it does
    assert (await unread_of(platform, boris, group_id))["unread"] == 0
    assert (await unread_of(platform, anna, group_id))["unread"] == 1
    await post(platform, boris, group_id, "Я тоже", thread_id=root)
    await post(platform, coordinator, group_id, "Ответ 2", thread_id=root)
    assert (await unread_of(platform, boris, group_id))["unread"] == 1
    shown = (await ok(platform, boris, "GET", f"/v1/groups/{group_id}/messages"))["items"][0]
    assert shown["replies"] == 3 and shown["unread_replies"] == 1
    # a reply to a reply is refused: a thread is one level
    reply = (await ok(platform, boris, "GET", f"/v1/groups/{group_id}/messages?thread_id={root}"))["items"][0]
    r = await call(platform, boris, "POST", f"/v1/groups/{group_id}/messages",
                   {"text": "Глубже", "thread_id": reply["message_id"]})
    assert r.status_code == 404 and r.json()["code"] == "thread_not_found", r.text


async def test_leaving_the_group_ends_its_chat_for_the_member(platform, people):
    _, anna = people["anna"]
    _, boris = people["boris"]
    group_id = await chat_group(platform, people)
    start = int((await read_stream(platform, boris, None, 0.2))[0]["id"])
    await ok(platform, boris, "POST", f"/v1/groups/{group_id}/leave")
    await post(platform, anna, group_id, "Уже без Бориса")
    assert (await call(platform, boris, "GET", f"/v1/groups/{group_id}/messages")).status_code == 403
    events = [e for e in await read_stream(platform, boris, start, 0.4) if e["event"] != "ready"]
    assert events == []
    # an archive is read, never written
    await ok(platform, people["coordinator"][1], "POST", f"/v1/groups/{group_id}/archive")
    r = await call(platform, anna, "POST", f"/v1/groups/{group_id}/messages", {"text": "Поздно"})
    assert r.status_code == 409 and r.json()["code"] == "group_archived", r.text
    assert (await ok(platform, anna, "GET", f"/v1/groups/{group_id}/messages"))["items"][0]["text"] == "Уже без Бориса"


async def test_the_same_message_sent_twice_with_one_key_is_one(platform, people):
    _, anna = people["anna"]
    group_id = await chat_group(platform, people)
    answers, key = [], f"chat-{uuid.uuid4().hex}"
    async with platform.client(anna) as c:
        for _ in range(2):
            answers.append(await c.post(f"/v1/groups/{group_id}/messages", json={"text": "Один раз"},
                                        headers={"Idempotency-Key": key}))
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json() and answers[1].headers.get("idempotent-replayed") == "true"
    await settle(platform)
    assert len((await ok(platform, anna, "GET", f"/v1/groups/{group_id}/messages"))["items"]) == 1


async def test_a_stream_position_that_was_never_given_is_a_reset_and_garbage_is_refused(platform, people):
    _, anna = people["anna"]
    events = await read_stream(platform, anna, 2**50, 0.2)
    assert [e["event"] for e in events][:2] == ["ready", "reset"]
    async with platform.client(anna) as c:
        r = await c.get("/v1/stream?max_seconds=0.2", headers={"Last-Event-ID": "12abc"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_last_event_id", r.text
    async with platform.client() as c:
        assert (await c.get("/v1/stream?max_seconds=0.2")).status_code == 401
