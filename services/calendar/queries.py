"""Reading the calendar: seasons, a season's events with where the caller stands ("19 of 50", their place
in line), the requests of a season with their outcome and the events that answer them, the caller's own
events, and the ICS feeds.

The calendar is the community's: members of the Main group read it (guests are refused), moderators
also see the drafts of a grid before it is published. A feed is read by a calendar app that signs in to
nothing: the link's token is the key, and a renewed link's earlier tokens, an erased or revoked member's,
and a season or group one may not read all answer 404 alike."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any

from libs.contracts import calendar as c
from libs.contracts.envelope import Actor
from libs.contracts.errors import NotFound
from libs.kit.rpc import Context, community_member
from libs.kit.service import Service
from libs.kit.working_groups import GROUPS_VIEW, WGROUPS, WMEMBERS, membership_key
from services.calendar.ics import FeedEvent, render_feed
from services.calendar.links import feed_links, feed_token, in_main
from services.calendar.projections import (
    CALENDAR_VIEW,
    EVENTS,
    FEEDS,
    REGISTRATIONS,
    REQUESTS,
    SEASONS,
    registration_key,
)
from services.calendar.settings import Settings

VIEWS = [CALENDAR_VIEW]
#: the most events a season's grid lists
MAX_EVENTS = 2000


def reader(ctx: Context) -> None:
    """Members of the Main group read the calendar; moderators and admins too."""
    community_member(ctx)


def season_of(doc: dict) -> c.SeasonView:
    return c.SeasonView(season_id=doc["season_id"], title=doc["title"], phase=doc["phase"],
                        starts_on=doc["starts_on"], ends_on=doc["ends_on"], time_zone=doc["time_zone"],
                        events=doc["events"], requests=doc["requests"])


def request_of(doc: dict, me: str, answered_by: tuple[str, ...]) -> c.EventRequestView:
    return c.EventRequestView(
        season_id=doc["season_id"], request_id=doc["request_id"], member_id=doc["member_id"], topic=doc["topic"],
        format=doc["format"], experience=doc["experience"], group_size=doc["group_size"],
        preferred_dates=tuple(doc["preferred_dates"]), supporters=doc["support_count"],
        supported=me in doc["supporters"], outcome=doc["outcome"], into_request_id=doc["into_request_id"],
        reason=doc["reason"], event_ids=answered_by)


def visible(doc: dict | None, actor: Actor) -> bool:
    return doc is not None and (doc["status"] != "draft" or actor.is_moderator)


class Reads:
    """The read models, as the queries and the command answers use them."""

    def __init__(self, svc: Service):
        self.svc = svc

    async def season(self, season_id: str) -> dict:
        doc = await self.svc.store.get(SEASONS, season_id)
        if doc is None:
            raise NotFound("season_not_found", season_id=season_id)
        return doc

    async def event_view(self, doc: dict, me: str, time_zone: str | None = None) -> c.EventView:
        if time_zone is None:
            time_zone = (await self.season(doc["season_id"]))["time_zone"]
        mine = await self.svc.store.get(REGISTRATIONS, registration_key(doc["event_id"], me))
        position = None
        if mine is not None and mine["status"] == "waitlisted":
            ahead = await self.svc.store.find(REGISTRATIONS, {"event_id": doc["event_id"], "status": "waitlisted"},
                                              sort=[("position", 1)], limit=10_000)
            position = 1 + next(i for i, r in enumerate(ahead) if r["member_id"] == me)
        plan = c.EventPlan.model_validate(doc["plan"])
        return c.EventView(season_id=doc["season_id"], event_id=doc["event_id"], status=doc["status"],
                           revision=doc["revision"], plan=plan, time_zone=time_zone, registered=doc["registered"],
                           capacity=plan.capacity, waitlisted=doc["waitlisted"],
                           my_status=mine["status"] if mine else None, my_position=position)

    async def with_people(self, view: c.EventView, actor: Actor, doc: dict) -> c.EventView:
        """Who holds a place and who came: the event's host and moderators see them (to record attendance)."""
        if not (actor.is_moderator or view.plan.host_id == actor.id):
            return view
        rows = await self.svc.store.find(REGISTRATIONS, {"event_id": view.event_id, "status": "registered"},
                                         sort=[("position", 1)], limit=10_000)
        return view.model_copy(update={"registered_ids": tuple(r["member_id"] for r in rows),
                                       "present_ids": tuple(doc.get("present") or ())})

    async def events_of(self, season_id: str) -> list[dict]:
        return await self.svc.store.find(EVENTS, {"season_id": season_id}, sort=[("starts_at", 1), ("event_id", 1)],
                                         limit=MAX_EVENTS)

    async def request_view(self, season_id: str, request_id: str, me: str) -> c.EventRequestView:
        doc = await self.svc.store.get(REQUESTS, request_id)
        if doc is None or doc["season_id"] != season_id:
            raise NotFound("request_not_found", request_id=request_id)
        return request_of(doc, me, _answering(await self.events_of(season_id), doc))


