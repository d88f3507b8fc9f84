"""Groups, base part: Introduction and Main, and who is in them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from libs.contracts.base import Command, Contract, Event, Query, ServiceContracts
from libs.contracts.chat import CHAT_COMMANDS, CHAT_EVENTS, CHAT_QUERIES, CHAT_REPLIES
from libs.contracts.drive import DRIVE_COMMANDS, DRIVE_EVENTS, DRIVE_QUERIES, DRIVE_REPLIES
from libs.contracts.my_data import MemberDataCollected
from libs.contracts.tasks import TASK_COMMANDS, TASK_EVENTS, TASK_QUERIES, TASK_REPLIES
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
#: how the default types are called (a type the community adds is shown by its id)
GROUP_TYPE_TITLES = {
    "game_team": {"ru": "Игровая команда (HR-ВЛИЯНИЕ)", "en": "Game team (HR-ВЛИЯНИЕ)"},
    "research": {"ru": "Исследовательская группа", "en": "Research group"},
    "practice": {"ru": "Практикум", "en": "Practice group"},
}
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
    #: the moderator's words are their personal data (DESIGN.md §2): sealed with their key
    pii_fields: ClassVar[frozenset[str]] = frozenset({"reason"})
    pii_subject_field: ClassVar[str] = "declined_by"
    group_id: str
    declined_by: str
    reason: str | None = None


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
    pii_fields: ClassVar[frozenset[str]] = frozenset({"message"})
    group_id: str
    member_id: str
    message: str | None = None


class JoinRequestApproved(Event):
    group_id: str
    member_id: str
    decided_by: str


class JoinRequestRejected(Event):
    pii_fields: ClassVar[frozenset[str]] = frozenset({"reason"})
    pii_subject_field: ClassVar[str] = "decided_by"
    group_id: str
    member_id: str
    decided_by: str
    reason: str | None = None


class JoinRequestWithdrawn(Event):
    """A pending request ended without a decision: its author withdrew it, or lost the Main group."""

    group_id: str
    member_id: str
    #: "left" (the applicant), "main_access_lost" (a policy)
    reason: str


class GroupInvitationWithdrawn(Event):
    """An invitation ended unused: the invitee declined it, or lost the Main group."""

    group_id: str
    member_id: str
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
    #: a removal's reason is the coordinator's words: sealed with their key
    pii_fields: ClassVar[frozenset[str]] = frozenset({"note"})
    pii_subject_field: ClassVar[str] = "by"
    group_id: str
    member_id: str
    #: "left", "removed", "main_access_lost"
    reason: str
    by: str
    note: str | None = None


class CallRoomAssigned(Event):
    """The group's permanent call room: an unguessable name, put into the configured link template
    when shown (so a new video host moves every room at once)."""

    group_id: str
    room: str


class CallScheduled(Event):
    #: the topic is its author's words
    pii_fields: ClassVar[frozenset[str]] = frozenset({"topic"})
    pii_subject_field: ClassVar[str] = "scheduled_by"
    group_id: str
    call_id: str
    starts_at: datetime
    duration_minutes: int
    scheduled_by: str
    topic: str | None = None


class CallCancelled(Event):
    group_id: str
    call_id: str
    cancelled_by: str


WORKING_GROUP_EVENTS = (
    WorkingGroupProposed, WorkingGroupApproved, WorkingGroupDeclined, GroupSettingsChanged, WorkingGroupArchived,
    CoordinatorAppointed, CoordinatorRemoved, JoinRequested, JoinRequestApproved, JoinRequestRejected,
    JoinRequestWithdrawn, MemberInvitedToGroup, GroupInvitationWithdrawn, MemberJoinedWorkingGroup,
    MemberLeftWorkingGroup, CallRoomAssigned, CallScheduled, CallCancelled,
)


class AnnouncementPosted(Event):
    """A moderator's announcement to the Main group: their words, sealed with their key."""

    pii_fields: ClassVar[frozenset[str]] = frozenset({"title", "body"})
    pii_subject_field: ClassVar[str] = "author_id"
    announcement_id: str
    author_id: str
    title: str | None = None
    body: str | None = None


