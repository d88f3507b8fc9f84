"""Onboarding deciders: given events / when a command / then events or an error.

Pure: no bus, no database, no clock but the ``now`` passed in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.contracts.onboarding import (
    DEFAULT_VISIBLE,
    REQUIRED_PROFILE_FIELDS,
    AccessDeclined,
    AccessGranted,
    AccessRevoked,
    ChangesRequested,
    ConsentGiven,
    InvitationIssued,
    InvitationRevoked,
    InvitationUsed,
    MemberErased,
    MemberRegistered,
    Profile,
    ProfileCompleted,
    ProfileUpdated,
    ProfileVisibilityChanged,
    RolesChanged,
    RulesAcknowledged,
)
from libs.kit.decider import given
from services.onboarding import domain
from services.onboarding.domain import (
    INVITATION,
    MEMBER,
    Acknowledge,
    AssignRoles,
    BootstrapAdmin,
    ChooseVisibility,
    Decide,
    EditProfile,
    Erase,
    Issue,
    Register,
    Revoke,
    Use,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TOKEN = "tok-12345678"
M = "m-1"

ADMIN = Actor(id="admin-1", roles=("admin",))
MODERATOR = Actor(id="mod-1", roles=("moderator",))
A_MEMBER = Actor(id="mem-1", roles=("member",))
GUEST = Actor(id="guest-1", roles=("guest",))
NOBODY = Actor(id="anon", roles=())

FULL = Profile(
    full_name="Анна Петрова",
    city="Екатеринбург",
    company="ООО Ромашка",
    position="HR BP",
    years_in_hr=7,
    professional_interests=("оценка", "обучение"),
    phone="+7 900 123-45-67",
)
PARTIAL = Profile(full_name="Анна Петрова", city="Екатеринбург")


# ------------------------------------------------------------------ helpers


def given_member(*events) -> domain.Member:
    """The folded state, for assertions on it (decisions go through given/when/then)."""
    return MEMBER.fold(events)


def issued(max_uses: int = 1, expires_at: datetime = NOW + timedelta(days=14)) -> InvitationIssued:
    return InvitationIssued(invitation_id=TOKEN, max_uses=max_uses, expires_at=expires_at, issued_by=MODERATOR.id)


def used(member_id: str = M) -> InvitationUsed:
    return InvitationUsed(invitation_id=TOKEN, member_id=member_id)


def registered(member_id: str = M, roles=("guest",)) -> list:
    return [
        MemberRegistered(member_id=member_id, invitation_id=TOKEN, roles=roles, email="anna@example.org",
                         full_name="Анна Петрова", password_hash="$argon2id$x"),
        ConsentGiven(member_id=member_id),
    ]


def profile_updated(profile: Profile, member_id: str = M) -> ProfileUpdated:
    return ProfileUpdated(member_id=member_id, **profile.model_dump())


def ready_for_review(member_id: str = M) -> list:
    """Registered, rules read, profile complete: what a moderator decides on."""
    return [*registered(member_id), RulesAcknowledged(member_id=member_id), profile_updated(FULL, member_id),
            ProfileCompleted(member_id=member_id)]


def granted() -> list:
    return [*ready_for_review(), AccessGranted(member_id=M, decided_by=MODERATOR.id)]


def decide(decision: str, message: str | None = None, actor: Actor = MODERATOR, member_id: str = M) -> Decide:
    return Decide(actor=actor, member_id=member_id, decision=decision, message=message)


def register(consent: bool = True) -> Register:
    return Register(member_id=M, invitation_id=TOKEN, email="anna@example.org", full_name="Анна Петрова",
                    password_hash="$argon2id$x", consent=consent)


# ------------------------------------------------------------------ invitations


@pytest.mark.parametrize("actor", [MODERATOR, ADMIN], ids=["moderator", "admin"])
def test_moderator_or_admin_issues_an_invitation(actor):
    given(INVITATION).when(Issue(actor, TOKEN, 3, 10, NOW)).then(
        InvitationIssued(invitation_id=TOKEN, max_uses=3, expires_at=NOW + timedelta(days=10), issued_by=actor.id))


@pytest.mark.parametrize("actor", [GUEST, A_MEMBER, NOBODY], ids=["guest", "member", "no-roles"])
def test_others_may_not_issue_an_invitation(actor):
    given(INVITATION).when(Issue(actor, TOKEN, 1, 14, NOW)).refused(Forbidden, "moderator_only")


def test_issuing_the_same_token_twice_conflicts():
    given(INVITATION, issued()).when(Issue(MODERATOR, TOKEN, 1, 14, NOW)).refused(Conflict, "invitation_exists")


def test_an_issued_invitation_can_be_used():
    given(INVITATION, issued()).when(Use(TOKEN, M, NOW)).then(used())


def test_using_an_unknown_invitation_is_invalid():
    given(INVITATION).when(Use(TOKEN, M, NOW)).refused(Invalid, "invitation_unknown")


def test_using_a_revoked_invitation_is_invalid():
    given(INVITATION, issued(), InvitationRevoked(invitation_id=TOKEN, revoked_by=MODERATOR.id)).when(
        Use(TOKEN, M, NOW)).refused(Invalid, "invitation_revoked")


def test_an_invitation_expires_at_its_expiry_instant():
    expires = NOW + timedelta(days=1)
    given(INVITATION, issued(expires_at=expires)).when(Use(TOKEN, M, expires - timedelta(microseconds=1))).then(used())
    for at in (expires, expires + timedelta(days=1)):
        given(INVITATION, issued(expires_at=expires)).when(Use(TOKEN, M, at)).refused(Invalid, "invitation_expired")


def test_a_single_use_invitation_is_exhausted_after_one_use():
    given(INVITATION, issued(1), used("m-1")).when(Use(TOKEN, "m-2", NOW)).refused(Invalid, "invitation_exhausted")


def test_a_two_use_invitation_is_exhausted_after_two_uses():
    given(INVITATION, issued(2), used("m-1")).when(Use(TOKEN, "m-2", NOW)).then(used("m-2"))
    given(INVITATION, issued(2), used("m-1"), used("m-2")).when(Use(TOKEN, "m-3", NOW)).refused(
        Invalid, "invitation_exhausted")


def test_revoking_is_for_moderators_and_idempotent():
    given(INVITATION, issued()).when(Revoke(A_MEMBER, TOKEN)).refused(Forbidden, "moderator_only")
    given(INVITATION).when(Revoke(MODERATOR, TOKEN)).refused(NotFound, "invitation_not_found")
    revoked = InvitationRevoked(invitation_id=TOKEN, revoked_by=MODERATOR.id)
    given(INVITATION, issued()).when(Revoke(MODERATOR, TOKEN)).then(revoked)
    given(INVITATION, issued(), revoked).when(Revoke(MODERATOR, TOKEN)).then()


# ------------------------------------------------------------------ registration


def test_register_records_the_member_as_guest_and_the_consent():
    state = given(MEMBER).when(register()).then(*registered())
    assert state.roles == ("guest",)
    assert state.consent and not state.rules
    assert state.status == "introduction"


def test_register_without_consent_is_invalid():
    given(MEMBER).when(register(consent=False)).refused(Invalid, "consent_required")


def test_register_twice_conflicts():
    given(MEMBER, *registered()).when(register()).refused(Conflict, "member_exists")


def test_rules_are_acknowledged_once():
    given(MEMBER, *registered()).when(Acknowledge(M)).then(RulesAcknowledged(member_id=M))
    given(MEMBER, *registered(), RulesAcknowledged(member_id=M)).when(Acknowledge(M)).then()
    given(MEMBER).when(Acknowledge(M)).refused(NotFound, "member_not_found")


# ------------------------------------------------------------------ profile


def test_a_partial_profile_is_updated_without_completion():
    given(MEMBER, *registered()).when(EditProfile(M, PARTIAL)).then(profile_updated(PARTIAL))


def test_profile_completed_is_emitted_on_the_transition_to_complete():
    given(MEMBER, *registered(), profile_updated(PARTIAL)).when(EditProfile(M, FULL)).then(
        profile_updated(FULL), ProfileCompleted(member_id=M))


def test_profile_completed_is_not_emitted_again_while_complete():
    edited = FULL.model_copy(update={"about": "20 лет в HR"})
    given(MEMBER, *registered(), profile_updated(FULL), ProfileCompleted(member_id=M)).when(
        EditProfile(M, edited)).then(profile_updated(edited))


def test_losing_and_regaining_completeness_emits_completion_again():
    events = [*registered(), profile_updated(FULL), ProfileCompleted(member_id=M), profile_updated(PARTIAL)]
    assert not given_member(*events).complete
    given(MEMBER, *events).when(EditProfile(M, FULL)).then(profile_updated(FULL), ProfileCompleted(member_id=M))


def test_profile_completed_is_emitted_again_after_changes_requested():
    events = [*ready_for_review(), ChangesRequested(member_id=M, decided_by=MODERATOR.id, message="Уточните компанию")]
    assert given_member(*events).complete  # still complete: only the moderator's request makes it reviewable again
    edited = FULL.model_copy(update={"company": "АО Ромашка"})
    given(MEMBER, *events).when(EditProfile(M, edited)).then(profile_updated(edited), ProfileCompleted(member_id=M))


def test_profile_completed_is_not_repeated_after_the_resubmission():
    events = [*ready_for_review(), ChangesRequested(member_id=M, decided_by=MODERATOR.id, message="Уточните компанию"),
              profile_updated(FULL.model_copy(update={"company": "АО Ромашка"})), ProfileCompleted(member_id=M)]
    assert given_member(*events).status == "pending_review"
    edited = FULL.model_copy(update={"company": "АО Ромашка", "about": "ещё правка"})
    given(MEMBER, *events).when(EditProfile(M, edited)).then(profile_updated(edited))


def test_a_declined_member_cannot_edit_the_profile():
    given(MEMBER, *ready_for_review(), AccessDeclined(member_id=M, decided_by=MODERATOR.id, reason="нет")).when(
        EditProfile(M, FULL)).refused(Conflict, "member_declined")


def test_updating_an_unknown_member_is_not_found():
    given(MEMBER).when(EditProfile(M, FULL)).refused(NotFound, "member_not_found")


# ------------------------------------------------------------------ status


def test_status_stays_introduction_until_rules_and_profile():
    assert given_member(*registered()).status == "introduction"
    assert given_member(*registered(), RulesAcknowledged(member_id=M)).status == "introduction"
    assert given_member(*registered(), profile_updated(FULL)).status == "introduction"
    assert given_member(*registered(), RulesAcknowledged(member_id=M), profile_updated(PARTIAL)).status == "introduction"


def test_status_pending_review_then_member():
    state = given_member(*ready_for_review())
    assert state.status == "pending_review"
    granted = given_member(*ready_for_review(), AccessGranted(member_id=M, decided_by=MODERATOR.id))
    assert granted.status == "member"
    assert granted.roles == ("member",)  # the guest role is replaced


def test_status_pending_review_then_declined():
    state = given_member(*ready_for_review(), AccessDeclined(member_id=M, decided_by=MODERATOR.id, reason="не HR"))
    assert state.status == "declined"
    assert state.moderator_message == "не HR"


def test_status_changes_requested_then_pending_review_after_a_new_profile():
    asked = [*ready_for_review(), ChangesRequested(member_id=M, decided_by=MODERATOR.id, message="Уточните")]
    state = given_member(*asked)
    assert state.status == "changes_requested"
    assert state.moderator_message == "Уточните"
    again = given_member(*asked, profile_updated(FULL), ProfileCompleted(member_id=M))
    assert again.status == "pending_review"


def test_erased_member_status():
    assert given_member(*ready_for_review(), MemberErased(member_id=M, erased_by=ADMIN.id)).status == "erased"


# ------------------------------------------------------------------ moderation


@pytest.mark.parametrize("actor", [MODERATOR, ADMIN], ids=["moderator", "admin"])
def test_a_moderator_grants_access(actor):
    given(MEMBER, *ready_for_review()).when(decide("grant", actor=actor)).then(
        AccessGranted(member_id=M, decided_by=actor.id))


@pytest.mark.parametrize("actor", [GUEST, A_MEMBER, NOBODY], ids=["guest", "member", "no-roles"])
def test_only_moderators_decide(actor):
    given(MEMBER, *ready_for_review()).when(decide("grant", actor=actor)).refused(Forbidden, "moderator_only")


def test_deciding_on_an_unknown_member_is_not_found():
    given(MEMBER).when(decide("grant")).refused(NotFound, "member_not_found")


def test_deciding_before_the_rules_are_acknowledged_conflicts():
    given(MEMBER, *registered(), profile_updated(FULL), ProfileCompleted(member_id=M)).when(decide("grant")).refused(
        Conflict, "rules_not_acknowledged")


def test_deciding_on_an_incomplete_profile_conflicts_with_the_missing_fields():
    error = given(MEMBER, *registered(), RulesAcknowledged(member_id=M), profile_updated(PARTIAL)).when(
        decide("grant")).refused(Conflict, "profile_incomplete")
    assert error.params == {"missing": [f for f in REQUIRED_PROFILE_FIELDS if f not in ("full_name", "city")]}
    assert error.params["missing"] == ["company", "position", "years_in_hr", "professional_interests", "phone"]


@pytest.mark.parametrize("decision,message", [("grant", None), ("request_changes", "ещё раз"), ("decline", "нет")])
def test_after_a_grant_every_decision_conflicts(decision, message):
    given(MEMBER, *granted()).when(decide(decision, message)).refused(Conflict, "already_decided", status="member")


def test_after_a_decline_deciding_again_conflicts():
    given(MEMBER, *ready_for_review(), AccessDeclined(member_id=M, decided_by=MODERATOR.id, reason="нет")).when(
        decide("grant")).refused(Conflict, "already_decided", status="declined")


def test_while_awaiting_changes_deciding_conflicts():
    given(MEMBER, *ready_for_review(), ChangesRequested(member_id=M, decided_by=MODERATOR.id, message="x")).when(
        decide("grant")).refused(Conflict, "awaiting_changes")


def test_request_changes_carries_the_message():
    given(MEMBER, *ready_for_review()).when(decide("request_changes", "  Уточните компанию ")).then(
        ChangesRequested(member_id=M, decided_by=MODERATOR.id, message="Уточните компанию"))


@pytest.mark.parametrize("message", [None, "", "   "])
def test_request_changes_without_a_message_is_invalid(message):
    given(MEMBER, *ready_for_review()).when(decide("request_changes", message)).refused(Invalid, "message_required")


def test_decline_carries_the_reason():
    given(MEMBER, *ready_for_review()).when(decide("decline", "Не работает в HR")).then(
        AccessDeclined(member_id=M, decided_by=MODERATOR.id, reason="Не работает в HR"))


@pytest.mark.parametrize("message", [None, "", "  "])
def test_decline_without_a_reason_is_invalid(message):
    given(MEMBER, *ready_for_review()).when(decide("decline", message)).refused(Invalid, "reason_required")


def test_a_resubmitted_profile_can_be_granted():
    given(MEMBER, *ready_for_review(), ChangesRequested(member_id=M, decided_by=MODERATOR.id, message="x"),
          profile_updated(FULL), ProfileCompleted(member_id=M)).when(decide("grant")).then(
        AccessGranted(member_id=M, decided_by=MODERATOR.id))


# ------------------------------------------------------------------ roles


def test_an_admin_changes_roles():
    state = given(MEMBER, *granted()).when(AssignRoles(ADMIN, M, ("moderator", "observer", "moderator"))).then(
        RolesChanged(member_id=M, roles=("moderator", "observer"), changed_by=ADMIN.id))
    assert state.roles == ("member", "moderator", "observer")


@pytest.mark.parametrize("actor", [MODERATOR, A_MEMBER, GUEST], ids=["moderator", "member", "guest"])
def test_only_an_admin_changes_roles(actor):
    given(MEMBER, *granted()).when(AssignRoles(actor, M, ("moderator",))).refused(Forbidden, "admin_only")


def test_changing_to_the_same_roles_is_a_no_op():
    given(MEMBER, *granted()).when(AssignRoles(ADMIN, M, ())).then()


@pytest.mark.parametrize("roles", [("member",), ("guest",), ("moderator", "member")])
def test_membership_is_never_a_role_to_assign(roles):
    """One source of truth: only a moderator's decision puts a person into the Main group."""
    given(MEMBER, *ready_for_review()).when(AssignRoles(ADMIN, M, roles)).refused(Invalid, "membership_is_a_decision")


