"""Groups deciders, base part: given events / when a command / then events."""

from __future__ import annotations

import pytest

from libs.contracts.groups import INTRODUCTION, MAIN, GroupCreated, MemberJoinedGroup, MemberLeftGroup
from services.groups import domain

M = "m-1"


def given_group(*events) -> domain.Group:
    state = domain.Group()
    for e in events:
        state = domain.evolve_group(state, e)
    return state


def given_membership(*events) -> domain.Membership:
    state = domain.Membership()
    for e in events:
        state = domain.evolve_membership(state, e)
    return state


def joined(group_id: str = INTRODUCTION, reason: str = "registered") -> MemberJoinedGroup:
    return MemberJoinedGroup(group_id=group_id, member_id=M, reason=reason)


def left(group_id: str = INTRODUCTION, reason: str = "access_granted") -> MemberLeftGroup:
    return MemberLeftGroup(group_id=group_id, member_id=M, reason=reason)


@pytest.mark.parametrize(
    "group_id,ru,en", [(INTRODUCTION, "Знакомство", "Introduction"), (MAIN, "Главная группа", "Main group")]
)
def test_a_base_group_is_created_once(group_id, ru, en):
    created = GroupCreated(group_id=group_id, kind="base", title_ru=ru, title_en=en)
    assert domain.create_base_group(group_id, domain.Group()) == [created]
    state = given_group(created)
    assert state == domain.Group(exists=True, kind="base")
    assert domain.create_base_group(group_id, state) == []


def test_an_unknown_base_group_cannot_be_created():
    with pytest.raises(KeyError):
        domain.create_base_group("no-such-group", domain.Group())


def test_join_adds_the_member():
    assert domain.join(INTRODUCTION, M, "registered", domain.Membership()) == [joined()]
    assert given_membership(joined()).member


def test_join_is_idempotent():
    assert domain.join(INTRODUCTION, M, "registered", given_membership(joined())) == []


def test_leave_removes_the_member():
    assert domain.leave(INTRODUCTION, M, "access_granted", given_membership(joined())) == [left()]
    assert not given_membership(joined(), left()).member


def test_leave_is_idempotent():
    assert domain.leave(INTRODUCTION, M, "access_granted", domain.Membership()) == []
    assert domain.leave(INTRODUCTION, M, "access_granted", given_membership(joined(), left())) == []


def test_rejoin_after_leaving():
    assert domain.join(INTRODUCTION, M, "back", given_membership(joined(), left())) == [joined(reason="back")]
