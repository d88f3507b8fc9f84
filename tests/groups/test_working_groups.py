"""Working-group decider: given events / when a command / then events — every rule and refusal."""

from __future__ import annotations

import pytest

from libs.contracts.envelope import SYSTEM_ACTOR, Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.contracts.groups import (
    DEFAULT_GROUP_TYPES,
    CoordinatorAppointed,
    CoordinatorRemoved,
    GroupSettings,
    GroupSettingsChanged,
    JoinRequestApproved,
    JoinRequested,
    JoinRequestRejected,
    MemberInvitedToGroup,
    MemberJoinedWorkingGroup,
    MemberLeftWorkingGroup,
    WorkingGroupApproved,
    WorkingGroupArchived,
    WorkingGroupDeclined,
    WorkingGroupProposed,
)
from libs.kit.decider import given
from services.groups import domain as d
from services.groups.domain import WORKING_GROUP

G = "g-1"
PROPOSER = Actor(id="p-1", roles=("member",))
MEMBER = Actor(id="m-1", roles=("member",))
OTHER = Actor(id="m-2", roles=("member",))
MODERATOR = Actor(id="mod-1", roles=("member", "moderator"))
S = GroupSettings()


def proposed(settings: GroupSettings = S) -> WorkingGroupProposed:
    return WorkingGroupProposed(group_id=G, title="Игра", description="", group_type="game_team",
                                proposed_by=PROPOSER.id, settings=settings)


def active(settings: GroupSettings = S) -> list:
    return [proposed(settings), WorkingGroupApproved(group_id=G, approved_by=MODERATOR.id, coordinator_id=PROPOSER.id),
            CoordinatorAppointed(group_id=G, member_id=PROPOSER.id, appointed_by=MODERATOR.id),
            MemberJoinedWorkingGroup(group_id=G, member_id=PROPOSER.id, via="coordinator")]


def propose(actor: Actor = PROPOSER, *, direct: bool = False, in_main: bool = True, group_type: str = "game_team"):
    return d.Propose(actor, G, "Игра", "", group_type, S, direct, in_main, DEFAULT_GROUP_TYPES)


def joined(member: Actor = MEMBER, via: str = "open") -> MemberJoinedWorkingGroup:
    return MemberJoinedWorkingGroup(group_id=G, member_id=member.id, via=via)


# ------------------------------------------------------------------ proposal and decision

def test_a_main_member_proposes_a_group():
    state = given(WORKING_GROUP).when(propose()).then(proposed())
    assert state.status == "proposed" and state.proposed_by == PROPOSER.id


def test_only_main_members_propose():
    given(WORKING_GROUP).when(propose(in_main=False)).refused(Forbidden, "main_group_only")


def test_an_unknown_type_is_refused():
    given(WORKING_GROUP).when(propose(group_type="choir")).refused(Invalid, "unknown_group_type")


def test_a_group_is_proposed_once():
    given(WORKING_GROUP, proposed()).when(propose()).refused(Conflict, "group_exists")


def test_only_a_moderator_creates_directly():
    given(WORKING_GROUP).when(propose(direct=True)).refused(Forbidden, "moderator_only")
    state = given(WORKING_GROUP).when(propose(MODERATOR, direct=True)).then(
        WorkingGroupProposed(group_id=G, title="Игра", description="", group_type="game_team",
                             proposed_by=MODERATOR.id, settings=S),
        WorkingGroupApproved(group_id=G, approved_by=MODERATOR.id, coordinator_id=MODERATOR.id),
        CoordinatorAppointed(group_id=G, member_id=MODERATOR.id, appointed_by=MODERATOR.id),
        joined(MODERATOR, "coordinator"))
    assert state.status == "active" and MODERATOR.id in state.coordinators


def test_approval_makes_the_proposer_the_first_coordinator():
    state = given(WORKING_GROUP, proposed()).when(d.DecideProposal(MODERATOR, G, True, None)).then(*active()[1:])
    assert state.coordinators == {PROPOSER.id} and state.members == {PROPOSER.id}


def test_approving_twice_is_a_no_op_and_declining_an_approved_group_is_refused():
    given(WORKING_GROUP, *active()).when(d.DecideProposal(MODERATOR, G, True, None)).then()
    given(WORKING_GROUP, *active()).when(d.DecideProposal(MODERATOR, G, False, "нет")).refused(
        Conflict, "group_decided")


def test_decline_needs_a_reason():
    given(WORKING_GROUP, proposed()).when(d.DecideProposal(MODERATOR, G, False, " ")).refused(
        Invalid, "reason_required")
    given(WORKING_GROUP, proposed()).when(d.DecideProposal(MODERATOR, G, False, "дубль")).then(
        WorkingGroupDeclined(group_id=G, declined_by=MODERATOR.id, reason="дубль"))


