"""Groups, base part: Introduction and Main, and who is in them."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from libs.contracts.base import Contract, Event, Query, ServiceContracts
from libs.contracts.types import Id

SERVICE = "groups"
INTRODUCTION = "introduction"
MAIN = "main"
BASE_GROUPS = {
    INTRODUCTION: {"ru": "Знакомство", "en": "Introduction"},
    MAIN: {"ru": "Главная группа", "en": "Main group"},
}


def membership_id(group_id: str, member_id: str) -> str:
    return f"{group_id}:{member_id}"


class GroupCreated(Event):
    group_id: str
    kind: Literal["base", "working"]
    title_ru: str
    title_en: str


class MemberJoinedGroup(Event):
    group_id: str
    member_id: str
    reason: str


class MemberLeftGroup(Event):
    group_id: str
    member_id: str
    reason: str


EVENTS = (GroupCreated, MemberJoinedGroup, MemberLeftGroup)


class GroupMember(Contract):
    member_id: str
    display_name: str | None
    joined_at: datetime


class GroupMembersView(Contract):
    group_id: str
    title_ru: str
    title_en: str
    items: tuple[GroupMember, ...]
    total: int


class MemberGroupsView(Contract):
    groups: tuple[str, ...]


class GroupsQuery(Query):
    service: ClassVar[str] = SERVICE


class GroupMembers(GroupsQuery):
    reply_model: ClassVar = GroupMembersView
    group_id: Id
    limit: int = Field(default=200, ge=1, le=1000)


class MemberGroups(GroupsQuery):
    reply_model: ClassVar = MemberGroupsView
    member_id: Id


QUERIES = (GroupMembers, MemberGroups)
REPLIES = (GroupMember, GroupMembersView, MemberGroupsView)

CONTRACTS = ServiceContracts(SERVICE, EVENTS, (), QUERIES, REPLIES)
