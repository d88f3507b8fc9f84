"""A working group's tasks: the board (/groups/{id}/tasks, three columns by status; a card moves to
another column by a button — a form, with CSRF), one task (/groups/{id}/tasks/{task_id}: checklist,
comments, assignees, due date, status, editing, deletion) and the member's own tasks across groups
(/tasks, the overdue marked first).

Each page is a call or two of the gateway's public API (/v1/groups/{id}/tasks..., /v1/me/tasks) and a
template: the API decides who may see and do what, a page only leaves out the buttons that would
certainly be refused. A card moved from a column carries where it was (``from_status``): if someone moved
it meanwhile, the board says so rather than moving it again.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from services.web.context import Ctx, Form, Page
from services.web.gateway import Answer
from services.web.pages import ID, _refused, _sign_in_first, _text

router = APIRouter(include_in_schema=False)

STATUSES = ("todo", "in_progress", "done")
_MEMBER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: what a form field may hold before it reaches the API (a longer one is refused there, and kept in the form)
TITLE_LIMIT, TEXT_LIMIT = 1000, 10_000


def _board_url(group_id: str) -> str:
    return f"/groups/{group_id}/tasks"


def _task_url(group_id: str, task_id: str) -> str:
    return f"/groups/{group_id}/tasks/{task_id}"


def _people(group: dict) -> list[dict]:
    """The group's members one may assign (those whose names the page knows)."""
    return [p for p in group.get("members") or () if p.get("member_id")]


def _card(ctx: Ctx, task: dict) -> dict:
    me = ctx.session.member_id
    return {**task, "mine": any(a["member_id"] == me for a in task.get("assignees") or ()),
            "moves": [s for s in STATUSES if s != task["status"]]}


def _assignees(ctx: Ctx) -> list[str]:
    return [m for m in dict.fromkeys(ctx.form_lists.get("assignees", [])) if _MEMBER.match(m)][:50]


def _due(ctx: Ctx) -> str | None:
    value = _text(ctx, "due", 20)
    return value or None


async def _board(ctx: Ctx, group_id: str, *, status: int = 200, error: str | None = None,
                 errors: dict | None = None, values: dict | None = None) -> Response:
    group_answer, tasks_answer = await asyncio.gather(ctx.api("GET", f"/v1/groups/{group_id}"),
                                                      ctx.api("GET", f"/v1/groups/{group_id}/tasks"))
    if not group_answer.ok:
        return await _refused(ctx, group_answer)
    if not tasks_answer.ok:
        return await _refused(ctx, tasks_answer)
    group = group_answer.body
    cards = [_card(ctx, t) for t in tasks_answer.body["items"]]
    columns = [{"status": s, "cards": [c for c in cards if c["status"] == s]} for s in STATUSES]
    writable = bool(group.get("is_member")) and group.get("status") == "active"
    return await ctx.render("task_board.html", status=status, group=group, columns=columns, writable=writable,
                            people=_people(group), error=error, errors=errors or {}, values=values or {})


async def _task(ctx: Ctx, group_id: str, task_id: str, *, status: int = 200, error: str | None = None,
                values: dict | None = None) -> Response:
    group_answer, task_answer = await asyncio.gather(ctx.api("GET", f"/v1/groups/{group_id}"),
                                                     ctx.api("GET", f"/v1/groups/{group_id}/tasks/{task_id}"))
    if not group_answer.ok:
        return await _refused(ctx, group_answer)
    if not task_answer.ok:
        return await _refused(ctx, task_answer)
    task = task_answer.body
    comments = [{**c, "when": ctx.when(c.get("posted_at"))} for c in task["comment_list"]]
    return await ctx.render("task.html", status=status, group=group_answer.body, task=_card(ctx, task),
                            comments=comments, people=_people(group_answer.body),
                            assigned={a["member_id"] for a in task["assignees"]}, error=error, values=values or {},
                            statuses=STATUSES)


async def _after(ctx: Ctx, answer: Answer, group_id: str, task_id: str | None, done: str | None = None,
                 **values: Any) -> Response:
    """Where a form goes next: back to the board or the task, or the page again with what was refused."""
    on_board = task_id is None or _text(ctx, "back", 10) == "board"
    if answer.ok:
        if done:
            ctx.session.say("ok", done)
        return ctx.redirect(_board_url(group_id) if on_board else _task_url(group_id, task_id or ""))
    if answer.status == 401 or answer.status >= 500 or (answer.status == 404 and answer.code == "group_not_found"):
        return await _refused(ctx, answer)
    if answer.status == 404 and task_id is not None and answer.code == "task_not_found":
        return await _board(ctx, group_id, status=404, error=answer.title)
    error = next(iter(answer.field_errors().values()), None) or answer.title
    if on_board:
        return await _board(ctx, group_id, status=answer.status, error=error, values=values)
    return await _task(ctx, group_id, task_id or "", status=answer.status, error=error, values=values)


