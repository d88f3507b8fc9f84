"""Groups deciders, base part: a group exists; a member joins or leaves it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from libs.contracts.base import Event
from libs.contracts.groups import BASE_GROUPS, GroupCreated, MemberJoinedGroup, MemberLeftGroup


@dataclass(frozen=True)
class Group:
    exists: bool = False
    kind: str | None = None


def evolve_group(state: Group, event: Event) -> Group:
    if isinstance(event, GroupCreated):
        return Group(True, event.kind)
    return state


def create_base_group(group_id: str, state: Group) -> list[Event]:
    if state.exists:
        return []
    titles = BASE_GROUPS[group_id]
    return [GroupCreated(group_id=group_id, kind="base", title_ru=titles["ru"], title_en=titles["en"])]


@dataclass(frozen=True)
class Membership:
    member: bool = False


def evolve_membership(state: Membership, event: Event) -> Membership:
    match event:
        case MemberJoinedGroup():
            return replace(state, member=True)
        case MemberLeftGroup():
            return replace(state, member=False)
    return state


def join(group_id: str, member_id: str, reason: str, state: Membership) -> list[Event]:
    if state.member:
        return []
    return [MemberJoinedGroup(group_id=group_id, member_id=member_id, reason=reason)]


def leave(group_id: str, member_id: str, reason: str, state: Membership) -> list[Event]:
    if not state.member:
        return []
    return [MemberLeftGroup(group_id=group_id, member_id=member_id, reason=reason)]
