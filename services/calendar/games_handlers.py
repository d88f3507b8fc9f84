"""Game teams and research workload: commands decided on the game's and the season's aggregates, with the
game as the season's aggregate has it now and the team's group as the groups service last told (its type,
its members and coordinators: the ``wgroups`` read model); the answers and the two queries read the
aggregates themselves, so a team sees its own move at once."""

from __future__ import annotations

from datetime import UTC, datetime

from uuid6 import uuid7

from libs.contracts import calendar as c
from libs.contracts.errors import NotFound
from libs.kit.rpc import Context, Done, signed_in
from libs.kit.service import Service, meta_of
from libs.kit.working_groups import WGROUPS, WMEMBERS, membership_key
from services.calendar import domain as d
from services.calendar import games_domain as gd
from services.calendar.domain import SEASON
from services.calendar.games_domain import GAME_TEAMS, RESEARCH
from services.calendar.links import in_main
from services.calendar.queries import reader
from services.calendar.settings import Settings

GameTeamCommand = (c.ApplyGameTeam | c.ConfirmGameTeam | c.DeclineGameTeam | c.WithdrawGameTeam
                   | c.AcceptGameTeamPlace | c.DeclineGameTeamPlace)


def game_facts(season: d.Season, event_id: str) -> gd.GameFacts:
    event = season.events.get(event_id)
    if event is None or event.status == "removed":
        return gd.GameFacts(None, None, season.phase, 0)
    return gd.GameFacts(event.status, event.plan.kind, season.phase, event.plan.capacity)


def teams_view(event_id: str, state: gd.GameTeams, max_teams: int) -> c.GameTeamsView:
    def view(group_id: str, position: int | None = None) -> c.GameTeamView:
        team = state.teams[group_id]
        return c.GameTeamView(group_id=group_id, roster=team.roster, status=team.status, position=position,
                              offer_expires_at=team.offer_expires_at)

    pending = [g for g, t in state.teams.items() if t.status == "pending"]
    return c.GameTeamsView(event_id=event_id, max_teams=max_teams,
                           confirmed=tuple(view(g) for g in state.confirmed),
                           waitlisted=tuple(view(g, i) for i, g in enumerate(state.waitlist, start=1)),
                           offered=tuple(view(g) for g in state.offered), pending=tuple(view(g) for g in pending))


def research_view(season_id: str, state: gd.Research) -> c.ResearchView:
    assigned: dict[str, int] = {}
    for a in state.assignments.values():
        assigned[a.member_id] = assigned.get(a.member_id, 0) + a.effort_hours
    tasks = []
    for task in sorted(state.tasks.values(), key=lambda t: (-t.effort_hours, t.task_id)):
        outcome = state.assignments.get(task.task_id) or state.unassigned.get(task.task_id)
        tasks.append(c.ResearchTaskView(task_id=task.task_id, title=task.title, effort_hours=task.effort_hours,
                                        member_id=getattr(outcome, "member_id", None),
                                        reason=outcome.reason if outcome else None))
    offers = tuple(c.ResearchOfferView(member_id=m, hours=h, assigned_hours=assigned.get(m, 0))
                   for m, h in sorted(state.offers.items()))
    return c.ResearchView(season_id=season_id, distributed=state.distributed, tasks=tuple(tasks), offers=offers)


