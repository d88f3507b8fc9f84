"""Reactions to events: the calendar closing a season opens the pick window for the next one (and closes
the window of the season that closed, and any other still open); a durable timer closes a window at its
time; a closed window's season is reported for the calendar's results; a member who leaves a group gives
up the picks they hold there this season, and one who leaves the community all of them.

Every decision is idempotent on its aggregate's state (a window opens once, a pick released is not held),
and its event ids derive from the cause: a redelivered event appends nothing new."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from libs.contracts import calendar as cal
from libs.contracts import groups as g
from libs.contracts import roles as c
from libs.contracts.envelope import SYSTEM_ACTOR
from libs.contracts.onboarding import LEAVING_EVENTS, AccessRevoked, MemberErased
from libs.contracts.onboarding import SERVICE as ONBOARDING
from libs.contracts.subjects import events_of
from libs.kit.erasure import caused_ids, caused_meta, view_at
from libs.kit.eventstore import Meta, Recorded
from libs.kit.service import Service
from libs.kit.timers import Due, Timer
from libs.kit.working_groups import WGROUPS
from services.roles import domain as d
from services.roles.domain import PICKS, WINDOW
from services.roles.handlers import decide_pick
from services.roles.my_data import register_my_data
from services.roles.projections import HELD, ROLES_VIEW, VACANCIES, WINDOWS
from services.roles.queries import COORDINATION_ROLES, GROUP_ROLES, Reads
from services.roles.settings import Settings

#: the most working groups a season's report counts
MAX_GROUPS = 10_000


def register_policies(svc: Service, settings: Settings) -> None:
    register_my_data(svc)
    reads = Reads(svc, settings)

    @svc.policy("roles_windows", [events_of(cal.SERVICE, "season")], types=(cal.SeasonClosed,))
    async def when_season_closed_open_the_pick_window(rec: Recorded) -> None:
        """The picks are for the season after the closed one: its first day (in the community's zone) closes
        the window, but a window opened late stays open for the configured minimum."""
        e = rec.event
        if not isinstance(e, cal.SeasonClosed):
            return
        at = rec.envelope.occurred_at
        defaults = settings.default_dates(e.season_id)
        ends_on: date = e.ends_on or (defaults[1] if defaults else at.date())
        season_id, first_day = settings.next_season(ends_on)
        closes_at = max(settings.day_starts_at(first_day), at + timedelta(days=settings.pick_window_min_days))
        meta = caused_meta(rec)
        for other in [e.season_id, *(w["season_id"] for w in await svc.store.find(WINDOWS, {"status": "open"}))]:
            if other != season_id:
                reason = "season_closed" if other == e.season_id else "next_window"
                await svc.decide(WINDOW, other, d.ClosePickWindow(other, at, reason), meta,
                                 caused_ids(rec, f"roles:close:{other}"))
        await svc.decide(WINDOW, season_id, d.OpenPickWindow(
            season_id, e.season_id, at, closes_at, settings.role_capacity, settings.coordination_role_capacity,
            settings.max_picks), meta, caused_ids(rec, f"roles:open:{season_id}"))

    def schedule(rec: Recorded) -> list[Due]:
        e = rec.event
        match e:
            case c.PickWindowOpened():
                return [Due(e.season_id, e.closes_at)]
            case c.PickWindowClosed():
                return [Due(e.season_id, None)]
        return []

    async def when_a_pick_window_runs_out_close_it(timer: Timer) -> None:
        cause = f"hr-roles-window:{timer.key}:{timer.at.isoformat()}"
        meta = Meta(actor="system", correlation_id=str(uuid.uuid5(uuid.NAMESPACE_URL, cause)))
        await svc.decide(WINDOW, timer.key, d.ClosePickWindow(timer.key, timer.at, "time"), meta,
                         lambda n: [uuid.uuid5(uuid.NAMESPACE_URL, f"{cause}:{i}") for i in range(n)])

    svc.timer("pick_windows", [events_of(c.SERVICE, "window")], schedule, when_a_pick_window_runs_out_close_it)

    @svc.policy("roles_reports", [events_of(c.SERVICE, "window")], waits_for_views=True)
    async def when_pick_window_closed_report_the_season(rec: Recorded) -> None:
        """Roles taken and vacancies left open, from the read model as of the window's closing."""
        e = rec.event
        if not isinstance(e, c.PickWindowClosed):
            return
        await view_at(svc, ROLES_VIEW, rec)
        lines = await season_lines(e.season_id)
        await svc.decide(WINDOW, e.season_id, d.ReportSeason(e.season_id, lines), caused_meta(rec),
                         caused_ids(rec, "roles:report"))

    async def season_lines(season_id: str) -> tuple[cal.ReportLine, ...]:
        window = await svc.store.get(WINDOWS, season_id)
        held = await svc.store.find(HELD, {"season_id": season_id}, limit=100_000)
        groups = [doc["group_id"] for doc in await svc.store.find(WGROUPS, {"status": "active"}, limit=MAX_GROUPS)]
        open_by_role = dict.fromkeys(range(1, 13), 0)
        places_open = 0
        for group_id in [*groups, None]:
            default = reads.default_capacity(window, group_id)
            for role in GROUP_ROLES if group_id else COORDINATION_ROLES:
                doc = await svc.store.get(VACANCIES, c.vacancy_id(season_id, group_id, role))
                free = max(0, doc["capacity"] - len(doc["holders"])) if doc else default
                places_open += free
                open_by_role[role] += 1 if free else 0
        figures = {"roles_taken": len(held), "members_with_roles": len({h["member_id"] for h in held}),
                   "groups": len(groups), "vacancies_open": sum(open_by_role.values()), "places_open": places_open,
                   **{f"open_role_{role}": n for role, n in open_by_role.items()}}
        return tuple(cal.ReportLine(source=c.SERVICE, key=k, value=v) for k, v in figures.items())

    async def release_all(rec: Recorded, member_id: str, group_id: str | None, reason: str) -> None:
        """The member's picks of the open window (in one group, or everywhere) are given up."""
        window = await reads.open_window()
        if window is None:
            return
        picks, _ = await svc.load(PICKS, member_id)
        for held in sorted(picks.of(window["season_id"]), key=lambda h: (h.group_id or "", h.role)):
            if group_id is not None and held.group_id != group_id:
                continue
            facts = d.PickFacts(season_id=window["season_id"], default_capacity=reads.default_capacity(
                window, held.group_id), max_picks=window["max_picks"], member_of_group=False)
            step = f"roles:leave:{held.group_id}:{held.role}"
            await decide_pick(svc, d.ReleaseRole(SYSTEM_ACTOR, member_id, held.group_id, held.role, facts, reason),
                              member_id, caused_meta(rec),
                              lambda part, n, step=step: caused_ids(rec, f"{step}:{part}")(n))

    @svc.policy("roles_leavers", [events_of(ONBOARDING, "member")], types=LEAVING_EVENTS)
    async def when_member_leaves_the_community_release_their_picks(rec: Recorded) -> None:
        """A pick is a place in the community's work this season: who is no longer there holds it no more."""
        if isinstance(rec.event, AccessRevoked | MemberErased):
            await release_all(rec, rec.envelope.aggregate_id, None, "left_community")

    @svc.policy("roles_group_leavers", [events_of(g.SERVICE, "working_group")])
    async def when_member_leaves_a_group_release_their_picks_there(rec: Recorded) -> None:
        e = rec.event
        if isinstance(e, g.MemberLeftWorkingGroup):
            await release_all(rec, e.member_id, e.group_id, "left_group")
