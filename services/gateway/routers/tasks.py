"""A working group's tasks: a board by status, one task with its checklist and comments, and the caller's
own tasks across groups (the overdue marked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict

from libs.contracts import tasks as t
from libs.contracts.tasks import SERVICE
from libs.contracts.types import ID_PATTERN, Id
from services.gateway.deps import AuthBus, AuthCommandBus
from services.gateway.problems import PROBLEM_RESPONSES

PathId = Annotated[str, Path(pattern=ID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=500)]

router = APIRouter(tags=["tasks"], responses=PROBLEM_RESPONSES)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskIn(Body):
    title: t.TaskTitle
    description: t.TaskDescription = ""
    assignees: t.Assignees = ()
    due: t.DueDate | None = None


class EditIn(Body):
    title: t.TaskTitle
    description: t.TaskDescription = ""


class AssigneesIn(Body):
    assignees: t.Assignees


class DueIn(Body):
    due: t.DueDate | None = None


class StatusIn(Body):
    status: t.TaskStatus
    #: only if the task still is in this status (else 409 task_moved_meanwhile)
    from_status: t.TaskStatus | None = None


class ItemIn(Body):
    text: t.ChecklistText


class CheckIn(Body):
    checked: bool = True


class CommentIn(Body):
    text: t.CommentText


TASK = "/v1/groups/{group_id}/tasks/{task_id}"


@router.get("/v1/groups/{group_id}/tasks", response_model=t.ListTasks.reply_model,
            summary="A group's tasks, oldest first, with overdue marked (members; moderators; Main when the "
                    "group's content is open to it)")
async def list_tasks(bus: AuthBus, group_id: PathId, status_: Annotated[t.TaskStatus | None, Query(alias="status")]
                     = None, assignee: Annotated[Id | None, Query()] = None, limit: Limit = 200):
    return await bus.query(SERVICE, t.ListTasks(group_id=group_id, status=status_, assignee=assignee, limit=limit))


@router.post("/v1/groups/{group_id}/tasks", response_model=t.CreateTask.reply_model,
             status_code=status.HTTP_201_CREATED,
             summary="Create a task in a group (its members); assignees must be members of the group")
async def create_task(body: TaskIn, bus: AuthCommandBus, group_id: PathId):
    return await bus.command(SERVICE, t.CreateTask(group_id=group_id, title=body.title, description=body.description,
                                                   assignees=body.assignees, due=body.due))


@router.get(TASK, response_model=t.GetTask.reply_model, summary="One task: checklist, comments, assignees, due date")
async def get_task(bus: AuthBus, group_id: PathId, task_id: PathId):
    return await bus.query(SERVICE, t.GetTask(group_id=group_id, task_id=task_id))


@router.put(TASK, response_model=t.EditTask.reply_model, summary="Change a task's title and description")
async def edit_task(body: EditIn, bus: AuthCommandBus, group_id: PathId, task_id: PathId):
    return await bus.command(SERVICE, t.EditTask(group_id=group_id, task_id=task_id, title=body.title,
                                                 description=body.description))


@router.delete(TASK, response_model=t.DeleteTask.reply_model,
               summary="Delete a task: its creator, the group's coordinators, moderators")
async def delete_task(bus: AuthCommandBus, group_id: PathId, task_id: PathId):
    return await bus.command(SERVICE, t.DeleteTask(group_id=group_id, task_id=task_id))


@router.put(TASK + "/assignees", response_model=t.AssignTask.reply_model,
            summary="The task's assignees become these (members of the group); those added are told")
async def assign_task(body: AssigneesIn, bus: AuthCommandBus, group_id: PathId, task_id: PathId):
    return await bus.command(SERVICE, t.AssignTask(group_id=group_id, task_id=task_id, assignees=body.assignees))


@router.put(TASK + "/due", response_model=t.SetTaskDueDate.reply_model,
            summary="Set the task's due date (null: none)")
async def set_due(body: DueIn, bus: AuthCommandBus, group_id: PathId, task_id: PathId):
    return await bus.command(SERVICE, t.SetTaskDueDate(group_id=group_id, task_id=task_id, due=body.due))


@router.put(TASK + "/status", response_model=t.ChangeTaskStatus.reply_model,
            summary="Move the task to todo, in_progress or done (with from_status: only if it is still there)")
async def change_status(body: StatusIn, bus: AuthCommandBus, group_id: PathId, task_id: PathId):
    return await bus.command(SERVICE, t.ChangeTaskStatus(group_id=group_id, task_id=task_id, status=body.status,
                                                         from_status=body.from_status))


@router.post(TASK + "/checklist", response_model=t.AddChecklistItem.reply_model,
             status_code=status.HTTP_201_CREATED, summary="Add an item to the task's checklist")
async def add_item(body: ItemIn, bus: AuthCommandBus, group_id: PathId, task_id: PathId):
    return await bus.command(SERVICE, t.AddChecklistItem(group_id=group_id, task_id=task_id, text=body.text))


@router.put(TASK + "/checklist/{item_id}", response_model=t.CheckChecklistItem.reply_model,
            summary="Check a checklist item (checked: false unchecks it)")
async def check_item(body: CheckIn, bus: AuthCommandBus, group_id: PathId, task_id: PathId, item_id: PathId):
    return await bus.command(SERVICE, t.CheckChecklistItem(group_id=group_id, task_id=task_id, item_id=item_id,
                                                           checked=body.checked))


@router.delete(TASK + "/checklist/{item_id}", response_model=t.RemoveChecklistItem.reply_model,
               summary="Remove a checklist item")
async def remove_item(bus: AuthCommandBus, group_id: PathId, task_id: PathId, item_id: PathId):
    return await bus.command(SERVICE, t.RemoveChecklistItem(group_id=group_id, task_id=task_id, item_id=item_id))


@router.post(TASK + "/comments", response_model=t.CommentOnTask.reply_model, status_code=status.HTTP_201_CREATED,
             summary="Comment on a task (the text is the author's personal data)")
async def comment(body: CommentIn, bus: AuthCommandBus, group_id: PathId, task_id: PathId):
    return await bus.command(SERVICE, t.CommentOnTask(group_id=group_id, task_id=task_id, text=body.text))


@router.get("/v1/me/tasks", response_model=t.ListMyTasks.reply_model,
            summary="The caller's tasks in every group they are assigned in: the overdue first")
async def my_tasks(bus: AuthBus, include_done: bool = False, limit: Limit = 200):
    return await bus.query(SERVICE, t.ListMyTasks(include_done=include_done, limit=limit))
