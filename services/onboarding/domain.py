"""Onboarding deciders: pure functions, no I/O.

A newcomer enters through an invitation into Introduction, accepts the
processing of personal data, acknowledges the rules and completes a profile;
then a moderator grants access to the Main group, asks for changes or
declines. Every rule about who may do what, and when, lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from libs.contracts.base import Event
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.contracts.my_data import DATA_AGGREGATE
from libs.contracts.onboarding import (
    DEFAULT_VISIBLE,
    MEMBERSHIP_ROLES,
    SERVICE,
    AccessDeclined,
    AccessGranted,
    AccessRevoked,
    ChangesRequested,
    ConsentGiven,
    ConsentWithdrawn,
    InvitationIssued,
    InvitationRevoked,
    InvitationUsed,
    MemberDataRequested,
    MemberErased,
    MemberRegistered,
    OnboardingDataCollected,
    Profile,
    ProfileCompleted,
    ProfileUpdated,
    ProfileVisibilityChanged,
    RolesChanged,
    RulesAcknowledged,
    Status,
    VisibleField,
    effective_roles,
    privileges_of,
    visible_in_order,
)
from libs.kit.data_parts import AnswerRequest, answer
from libs.kit.decider import Decider

# ------------------------------------------------------------------ invitation


@dataclass(frozen=True)
class Invitation:
    exists: bool = False
    max_uses: int = 0
    uses: int = 0
    expires_at: datetime | None = None
    revoked: bool = False
    issued_by: str | None = None


def evolve_invitation(state: Invitation, event: Event) -> Invitation:
    match event:
        case InvitationIssued():
            return Invitation(True, event.max_uses, 0, event.expires_at, False, event.issued_by)
        case InvitationUsed():
            return replace(state, uses=state.uses + 1)
        case InvitationRevoked():
            return replace(state, revoked=True)
    return state


@dataclass(frozen=True)
class Issue:
    actor: Actor
    #: the link's secret, drawn by the handler
    token: str
    max_uses: int
    expires_in_days: int
    at: datetime


@dataclass(frozen=True)
class Revoke:
    actor: Actor
    token: str


@dataclass(frozen=True)
class Use:
    token: str
    member_id: str
    at: datetime


def decide_invitation(cmd: Issue | Revoke | Use, state: Invitation) -> list[Event]:
    match cmd:
        case Issue():
            if not cmd.actor.is_moderator:
                raise Forbidden("moderator_only")
            if state.exists:
                raise Conflict("invitation_exists")
            return [InvitationIssued(invitation_id=cmd.token, max_uses=cmd.max_uses,
                                     expires_at=cmd.at + timedelta(days=cmd.expires_in_days), issued_by=cmd.actor.id)]
        case Revoke():
            if not cmd.actor.is_moderator:
                raise Forbidden("moderator_only")
            if not state.exists:
                raise NotFound("invitation_not_found")
            if state.revoked:
                return []
            return [InvitationRevoked(invitation_id=cmd.token, revoked_by=cmd.actor.id)]
        case Use():
            if (why := unusable(state, cmd.at)) is not None:
                raise Invalid(why)
            return [InvitationUsed(invitation_id=cmd.token, member_id=cmd.member_id)]
    raise TypeError(f"not an invitation command: {cmd!r}")


def unusable(state: Invitation, at: datetime) -> str | None:
    """Why an invitation cannot be used now (an error code), or None: registration refuses with it, and
    the join page says it before anyone fills the form."""
    if not state.exists:
        return "invitation_unknown"
    if state.revoked:
        return "invitation_revoked"
    if state.expires_at is not None and at >= state.expires_at:
        return "invitation_expired"
    if state.uses >= state.max_uses:
        return "invitation_exhausted"
    return None


INVITATION: Decider = Decider(
    SERVICE, "invitation", Invitation, evolve_invitation, decide_invitation,
    events=(InvitationIssued, InvitationUsed, InvitationRevoked),
)


# ------------------------------------------------------------------ member


@dataclass(frozen=True)
class Member:
    exists: bool = False
    erased: bool = False
    #: the roles an admin assigned (moderator, observer, coordinator, admin); "guest" and "member"
    #: follow from the decisions, see ``roles``
    privileges: tuple[str, ...] = ()
    consent: bool = False
    rules: bool = False
    profile: Profile = field(default_factory=Profile)
    #: None, "granted", "declined", "changes_requested" or "revoked"
    decision: str | None = None
    #: the profile was edited after a moderator asked for changes
    resubmitted: bool = False
    moderator_message: str | None = None
    email: str | None = None
    password_hash: str | None = None
    #: the profile fields colleagues see besides the name, as the member chose; None: never chose
    visible: tuple[VisibleField, ...] | None = None

    @property
    def complete(self) -> bool:
        return not self.profile.missing()

    @property
    def visible_fields(self) -> tuple[VisibleField, ...]:
        """A member who never chose shows the default (no phone): a choice is theirs to make, not ours."""
        return DEFAULT_VISIBLE if self.visible is None else self.visible

    @property
    def roles(self) -> tuple[str, ...]:
        """What the person may do now: Main-group membership is the one source of "member"."""
        if self.erased or not self.exists:
            return ()
        return effective_roles(self.decision == "granted", self.privileges)

    @property
    def status(self) -> Status:
        if self.erased:
            return "erased"
        if self.decision == "granted":
            return "member"
        if self.decision == "declined":
            return "declined"
        if self.decision == "revoked":
            return "revoked"
        if self.decision == "changes_requested" and not self.resubmitted:
            return "changes_requested"
        if self.rules and self.complete:
            return "pending_review"
        return "introduction"


def evolve_member(state: Member, event: Event) -> Member:
    match event:
        case MemberRegistered():
            return Member(
                exists=True,
                privileges=privileges_of(event.roles),
                profile=Profile(full_name=event.full_name),
                email=event.email,
                password_hash=event.password_hash,
            )
        case ConsentGiven():
            return replace(state, consent=True)
        case RulesAcknowledged():
            return replace(state, rules=True)
        case ProfileUpdated():
            profile = Profile(**event.model_dump(exclude={"member_id"}))
            return replace(state, profile=profile, resubmitted=state.decision == "changes_requested")
        case ChangesRequested():
            return replace(state, decision="changes_requested", resubmitted=False, moderator_message=event.message)
        case AccessGranted():
            return replace(state, decision="granted", moderator_message=None)
        case AccessDeclined():
            return replace(state, decision="declined", moderator_message=event.reason)
        case AccessRevoked():
            return replace(state, decision="revoked", moderator_message=event.reason)
        case RolesChanged():
            return replace(state, privileges=privileges_of(event.roles))
        case ProfileVisibilityChanged():
            return replace(state, visible=visible_in_order(event.visible))
        case MemberErased():
            return Member(exists=True, erased=True)
    return state


def _alive(state: Member) -> None:
    if not state.exists or state.erased:
        raise NotFound("member_not_found")


def require_consent(consent: bool) -> None:
    if not consent:
        raise Invalid("consent_required")


@dataclass(frozen=True)
class Register:
    member_id: str
    invitation_id: str
    email: str
    full_name: str
    #: hashed by the handler before deciding (the slow step comes before any write)
    password_hash: str
    consent: bool


@dataclass(frozen=True)
class BootstrapAdmin:
    """The first admin comes from settings, not from an invitation."""

    member_id: str
    email: str
    password_hash: str


@dataclass(frozen=True)
class Acknowledge:
    member_id: str


@dataclass(frozen=True)
class EditProfile:
    member_id: str
    profile: Profile


@dataclass(frozen=True)
class ChooseVisibility:
    member_id: str
    visible: tuple[VisibleField, ...]


@dataclass(frozen=True)
class Decide:
    actor: Actor
    member_id: str
    decision: str
    message: str | None = None


@dataclass(frozen=True)
class AssignRoles:
    actor: Actor
    member_id: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Erase:
    actor: Actor
    member_id: str


@dataclass(frozen=True)
class Withdraw:
    """The member withdraws their consent: confirmed (the typed word matched), it erases them."""

    actor: Actor
    confirmed: bool


MemberCommand = (Register | BootstrapAdmin | Acknowledge | EditProfile | ChooseVisibility | Decide | AssignRoles | Erase
                 | Withdraw)


def decide_member(cmd: MemberCommand, state: Member) -> list[Event]:
    match cmd:
        case Register():
            return _register(cmd, state)
        case BootstrapAdmin():
            if state.exists:
                return []
            return [MemberRegistered(member_id=cmd.member_id, invitation_id=None, roles=("admin",), email=cmd.email,
                                     full_name="Administrator", password_hash=cmd.password_hash),
                    AccessGranted(member_id=cmd.member_id, decided_by="system")]
        case Acknowledge():
            _alive(state)
            return [] if state.rules else [RulesAcknowledged(member_id=cmd.member_id)]
        case EditProfile():
            return _edit_profile(cmd, state)
        case ChooseVisibility():
            return _choose_visibility(cmd, state)
        case Decide():
            return _decide(cmd, state)
        case AssignRoles():
            return _assign_roles(cmd, state)
        case Erase():
            if not cmd.actor.has("admin"):
                raise Forbidden("admin_only")
            if not state.exists:
                raise NotFound("member_not_found")
            if state.erased:
                return []
            if cmd.actor.id == cmd.member_id:
                raise Conflict("cannot_erase_self")
            return [MemberErased(member_id=cmd.member_id, erased_by=cmd.actor.id)]
        case Withdraw():
            return _withdraw(cmd, state)
    raise TypeError(f"not a member command: {cmd!r}")


def _withdraw(cmd: Withdraw, state: Member) -> list[Event]:
    """Withdrawing consent ends the processing of the member's data (152-FZ art. 9 §2, GDPR art. 7(3)): the
    record of the withdrawal and the erasure are one decision. Unconfirmed, nothing changes. An admin hands
    the role over first: the platform must not lose its last admin to a click (as an admin cannot erase
    themselves either)."""
    _alive(state)
    if not cmd.confirmed:
        raise Invalid("withdrawal_not_confirmed")
    if "admin" in state.privileges:
        raise Conflict("admin_cannot_withdraw")
    member_id = cmd.actor.id
    return [ConsentWithdrawn(member_id=member_id), MemberErased(member_id=member_id, erased_by=member_id)]


def _register(cmd: Register, state: Member) -> list[Event]:
    require_consent(cmd.consent)
    if state.exists:
        raise Conflict("member_exists")
    return [
        MemberRegistered(member_id=cmd.member_id, invitation_id=cmd.invitation_id, roles=("guest",), email=cmd.email,
                         full_name=cmd.full_name, password_hash=cmd.password_hash),
        ConsentGiven(member_id=cmd.member_id),
    ]


def _edit_profile(cmd: EditProfile, state: Member) -> list[Event]:
    _alive(state)
    if state.decision == "declined":
        raise Conflict("member_declined")
    events: list[Event] = [ProfileUpdated(member_id=cmd.member_id, **cmd.profile.model_dump())]
    becomes_complete = not cmd.profile.missing()
    reviewable_again = state.decision == "changes_requested" and not state.resubmitted
    if becomes_complete and (not state.complete or reviewable_again):
        events.append(ProfileCompleted(member_id=cmd.member_id))
    return events


def _choose_visibility(cmd: ChooseVisibility, state: Member) -> list[Event]:
    """Anyone with an account chooses, whatever their status: a guest's choice is ready for the day
    they join the Main group. Choosing the default for the first time is recorded too: it is a choice
    that a later change of the default must not overturn."""
    _alive(state)
    visible = visible_in_order(cmd.visible)
    if state.visible == visible:
        return []
    return [ProfileVisibilityChanged(member_id=cmd.member_id, visible=visible)]


def _decide(cmd: Decide, state: Member) -> list[Event]:
    actor = cmd.actor
    if not actor.is_moderator:
        raise Forbidden("moderator_only")
    if actor.id == cmd.member_id:
        raise Forbidden("own_membership")  # nobody decides on their own membership
    _alive(state)
    status = state.status
    message = (cmd.message or "").strip() or None
    if cmd.decision == "revoke":
        if status != "member":
            raise Conflict("not_a_member", status=status)
        if not message:
            raise Invalid("reason_required")
        return [AccessRevoked(member_id=cmd.member_id, decided_by=actor.id, reason=message)]
    if status == "revoked":
        if cmd.decision != "grant":
            raise Conflict("already_decided", status=status)
        return [AccessGranted(member_id=cmd.member_id, decided_by=actor.id)]  # taken back into the Main group
    if status in ("member", "declined"):
        raise Conflict("already_decided", status=status)
    if status == "changes_requested":
        raise Conflict("awaiting_changes")
    if not state.rules:
        raise Conflict("rules_not_acknowledged")
    if not state.complete:
        raise Conflict("profile_incomplete", missing=state.profile.missing())
    match cmd.decision:
        case "grant":
            return [AccessGranted(member_id=cmd.member_id, decided_by=actor.id)]
        case "request_changes":
            if not message:
                raise Invalid("message_required")
            return [ChangesRequested(member_id=cmd.member_id, decided_by=actor.id, message=message)]
        case "decline":
            if not message:
                raise Invalid("reason_required")
            return [AccessDeclined(member_id=cmd.member_id, decided_by=actor.id, reason=message)]
    raise Invalid("unknown_decision")


def _assign_roles(cmd: AssignRoles, state: Member) -> list[Event]:
    """Assigned roles only: membership itself is the moderators' decision, never a role to set."""
    if not cmd.actor.has("admin"):
        raise Forbidden("admin_only")
    _alive(state)
    if any(r in MEMBERSHIP_ROLES for r in cmd.roles):
        raise Invalid("membership_is_a_decision")
    privileges = privileges_of(cmd.roles)
    if cmd.actor.id == cmd.member_id and "admin" not in privileges:
        raise Conflict("cannot_drop_own_admin")
    if privileges and state.status != "member":
        raise Conflict("not_a_member", status=state.status)
    if set(privileges) == set(state.privileges):
        return []
    return [RolesChanged(member_id=cmd.member_id, roles=privileges, changed_by=cmd.actor.id)]  # type: ignore[arg-type]


