"""Onboarding: invitations, registration and consent, rules, profiles, moderation, accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal, get_args

from pydantic import EmailStr, Field, StringConstraints, field_validator

from libs.contracts.base import Command, Contract, Event, Query, ServiceContracts
from libs.contracts.my_data import MemberDataCollected
from libs.contracts.types import Cursor, Id, Message, Name, Place, RegisteredName, ShortText

SERVICE = "onboarding"

Role = Literal["guest", "member", "moderator", "observer", "coordinator", "admin"]
#: the roles an admin assigns; "guest" and "member" are not assigned, they follow from the
#: moderators' decisions (one source of truth: Main-group membership)
AssignableRole = Literal["moderator", "observer", "coordinator", "admin"]
MEMBERSHIP_ROLES = frozenset({"guest", "member"})
Status = Literal["introduction", "pending_review", "changes_requested", "member", "declined", "revoked", "erased"]
Decision = Literal["grant", "request_changes", "decline", "revoke"]


def privileges_of(roles) -> tuple[str, ...]:
    """The assigned roles in a list that may also hold the derived ones (events of earlier versions do)."""
    return tuple(dict.fromkeys(r for r in roles if r not in MEMBERSHIP_ROLES))


def effective_roles(is_member: bool, privileges) -> tuple[str, ...]:
    """What a person may do now: privileges count only while they are in the Main group."""
    return ("member", *privileges_of(privileges)) if is_member else ("guest",)

#: fields a profile must have before a moderator may decide on it
REQUIRED_PROFILE_FIELDS: tuple[str, ...] = (
    "full_name",
    "city",
    "company",
    "position",
    "years_in_hr",
    "professional_interests",
    "phone",
)
PROFILE_PII = frozenset(
    {"full_name", "city", "company", "position", "professional_interests", "phone", "about"}
)
#: the profile fields a member may show to their colleagues or hide; the full name is always shown
VisibleField = Literal["city", "company", "position", "years_in_hr", "professional_interests", "phone", "about"]
VISIBLE_FIELDS: tuple[VisibleField, ...] = get_args(VisibleField)
#: what colleagues see of a member who never chose (DESIGN.md §5: phone numbers are hidden by default)
DEFAULT_VISIBLE: tuple[VisibleField, ...] = ("city", "company", "position", "professional_interests")
#: the shown fields a search of the directory reads, besides the name (a number or prose is no search term)
SEARCHED_FIELDS: tuple[VisibleField, ...] = ("city", "company", "position", "professional_interests")


def visible_in_order(fields) -> tuple[VisibleField, ...]:
    """One spelling of a choice: each field once, in the profile's order, whatever order it was sent in."""
    chosen = set(fields)
    return tuple(f for f in VISIBLE_FIELDS if f in chosen)


RULES_VERSION = "2026-1"
CONSENT_VERSION = "152fz-2026-1"


Interest = ShortText


class Profile(Contract):
    full_name: Name | None = None
    city: Place | None = None
    company: Name | None = None
    position: Name | None = None
    years_in_hr: int | None = Field(default=None, ge=0, le=70)
    professional_interests: tuple[Interest, ...] | None = Field(default=None, max_length=20)
    phone: Annotated[str, StringConstraints(max_length=25, pattern=r"^\+?[0-9 ()\-]{5,25}$")] | None = None
    about: Message | None = None

    @field_validator("full_name", "city", "company", "position", "about", mode="before")
    @classmethod
    def _strip(cls, v):
        return v.strip() if isinstance(v, str) else v

    @field_validator("professional_interests", mode="before")
    @classmethod
    def _clean_list(cls, v):
        if isinstance(v, list | tuple):
            return tuple(s.strip() for s in v if isinstance(s, str) and s.strip()) or None
        return v

    def missing(self) -> list[str]:
        return [f for f in REQUIRED_PROFILE_FIELDS if getattr(self, f) in (None, "", ())]