def test_a_guest_cannot_be_given_powers():
    given(MEMBER, *ready_for_review()).when(AssignRoles(ADMIN, M, ("moderator",))).refused(
        Conflict, "not_a_member", status="pending_review")


def test_powers_count_only_while_a_member():
    """A moderator whose membership is revoked moderates nothing any more."""
    events = [*granted(), RolesChanged(member_id=M, roles=("moderator",), changed_by=ADMIN.id)]
    assert given_member(*events).roles == ("member", "moderator")
    revoked = given(MEMBER, *events).when(decide("revoke", "x", actor=ADMIN)).then(
        AccessRevoked(member_id=M, decided_by=ADMIN.id, reason="x"))
    assert revoked.roles == ("guest",) and revoked.status == "revoked"


def test_roles_of_earlier_versions_do_not_make_a_member():
    """A RolesChanged of an earlier version carrying "member" grants no membership."""
    assert given_member(*registered(M), RolesChanged(member_id=M, roles=("member", "moderator"),
                                                     changed_by="a")).roles == ("guest",)


def test_an_admin_cannot_drop_their_own_admin_role():
    given(MEMBER, *registered(ADMIN.id, roles=("admin",)), AccessGranted(member_id=ADMIN.id, decided_by="s")).when(
        AssignRoles(ADMIN, ADMIN.id, ())).refused(Conflict, "cannot_drop_own_admin")


