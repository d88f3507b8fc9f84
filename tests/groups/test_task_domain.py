"""The task decider: given events / when a command / then events (or a refusal)."""

from __future__ import annotations

from datetime import date

from libs.contracts import tasks as t
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.kit.decider import given
from services.groups.chat_domain import GroupFacts
from services.groups.task_domain import (
    TASK,
    AddItem,
    Assign,
    CheckItem,
    Comment,
    Create,
    Delete,
    Edit,
    Move,
    RemoveItem,
    SetDue,
)
from tests.groups.test_chat_domain import ACTIVE, ANNA, BORIS, COORDINATING, MEMBERS, MODERATOR, OUTSIDE, VERA, G

HIDDEN = GroupFacts(False, None, False)
ARCHIVED = GroupFacts(True, "archived", True, MEMBERS)
created = t.TaskCreated(task_id="t-1", group_id=G, created_by="anna", title="Сценарий игры", assignees=("boris",))


def create(group: GroupFacts = ACTIVE, actor: Actor = ANNA, assignees=("boris",), **kw) -> Create:
    return Create(actor, "t-1", G, kw.get("title", "Сценарий игры"), "", tuple(assignees), kw.get("due"), group)


def test_a_member_creates_a_task_once_with_members_as_assignees():
    state = given(TASK).when(create(assignees=("boris", "boris"))).then(created)
    assert state.assignees == ("boris",) and state.status == "todo" and state.task_id == "t-1"
    given(TASK, created).when(create()).then()  # the same task again: once


def test_assignees_must_be_members_and_only_members_create():
    given(TASK).when(create(assignees=("boris", "vera"))).refused(Conflict, "assignee_not_a_member", member_id="vera")
    given(TASK).when(create(OUTSIDE, VERA)).refused(Forbidden, "group_members_only")
    given(TASK).when(create(HIDDEN)).refused(NotFound, "group_not_found")
    given(TASK).when(create(ARCHIVED)).refused(Conflict, "group_archived")


def test_assigning_tells_who_was_added_and_who_removed_and_the_same_set_is_nothing():
    then = t.TaskAssigneesChanged(task_id="t-1", group_id=G, changed_by="anna", assignees=("anna",),
                                  added=("anna",), removed=("boris",))
    given(TASK, created).when(Assign(ANNA, G, ("anna",), ACTIVE)).then(then)
    given(TASK, created).when(Assign(ANNA, G, ("boris",), ACTIVE)).then()
    given(TASK, created).when(Assign(ANNA, G, ("vera",), ACTIVE)).refused(Conflict, "assignee_not_a_member")


def test_status_moves_once_and_a_move_from_a_status_it_left_meanwhile_is_refused():
    moved = t.TaskStatusChanged(task_id="t-1", group_id=G, changed_by="boris", status="in_progress", previous="todo")
    given(TASK, created).when(Move(BORIS, G, "in_progress", "todo", ACTIVE)).then(moved)
    given(TASK, created, moved).when(Move(ANNA, G, "in_progress", "todo", ACTIVE)).then()  # the same way: once
    given(TASK, created, moved).when(Move(ANNA, G, "done", "todo", ACTIVE)).refused(
        Conflict, "task_moved_meanwhile", status="in_progress")
    given(TASK, created, moved).when(Move(ANNA, G, "done", None, ACTIVE)).then(
        t.TaskStatusChanged(task_id="t-1", group_id=G, changed_by="anna", status="done", previous="in_progress"))
    given(TASK, created).when(Move(VERA, G, "done", None, OUTSIDE)).refused(Forbidden, "group_members_only")


def test_edit_and_due_date_change_only_what_differs():
    given(TASK, created).when(Edit(BORIS, G, "Сценарий игры", "", ACTIVE)).then()
    given(TASK, created).when(Edit(BORIS, G, "Новый", "Подробно", ACTIVE)).then(
        t.TaskEdited(task_id="t-1", group_id=G, edited_by="boris", title="Новый", description="Подробно"))
    due = t.TaskDueDateSet(task_id="t-1", group_id=G, set_by="anna", due=date(2027, 1, 15))
    given(TASK, created).when(SetDue(ANNA, G, date(2027, 1, 15), ACTIVE)).then(due)
    given(TASK, created, due).when(SetDue(ANNA, G, date(2027, 1, 15), ACTIVE)).then()
    given(TASK, created, due).when(SetDue(ANNA, G, None, ACTIVE)).then(
        t.TaskDueDateSet(task_id="t-1", group_id=G, set_by="anna", due=None))