class AnnouncementPublished(Event):
    """An announcement a policy made of another fact (a group opened; the calendar's grid, later): a
    topic and its parameters, worded in the reader's language when shown, never anyone's own words."""

    announcement_id: str
    topic: str
    #: what the topic is about (a group id, an event id): readers who may not see it do not see it
    ref_id: str
    params: dict[str, str]


class AnnouncementWithdrawn(Event):
    announcement_id: str
    withdrawn_by: str


ANNOUNCEMENT_EVENTS = (AnnouncementPosted, AnnouncementPublished, AnnouncementWithdrawn)


class AuthorErased(Event):
    """Groups forgets what an erased member wrote in its read models. Appended once their key is gone,
    so every event read after it opens to nothing: the read models' copies are scrubbed in log order,
    and none written later can bring the words back."""

    erases: ClassVar[bool] = True
    member_id: str


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


class WithdrawJoinRequest(GroupsCommand):
    """Withdraw one's pending request; a membership it has already become is left alone."""

    reply_model: ClassVar = MembershipReply
    group_id: Id


class DeclineGroupInvitation(GroupsCommand):
    """Decline one's invitation; a membership it has already become is left alone."""

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


CallTopic = Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
AnnouncementTitle = Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
AnnouncementBody = Annotated[str, StringConstraints(min_length=1, max_length=10000), MULTI_LINE]


class CallReply(Contract):
    group_id: str
    call_id: str


class ScheduleCall(GroupsCommand):
    """A member of the group puts a call on its calendar (time, topic); the room is the group's own."""

    reply_model: ClassVar = CallReply
    group_id: Id
    topic: CallTopic
    #: with its offset: a time without a zone means nothing to people in several
    starts_at: AwareDatetime
    duration_minutes: int = Field(default=60, ge=5, le=480)


class CancelCall(GroupsCommand):
    reply_model: ClassVar = CallReply
    group_id: Id
    call_id: Id


class AnnouncementReply(Contract):
    announcement_id: str


class PostAnnouncement(GroupsCommand):
    reply_model: ClassVar = AnnouncementReply
    title: AnnouncementTitle
    body: AnnouncementBody


class WithdrawAnnouncement(GroupsCommand):
    reply_model: ClassVar = AnnouncementReply
    announcement_id: Id


class ScheduledCallView(Contract):
    call_id: str
    topic: str | None
    starts_at: datetime
    duration_minutes: int
    scheduled_by: str
    scheduled_by_name: str | None


class GroupCalls(Contract):
    group_id: str
    #: the permanent room's link: members of the group only
    room_url: str | None
    items: tuple[ScheduledCallView, ...]


class AnnouncementView(Contract):
    announcement_id: str
    title: str
    body: str
    #: "moderator", or the service whose policy made it ("groups"; "calendar" later)
    source: str
    topic: str | None
    ref_id: str | None
    author_id: str | None
    author_name: str | None
    published_at: datetime


class AnnouncementList(Contract):
    items: tuple[AnnouncementView, ...]
    next_cursor: str | None


class MapCoordinator(Contract):
    member_id: str
    display_name: str | None


class MapGroup(Contract):
    group_id: str
    title: str
    members: int
    coordinators: tuple[MapCoordinator, ...]
    #: the group's role vacancies (roles 1–9) in the season of the roles service's latest pick window, from
    #: its events: ``taken`` and ``open`` places, ``roles_open`` (roles with a place open); None while no
    #: window was ever opened
    vacancies: dict[str, int] | None = None


class MapType(Contract):
    group_type: str
    title: str
    groups: tuple[MapGroup, ...]


class GroupMap(Contract):
    types: tuple[MapType, ...]
    groups: int
    members: int


class GroupMapSvg(Contract):
    svg: str


