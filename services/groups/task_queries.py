"""Reading tasks: a group's tasks (a board groups them by status), one task with its checklist and
comments, and the caller's own tasks across every group they are assigned in.

Who may read a group's tasks is decided on the group's aggregate, as for its chat (``content_readable``):
its members, the moderators, and the Main group when the group opens its content to it; anyone else is
refused (403), and a group hidden from them does not exist for them (404). ``overdue`` is computed as the
answer is read: the due date has passed in the community's time zone and the task is not done."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from libs.contracts import tasks as t
from libs.contracts.errors import NotFound
from libs.contracts.groups import membership_id
from libs.kit.rpc import Context
from libs.kit.service import Service
from services.groups.chat_queries import content_readable
from services.groups.handlers import signed_in
from services.groups.projections import DIRECTORY, GROUPS, MEMBERS
from services.groups.task_projections import TASK_ASSIGNEES, TASK_COMMENTS, TASKS, TASKS_VIEW

#: the community's day: a task due on a date is overdue from the next midnight in Yekaterinburg
COMMUNITY_ZONE = ZoneInfo("Asia/Yekaterinburg")
VIEWS = [TASKS_VIEW, "groups", "directory"]


def today() -> date:
    return datetime.now(COMMUNITY_ZONE).date()


def is_overdue(doc: dict, on: date) -> bool:
    return bool(doc.get("due")) and doc["status"] != "done" and date.fromisoformat(doc["due"]) < on


def register_task_queries(svc: Service) -> None:
    async def name_of(member_id: str | None) -> str | None:
        doc = await svc.store.get(DIRECTORY, member_id) if member_id else None
        return doc["display_name"] if doc else None

    async def summary_fields(doc: dict, on: date, group_title: str | None = None) -> dict:
        if group_title is None:
            group = await svc.store.get(GROUPS, doc["group_id"])
            group_title = group.get("title", "") if group else ""
        checklist = doc["checklist"]
        return {
            "task_id": doc["task_id"], "group_id": doc["group_id"], "group_title": group_title,
            "title": doc["title"], "status": doc["status"],
            "assignees": tuple([t.TaskPerson(member_id=m, display_name=await name_of(m)) for m in doc["assignees"]]),
            "due": doc["due"], "overdue": is_overdue(doc, on), "checklist_done": sum(1 for i in checklist
                                                                                   if i["checked"]),
            "checklist_total": len(checklist), "comments": doc["comments"], "created_by": doc["created_by"],
            "created_at": doc["created_at"], "updated_at": doc["updated_at"]}

    async def task_of(group_id: str, task_id: str) -> dict:
        doc = await svc.store.get(TASKS, task_id)
        if doc is None or doc["group_id"] != group_id or doc["deleted"]:
            raise NotFound("task_not_found")
        return doc

    @svc.query(t.ListTasks, reads=VIEWS)
    async def list_tasks(q: t.ListTasks, ctx: Context) -> t.TaskList:
        signed_in(ctx)
        await content_readable(svc, q.group_id, ctx)
        where: dict = {"group_id": q.group_id, "deleted": False}
        if q.status is not None:
            where["status"] = q.status
        rows = await svc.store.find(TASKS, where, sort=[("position", 1)], limit=q.limit)
        if q.assignee is not None:
            rows = [r for r in rows if q.assignee in r["assignees"]]
        group = await svc.store.get(GROUPS, q.group_id)
        title = group.get("title", "") if group else ""
        on = today()
        return t.TaskList(items=tuple([t.TaskSummary(**await summary_fields(r, on, title)) for r in rows]))

    @svc.query(t.GetTask, reads=VIEWS)
    async def get_task(q: t.GetTask, ctx: Context) -> t.TaskView:
        signed_in(ctx)
        member = await content_readable(svc, q.group_id, ctx)
        doc = await task_of(q.group_id, q.task_id)
        group = await svc.store.get(GROUPS, q.group_id) or {}
        comments = await svc.store.find(TASK_COMMENTS, {"task_id": q.task_id}, sort=[("position", 1)], limit=1000)
        me = ctx.actor.id
        coordinating = me in (group.get("coordinators") or ())
        return t.TaskView(
            **await summary_fields(doc, today(), group.get("title", "")), description=doc["description"],
            checklist=tuple(t.ChecklistItemView(**i) for i in doc["checklist"]),
            comment_list=tuple([t.TaskCommentView(
                comment_id=c["comment_id"], author_id=c["author_id"], author_name=await name_of(c["author_id"]),
                text=c["text"], posted_at=c["posted_at"]) for c in comments]),
            may_write=member and group.get("status") == "active",
            may_delete=ctx.actor.is_moderator or (member and (coordinating or doc["created_by"] == me)))

    @svc.query(t.ListMyTasks, reads=VIEWS)
    async def list_my_tasks(q: t.ListMyTasks, ctx: Context) -> t.TaskList:
        """Only the groups the caller is still a member of (one who left keeps no window on its tasks)."""
        signed_in(ctx)
        me = ctx.actor.id
        on = today()
        items = []
        for row in await svc.store.find(TASK_ASSIGNEES, {"member_id": me}, sort=[("position", 1)], limit=2000):
            if await svc.store.get(MEMBERS, membership_id(row["group_id"], me)) is None:
                continue
            doc = await svc.store.get(TASKS, row["task_id"])
            if doc is None or doc["deleted"] or (doc["status"] == "done" and not q.include_done):
                continue
            items.append(t.TaskSummary(**await summary_fields(doc, on)))
            if len(items) >= q.limit:
                break
        # the overdue first, then by due date (none last), then oldest first
        items.sort(key=lambda s: (not s.overdue, s.due is None, s.due or date.max))
        return t.TaskList(items=tuple(items))
