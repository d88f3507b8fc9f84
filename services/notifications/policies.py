"""Who is told what: reactions to the other services' events, each deciding the members a cause concerns
and raising one notification for each (in the channel their preferences choose), and to the erasure of a
member (their preferences and notifications go, nothing is sent to them any more).

A notification's id derives from the causing event, its kind and the member (libs/contracts/notifications.py),
and raising an already raised one decides nothing: a redelivered cause tells nobody twice, in the app or
by e-mail. Who is concerned is read from this service's own read models of the others' events
(``contacts``, ``calendar_facts``, ``feedback_facts``, ``working_groups``), waited for up to the causing
event; what a notification says is ids and titles only, never anyone's words (those stay sealed with their
authors' keys in their services).

Told from what the events carry: the decision on a newcomer (granted, declined, changes requested); a new
applicant (a completed profile) to the moderators; a join request to the group's coordinators; a mention in
a group's message; a personal message; a task's new assignees; a waitlist promotion; an event changed or
cancelled to its registered and waitlisted members; a round opened to the game's observers; a help request
routed to its expert (or to the group's coordinators), and a message in its thread to the asker; a pick
window opened to every member. At a time (durable timers, libs/kit/timers.py): a reminder to an event's
registered members the configured hours before it starts, and a task's assignees the day after its due date
while it is not done. What a notification of a time derives its id from is the timer and the time it was
for, so a moved event reminds again and a repeated firing does not."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, time, timedelta

from libs.contracts import calendar as cal
from libs.contracts import chat as ch
from libs.contracts import feedback as fb
from libs.contracts import groups as g
from libs.contracts import notifications as n
from libs.contracts import roles as r
from libs.contracts import tasks as t
from libs.contracts.onboarding import SERVICE as ONBOARDING
from libs.contracts.onboarding import AccessDeclined, AccessGranted, ChangesRequested, MemberErased, ProfileCompleted
from libs.contracts.subjects import events_of
from libs.kit.actors import ACTORS
from libs.kit.erasure import NotYet, caused_meta, view_at
from libs.kit.eventstore import Meta, Recorded
from libs.kit.service import Service
from libs.kit.timers import Due, Timer
from libs.kit.working_groups import GROUPS_VIEW, WGROUPS
from services.notifications import domain as d
from services.notifications.domain import DIGEST, NOTIFICATION, PREFERENCES
from services.notifications.my_data import register_my_data
from services.notifications.outbox import Outbox
from services.notifications.projections import (
    CAL_EVENTS,
    CALENDAR_VIEW,
    CONTACTS_VIEW,
    FEEDBACK_VIEW,
    GAMES,
    HELP_REQUESTS,
    REGISTRATIONS,
    TASKS,
)
from services.notifications.settings import Settings

#: the most members one cause tells (every member of the community, for a pick window)
MAX_TOLD = 100_000


def register_policies(svc: Service, settings: Settings, outbox: Outbox) -> None:
    register_my_data(svc)
    svc.tells_members = True

    def ids_of(notification_id: str, step: str):
        return lambda count: [uuid.uuid5(uuid.UUID(notification_id), f"{step}:{i}") for i in range(count)]

    async def tell(rec: Recorded, kind: str, members: Iterable[str], params: dict[str, str],
                   but: Iterable[str] = ()) -> None:
        """Raise ``kind`` for each member (once, however often the cause arrives), but not for ``but`` (the
        member who caused it), nor for the system."""
        await tell_of(str(rec.envelope.event_id), caused_meta(rec), kind, members, params, but)

    async def tell_of(cause: str, meta: Meta, kind: str, members: Iterable[str], params: dict[str, str],
                      but: Iterable[str] = ()) -> None:
        """``tell`` for a cause that is an event (its id) or a time (an id derived from the timer)."""
        skip = {*but, "system", "anonymous", ""}
        for member_id in dict.fromkeys(members):
            if member_id in skip:
                continue
            nid = n.notification_id_of(cause, kind, member_id)
            prefs, _ = await svc.load(PREFERENCES, member_id)
            now = svc.clock()
            possible = outbox.available and await outbox.address_known(member_id)
            done = await svc.decide(NOTIFICATION, nid, d.Raise(nid, member_id, kind, params, prefs, possible, now),
                                    meta, ids_of(nid, "raise"))
            state = done.state
            if not state.raised:
                continue  # the kind is off for this member (or they are erased)
            if state.channel == "digest" and possible:
                await add_to_digest(meta, member_id, nid, prefs, now)
            await svc.member_streams.tell(member_id, {"kind": "notification", "notification_id": nid,
                                                      "notification_kind": kind, "event_id": cause}, f"ntf:{nid}")
            # erased meanwhile (after the Raise, before the tell): the erasure's purge may have gone before
            # our item, which would outlive them. Either this load sees PreferencesErased and we purge
            # ourselves, or our publish came before PreferencesErased was appended, hence before the purge
            # tell_onboarding makes right after appending it: nothing is left either way.
            if (await svc.load(PREFERENCES, member_id))[0].erased:
                await svc.member_streams.forget(member_id)

    async def add_to_digest(meta: Meta, member_id: str, nid: str, prefs: d.Preferences, now: datetime) -> None:
        """Into the digest of the member's day; a digest already sent (the policy lagged past the morning)
        passes it to the next day's."""
        day = d.local_day(now, prefs.time_zone)
        for _ in range(2):
            due = d.digest_due(day, prefs.time_zone, settings.digest_hour, prefs.quiet_hours)
            digest_id = n.digest_id(member_id, day.isoformat())
            done = await svc.decide(DIGEST, digest_id, d.AddToDigest(digest_id, member_id, nid, day, due),
                                    meta, ids_of(nid, f"digest:{day}"))
            if nid in done.state.items:
                return
            day = day.fromordinal(day.toordinal() + 1)

    async def members_with(privilege: str | None) -> list[str]:
        docs = await svc.store.find(ACTORS, {"member": True}, limit=MAX_TOLD)
        return [doc["member_id"] for doc in docs if privilege is None or privilege in (doc.get("privileges") or [])]

    async def group(group_id: str) -> dict:
        return await svc.store.get(WGROUPS, group_id) or {}

    # ------------------------------------------------------------ onboarding

    @svc.policy("tell_onboarding", [events_of(ONBOARDING, "member")], waits_for_views=True,
                types=(AccessGranted, AccessDeclined, ChangesRequested, ProfileCompleted, MemberErased))
    async def when_a_newcomer_is_decided_on_tell_them_and_applicants_the_moderators(rec: Recorded) -> None:
        e = rec.event
        if isinstance(e, AccessGranted | AccessDeclined | ChangesRequested):
            await view_at(svc, CONTACTS_VIEW, rec)  # the newcomer's address, from their registration
        match e:
            case AccessGranted():
                await tell(rec, "access_granted", [e.member_id], {})
            case AccessDeclined():
                await tell(rec, "access_declined", [e.member_id], {})
            case ChangesRequested():
                await tell(rec, "changes_requested", [e.member_id], {})
            case ProfileCompleted():
                moderators = {*await members_with("moderator"), *await members_with("admin")}
                await tell(rec, "new_applicant", sorted(moderators), {"member_id": e.member_id})
            case MemberErased():
                # their choices and their list go; nothing is raised or sent to them any more
                await svc.decide(PREFERENCES, e.member_id, d.ErasePreferences(e.member_id), caused_meta(rec),
                                 ids_of(str(rec.envelope.event_id), "notifications:erase"))
                # then their stream: a notification told before PreferencesErased was appended is purged
                # here (one told after it is purged by tell_of itself, which loads the preferences again)
                await svc.member_streams.forget(e.member_id)

    # ------------------------------------------------------------ groups: join requests, chat, tasks

    @svc.policy("tell_groups", [events_of(g.SERVICE)], waits_for_views=True, types=(
        g.JoinRequested, ch.MessagePosted, ch.DirectMessageSent, t.TaskCreated, t.TaskAssigneesChanged))
    async def when_someone_asks_writes_or_assigns_tell_whom_it_concerns(rec: Recorded) -> None:
        """A join request to the group's coordinators, a mention to those named, a personal message to its
        recipient, a task to its new assignees."""
        e = rec.event
        match e:
            case g.JoinRequested():
                await view_at(svc, GROUPS_VIEW, rec)
                doc = await group(e.group_id)
                await tell(rec, "join_request", doc.get("coordinators") or [],
                           {"group_id": e.group_id, "group_title": doc.get("title") or "", "member_id": e.member_id},
                           but=[e.member_id])
            case ch.MessagePosted() if e.mentions:
                await view_at(svc, GROUPS_VIEW, rec)
                doc = await group(e.group_id)
                await tell(rec, "mention", e.mentions, {
                    "group_id": e.group_id, "group_title": doc.get("title") or "", "message_id": e.message_id,
                    **({"thread_id": e.thread_id} if e.thread_id else {})}, but=[e.author_id])
            case ch.DirectMessageSent():
                await tell(rec, "personal_message", [e.recipient_id],
                           {"conversation_id": e.conversation_id, "sender_id": e.sender_id}, but=[e.sender_id])
            case t.TaskCreated():
                await tell(rec, "task_assigned", e.assignees,
                           {"group_id": e.group_id, "task_id": e.task_id, "title": e.title}, but=[e.created_by])
            case t.TaskAssigneesChanged():
                await tell(rec, "task_assigned", e.added, {"group_id": e.group_id, "task_id": e.task_id},
                           but=[e.changed_by])

    # ------------------------------------------------------------ calendar

    @svc.policy("tell_calendar", [events_of(cal.SERVICE)], waits_for_views=True,
                types=(cal.WaitlistPromoted, cal.EventChanged, cal.EventCancelled))
    async def when_an_event_changes_tell_its_people(rec: Recorded) -> None:
        e = rec.event
        match e:
            case cal.WaitlistPromoted():
                await view_at(svc, CALENDAR_VIEW, rec)
                event = await svc.store.get(CAL_EVENTS, e.event_id) or {}
                await tell(rec, "waitlist_promoted", [e.member_id],
                           {"event_id": e.event_id, "title": event.get("title") or ""})
            case cal.EventChanged() | cal.EventCancelled():
                await view_at(svc, CALENDAR_VIEW, rec)
                event = await svc.store.get(CAL_EVENTS, e.event_id) or {}
                people = [doc["member_id"] for doc in
                          await svc.store.find(REGISTRATIONS, {"event_id": e.event_id}, limit=MAX_TOLD)]
                kind = "event_changed" if isinstance(e, cal.EventChanged) else "event_cancelled"
                by = e.changed_by if isinstance(e, cal.EventChanged) else e.cancelled_by
                await tell(rec, kind, sorted(people), {"event_id": e.event_id, "season_id": e.season_id,
                                                       "title": event.get("title") or ""}, but=[by])

    # ------------------------------------------------------------ feedback

    @svc.policy("tell_feedback", [events_of(fb.SERVICE)], waits_for_views=True)
    async def when_feedback_waits_for_someone_tell_them(rec: Recorded) -> None:
        e = rec.event
        match e:
            case fb.RoundOpened():
                await view_at(svc, FEEDBACK_VIEW, rec)
                game = await svc.store.get(GAMES, e.game_id) or {}
                await tell(rec, "round_waiting", game.get("observers") or [],
                           {"game_id": e.game_id, "round_no": str(e.round_no), "title": game.get("title") or ""})
            case fb.HelpRequestRouted():
                await view_at(svc, GROUPS_VIEW, rec)
                told = [e.expert_id] if e.expert_id else (await group(e.group_id or "")).get("coordinators") or []
                await tell(rec, "help_request_routed", told, {"request_id": e.request_id}, but=[e.routed_by])
            case fb.HelpMessagePosted():
                await view_at(svc, FEEDBACK_VIEW, rec)
                request = await svc.store.get(HELP_REQUESTS, e.request_id) or {}
                asker = request.get("asker_id")
                if asker:
                    await tell(rec, "help_request_answered", [asker], {"request_id": e.request_id},
                               but=[e.author_id])

    # ------------------------------------------------------------ roles

    @svc.policy("tell_roles", [events_of(r.SERVICE, "window")])
    async def when_a_pick_window_opens_tell_every_member(rec: Recorded) -> None:
        e = rec.event
        if isinstance(e, r.PickWindowOpened):
            await tell(rec, "pick_window_opened", await members_with(None),
                       {"season_id": e.season_id, "closes_at": e.closes_at.isoformat()})

    # ------------------------------------------------------------ at a time: reminders, overdue tasks

    def cause_of(key: str) -> tuple[str, Meta]:
        cause = str(uuid.uuid5(uuid.NAMESPACE_URL, f"hr-notifications:{key}"))
        return cause, Meta(actor="system", correlation_id=cause)

    def reminders(rec: Recorded) -> list[Due]:
        """Each offset before the event's start, moved with it, gone when it is cancelled; an offset already
        past when the event was planned or moved reminds nobody."""
        e = rec.event
        match e:
            case cal.EventScheduled() | cal.EventChanged():
                at = rec.envelope.occurred_at
                return [Due(f"{e.event_id}:{h}h", e.plan.starts_at - timedelta(hours=h)
                            if e.plan.starts_at - timedelta(hours=h) > at else None) for h in settings.reminder_hours]
            case cal.EventCancelled():
                return [Due(f"{e.event_id}:{h}h", None) for h in settings.reminder_hours]
        return []

    async def when_an_event_is_near_remind_its_people(timer: Timer) -> None:
        event_id, hours = timer.key.rsplit(":", 1)
        event = await svc.store.get(CAL_EVENTS, event_id)
        if event is None:
            raise NotYet(f"the {CALENDAR_VIEW} read model has no event {event_id} yet")
        people = [doc["member_id"] for doc in await svc.store.find(
            REGISTRATIONS, {"event_id": event_id, "status": "registered"}, limit=MAX_TOLD)]
        cause, meta = cause_of(f"reminder:{timer.key}:{event['starts_at']}")
        await tell_of(cause, meta, "event_reminder", sorted(people), {
            "event_id": event_id, "title": event["title"], "starts_at": event["starts_at"], "hours": hours[:-1]})

    svc.timer("reminders", [events_of(cal.SERVICE, "season")], reminders, when_an_event_is_near_remind_its_people)

    def past_due(due) -> datetime:
        """A task is overdue once its due day is over in the community's zone."""
        return datetime.combine(due + timedelta(days=1), time(0), tzinfo=d.zone_of(settings.community_time_zone))

    def overdue(rec: Recorded) -> list[Due]:
        e = rec.event
        match e:
            case t.TaskCreated() if e.due:
                return [Due(e.task_id, past_due(e.due))]
            case t.TaskDueDateSet():
                return [Due(e.task_id, past_due(e.due) if e.due else None)]
            case t.TaskDeleted():
                return [Due(e.task_id, None)]
        return []

    async def when_a_task_is_overdue_tell_its_assignees(timer: Timer) -> None:
        task = await svc.store.get(TASKS, timer.key)
        if task is None or task["status"] == "done" or not task["due"]:
            return  # deleted, done, or no longer due
        cause, meta = cause_of(f"overdue:{timer.key}:{task['due']}")
        await tell_of(cause, meta, "task_overdue", task["assignees"], {
            "group_id": task["group_id"], "task_id": timer.key, "title": task["title"], "due": task["due"]})

    svc.timer("overdue_tasks", [events_of(t.SERVICE, "task")], overdue, when_a_task_is_overdue_tell_its_assignees)