def test_only_moderators_decide_proposals():
    given(WORKING_GROUP, proposed()).when(d.DecideProposal(PROPOSER, G, True, None)).refused(
        Forbidden, "moderator_only")


def test_an_unknown_group_is_not_found():
    given(WORKING_GROUP).when(d.DecideProposal(MODERATOR, G, True, None)).refused(NotFound, "group_not_found")
    given(WORKING_GROUP).when(d.AskToJoin(MEMBER, G, "", True)).refused(NotFound, "group_not_found")


# ------------------------------------------------------------------ settings and archive

def test_a_coordinator_or_moderator_changes_settings():
    new = GroupSettings(visibility="members", content="main", joining="open")
    for actor in (PROPOSER, MODERATOR):
        given(WORKING_GROUP, *active()).when(d.ChangeSettings(actor, G, new)).then(
            GroupSettingsChanged(group_id=G, changed_by=actor.id, settings=new))
    given(WORKING_GROUP, *active()).when(d.ChangeSettings(MEMBER, G, new)).refused(Forbidden, "coordinator_only")
    given(WORKING_GROUP, *active()).when(d.ChangeSettings(PROPOSER, G, S)).then()


def test_a_proposal_has_no_settings_to_change_yet():
    given(WORKING_GROUP, proposed()).when(d.ChangeSettings(MODERATOR, G, S)).refused(Conflict, "group_not_active")


ARCHIVED = [*active(GroupSettings(joining="open")), WorkingGroupArchived(group_id=G, archived_by=PROPOSER.id)]


def test_archive_by_coordinator_once_and_then_read_only():
    given(WORKING_GROUP, *active()).when(d.Archive(MEMBER, G)).refused(Forbidden, "coordinator_only")
    given(WORKING_GROUP, *active()).when(d.Archive(PROPOSER, G)).then(ARCHIVED[-1])
    given(WORKING_GROUP, *ARCHIVED).when(d.Archive(MODERATOR, G)).then()
    given(WORKING_GROUP, *ARCHIVED).when(d.AskToJoin(MEMBER, G, "", True)).refused(Conflict, "group_archived")
    given(WORKING_GROUP, *ARCHIVED).when(d.ChangeSettings(PROPOSER, G, S)).refused(Conflict, "group_archived")


# ------------------------------------------------------------------ joining

def test_open_joining_is_at_once_and_idempotent():
    events = active(GroupSettings(joining="open"))
    given(WORKING_GROUP, *events).when(d.AskToJoin(MEMBER, G, "", True)).then(joined())
    given(WORKING_GROUP, *events, joined()).when(d.AskToJoin(MEMBER, G, "", True)).then()


def test_only_main_members_join():
    given(WORKING_GROUP, *active(GroupSettings(joining="open"))).when(d.AskToJoin(MEMBER, G, "", False)).refused(
        Forbidden, "main_group_only")


def test_a_request_is_asked_once_and_decided_once():
    asked = JoinRequested(group_id=G, member_id=MEMBER.id, message="Возьмите")
    given(WORKING_GROUP, *active()).when(d.AskToJoin(MEMBER, G, "Возьмите", True)).then(asked)
    given(WORKING_GROUP, *active(), asked).when(d.AskToJoin(MEMBER, G, "ещё", True)).then()
    approve = d.DecideRequest(PROPOSER, G, MEMBER.id, True, None, True)
    approved = [JoinRequestApproved(group_id=G, member_id=MEMBER.id, decided_by=PROPOSER.id), joined(via="request")]
    given(WORKING_GROUP, *active(), asked).when(approve).then(*approved)
    given(WORKING_GROUP, *active(), asked, *approved).when(approve).refused(Conflict, "join_request_decided")
    given(WORKING_GROUP, *active()).when(approve).refused(Conflict, "join_request_decided")


def test_a_rejection_needs_a_reason_and_a_coordinator():
    asked = JoinRequested(group_id=G, member_id=MEMBER.id, message="")
    given(WORKING_GROUP, *active(), asked).when(d.DecideRequest(PROPOSER, G, MEMBER.id, False, "", True)).refused(
        Invalid, "reason_required")
    given(WORKING_GROUP, *active(), asked).when(d.DecideRequest(OTHER, G, MEMBER.id, False, "нет", True)).refused(
        Forbidden, "coordinator_only")
    given(WORKING_GROUP, *active(), asked).when(d.DecideRequest(PROPOSER, G, MEMBER.id, False, "нет", True)).then(
        JoinRequestRejected(group_id=G, member_id=MEMBER.id, decided_by=PROPOSER.id, reason="нет"))


