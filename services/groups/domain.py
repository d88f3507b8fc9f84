"""Groups deciders: a base group exists and a member joins or leaves it; a working group is proposed,
decided, configured, joined, left and archived."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from libs.contracts.base import Event
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.contracts.groups import (
    ANNOUNCEMENT_EVENTS,
    BASE_GROUPS,
    SERVICE,
    WORKING_GROUP_EVENTS,
    AnnouncementPosted,
    AnnouncementPublished,
    AnnouncementWithdrawn,
    AuthorErased,
    CallCancelled,
    CallRoomAssigned,
    CallScheduled,
    CoordinatorAppointed,
    CoordinatorRemoved,
    GroupCreated,
    GroupInvitationWithdrawn,
    GroupsDataCollected,
    GroupSettings,
    GroupSettingsChanged,
    JoinRequestApproved,
    JoinRequested,
    JoinRequestRejected,
    JoinRequestWithdrawn,
    MemberInvitedToGroup,
    MemberJoinedGroup,
    MemberJoinedWorkingGroup,
    MemberLeftGroup,
    MemberLeftWorkingGroup,
    WorkingGroupApproved,
    WorkingGroupArchived,
    WorkingGroupDeclined,
    WorkingGroupProposed,
)
from libs.kit.authors import author_decider
from libs.kit.data_parts import part_decider
from libs.kit.decider import Decider


@dataclass(frozen=True)
class Group:
    exists: bool = False
    kind: str | None = None


def evolve_group(state: Group, event: Event) -> Group:
    if isinstance(event, GroupCreated):
        return Group(True, event.kind)
    return state


@dataclass(frozen=True)
class CreateBaseGroup:
    group_id: str


def decide_group(cmd: CreateBaseGroup, state: Group) -> list[Event]:
    match cmd:
        case CreateBaseGroup():
            if state.exists:
                return []
            titles = BASE_GROUPS[cmd.group_id]
            return [GroupCreated(group_id=cmd.group_id, kind="base", title_ru=titles["ru"], title_en=titles["en"])]
    raise TypeError(f"not a group command: {cmd!r}")


GROUP: Decider = Decider(SERVICE, "group", Group, evolve_group, decide_group, events=(GroupCreated,))


@dataclass(frozen=True)
class Membership:
    member: bool = False


def evolve_membership(state: Membership, event: Event) -> Membership:
    match event:
        case MemberJoinedGroup():
            return replace(state, member=True)
        case MemberLeftGroup():
            return replace(state, member=False)
    return state


@dataclass(frozen=True)
class Join:
    group_id: str
    member_id: str
    reason: str


@dataclass(frozen=True)
class Leave:
    group_id: str
    member_id: str
    reason: str


def decide_membership(cmd: Join | Leave, state: Membership) -> list[Event]:
    match cmd:
        case Join():
            return [] if state.member else [MemberJoinedGroup(group_id=cmd.group_id, member_id=cmd.member_id,
                                                              reason=cmd.reason)]
        case Leave():
            return [MemberLeftGroup(group_id=cmd.group_id, member_id=cmd.member_id, reason=cmd.reason)] \
                if state.member else []
    raise TypeError(f"not a membership command: {cmd!r}")


MEMBERSHIP: Decider = Decider(SERVICE, "membership", Membership, evolve_membership, decide_membership,
                              events=(MemberJoinedGroup, MemberLeftGroup))


# ---------------------------------------------------------------- working groups
#
# One aggregate per working group holds its settings, its coordinators, its members and its pending
# requests and invitations: every rule that joins two of them (only a coordinator approves a request,
# a request is decided once, an archived group takes no one) is then decided on one consistent state,
# and two coordinators racing on one request meet at the aggregate's expected sequence.


#: a group keeps at most this many calls ahead of it (a schedule, not a log)
MAX_UPCOMING_CALLS = 100
#: how far ahead a call may be put
CALL_HORIZON = timedelta(days=366)


@dataclass(frozen=True)
class Call:
    call_id: str
    scheduled_by: str
    ends_at: datetime


@dataclass(frozen=True)
class WorkingGroup:
    status: str | None = None  # None: no such group; then proposed / active / declined / archived
    proposed_by: str = ""
    title: str = ""
    settings: GroupSettings = GroupSettings()
    coordinators: frozenset[str] = frozenset()
    members: frozenset[str] = frozenset()
    requests: frozenset[str] = frozenset()
    invited: frozenset[str] = frozenset()
    #: the permanent call room's name (None for a group approved before rooms existed: its first call
    #: gives it one)
    room: str | None = None
    #: calls scheduled and not cancelled
    calls: tuple[Call, ...] = ()


def evolve_working_group(state: WorkingGroup, event: Event) -> WorkingGroup:
    match event:
        case WorkingGroupProposed():
            return WorkingGroup(status="proposed", proposed_by=event.proposed_by, title=event.title,
                                settings=event.settings)
        case WorkingGroupApproved():
            return replace(state, status="active")
        case WorkingGroupDeclined():
            return replace(state, status="declined")
        case WorkingGroupArchived():
            return replace(state, status="archived", requests=frozenset(), invited=frozenset())
        case GroupSettingsChanged():
            return replace(state, settings=event.settings)
        case CoordinatorAppointed():
            return replace(state, coordinators=state.coordinators | {event.member_id})
        case CoordinatorRemoved():
            return replace(state, coordinators=state.coordinators - {event.member_id})
        case JoinRequested():
            return replace(state, requests=state.requests | {event.member_id})
        case JoinRequestApproved() | JoinRequestRejected():
            return replace(state, requests=state.requests - {event.member_id})
        case JoinRequestWithdrawn():
            return replace(state, requests=state.requests - {event.member_id})
        case MemberInvitedToGroup():
            return replace(state, invited=state.invited | {event.member_id})
        case GroupInvitationWithdrawn():
            return replace(state, invited=state.invited - {event.member_id})
        case CallRoomAssigned():
            return replace(state, room=event.room)
        case CallScheduled():
            ends = event.starts_at + timedelta(minutes=event.duration_minutes)
            return replace(state, calls=(*state.calls, Call(event.call_id, event.scheduled_by, ends)))
        case CallCancelled():
            return replace(state, calls=tuple(c for c in state.calls if c.call_id != event.call_id))
        case MemberJoinedWorkingGroup():
            return replace(state, members=state.members | {event.member_id},
                           invited=state.invited - {event.member_id}, requests=state.requests - {event.member_id})
        case MemberLeftWorkingGroup():
            return replace(state, members=state.members - {event.member_id},
                           coordinators=state.coordinators - {event.member_id})
    return state


@dataclass(frozen=True)
class Propose:
    actor: Actor
    group_id: str
    title: str
    description: str
    group_type: str
    settings: GroupSettings
    direct: bool
    #: is the proposer in the Main group (the handler reads it from the groups read model)
    in_main: bool
    #: the types the community configured (settings ``group_types``)
    types: tuple[str, ...]
    #: a fresh unguessable room name, for a group created at once
    room: str = ""


@dataclass(frozen=True)
class DecideProposal:
    actor: Actor
    group_id: str
    approve: bool
    reason: str | None
    #: a fresh unguessable room name, for the group approved
    room: str = ""


@dataclass(frozen=True)
class ChangeSettings:
    actor: Actor
    group_id: str
    settings: GroupSettings


@dataclass(frozen=True)
class Archive:
    actor: Actor
    group_id: str


@dataclass(frozen=True)
class AskToJoin:
    actor: Actor
    group_id: str
    message: str
    in_main: bool


@dataclass(frozen=True)
class DecideRequest:
    actor: Actor
    group_id: str
    member_id: str
    approve: bool
    reason: str | None
    #: is the applicant still in the Main group
    in_main: bool


@dataclass(frozen=True)
class Invite:
    actor: Actor
    group_id: str
    member_id: str
    in_main: bool


@dataclass(frozen=True)
class AcceptInvitation:
    actor: Actor
    group_id: str
    in_main: bool


@dataclass(frozen=True)
class LeaveGroup:
    actor: Actor
    group_id: str
    member_id: str
    #: "left" (one's own choice), "removed" (by a coordinator), "main_access_lost" (a policy)
    reason: str
    note: str = ""
    #: "request" or "invitation": end only that, never a membership (one's request withdrawn, an
    #: invitation declined — a click on a stale page must not take a new member out)
    only: str = ""


@dataclass(frozen=True)
class SetCoordinator:
    actor: Actor
    group_id: str
    member_id: str
    coordinator: bool
    in_main: bool


@dataclass(frozen=True)
class ScheduleGroupCall:
    actor: Actor
    group_id: str
    call_id: str
    topic: str
    starts_at: datetime
    duration_minutes: int
    #: the handler's clock: the decider stays pure
    now: datetime
    #: a fresh room name, used only if the group has none yet
    room: str


@dataclass(frozen=True)
class CancelGroupCall:
    actor: Actor
    group_id: str
    call_id: str


WorkingGroupCommand = (Propose | DecideProposal | ChangeSettings | Archive | AskToJoin | DecideRequest | Invite
                       | AcceptInvitation | LeaveGroup | SetCoordinator | ScheduleGroupCall | CancelGroupCall)


def _existing(state: WorkingGroup, group_id: str) -> WorkingGroup:
    if state.status is None:
        raise NotFound("group_not_found", group_id=group_id)
    return state


def _can_manage(actor: Actor, state: WorkingGroup) -> bool:
    return actor.is_moderator or actor.id in state.coordinators


def _active(state: WorkingGroup, group_id: str) -> None:
    """A group takes changes only while it is active: a proposal has nothing to change yet, an archive is
    read-only, a declined proposal is closed."""
    _existing(state, group_id)
    if state.status == "archived":
        raise Conflict("group_archived", group_id=group_id)
    if state.status != "active":
        raise Conflict("group_not_active", group_id=group_id, status=state.status)


def _joined(group_id: str, member_id: str, via: str) -> MemberJoinedWorkingGroup:
    return MemberJoinedWorkingGroup(group_id=group_id, member_id=member_id, via=via)


def _opened(group_id: str, by: str, coordinator: str, room: str) -> list[Event]:
    """A group goes live: approved, its first coordinator in it, its call room named."""
    events: list[Event] = [WorkingGroupApproved(group_id=group_id, approved_by=by, coordinator_id=coordinator),
                           CoordinatorAppointed(group_id=group_id, member_id=coordinator, appointed_by=by),
                           _joined(group_id, coordinator, "coordinator")]
    if room:
        events.append(CallRoomAssigned(group_id=group_id, room=room))
    return events


def _schedule(cmd: ScheduleGroupCall, state: WorkingGroup) -> list[Event]:
    g = cmd.group_id
    _active(state, g)
    if cmd.actor.id not in state.members and not cmd.actor.is_moderator:
        raise Forbidden("group_members_only")
    if cmd.starts_at <= cmd.now:
        raise Invalid("call_in_past")
    if cmd.starts_at > cmd.now + CALL_HORIZON:
        raise Invalid("call_too_far")
    if any(c.call_id == cmd.call_id for c in state.calls):
        return []
    if sum(1 for c in state.calls if c.ends_at > cmd.now) >= MAX_UPCOMING_CALLS:
        raise Conflict("too_many_calls", limit=MAX_UPCOMING_CALLS)
    events: list[Event] = [] if state.room else [CallRoomAssigned(group_id=g, room=cmd.room)]
    return [*events, CallScheduled(group_id=g, call_id=cmd.call_id, topic=cmd.topic, starts_at=cmd.starts_at,
                                   duration_minutes=cmd.duration_minutes, scheduled_by=cmd.actor.id)]


def _cancel(cmd: CancelGroupCall, state: WorkingGroup) -> list[Event]:
    g = cmd.group_id
    _existing(state, g)
    call = next((c for c in state.calls if c.call_id == cmd.call_id), None)
    if call is None:
        raise NotFound("call_not_found", call_id=cmd.call_id)
    if cmd.actor.id != call.scheduled_by and not _can_manage(cmd.actor, state):
        raise Forbidden("coordinator_only")
    _active(state, g)
    return [CallCancelled(group_id=g, call_id=cmd.call_id, cancelled_by=cmd.actor.id)]


def _leave(cmd: LeaveGroup, state: WorkingGroup) -> list[Event]:
    """Out of the group — or, for someone not in it yet, out of its queue: a request or an invitation
    ends unused when its owner says no (``left``) or loses the Main group."""
    g, m = cmd.group_id, cmd.member_id
    _existing(state, g)
    if cmd.reason == "removed":
        if not _can_manage(cmd.actor, state):
            raise Forbidden("coordinator_only")
        _active(state, g)  # an archive is read-only; its members may still leave it themselves
        if not cmd.note.strip():
            raise Invalid("reason_required")
    elif cmd.reason == "left" and cmd.actor.id != m:
        raise Forbidden("coordinator_only")
    if cmd.only:
        if cmd.only == "request" and m in state.requests:
            return [JoinRequestWithdrawn(group_id=g, member_id=m, reason=cmd.reason)]
        if cmd.only == "invitation" and m in state.invited:
            return [GroupInvitationWithdrawn(group_id=g, member_id=m, reason=cmd.reason)]
        return []
    if m in state.members:
        return [MemberLeftWorkingGroup(group_id=g, member_id=m, reason=cmd.reason, by=cmd.actor.id,
                                       note=cmd.note if cmd.reason == "removed" else None)]
    if cmd.reason == "removed":
        return []
    events: list[Event] = []
    if m in state.requests:
        events.append(JoinRequestWithdrawn(group_id=g, member_id=m, reason=cmd.reason))
    if m in state.invited:
        events.append(GroupInvitationWithdrawn(group_id=g, member_id=m, reason=cmd.reason))
    return events


def decide_working_group(cmd: WorkingGroupCommand, state: WorkingGroup) -> list[Event]:  # noqa: C901 — one rule per case
    g = cmd.group_id
    match cmd:
        case Propose():
            if state.status is not None:
                raise Conflict("group_exists", group_id=g)
            if cmd.group_type not in cmd.types:
                raise Invalid("unknown_group_type", group_type=cmd.group_type)
            if cmd.direct and not cmd.actor.is_moderator:
                raise Forbidden("moderator_only")
            if not cmd.in_main and not cmd.actor.is_moderator:
                raise Forbidden("main_group_only")
            proposed = WorkingGroupProposed(group_id=g, title=cmd.title, description=cmd.description,
                                            group_type=cmd.group_type, proposed_by=cmd.actor.id,
                                            settings=cmd.settings)
            if not cmd.direct:
                return [proposed]
            return [proposed, *_opened(g, cmd.actor.id, cmd.actor.id, cmd.room)]
        case DecideProposal():
            if not cmd.actor.is_moderator:
                raise Forbidden("moderator_only")
            _existing(state, g)
            wanted = "active" if cmd.approve else "declined"
            if state.status == wanted:
                return []  # the same decision again: nothing new
            if state.status != "proposed":
                raise Conflict("group_decided", group_id=g, status=state.status)
            if not cmd.approve:
                if not (cmd.reason or "").strip():
                    raise Invalid("reason_required")
                return [WorkingGroupDeclined(group_id=g, declined_by=cmd.actor.id, reason=cmd.reason or "")]
            return _opened(g, cmd.actor.id, state.proposed_by, cmd.room)
        case ChangeSettings():
            _existing(state, g)
            if not _can_manage(cmd.actor, state):
                raise Forbidden("coordinator_only")
            _active(state, g)
            if cmd.settings == state.settings:
                return []
            return [GroupSettingsChanged(group_id=g, changed_by=cmd.actor.id, settings=cmd.settings)]
        case Archive():
            _existing(state, g)
            if not _can_manage(cmd.actor, state):
                raise Forbidden("coordinator_only")
            if state.status == "archived":
                return []
            _active(state, g)
            return [WorkingGroupArchived(group_id=g, archived_by=cmd.actor.id)]
        case AskToJoin():
            _active(state, g)
            me = cmd.actor.id
            if me in state.members:
                return []
            if not cmd.in_main:
                raise Forbidden("main_group_only")
            if me in state.invited:
                return [_joined(g, me, "invitation")]
            match state.settings.joining:
                case "open":
                    return [_joined(g, me, "open")]
                case "request":
                    if me in state.requests:
                        return []
                    return [JoinRequested(group_id=g, member_id=me, message=cmd.message)]
            raise Forbidden("invitation_only")
        case DecideRequest():
            _existing(state, g)
            if not _can_manage(cmd.actor, state):
                raise Forbidden("coordinator_only")
            _active(state, g)
            if cmd.member_id not in state.requests:
                # decided by someone else meanwhile, or never asked: a request is decided once
                raise Conflict("join_request_decided", group_id=g, member_id=cmd.member_id)
            if not cmd.approve:
                if not (cmd.reason or "").strip():
                    raise Invalid("reason_required")
                return [JoinRequestRejected(group_id=g, member_id=cmd.member_id, decided_by=cmd.actor.id,
                                            reason=cmd.reason or "")]
            if not cmd.in_main:
                raise Conflict("not_in_main_group", member_id=cmd.member_id)
            return [JoinRequestApproved(group_id=g, member_id=cmd.member_id, decided_by=cmd.actor.id),
                    _joined(g, cmd.member_id, "request")]
        case Invite():
            _existing(state, g)
            if not _can_manage(cmd.actor, state):
                raise Forbidden("coordinator_only")
            _active(state, g)
            if cmd.member_id in state.members or cmd.member_id in state.invited:
                return []
            if not cmd.in_main:
                raise Conflict("not_in_main_group", member_id=cmd.member_id)
            return [MemberInvitedToGroup(group_id=g, member_id=cmd.member_id, invited_by=cmd.actor.id)]
        case AcceptInvitation():
            _active(state, g)
            me = cmd.actor.id
            if me in state.members:
                return []
            if me not in state.invited:
                raise NotFound("group_invitation_not_found", group_id=g)
            if not cmd.in_main:
                raise Forbidden("main_group_only")
            return [_joined(g, me, "invitation")]
        case LeaveGroup():
            return _leave(cmd, state)
        case ScheduleGroupCall():
            return _schedule(cmd, state)
        case CancelGroupCall():
            return _cancel(cmd, state)
        case SetCoordinator():
            _existing(state, g)
            if not cmd.actor.is_moderator:
                raise Forbidden("moderator_only")
            _active(state, g)
            if cmd.coordinator:
                if cmd.member_id in state.coordinators:
                    return []
                if not cmd.in_main:
                    raise Conflict("not_in_main_group", member_id=cmd.member_id)
                events: list[Event] = [CoordinatorAppointed(group_id=g, member_id=cmd.member_id,
                                                            appointed_by=cmd.actor.id)]
                if cmd.member_id not in state.members:
                    events.append(_joined(g, cmd.member_id, "coordinator"))
                return events
            if cmd.member_id not in state.coordinators:
                return []
            return [CoordinatorRemoved(group_id=g, member_id=cmd.member_id, removed_by=cmd.actor.id)]
    raise TypeError(f"not a working-group command: {cmd!r}")


WORKING_GROUP: Decider = Decider(SERVICE, "working_group", WorkingGroup, evolve_working_group, decide_working_group,
                                 events=WORKING_GROUP_EVENTS)


# ---------------------------------------------------------------- announcements in the Main group


@dataclass(frozen=True)
class Announcement:
    exists: bool = False
    withdrawn: bool = False


def evolve_announcement(state: Announcement, event: Event) -> Announcement:
    match event:
        case AnnouncementPosted() | AnnouncementPublished():
            return replace(state, exists=True)
        case AnnouncementWithdrawn():
            return replace(state, withdrawn=True)
    return state


@dataclass(frozen=True)
class PostAnnouncement:
    actor: Actor
    announcement_id: str
    title: str
    body: str


@dataclass(frozen=True)
class PublishAnnouncement:
    """A policy's announcement of another fact: worded when read, in the reader's language."""

    announcement_id: str
    topic: str
    ref_id: str
    params: dict[str, str]


@dataclass(frozen=True)
class WithdrawAnnouncement:
    actor: Actor
    announcement_id: str


def decide_announcement(cmd: PostAnnouncement | PublishAnnouncement | WithdrawAnnouncement,
                        state: Announcement) -> list[Event]:
    match cmd:
        case PostAnnouncement():
            if not cmd.actor.is_moderator:
                raise Forbidden("moderator_only")
            if state.exists:
                return []
            return [AnnouncementPosted(announcement_id=cmd.announcement_id, author_id=cmd.actor.id,
                                       title=cmd.title, body=cmd.body)]
        case PublishAnnouncement():
            if state.exists:
                return []
            return [AnnouncementPublished(announcement_id=cmd.announcement_id, topic=cmd.topic, ref_id=cmd.ref_id,
                                          params=cmd.params)]
        case WithdrawAnnouncement():
            if not cmd.actor.is_moderator:
                raise Forbidden("moderator_only")
            if not state.exists:
                raise NotFound("announcement_not_found", announcement_id=cmd.announcement_id)
            if state.withdrawn:
                return []
            return [AnnouncementWithdrawn(announcement_id=cmd.announcement_id, withdrawn_by=cmd.actor.id)]
    raise TypeError(f"not an announcement command: {cmd!r}")


ANNOUNCEMENT: Decider = Decider(SERVICE, "announcement", Announcement, evolve_announcement, decide_announcement,
                                events=ANNOUNCEMENT_EVENTS)


# ---------------------------------------------------------------- authors erased

AUTHOR: Decider = author_decider(SERVICE, AuthorErased)
#: its answer to a member's request for their data, once per request (docs/adr/0024)
DATA: Decider = part_decider(SERVICE, GroupsDataCollected)
