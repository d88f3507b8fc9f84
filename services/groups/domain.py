"""Groups deciders: a base group exists and a member joins or leaves it; a working group is proposed,
decided, configured, joined, left and archived."""

from __future__ import annotations

from dataclasses import dataclass, replace

from libs.contracts.base import Event
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.contracts.groups import (
    BASE_GROUPS,
    SERVICE,
    WORKING_GROUP_EVENTS,
    CoordinatorAppointed,
    CoordinatorRemoved,
    GroupCreated,
    GroupSettings,
    GroupSettingsChanged,
    JoinRequestApproved,
    JoinRequested,
    JoinRequestRejected,
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


@dataclass(frozen=True)
class WorkingGroup:
    status: str | None = None  # None: no such group; then proposed / active / declined / archived
    proposed_by: str = ""
    settings: GroupSettings = GroupSettings()
    coordinators: frozenset[str] = frozenset()
    members: frozenset[str] = frozenset()
    requests: frozenset[str] = frozenset()
    invited: frozenset[str] = frozenset()


def evolve_working_group(state: WorkingGroup, event: Event) -> WorkingGroup:
    match event:
        case WorkingGroupProposed():
            return WorkingGroup(status="proposed", proposed_by=event.proposed_by, settings=event.settings)
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
        case MemberInvitedToGroup():
            return replace(state, invited=state.invited | {event.member_id})
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


@dataclass(frozen=True)
class DecideProposal:
    actor: Actor
    group_id: str
    approve: bool
    reason: str | None


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


@dataclass(frozen=True)
class SetCoordinator:
    actor: Actor
    group_id: str
    member_id: str
    coordinator: bool
    in_main: bool


WorkingGroupCommand = (Propose | DecideProposal | ChangeSettings | Archive | AskToJoin | DecideRequest | Invite
                       | AcceptInvitation | LeaveGroup | SetCoordinator)


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
            return [proposed, WorkingGroupApproved(group_id=g, approved_by=cmd.actor.id, coordinator_id=cmd.actor.id),
                    CoordinatorAppointed(group_id=g, member_id=cmd.actor.id, appointed_by=cmd.actor.id),
                    _joined(g, cmd.actor.id, "coordinator")]
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
            p = state.proposed_by
            return [WorkingGroupApproved(group_id=g, approved_by=cmd.actor.id, coordinator_id=p),
                    CoordinatorAppointed(group_id=g, member_id=p, appointed_by=cmd.actor.id),
                    _joined(g, p, "coordinator")]
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
            _existing(state, g)
            if cmd.reason == "removed":
                if not _can_manage(cmd.actor, state):
                    raise Forbidden("coordinator_only")
                if not cmd.note.strip():
                    raise Invalid("reason_required")
            elif cmd.reason == "left" and cmd.actor.id != cmd.member_id:
                raise Forbidden("coordinator_only")
            if cmd.member_id not in state.members:
                return []
            return [MemberLeftWorkingGroup(group_id=g, member_id=cmd.member_id, reason=cmd.reason,
                                           by=cmd.actor.id)]
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