# ------------------------------------------------------------------ events


class InvitationIssued(Event):
    invitation_id: str
    max_uses: int
    expires_at: datetime
    issued_by: str


class InvitationUsed(Event):
    invitation_id: str
    member_id: str


class InvitationRevoked(Event):
    invitation_id: str
    revoked_by: str


class MemberRegistered(Event):
    pii_fields: ClassVar[frozenset[str]] = frozenset({"email", "full_name", "password_hash"})
    member_id: str
    invitation_id: str | None
    roles: tuple[Role, ...] = ("guest",)
    email: str | None = None
    full_name: str | None = None
    password_hash: str | None = None


class ConsentGiven(Event):
    member_id: str
    purpose: Literal["personal_data_processing"] = "personal_data_processing"
    consent_version: str = CONSENT_VERSION


class RulesAcknowledged(Event):
    member_id: str
    rules_version: str = RULES_VERSION


class ProfileUpdated(Event):
    pii_fields: ClassVar[frozenset[str]] = PROFILE_PII
    member_id: str
    full_name: str | None = None
    city: str | None = None
    company: str | None = None
    position: str | None = None
    years_in_hr: int | None = None
    professional_interests: tuple[str, ...] | None = None
    phone: str | None = None
    about: str | None = None


class ProfileCompleted(Event):
    member_id: str


class ChangesRequested(Event):
    pii_fields: ClassVar[frozenset[str]] = frozenset({"message"})
    member_id: str
    decided_by: str
    message: str | None = None


class AccessGranted(Event):
    member_id: str
    decided_by: str


class AccessDeclined(Event):
    pii_fields: ClassVar[frozenset[str]] = frozenset({"reason"})
    member_id: str
    decided_by: str
    reason: str | None = None


class RolesChanged(Event):
    member_id: str
    roles: tuple[Role, ...]
    changed_by: str


class AccessRevoked(Event):
    """A moderator took a member out of the Main group."""

    pii_fields: ClassVar[frozenset[str]] = frozenset({"reason"})
    member_id: str
    decided_by: str
    reason: str | None = None


class ProfileVisibilityChanged(Event):
    """The member chose which profile fields their colleagues see (the name always; nothing of the
    profile itself is in it, so it needs no sealing)."""

    member_id: str
    visible: tuple[VisibleField, ...]


class MemberErased(Event):
    erases: ClassVar[bool] = True
    member_id: str
    erased_by: str


class ConsentWithdrawn(Event):
    """The member withdrew their consent to the processing of their personal data (152-FZ art. 9 §2):
    appended with the ``MemberErased`` it leads to, in one decision."""

    member_id: str
    purpose: Literal["personal_data_processing"] = "personal_data_processing"


class MemberDataRequested(Event):
    """The member asked for everything the platform holds about them (docs/adr/0024): each service that
    keeps a member's data answers with its part (libs/contracts/my_data.py)."""

    request_id: str
    member_id: str


class OnboardingDataCollected(MemberDataCollected):
    """Onboarding's part of a member's data: the account, the profile, consent and rules, decisions."""


EVENTS = (
    InvitationIssued,
    InvitationUsed,
    InvitationRevoked,
    MemberRegistered,
    ConsentGiven,
    RulesAcknowledged,
    ProfileUpdated,
    ProfileCompleted,
    ChangesRequested,
    AccessGranted,
    AccessDeclined,
    AccessRevoked,
    RolesChanged,
    ProfileVisibilityChanged,
    MemberErased,
    ConsentWithdrawn,
    MemberDataRequested,
    OnboardingDataCollected,
)


#: the member events ``actor_facts`` folds: the only ones an ``actors`` read model applies
ACTOR_EVENTS = (MemberRegistered, AccessGranted, AccessDeclined, AccessRevoked, RolesChanged, MemberErased)
#: the member events after which a member is out of the community's work
LEAVING_EVENTS = (AccessRevoked, MemberErased)


