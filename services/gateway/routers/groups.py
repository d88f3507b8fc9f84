from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, status
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from libs.contracts import groups as c
from libs.contracts.groups import SERVICE, GroupMembers, GroupSettings, JoinMessage
from libs.contracts.types import ID_PATTERN, Id
from services.gateway.deps import AuthBus, AuthCommandBus
from services.gateway.i18n import language
from services.gateway.problems import PROBLEM_RESPONSES

#: a group or member id in the path: no separators, no wildcards
PathId = Annotated[str, Path(pattern=ID_PATTERN)]

router = APIRouter(prefix="/v1/groups", tags=["groups"], responses=PROBLEM_RESPONSES)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GroupDecisionIn(Body):
    decision: Literal["approve", "decline"]
    reason: JoinMessage | None = None


class RequestDecisionIn(Body):
    decision: Literal["approve", "reject"]
    reason: JoinMessage | None = None


class JoinIn(Body):
    message: JoinMessage = ""


class InviteIn(Body):
    member_id: Id


class CallIn(Body):
    topic: c.CallTopic
    starts_at: AwareDatetime
    duration_minutes: int = Field(default=60, ge=5, le=480)


#: the SVG map is a picture: nothing in it runs or loads, wherever it is opened
SVG_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
               "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}


@router.post("", response_model=c.ProposeWorkingGroup.reply_model, status_code=status.HTTP_201_CREATED,
             summary="Propose a working group (Main-group member); a moderator creates one with direct: true")
async def propose(body: c.ProposeWorkingGroup, bus: AuthCommandBus):
    return await bus.command(SERVICE, body)


@router.get("", response_model=c.ListWorkingGroups.reply_model,
            summary="Working groups the caller may see; status=proposed lists proposals (moderator)")
async def list_groups(bus: AuthBus, group_type: str | None = None, q: str | None = None,
                      status: Literal["active", "proposed", "archived"] | None = None, limit: int = 100):
    return await bus.query(SERVICE, c.ListWorkingGroups(group_type=group_type, q=q, status=status,
                                                        limit=max(1, min(limit, 500))))


@router.get("/map", response_model=c.GetGroupMap.reply_model,
            summary="The map of working groups: by type, each with its members and coordinators (Main group)")
async def group_map(bus: AuthBus, accept_language: Annotated[str | None, Header()] = None):
    return await bus.query(SERVICE, c.GetGroupMap(lang=language(accept_language)))


@router.get("/map.svg", response_class=Response, summary="The map of working groups as a picture (SVG)",
            responses={200: {"content": {"image/svg+xml": {}}}})
async def group_map_svg(bus: AuthBus, accept_language: Annotated[str | None, Header()] = None):
    drawn = await bus.query(SERVICE, c.DrawGroupMap(lang=language(accept_language)))
    return Response(drawn["svg"], media_type="image/svg+xml", headers=SVG_HEADERS)


@router.get("/{group_id}", response_model=c.GetWorkingGroup.reply_model,
            summary="A working group's page: about, settings, coordinators, and members if its content allows")
async def get_group(bus: AuthBus, group_id: PathId):
    return await bus.query(SERVICE, c.GetWorkingGroup(group_id=group_id))


@router.get(
    "/{group_id}/members",
    response_model=GroupMembers.reply_model,
    summary="Members of a group (its members and moderators; a working group's as its content allows)",
)
async def members(bus: AuthBus, group_id: PathId, limit: int = 200):
    return await bus.query(SERVICE, GroupMembers(group_id=group_id, limit=max(1, min(limit, 1000))))


@router.post("/{group_id}/decision", response_model=c.DecideOnWorkingGroup.reply_model,
             summary="Approve or decline a proposed group (moderator; a decline gives a reason)")
async def decide_group(body: GroupDecisionIn, bus: AuthCommandBus, group_id: PathId):
    return await bus.command(SERVICE, c.DecideOnWorkingGroup(group_id=group_id, decision=body.decision,
                                                             reason=body.reason))


@router.put("/{group_id}/settings", response_model=c.ChangeGroupSettings.reply_model,
            summary="Change visibility, content access and joining (the group's coordinators, moderators)")
async def change_settings(body: GroupSettings, bus: AuthCommandBus, group_id: PathId):
    return await bus.command(SERVICE, c.ChangeGroupSettings(group_id=group_id, settings=body))


@router.post("/{group_id}/archive", response_model=c.ArchiveWorkingGroup.reply_model,
             summary="Archive a group: read-only, kept for its members (its coordinators, moderators)")
async def archive(bus: AuthCommandBus, group_id: PathId):
    return await bus.command(SERVICE, c.ArchiveWorkingGroup(group_id=group_id))


@router.post("/{group_id}/join", response_model=c.JoinWorkingGroup.reply_model,
             summary="Join an open group, or ask to join one that takes requests (Main-group member)")
async def join(body: JoinIn, bus: AuthCommandBus, group_id: PathId):
    return await bus.command(SERVICE, c.JoinWorkingGroup(group_id=group_id, message=body.message))


