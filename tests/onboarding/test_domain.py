"""Onboarding deciders: given events / when a command / then events or an error.

Pure: no bus, no database, no clock but the ``now`` passed in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from libs.contracts.onboarding import (
    REQUIRED_PROFILE_FIELDS,
    AccessDeclined,
    AccessGranted,
    AccessRevoked,
    ChangesRequested,
    ConsentGiven,
    DecideOnMember,
    InvitationIssued,
    InvitationRevoked,
    InvitationUsed,
    MemberErased,
    MemberRegistered,
    Profile,
    ProfileCompleted,
    ProfileUpdated,
    RolesChanged,
    RulesAcknowledged,
)
from services.onboarding import domain

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TOKEN = "tok-12345678"
M = "m-1"

ADMIN = Actor(id="admin-1", roles=("admin",))
MODERATOR = Actor(id="mod-1", roles=("moderator",))
MEMBER = Actor(id="mem-1", roles=("member",))
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


def given(*events) -> domain.Member | domain.Invitation:
    """Fold events into the state of the aggregate they belong to."""
    invitation_events = (InvitationIssued, InvitationUsed, InvitationRevoked)
    if events and all(isinstance(e, invitation_events) for e in events):
        state: domain.Invitation = domain.Invitation()
        for e in events:
            state = domain.evolve_invitation(state, e)
        return state
    member = domain.Member()
    for e in events:
        member = domain.evolve_member(member, e)
    return member


def given_member(*events) -> domain.Member:
    state = given(*events) if events else domain.Member()
    assert isinstance(state, domain.Member)
    return state


def raises(error: type[DomainError], code: str, fn, *args) -> DomainError:
    with pytest.raises(error) as info:
        fn(*args)
    assert type(info.value) is error
    assert info.value.code == code
    return info.value


def issued(max_uses: int = 1, expires_at: datetime = NOW + timedelta(days=14)) -> InvitationIssued:
    return InvitationIssued(invitation_id=TOKEN, max_uses=max_uses, expires_at=expires_at, issued_by=MODERATOR.id)


def used(member_id: str = M) -> InvitationUsed:
    return InvitationUsed(invitation_id=TOKEN, member_id=member_id)


def registered(member_id: str = M, roles=("guest",)) -> list:
    return [
        MemberRegistered(
            member_id=member_id,
            invitation_id=TOKEN,
            roles=roles,
            email="anna@example.org",
            full_name="Анна Петрова",
            password_hash="$argon2id$x",
        ),
        ConsentGiven(member_id=member_id),
    ]


def profile_updated(profile: Profile, member_id: str = M) -> ProfileUpdated:
    return ProfileUpdated(member_id=member_id, **profile.model_dump())


def ready_for_review(member_id: str = M) -> list:
    """Registered, rules read, profile complete: what a moderator decides on."""
    return [
        *registered(member_id),
        RulesAcknowledged(member_id=member_id),
        profile_updated(FULL, member_id),
        ProfileCompleted(member_id=member_id),
    ]


def decide(decision: str, message: str | None = None, member_id: str = M) -> DecideOnMember:
    return DecideOnMember(member_id=member_id, decision=decision, message=message)


# ------------------------------------------------------------------ invitations


@pytest.mark.parametrize("actor", [MODERATOR, ADMIN], ids=["moderator", "admin"])
def test_moderator_or_admin_issues_an_invitation(actor):
    events = domain.issue_invitation(actor, TOKEN, 3, 10, NOW, domain.Invitation())
    assert events == [
        InvitationIssued(invitation_id=TOKEN, max_uses=3, expires_at=NOW + timedelta(days=10), issued_by=actor.id)
    ]


@pytest.mark.parametrize("actor", [GUEST, MEMBER, NOBODY], ids=["guest", "member", "no-roles"])
def test_others_may_not_issue_an_invitation(actor):
    raises(Forbidden, "moderator_only", domain.issue_invitation, actor, TOKEN, 1, 14, NOW, domain.Invitation())


def test_issuing_the_same_token_twice_conflicts():
    raises(Conflict, "invitation_exists", domain.issue_invitation, MODERATOR, TOKEN, 1, 14, NOW, given(issued()))


def test_an_issued_invitation_can_be_used():
    assert domain.use_invitation(TOKEN, M, NOW, given(issued())) == [used()]


def test_using_an_unknown_invitation_is_invalid():
    raises(Invalid, "invitation_unknown", domain.use_invitation, TOKEN, M, NOW, domain.Invitation())


def test_using_a_revoked_invitation_is_invalid():
    state = given(issued(), InvitationRevoked(invitation_id=TOKEN, revoked_by=MODERATOR.id))
    raises(Invalid, "invitation_revoked", domain.use_invitation, TOKEN, M, NOW, state)


def test_an_invitation_expires_at_its_expiry_instant():
    expires = NOW + timedelta(days=1)
    state = given(issued(expires_at=expires))
    assert domain.use_invitation(TOKEN, M, expires - timedelta(microseconds=1), state) == [used()]
    raises(Invalid, "invitation_expired", domain.use_invitation, TOKEN, M, expires, state)
    raises(Invalid, "invitation_expired", domain.use_invitation, TOKEN, M, expires + timedelta(days=1), state)


def test_a_single_use_invitation_is_exhausted_after_one_use():
    raises(Invalid, "invitation_exhausted", domain.use_invitation, TOKEN, "m-2", NOW, given(issued(1), used("m-1")))


def test_a_two_use_invitation_is_exhausted_after_two_uses():
    once = given(issued(2), used("m-1"))
    assert domain.use_invitation(TOKEN, "m-2", NOW, once) == [used("m-2")]
    twice = given(issued(2), used("m-1"), used("m-2"))
    raises(Invalid, "invitation_exhausted", domain.use_invitation, TOKEN, "m-3", NOW, twice)


def test_revoking_is_for_moderators_and_idempotent():
    raises(Forbidden, "moderator_only", domain.revoke_invitation, MEMBER, TOKEN, given(issued()))
    raises(NotFound, "invitation_not_found", domain.revoke_invitation, MODERATOR, TOKEN, domain.Invitation())
    revoked = InvitationRevoked(invitation_id=TOKEN, revoked_by=MODERATOR.id)
    assert domain.revoke_invitation(MODERATOR, TOKEN, given(issued())) == [revoked]
    assert domain.revoke_invitation(MODERATOR, TOKEN, given(issued(), revoked)) == []


# ------------------------------------------------------------------ registration


def test_register_records_the_member_as_guest_and_the_consent():
    events = domain.register(M, TOKEN, "anna@example.org", "Анна Петрова", "$argon2id$x", True, domain.Member())
    assert events == registered()
    state = given_member(*events)
    assert state.roles == ("guest",)
    assert state.consent and not state.rules
    assert state.status == "introduction"


def test_register_without_consent_is_invalid():
    raises(Invalid, "consent_required", domain.register, M, TOKEN, "a@example.org", "Анна", "h", False, domain.Member())


def test_register_twice_conflicts():
    raises(
        Conflict, "member_exists", domain.register, M, TOKEN, "a@example.org", "Анна", "h", True, given(*registered())
    )


def test_rules_are_acknowledged_once():
    assert domain.acknowledge_rules(M, given_member(*registered())) == [RulesAcknowledged(member_id=M)]
    assert domain.acknowledge_rules(M, given_member(*registered(), RulesAcknowledged(member_id=M))) == []
    raises(NotFound, "member_not_found", domain.acknowledge_rules, M, domain.Member())


# ------------------------------------------------------------------ profile


def test_a_partial_profile_is_updated_without_completion():
    events = domain.update_profile(M, PARTIAL, given_member(*registered()))
    assert events == [profile_updated(PARTIAL)]


def test_profile_completed_is_emitted_on_the_transition_to_complete():
    events = domain.update_profile(M, FULL, given_member(*registered(), profile_updated(PARTIAL)))
    assert events == [profile_updated(FULL), ProfileCompleted(member_id=M)]


def test_profile_completed_is_not_emitted_again_while_complete():
    state = given_member(*registered(), profile_updated(FULL), ProfileCompleted(member_id=M))
    edited = FULL.model_copy(update={"about": "20 лет в HR"})
    assert domain.update_profile(M, edited, state) == [profile_updated(edited)]


def test_losing_and_regaining_completeness_emits_completion_again():
    state = given_member(*registered(), profile_updated(FULL), ProfileCompleted(member_id=M), profile_updated(PARTIAL))
    assert not state.complete
    assert domain.update_profile(M, FULL, state) == [profile_updated(FULL), ProfileCompleted(member_id=M)]


def test_profile_completed_is_emitted_again_after_changes_requested():
    state = given_member(
        *ready_for_review(), ChangesRequested(member_id=M, decided_by=MODERATOR.id, message="Уточните компанию")
    )
    assert state.complete  # still complete: only the moderator's request makes it reviewable again
    edited = FULL.model_copy(update={"company": "АО Ромашка"})
    assert domain.update_profile(M, edited, state) == [profile_updated(edited), ProfileCompleted(member_id=M)]


def test_profile_completed_is_not_repeated_after_the_resubmission():
    state = given_member(
        *ready_for_review(),
        ChangesRequested(member_id=M, decided_by=MODERATOR.id, message="Уточните компанию"),
        profile_updated(FULL.model_copy(update={"company": "АО Ромашка"})),
        ProfileCompleted(member_id=M),
    )
    assert state.status == "pending_review"
    edited = FULL.model_copy(update={"company": "АО Ромашка", "about": "ещё правка"})
    assert domain.update_profile(M, edited, state) == [profile_updated(edited)]


def test_a_declined_member_cannot_edit_the_profile():
    state = given_member(*ready_for_review(), AccessDeclined(member_id=M, decided_by=MODERATOR.id, reason="нет"))
    raises(Conflict, "member_declined", domain.update_profile, M, FULL, state)


def test_updating_an_unknown_member_is_not_found():
    raises(NotFound, "member_not_found", domain.update_profile, M, FULL, domain.Member())


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
    events = domain.decide_on_member(actor, decide("grant"), given_member(*ready_for_review()))
    assert events == [AccessGranted(member_id=M, decided_by=actor.id)]


@pytest.mark.parametrize("actor", [GUEST, MEMBER, NOBODY], ids=["guest", "member", "no-roles"])
def test_only_moderators_decide(actor):
    raises(Forbidden, "moderator_only", domain.decide_on_member, actor, decide("grant"), given_member(*ready_for_review()))


def test_deciding_on_an_unknown_member_is_not_found():
    raises(NotFound, "member_not_found", domain.decide_on_member, MODERATOR, decide("grant"), domain.Member())


def test_deciding_before_the_rules_are_acknowledged_conflicts():
    state = given_member(*registered(), profile_updated(FULL), ProfileCompleted(member_id=M))
    raises(Conflict, "rules_not_acknowledged", domain.decide_on_member, MODERATOR, decide("grant"), state)


def test_deciding_on_an_incomplete_profile_conflicts_with_the_missing_fields():
    state = given_member(*registered(), RulesAcknowledged(member_id=M), profile_updated(PARTIAL))
    error = raises(Conflict, "profile_incomplete", domain.decide_on_member, MODERATOR, decide("grant"), state)
    assert error.params == {"missing": [f for f in REQUIRED_PROFILE_FIELDS if f not in ("full_name", "city")]}
    assert error.params["missing"] == ["company", "position", "years_in_hr", "professional_interests", "phone"]


@pytest.mark.parametrize(
    "decision,message", [("grant", None), ("request_changes", "ещё раз"), ("decline", "нет")]
)
def test_after_a_grant_every_decision_conflicts(decision, message):
    state = given_member(*ready_for_review(), AccessGranted(member_id=M, decided_by=MODERATOR.id))
    error = raises(Conflict, "already_decided", domain.decide_on_member, MODERATOR, decide(decision, message), state)
    assert error.params == {"status": "member"}


def test_after_a_decline_deciding_again_conflicts():
    state = given_member(*ready_for_review(), AccessDeclined(member_id=M, decided_by=MODERATOR.id, reason="нет"))
    error = raises(Conflict, "already_decided", domain.decide_on_member, MODERATOR, decide("grant"), state)
    assert error.params == {"status": "declined"}


def test_while_awaiting_changes_deciding_conflicts():
    state = given_member(*ready_for_review(), ChangesRequested(member_id=M, decided_by=MODERATOR.id, message="x"))
    raises(Conflict, "awaiting_changes", domain.decide_on_member, MODERATOR, decide("grant"), state)


def test_request_changes_carries_the_message():
    events = domain.decide_on_member(
        MODERATOR, decide("request_changes", "  Уточните компанию "), given_member(*ready_for_review())
    )
    assert events == [ChangesRequested(member_id=M, decided_by=MODERATOR.id, message="Уточните компанию")]


@pytest.mark.parametrize("message", [None, "", "   "])
def test_request_changes_without_a_message_is_invalid(message):
    state = given_member(*ready_for_review())
    raises(Invalid, "message_required", domain.decide_on_member, MODERATOR, decide("request_changes", message), state)


def test_decline_carries_the_reason():
    events = domain.decide_on_member(MODERATOR, decide("decline", "Не работает в HR"), given_member(*ready_for_review()))
    assert events == [AccessDeclined(member_id=M, decided_by=MODERATOR.id, reason="Не работает в HR")]


@pytest.mark.parametrize("message", [None, "", "  "])
def test_decline_without_a_reason_is_invalid(message):
    state = given_member(*ready_for_review())
    raises(Invalid, "reason_required", domain.decide_on_member, MODERATOR, decide("decline", message), state)


def test_a_resubmitted_profile_can_be_granted():
    state = given_member(
        *ready_for_review(),
        ChangesRequested(member_id=M, decided_by=MODERATOR.id, message="x"),
        profile_updated(FULL),
        ProfileCompleted(member_id=M),
    )
    assert domain.decide_on_member(MODERATOR, decide("grant"), state) == [
        AccessGranted(member_id=M, decided_by=MODERATOR.id)
    ]


# ------------------------------------------------------------------ roles


def test_an_admin_changes_roles():
    state = given_member(*ready_for_review(), AccessGranted(member_id=M, decided_by=MODERATOR.id))
    events = domain.change_roles(ADMIN, M, ("moderator", "observer", "moderator"), state)
    assert events == [RolesChanged(member_id=M, roles=("moderator", "observer"), changed_by=ADMIN.id)]
    assert given_member(*ready_for_review(), AccessGranted(member_id=M, decided_by="x"), *events).roles == (
        "member", "moderator", "observer",
    )


@pytest.mark.parametrize("actor", [MODERATOR, MEMBER, GUEST], ids=["moderator", "member", "guest"])
def test_only_an_admin_changes_roles(actor):
    state = given_member(*ready_for_review(), AccessGranted(member_id=M, decided_by=MODERATOR.id))
    raises(Forbidden, "admin_only", domain.change_roles, actor, M, ("moderator",), state)


def test_changing_to_the_same_roles_is_a_no_op():
    state = given_member(*ready_for_review(), AccessGranted(member_id=M, decided_by=MODERATOR.id))
    assert domain.change_roles(ADMIN, M, (), state) == []


@pytest.mark.parametrize("roles", [("member",), ("guest",), ("moderator", "member")])
def test_membership_is_never_a_role_to_assign(roles):
    """One source of truth: only a moderator's decision puts a person into the Main group."""
    state = given_member(*ready_for_review())
    raises(Invalid, "membership_is_a_decision", domain.change_roles, ADMIN, M, roles, state)