def test_an_applicant_who_left_main_is_not_approved():
    asked = JoinRequested(group_id=G, member_id=MEMBER.id, message="")
    given(WORKING_GROUP, *active(), asked).when(d.DecideRequest(PROPOSER, G, MEMBER.id, True, None, False)).refused(
        Conflict, "not_in_main_group")


def test_invitation_only_groups_take_the_invited():
    events = active(GroupSettings(joining="invitation"))
    given(WORKING_GROUP, *events).when(d.AskToJoin(MEMBER, G, "", True)).refused(Forbidden, "invitation_only")
    given(WORKING_GROUP, *events).when(d.AcceptInvitation(MEMBER, G, True)).refused(NotFound, "group_invitation_not_found")
    invited = MemberInvitedToGroup(group_id=G, member_id=MEMBER.id, invited_by=PROPOSER.id)
    given(WORKING_GROUP, *events).when(d.Invite(PROPOSER, G, MEMBER.id, True)).then(invited)
    given(WORKING_GROUP, *events).when(d.Invite(OTHER, G, MEMBER.id, True)).refused(Forbidden, "coordinator_only")
    given(WORKING_GROUP, *events).when(d.Invite(PROPOSER, G, MEMBER.id, False)).refused(Conflict, "not_in_main_group")
    given(WORKING_GROUP, *events, invited).when(d.Invite(PROPOSER, G, MEMBER.id, True)).then()
    given(WORKING_GROUP, *events, invited).when(d.AcceptInvitation(MEMBER, G, True)).then(joined(via="invitation"))


# ------------------------------------------------------------------ leaving and removal

def test_leave_and_removal():
    events = [*active(GroupSettings(joining="open")), joined()]
    left = MemberLeftWorkingGroup(group_id=G, member_id=MEMBER.id, reason="left", by=MEMBER.id)
    given(WORKING_GROUP, *events).when(d.LeaveGroup(MEMBER, G, MEMBER.id, "left")).then(left)
    given(WORKING_GROUP, *events, left).when(d.LeaveGroup(MEMBER, G, MEMBER.id, "left")).then()
    given(WORKING_GROUP, *events).when(d.LeaveGroup(OTHER, G, MEMBER.id, "removed", "спам")).refused(
        Forbidden, "coordinator_only")
    given(WORKING_GROUP, *events).when(d.LeaveGroup(PROPOSER, G, MEMBER.id, "removed", "")).refused(
        Invalid, "reason_required")
    given(WORKING_GROUP, *events).when(d.LeaveGroup(PROPOSER, G, MEMBER.id, "removed", "спам")).then(
        MemberLeftWorkingGroup(group_id=G, member_id=MEMBER.id, reason="removed", by=PROPOSER.id, note="спам"))


def test_losing_main_access_leaves_and_a_leaving_coordinator_steps_down():
    state = given(WORKING_GROUP, *active()).when(
        d.LeaveGroup(SYSTEM_ACTOR, G, PROPOSER.id, "main_access_lost")).then(
        MemberLeftWorkingGroup(group_id=G, member_id=PROPOSER.id, reason="main_access_lost", by="system"))
    assert not state.members and not state.coordinators


# ------------------------------------------------------------------ coordinators

def test_moderators_appoint_and_remove_coordinators():
    appoint = d.SetCoordinator(MODERATOR, G, MEMBER.id, True, True)
    state = given(WORKING_GROUP, *active()).when(appoint).then(
        CoordinatorAppointed(group_id=G, member_id=MEMBER.id, appointed_by=MODERATOR.id), joined(via="coordinator"))
    assert MEMBER.id in state.coordinators
    given(WORKING_GROUP, *active()).when(d.SetCoordinator(PROPOSER, G, MEMBER.id, True, True)).refused(
        Forbidden, "moderator_only")
    given(WORKING_GROUP, *active()).when(d.SetCoordinator(MODERATOR, G, MEMBER.id, True, False)).refused(
        Conflict, "not_in_main_group")
    given(WORKING_GROUP, *active()).when(d.SetCoordinator(MODERATOR, G, PROPOSER.id, True, True)).then()
    given(WORKING_GROUP, *active()).when(d.SetCoordinator(MODERATOR, G, PROPOSER.id, False, True)).then(
        CoordinatorRemoved(group_id=G, member_id=PROPOSER.id, removed_by=MODERATOR.id))
    given(WORKING_GROUP, *active()).when(d.SetCoordinator(MODERATOR, G, MEMBER.id, False, True)).then()


def test_the_decider_refuses_a_command_of_another_aggregate():
    with pytest.raises(TypeError):
        given(WORKING_GROUP).when(d.CreateBaseGroup("main"))  # type: ignore[arg-type]