class GroupSummary(Contract):
    group_id: str
    title: str
    group_type: str
    status: GroupStatus
    settings: GroupSettings
    members: int
    is_member: bool
    #: where the caller stands: in it, asked to join, invited, or none of these
    my_state: Literal["member", "requested", "invited", "none"] = "none"


class GroupList(Contract):
    """One's own groups first (member, asked, invited), then the newest; ``total``: how many match."""

    items: tuple[GroupSummary, ...]
    total: int = 0


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
    #: the permanent call room's link: for the group's members only
    room_url: str | None = None
    #: upcoming calls (None when the caller may not read the content)
    calls: tuple[ScheduledCallView, ...] | None = None
    #: why a proposal was declined (to its proposer and moderators; gone if the moderator is erased)
    declined_reason: str | None = None
    #: where the caller stands: in it, asked to join, invited, or none of these
    my_state: Literal["member", "requested", "invited", "none"] = "none"
    proposed_by_name: str | None = None


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


class ListCalls(GroupsQuery):
    reply_model: ClassVar = GroupCalls
    group_id: Id
    #: past calls too (newest first), not only the upcoming ones
    past: bool = False
    limit: int = Field(default=50, ge=1, le=200)


class ListAnnouncements(GroupsQuery):
    reply_model: ClassVar = AnnouncementList
    lang: Literal["ru", "en"] = "ru"
    limit: int = Field(default=20, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(max_length=500)] | None = None


class GetGroupMap(GroupsQuery):
    reply_model: ClassVar = GroupMap
    lang: Literal["ru", "en"] = "ru"


class DrawGroupMap(GroupsQuery):
    reply_model: ClassVar = GroupMapSvg
    lang: Literal["ru", "en"] = "ru"


WORKING_COMMANDS = (
    ProposeWorkingGroup, DecideOnWorkingGroup, ChangeGroupSettings, ArchiveWorkingGroup, JoinWorkingGroup,
    DecideOnJoinRequest, InviteToWorkingGroup, AcceptGroupInvitation, LeaveWorkingGroup, RemoveFromWorkingGroup,
    AppointCoordinator, RemoveCoordinator, WithdrawJoinRequest, DeclineGroupInvitation, ScheduleCall, CancelCall,
    PostAnnouncement, WithdrawAnnouncement,
)
WORKING_QUERIES = (ListWorkingGroups, GetWorkingGroup, ListJoinRequests, ListCalls, ListAnnouncements, GetGroupMap,
                   DrawGroupMap)
WORKING_REPLIES = (GroupSettings, WorkingGroupReply, MembershipReply, CoordinatorsReply, GroupSummary, GroupList,
                   GroupPage, JoinRequestView, JoinRequestList, CallReply, AnnouncementReply, ScheduledCallView,
                   GroupCalls, AnnouncementView, AnnouncementList, MapCoordinator, MapGroup, MapType, GroupMap,
                   GroupMapSvg)


class GroupsDataCollected(MemberDataCollected):
    """Groups' part of a member's data: their groups, what they wrote (chat, personal messages, comments,
    requests), the files they uploaded (a list with links), their tasks."""


#: the service's whole part, base and working groups and their chat (docgen reads these names)
EVENTS = (*BASE_EVENTS, *WORKING_GROUP_EVENTS, *ANNOUNCEMENT_EVENTS, AuthorErased, *CHAT_EVENTS, *TASK_EVENTS,
          *DRIVE_EVENTS, GroupsDataCollected)
COMMANDS = (*WORKING_COMMANDS, *CHAT_COMMANDS, *TASK_COMMANDS, *DRIVE_COMMANDS)
QUERIES = (*BASE_QUERIES, *WORKING_QUERIES, *CHAT_QUERIES, *TASK_QUERIES, *DRIVE_QUERIES)
REPLIES = (*BASE_REPLIES, *WORKING_REPLIES, *CHAT_REPLIES, *TASK_REPLIES, *DRIVE_REPLIES)

CONTRACTS = ServiceContracts(SERVICE, EVENTS, COMMANDS, QUERIES, REPLIES, member_data=GroupsDataCollected)
