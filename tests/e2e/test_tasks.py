"""A working group's tasks end to end: real HTTP, NATS JetStream and SQLite — as someone trying to break
them: outsiders, wrong roles, strangers as assignees, bad input, repeats, races, dates, erasure."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, timedelta

import pytest

from services.groups.task_queries import today
from tests.e2e.helpers import log_position, settle
from tests.e2e.journey import make_member
from tests.e2e.test_chat import chat_group, people, read_stream
from tests.e2e.test_working_groups import call, ok
from tests.platform_harness import Platform


def tasks_of(group_id: str) -> str:
    return f"/v1/groups/{group_id}/tasks"


__all__ = ["people"]  # the chat's module-scoped fixture: the same cast, made again for this module


async def new_task(p: Platform, token: str, group_id: str, title: str = "Сценарий игры", **body) -> str:
    return (await ok(p, token, "POST", tasks_of(group_id), {"title": title, **body}))["task_id"]


async def test_members_plan_a_task_with_assignees_checklist_comments_and_a_board(platform, people):
    anna_id, anna = people["anna"]
    boris_id, boris = people["boris"]
    group_id = await chat_group(platform, people)
    due = (today() + timedelta(days=7)).isoformat()
    task_id = await new_task(platform, anna, group_id, description="Черновик к пятнице", assignees=[boris_id],
                             due=due)
    got = await ok(platform, boris, "GET", f"{tasks_of(group_id)}/{task_id}")
    assert (got["title"], got["description"], got["status"], got["due"], got["overdue"]) == (
        "Сценарий игры", "Черновик к пятнице", "todo", due, False)
    assert [a["member_id"] for a in got["assignees"]] == [boris_id] and got["assignees"][0]["display_name"]
    assert got["created_by"] == anna_id and got["may_write"] and not got["may_delete"]
    # the checklist: add, check, uncheck, remove — each twice is once
    item = (await ok(platform, boris, "POST", f"{tasks_of(group_id)}/{task_id}/checklist", {"text": "Зал"}))["item_id"]
    other = (await ok(platform, anna, "POST", f"{tasks_of(group_id)}/{task_id}/checklist",
                      {"text": "Раздатка"}))["item_id"]
    for _ in range(2):
        await ok(platform, boris, "PUT", f"{tasks_of(group_id)}/{task_id}/checklist/{item}", {"checked": True})
    got = await ok(platform, anna, "GET", f"{tasks_of(group_id)}/{task_id}")
    assert [(i["text"], i["checked"]) for i in got["checklist"]] == [("Зал", True), ("Раздатка", False)]
    assert (got["checklist_done"], got["checklist_total"]) == (1, 2)
    await ok(platform, boris, "PUT", f"{tasks_of(group_id)}/{task_id}/checklist/{item}", {"checked": False})
    for _ in range(2):
        await ok(platform, anna, "DELETE", f"{tasks_of(group_id)}/{task_id}/checklist/{other}")
    got = await ok(platform, anna, "GET", f"{tasks_of(group_id)}/{task_id}")
    assert [(i["text"], i["checked"]) for i in got["checklist"]] == [("Зал", False)]
    r = await call(platform, anna, "PUT", f"{tasks_of(group_id)}/{task_id}/checklist/{other}", {"checked": True})
    assert r.status_code == 404 and r.json()["code"] == "checklist_item_not_found", r.text
    # comments, with their authors' names
    await ok(platform, boris, "POST", f"{tasks_of(group_id)}/{task_id}/comments", {"text": "Зал забронирую"})
    got = await ok(platform, anna, "GET", f"{tasks_of(group_id)}/{task_id}")
    assert [(c["author_id"], c["text"]) for c in got["comment_list"]] == [(boris_id, "Зал забронирую")]
    assert got["comment_list"][0]["author_name"] and got["comments"] == 1
    # edit, due date, assignees, status: the board shows it in its new column
    await ok(platform, boris, "PUT", f"{tasks_of(group_id)}/{task_id}", {"title": "Сценарий игры v2"})
    await ok(platform, boris, "PUT", f"{tasks_of(group_id)}/{task_id}/due", {"due": None})
    await ok(platform, boris, "PUT", f"{tasks_of(group_id)}/{task_id}/assignees", {"assignees": [boris_id, anna_id]})
    await ok(platform, boris, "PUT", f"{tasks_of(group_id)}/{task_id}/status", {"status": "in_progress"})
    board = await ok(platform, anna, "GET", tasks_of(group_id))
    assert [(s["task_id"], s["title"], s["status"], s["due"]) for s in board["items"]] == [
        (task_id, "Сценарий игры v2", "in_progress", None)]
    assert [s["task_id"] for s in (await ok(platform, anna, "GET", tasks_of(group_id) + "?status=todo"))["items"]] == []
    assert [a["member_id"] for a in board["items"][0]["assignees"]] == [boris_id, anna_id]
    # my tasks, across groups: done ones only when asked
    mine = await ok(platform, anna, "GET", "/v1/me/tasks")
    assert [(s["task_id"], s["group_id"], s["group_title"] != "") for s in mine["items"]] == [(task_id, group_id, True)]
    await ok(platform, anna, "PUT", f"{tasks_of(group_id)}/{task_id}/status", {"status": "done"})
    assert (await ok(platform, anna, "GET", "/v1/me/tasks"))["items"] == []
    assert [s["task_id"] for s in (await ok(platform, anna, "GET", "/v1/me/tasks?include_done=true"))["items"]] == [
        task_id]


async def test_a_non_member_reads_and_writes_nothing_of_a_members_only_groups_tasks(platform, people):
    _, outsider = people["outsider"]
    anna_id, anna = people["anna"]
    group_id = await chat_group(platform, people)
    task_id = await new_task(platform, anna, group_id, assignees=[anna_id])
    item = (await ok(platform, anna, "POST", f"{tasks_of(group_id)}/{task_id}/checklist", {"text": "Зал"}))["item_id"]
    before = await log_position(platform)
    for url in (tasks_of(group_id), f"{tasks_of(group_id)}/{task_id}"):
        r = await call(platform, outsider, "GET", url)
        assert r.status_code == 403 and r.json()["code"] == "group_content_members_only", r.text
    base = f"{tasks_of(group_id)}/{task_id}"
    for method, url, body in (
            ("POST", tasks_of(group_id), {"title": "Чужая задача"}),
            ("PUT", base, {"title": "Чужая правка"}),
            ("PUT", f"{base}/status", {"status": "done"}),
            ("PUT", f"{base}/assignees", {"assignees": []}),
            ("PUT", f"{base}/due", {"due": "2030-01-01"}),
            ("POST", f"{base}/checklist", {"text": "Чужой пункт"}),
            ("PUT", f"{base}/checklist/{item}", {"checked": True}),
            ("DELETE", f"{base}/checklist/{item}", None),
            ("POST", f"{base}/comments", {"text": "Можно к вам?"}),
            ("DELETE", base, None)):
        r = await call(platform, outsider, method, url, body)
        assert r.status_code == 403 and r.json()["code"] in ("group_members_only", "not_your_task"), (url, r.text)
    assert (await ok(platform, outsider, "GET", "/v1/me/tasks"))["items"] == []
    await settle(platform)
    assert await log_position(platform) == before
    # a group hidden from them does not exist for them
    await ok(platform, people["coordinator"][1], "PUT", f"/v1/groups/{group_id}/settings",
             {"visibility": "members", "content": "members", "joining": "open"})
    for method, url, body in (("GET", tasks_of(group_id), None), ("GET", base, None),
                              ("POST", tasks_of(group_id), {"title": "Чужая задача"}),
                              ("PUT", f"{base}/status", {"status": "done"})):
        r = await call(platform, outsider, method, url, body)
        assert r.status_code == 404 and r.json()["code"] == "group_not_found", r.text
    # a moderator reads them (and may remove one), as in the chat
    assert (await ok(platform, people["moderator"][1], "GET", base))["may_delete"]


async def test_only_the_creator_coordinators_and_moderators_delete_and_twice_is_once(platform, people):
    _, anna = people["anna"]
    _, boris = people["boris"]
    group_id = await chat_group(platform, people)
    task_id = await new_task(platform, anna, group_id)
    r = await call(platform, boris, "DELETE", f"{tasks_of(group_id)}/{task_id}")
    assert r.status_code == 403 and r.json()["code"] == "not_your_task", r.text
    assert "автор" in r.json()["title"]
    for _ in range(2):
        await ok(platform, people["coordinator"][1], "DELETE", f"{tasks_of(group_id)}/{task_id}")
    r = await call(platform, anna, "GET", f"{tasks_of(group_id)}/{task_id}")
    assert r.status_code == 404 and r.json()["code"] == "task_not_found", r.text
    r = await call(platform, anna, "PUT", f"{tasks_of(group_id)}/{task_id}/status", {"status": "done"})
    assert r.status_code == 404 and r.json()["code"] == "task_not_found", r.text
    assert (await ok(platform, anna, "GET", tasks_of(group_id)))["items"] == []
    mine = await new_task(platform, boris, group_id)
    await ok(platform, boris, "DELETE", f"{tasks_of(group_id)}/{mine}")
    moderated = await new_task(platform, boris, group_id)
    await ok(platform, people["moderator"][1], "DELETE", f"{tasks_of(group_id)}/{moderated}")
    # a task of another group is not this group's
    elsewhere = await chat_group(platform, people)
    other = await new_task(platform, anna, elsewhere)
    r = await call(platform, anna, "GET", f"{tasks_of(group_id)}/{other}")
    assert r.status_code == 404 and r.json()["code"] == "task_not_found", r.text


async def test_assigning_someone_outside_the_group_is_refused_in_russian_and_english(platform, people):
    _, anna = people["anna"]
    outsider_id, _ = people["outsider"]
    group_id = await chat_group(platform, people)
    task_id = await new_task(platform, anna, group_id)
    before = await log_position(platform)
    r = await call(platform, anna, "POST", tasks_of(group_id), {"title": "Ещё", "assignees": [outsider_id]})
    assert r.status_code == 409 and r.json()["code"] == "assignee_not_a_member", r.text
    assert r.headers["content-language"] == "ru" and "участнику группы" in r.json()["title"]
    async with platform.client(anna) as c:
        r = await c.put(f"{tasks_of(group_id)}/{task_id}/assignees", json={"assignees": [outsider_id]},
                        headers={"Accept-Language": "en"})
    assert r.status_code == 409 and r.json()["code"] == "assignee_not_a_member", r.text
    assert r.headers["content-language"] == "en" and "member of the group" in r.json()["title"]
    await settle(platform)
    assert await log_position(platform) == before


@pytest.mark.parametrize("url,body,code", [
    ("", {"title": "x" * 201}, "invalid_fields"),
    ("", {"title": "   "}, "invalid_fields"),
    ("", {"title": ""}, "invalid_fields"),
    ("", {}, "invalid_fields"),
    ("", {"title": "ok\u202e"}, "invalid_fields"),
    ("", {"title": "ok", "due": "0001-01-01"}, "invalid_fields"),
    ("", {"title": "ok", "due": "завтра"}, "invalid_fields"),
    ("", {"title": "ok", "assignees": ["*"]}, "invalid_fields"),
    ("", {"title": "ok", "assignees": [f"m{i}" for i in range(21)]}, "invalid_fields"),
    ("", {"title": "ok", "extra": 1}, "invalid_fields"),
    ("", {"title": "ok", "description": "x" * 4001}, "invalid_fields"),
    ("/TASK/status", {"status": "archived"}, "invalid_fields"),
    ("/TASK/status", {"status": "done", "from_status": "later"}, "invalid_fields"),
    ("/TASK/checklist", {"text": " "}, "invalid_fields"),
    ("/TASK/comments", {"text": "x" * 4001}, "invalid_fields"),
    ("/nope/status", {"status": "done"}, "task_not_found"),
    ("/TASK/checklist/nope", {"checked": True}, "checklist_item_not_found"),
])
async def test_bad_input_is_refused_in_russian_and_changes_nothing(platform, people, url, body, code):
    _, anna = people["anna"]
    group_id = await chat_group(platform, people)
    task_id = await new_task(platform, anna, group_id)
    before = await log_position(platform)
    method = "POST" if url in ("", "/TASK/checklist", "/TASK/comments") else "PUT"
    r = await call(platform, anna, method, tasks_of(group_id) + url.replace("TASK", task_id), body)
    assert r.status_code in (404, 422) and r.json()["code"] == code, r.text
    assert r.headers["content-language"] == "ru"
    await settle(platform)
    assert await log_position(platform) == before


async def test_the_same_task_sent_twice_with_one_key_is_one(platform, people):
    _, anna = people["anna"]
    group_id = await chat_group(platform, people)
    answers, key = [], f"task-{uuid.uuid4().hex}"
    async with platform.client(anna) as c:
        for _ in range(2):
            answers.append(await c.post(tasks_of(group_id), json={"title": "Один раз"},
                                        headers={"Idempotency-Key": key}))
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json() and answers[1].headers.get("idempotent-replayed") == "true"
    await settle(platform)
    assert len((await ok(platform, anna, "GET", tasks_of(group_id)))["items"]) == 1


async def test_two_members_moving_one_card_at_once_one_wins_the_other_is_told(platform, people):
    _, anna = people["anna"]
    _, boris = people["boris"]
    group_id = await chat_group(platform, people)
    for _ in range(3):
        task_id = await new_task(platform, anna, group_id)
        url = f"{tasks_of(group_id)}/{task_id}/status"
        answers = await asyncio.gather(
            call(platform, anna, "PUT", url, {"status": "in_progress", "from_status": "todo"}),
            call(platform, boris, "PUT", url, {"status": "done", "from_status": "todo"}))
        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 409], [a.text for a in answers]
        won = next(a for a in answers if a.status_code == 200).json()["status"]
        lost = next(a for a in answers if a.status_code == 409).json()
        assert lost["code"] == "task_moved_meanwhile", lost
        await settle(platform)
        assert (await ok(platform, anna, "GET", f"{tasks_of(group_id)}/{task_id}"))["status"] == won
    # without from_status both land, one after the other, and nothing is lost
    task_id = await new_task(platform, anna, group_id)
    url = f"{tasks_of(group_id)}/{task_id}/status"
    answers = await asyncio.gather(call(platform, anna, "PUT", url, {"status": "done"}),
                                   call(platform, boris, "PUT", url, {"status": "done"}))
    assert [a.status_code for a in answers] == [200, 200]
    await settle(platform)
    assert (await ok(platform, anna, "GET", f"{tasks_of(group_id)}/{task_id}"))["status"] == "done"


async def test_overdue_is_marked_until_done_and_not_before_the_day_has_passed(platform, people):
    anna_id, anna = people["anna"]
    group_id = await chat_group(platform, people)
    day = today()
    late = await new_task(platform, anna, group_id, "Просрочена", assignees=[anna_id],
                          due=(day - timedelta(days=1)).isoformat())
    due_today = await new_task(platform, anna, group_id, "Сегодня", assignees=[anna_id], due=day.isoformat())
    undated = await new_task(platform, anna, group_id, "Без срока", assignees=[anna_id])
    board = {s["task_id"]: s["overdue"] for s in (await ok(platform, anna, "GET", tasks_of(group_id)))["items"]}
    assert board == {late: True, due_today: False, undated: False}
    assert (await ok(platform, anna, "GET", f"{tasks_of(group_id)}/{late}"))["overdue"] is True
    mine = [s for s in (await ok(platform, anna, "GET", "/v1/me/tasks"))["items"] if s["group_id"] == group_id]
    assert [(s["task_id"], s["overdue"]) for s in mine] == [(late, True), (due_today, False), (undated, False)]
    await ok(platform, anna, "PUT", f"{tasks_of(group_id)}/{late}/status", {"status": "done"})
    assert (await ok(platform, anna, "GET", f"{tasks_of(group_id)}/{late}"))["overdue"] is False
    await ok(platform, anna, "PUT", f"{tasks_of(group_id)}/{late}/status", {"status": "todo"})
    assert (await ok(platform, anna, "GET", f"{tasks_of(group_id)}/{late}"))["overdue"] is True


async def test_an_assignee_is_told_on_their_stream_exactly_once(platform, people):
    anna_id, anna = people["anna"]
    boris_id, boris = people["boris"]
    group_id = await chat_group(platform, people)
    boris_start = int((await read_stream(platform, boris, None, 0.2))[0]["id"])
    anna_start = int((await read_stream(platform, anna, None, 0.2))[0]["id"])
    due = (date.today() + timedelta(days=3)).isoformat()
    task_id = await new_task(platform, anna, group_id, "Раздатка", assignees=[boris_id, anna_id], due=due)
    # the same assignees again, a status change, and a replay of the policy tell nobody anew
    await ok(platform, anna, "PUT", f"{tasks_of(group_id)}/{task_id}/assignees", {"assignees": [anna_id, boris_id]})
    await ok(platform, anna, "PUT", f"{tasks_of(group_id)}/{task_id}/status", {"status": "in_progress"})
    runner = next(r for r in platform.services["groups"].runners if r.c.name == "task_assignments_stream")
    await runner.replay()
    await settle(platform)
    told = [e["data"] for e in await read_stream(platform, boris, boris_start, 0.5) if e["event"] == "task_assigned"]
    assert len(told) == 1, told
    assert (told[0]["task_id"], told[0]["group_id"], told[0]["title"], told[0]["due"]) == (
        task_id, group_id, "Раздатка", due)
    # one who assigned themselves is not told; one removed and added again is told again
    assert [e for e in await read_stream(platform, anna, anna_start, 0.5) if e["event"] == "task_assigned"] == []
    await ok(platform, anna, "PUT", f"{tasks_of(group_id)}/{task_id}/assignees", {"assignees": [anna_id]})
    await ok(platform, anna, "PUT", f"{tasks_of(group_id)}/{task_id}/assignees", {"assignees": [boris_id]})
    told = [e["data"] for e in await read_stream(platform, boris, boris_start, 0.5) if e["event"] == "task_assigned"]
    assert [x["task_id"] for x in told] == [task_id, task_id]


async def test_an_erased_commenters_words_are_gone_from_the_api_and_a_rebuild(platform, people):
    admin = people["admin"][1]
    _, boris = people["boris"]
    doomed_id, _, doomed = await make_member(platform, admin)
    await settle(platform)
    group_id = await chat_group(platform, people)
    await ok(platform, doomed, "POST", f"/v1/groups/{group_id}/join", {})
    task_id = await new_task(platform, boris, group_id, "Общее дело", assignees=[doomed_id])
    await ok(platform, doomed, "POST", f"{tasks_of(group_id)}/{task_id}/comments", {"text": "Секрет уходящего"})
    await ok(platform, boris, "POST", f"{tasks_of(group_id)}/{task_id}/comments", {"text": "Ответ остаётся"})
    own = await new_task(platform, doomed, group_id, "Задача уходящего")
    await ok(platform, admin, "DELETE", f"/v1/members/{doomed_id}")
    await settle(platform)

    async def check() -> dict:
        got = await ok(platform, boris, "GET", f"{tasks_of(group_id)}/{task_id}")
        assert [(c["author_id"], c["author_name"], c["text"]) for c in got["comment_list"]][0] == (None, None, None)
        assert [c["text"] for c in got["comment_list"]][1] == "Ответ остаётся"
        assert got["assignees"] == []
        assert "секрет" not in json.dumps(got, ensure_ascii=False).lower()
        assert (await ok(platform, boris, "GET", f"{tasks_of(group_id)}/{own}"))["created_by"] is None
        return got

    live = await check()
    groups = platform.services["groups"]
    runner = next(r for r in groups.runners if r.c.name == "tasks")
    await runner.rebuild()
    await settle(platform)
    assert await check() == live
