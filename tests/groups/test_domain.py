"""Groups deciders, base part: given events / when a command / then events."""

from __future__ import annotations

import pytest

from libs.contracts.groups import INTRODUCTION, MAIN, GroupCreated, MemberJoinedGroup, MemberLeftGroup
from libs.kit.decider import given
from services.groups import domain
from services.groups.domain import GROUP, MEMBERSHIP, CreateBaseGroup, Join, Leave

M = "m-1"


def joined(group_id: str = INTRODUCTION, reason: str = "registered") -> MemberJoinedGroup:
    return MemberJoinedGroup(group_id=group_id, member_id=M, reason=reason)


def left(group_id: str = INTRODUCTION, reason: str = "access_granted") -> MemberLeftGroup:
    return MemberLeftGroup(group_id=group_id, member_id=M, reason=reason)


@pytest.mark.parametrize(
    "group_id,ru,en", [(INTRODUCTION, "Знакомство", "Introduction"), (MAIN, "Главная группа", "Main group")]
)
def test_a_base_group_is_created_once(group_id, ru, en):
    created = GroupCreated(group_id=group_id, kind="base", title_ru=ru, title_en=en)
    state = given(GROUP).when(CreateBaseGroup(group_id)).then(created)
    assert state == domain.Group(exists=True, kind="base")
    given(GROUP, created).when(CreateBaseGroup(group_id)).then()


def test_an_unknown_base_group_cannot_be_created():
    with pytest.raises(KeyError):
        given(GROUP).when(CreateBaseGroup("no-such-group"))


def test_join_adds_the_member():
    assert given(MEMBERSHIP).when(Join(INTRODUCTION, M, "registered")).then(joined()).member


def test_join_is_idempotent():
    given(MEMBERSHIP, joined()).when(Join(INTRODUCTION, M, "registered")).then()


def test_leave_removes_the_member():
    assert not given(MEMBERSHIP, joined()).when(Leave(INTRODUCTION, M, "access_granted")).then(left()).member


def test_leave_is_idempotent():
    given(MEMBERSHIP).when(Leave(INTRODUCTION, M, "access_granted")).then()
    given(MEMBERSHIP, joined(), left()).when(Leave(INTRODUCTION, M, "access_granted")).then()


def test_rejoin_after_leaving():
    given(MEMBERSHIP, joined(), left()).when(Join(INTRODUCTION, M, "back")).then(joined(reason="back"))


def test_a_decider_refuses_a_command_of_another_aggregate():
    with pytest.raises(TypeError):
        given(MEMBERSHIP).when(CreateBaseGroup(MAIN))
