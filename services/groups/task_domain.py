"""The task decider: one aggregate per task (created, edited, assigned, given a due date, moved between
statuses, its checklist, comments, deletion). What it cannot know — the group's state and members, and
whether the caller coordinates it — the handler reads from the group's own aggregate and passes in
(``GroupFacts``, the chat's)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from libs.contracts.base import Event
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.contracts.tasks import (
    MAX_CHECKLIST,
    SERVICE,
    TASK_EVENTS,
    ChecklistItemAdded,
    ChecklistItemChecked,
    ChecklistItemRemoved,
    ChecklistItemUnchecked,
    TaskAssigneesChanged,
    TaskCommented,
    TaskCreated,
    TaskDeleted,
    TaskDueDateSet,
    TaskEdited,
    TaskStatusChanged,
)
from libs.kit.decider import Decider
from services.groups.chat_domain import GroupFacts, _seen, _writable


@dataclass(frozen=True)
class Task:
    exists: bool = False
    task_id: str = ""
    group_id: str | None = None
    created_by: str | None = None
    title: str = ""
    description: str = ""
    status: str = "todo"
    assignees: tuple[str, ...] = ()
    due: date | None = None
    #: item id -> checked; removed ones are remembered, so removing twice is once
    checklist: dict[str, bool] = field(default_factory=dict)
    removed_items: frozenset[str] = frozenset()
    comments: frozenset[str] = frozenset()
    deleted: bool = False


def evolve_task(state: Task, event: Event) -> Task:  # noqa: C901 — one case per event
    match event:
        case TaskCreated():
            return Task(True, event.task_id, event.group_id, event.created_by, event.title, event.description, "todo",
                        event.assignees, event.due)
        case TaskEdited():
            return replace(state, title=event.title, description=event.description)
        case TaskAssigneesChanged():
            return replace(state, assignees=event.assignees)
        case TaskDueDateSet():
            return replace(state, due=event.due)
        case TaskStatusChanged():
            return replace(state, status=event.status)
        case ChecklistItemAdded():
            return replace(state, checklist={**state.checklist, event.item_id: False})
        case ChecklistItemChecked() | ChecklistItemUnchecked():
            return replace(state, checklist={**state.checklist,
                                             event.item_id: isinstance(event, ChecklistItemChecked)})
        case ChecklistItemRemoved():
            return replace(state, checklist={k: v for k, v in state.checklist.items() if k != event.item_id},
                           removed_items=state.removed_items | {event.item_id})
        case TaskCommented():
            return replace(state, comments=state.comments | {event.comment_id})
        case TaskDeleted():
            return replace(state, deleted=True)
    return state


# ---------------------------------------------------------------- commands (built by the handlers)


@dataclass(frozen=True)
class Create:
    actor: Actor
    task_id: str
    group_id: str
    title: str
    description: str
    assignees: tuple[str, ...]
    due: date | None
    group: GroupFacts


@dataclass(frozen=True)
class Edit:
    actor: Actor
    group_id: str
    title: str
    description: str
    group: GroupFacts


@dataclass(frozen=True)
class Assign:
    actor: Actor
    group_id: str
    assignees: tuple[str, ...]
    group: GroupFacts


@dataclass(frozen=True)
class SetDue:
    actor: Actor
    group_id: str
    due: date | None
    group: GroupFacts


@dataclass(frozen=True)
class Move:
    actor: Actor
    group_id: str
    status: str
    from_status: str | None
    group: GroupFacts


@dataclass(frozen=True)
class AddItem:
    actor: Actor
    group_id: str
    item_id: str
    text: str
    group: GroupFacts


@dataclass(frozen=True)
class CheckItem:
    actor: Actor
    group_id: str
    item_id: str
    checked: bool
    group: GroupFacts


@dataclass(frozen=True)
class RemoveItem:
    actor: Actor
    group_id: str
    item_id: str
    group: GroupFacts


@dataclass(frozen=True)
class Comment:
    actor: Actor
    group_id: str
    comment_id: str
    text: str
    group: GroupFacts


@dataclass(frozen=True)
class Delete:
    actor: Actor
    group_id: str
    group: GroupFacts


TaskCommand = Create | Edit | Assign | SetDue | Move | AddItem | CheckItem | RemoveItem | Comment | Delete


def _members_only(assignees: tuple[str, ...], group: GroupFacts) -> tuple[str, ...]:
    """Each assignee once, in the order given; every one a member of the group."""
    kept = tuple(dict.fromkeys(assignees))
    strangers = [m for m in kept if m not in group.members]
    if strangers:
        raise Conflict("assignee_not_a_member", member_id=strangers[0])
    return kept


def _existing(state: Task, group_id: str) -> None:
    if not state.exists or state.group_id != group_id or state.deleted:
        raise NotFound("task_not_found")


def _changing(state: Task, cmd: TaskCommand) -> None:
    """A change to an existing task by a member of its (active) group."""
    _seen(cmd.group, cmd.group_id)
    _existing(state, cmd.group_id)
    _writable(cmd.group, cmd.group_id)


def decide_task(cmd: TaskCommand, state: Task) -> list[Event]:  # noqa: C901 — one rule per case
    match cmd:
        case Create():
            _writable(cmd.group, cmd.group_id)
            if state.exists:
                return []  # the same task again: once
            return [TaskCreated(task_id=cmd.task_id, group_id=cmd.group_id, created_by=cmd.actor.id, title=cmd.title,
                                description=cmd.description, assignees=_members_only(cmd.assignees, cmd.group),
                                due=cmd.due)]
    if not isinstance(cmd, Delete):
        _changing(state, cmd)
    base = {"task_id": state.task_id, "group_id": cmd.group_id}
    me = cmd.actor.id
    match cmd:
        case Edit():
            if (cmd.title, cmd.description) == (state.title, state.description):
                return []
            return [TaskEdited(**base, edited_by=me, title=cmd.title, description=cmd.description)]
        case Assign():
            now = _members_only(cmd.assignees, cmd.group)
            if set(now) == set(state.assignees):
                return []
            return [TaskAssigneesChanged(**base, changed_by=me, assignees=now,
                                         added=tuple(m for m in now if m not in state.assignees),
                                         removed=tuple(m for m in state.assignees if m not in now))]
        case SetDue():
            return [] if cmd.due == state.due else [TaskDueDateSet(**base, set_by=me, due=cmd.due)]
        case Move():
            if cmd.status == state.status:
                return []  # already there (two members moving it the same way: once)
            if cmd.from_status is not None and cmd.from_status != state.status:
                raise Conflict("task_moved_meanwhile", status=state.status)
            return [TaskStatusChanged(**base, changed_by=me, status=cmd.status, previous=state.status)]
        case AddItem():
            if cmd.item_id in state.checklist or cmd.item_id in state.removed_items:
                return []
            if len(state.checklist) >= MAX_CHECKLIST:
                raise Invalid("checklist_full", limit=MAX_CHECKLIST)
            return [ChecklistItemAdded(**base, item_id=cmd.item_id, added_by=me, text=cmd.text)]
        case CheckItem():
            if cmd.item_id not in state.checklist:
                raise NotFound("checklist_item_not_found")
            if state.checklist[cmd.item_id] == cmd.checked:
                return []
            if cmd.checked:
                return [ChecklistItemChecked(**base, item_id=cmd.item_id, checked_by=me)]
            return [ChecklistItemUnchecked(**base, item_id=cmd.item_id, unchecked_by=me)]
        case RemoveItem():
            if cmd.item_id in state.removed_items:
                return []
            if cmd.item_id not in state.checklist:
                raise NotFound("checklist_item_not_found")
            return [ChecklistItemRemoved(**base, item_id=cmd.item_id, removed_by=me)]
        case Comment():
            if cmd.comment_id in state.comments:
                return []
            return [TaskCommented(**base, comment_id=cmd.comment_id, author_id=me, text=cmd.text)]
        case Delete():
            _seen(cmd.group, cmd.group_id)
            if state.exists and state.group_id == cmd.group_id and state.deleted:
                return []  # deleted already: the same answer, nothing new
            _existing(state, cmd.group_id)
            if not cmd.group.may_moderate and not (me == state.created_by and cmd.group.is_member):
                raise Forbidden("not_your_task")
            return [TaskDeleted(**base, deleted_by=me)]
    raise TypeError(f"not a task command: {cmd!r}")


TASK: Decider = Decider(SERVICE, "task", Task, evolve_task, decide_task, events=TASK_EVENTS)