# ------------------------------------------------------------------ one's own membership, revocation


@pytest.mark.parametrize("decision", ["grant", "request_changes", "decline", "revoke"])
def test_nobody_decides_on_their_own_membership(decision):
    me = Actor(id=M, roles=("moderator",))
    given(MEMBER, *ready_for_review()).when(decide(decision, "x", actor=me)).refused(Forbidden, "own_membership")


def test_a_moderator_revokes_a_membership_with_a_reason():
    given(MEMBER, *granted()).when(decide("revoke")).refused(Invalid, "reason_required")
    given(MEMBER, *granted()).when(decide("revoke", "нарушение правил")).then(
        AccessRevoked(member_id=M, decided_by=MODERATOR.id, reason="нарушение правил"))


def test_only_a_member_can_lose_membership():
    given(MEMBER, *ready_for_review()).when(decide("revoke", "x")).refused(Conflict, "not_a_member")


def test_a_revoked_member_can_be_taken_back():
    events = [*granted(), AccessRevoked(member_id=M, decided_by=MODERATOR.id, reason="x")]
    given(MEMBER, *events).when(decide("decline", "x")).refused(Conflict, "already_decided")
    given(MEMBER, *events).when(decide("grant")).then(AccessGranted(member_id=M, decided_by=MODERATOR.id))