def test_a_guest_cannot_be_given_powers():
    state = given_member(*ready_for_review())
    raises(Conflict, "not_a_member", domain.change_roles, ADMIN, M, ("moderator",), state)


def test_powers_count_only_while_a_member():
    """A moderator whose membership is revoked moderates nothing any more."""
    state = given_member(*ready_for_review(), AccessGranted(member_id=M, decided_by=MODERATOR.id),
                         RolesChanged(member_id=M, roles=("moderator",), changed_by=ADMIN.id))
    assert state.roles == ("member", "moderator")
    revoked = domain.evolve_member(state, AccessRevoked(member_id=M, decided_by=ADMIN.id, reason="x"))
    assert revoked.roles == ("guest",) and revoked.status == "revoked"


def test_roles_of_earlier_versions_do_not_make_a_member():
    """A RolesChanged of an earlier version carrying "member" grants no membership."""
    state = given_member(*registered(M), RolesChanged(member_id=M, roles=("member", "moderator"), changed_by="a"))
    assert state.roles == ("guest",)


def test_an_admin_cannot_drop_their_own_admin_role():
    state = given_member(*registered(ADMIN.id, roles=("admin",)), AccessGranted(member_id=ADMIN.id, decided_by="s"))
    raises(Conflict, "cannot_drop_own_admin", domain.change_roles, ADMIN, ADMIN.id, (), state)


