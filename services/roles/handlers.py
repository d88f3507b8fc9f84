"""Roles commands: a pick, a release and a vacancy's capacity, each decided over the member's picks and the
vacancy together (one atomic append of both, or nothing). The answer is the group's board as it stands
after the change (read-your-writes on the roles view)."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.contracts import roles as c
from libs.contracts.envelope import Actor
from libs.contracts.errors import Forbidden
from libs.kit.eventstore import Meta
from libs.kit.rpc import Context, Done, community_member
from libs.kit.service import Executed, Service, last_seq, meta_of
from services.roles import domain as d
from services.roles.domain import PICKS, VACANCY
from services.roles.projections import ROLES_VIEW
from services.roles.queries import Reads
from services.roles.settings import Settings


async def pick_facts(reads: Reads, settings: Settings, actor: Actor, member_id: str,
                     group_id: str | None) -> d.PickFacts:
    """What the deciders cannot know: the window open now, the member's place in the group, the caller's."""
    now = datetime.now(UTC)
    window = await reads.open_window(now)
    opens_after = None
    if window is None:
        opens_after = (await reads.window_view(None, now)).opens_after_season_id
    group = await reads.group(group_id, actor) if group_id else None
    if group_id is None:
        member_here = actor.has("member") if member_id == actor.id else True
    else:
        member_here = await reads.in_group(group_id, member_id)
    coordinator = actor.is_moderator or (group is not None and actor.id in group.get("coordinators", []))
    return d.PickFacts(
        season_id=window["season_id"] if window else None,
        default_capacity=reads.default_capacity(window, group_id),
        max_picks=window["max_picks"] if window else settings.max_picks, member_of_group=member_here,
        may_set_capacity=coordinator if group_id else actor.is_moderator,
        vision_requires=settings.vision_requires, opens_after=opens_after)


async def decide_pick(svc: Service, command: d.PickCommand, member_id: str, meta: Meta, ids=None) -> list[Executed]:
    """Both aggregates in one batch; how each stands after it."""
    season = command.facts.season_id or "none"
    parts = {"picks": (PICKS, member_id), "vacancy": (VACANCY, c.vacancy_id(season, command.group_id, command.role))}

    def both(states: dict) -> dict:
        picks, vacancy = d.decide_pick(command, states["picks"], states["vacancy"])
        return {"picks": picks, "vacancy": vacancy}

    return list((await svc.decide_across(parts, both, meta, event_ids=ids)).values())


def register_handlers(svc: Service, settings: Settings) -> None:
    reads = Reads(svc, settings)

    async def answer(done: list[Executed], group_id: str | None, ctx: Context) -> Done:
        await svc.wait_read_back(done, [ROLES_VIEW])
        return Done(last_seq(done), await reads.board(group_id, None, ctx))

    @svc.command(c.TakeRole)
    async def take_role(cmd: c.TakeRole, ctx: Context) -> Done:
        community_member(ctx, "community_members_only")
        facts = await pick_facts(reads, settings, ctx.actor, ctx.actor.id, cmd.group_id)
        done = await decide_pick(svc, d.TakeRole(ctx.actor, ctx.actor.id, cmd.group_id, cmd.role, facts),
                                ctx.actor.id, meta_of(ctx))
        return await answer(done, cmd.group_id, ctx)

    @svc.command(c.ReleaseRole)
    async def release_role(cmd: c.ReleaseRole, ctx: Context) -> Done:
        community_member(ctx, "community_members_only")
        member_id = cmd.member_id or ctx.actor.id
        if member_id != ctx.actor.id and not ctx.actor.is_moderator:
            raise Forbidden("own_picks_only")
        facts = await pick_facts(reads, settings, ctx.actor, member_id, cmd.group_id)
        done = await decide_pick(svc, d.ReleaseRole(ctx.actor, member_id, cmd.group_id, cmd.role, facts), member_id,
                                meta_of(ctx))
        return await answer(done, cmd.group_id, ctx)

    @svc.command(c.SetVacancyCapacity)
    async def set_vacancy_capacity(cmd: c.SetVacancyCapacity, ctx: Context) -> Done:
        community_member(ctx, "community_members_only")
        facts = await pick_facts(reads, settings, ctx.actor, ctx.actor.id, cmd.group_id)
        done = await decide_pick(svc, d.SetCapacity(ctx.actor, cmd.group_id, cmd.role, cmd.capacity, facts),
                                ctx.actor.id, meta_of(ctx))
        return await answer(done, cmd.group_id, ctx)