@router.get("/{group_id}/requests", response_model=c.ListJoinRequests.reply_model,
            summary="Pending join requests with the applicants' names (the group's coordinators, moderators)")
async def requests(bus: AuthBus, group_id: PathId):
    return await bus.query(SERVICE, c.ListJoinRequests(group_id=group_id))


@router.post("/{group_id}/requests/{member_id}/decision", response_model=c.DecideOnJoinRequest.reply_model,
             summary="Approve or reject a join request, once (the group's coordinators, moderators)")
async def decide_request(body: RequestDecisionIn, bus: AuthCommandBus, group_id: PathId,
                         member_id: PathId):
    return await bus.command(SERVICE, c.DecideOnJoinRequest(group_id=group_id, member_id=member_id,
                                                            decision=body.decision, reason=body.reason))


@router.post("/{group_id}/invitations", response_model=c.InviteToWorkingGroup.reply_model,
             summary="Invite a Main-group member (the group's coordinators, moderators)")
async def invite(body: InviteIn, bus: AuthCommandBus, group_id: PathId):
    return await bus.command(SERVICE, c.InviteToWorkingGroup(group_id=group_id, member_id=body.member_id))


@router.post("/{group_id}/invitations/accept", response_model=c.AcceptGroupInvitation.reply_model,
             summary="Accept one's invitation to a group")
async def accept(bus: AuthCommandBus, group_id: PathId):
    return await bus.command(SERVICE, c.AcceptGroupInvitation(group_id=group_id))


@router.post("/{group_id}/requests/mine/withdraw", response_model=c.WithdrawJoinRequest.reply_model,
             summary="Withdraw one's pending join request (a request already approved is left alone)")
async def withdraw_request(bus: AuthCommandBus, group_id: PathId):
    return await bus.command(SERVICE, c.WithdrawJoinRequest(group_id=group_id))


@router.post("/{group_id}/invitations/decline", response_model=c.DeclineGroupInvitation.reply_model,
             summary="Decline one's invitation (one already accepted is left alone)")
async def decline_invitation(bus: AuthCommandBus, group_id: PathId):
    return await bus.command(SERVICE, c.DeclineGroupInvitation(group_id=group_id))


@router.post("/{group_id}/leave", response_model=c.LeaveWorkingGroup.reply_model,
             summary="Leave a working group; before joining: withdraw one's request, or decline an invitation")
async def leave(bus: AuthCommandBus, group_id: PathId):
    return await bus.command(SERVICE, c.LeaveWorkingGroup(group_id=group_id))


@router.delete("/{group_id}/members/{member_id}", response_model=c.RemoveFromWorkingGroup.reply_model,
               summary="Remove a member, with a reason (the group's coordinators, moderators)")
async def remove(bus: AuthCommandBus, reason: str, group_id: PathId, member_id: PathId):
    return await bus.command(SERVICE, c.RemoveFromWorkingGroup(group_id=group_id, member_id=member_id,
                                                               reason=reason))


@router.put("/{group_id}/coordinators/{member_id}", response_model=c.AppointCoordinator.reply_model,
            summary="Appoint a coordinator (moderator)")
async def appoint(bus: AuthCommandBus, group_id: PathId, member_id: PathId):
    return await bus.command(SERVICE, c.AppointCoordinator(group_id=group_id, member_id=member_id))


@router.delete("/{group_id}/coordinators/{member_id}", response_model=c.RemoveCoordinator.reply_model,
               summary="Remove a coordinator (moderator)")
async def dismiss(bus: AuthCommandBus, group_id: PathId, member_id: PathId):
    return await bus.command(SERVICE, c.RemoveCoordinator(group_id=group_id, member_id=member_id))


@router.get("/{group_id}/calls", response_model=c.ListCalls.reply_model,
            summary="The group's call room (members only) and its scheduled calls; past=true: the past ones")
async def calls(bus: AuthBus, group_id: PathId, past: bool = False, limit: int = 50):
    return await bus.query(SERVICE, c.ListCalls(group_id=group_id, past=past, limit=max(1, min(limit, 200))))


@router.post("/{group_id}/calls", response_model=c.ScheduleCall.reply_model, status_code=status.HTTP_201_CREATED,
             summary="Schedule a call in the group's room: time (with its offset), topic (members of the group)")
async def schedule_call(body: CallIn, bus: AuthCommandBus, group_id: PathId):
    return await bus.command(SERVICE, c.ScheduleCall(group_id=group_id, topic=body.topic, starts_at=body.starts_at,
                                                     duration_minutes=body.duration_minutes))


@router.delete("/{group_id}/calls/{call_id}", response_model=c.CancelCall.reply_model,
               summary="Cancel a scheduled call (who scheduled it, the group's coordinators, moderators)")
async def cancel_call(bus: AuthCommandBus, group_id: PathId, call_id: PathId):
    return await bus.command(SERVICE, c.CancelCall(group_id=group_id, call_id=call_id))