def actor_facts(facts: dict | None, event: Event) -> dict:
    """What every service keeps of a member to authorise them (libs/kit/actors.py): whether they
    exist, are erased, are in the Main group, and their assigned roles. The onboarding deciders
    fold the same events into the same answer (services/onboarding/domain.py)."""
    facts = dict(facts or {"exists": False, "erased": False, "member": False, "privileges": []})
    match event:
        case MemberRegistered():
            facts.update(exists=True, privileges=list(privileges_of(event.roles)))
        case AccessGranted():
            facts.update(member=True)
        case AccessDeclined() | AccessRevoked():
            facts.update(member=False)
        case RolesChanged():
            facts.update(privileges=list(privileges_of(event.roles)))
        case MemberErased():
            facts.update(exists=True, erased=True, member=False, privileges=[])
    return facts


# ------------------------------------------------------------------ replies


class Tokens(Contract):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class InvitationCreated(Contract):
    token: str
    url: str
    expires_at: datetime
    max_uses: int


class InvitationRevokedReply(Contract):
    token: str
    revoked: Literal[True] = True


class Registered(Contract):
    member_id: str
    status: Status


class StatusReply(Contract):
    status: Status


class ProfileReport(Contract):
    """What the member sees after saving: whether the profile is complete, and what is missing."""

    complete: bool
    missing: tuple[str, ...]
    status: Status


class DecisionTaken(Contract):
    member_id: str
    status: Status


class RolesSet(Contract):
    member_id: str
    roles: tuple[Role, ...]


class Erased(Contract):
    member_id: str
    erased: Literal[True] = True


DataPartStatus = Literal["received", "awaited", "gone"]
ExportStatus = Literal["none", "assembling", "ready"]


class DataPartState(Contract):
    service: str
    #: received: its answer is in; awaited: not yet; gone: in, but the member's key is shredded
    status: DataPartStatus


class MyDataState(Contract):
    """The member's last request for their data: which services' parts are in, which are awaited."""

    #: none: never asked; assembling: some part is awaited; ready: every part is in
    status: ExportStatus
    request_id: str | None = None
    requested_at: datetime | None = None
    parts: tuple[DataPartState, ...] = ()


class MyDataPart(Contract):
    """One chunk of one service's part of the member's data, as that service answered: the chunks' texts
    joined in order are the part's JSON. A chunk at a time, so that no reply on the bus has to hold a part."""

    request_id: str
    service: str
    chunk: int
    chunks: int
    text: str


class ConsentWithdrawnReply(Contract):
    member_id: str
    erased: Literal[True] = True


class VisibilitySet(Contract):
    visible: tuple[VisibleField, ...]


class MemberView(Contract):
    member_id: str
    status: Status
    roles: tuple[Role, ...]
    rules_acknowledged: bool
    profile: Profile
    missing: tuple[str, ...]
    #: what the member's colleagues see of the profile besides the name
    visible_fields: tuple[VisibleField, ...]
    moderator_message: str | None = None
    registered_at: datetime | None = None
    #: since when the profile waits for a decision (None when it does not)
    queued_at: datetime | None = None
    updated_at: datetime | None = None


class InvitationView(Contract):
    token: str
    max_uses: int
    uses: int
    expires_at: datetime
    revoked: bool
    issued_by: str
    issued_at: datetime
    revoked_at: datetime | None = None
    active: bool


class InvitationList(Contract):
    items: tuple[InvitationView, ...]


class InvitationState(Contract):
    """Whether an invitation link can be used now; what the join page says before anyone fills the form."""

    usable: bool
    #: why not: invitation_unknown, invitation_revoked, invitation_expired or invitation_exhausted
    reason: Literal["invitation_unknown", "invitation_revoked", "invitation_expired", "invitation_exhausted"] | None
    expires_at: datetime | None = None