# ------------------------------------------------------------------ erasure


def test_an_admin_erases_a_member():
    erased = given(MEMBER, *ready_for_review()).when(Erase(ADMIN, M)).then(MemberErased(member_id=M, erased_by=ADMIN.id))
    assert erased.email is None and erased.profile == Profile() and erased.roles == ()


@pytest.mark.parametrize("actor", [MODERATOR, A_MEMBER, GUEST], ids=["moderator", "member", "guest"])
def test_only_an_admin_erases(actor):
    given(MEMBER, *ready_for_review()).when(Erase(actor, M)).refused(Forbidden, "admin_only")


def test_erasing_twice_is_a_no_op():
    given(MEMBER, *ready_for_review(), MemberErased(member_id=M, erased_by=ADMIN.id)).when(Erase(ADMIN, M)).then()


def test_an_admin_cannot_erase_themselves():
    given(MEMBER, *registered(ADMIN.id, roles=("admin",))).when(Erase(ADMIN, ADMIN.id)).refused(
        Conflict, "cannot_erase_self")


def test_erasing_an_unknown_member_is_not_found():
    given(MEMBER).when(Erase(ADMIN, M)).refused(NotFound, "member_not_found")


def test_an_erased_member_is_gone_for_other_commands():
    events = [*ready_for_review(), MemberErased(member_id=M, erased_by=ADMIN.id)]
    for command in (EditProfile(M, FULL), decide("grant"), AssignRoles(ADMIN, M, ("moderator",)), Acknowledge(M)):
        given(MEMBER, *events).when(command).refused(NotFound, "member_not_found")


