"""A season's results, computed when a moderator publishes them: from the calendar's read models (events,
places, attendance, requests) and its aggregates (the games' teams, the research), and what other services
reported about the season by event (``reports``: the roles service's figures once the season's pick window
closed, the feedback service's once the season closed). A report that arrives after the results were published
is not in them: the results are published once."""

from __future__ import annotations

from libs.contracts import calendar as c
from libs.kit.service import Service
from services.calendar.games_domain import GAME_TEAMS, RESEARCH
from services.calendar.projections import EVENTS, REGISTRATIONS, REQUESTS
from services.calendar.season_reports import reported_lines

#: the most events and rows a report reads (a season has tens of events and hundreds of places)
LIMIT = 10_000


async def season_report(svc: Service, season_id: str) -> c.SeasonReport:
    events = await svc.store.find(EVENTS, {"season_id": season_id}, limit=LIMIT)
    held = [e for e in events if e["status"] == "scheduled"]
    by_kind = {"online_meeting": 0, "game": 0, "research": 0}
    participants: set[str] = set()
    for e in held:
        by_kind[e["plan"]["kind"]] += 1
        rows = await svc.store.find(REGISTRATIONS, {"event_id": e["event_id"], "status": "registered"}, limit=LIMIT)
        participants |= {r["member_id"] for r in rows}
    recorded = [e for e in held if e.get("present") is not None]
    requests = await svc.store.find(REQUESTS, {"season_id": season_id}, limit=LIMIT)
    outcome = [r["outcome"] for r in requests]
    teams = {"applied": 0, "confirmed": 0, "waitlisted": 0, "declined": 0}
    for e in held:
        if e["plan"]["kind"] != "game":
            continue
        state, _ = await svc.load(GAME_TEAMS, e["event_id"])
        teams["applied"] += len(state.teams)
        teams["confirmed"] += len(state.confirmed)
        teams["waitlisted"] += len(state.waitlist)
        teams["declined"] += sum(1 for t in state.teams.values() if t.status == "declined")
    research, _ = await svc.load(RESEARCH, season_id)
    assigned = research.assignments.values()
    return c.SeasonReport(
        events_held=c.CountByKind(**by_kind), events_cancelled=sum(1 for e in events if e["status"] == "cancelled"),
        capacity=sum(e["plan"]["capacity"] for e in held), places_taken=sum(e["registered"] for e in held),
        participants=len(participants), waitlisted=sum(e["waitlisted"] for e in held),
        attendance_recorded=len(recorded), present=sum(len(e["present"]) for e in recorded),
        registered_where_recorded=sum(e["registered"] for e in recorded),
        requests=len(requests), requests_accepted=outcome.count("accepted"), requests_merged=outcome.count("merged"),
        requests_declined=outcome.count("declined"),
        teams_applied=teams["applied"], teams_confirmed=teams["confirmed"], teams_waitlisted=teams["waitlisted"],
        teams_declined=teams["declined"],
        research_tasks=len(research.tasks), research_assigned=len(research.assignments),
        research_hours=sum(a.effort_hours for a in assigned),
        research_volunteers=len({a.member_id for a in assigned}),
        reports=await reported_lines(svc, season_id))
