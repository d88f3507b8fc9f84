"""The Main group hears of the calendar's published events (no service sends commands to another: the
calendar publishes its grid as events, and this policy announces each one).

The announcement carries the event's title and its start time written in the season's zone (the zone
named), never anyone's own words; its id is derived from the causing event, so a redelivered
``EventScheduled`` announces nothing twice."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from libs.contracts import calendar as cal
from libs.contracts.roles import SERVICE as ROLES
from libs.contracts.subjects import events_of
from libs.kit.erasure import caused_ids, caused_meta
from libs.kit.eventstore import Recorded
from libs.kit.service import Service
from services.groups.domain import ANNOUNCEMENT, PublishAnnouncement

#: announcement topics about the calendar: shown to every reader of the Main group's announcements
CALENDAR_TOPICS = ("calendar_event_scheduled", "calendar_results_published")


def register_calendar_policies(svc: Service) -> None:
    @svc.policy("calendar_announcements", [events_of(cal.SERVICE, "season")],
                types=(cal.SeasonResultsPublished, cal.EventScheduled))
    async def when_calendar_event_scheduled_announce_it_in_main(rec: Recorded) -> None:
        """The season's results are announced too, with their headline figures (the roles taken among them
        when the roles service reported the season)."""
        e = rec.event
        if isinstance(e, cal.SeasonResultsPublished):
            r = e.report
            announcement_id = str(uuid.uuid5(rec.envelope.event_id, "announce"))
            held = r.events_held.online_meeting + r.events_held.game + r.events_held.research
            params = {"season_id": e.season_id, "title": e.title or e.season_id, "events": str(held),
                      "participants": str(r.participants), "places": str(r.places_taken)}
            roles = {line.key: line.value for line in r.reports if line.source == ROLES}
            if "roles_taken" in roles:
                params["roles"] = str(roles["roles_taken"])
            await svc.decide(ANNOUNCEMENT, announcement_id, PublishAnnouncement(
                announcement_id, "calendar_results_published", e.season_id, params),
                caused_meta(rec), caused_ids(rec, "announce"))
            return
        if not isinstance(e, cal.EventScheduled):
            return
        plan = e.plan
        local = plan.starts_at.astimezone(ZoneInfo(e.time_zone))
        announcement_id = str(uuid.uuid5(rec.envelope.event_id, "announce"))
        await svc.decide(ANNOUNCEMENT, announcement_id, PublishAnnouncement(
            announcement_id, "calendar_event_scheduled", e.event_id, {
                "title": plan.title, "when": f"{local:%d.%m.%Y %H:%M} ({e.time_zone})", "season_id": e.season_id,
                "kind": plan.kind, "place": plan.place or "", "starts_at": plan.starts_at.isoformat()}),
            caused_meta(rec), caused_ids(rec, "announce"))
