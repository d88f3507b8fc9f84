"""Groups, tasks part: a working group's tasks — title and description, assignees among the group's
members, a due date, a status (todo / in_progress / done), a checklist and comments.

The groups service owns them (its contracts list these in ``libs/contracts/groups.py``): who may read
and write a group's tasks is the group's membership. Comments are their authors' personal data
(DESIGN.md §2): the text is sealed with the author's key and reads as None once the author is erased.
A task's title, description and checklist are the group's working content (docs/adr/0018-tasks.md).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from libs.contracts.base import Command, Contract, Event, Query
from libs.contracts.types import MULTI_LINE, ONE_LINE, Id

SERVICE = "groups"
STATUSES = ("todo", "in_progress", "done")
TaskStatus = Literal["todo", "in_progress", "done"]
TaskTitle = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S"), ONE_LINE]
TaskDescription = Annotated[str, StringConstraints(max_length=4000), MULTI_LINE]
ChecklistText = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S"), ONE_LINE]
CommentText = Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=r"\S"), MULTI_LINE]
#: a due date within reason (a year 1 or 9999 is a typo, not a plan)
DueDate = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]
#: members one task may be assigned to at most, and checklist items it may hold
MAX_ASSIGNEES = 20
MAX_CHECKLIST = 100
Assignees = Annotated[tuple[Id, ...], Field(max_length=MAX_ASSIGNEES)]


# ---------------------------------------------------------------- events (aggregate ``task``)


class TaskCreated(Event):
    task_id: str
    group_id: str
    created_by: str
    title: str
    description: str = ""
    assignees: tuple[str, ...] = ()
    due: date | None = None


class TaskEdited(Event):
    task_id: str
    group_id: str
    edited_by: str
    title: str
    description: str = ""


class TaskAssigneesChanged(Event):
    """The task's assignees are now ``assignees``: ``added`` learn of it on their streams."""

    task_id: str
    group_id: str
    changed_by: str
    assignees: tuple[str, ...]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


class TaskDueDateSet(Event):
    task_id: str
    group_id: str
    set_by: str
    #: None: no due date any more
    due: date | None = None


class TaskStatusChanged(Event):
    task_id: str
    group_id: str
    changed_by: str
    status: str
    previous: str


class ChecklistItemAdded(Event):
    task_id: str
    group_id: str
    item_id: str
    added_by: str
    text: str


class ChecklistItemChecked(Event):
    task_id: str
    group_id: str
    item_id: str
    checked_by: str


class ChecklistItemUnchecked(Event):
    task_id: str
    group_id: str
    item_id: str
    unchecked_by: str


class ChecklistItemRemoved(Event):
    task_id: str
    group_id: str
    item_id: str
    removed_by: str


class TaskCommented(Event):
    """A comment on a task: its text is its author's, sealed with their key."""

    pii_fields: ClassVar[frozenset[str]] = frozenset({"text"})
    pii_subject_field: ClassVar[str] = "author_id"
    task_id: str
    group_id: str
    comment_id: str
    author_id: str
    text: str | None = None


class TaskDeleted(Event):
    task_id: str
    group_id: str
    deleted_by: str


TASK_EVENTS = (TaskCreated, TaskEdited, TaskAssigneesChanged, TaskDueDateSet, TaskStatusChanged, ChecklistItemAdded,
               ChecklistItemChecked, ChecklistItemUnchecked, ChecklistItemRemoved, TaskCommented, TaskDeleted)


# ---------------------------------------------------------------- replies


class TaskReply(Contract):
    group_id: str
    task_id: str
    status: TaskStatus


class ChecklistItemReply(Contract):
    group_id: str
    task_id: str
    item_id: str


class TaskCommentReply(Contract):
    group_id: str
    task_id: str
    comment_id: str


class TaskPerson(Contract):
    member_id: str
    #: None once the member is erased (or their name is not known yet)
    display_name: str | None


class ChecklistItemView(Contract):
    item_id: str
    text: str
    checked: bool


class TaskCommentView(Contract):
    comment_id: str
    #: None once its author is erased: then the comment reads as written by a deleted member
    author_id: str | None
    author_name: str | None
    text: str | None
    posted_at: datetime


