"""The roles service's read models: the pick windows, every vacancy that was ever touched (a vacancy with
no document has the window's default capacity and no holders), the roles each member held, and — from
the calendar's events — its seasons (their days and phase: "the window opens when season X closes")."""

from __future__ import annotations

from typing import Any

from libs.contracts import calendar as cal
from libs.contracts import feedback as fb
from libs.contracts import roles as c
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Recorded
from libs.kit.projection import View
from libs.kit.service import Service
from libs.kit.working_groups import keep_working_groups

WINDOWS = "windows"
VACANCIES = "vacancies"
HELD = "held"
SEASONS = "seasons"
#: from the feedback service: each game team's roster, and per member the qualities of the feedback they got
ROSTERS = "game_rosters"
FEEDBACK_SEEN = "feedback_seen"
ROLES_VIEW = "roles"
FEEDBACK_VIEW = "feedback_seen"
SEASONS_VIEW = "seasons"


def plain(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def held_key(member_id: str, season_id: str, group_id: str | None, role: int) -> str:
    return f"{member_id}:{season_id}:{group_id or c.COORDINATION}:{role}"


async def _change(view: View, collection: str, key: str, **changes: Any) -> None:
    doc = await view.get(collection, key)
    if doc is not None:
        await view.put(collection, key, {**plain(doc), **changes})


def register_projections(svc: Service) -> None:
    @svc.projection(ROLES_VIEW, [events_of(c.SERVICE)], [WINDOWS, VACANCIES, HELD])
    async def when_roles_changed_update_windows_vacancies_and_maps(rec: Recorded, view: View) -> None:
        e = rec.event
        match e:
            case c.PickWindowOpened():
                await view.put(WINDOWS, e.season_id, {
                    "key": e.season_id, "season_id": e.season_id, "after_season_id": e.after_season_id,
                    "status": "open", "opened_at": e.opened_at.isoformat(), "closes_at": e.closes_at.isoformat(),
                    "closed_at": None, "group_capacity": e.group_capacity,
                    "coordination_capacity": e.coordination_capacity, "max_picks": e.max_picks,
                    "reported": False, "position": rec.seq})
            case c.PickWindowClosed():
                await _change(view, WINDOWS, e.season_id, status="closed", closed_at=e.closed_at.isoformat(),
                              closed_because=e.reason)
            case c.RolesSeasonReported():
                await _change(view, WINDOWS, e.season_id, reported=True)
            case c.VacancyOccupied() | c.VacancyFreed() | c.VacancyCapacitySet():
                key = c.vacancy_id(e.season_id, e.group_id, e.role)
                await view.put(VACANCIES, key, {
                    "key": key, "season_id": e.season_id, "group_id": e.group_id or c.COORDINATION, "role": e.role,
                    "quality": c.quality_of(e.role), "capacity": e.capacity, "holders": list(e.holders),
                    "taken": len(e.holders)})
            case c.RoleTaken():
                key = held_key(e.member_id, e.season_id, e.group_id, e.role)
                await view.put(HELD, key, {"key": key, "member_id": e.member_id, "season_id": e.season_id,
                                           "group_id": e.group_id or c.COORDINATION, "role": e.role,
                                           "quality": e.quality, "taken_at": rec.envelope.occurred_at.isoformat()})
            case c.RoleReleased():
                await view.delete(HELD, held_key(e.member_id, e.season_id, e.group_id, e.role))

    @svc.projection(SEASONS_VIEW, [events_of(cal.SERVICE, "season")], [SEASONS], types=(
        cal.SeasonPlanningStarted, cal.SeasonOpened, cal.SeasonClosed, cal.SeasonResultsPublished))
    async def when_calendar_season_moved_keep_its_days(rec: Recorded, view: View) -> None:
        """When the next window opens is when the running season closes: the page says so with its last day."""
        e = rec.event
        match e:
            case cal.SeasonPlanningStarted():
                await view.put(SEASONS, e.season_id, {
                    "key": e.season_id, "season_id": e.season_id, "title": e.title, "phase": "planning",
                    "starts_on": e.starts_on.isoformat(), "ends_on": e.ends_on.isoformat(),
                    "time_zone": e.time_zone})
            case cal.SeasonOpened():
                await _change(view, SEASONS, e.season_id, phase="open")
            case cal.SeasonClosed():
                await _change(view, SEASONS, e.season_id, phase="closed")
            case cal.SeasonResultsPublished():
                await _change(view, SEASONS, e.season_id, phase="results_published")

    @svc.projection(FEEDBACK_VIEW, [events_of(fb.SERVICE)], [ROSTERS, FEEDBACK_SEEN])
    async def when_feedback_is_published_count_its_quality_for_the_team(rec: Recorded, view: View) -> None:
        """The map shows which qualities the feedback to a member's teams developed: each published piece
        counts once for every member on its team's roster in that game (a document records the event it
        applied, so a redelivery counts nothing twice)."""
        e = rec.event
        match e:
            case fb.TeamJoinedGame():
                key = f"{e.game_id}:{e.group_id}"
                await view.put(ROSTERS, key, {"key": key, "roster": list(e.roster)})
            case fb.FeedbackPublished():
                team = await view.get(ROSTERS, f"{e.game_id}:{e.group_id}")
                for member_id in team["roster"] if team else []:
                    doc = await view.get(FEEDBACK_SEEN, member_id)
                    counts = dict(doc["qualities"]) if doc else {}
                    counts[e.quality] = counts.get(e.quality, 0) + 1
                    await view.put(FEEDBACK_SEEN, member_id, {"key": member_id, "member_id": member_id,
                                                              "qualities": counts})

    keep_working_groups(svc)