# ------------------------------------------------------------------ visibility


def test_a_member_who_never_chose_shows_the_default_and_no_phone():
    state = given_member(*granted())
    assert state.visible is None
    assert state.visible_fields == DEFAULT_VISIBLE and "phone" not in state.visible_fields


def test_choosing_records_the_fields_once_each_in_the_profile_order():
    state = given(MEMBER, *granted()).when(ChooseVisibility(M, ("phone", "city", "phone"))).then(
        ProfileVisibilityChanged(member_id=M, visible=("city", "phone")))
    assert state.visible_fields == ("city", "phone")


def test_choosing_the_default_for_the_first_time_is_recorded():
    """A choice, not an absence of one: a later change of the default must not overturn it."""
    given(MEMBER, *granted()).when(ChooseVisibility(M, DEFAULT_VISIBLE)).then(
        ProfileVisibilityChanged(member_id=M, visible=DEFAULT_VISIBLE))


def test_choosing_the_same_again_is_a_no_op():
    chosen = ProfileVisibilityChanged(member_id=M, visible=("city", "phone"))
    given(MEMBER, *granted(), chosen).when(ChooseVisibility(M, ("phone", "city"))).then()


def test_the_name_alone_may_be_shown():
    state = given(MEMBER, *granted()).when(ChooseVisibility(M, ())).then(
        ProfileVisibilityChanged(member_id=M, visible=()))
    assert state.visible_fields == ()


