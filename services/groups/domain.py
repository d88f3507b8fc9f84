"""Groups deciders, base part: a group exists; a member joins or leaves it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from libs.contracts.base import Event
from libs.contracts.groups import BASE_GROUPS, SERVICE, GroupCreated, MemberJoinedGroup, MemberLeftGroup
from libs.kit.decider import Decider


@dataclass(frozen=True)
class Group:
    exists: bool = False
    kind: str | None = None


def evolve_group(state: Group, event: Event) -> Group:
    if isinstance(event, GroupCreated):
        return Group(True, event.kind)
    return state


@dataclass(frozen=True)
class CreateBaseGroup:
    group_id: str


def decide_group(cmd: CreateBaseGroup, state: Group) -> list[Event]:
    match cmd:
        case CreateBaseGroup():
            if state.exists:
                return []
            titles = BASE_GROUPS[cmd.group_id]
            return [GroupCreated(group_id=cmd.group_id, kind="base", title_ru=titles["ru"], title_en=titles["en"])]
    raise TypeError(f"not a group command: {cmd!r}")


GROUP: Decider = Decider(SERVICE, "group", Group, evolve_group, decide_group, events=(GroupCreated,))


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


@dataclass(frozen=True)
class Join:
    group_id: str
    member_id: str
    reason: str


@dataclass(frozen=True)
class Leave:
    group_id: str
    member_id: str
    reason: str


def decide_membership(cmd: Join | Leave, state: Membership) -> list[Event]:
    match cmd:
        case Join():
            return [] if state.member else [MemberJoinedGroup(group_id=cmd.group_id, member_id=cmd.member_id,
                                                              reason=cmd.reason)]
        case Leave():
            return [MemberLeftGroup(group_id=cmd.group_id, member_id=cmd.member_id, reason=cmd.reason)] \
                if state.member else []
    raise TypeError(f"not a membership command: {cmd!r}")


MEMBERSHIP: Decider = Decider(SERVICE, "membership", Membership, evolve_membership, decide_membership,
                              events=(MemberJoinedGroup, MemberLeftGroup))