class TaskSummary(Contract):
    task_id: str
    group_id: str
    #: the group's title (for "my tasks" across groups)
    group_title: str
    title: str
    status: TaskStatus
    assignees: tuple[TaskPerson, ...]
    due: date | None
    #: the due date has passed (in the community's time zone) and the task is not done: read now
    overdue: bool
    checklist_done: int
    checklist_total: int
    comments: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class TaskList(Contract):
    items: tuple[TaskSummary, ...]


class TaskView(TaskSummary):
    description: str
    checklist: tuple[ChecklistItemView, ...]
    comment_list: tuple[TaskCommentView, ...]
    #: what the caller may do: write (a member of an active group), delete (creator, coordinators, moderators)
    may_write: bool
    may_delete: bool


# ---------------------------------------------------------------- commands


class TaskCommand(Command):
    service: ClassVar[str] = SERVICE


class CreateTask(TaskCommand):
    """A member creates a task in the group; its assignees must be members of the group."""

    reply_model: ClassVar = TaskReply
    group_id: Id
    title: TaskTitle
    description: TaskDescription = ""
    assignees: Assignees = ()
    due: DueDate | None = None


class EditTask(TaskCommand):
    reply_model: ClassVar = TaskReply
    group_id: Id
    task_id: Id
    title: TaskTitle
    description: TaskDescription = ""


class AssignTask(TaskCommand):
    """The task's assignees become these (members of the group; none leaves it unassigned)."""

    reply_model: ClassVar = TaskReply
    group_id: Id
    task_id: Id
    assignees: Assignees


class SetTaskDueDate(TaskCommand):
    reply_model: ClassVar = TaskReply
    group_id: Id
    task_id: Id
    due: DueDate | None = None


class ChangeTaskStatus(TaskCommand):
    """Move a task to a status; with ``from_status`` only if it still is there (a board's card moved by
    two members at once: the second is told it moved meanwhile)."""

    reply_model: ClassVar = TaskReply
    group_id: Id
    task_id: Id
    status: TaskStatus
    from_status: TaskStatus | None = None


class AddChecklistItem(TaskCommand):
    reply_model: ClassVar = ChecklistItemReply
    group_id: Id
    task_id: Id
    text: ChecklistText


class CheckChecklistItem(TaskCommand):
    """Check an item (``checked: false`` unchecks it)."""

    reply_model: ClassVar = ChecklistItemReply
    group_id: Id
    task_id: Id
    item_id: Id
    checked: bool = True


class RemoveChecklistItem(TaskCommand):
    reply_model: ClassVar = ChecklistItemReply
    group_id: Id
    task_id: Id
    item_id: Id


class CommentOnTask(TaskCommand):
    reply_model: ClassVar = TaskCommentReply
    group_id: Id
    task_id: Id
    text: CommentText


class DeleteTask(TaskCommand):
    """The task's creator, the group's coordinators and the moderators delete a task."""

    reply_model: ClassVar = TaskReply
    group_id: Id
    task_id: Id


# ---------------------------------------------------------------- queries


class TaskQuery(Query):
    service: ClassVar[str] = SERVICE


class ListTasks(TaskQuery):
    """A group's tasks, oldest first (a board groups them by status)."""

    reply_model: ClassVar = TaskList
    group_id: Id
    status: TaskStatus | None = None
    assignee: Id | None = None
    limit: int = Field(default=200, ge=1, le=500)


class GetTask(TaskQuery):
    reply_model: ClassVar = TaskView
    group_id: Id
    task_id: Id


class ListMyTasks(TaskQuery):
    """The caller's tasks in every group they are assigned in (the done ones with ``include_done``)."""

    reply_model: ClassVar = TaskList
    include_done: bool = False
    limit: int = Field(default=200, ge=1, le=500)


TASK_COMMANDS = (CreateTask, EditTask, AssignTask, SetTaskDueDate, ChangeTaskStatus, AddChecklistItem,
                 CheckChecklistItem, RemoveChecklistItem, CommentOnTask, DeleteTask)
TASK_QUERIES = (ListTasks, GetTask, ListMyTasks)
TASK_REPLIES = (TaskReply, ChecklistItemReply, TaskCommentReply, TaskPerson, ChecklistItemView, TaskCommentView,
                TaskSummary, TaskList, TaskView)