def test_the_checklist_adds_checks_unchecks_and_removes_each_once():
    added = t.ChecklistItemAdded(task_id="t-1", group_id=G, item_id="i-1", added_by="boris", text="Зал")
    given(TASK, created).when(AddItem(BORIS, G, "i-1", "Зал", ACTIVE)).then(added)
    given(TASK, created, added).when(AddItem(BORIS, G, "i-1", "Зал", ACTIVE)).then()
    checked = t.ChecklistItemChecked(task_id="t-1", group_id=G, item_id="i-1", checked_by="anna")
    given(TASK, created, added).when(CheckItem(ANNA, G, "i-1", True, ACTIVE)).then(checked)
    given(TASK, created, added, checked).when(CheckItem(ANNA, G, "i-1", True, ACTIVE)).then()
    given(TASK, created, added, checked).when(CheckItem(ANNA, G, "i-1", False, ACTIVE)).then(
        t.ChecklistItemUnchecked(task_id="t-1", group_id=G, item_id="i-1", unchecked_by="anna"))
    given(TASK, created).when(CheckItem(ANNA, G, "nope", True, ACTIVE)).refused(NotFound, "checklist_item_not_found")
    removed = t.ChecklistItemRemoved(task_id="t-1", group_id=G, item_id="i-1", removed_by="anna")
    given(TASK, created, added).when(RemoveItem(ANNA, G, "i-1", ACTIVE)).then(removed)
    given(TASK, created, added, removed).when(RemoveItem(ANNA, G, "i-1", ACTIVE)).then()
    given(TASK, created, added, removed).when(CheckItem(ANNA, G, "i-1", True, ACTIVE)).refused(
        NotFound, "checklist_item_not_found")


def test_a_full_checklist_refuses_one_more():
    items = [t.ChecklistItemAdded(task_id="t-1", group_id=G, item_id=f"i-{n}", added_by="anna", text="x")
             for n in range(t.MAX_CHECKLIST)]
    given(TASK, created, *items).when(AddItem(ANNA, G, "i-x", "x", ACTIVE)).refused(Invalid, "checklist_full")


def test_comments_are_their_authors_and_told_once():
    then = t.TaskCommented(task_id="t-1", group_id=G, comment_id="c-1", author_id="boris", text="Готово")
    given(TASK, created).when(Comment(BORIS, G, "c-1", "Готово", ACTIVE)).then(then)
    given(TASK, created, then).when(Comment(BORIS, G, "c-1", "Готово", ACTIVE)).then()
    assert "text" in t.TaskCommented.pii_fields and t.TaskCommented.pii_subject_field == "author_id"


def test_delete_by_the_creator_coordinators_and_moderators_only_and_twice_is_once():
    deleted = t.TaskDeleted(task_id="t-1", group_id=G, deleted_by="anna")
    given(TASK, created).when(Delete(ANNA, G, ACTIVE)).then(deleted)
    given(TASK, created).when(Delete(BORIS, G, ACTIVE)).refused(Forbidden, "not_your_task")
    given(TASK, created).when(Delete(BORIS, G, COORDINATING)).then(
        t.TaskDeleted(task_id="t-1", group_id=G, deleted_by="boris"))
    moderator = GroupFacts(True, "active", False, MEMBERS, may_moderate=True)
    given(TASK, created).when(Delete(MODERATOR, G, moderator)).then(
        t.TaskDeleted(task_id="t-1", group_id=G, deleted_by="mod"))
    # the creator who left the group no longer deletes it
    given(TASK, created).when(Delete(ANNA, G, OUTSIDE)).refused(Forbidden, "not_your_task")
    given(TASK, created, deleted).when(Delete(ANNA, G, ACTIVE)).then()
    given(TASK, created, deleted).when(Move(ANNA, G, "done", None, ACTIVE)).refused(NotFound, "task_not_found")


def test_a_task_of_another_group_or_none_is_not_found():
    given(TASK, created).when(Move(ANNA, "g-2", "done", None, ACTIVE)).refused(NotFound, "task_not_found")
    given(TASK).when(Edit(ANNA, G, "x", "", ACTIVE)).refused(NotFound, "task_not_found")
    given(TASK, created).when(Edit(ANNA, G, "x", "", HIDDEN)).refused(NotFound, "group_not_found")