class Queue(Contract):
    items: tuple[MemberView, ...]
    total: int


class ColleagueCard(Contract):
    """A member as the other members see them: the fields they hide are None (and left out over HTTP)."""

    member_id: str
    full_name: str
    city: str | None = None
    company: str | None = None
    position: str | None = None
    years_in_hr: int | None = None
    professional_interests: tuple[str, ...] | None = None
    phone: str | None = None
    about: str | None = None


class ColleaguePage(Contract):
    items: tuple[ColleagueCard, ...]
    #: ask again with it for the next page; None: nothing followed. A page may hold fewer than
    #: ``limit`` colleagues (even none) while this is set: go on until it is None
    next_cursor: str | None = None


class DecisionRecord(Contract):
    decision: Decision
    decided_by: str
    #: the deciding moderator's name now; None once they are erased (or for the platform itself)
    decided_by_name: str | None = None
    #: what the moderator wrote: the changes asked for, the reason of a decline or revocation
    message: str | None = None
    at: datetime


class DecisionList(Contract):
    items: tuple[DecisionRecord, ...]


class MemberSummary(Contract):
    member_id: str
    full_name: str | None = None
    status: Status
    roles: tuple[Role, ...]


class MemberPage(Contract):
    items: tuple[MemberSummary, ...]
    next_cursor: str | None = None
    #: how many members meet the conditions, on every page
    total: int


# ------------------------------------------------------------------ commands


class OnboardingCommand(Command):
    service: ClassVar[str] = SERVICE


class IssueInvitation(OnboardingCommand):
    reply_model: ClassVar = InvitationCreated
    max_uses: int = Field(default=1, ge=1, le=1000)
    expires_in_days: int = Field(default=14, ge=1, le=365)


class RevokeInvitation(OnboardingCommand):
    reply_model: ClassVar = InvitationRevokedReply
    token: Id


class RegisterMember(OnboardingCommand):
    reply_model: ClassVar = Registered
    invitation_token: Id
    email: Annotated[EmailStr, StringConstraints(max_length=254)]
    password: str = Field(min_length=8, max_length=200)
    full_name: RegisteredName
    consent_personal_data: bool


class AcknowledgeRules(OnboardingCommand):
    reply_model: ClassVar = StatusReply


class UpdateProfile(Profile, OnboardingCommand):
    reply_model: ClassVar = ProfileReport


class DecideOnMember(OnboardingCommand):
    reply_model: ClassVar = DecisionTaken
    member_id: Id
    decision: Decision
    message: Message | None = None


class SetProfileVisibility(OnboardingCommand):
    reply_model: ClassVar = VisibilitySet
    #: the fields colleagues may see besides the name; [] shows the name alone
    visible: tuple[VisibleField, ...] = Field(max_length=len(VISIBLE_FIELDS))

    @field_validator("visible")
    @classmethod
    def _once_each(cls, v: tuple[VisibleField, ...]) -> tuple[VisibleField, ...]:
        return tuple(dict.fromkeys(v))


class ChangeRoles(OnboardingCommand):
    reply_model: ClassVar = RolesSet
    member_id: Id
    #: the assigned roles; empty: an ordinary member
    roles: tuple[AssignableRole, ...] = Field(max_length=4)


class EraseMember(OnboardingCommand):
    reply_model: ClassVar = Erased
    member_id: Id


class RequestMyData(OnboardingCommand):
    """Ask for everything the platform holds about me; a request still being assembled is not asked again."""

    reply_model: ClassVar = MyDataState


#: what withdrawing consent must be confirmed with, typed by the member (either language's word)
WITHDRAWAL_WORDS = ("УДАЛИТЬ", "DELETE")


class WithdrawConsent(OnboardingCommand):
    """Withdraw my consent to the processing of my personal data: my account is erased, at once and for good.
    ``confirmation``: the word the page asks to type (``WITHDRAWAL_WORDS``), so that no stray request erases."""

    reply_model: ClassVar = ConsentWithdrawnReply
    confirmation: str = Field(default="", max_length=50)