def _answering(events: list[dict], request: dict) -> tuple[str, ...]:
    """The grid's live events that answer the request, or the request it was merged into."""
    wanted = {request["request_id"], request["into_request_id"]} - {None}
    return tuple(e["event_id"] for e in events
                 if e["status"] != "cancelled" and wanted & set(e.get("answers", ())))


def _feed_event(doc: dict, season_title: str) -> FeedEvent:
    return FeedEvent.of_plan(doc["event_id"], c.EventPlan.model_validate(doc["plan"]), revision=doc["revision"],
                             cancelled=doc["status"] == "cancelled",
                             updated_at=datetime.fromisoformat(doc["updated_at"]), description=season_title)


def register_queries(svc: Service, settings: Settings) -> None:
    reads = Reads(svc)

    @svc.query(c.ListSeasons, reads=VIEWS)
    async def list_seasons(q: c.ListSeasons, ctx: Context) -> c.SeasonList:
        reader(ctx)
        docs = await svc.store.find(SEASONS, {}, sort=[("starts_on", -1)], limit=200)
        return c.SeasonList(items=tuple(season_of(d) for d in docs))

    @svc.query(c.GetSeason, reads=VIEWS)
    async def get_season(q: c.GetSeason, ctx: Context) -> c.SeasonView:
        reader(ctx)
        return season_of(await reads.season(q.season_id))

    @svc.query(c.GetSeasonResults, reads=VIEWS)
    async def get_season_results(q: c.GetSeasonResults, ctx: Context) -> c.SeasonReport:
        reader(ctx)
        doc = await reads.season(q.season_id)
        if doc.get("report") is None:
            raise NotFound("season_results_not_published", season_id=q.season_id)
        return c.SeasonReport.model_validate(doc["report"])

    @svc.query(c.ListSeasonEvents, reads=VIEWS)
    async def list_season_events(q: c.ListSeasonEvents, ctx: Context) -> c.SeasonEventList:
        reader(ctx)
        season = await reads.season(q.season_id)
        items = [await reads.event_view(doc, ctx.actor.id, season["time_zone"])
                 for doc in await reads.events_of(q.season_id) if visible(doc, ctx.actor)]
        return c.SeasonEventList(season_id=q.season_id, items=tuple(items))

    @svc.query(c.GetEvent, reads=VIEWS)
    async def get_event(q: c.GetEvent, ctx: Context) -> c.EventView:
        reader(ctx)
        doc = await svc.store.get(EVENTS, q.event_id)
        if not visible(doc, ctx.actor) or doc["season_id"] != q.season_id:  # type: ignore[index]
            raise NotFound("event_not_found", event_id=q.event_id)
        view = await reads.event_view(doc, ctx.actor.id)  # type: ignore[arg-type]
        return await reads.with_people(view, ctx.actor, doc)  # type: ignore[arg-type]

    @svc.query(c.ListEventRequests, reads=VIEWS)
    async def list_event_requests(q: c.ListEventRequests, ctx: Context) -> c.EventRequestList:
        reader(ctx)
        await reads.season(q.season_id)
        events = await reads.events_of(q.season_id)
        docs = await svc.store.find(REQUESTS, {"season_id": q.season_id},
                                    sort=[("support_count", -1), ("position", 1)], limit=2000)
        return c.EventRequestList(season_id=q.season_id,
                                  items=tuple(request_of(d, ctx.actor.id, _answering(events, d)) for d in docs))

    @svc.query(c.ListMyEvents, reads=VIEWS)
    async def list_my_events(q: c.ListMyEvents, ctx: Context) -> c.MyEventList:
        reader(ctx)
        items = []
        for row in await svc.store.find(REGISTRATIONS, {"member_id": ctx.actor.id}, limit=2000):
            doc = await svc.store.get(EVENTS, row["event_id"])
            if doc is not None:
                items.append(await reads.event_view(doc, ctx.actor.id))
        items.sort(key=lambda e: (e.plan.starts_at, e.event_id))
        return c.MyEventList(items=tuple(items))

    async def generation(member_id: str) -> int:
        doc = await svc.store.get(FEEDS, member_id)
        return doc["generation"] if doc else 0

    @svc.query(c.GetFeedLinks, reads=VIEWS)
    async def get_feed_links(q: c.GetFeedLinks, ctx: Context) -> c.FeedLinks:
        reader(ctx)
        return feed_links(settings, ctx.actor.id, await generation(ctx.actor.id))

    @svc.query(c.GetFeed, reads=[CALENDAR_VIEW, GROUPS_VIEW])
    async def get_feed(q: c.GetFeed, ctx: Context) -> c.IcsFeed:
        """404 for every link that opens nothing, whatever the reason: a feed link tells nothing else."""
        gone = NotFound("feed_not_found")
        expected = feed_token(settings, q.member_id, await generation(q.member_id))
        if not hmac.compare_digest(expected.encode(), q.token.encode()):
            raise gone
        owner = await svc.resolve_actor(q.member_id) if svc.resolve_actor else None
        if owner is None or not (in_main(owner) or owner.is_moderator):
            raise gone
        docs: list[dict[str, Any]]
        if q.scope == "season":
            season = await svc.store.get(SEASONS, q.ref_id or "")
            if season is None:
                raise gone
            name = season["title"]
            docs = await reads.events_of(season["season_id"])
        elif q.scope == "group":
            group = await svc.store.get(WGROUPS, q.ref_id or "")
            if group is None or group["status"] != "active" or (
                    await svc.store.get(WMEMBERS, membership_key(group["group_id"], q.member_id)) is None
                    and not owner.is_moderator):
                raise gone
            name = group["title"]
            docs = await svc.store.find(EVENTS, {"group_id": group["group_id"]}, limit=settings.feed_max_events)
        else:
            name = "HR-мнение"
            mine = {r["event_id"] for r in await svc.store.find(REGISTRATIONS, {"member_id": q.member_id},
                                                                 limit=settings.feed_max_events)}
            groups = [r["group_id"] for r in await svc.store.find(WMEMBERS, {"member_id": q.member_id}, limit=500)]
            docs = [d for d in [await svc.store.get(EVENTS, e) for e in sorted(mine)] if d is not None]
            for group_id in groups:
                docs += await svc.store.find(EVENTS, {"group_id": group_id}, limit=settings.feed_max_events)
        unique = {d["event_id"]: d for d in docs if d["status"] != "draft"}
        chosen = sorted(unique.values(), key=lambda d: d["starts_at"])[: settings.feed_max_events]
        names: dict[str, str] = {}  # each season's title, read once however many seasons there are
        for season_id in {d["season_id"] for d in chosen}:
            doc = await svc.store.get(SEASONS, season_id)
            names[season_id] = doc["title"] if doc else season_id
        events = [_feed_event(d, names[d["season_id"]]) for d in chosen]
        return c.IcsFeed(name=name, text=render_feed(name, events, datetime.now(UTC)).decode())
