"""Roles queries: the matrix, the pick window, a group's vacancy board, a member's development map and the
two pictures. Members of the community (and moderators) read them; a member's map is their own (a
moderator may read anyone's)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from libs.contracts import roles as c
from libs.contracts.envelope import Actor
from libs.contracts.errors import Forbidden, NotFound
from libs.kit.rpc import Context, community_member
from libs.kit.service import Service
from libs.kit.working_groups import GROUPS_VIEW, WGROUPS, WMEMBERS, membership_key
from services.roles.projections import (
    FEEDBACK_SEEN,
    FEEDBACK_VIEW,
    HELD,
    ROLES_VIEW,
    SEASONS,
    SEASONS_VIEW,
    VACANCIES,
    WINDOWS,
)
from services.roles.settings import Settings
from services.roles.svg import draw_coverage, draw_map

VIEWS = [ROLES_VIEW, SEASONS_VIEW, GROUPS_VIEW, FEEDBACK_VIEW]
#: the most windows (seasons) and roles a map reads: two seasons a year, a few roles each
MAX_ROWS = 1000
GROUP_ROLES = tuple(range(1, 10))
COORDINATION_ROLES = (10, 11, 12)


def reader(ctx: Context) -> None:
    community_member(ctx, "community_members_only")


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class Reads:
    """The read models as the queries and the command answers use them."""

    def __init__(self, svc: Service, settings: Settings):
        self.svc = svc
        self.settings = settings

    async def open_window(self, now: datetime | None = None) -> dict | None:
        """The window open at this moment (its timer may lag: past its time it is closed)."""
        now = now or datetime.now(UTC)
        for doc in await self.svc.store.find(WINDOWS, {"status": "open"}, sort=[("opened_at", -1)], limit=5):
            if datetime.fromisoformat(doc["closes_at"]) > now:
                return doc
        return None

    async def last_window(self) -> dict | None:
        found = await self.svc.store.find(WINDOWS, {}, sort=[("opened_at", -1)], limit=1)
        return found[0] if found else None

    async def window_view(self, doc: dict | None = None, now: datetime | None = None) -> c.PickWindowView:
        now = now or datetime.now(UTC)
        if doc is None:
            doc = await self.open_window(now) or await self.last_window()
        is_open = doc is not None and doc["status"] == "open" and datetime.fromisoformat(doc["closes_at"]) > now
        view = c.PickWindowView(status="open" if is_open else "closed", max_picks=doc["max_picks"] if doc else
                                self.settings.max_picks, time_zone=self.settings.community_time_zone)
        if doc is not None:
            view = view.model_copy(update={
                "season_id": doc["season_id"], "opened_at": _at(doc["opened_at"]),
                "closes_at": _at(doc["closes_at"]),
                "closed_at": None if is_open else (_at(doc["closed_at"]) or _at(doc["closes_at"]))})
        if not is_open:
            running = [s for s in await self.svc.store.find(SEASONS, {}, limit=MAX_ROWS)
                       if s["phase"] in ("planning", "open")]
            if running:
                first = min(running, key=lambda s: (s["ends_on"], s["season_id"]))
                view = view.model_copy(update={"opens_after_season_id": first["season_id"],
                                               "opens_after_season_ends_on": date.fromisoformat(first["ends_on"])})
        return view

    async def group(self, group_id: str, actor: Actor) -> dict:
        """An active working group the caller may see: one shown to its members only is not found by others
        (as the groups service answers)."""
        doc = await self.svc.store.get(WGROUPS, group_id)
        if doc is None or doc["status"] != "active" or (
                doc.get("visibility") == "members" and not actor.is_moderator
                and not await self.in_group(group_id, actor.id)):
            raise NotFound("group_not_found", group_id=group_id)
        return doc

    async def in_group(self, group_id: str, member_id: str) -> bool:
        return await self.svc.store.get(WMEMBERS, membership_key(group_id, member_id)) is not None

    async def window_of(self, season_id: str) -> dict | None:
        return await self.svc.store.get(WINDOWS, season_id)

    def default_capacity(self, window: dict | None, group_id: str | None) -> int:
        if group_id is None:
            return window["coordination_capacity"] if window else self.settings.coordination_role_capacity
        return window["group_capacity"] if window else self.settings.role_capacity

    async def board(self, group_id: str | None, season_id: str | None, ctx: Context) -> c.VacancyBoard:
        now = datetime.now(UTC)
        group = await self.group(group_id, ctx.actor) if group_id else None
        open_doc = await self.open_window(now)
        if season_id is None:
            doc = open_doc or await self.last_window()
            season_id = doc["season_id"] if doc else None
        window = await self.window_of(season_id) if season_id else None
        window_view = await self.window_view(window, now)
        me = ctx.actor.id
        is_open = open_doc is not None and open_doc["season_id"] == season_id
        default = self.default_capacity(window, group_id)
        vacancies = []
        for role in GROUP_ROLES if group_id else COORDINATION_ROLES:
            doc = await self.svc.store.get(VACANCIES, c.vacancy_id(season_id, group_id, role)) if season_id else None
            capacity, holders = (doc["capacity"], tuple(doc["holders"])) if doc else (default, ())
            vacancies.append(c.VacancyView(role=role, quality=c.quality_of(role), capacity=capacity, holders=holders,
                                           open=max(0, capacity - len(holders)), mine=me in holders))
        member_here = (await self.in_group(group_id, me)) if group_id else ctx.actor.has("member")
        coordinator = ctx.actor.is_moderator or (group is not None and me in group.get("coordinators", []))
        mine = len(await self.svc.store.find(HELD, {"member_id": me, "season_id": season_id}, limit=50)) \
            if season_id else 0
        held_qualities = {v.quality for v in vacancies if v.holders}
        return c.VacancyBoard(
            season_id=season_id, group_id=group_id or c.COORDINATION, group_title=group["title"] if group else None,
            window=window_view, vacancies=tuple(vacancies), can_pick=is_open and member_here,
            can_set_capacity=is_open and coordinator, my_picks=mine,
            max_picks=window["max_picks"] if window else self.settings.max_picks,
            qualities_uncovered=tuple(q for q in c.QUALITIES if q in {v.quality for v in vacancies}
                                      and q not in held_qualities))

    async def development_map(self, member_id: str) -> c.DevelopmentMap:
        now = datetime.now(UTC)
        open_doc = await self.open_window(now)
        current = open_doc["season_id"] if open_doc else None
        windows = {w["season_id"]: w for w in await self.svc.store.find(WINDOWS, {}, limit=MAX_ROWS)}
        rows = await self.svc.store.find(HELD, {"member_id": member_id}, limit=MAX_ROWS)
        titles: dict[str, str | None] = {}
        for row in rows:
            if row["group_id"] != c.COORDINATION and row["group_id"] not in titles:
                doc = await self.svc.store.get(WGROUPS, row["group_id"])
                titles[row["group_id"]] = doc["title"] if doc else None
        by_season: dict[str, list[c.HeldRole]] = {}
        for row in sorted(rows, key=lambda r: (r["role"], r["group_id"])):
            group_id = None if row["group_id"] == c.COORDINATION else row["group_id"]
            by_season.setdefault(row["season_id"], []).append(c.HeldRole(
                season_id=row["season_id"], group_id=group_id, group_title=titles.get(group_id or ""),
                role=row["role"], quality=row["quality"]))
        order = sorted(by_season, key=lambda s: (windows[s]["opened_at"] if s in windows else "", s))
        seasons = tuple(c.SeasonHeld(season_id=s, roles=tuple(by_season[s]), current=s == current) for s in order)
        covered = {h.quality for s in seasons if not s.current for h in s.roles}
        holding_now = {(h.group_id, h.role) for s in seasons if s.current for h in s.roles}
        missing = tuple(q for q in self.settings.vision_requires if q not in covered)
        suggestions = []
        wanted = [q for q in c.GROUP_QUALITIES if q not in covered] + ([] if missing or "vision" in covered
                                                                      else ["vision"])
        for quality in wanted:
            suggestions.append(await self._suggest(quality, member_id, current, holding_now))
        seen = await self.svc.store.get(FEEDBACK_SEEN, member_id)
        return c.DevelopmentMap(
            member_id=member_id, seasons=seasons, qualities_covered=tuple(q for q in c.QUALITIES if q in covered),
            vision_missing=missing, suggestions=tuple(suggestions), window=await self.window_view(open_doc, now),
            feedback_by_quality={q: seen["qualities"][q] for q in c.QUALITIES if q in seen["qualities"]}
            if seen else {})

    async def _suggest(self, quality: c.Quality, member_id: str, season_id: str | None,
                       holding: set[tuple[str | None, int]]) -> c.Suggestion:
        """The first open vacancy of the quality in the member's groups (coordination for Vision), while the
        window is open; else only the quality."""
        if season_id is None:
            return c.Suggestion(quality=quality)
        roles = [r.number for r in c.ROLES if r.quality == quality]
        window = await self.window_of(season_id)
        places: list[tuple[str | None, str | None]] = [(None, None)]
        if quality != "vision":
            places = []
            for row in await self.svc.store.find(WMEMBERS, {"member_id": member_id}, limit=MAX_ROWS):
                group = await self.svc.store.get(WGROUPS, row["group_id"])
                if group is not None and group["status"] == "active":
                    places.append((group["group_id"], group["title"]))
            places.sort(key=lambda p: (p[1] or "", p[0] or ""))
        for group_id, title in places:
            default = self.default_capacity(window, group_id)
            for role in roles:
                if (group_id, role) in holding:
                    continue
                doc = await self.svc.store.get(VACANCIES, c.vacancy_id(season_id, group_id, role))
                if (doc["capacity"] - len(doc["holders"]) if doc else default) > 0:
                    return c.Suggestion(quality=quality, role=role, group_id=group_id, group_title=title)
        return c.Suggestion(quality=quality)


def register_queries(svc: Service, settings: Settings) -> None:
    reads = Reads(svc, settings)

    @svc.query(c.GetMatrix)
    async def get_matrix(q: c.GetMatrix, ctx: Context) -> c.Matrix:
        reader(ctx)
        return c.MATRIX

    @svc.query(c.GetPickWindow, reads=VIEWS)
    async def get_pick_window(q: c.GetPickWindow, ctx: Context) -> c.PickWindowView:
        reader(ctx)
        return await reads.window_view()

    @svc.query(c.GetVacancyBoard, reads=VIEWS)
    async def get_vacancy_board(q: c.GetVacancyBoard, ctx: Context) -> c.VacancyBoard:
        reader(ctx)
        return await reads.board(q.group_id, q.season_id, ctx)

    def whose(member_id: str | None, ctx: Context) -> str:
        reader(ctx)
        if member_id and member_id != ctx.actor.id and not ctx.actor.is_moderator:
            raise Forbidden("own_map_only")
        return member_id or ctx.actor.id

    @svc.query(c.GetDevelopmentMap, reads=VIEWS)
    async def get_development_map(q: c.GetDevelopmentMap, ctx: Context) -> c.DevelopmentMap:
        return await reads.development_map(whose(q.member_id, ctx))

    @svc.query(c.DrawDevelopmentMap, reads=VIEWS)
    async def draw_development_map(q: c.DrawDevelopmentMap, ctx: Context) -> c.DevelopmentMapSvg:
        return c.DevelopmentMapSvg(svg=draw_map(await reads.development_map(whose(q.member_id, ctx)), q.lang))

    @svc.query(c.DrawRoleCoverage, reads=VIEWS)
    async def draw_role_coverage(q: c.DrawRoleCoverage, ctx: Context) -> c.DevelopmentMapSvg:
        reader(ctx)
        return c.DevelopmentMapSvg(svg=draw_coverage(await reads.board(q.group_id, q.season_id, ctx), q.lang))