def register_games_handlers(svc: Service, settings: Settings) -> None:
    async def game(season_id: str, event_id: str) -> gd.GameFacts:
        season, _ = await svc.load(SEASON, season_id)
        return game_facts(season, event_id)

    async def group_of(group_id: str) -> dict | None:
        doc = await svc.store.get(WGROUPS, group_id)
        return doc if doc is not None and doc["status"] == "active" else None

    async def coordinates(group_id: str, member_id: str) -> bool:
        group = await group_of(group_id)
        return group is not None and member_id in (group.get("coordinators") or ())

    async def on_game(cmd: GameTeamCommand, ctx: Context, command: gd.GameTeamsCommand,
                      facts: gd.GameFacts) -> Done:
        done = await svc.decide(GAME_TEAMS, cmd.event_id, command, meta_of(ctx))
        return Done(done.seq, teams_view(cmd.event_id, done.state, facts.max_teams))

    @svc.command(c.ApplyGameTeam)
    async def apply_game_team(cmd: c.ApplyGameTeam, ctx: Context) -> Done:
        signed_in(ctx)
        facts = await game(cmd.season_id, cmd.event_id)
        group = await group_of(cmd.group_id)
        strangers = []
        for member_id in cmd.roster:
            if await svc.store.get(WMEMBERS, membership_key(cmd.group_id, member_id)) is None:
                strangers.append(member_id)
        return await on_game(cmd, ctx, gd.ApplyTeam(
            ctx.actor, cmd.event_id, cmd.group_id, cmd.roster, facts, group["group_type"] if group else None,
            await coordinates(cmd.group_id, ctx.actor.id), tuple(strangers)), facts)

    @svc.command(c.ConfirmGameTeam)
    async def confirm_game_team(cmd: c.ConfirmGameTeam, ctx: Context) -> Done:
        signed_in(ctx)
        facts = await game(cmd.season_id, cmd.event_id)
        return await on_game(cmd, ctx, gd.ConfirmTeam(ctx.actor, cmd.event_id, cmd.group_id, facts), facts)

    @svc.command(c.DeclineGameTeam)
    async def decline_game_team(cmd: c.DeclineGameTeam, ctx: Context) -> Done:
        signed_in(ctx)
        facts = await game(cmd.season_id, cmd.event_id)
        return await on_game(cmd, ctx, gd.DeclineTeam(ctx.actor, cmd.event_id, cmd.group_id, facts, cmd.reason),
                             facts)

    async def passing(cmd: c.WithdrawGameTeam | c.AcceptGameTeamPlace | c.DeclineGameTeamPlace, ctx: Context,
                      kind: type[gd.WithdrawTeam] | type[gd.AcceptTeamPlace] | type[gd.DeclineTeamPlace]) -> Done:
        signed_in(ctx)
        facts = await game(cmd.season_id, cmd.event_id)
        return await on_game(cmd, ctx, kind(ctx.actor, cmd.event_id, cmd.group_id, facts,
                                            await coordinates(cmd.group_id, ctx.actor.id), datetime.now(UTC),
                                            settings.team_offer_hours), facts)

    @svc.command(c.WithdrawGameTeam)
    async def withdraw_game_team(cmd: c.WithdrawGameTeam, ctx: Context) -> Done:
        return await passing(cmd, ctx, gd.WithdrawTeam)

    @svc.command(c.AcceptGameTeamPlace)
    async def accept_game_team_place(cmd: c.AcceptGameTeamPlace, ctx: Context) -> Done:
        return await passing(cmd, ctx, gd.AcceptTeamPlace)

    @svc.command(c.DeclineGameTeamPlace)
    async def decline_game_team_place(cmd: c.DeclineGameTeamPlace, ctx: Context) -> Done:
        return await passing(cmd, ctx, gd.DeclineTeamPlace)

    @svc.query(c.GetGameTeams)
    async def get_game_teams(q: c.GetGameTeams, ctx: Context) -> c.GameTeamsView:
        reader(ctx)
        facts = await game(q.season_id, q.event_id)
        if facts.status is None or (facts.status == "draft" and not ctx.actor.is_moderator):
            raise NotFound("event_not_found", event_id=q.event_id)
        state, _ = await svc.load(GAME_TEAMS, q.event_id)
        return teams_view(q.event_id, state, facts.max_teams)

    # ------------------------------------------------------------ research

    async def on_research(season_id: str, ctx: Context, make) -> Done:
        signed_in(ctx)
        season, _ = await svc.load(SEASON, season_id)
        done = await svc.decide(RESEARCH, season_id, make(season.phase), meta_of(ctx))
        return Done(done.seq, research_view(season_id, done.state))

    @svc.command(c.AddResearchTask)
    async def add_research_task(cmd: c.AddResearchTask, ctx: Context) -> Done:
        task_id = str(uuid7())
        return await on_research(cmd.season_id, ctx, lambda phase: gd.AddTask(
            ctx.actor, cmd.season_id, phase, task_id, cmd.title, cmd.effort_hours))

    @svc.command(c.RemoveResearchTask)
    async def remove_research_task(cmd: c.RemoveResearchTask, ctx: Context) -> Done:
        return await on_research(cmd.season_id, ctx, lambda phase: gd.RemoveTask(
            ctx.actor, cmd.season_id, phase, cmd.task_id))

    @svc.command(c.OfferResearchHours)
    async def offer_research_hours(cmd: c.OfferResearchHours, ctx: Context) -> Done:
        return await on_research(cmd.season_id, ctx, lambda phase: gd.Offer(
            ctx.actor, cmd.season_id, phase, cmd.hours, in_main(ctx.actor)))

    @svc.command(c.WithdrawResearchOffer)
    async def withdraw_research_offer(cmd: c.WithdrawResearchOffer, ctx: Context) -> Done:
        reader(ctx)  # the reply is the research view, which only the calendar's readers may see
        return await on_research(cmd.season_id, ctx, lambda phase: gd.WithdrawOffer(
            ctx.actor, cmd.season_id, phase, cmd.member_id or ctx.actor.id))

    @svc.command(c.DistributeResearch)
    async def distribute_research(cmd: c.DistributeResearch, ctx: Context) -> Done:
        return await on_research(cmd.season_id, ctx, lambda phase: gd.Distribute(ctx.actor, cmd.season_id, phase))

    @svc.command(c.ReopenResearchDistribution)
    async def reopen_research_distribution(cmd: c.ReopenResearchDistribution, ctx: Context) -> Done:
        return await on_research(cmd.season_id, ctx, lambda phase: gd.ReopenDistribution(
            ctx.actor, cmd.season_id, phase))

    @svc.query(c.GetResearch)
    async def get_research(q: c.GetResearch, ctx: Context) -> c.ResearchView:
        reader(ctx)
        season, _ = await svc.load(SEASON, q.season_id)
        if season.phase is None:
            raise NotFound("season_not_found", season_id=q.season_id)
        state, _ = await svc.load(RESEARCH, q.season_id)
        return research_view(q.season_id, state)
