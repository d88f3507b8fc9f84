"""The notifications service's read models: every member's notifications with read / unread and their
e-mail's state (from its own events), and what its policies need to know of the other services (from
their events): members' addresses (sealed with the member's key), working groups and their coordinators
(libs/kit/working_groups.py), tasks with their assignees and due dates, the calendar's events and who
is registered, games and their observers, requests for help and who asked.

A member's address stays sealed here with their key, as it is in onboarding's log: once onboarding shreds
the key on erasure, the sealed copy opens to nothing, and the erasure deletes it anyway."""

from __future__ import annotations

from libs.contracts import calendar as cal
from libs.contracts import feedback as fb
from libs.contracts import notifications as n
from libs.contracts import tasks as t
from libs.contracts.errors import NotFound
from libs.contracts.onboarding import SERVICE as ONBOARDING
from libs.contracts.onboarding import MemberErased, MemberRegistered
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Recorded
from libs.kit.projection import View, change, plain
from libs.kit.service import Service
from libs.kit.working_groups import keep_working_groups

NOTIFICATIONS = "notifications"
NOTIFICATIONS_VIEW = "notifications"
CONTACTS = "contacts"
CAL_EVENTS = "cal_events"
REGISTRATIONS = "registrations"
GAMES = "games"
HELP_REQUESTS = "help_requests"
CONTACTS_VIEW = "contacts"
CALENDAR_VIEW = "calendar_facts"
FEEDBACK_VIEW = "feedback_facts"
TASKS = "tasks"
TASKS_VIEW = "task_facts"


def address_aad(member_id: str) -> str:
    return f"notifications:address:{member_id}"


def register_projections(svc: Service) -> None:
    keep_working_groups(svc)

    @svc.projection(NOTIFICATIONS_VIEW, [events_of(n.SERVICE)], [NOTIFICATIONS])
    async def when_notified_keep_the_members_list(rec: Recorded, view: View) -> None:
        e = rec.event
        match e:
            case n.NotificationRaised():
                await view.put(NOTIFICATIONS, e.notification_id, {
                    "key": e.notification_id, "notification_id": e.notification_id, "member_id": e.member_id,
                    "kind": e.kind, "params": dict(e.params), "raised_at": e.raised_at.isoformat(), "read": False,
                    "email": "digest" if e.channel == "digest" else None})
            case n.NotificationMarkedRead():
                await change(view, NOTIFICATIONS, e.notification_id, read=True)
            case n.EmailQueued() | n.EmailDeferred():
                await change(view, NOTIFICATIONS, e.notification_id, email="queued")
            case n.EmailSent():
                await change(view, NOTIFICATIONS, e.notification_id, email="sent")
            case n.EmailDropped():
                await change(view, NOTIFICATIONS, e.notification_id, email="dropped")
            case n.PreferencesErased():
                for doc in await view.find(NOTIFICATIONS, {"member_id": e.member_id}, limit=1_000_000):
                    await view.delete(NOTIFICATIONS, doc["key"])

    @svc.projection(CONTACTS_VIEW, [events_of(ONBOARDING, "member")], [CONTACTS],
                    types=(MemberRegistered, MemberErased))
    async def when_a_member_registers_keep_their_address_sealed(rec: Recorded, view: View) -> None:
        e = rec.event
        match e:
            case MemberRegistered():
                if e.email:  # None once the member's key is shredded (a rebuild after an erasure)
                    try:
                        # stable: a rebuild seals the same bytes again, the rebuilt read model the one it replaces
                        sealed = await svc.vault.seal(e.member_id, {"email": e.email}, address_aad(e.member_id),
                                                      stable=True)
                    except NotFound:  # the key shredded since the event was read (erased meanwhile): keep nothing
                        return
                    await view.put(CONTACTS, e.member_id, {"key": e.member_id, "member_id": e.member_id,
                                                           "sealed": sealed})
            case MemberErased():
                await view.delete(CONTACTS, e.member_id)

    @svc.projection(CALENDAR_VIEW, [events_of(cal.SERVICE)], [CAL_EVENTS, REGISTRATIONS], types=(
        cal.EventScheduled, cal.EventChanged, cal.EventRegistered, cal.RegistrationWaitlisted, cal.WaitlistPromoted,
        cal.RegistrationCancelled))
    async def when_the_calendar_changed_keep_events_and_their_people(rec: Recorded, view: View) -> None:
        e = rec.event
        match e:
            case cal.EventScheduled() | cal.EventChanged():
                await view.put(CAL_EVENTS, e.event_id, {"key": e.event_id, "event_id": e.event_id,
                                                        "season_id": e.season_id, "title": e.plan.title,
                                                        "starts_at": e.plan.starts_at.isoformat()})
            case cal.EventRegistered() | cal.RegistrationWaitlisted() | cal.WaitlistPromoted():
                key = f"{e.event_id}:{e.member_id}"
                status = "waitlisted" if isinstance(e, cal.RegistrationWaitlisted) else "registered"
                await view.put(REGISTRATIONS, key, {"key": key, "event_id": e.event_id, "member_id": e.member_id,
                                                    "status": status})
            case cal.RegistrationCancelled():
                await view.delete(REGISTRATIONS, f"{e.event_id}:{e.member_id}")

    @svc.projection(TASKS_VIEW, [events_of(t.SERVICE, "task")], [TASKS])
    async def when_a_task_changed_keep_its_assignees_and_due_date(rec: Recorded, view: View) -> None:
        e = rec.event
        match e:
            case t.TaskCreated():
                await view.put(TASKS, e.task_id, {"key": e.task_id, "task_id": e.task_id, "group_id": e.group_id,
                                                  "title": e.title, "assignees": list(e.assignees),
                                                  "due": e.due.isoformat() if e.due else None, "status": "todo"})
            case t.TaskEdited():
                await change(view, TASKS, e.task_id, title=e.title)
            case t.TaskAssigneesChanged():
                await change(view, TASKS, e.task_id, assignees=list(e.assignees))
            case t.TaskDueDateSet():
                await change(view, TASKS, e.task_id, due=e.due.isoformat() if e.due else None)
            case t.TaskStatusChanged():
                await change(view, TASKS, e.task_id, status=e.status)
            case t.TaskDeleted():
                await view.delete(TASKS, e.task_id)

    @svc.projection(FEEDBACK_VIEW, [events_of(fb.SERVICE)], [GAMES, HELP_REQUESTS])
    async def when_feedback_changed_keep_observers_and_askers(rec: Recorded, view: View) -> None:
        e = rec.event
        match e:
            case fb.GameScheduled():
                await view.put(GAMES, e.game_id, {"key": e.game_id, "game_id": e.game_id, "title": e.title,
                                                  "observers": []})
            case fb.GameChanged():
                await change(view, GAMES, e.game_id, title=e.title)
            case fb.ObserverAssigned() | fb.ObserverUnassigned():
                doc = await view.get(GAMES, e.game_id)
                if doc is not None:
                    others = [m for m in doc["observers"] if m != e.observer_id]
                    now = [*others, e.observer_id] if isinstance(e, fb.ObserverAssigned) else others
                    await view.put(GAMES, e.game_id, {**plain(doc), "observers": now})
            case fb.HelpRequested():
                await view.put(HELP_REQUESTS, e.request_id, {"key": e.request_id, "request_id": e.request_id,
                                                             "asker_id": e.asker_id})
