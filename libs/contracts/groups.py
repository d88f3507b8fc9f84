"""Groups, base part: Introduction and Main, and who is in them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from libs.contracts.base import Command, Contract, Event, Query, ServiceContracts
from libs.contracts.types import MULTI_LINE, ONE_LINE, Id

SERVICE = "groups"
INTRODUCTION = "introduction"
MAIN = "main"
BASE_GROUPS = {
    INTRODUCTION: {"ru": "Знакомство", "en": "Introduction"},
    MAIN: {"ru": "Главная группа", "en": "Main group"},
}


def membership_id(group_id: str, member_id: str) -> str:
    return f"{group_id}:{member_id}"


class GroupCreated(Event):
    group_id: str
    kind: Literal["base", "working"]
    title_ru: str
    title_en: str


class MemberJoinedGroup(Event):
    group_id: str
    member_id: str
    reason: str


class MemberLeftGroup(Event):
    group_id: str
    member_id: str
    reason: str


BASE_EVENTS = (GroupCreated, MemberJoinedGroup, MemberLeftGroup)


class GroupMember(Contract):
    member_id: str
    display_name: str | None
    joined_at: datetime


class GroupMembersView(Contract):
    group_id: str
    title_ru: str
    title_en: str
    items: tuple[GroupMember, ...]
    total: int


class MemberGroupsView(Contract):
    groups: tuple[str, ...]


class GroupsQuery(Query):
    service: ClassVar[str] = SERVICE


class GroupMembers(GroupsQuery):
    reply_model: ClassVar = GroupMembersView
    group_id: Id
    limit: int = Field(default=200, ge=1, le=1000)


class MemberGroups(GroupsQuery):
    reply_model: ClassVar = MemberGroupsView
    member_id: Id


BASE_QUERIES = (GroupMembers, MemberGroups)
BASE_REPLIES = (GroupMember, GroupMembersView, MemberGroupsView)



# ---------------------------------------------------------------- working groups (issue 10)

#: the group types a community starts with (settings ``group_types`` may name others)
DEFAULT_GROUP_TYPES = ("game_team", "research", "practice")
GroupType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Visibility = Literal["main", "members"]
ContentAccess = Literal["main", "members"]
Joining = Literal["open", "request", "invitation"]
GroupStatus = Literal["proposed", "active", "declined", "archived"]
Title = Annotated[str, StringConstraints(min_length=1, max_length=120), ONE_LINE]
Description = Annotated[str, StringConstraints(max_length=4000), MULTI_LINE]
JoinMessage = Annotated[str, StringConstraints(max_length=2000), MULTI_LINE]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000), MULTI_LINE]
SearchText = Annotated[str, StringConstraints(max_length=100), ONE_LINE]


class GroupSettings(Contract):
    """Who sees that the group exists, who sees what is inside, and how one gets in."""

    visibility: Visibility = "main"
    content: ContentAccess = "members"
    joining: Joining = "request"


class WorkingGroupProposed(Event):
    group_id: str
    title: str
    description: str
    group_type: str
    proposed_by: str
    settings: GroupSettings


class WorkingGroupApproved(Event):
    group_id: str
    approved_by: str
    coordinator_id: str


class WorkingGroupDeclined(Event):
    group_id: str
    declined_by: str
    reason: str


class GroupSettingsChanged(Event):
    group_id: str
    changed_by: str
    settings: GroupSettings


class WorkingGroupArchived(Event):
    group_id: str
    archived_by: str


class CoordinatorAppointed(Event):
    group_id: str
    member_id: str
    appointed_by: str


class CoordinatorRemoved(Event):
    group_id: str
    member_id: str
    removed_by: str


class JoinRequested(Event):
    group_id: str
    member_id: str
    message: str


class JoinRequestApproved(Event):
    group_id: str
    member_id: str
    decided_by: str


class JoinRequestRejected(Event):
    group_id: str
    member_id: str
    decided_by: str
    reason: str


class MemberInvitedToGroup(Event):
    group_id: str
    member_id: str
    invited_by: str


class MemberJoinedWorkingGroup(Event):
    group_id: str
    member_id: str
    #: "open", "request", "invitation", "coordinator"
    via: str


class MemberLeftWorkingGroup(Event):
    group_id: str
    member_id: str
    #: "left", "removed", "main_access_lost"
    reason: str
    by: str


WORKING_GROUP_EVENTS = (
    WorkingGroupProposed, WorkingGroupApproved, WorkingGroupDeclined, GroupSettingsChanged, WorkingGroupArchived,
    CoordinatorAppointed, CoordinatorRemoved, JoinRequested, JoinRequestApproved, JoinRequestRejected,
    MemberInvitedToGroup, MemberJoinedWorkingGroup, MemberLeftWorkingGroup,
)


class GroupsCommand(Command):
    service: ClassVar[str] = SERVICE


class WorkingGroupReply(Contract):
    group_id: str
    status: GroupStatus


class MembershipReply(Contract):
    group_id: str
    member_id: str
    #: "member", "requested", "invited", "none"
    state: Literal["member", "requested", "invited", "none"]


class CoordinatorsReply(Contract):
    group_id: str
    coordinators: tuple[str, ...]


class ProposeWorkingGroup(GroupsCommand):
    """A Main-group member proposes a group; a moderator may create it at once (``direct``)."""

    reply_model: ClassVar = WorkingGroupReply
    title: Title
    description: Description = ""
    group_type: GroupType
    settings: GroupSettings = GroupSettings()
    direct: bool = False


class DecideOnWorkingGroup(GroupsCommand):
    reply_model: ClassVar = WorkingGroupReply
    group_id: Id
    decision: Literal["approve", "decline"]
    reason: JoinMessage | None = None


class ChangeGroupSettings(GroupsCommand):
    reply_model: ClassVar = WorkingGroupReply
    group_id: Id
    settings: GroupSettings


class ArchiveWorkingGroup(GroupsCommand):
    reply_model: ClassVar = WorkingGroupReply
    group_id: Id


class JoinWorkingGroup(GroupsCommand):
    """Join an open group at once, or ask to join one that takes requests."""

    reply_model: ClassVar = MembershipReply
    group_id: Id
    message: JoinMessage = ""


class DecideOnJoinRequest(GroupsCommand):
    reply_model: ClassVar = MembershipReply
    group_id: Id
    member_id: Id
    decision: Literal["approve", "reject"]
    reason: JoinMessage | None = None


class InviteToWorkingGroup(GroupsCommand):
    reply_model: ClassVar = MembershipReply
    group_id: Id
    member_id: Id


class AcceptGroupInvitation(GroupsCommand):
    reply_model: ClassVar = MembershipReply
    group_id: Id


class LeaveWorkingGroup(GroupsCommand):
    reply_model: ClassVar = MembershipReply
    group_id: Id


class RemoveFromWorkingGroup(GroupsCommand):
    reply_model: ClassVar = MembershipReply
    group_id: Id
    member_id: Id
    reason: Reason


class AppointCoordinator(GroupsCommand):
    reply_model: ClassVar = CoordinatorsReply
    group_id: Id
    member_id: Id


class RemoveCoordinator(GroupsCommand):
    reply_model: ClassVar = CoordinatorsReply
    group_id: Id
    member_id: Id


class GroupSummary(Contract):
    group_id: str
    title: str
    group_type: str
    status: GroupStatus
    settings: GroupSettings
    members: int
    is_member: bool


class GroupList(Contract):
    items: tuple[GroupSummary, ...]


class GroupPage(Contract):
    group_id: str
    title: str
    description: str
    group_type: str
    status: GroupStatus
    settings: GroupSettings
    proposed_by: str
    coordinators: tuple[GroupMember, ...]
    is_member: bool
    is_coordinator: bool
    #: None when the content is for members only and the caller is not one
    members: tuple[GroupMember, ...] | None


class JoinRequestView(Contract):
    member_id: str
    display_name: str | None
    message: str
    requested_at: datetime


class JoinRequestList(Contract):
    group_id: str
    items: tuple[JoinRequestView, ...]


class ListWorkingGroups(GroupsQuery):
    reply_model: ClassVar = GroupList
    group_type: GroupType | None = None
    q: SearchText | None = None
    #: "proposed" lists the proposals awaiting a decision (moderators)
    status: Literal["active", "proposed", "archived"] | None = None
    limit: int = Field(default=100, ge=1, le=500)


class GetWorkingGroup(GroupsQuery):
    reply_model: ClassVar = GroupPage
    group_id: Id


class ListJoinRequests(GroupsQuery):
    reply_model: ClassVar = JoinRequestList
    group_id: Id


WORKING_COMMANDS = (
    ProposeWorkingGroup, DecideOnWorkingGroup, ChangeGroupSettings, ArchiveWorkingGroup, JoinWorkingGroup,
    DecideOnJoinRequest, InviteToWorkingGroup, AcceptGroupInvitation, LeaveWorkingGroup, RemoveFromWorkingGroup,
    AppointCoordinator, RemoveCoordinator,
)
WORKING_QUERIES = (ListWorkingGroups, GetWorkingGroup, ListJoinRequests)
WORKING_REPLIES = (GroupSettings, WorkingGroupReply, MembershipReply, CoordinatorsReply, GroupSummary, GroupList,
                   GroupPage, JoinRequestView, JoinRequestList)

#: the service's whole part, base and working groups (docgen reads these names)
EVENTS = (*BASE_EVENTS, *WORKING_GROUP_EVENTS)
COMMANDS = WORKING_COMMANDS
QUERIES = (*BASE_QUERIES, *WORKING_QUERIES)
REPLIES = (*BASE_REPLIES, *WORKING_REPLIES)

CONTRACTS = ServiceContracts(SERVICE, EVENTS, COMMANDS, QUERIES, REPLIES)
