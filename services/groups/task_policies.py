"""An assignee learns of a new assignment on their own stream (libs/kit/notify.py, docs/adr/0017): a task
created with assignees tells each of them, a change of assignees tells those added — never the member who
assigned themselves.

The policy waits until the tasks read model has applied the event, so the title and due date it tells
are the task's right after it; it only appends to the members' streams, so it runs outside the store's
transaction. An item's id is the event's and the member's: a redelivered event tells nobody twice."""

from __future__ import annotations

from libs.contracts import tasks as t
from libs.contracts.subjects import events_of
from libs.kit.erasure import NotYet, view_at
from libs.kit.eventstore import Recorded
from libs.kit.service import Service
from services.groups.task_projections import TASKS, TASKS_VIEW


def register_task_policies(svc: Service) -> None:
    svc.tells_members = True

    @svc.policy("task_assignments_stream", [events_of("groups", "task")], waits_for_views=True)
    async def when_task_assigned_tell_the_assignees(rec: Recorded) -> None:
        e = rec.event
        if isinstance(e, t.TaskCreated):
            told, by = e.assignees, e.created_by
        elif isinstance(e, t.TaskAssigneesChanged):
            told, by = e.added, e.changed_by
        else:
            return
        told = tuple(m for m in told if m != by)
        if not told:
            return
        await view_at(svc, TASKS_VIEW, rec)
        doc = await svc.store.get(TASKS, e.task_id)
        if doc is None:
            # a task's document stays once created (a deleted one as a tombstone): a view that said it had
            # applied this event and has no document is behind — wait, never skip
            raise NotYet(f"the {TASKS_VIEW} read model has no task {e.task_id} yet")
        if doc["deleted"]:
            return  # deleted since: nothing to take on
        event_id = str(rec.envelope.event_id)
        await svc.member_streams.tell_many([(member_id, {
            "kind": "task_assigned", "group_id": e.group_id, "task_id": e.task_id, "title": doc["title"],
            "due": doc["due"], "event_id": event_id}, f"{event_id}:{member_id}") for member_id in told])