# ------------------------------------------------------------------ one's own membership, revocation


@pytest.mark.parametrize("decision", ["grant", "request_changes", "decline", "revoke"])
def test_nobody_decides_on_their_own_membership(decision):
    me = Actor(id=M, roles=("moderator",))
    state = given_member(*ready_for_review())
    raises(Forbidden, "own_membership", domain.decide_on_member, me, decide(decision, "x"), state)


def test_a_moderator_revokes_a_membership_with_a_reason():
    state = given_member(*ready_for_review(), AccessGranted(member_id=M, decided_by=MODERATOR.id))
    raises(Invalid, "reason_required", domain.decide_on_member, MODERATOR, decide("revoke"), state)
    assert domain.decide_on_member(MODERATOR, decide("revoke", "нарушение правил"), state) == [
        AccessRevoked(member_id=M, decided_by=MODERATOR.id, reason="нарушение правил")
    ]


def test_only_a_member_can_lose_membership():
    raises(Conflict, "not_a_member", domain.decide_on_member, MODERATOR, decide("revoke", "x"),
           given_member(*ready_for_review()))


def test_a_revoked_member_can_be_taken_back():
    state = given_member(*ready_for_review(), AccessGranted(member_id=M, decided_by=MODERATOR.id),
                         AccessRevoked(member_id=M, decided_by=MODERATOR.id, reason="x"))
    raises(Conflict, "already_decided", domain.decide_on_member, MODERATOR, decide("decline", "x"), state)
    assert domain.decide_on_member(MODERATOR, decide("grant"), state) == [
        AccessGranted(member_id=M, decided_by=MODERATOR.id)
    ]