MEMBER: Decider = Decider(
    SERVICE, "member", Member, evolve_member, decide_member,
    events=(MemberRegistered, ConsentGiven, RulesAcknowledged, ProfileUpdated, ProfileCompleted,
            ChangesRequested, AccessGranted, AccessDeclined, AccessRevoked, RolesChanged, ProfileVisibilityChanged,
            MemberErased, ConsentWithdrawn),
)


# ------------------------------------------------------------------ a member's data (docs/adr/0024)


@dataclass(frozen=True)
class MemberData:
    """A member's requests for their data (and onboarding's own answers to them)."""

    answered: frozenset[str] = frozenset()
    last_request: str | None = None


#: how long a request being assembled holds off another: a service away for longer than this (its part
#: still awaited) does not keep the member from asking again
ASSEMBLING_PATIENCE = timedelta(minutes=10)


@dataclass(frozen=True)
class RequestData:
    member_id: str
    #: drawn by the handler
    request_id: str
    at: datetime
    #: when the last request was made, if it is still being assembled (some service has not answered)
    assembling_since: datetime | None = None


def evolve_member_data(state: MemberData, event: Event) -> MemberData:
    match event:
        case MemberDataRequested():
            return replace(state, last_request=event.request_id)
        case OnboardingDataCollected():
            return replace(state, answered=state.answered | {event.request_id})
    return state


def decide_member_data(cmd: RequestData | AnswerRequest, state: MemberData) -> list[Event]:
    match cmd:
        case RequestData():
            if cmd.assembling_since is not None and cmd.at - cmd.assembling_since < ASSEMBLING_PATIENCE:
                raise Conflict("data_export_assembling")
            return [MemberDataRequested(request_id=cmd.request_id, member_id=cmd.member_id)]
        case AnswerRequest():
            return answer(cmd, state.answered, OnboardingDataCollected)
    raise TypeError(f"not a member-data command: {cmd!r}")


MEMBER_DATA: Decider = Decider(SERVICE, DATA_AGGREGATE, MemberData, evolve_member_data, decide_member_data,
                               events=(MemberDataRequested, OnboardingDataCollected))
