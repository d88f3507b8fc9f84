"""The tasks' read model: each task as a document (its checklist inside it), who is assigned to what (for
"my tasks" across groups), and the comments.

A deleted task keeps a tombstone (``deleted: true``): the queries skip it, and the assignment policy,
which reads a task after the view has applied its event, can tell a task deleted since from a view that
is behind. Once an author is erased (``AuthorErased``), their comments read ``text: null, author_id:
null`` and they are no longer anyone's assignee or creator here — in log order, so a rebuild writes
what the live run wrote."""

from __future__ import annotations

from typing import Any

from libs.contracts import groups as g
from libs.contracts import tasks as t
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Recorded
from libs.kit.projection import View
from libs.kit.service import Service
from services.groups.chat_projections import _plain

TASKS = "tasks"
TASK_ASSIGNEES = "task_assignees"
TASK_COMMENTS = "task_comments"
#: the read model the tasks' queries and the assignment policy read
TASKS_VIEW = "tasks"
COLLECTIONS = [TASKS, TASK_ASSIGNEES, TASK_COMMENTS]


def assignment_key(task_id: str, member_id: str) -> str:
    return f"{task_id}:{member_id}"


async def _assign(view: View, task: dict, now: list[str]) -> None:
    """The task's assignment rows follow its assignees."""
    for member_id in set(task["assignees"]) - set(now):
        await view.delete(TASK_ASSIGNEES, assignment_key(task["task_id"], member_id))
    for member_id in now:
        key = assignment_key(task["task_id"], member_id)
        await view.put(TASK_ASSIGNEES, key, {"key": key, "task_id": task["task_id"], "group_id": task["group_id"],
                                             "member_id": member_id, "position": task["position"]})


async def _forget_author(view: View, member_id: str) -> None:
    for comment in await view.find(TASK_COMMENTS, {"author_id": member_id}):
        await view.put(TASK_COMMENTS, comment["key"], {**_plain(comment), "text": None, "author_id": None})
    for row in await view.find(TASK_ASSIGNEES, {"member_id": member_id}):
        await view.delete(TASK_ASSIGNEES, row["key"])
        task = await view.get(TASKS, row["task_id"])
        if task is not None:
            await view.put(TASKS, task["key"], {**_plain(task),
                                                "assignees": [m for m in task["assignees"] if m != member_id]})
    for task in await view.find(TASKS, {"created_by": member_id}):
        await view.put(TASKS, task["key"], {**_plain(task), "created_by": None})


def register_task_projections(svc: Service) -> None:
    @svc.projection(TASKS_VIEW, [events_of("groups")], COLLECTIONS, types=(g.AuthorErased, *t.TASK_EVENTS))
    async def when_task_changed_update_tasks(rec: Recorded, view: View) -> None:  # noqa: C901 — one case per event
        e = rec.event
        at = rec.envelope.occurred_at.isoformat()
        if isinstance(e, g.AuthorErased):
            await _forget_author(view, e.member_id)
            return
        task: dict[str, Any]
        if isinstance(e, t.TaskCreated):
            task = {"key": e.task_id, "task_id": e.task_id, "group_id": e.group_id, "title": e.title,
                    "description": e.description, "status": "todo", "assignees": [], "due":
                    e.due.isoformat() if e.due else None, "created_by": e.created_by, "created_at": at,
                    "updated_at": at, "position": rec.seq, "checklist": [], "comments": 0, "deleted": False}
            await _assign(view, task, list(e.assignees))
            await view.put(TASKS, e.task_id, {**task, "assignees": list(e.assignees)})
            return
        if not isinstance(e, t.TASK_EVENTS):
            return
        found = await view.get(TASKS, e.task_id)
        if found is None:
            return  # its creation is not in this log: nothing to change
        task = {**_plain(found), "updated_at": at}
        match e:
            case t.TaskEdited():
                task |= {"title": e.title, "description": e.description}
            case t.TaskAssigneesChanged():
                await _assign(view, task, list(e.assignees))
                task["assignees"] = list(e.assignees)
            case t.TaskDueDateSet():
                task["due"] = e.due.isoformat() if e.due else None
            case t.TaskStatusChanged():
                task["status"] = e.status
            case t.ChecklistItemAdded():
                task["checklist"] = [*task["checklist"], {"item_id": e.item_id, "text": e.text, "checked": False}]
            case t.ChecklistItemChecked() | t.ChecklistItemUnchecked():
                checked = isinstance(e, t.ChecklistItemChecked)
                task["checklist"] = [{**i, "checked": checked} if i["item_id"] == e.item_id else i
                                     for i in task["checklist"]]
            case t.ChecklistItemRemoved():
                task["checklist"] = [i for i in task["checklist"] if i["item_id"] != e.item_id]
            case t.TaskCommented():
                await view.put(TASK_COMMENTS, e.comment_id, {
                    "key": e.comment_id, "comment_id": e.comment_id, "task_id": e.task_id, "group_id": e.group_id,
                    "author_id": e.author_id, "text": e.text, "position": rec.seq, "posted_at": at})
                task["comments"] += 1
            case t.TaskDeleted():
                await _assign(view, task, [])
                for comment in await view.find(TASK_COMMENTS, {"task_id": e.task_id}):
                    await view.delete(TASK_COMMENTS, comment["key"])
                task |= {"deleted": True, "assignees": [], "checklist": []}
        await view.put(TASKS, e.task_id, task)
