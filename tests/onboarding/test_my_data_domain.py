"""Onboarding's deciders for a member's own data (docs/adr/0024): a request while the last one is still
being gathered is refused (for a while: a service away for long does not keep the member from asking), the
onboarding part answers each request once; withdrawing consent erases the member when confirmed and changes
nothing otherwise, and an admin hands the role over first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Invalid, NotFound
from libs.contracts.onboarding import (
    AccessGranted,
    ConsentGiven,
    ConsentWithdrawn,
    MemberDataRequested,
    MemberErased,
    MemberRegistered,
    RolesChanged,
)
from libs.kit.data_parts import AnswerRequest
from libs.kit.decider import given
from services.onboarding.domain import ASSEMBLING_PATIENCE, MEMBER, MEMBER_DATA, RequestData, Withdraw

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
M = "m-1"
ME = Actor(id=M, roles=("member",))
REGISTERED = (MemberRegistered(member_id=M, invitation_id="inv", email="m@example.ru", full_name="Мария",
                               password_hash="h"), ConsentGiven(member_id=M), AccessGranted(member_id=M,
                                                                                             decided_by="mod"))


def test_a_member_asks_and_asks_again_only_once_the_last_request_is_in_or_long_awaited():
    given(MEMBER_DATA).when(RequestData(M, "r1", NOW)).then(MemberDataRequested(request_id="r1", member_id=M))
    asked = MemberDataRequested(request_id="r1", member_id=M)
    given(MEMBER_DATA, asked).when(RequestData(M, "r2", NOW + timedelta(seconds=5), NOW)).refused(
        Conflict, "data_export_assembling")
    given(MEMBER_DATA, asked).when(RequestData(M, "r2", NOW + ASSEMBLING_PATIENCE, NOW)).then(
        MemberDataRequested(request_id="r2", member_id=M))
    # the last one complete (nothing assembling): asked again at once
    given(MEMBER_DATA, asked).when(RequestData(M, "r2", NOW + timedelta(seconds=5))).then(
        MemberDataRequested(request_id="r2", member_id=M))


def test_onboardings_own_part_answers_each_request_once():
    asked = MemberDataRequested(request_id="r1", member_id=M)
    answered = given(MEMBER_DATA, asked).when(AnswerRequest("r1", M, {"profile": {"full_name": "Мария"}})).events
    assert [type(e).__name__ for e in answered] == ["OnboardingDataCollected"]
    given(MEMBER_DATA, asked, *answered).when(AnswerRequest("r1", M, {})).then()


def test_withdrawal_unconfirmed_changes_nothing_and_confirmed_erases_the_member():
    given(MEMBER, *REGISTERED).when(Withdraw(ME, confirmed=False)).refused(Invalid, "withdrawal_not_confirmed")
    given(MEMBER, *REGISTERED).when(Withdraw(ME, confirmed=True)).then(
        ConsentWithdrawn(member_id=M), MemberErased(member_id=M, erased_by=M))
    erased = MEMBER.fold([*REGISTERED, ConsentWithdrawn(member_id=M), MemberErased(member_id=M, erased_by=M)])
    assert erased.erased and erased.email is None and erased.profile.full_name is None
    given(MEMBER, *REGISTERED, MemberErased(member_id=M, erased_by="admin")).when(Withdraw(ME, True)).refused(
        NotFound, "member_not_found")


def test_an_admin_hands_the_role_over_before_withdrawing():
    admin = (*REGISTERED, RolesChanged(member_id=M, roles=("admin",), changed_by="other-admin"))
    given(MEMBER, *admin).when(Withdraw(Actor(id=M, roles=("member", "admin")), True)).refused(
        Conflict, "admin_cannot_withdraw")