# ------------------------------------------------------------------ erasure


def test_an_admin_erases_a_member():
    state = given_member(*ready_for_review())
    assert domain.erase(ADMIN, M, state) == [MemberErased(member_id=M, erased_by=ADMIN.id)]
    erased = given_member(*ready_for_review(), MemberErased(member_id=M, erased_by=ADMIN.id))
    assert erased.email is None and erased.profile == Profile() and erased.roles == ()


@pytest.mark.parametrize("actor", [MODERATOR, MEMBER, GUEST], ids=["moderator", "member", "guest"])
def test_only_an_admin_erases(actor):
    raises(Forbidden, "admin_only", domain.erase, actor, M, given_member(*ready_for_review()))


def test_erasing_twice_is_a_no_op():
    state = given_member(*ready_for_review(), MemberErased(member_id=M, erased_by=ADMIN.id))
    assert domain.erase(ADMIN, M, state) == []


def test_an_admin_cannot_erase_themselves():
    state = given_member(*registered(ADMIN.id, roles=("admin",)))
    raises(Conflict, "cannot_erase_self", domain.erase, ADMIN, ADMIN.id, state)


def test_erasing_an_unknown_member_is_not_found():
    raises(NotFound, "member_not_found", domain.erase, ADMIN, M, domain.Member())


def test_an_erased_member_is_gone_for_other_commands():
    state = given_member(*ready_for_review(), MemberErased(member_id=M, erased_by=ADMIN.id))
    raises(NotFound, "member_not_found", domain.update_profile, M, FULL, state)
    raises(NotFound, "member_not_found", domain.decide_on_member, MODERATOR, decide("grant"), state)
    raises(NotFound, "member_not_found", domain.change_roles, ADMIN, M, ("moderator",), state)


# ------------------------------------------------------------------ bootstrap


def test_bootstrap_admin_once():
    events = domain.bootstrap_admin(ADMIN.id, "admin@example.org", "h", domain.Member())
    assert [type(e) for e in events] == [MemberRegistered, AccessGranted]
    state = given_member(*events)
    assert state.status == "member"
    assert "admin" in state.roles
    assert domain.bootstrap_admin(ADMIN.id, "admin@example.org", "h", state) == []
