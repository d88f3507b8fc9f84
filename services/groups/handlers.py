"""Working-group commands: each one decision on the group's aggregate. The handler adds what the pure
decider cannot know: whether the people concerned are in the Main group (the groups read model, fed
by onboarding's events) and the configured group types."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from uuid6 import uuid7

from libs.contracts import groups as c
from libs.contracts.errors import Unavailable
from libs.contracts.groups import MAIN, membership_id
from libs.contracts.onboarding import SERVICE as ONBOARDING
from libs.contracts.subjects import event_subject, valid_token
from libs.kit.erasure import NotYet, consumer_at
from libs.kit.rpc import Context, Done, signed_in
from libs.kit.service import Service, meta_of
from services.groups import domain
from services.groups.domain import ANNOUNCEMENT, MEMBERSHIP, WORKING_GROUP
from services.groups.policies import BASE_GROUPS, GROUPS_VIEW
from services.groups.projections import MEMBERS
from services.groups.settings import Settings


def new_room() -> str:
    """An unguessable room name: 128 random bits, safe in a link."""
    return secrets.token_urlsafe(16)


async def in_main(svc: Service, member_id: str) -> bool:
    """Whether the member is in the Main group as of their last onboarding event. A member granted access a
    moment ago is placed in Main by a policy (``base_groups``), then by the read model: read before those, the
    view would call them an outsider and a join right after the grant was refused (the bench's newcomers were,
    on an idle machine). Only the view's "no" waits, and only for what the member's own events started."""
    if await svc.store.get(MEMBERS, membership_id(MAIN, member_id)) is not None:
        return True
    if not valid_token(member_id):
        return False
    try:
        member = event_subject(ONBOARDING, "member", member_id)
        if last := await svc.events.last_seq_of(member):
            await consumer_at(svc, BASE_GROUPS, last, member, kind="policy")
            placed = MEMBERSHIP.subject(membership_id(MAIN, member_id))
            if at := await svc.events.last_seq_of(placed):
                await consumer_at(svc, GROUPS_VIEW, at, placed, kind="projection")
    except NotYet:
        raise Unavailable("service_unavailable") from None
    return await svc.store.get(MEMBERS, membership_id(MAIN, member_id)) is not None


def _membership(state: domain.WorkingGroup, group_id: str, member_id: str) -> c.MembershipReply:
    status = ("member" if member_id in state.members else "requested" if member_id in state.requests
              else "invited" if member_id in state.invited else "none")
    return c.MembershipReply(group_id=group_id, member_id=member_id, state=status)  # type: ignore[arg-type]


def _group(state: domain.WorkingGroup, group_id: str) -> c.WorkingGroupReply:
    return c.WorkingGroupReply(group_id=group_id, status=state.status)  # type: ignore[arg-type]


def register_handlers(svc: Service, settings: Settings) -> None:
    async def decide(group_id: str, command, ctx: Context):
        signed_in(ctx)
        return await svc.decide(WORKING_GROUP, group_id, command, meta_of(ctx))

    @svc.command(c.ProposeWorkingGroup)
    async def propose_working_group(cmd: c.ProposeWorkingGroup, ctx: Context) -> Done:
        group_id = str(uuid7())
        done = await decide(group_id, domain.Propose(
            ctx.actor, group_id, cmd.title, cmd.description, cmd.group_type, cmd.settings, cmd.direct,
            await in_main(svc, ctx.actor.id), tuple(settings.group_types), new_room()), ctx)
        return Done(done.seq, _group(done.state, group_id))

    @svc.command(c.DecideOnWorkingGroup)
    async def decide_on_working_group(cmd: c.DecideOnWorkingGroup, ctx: Context) -> Done:
        done = await decide(cmd.group_id, domain.DecideProposal(
            ctx.actor, cmd.group_id, cmd.decision == "approve", cmd.reason, new_room()), ctx)
        return Done(done.seq, _group(done.state, cmd.group_id))

    @svc.command(c.ChangeGroupSettings)
    async def change_group_settings(cmd: c.ChangeGroupSettings, ctx: Context) -> Done:
        done = await decide(cmd.group_id, domain.ChangeSettings(ctx.actor, cmd.group_id, cmd.settings), ctx)
        return Done(done.seq, _group(done.state, cmd.group_id))

    @svc.command(c.ArchiveWorkingGroup)
    async def archive_working_group(cmd: c.ArchiveWorkingGroup, ctx: Context) -> Done:
        done = await decide(cmd.group_id, domain.Archive(ctx.actor, cmd.group_id), ctx)
        return Done(done.seq, _group(done.state, cmd.group_id))

    @svc.command(c.JoinWorkingGroup)
    async def join_working_group(cmd: c.JoinWorkingGroup, ctx: Context) -> Done:
        done = await decide(cmd.group_id, domain.AskToJoin(
            ctx.actor, cmd.group_id, cmd.message, await in_main(svc, ctx.actor.id)), ctx)
        return Done(done.seq, _membership(done.state, cmd.group_id, ctx.actor.id))

    @svc.command(c.DecideOnJoinRequest)
    async def decide_on_join_request(cmd: c.DecideOnJoinRequest, ctx: Context) -> Done:
        # two coordinators at once: the loser's append meets the winner's, is decided again on fresh
        # state, and the decider refuses the request already decided (409 join_request_decided)
        done = await decide(cmd.group_id, domain.DecideRequest(
            ctx.actor, cmd.group_id, cmd.member_id, cmd.decision == "approve", cmd.reason,
            await in_main(svc, cmd.member_id)), ctx)
        return Done(done.seq, _membership(done.state, cmd.group_id, cmd.member_id))

    @svc.command(c.InviteToWorkingGroup)
    async def invite_to_working_group(cmd: c.InviteToWorkingGroup, ctx: Context) -> Done:
        done = await decide(cmd.group_id, domain.Invite(
            ctx.actor, cmd.group_id, cmd.member_id, await in_main(svc, cmd.member_id)), ctx)
        return Done(done.seq, _membership(done.state, cmd.group_id, cmd.member_id))

    @svc.command(c.AcceptGroupInvitation)
    async def accept_group_invitation(cmd: c.AcceptGroupInvitation, ctx: Context) -> Done:
        done = await decide(cmd.group_id, domain.AcceptInvitation(
            ctx.actor, cmd.group_id, await in_main(svc, ctx.actor.id)), ctx)
        return Done(done.seq, _membership(done.state, cmd.group_id, ctx.actor.id))

    @svc.command(c.LeaveWorkingGroup)
    async def leave_working_group(cmd: c.LeaveWorkingGroup, ctx: Context) -> Done:
        done = await decide(cmd.group_id, domain.LeaveGroup(ctx.actor, cmd.group_id, ctx.actor.id, "left"), ctx)
        return Done(done.seq, _membership(done.state, cmd.group_id, ctx.actor.id))

    @svc.command(c.WithdrawJoinRequest)
    async def withdraw_join_request(cmd: c.WithdrawJoinRequest, ctx: Context) -> Done:
        done = await decide(cmd.group_id, domain.LeaveGroup(
            ctx.actor, cmd.group_id, ctx.actor.id, "left", only="request"), ctx)
        return Done(done.seq, _membership(done.state, cmd.group_id, ctx.actor.id))

    @svc.command(c.DeclineGroupInvitation)
    async def decline_group_invitation(cmd: c.DeclineGroupInvitation, ctx: Context) -> Done:
        done = await decide(cmd.group_id, domain.LeaveGroup(
            ctx.actor, cmd.group_id, ctx.actor.id, "left", only="invitation"), ctx)
        return Done(done.seq, _membership(done.state, cmd.group_id, ctx.actor.id))

    @svc.command(c.RemoveFromWorkingGroup)
    async def remove_from_working_group(cmd: c.RemoveFromWorkingGroup, ctx: Context) -> Done:
        done = await decide(cmd.group_id, domain.LeaveGroup(
            ctx.actor, cmd.group_id, cmd.member_id, "removed", cmd.reason), ctx)
        return Done(done.seq, _membership(done.state, cmd.group_id, cmd.member_id))

    async def coordinator(cmd: c.AppointCoordinator | c.RemoveCoordinator, ctx: Context, appoint: bool) -> Done:
        done = await decide(cmd.group_id, domain.SetCoordinator(
            ctx.actor, cmd.group_id, cmd.member_id, appoint, await in_main(svc, cmd.member_id)), ctx)
        return Done(done.seq, c.CoordinatorsReply(group_id=cmd.group_id,
                                                  coordinators=tuple(sorted(done.state.coordinators))))

    @svc.command(c.AppointCoordinator)
    async def appoint_coordinator(cmd: c.AppointCoordinator, ctx: Context) -> Done:
        return await coordinator(cmd, ctx, True)

    @svc.command(c.RemoveCoordinator)
    async def remove_coordinator(cmd: c.RemoveCoordinator, ctx: Context) -> Done:
        return await coordinator(cmd, ctx, False)

    @svc.command(c.ScheduleCall)
    async def schedule_call(cmd: c.ScheduleCall, ctx: Context) -> Done:
        call_id = str(uuid7())
        done = await decide(cmd.group_id, domain.ScheduleGroupCall(
            ctx.actor, cmd.group_id, call_id, cmd.topic, cmd.starts_at.astimezone(UTC), cmd.duration_minutes,
            datetime.now(UTC), new_room()), ctx)
        return Done(done.seq, c.CallReply(group_id=cmd.group_id, call_id=call_id))

    @svc.command(c.CancelCall)
    async def cancel_call(cmd: c.CancelCall, ctx: Context) -> Done:
        done = await decide(cmd.group_id, domain.CancelGroupCall(ctx.actor, cmd.group_id, cmd.call_id), ctx)
        return Done(done.seq, c.CallReply(group_id=cmd.group_id, call_id=cmd.call_id))

    @svc.command(c.PostAnnouncement)
    async def post_announcement(cmd: c.PostAnnouncement, ctx: Context) -> Done:
        signed_in(ctx)
        announcement_id = str(uuid7())
        done = await svc.decide(ANNOUNCEMENT, announcement_id, domain.PostAnnouncement(
            ctx.actor, announcement_id, cmd.title, cmd.body), meta_of(ctx))
        return Done(done.seq, c.AnnouncementReply(announcement_id=announcement_id))

    @svc.command(c.WithdrawAnnouncement)
    async def withdraw_announcement(cmd: c.WithdrawAnnouncement, ctx: Context) -> Done:
        signed_in(ctx)
        done = await svc.decide(ANNOUNCEMENT, cmd.announcement_id, domain.WithdrawAnnouncement(
            ctx.actor, cmd.announcement_id), meta_of(ctx))
        return Done(done.seq, c.AnnouncementReply(announcement_id=cmd.announcement_id))
