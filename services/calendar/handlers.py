"""Calendar commands: a season's steps, requests and grid on the season's aggregate; a place on the
event's registrations, decided with the event as the season's aggregate has it now (never a stale read
model); a member's feed links.

Who is "a member of the community" is the caller's role ``member`` (the actors read model every service
keeps: a person in the Main group); moderators and admins move seasons and the grid."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from uuid6 import uuid7

from libs.contracts import calendar as c
from libs.contracts.errors import Forbidden, NotFound
from libs.kit.rpc import Context, Done, signed_in
from libs.kit.service import Service, meta_of
from services.calendar import domain as d
from services.calendar.domain import FEED, REGISTRATION, SEASON
from services.calendar.links import feed_links, in_main
from services.calendar.projections import CALENDAR_VIEW
from services.calendar.queries import Reads
from services.calendar.report import season_report
from services.calendar.season_reports import SEASON_REPORT_VIEWS
from services.calendar.settings import Settings


def season_view(season_id: str, title: str, state: d.Season) -> c.SeasonView:
    assert state.phase is not None and state.starts_on is not None and state.ends_on is not None
    return c.SeasonView(season_id=season_id, title=title, phase=state.phase, starts_on=state.starts_on,
                        ends_on=state.ends_on, time_zone=state.time_zone,
                        events=sum(1 for e in state.events.values() if e.status != "removed"),
                        requests=len(state.requests))


def event_view(season_id: str, season: d.Season, event_id: str, regs: d.Registrations, me: str) -> c.EventView:
    event = season.events[event_id]
    status: Literal["draft", "scheduled", "cancelled"] = (
        "cancelled" if event.status == "cancelled" else "draft" if event.status == "draft" else "scheduled")
    mine: Literal["registered", "waitlisted"] | None = (
        "registered" if me in regs.registered else "waitlisted" if me in regs.waitlist else None)
    return c.EventView(season_id=season_id, event_id=event_id, status=status, revision=event.revision,
                       plan=event.plan, time_zone=season.time_zone, registered=len(regs.registered),
                       capacity=event.plan.capacity, waitlisted=len(regs.waitlist), my_status=mine,
                       my_position=regs.position(me))


def facts_of(season: d.Season, event_id: str) -> d.EventFacts:
    """The event as the season decides it now; a removed one does not exist."""
    event = season.events.get(event_id)
    if event is None or event.status == "removed":
        return d.EventFacts(None, 0, season.phase)
    return d.EventFacts(event.status, event.plan.capacity, season.phase)


def register_handlers(svc: Service, settings: Settings) -> None:
    titles: dict[str, str] = {}
    reads = Reads(svc)

    async def on_season(season_id: str, command: d.SeasonCommand, ctx: Context):
        signed_in(ctx)
        return await svc.decide(SEASON, season_id, command, meta_of(ctx))

    async def season_title(season_id: str) -> str:
        if season_id not in titles:
            doc = await svc.store.get("seasons", season_id)
            titles[season_id] = doc["title"] if doc else season_id
        return titles[season_id]

    @svc.command(c.StartSeasonPlanning)
    async def start_season_planning(cmd: c.StartSeasonPlanning, ctx: Context) -> Done:
        defaults = settings.default_dates(cmd.season_id)
        starts_on = cmd.starts_on or (defaults[0] if defaults else None)
        ends_on = cmd.ends_on or (defaults[1] if defaults else None)
        done = await on_season(cmd.season_id, d.StartPlanning(ctx.actor, cmd.season_id, cmd.title, starts_on, ends_on,
                                                              cmd.time_zone), ctx)
        titles[cmd.season_id] = cmd.title
        return Done(done.seq, season_view(cmd.season_id, cmd.title, done.state))

    async def step(cmd: c.OpenSeason | c.CloseSeason | c.PublishSeasonResults, command: d.SeasonCommand,
                   ctx: Context) -> Done:
        done = await on_season(cmd.season_id, command, ctx)
        return Done(done.seq, season_view(cmd.season_id, await season_title(cmd.season_id), done.state))

    @svc.command(c.OpenSeason)
    async def open_season(cmd: c.OpenSeason, ctx: Context) -> Done:
        return await step(cmd, d.Open(ctx.actor, cmd.season_id), ctx)

    @svc.command(c.CloseSeason)
    async def close_season(cmd: c.CloseSeason, ctx: Context) -> Done:
        return await step(cmd, d.Close(ctx.actor, cmd.season_id), ctx)

    @svc.command(c.PublishSeasonResults)
    async def publish_season_results(cmd: c.PublishSeasonResults, ctx: Context) -> Done:
        """The report is computed first, from read models caught up with the whole log: a closed season
        takes no more registrations, so what they hold is final."""
        signed_in(ctx)
        season, _ = await svc.load(SEASON, cmd.season_id)
        report = c.SeasonReport()
        if ctx.actor.is_moderator and season.phase == "closed":
            await svc.wait_applied(await svc.events.last_seq(), [CALENDAR_VIEW, *SEASON_REPORT_VIEWS])
            report = await season_report(svc, cmd.season_id)
        return await step(cmd, d.PublishResults(ctx.actor, cmd.season_id, report), ctx)

    async def on_request(cmd, request_id: str, command: d.SeasonCommand, ctx: Context) -> Done:
        """The answer is the request as everyone reads it: its words are in the read model only."""
        done = await on_season(cmd.season_id, command, ctx)
        await svc.wait_read_back(done, [CALENDAR_VIEW])
        return Done(done.seq, await reads.request_view(cmd.season_id, request_id, ctx.actor.id))

    @svc.command(c.RequestEvent)
    async def request_event(cmd: c.RequestEvent, ctx: Context) -> Done:
        request_id = str(uuid7())
        return await on_request(cmd, request_id, d.Ask(
            ctx.actor, cmd.season_id, request_id, in_main(ctx.actor), cmd.topic, cmd.format, cmd.experience,
            cmd.group_size, cmd.preferred_dates), ctx)

    @svc.command(c.SupportEventRequest)
    async def support_event_request(cmd: c.SupportEventRequest, ctx: Context) -> Done:
        return await on_request(cmd, cmd.request_id, d.Support(ctx.actor, cmd.season_id, cmd.request_id,
                                                               in_main(ctx.actor)), ctx)

    @svc.command(c.AcceptEventRequest)
    async def accept_event_request(cmd: c.AcceptEventRequest, ctx: Context) -> Done:
        return await on_request(cmd, cmd.request_id, d.Accept(ctx.actor, cmd.season_id, cmd.request_id), ctx)

    @svc.command(c.MergeEventRequest)
    async def merge_event_request(cmd: c.MergeEventRequest, ctx: Context) -> Done:
        return await on_request(cmd, cmd.request_id, d.Merge(ctx.actor, cmd.season_id, cmd.request_id,
                                                             cmd.into_request_id), ctx)

    @svc.command(c.DeclineEventRequest)
    async def decline_event_request(cmd: c.DeclineEventRequest, ctx: Context) -> Done:
        return await on_request(cmd, cmd.request_id, d.Decline(ctx.actor, cmd.season_id, cmd.request_id,
                                                               cmd.reason), ctx)

    async def on_grid(season_id: str, event_id: str, command: d.SeasonCommand, ctx: Context) -> Done:
        done = await on_season(season_id, command, ctx)
        regs, _ = await svc.load(REGISTRATION, event_id)
        return Done(done.seq, event_view(season_id, done.state, event_id, regs, ctx.actor.id))

    @svc.command(c.AddGridEvent)
    async def add_grid_event(cmd: c.AddGridEvent, ctx: Context) -> Done:
        event_id = str(uuid7())
        return await on_grid(cmd.season_id, event_id, d.AddEvent(ctx.actor, cmd.season_id, event_id, cmd.plan), ctx)

    @svc.command(c.ChangeGridEvent)
    async def change_grid_event(cmd: c.ChangeGridEvent, ctx: Context) -> Done:
        return await on_grid(cmd.season_id, cmd.event_id, d.ChangeEvent(ctx.actor, cmd.season_id, cmd.event_id,
                                                                         cmd.plan), ctx)

    @svc.command(c.RemoveGridEvent)
    async def remove_grid_event(cmd: c.RemoveGridEvent, ctx: Context) -> Done:
        done = await on_season(cmd.season_id, d.RemoveEvent(ctx.actor, cmd.season_id, cmd.event_id), ctx)
        return Done(done.seq, event_view(cmd.season_id, done.state, cmd.event_id, d.Registrations(), ctx.actor.id))

    @svc.command(c.CancelGridEvent)
    async def cancel_grid_event(cmd: c.CancelGridEvent, ctx: Context) -> Done:
        return await on_grid(cmd.season_id, cmd.event_id, d.CancelEvent(ctx.actor, cmd.season_id, cmd.event_id,
                                                                         cmd.reason), ctx)

    async def on_registration(cmd: c.RegisterForEvent | c.CancelRegistration | c.RecordAttendance, ctx: Context,
                              command: d.RegistrationCommand) -> Done:
        done = await svc.decide(REGISTRATION, cmd.event_id, command, meta_of(ctx))
        season, _ = await svc.load(SEASON, cmd.season_id)
        return Done(done.seq, event_view(cmd.season_id, season, cmd.event_id, done.state, ctx.actor.id))

    async def season_of(season_id: str, event_id: str) -> tuple[d.Season, d.EventFacts]:
        season, _ = await svc.load(SEASON, season_id)
        facts = facts_of(season, event_id)
        if facts.status is None or facts.status == "draft":
            raise NotFound("event_not_found", event_id=event_id)
        return season, facts

    @svc.command(c.RegisterForEvent)
    async def register_for_event(cmd: c.RegisterForEvent, ctx: Context) -> Done:
        signed_in(ctx)
        _, facts = await season_of(cmd.season_id, cmd.event_id)
        return await on_registration(cmd, ctx, d.Register(ctx.actor, cmd.event_id, facts, in_main(ctx.actor)))

    @svc.command(c.CancelRegistration)
    async def cancel_registration(cmd: c.CancelRegistration, ctx: Context) -> Done:
        """A guest has no place to give up and no event to read (a member who left Main has theirs freed by a
        policy)."""
        signed_in(ctx)
        if not (in_main(ctx.actor) or ctx.actor.is_moderator):
            raise Forbidden("calendar_members_only")
        _, facts = await season_of(cmd.season_id, cmd.event_id)
        member_id = cmd.member_id or ctx.actor.id
        return await on_registration(cmd, ctx, d.Unregister(ctx.actor, cmd.event_id, member_id, facts))

    @svc.command(c.RecordAttendance)
    async def record_attendance(cmd: c.RecordAttendance, ctx: Context) -> Done:
        signed_in(ctx)
        season, facts = await season_of(cmd.season_id, cmd.event_id)
        plan = season.events[cmd.event_id].plan
        return await on_registration(cmd, ctx, d.Attend(ctx.actor, cmd.event_id, cmd.present, facts,
                                                        plan.host_id == ctx.actor.id,
                                                        datetime.now(UTC) >= plan.starts_at))

    @svc.command(c.RenewFeedLink)
    async def renew_feed_link(cmd: c.RenewFeedLink, ctx: Context) -> Done:
        signed_in(ctx)
        if not (in_main(ctx.actor) or ctx.actor.is_moderator):
            raise Forbidden("calendar_members_only")
        done = await svc.decide(FEED, ctx.actor.id, d.RenewFeed(ctx.actor.id), meta_of(ctx))
        return Done(done.seq, feed_links(settings, ctx.actor.id, done.state.generation))