def test_a_guest_chooses_before_joining_and_the_choice_stays():
    events = [*ready_for_review(), ProfileVisibilityChanged(member_id=M, visible=("about",))]
    given(MEMBER, *ready_for_review()).when(ChooseVisibility(M, ("about",))).then(events[-1])
    assert given_member(*events, AccessGranted(member_id=M, decided_by=MODERATOR.id)).visible_fields == ("about",)


def test_an_unknown_or_erased_member_chooses_nothing():
    given(MEMBER).when(ChooseVisibility(M, ("city",))).refused(NotFound, "member_not_found")
    given(MEMBER, *granted(), MemberErased(member_id=M, erased_by=ADMIN.id)).when(
        ChooseVisibility(M, ("city",))).refused(NotFound, "member_not_found")


def test_an_erasure_forgets_the_choice():
    erased = given_member(*granted(), ProfileVisibilityChanged(member_id=M, visible=("phone",)),
                          MemberErased(member_id=M, erased_by=ADMIN.id))
    assert erased.visible is None


# ------------------------------------------------------------------ bootstrap


def test_bootstrap_admin_once():
    events = MEMBER.decide(BootstrapAdmin(ADMIN.id, "admin@example.org", "h"), MEMBER.initial())
    assert [type(e) for e in events] == [MemberRegistered, AccessGranted]
    state = given(MEMBER).when(BootstrapAdmin(ADMIN.id, "admin@example.org", "h")).then(*events)
    assert state.status == "member" and "admin" in state.roles
    given(MEMBER, *events).when(BootstrapAdmin(ADMIN.id, "admin@example.org", "h")).then()


def test_a_decider_refuses_a_command_of_another_aggregate():
    with pytest.raises(TypeError):
        given(MEMBER).when(Use(TOKEN, M, NOW))


def test_a_refusal_that_was_expected_to_be_a_decision_fails_the_test():
    """The helper itself: then() on a refusal and refused() on a decision are test failures."""
    with pytest.raises(AssertionError):
        given(MEMBER).when(Acknowledge(M)).then(RulesAcknowledged(member_id=M))
    with pytest.raises(AssertionError):
        given(MEMBER, *registered()).when(Acknowledge(M)).refused(NotFound, "member_not_found")
    with pytest.raises(AssertionError):
        given(MEMBER).when(Acknowledge(M)).refused(NotFound, "another_code")