@router.get("/groups/{group_id}/tasks")
async def board_page(ctx: Page, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _board(ctx, group_id)


@router.post("/groups/{group_id}/tasks")
async def create_task(ctx: Form, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    body: dict[str, Any] = {"title": _text(ctx, "title", TITLE_LIMIT), "description": _text(ctx, "description",
                                                                                         TEXT_LIMIT),
                            "assignees": _assignees(ctx)}
    if due := _due(ctx):
        body["due"] = due
    answer = await ctx.api("POST", f"/v1/groups/{group_id}/tasks", json=body)
    if answer.ok:
        ctx.session.say("ok", "task_created")
        return ctx.redirect(_task_url(group_id, answer.body["task_id"]))
    if answer.status == 401 or answer.status >= 500 or answer.status == 404:
        return await _refused(ctx, answer)
    return await _board(ctx, group_id, status=answer.status, error=answer.title, errors=answer.field_errors(),
                        values={**body, "due": due or ""})


@router.get("/groups/{group_id}/tasks/{task_id}")
async def task_page(ctx: Page, group_id: str = ID(), task_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _task(ctx, group_id, task_id)


@router.post("/groups/{group_id}/tasks/{task_id}/status")
async def move_task(ctx: Form, group_id: str = ID(), task_id: str = ID()) -> Response:
    """A card's button says where it goes and where it was: moved meanwhile by someone else, it stays."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    body = {"status": _text(ctx, "status", 20)}
    if from_status := _text(ctx, "from_status", 20):
        body["from_status"] = from_status
    answer = await ctx.api("PUT", f"/v1/groups/{group_id}/tasks/{task_id}/status", json=body)
    return await _after(ctx, answer, group_id, task_id)


@router.post("/groups/{group_id}/tasks/{task_id}/edit")
async def edit_task(ctx: Form, group_id: str = ID(), task_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    body = {"title": _text(ctx, "title", TITLE_LIMIT), "description": _text(ctx, "description", TEXT_LIMIT)}
    answer = await ctx.api("PUT", f"/v1/groups/{group_id}/tasks/{task_id}", json=body)
    return await _after(ctx, answer, group_id, task_id, "task_saved", **body)


@router.post("/groups/{group_id}/tasks/{task_id}/due")
async def set_due(ctx: Form, group_id: str = ID(), task_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("PUT", f"/v1/groups/{group_id}/tasks/{task_id}/due", json={"due": _due(ctx)})
    return await _after(ctx, answer, group_id, task_id, "task_saved")


@router.post("/groups/{group_id}/tasks/{task_id}/assignees")
async def assign(ctx: Form, group_id: str = ID(), task_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("PUT", f"/v1/groups/{group_id}/tasks/{task_id}/assignees",
                           json={"assignees": _assignees(ctx)})
    return await _after(ctx, answer, group_id, task_id, "task_saved")


@router.post("/groups/{group_id}/tasks/{task_id}/checklist")
async def add_item(ctx: Form, group_id: str = ID(), task_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    text = _text(ctx, "item", TITLE_LIMIT)
    answer = await ctx.api("POST", f"/v1/groups/{group_id}/tasks/{task_id}/checklist", json={"text": text})
    return await _after(ctx, answer, group_id, task_id, item_text=text)


@router.post("/groups/{group_id}/tasks/{task_id}/checklist/{item_id}/check")
async def check_item(ctx: Form, group_id: str = ID(), task_id: str = ID(), item_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("PUT", f"/v1/groups/{group_id}/tasks/{task_id}/checklist/{item_id}",
                           json={"checked": _text(ctx, "checked", 10) != "false"})
    return await _after(ctx, answer, group_id, task_id)


@router.post("/groups/{group_id}/tasks/{task_id}/checklist/{item_id}/remove")
async def remove_item(ctx: Form, group_id: str = ID(), task_id: str = ID(), item_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("DELETE", f"/v1/groups/{group_id}/tasks/{task_id}/checklist/{item_id}")
    return await _after(ctx, answer, group_id, task_id)


@router.post("/groups/{group_id}/tasks/{task_id}/comments")
async def comment(ctx: Form, group_id: str = ID(), task_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    text = _text(ctx, "text", TEXT_LIMIT)
    answer = await ctx.api("POST", f"/v1/groups/{group_id}/tasks/{task_id}/comments", json={"text": text})
    return await _after(ctx, answer, group_id, task_id, comment_text=text)


@router.post("/groups/{group_id}/tasks/{task_id}/delete")
async def delete_task(ctx: Form, group_id: str = ID(), task_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("DELETE", f"/v1/groups/{group_id}/tasks/{task_id}")
    if answer.ok:
        ctx.session.say("ok", "task_deleted")
        return ctx.redirect(_board_url(group_id))
    return await _after(ctx, answer, group_id, task_id)


@router.get("/tasks")
async def my_tasks_page(ctx: Page, done: bool = False) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("GET", "/v1/me/tasks", params={"include_done": "true" if done else "false"})
    if not answer.ok:
        return await _refused(ctx, answer)
    return await ctx.render("task_mine.html", items=[_card(ctx, t) for t in answer.body["items"]], done=done)