class Login(OnboardingCommand):
    reply_model: ClassVar = Tokens
    replayable: ClassVar[bool] = False  # the answer holds tokens: never stored
    # not EmailStr: a sign-in with any string gets "wrong e-mail or password"
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=200)


class RefreshTokens(OnboardingCommand):
    reply_model: ClassVar = Tokens
    replayable: ClassVar[bool] = False
    refresh_token: str = Field(min_length=10, max_length=4000)


COMMANDS = (
    IssueInvitation,
    RevokeInvitation,
    RegisterMember,
    AcknowledgeRules,
    UpdateProfile,
    SetProfileVisibility,
    DecideOnMember,
    ChangeRoles,
    EraseMember,
    RequestMyData,
    WithdrawConsent,
    Login,
    RefreshTokens,
)

# ------------------------------------------------------------------ queries


class OnboardingQuery(Query):
    service: ClassVar[str] = SERVICE


class GetMember(OnboardingQuery):
    reply_model: ClassVar = MemberView
    member_id: Id


class ListInvitations(OnboardingQuery):
    reply_model: ClassVar = InvitationList
    include_inactive: bool = False


class CheckInvitation(OnboardingQuery):
    """Anyone holding the link may ask (the token is the secret; it tells nothing of who issued it)."""

    reply_model: ClassVar = InvitationState
    token: Id


class ModerationQueue(OnboardingQuery):
    reply_model: ClassVar = Queue
    limit: int = Field(default=100, ge=1, le=500)


#: what a search may hold: words, matched as prefixes of the words of names, cities, companies...
SearchText = ShortText


class FindColleagues(OnboardingQuery):
    """The Colleagues directory, for the Main group's members: by folded full name, each word of ``q``
    the beginning of a word the colleague shows."""

    reply_model: ClassVar = ColleaguePage
    q: SearchText | None = None
    limit: int = Field(default=20, ge=1, le=100)
    cursor: Cursor | None = None


class GetColleague(OnboardingQuery):
    reply_model: ClassVar = ColleagueCard
    member_id: Id


class DecisionHistory(OnboardingQuery):
    """Every decision taken on a member, oldest first (moderators)."""

    reply_model: ClassVar = DecisionList
    member_id: Id


class ListMembers(OnboardingQuery):
    """Everyone registered and not erased, in the order they registered (moderators and admins);
    ``q`` matches words of the full name as ``FindColleagues`` does."""

    reply_model: ClassVar = MemberPage
    q: SearchText | None = None
    status: Status | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Cursor | None = None


class GetMyData(OnboardingQuery):
    """The state of my last request for my data."""

    reply_model: ClassVar = MyDataState


class GetMyDataPart(OnboardingQuery):
    """One chunk of one service's part of my last request for my data, once the part is in."""

    reply_model: ClassVar = MyDataPart
    #: the service whose part it is
    part: Id
    chunk: int = Field(default=0, ge=0, le=10_000)


QUERIES = (GetMyData, GetMyDataPart,
           GetMember, ListInvitations, CheckInvitation, ModerationQueue, FindColleagues, GetColleague, DecisionHistory,
           ListMembers)
REPLIES = (Tokens, InvitationCreated, InvitationRevokedReply, Registered, StatusReply, ProfileReport, DecisionTaken,
           RolesSet, Erased, VisibilitySet, MemberView, InvitationView, InvitationList, Queue, ColleagueCard,
           ColleaguePage, DecisionRecord, DecisionList, MemberSummary, MemberPage, InvitationState, DataPartState,
           MyDataState, MyDataPart, ConsentWithdrawnReply)

CONTRACTS = ServiceContracts(SERVICE, EVENTS, COMMANDS, QUERIES, REPLIES, member_data=OnboardingDataCollected)
