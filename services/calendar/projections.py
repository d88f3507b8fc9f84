"""The calendar's read models: seasons, their events, the requests for events and who holds a place; and,
from the groups service's events, the working groups and their members (for group feeds and "my groups'
events").

Drafts are documents too (``status: draft``): the queries show them to moderators only. Once an author is
erased (``CalendarAuthorErased``), their requests read ``topic``/``experience``/``member_id`` null and the
reasons they gave are gone — in log order, so a rebuild writes what the live run wrote."""

from __future__ import annotations

from typing import Any

from libs.contracts import calendar as c
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Recorded
from libs.kit.projection import View
from libs.kit.service import Service
from libs.kit.working_groups import keep_working_groups

SEASONS = "seasons"
EVENTS = "events"
REQUESTS = "requests"
REGISTRATIONS = "registrations"
FEEDS = "feeds"
#: the projection the queries and policies read
CALENDAR_VIEW = "calendar"
COLLECTIONS = [SEASONS, EVENTS, REQUESTS, REGISTRATIONS, FEEDS]


def plain(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def registration_key(event_id: str, member_id: str) -> str:
    return f"{event_id}:{member_id}"


async def _season(view: View, season_id: str, **changes: Any) -> None:
    doc = await view.get(SEASONS, season_id)
    if doc is not None:
        await view.put(SEASONS, season_id, {**plain(doc), **changes})


async def _count(view: View, season_id: str, field: str, by: int) -> None:
    doc = await view.get(SEASONS, season_id)
    if doc is not None:
        await view.put(SEASONS, season_id, {**plain(doc), field: doc[field] + by})


async def _event(view: View, e: Any, status: str, plan: c.EventPlan | None = None, **extra: Any) -> None:
    """``e``: an event of the grid (it names ``season_id`` and ``event_id``)."""
    found = await view.get(EVENTS, e.event_id)
    doc = plain(found) if found else {"key": e.event_id, "event_id": e.event_id, "season_id": e.season_id,
                                      "registered": 0, "waitlisted": 0, "revision": 0, "reason": None,
                                      "cancelled_by": None}
    if plan is not None:
        doc |= {"plan": plan.model_dump(mode="json"), "starts_at": plan.starts_at.isoformat(),
                "host_id": plan.host_id, "group_id": plan.group_id, "answers": list(plan.answers)}
    await view.put(EVENTS, e.event_id, {**doc, "status": status, **extra})


async def _request(view: View, season_id: str, request_id: str, **changes: Any) -> None:
    doc = await view.get(REQUESTS, request_id)
    if doc is not None:
        await view.put(REQUESTS, request_id, {**plain(doc), **changes})


async def _places(view: View, event_id: str, registered: int = 0, waitlisted: int = 0) -> None:
    doc = await view.get(EVENTS, event_id)
    if doc is not None:
        await view.put(EVENTS, event_id, {**plain(doc), "registered": doc["registered"] + registered,
                                          "waitlisted": doc["waitlisted"] + waitlisted})


async def _forget_author(view: View, member_id: str) -> None:
    for doc in await view.find(REQUESTS, {"member_id": member_id}):
        await view.put(REQUESTS, doc["key"], {**plain(doc), "member_id": None, "topic": None, "experience": None})
    for doc in await view.find(REQUESTS, {"declined_by": member_id}):
        await view.put(REQUESTS, doc["key"], {**plain(doc), "declined_by": None, "reason": None})
    for doc in await view.find(EVENTS, {"cancelled_by": member_id}):
        await view.put(EVENTS, doc["key"], {**plain(doc), "cancelled_by": None, "reason": None})


async def _season_event(rec: Recorded, view: View) -> None:  # noqa: C901 — one case per event
    e = rec.event
    at = rec.envelope.occurred_at.isoformat()
    match e:
        case c.SeasonPlanningStarted():
            await view.put(SEASONS, e.season_id, {
                "key": e.season_id, "season_id": e.season_id, "title": e.title, "phase": "planning",
                "starts_on": e.starts_on.isoformat(), "ends_on": e.ends_on.isoformat(), "time_zone": e.time_zone,
                "events": 0, "requests": 0, "position": rec.seq})
        case c.SeasonOpened():
            await _season(view, e.season_id, phase="open")
        case c.SeasonClosed():
            await _season(view, e.season_id, phase="closed")
        case c.SeasonResultsPublished():
            await _season(view, e.season_id, phase="results_published", report=e.report.model_dump(mode="json"))
        case c.EventRequested():
            await view.put(REQUESTS, e.request_id, {
                "key": e.request_id, "season_id": e.season_id, "request_id": e.request_id, "member_id": e.member_id,
                "topic": e.topic, "format": e.format, "experience": e.experience, "group_size": e.group_size,
                "preferred_dates": [x.isoformat() for x in e.preferred_dates], "supporters": [],
                "support_count": 0, "outcome": "pending", "into_request_id": None, "reason": None,
                "declined_by": None, "position": rec.seq})
            await _count(view, e.season_id, "requests", 1)
        case c.EventRequestSupported():
            doc = await view.get(REQUESTS, e.request_id)
            if doc is not None and e.member_id not in doc["supporters"]:
                supporters = [*doc["supporters"], e.member_id]
                await _request(view, e.season_id, e.request_id, supporters=supporters, support_count=len(supporters))
        case c.EventRequestAccepted():
            await _request(view, e.season_id, e.request_id, outcome="accepted")
        case c.EventRequestMerged():
            await _request(view, e.season_id, e.request_id, outcome="merged", into_request_id=e.into_request_id)
        case c.EventRequestDeclined():
            await _request(view, e.season_id, e.request_id, outcome="declined", reason=e.reason,
                           declined_by=e.declined_by)
        case c.GridEventAdded():
            await _event(view, e, "draft", e.plan, position=rec.seq, updated_at=at)
            await _count(view, e.season_id, "events", 1)
        case c.GridEventChanged():
            await _event(view, e, "draft", e.plan, updated_at=at)
        case c.GridEventRemoved():
            await view.delete(EVENTS, e.event_id)
            await _count(view, e.season_id, "events", -1)
        case c.EventScheduled():
            await _event(view, e, "scheduled", e.plan, revision=e.revision, updated_at=at)
        case c.EventChanged():
            await _event(view, e, "scheduled", e.plan, revision=e.revision, updated_at=at)
        case c.EventCancelled():
            await _event(view, e, "cancelled", revision=e.revision, reason=e.reason, cancelled_by=e.cancelled_by,
                         updated_at=at)


async def _registration_event(rec: Recorded, view: View) -> None:
    e = rec.event
    match e:
        case c.EventRegistered() | c.WaitlistPromoted():
            key = registration_key(e.event_id, e.member_id)
            await view.put(REGISTRATIONS, key, {"key": key, "event_id": e.event_id, "member_id": e.member_id,
                                                "status": "registered", "position": rec.seq})
            await _places(view, e.event_id, 1, -1 if isinstance(e, c.WaitlistPromoted) else 0)
        case c.RegistrationWaitlisted():
            key = registration_key(e.event_id, e.member_id)
            await view.put(REGISTRATIONS, key, {"key": key, "event_id": e.event_id, "member_id": e.member_id,
                                                "status": "waitlisted", "position": rec.seq})
            await _places(view, e.event_id, 0, 1)
        case c.RegistrationCancelled():
            await view.delete(REGISTRATIONS, registration_key(e.event_id, e.member_id))
            await _places(view, e.event_id, *((0, -1) if e.waitlisted else (-1, 0)))
        case c.AttendanceRecorded():
            doc = await view.get(EVENTS, e.event_id)
            if doc is not None:
                await view.put(EVENTS, e.event_id, {**plain(doc), "present": list(e.present)})


def register_projections(svc: Service) -> None:
    @svc.projection(CALENDAR_VIEW, [events_of(c.SERVICE)], COLLECTIONS)
    async def when_calendar_changed_update_the_calendar(rec: Recorded, view: View) -> None:
        e = rec.event
        if isinstance(e, c.CalendarAuthorErased):
            await _forget_author(view, e.member_id)
        elif isinstance(e, c.FeedLinkRenewed):
            await view.put(FEEDS, e.member_id, {"key": e.member_id, "member_id": e.member_id,
                                                "generation": e.generation})
        elif isinstance(e, c.REGISTRATION_EVENTS):
            await _registration_event(rec, view)
        else:
            await _season_event(rec, view)

    keep_working_groups(svc)
