"""Deciders of calls, announcements, queues that end unused and erased authors: given / when / then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from libs.contracts.envelope import SYSTEM_ACTOR, Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.contracts.groups import (
    AnnouncementPosted,
    AnnouncementPublished,
    AnnouncementWithdrawn,
    AuthorErased,
    CallCancelled,
    CallRoomAssigned,
    CallScheduled,
    CoordinatorAppointed,
    GroupInvitationWithdrawn,
    GroupSettings,
    JoinRequested,
    JoinRequestWithdrawn,
    MemberInvitedToGroup,
    MemberJoinedWorkingGroup,
    MemberLeftWorkingGroup,
    WorkingGroupApproved,
    WorkingGroupArchived,
    WorkingGroupProposed,
)
from libs.kit.authors import ForgetAuthor
from libs.kit.decider import given
from services.groups import domain as d
from services.groups.domain import ANNOUNCEMENT, AUTHOR, MAX_UPCOMING_CALLS, WORKING_GROUP

G = "g-1"
PROPOSER = Actor(id="p-1", roles=("member",))
MEMBER = Actor(id="m-1", roles=("member",))
OUTSIDER = Actor(id="m-2", roles=("member",))
MODERATOR = Actor(id="mod-1", roles=("member", "moderator"))
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def active(room: str | None = "room-1") -> list:
    events = [WorkingGroupProposed(group_id=G, title="Игра", description="", group_type="game_team",
                                   proposed_by=PROPOSER.id, settings=GroupSettings()),
              WorkingGroupApproved(group_id=G, approved_by=MODERATOR.id, coordinator_id=PROPOSER.id),
              CoordinatorAppointed(group_id=G, member_id=PROPOSER.id, appointed_by=MODERATOR.id),
              MemberJoinedWorkingGroup(group_id=G, member_id=PROPOSER.id, via="coordinator"),
              MemberJoinedWorkingGroup(group_id=G, member_id=MEMBER.id, via="open")]
    if room:
        events.insert(4, CallRoomAssigned(group_id=G, room=room))
    return events


def schedule(actor: Actor = MEMBER, call_id: str = "c-1", starts_at: datetime = LATER, room: str = "fresh"):
    return d.ScheduleGroupCall(actor, G, call_id, "Разбор раунда", starts_at, 60, NOW, room)


def scheduled(actor: Actor = MEMBER, call_id: str = "c-1", starts_at: datetime = LATER) -> CallScheduled:
    return CallScheduled(group_id=G, call_id=call_id, topic="Разбор раунда", starts_at=starts_at,
                         duration_minutes=60, scheduled_by=actor.id)


# ------------------------------------------------------------------ the room

def test_approval_and_direct_creation_name_the_room():
    proposal = active()[0]
    given(WORKING_GROUP, proposal).when(d.DecideProposal(MODERATOR, G, True, None, "r-42")).then(
        *active(None)[1:4], CallRoomAssigned(group_id=G, room="r-42"))
    outcome = given(WORKING_GROUP).when(d.Propose(MODERATOR, G, "Игра", "", "game_team", GroupSettings(), True,
                                                  True, ("game_team",), "r-7"))
    assert outcome.events and outcome.events[-1] == CallRoomAssigned(group_id=G, room="r-7")
    state = outcome.then(*outcome.events)
    assert state.room == "r-7" and state.status == "active"


def test_a_group_without_a_room_gets_one_with_its_first_call_and_keeps_it():
    state = given(WORKING_GROUP, *active(None)).when(schedule(room="late")).then(
        CallRoomAssigned(group_id=G, room="late"), scheduled())
    assert state.room == "late"
    given(WORKING_GROUP, *active(None), CallRoomAssigned(group_id=G, room="late"), scheduled()).when(
        schedule(call_id="c-2", room="other")).then(scheduled(call_id="c-2"))


# ------------------------------------------------------------------ scheduling

def test_members_and_moderators_schedule_outsiders_do_not():
    given(WORKING_GROUP, *active()).when(schedule()).then(scheduled())
    given(WORKING_GROUP, *active()).when(schedule(MODERATOR)).then(scheduled(MODERATOR))
    given(WORKING_GROUP, *active()).when(schedule(OUTSIDER)).refused(Forbidden, "group_members_only")


def test_a_call_in_the_past_or_too_far_ahead_is_refused():
    given(WORKING_GROUP, *active()).when(schedule(starts_at=NOW)).refused(Invalid, "call_in_past")
    given(WORKING_GROUP, *active()).when(schedule(starts_at=NOW - timedelta(minutes=1))).refused(
        Invalid, "call_in_past")
    given(WORKING_GROUP, *active()).when(schedule(starts_at=NOW + timedelta(days=367))).refused(
        Invalid, "call_too_far")


def test_the_same_call_twice_is_one_call():
    given(WORKING_GROUP, *active(), scheduled()).when(schedule()).then()


def test_a_group_holds_a_bounded_number_of_upcoming_calls_but_past_ones_do_not_count():
    full = [scheduled(call_id=f"c-{i}") for i in range(MAX_UPCOMING_CALLS)]
    given(WORKING_GROUP, *active(), *full).when(schedule(call_id="one-more")).refused(Conflict, "too_many_calls")
    # the same calls an hour before the check: they had all ended by NOW
    past = [scheduled(call_id=f"c-{i}", starts_at=NOW - timedelta(hours=2)) for i in range(MAX_UPCOMING_CALLS)]
    given(WORKING_GROUP, *active(), *past).when(schedule(call_id="one-more")).then(scheduled(call_id="one-more"))


def test_no_call_in_an_archive_or_a_proposal():
    archived = [*active(), WorkingGroupArchived(group_id=G, archived_by=PROPOSER.id)]
    given(WORKING_GROUP, *archived).when(schedule()).refused(Conflict, "group_archived")
    given(WORKING_GROUP, active()[0]).when(schedule()).refused(Conflict, "group_not_active")
    given(WORKING_GROUP).when(schedule()).refused(NotFound, "group_not_found")


# ------------------------------------------------------------------ cancelling

def test_who_scheduled_a_call_a_coordinator_or_a_moderator_cancels_it_others_do_not():
    events = [*active(), scheduled()]
    cancelled = CallCancelled(group_id=G, call_id="c-1", cancelled_by=MEMBER.id)
    given(WORKING_GROUP, *events).when(d.CancelGroupCall(MEMBER, G, "c-1")).then(cancelled)
    for actor in (PROPOSER, MODERATOR):
        given(WORKING_GROUP, *events).when(d.CancelGroupCall(actor, G, "c-1")).then(
            CallCancelled(group_id=G, call_id="c-1", cancelled_by=actor.id))
    given(WORKING_GROUP, *events).when(d.CancelGroupCall(OUTSIDER, G, "c-1")).refused(Forbidden, "coordinator_only")
    given(WORKING_GROUP, *events, cancelled).when(d.CancelGroupCall(MEMBER, G, "c-1")).refused(
        NotFound, "call_not_found")
    given(WORKING_GROUP, *events).when(d.CancelGroupCall(MEMBER, G, "c-9")).refused(NotFound, "call_not_found")


# ------------------------------------------------------------------ queues that end unused

def test_leaving_withdraws_ones_own_request_or_declines_an_invitation():
    asked = JoinRequested(group_id=G, member_id=OUTSIDER.id, message="Возьмите")
    given(WORKING_GROUP, *active(), asked).when(d.LeaveGroup(OUTSIDER, G, OUTSIDER.id, "left")).then(
        JoinRequestWithdrawn(group_id=G, member_id=OUTSIDER.id, reason="left"))
    invited = MemberInvitedToGroup(group_id=G, member_id=OUTSIDER.id, invited_by=PROPOSER.id)
    state = given(WORKING_GROUP, *active(), invited).when(d.LeaveGroup(OUTSIDER, G, OUTSIDER.id, "left")).then(
        GroupInvitationWithdrawn(group_id=G, member_id=OUTSIDER.id, reason="left"))
    assert OUTSIDER.id not in state.invited
    given(WORKING_GROUP, *active(), invited, GroupInvitationWithdrawn(group_id=G, member_id=OUTSIDER.id,
                                                                     reason="left")).when(
        d.AcceptInvitation(OUTSIDER, G, True)).refused(NotFound, "group_invitation_not_found")


def test_losing_main_ends_membership_requests_and_invitations_alike():
    asked = JoinRequested(group_id=G, member_id=OUTSIDER.id, message="")
    invited = MemberInvitedToGroup(group_id=G, member_id=OUTSIDER.id, invited_by=PROPOSER.id)
    lose = d.LeaveGroup(SYSTEM_ACTOR, G, OUTSIDER.id, "main_access_lost")
    given(WORKING_GROUP, *active(), asked, invited).when(lose).then(
        JoinRequestWithdrawn(group_id=G, member_id=OUTSIDER.id, reason="main_access_lost"),
        GroupInvitationWithdrawn(group_id=G, member_id=OUTSIDER.id, reason="main_access_lost"))
    given(WORKING_GROUP, *active()).when(d.LeaveGroup(SYSTEM_ACTOR, G, MEMBER.id, "main_access_lost")).then(
        MemberLeftWorkingGroup(group_id=G, member_id=MEMBER.id, reason="main_access_lost", by="system"))
    given(WORKING_GROUP, *active()).when(lose).then()


def test_a_removal_keeps_its_reason_and_removing_someone_not_in_the_group_changes_nothing():
    given(WORKING_GROUP, *active()).when(d.LeaveGroup(PROPOSER, G, MEMBER.id, "removed", "не ходит")).then(
        MemberLeftWorkingGroup(group_id=G, member_id=MEMBER.id, reason="removed", by=PROPOSER.id, note="не ходит"))
    asked = JoinRequested(group_id=G, member_id=OUTSIDER.id, message="")
    given(WORKING_GROUP, *active(), asked).when(d.LeaveGroup(PROPOSER, G, OUTSIDER.id, "removed", "нет")).then()


# ------------------------------------------------------------------ announcements

def test_only_moderators_post_and_withdraw_announcements():
    posted = AnnouncementPosted(announcement_id="a-1", author_id=MODERATOR.id, title="Сезон", body="Начинаем")
    given(ANNOUNCEMENT).when(d.PostAnnouncement(MODERATOR, "a-1", "Сезон", "Начинаем")).then(posted)
    given(ANNOUNCEMENT).when(d.PostAnnouncement(MEMBER, "a-1", "Сезон", "Начинаем")).refused(
        Forbidden, "moderator_only")
    given(ANNOUNCEMENT, posted).when(d.WithdrawAnnouncement(MEMBER, "a-1")).refused(Forbidden, "moderator_only")
    withdrawn = AnnouncementWithdrawn(announcement_id="a-1", withdrawn_by=MODERATOR.id)
    given(ANNOUNCEMENT, posted).when(d.WithdrawAnnouncement(MODERATOR, "a-1")).then(withdrawn)
    given(ANNOUNCEMENT, posted, withdrawn).when(d.WithdrawAnnouncement(MODERATOR, "a-1")).then()
    given(ANNOUNCEMENT).when(d.WithdrawAnnouncement(MODERATOR, "a-9")).refused(NotFound, "announcement_not_found")


def test_a_policys_announcement_is_published_once():
    cmd = d.PublishAnnouncement("a-2", "working_group_opened", G, {"title": "Игра"})
    published = AnnouncementPublished(announcement_id="a-2", topic="working_group_opened", ref_id=G,
                                      params={"title": "Игра"})
    given(ANNOUNCEMENT).when(cmd).then(published)
    given(ANNOUNCEMENT, published).when(cmd).then()


def test_an_author_is_forgotten_once():
    given(AUTHOR).when(ForgetAuthor("m-1")).then(AuthorErased(member_id="m-1"))
    given(AUTHOR, AuthorErased(member_id="m-1")).when(ForgetAuthor("m-1")).then()


def test_withdrawing_a_request_or_declining_an_invitation_never_ends_a_membership():
    asked = JoinRequested(group_id=G, member_id=OUTSIDER.id, message="")
    invited = MemberInvitedToGroup(group_id=G, member_id=OUTSIDER.id, invited_by=PROPOSER.id)
    withdraw = d.LeaveGroup(OUTSIDER, G, OUTSIDER.id, "left", only="request")
    decline = d.LeaveGroup(OUTSIDER, G, OUTSIDER.id, "left", only="invitation")
    given(WORKING_GROUP, *active(), asked).when(withdraw).then(
        JoinRequestWithdrawn(group_id=G, member_id=OUTSIDER.id, reason="left"))
    given(WORKING_GROUP, *active(), asked).when(decline).then()  # no invitation: nothing to decline
    given(WORKING_GROUP, *active(), invited).when(decline).then(
        GroupInvitationWithdrawn(group_id=G, member_id=OUTSIDER.id, reason="left"))
    # approved (or accepted in another tab) a moment before: the stale click changes nothing
    inside = MemberJoinedWorkingGroup(group_id=G, member_id=OUTSIDER.id, via="request")
    given(WORKING_GROUP, *active(), asked, inside).when(withdraw).then()
    given(WORKING_GROUP, *active(), invited, inside).when(decline).then()


def test_nobody_is_removed_from_an_archive_but_its_members_may_leave_it():
    archived = [*active(), WorkingGroupArchived(group_id=G, archived_by=PROPOSER.id)]
    given(WORKING_GROUP, *archived).when(d.LeaveGroup(PROPOSER, G, MEMBER.id, "removed", "спам")).refused(
        Conflict, "group_archived")
    given(WORKING_GROUP, *archived).when(d.LeaveGroup(MEMBER, G, MEMBER.id, "left")).then(
        MemberLeftWorkingGroup(group_id=G, member_id=MEMBER.id, reason="left", by=MEMBER.id))
    given(WORKING_GROUP, *archived).when(d.LeaveGroup(SYSTEM_ACTOR, G, MEMBER.id, "main_access_lost")).then(
        MemberLeftWorkingGroup(group_id=G, member_id=MEMBER.id, reason="main_access_lost", by="system"))
