"""Reactions to events: who belongs to the base groups (onboarding's), who may stay in a working group,
what the Main group is told, and what groups forgets of an erased member.

Event ids are derived from the causing event, so a redelivered cause
re-sends the very same events and the log stores them once.
"""

from __future__ import annotations

import uuid

from libs.contracts import groups as c
from libs.contracts.envelope import SYSTEM_ACTOR
from libs.contracts.groups import INTRODUCTION, MAIN, MemberLeftGroup, membership_id
from libs.contracts.onboarding import AccessGranted, AccessRevoked, MemberErased, MemberRegistered
from libs.contracts.subjects import events_of
from libs.kit.erasure import caused_ids, caused_meta, forget_erased_authors, view_at
from libs.kit.eventstore import Meta, Recorded
from libs.kit.service import Service
from services.groups.domain import (
    ANNOUNCEMENT,
    AUTHOR,
    GROUP,
    MEMBERSHIP,
    WORKING_GROUP,
    CreateBaseGroup,
    Join,
    Leave,
    LeaveGroup,
    PublishAnnouncement,
)
from services.groups.my_data import register_my_data
from services.groups.projections import INVITATIONS, MEMBERS, REQUESTS

#: the projection whose read models the working-group policies read
GROUPS_VIEW = "groups"
#: the policy that places members in the Introduction and Main groups (``handlers.in_main`` waits for it)
BASE_GROUPS = "base_groups"


_ids = caused_ids
_meta = caused_meta


async def _membership(svc: Service, rec: Recorded, command: Join | Leave) -> None:
    step = f"{'join' if isinstance(command, Join) else 'leave'}:{command.group_id}"
    await svc.decide(MEMBERSHIP, membership_id(command.group_id, command.member_id), command, _meta(rec),
                     _ids(rec, step))


def register_policies(svc: Service) -> None:
    register_my_data(svc)
    @svc.policy(BASE_GROUPS, [events_of("onboarding", "member")],
                types=(MemberRegistered, AccessGranted, AccessRevoked, MemberErased))
    async def when_member_registered_or_granted_place_in_base_groups(rec: Recorded) -> None:
        e = rec.event
        match e:
            case MemberRegistered() if "guest" in e.roles:
                await _membership(svc, rec, Join(INTRODUCTION, e.member_id, "registered"))
            case AccessGranted():
                await _membership(svc, rec, Join(MAIN, e.member_id, "access_granted"))
                await _membership(svc, rec, Leave(INTRODUCTION, e.member_id, "access_granted"))
            case AccessRevoked():
                await _membership(svc, rec, Leave(MAIN, e.member_id, "access_revoked"))
            case MemberErased():
                for group_id in (INTRODUCTION, MAIN):
                    await _membership(svc, rec, Leave(group_id, e.member_id, "erased"))

    async def groups_of(member_id: str) -> list[str]:
        """Every working group the member is in, has asked to join or is invited to."""
        group_ids: set[str] = set()
        for collection in (MEMBERS, REQUESTS, INVITATIONS):
            group_ids |= {row["group_id"] for row in await svc.store.find(collection, {"member_id": member_id})}
        return sorted(group_ids - {INTRODUCTION, MAIN})

    async def out_of_working_groups(rec: Recorded, member_id: str, group_ids: list[str]) -> None:
        """Out of these groups and of their queues (a group they are in neither changes nothing)."""
        for group_id in group_ids:
            await svc.decide(WORKING_GROUP, group_id, LeaveGroup(SYSTEM_ACTOR, group_id, member_id, "main_access_lost"),
                             _meta(rec), _ids(rec, f"leave:{group_id}"))

    @svc.policy("working_groups", [events_of("groups")], waits_for_views=True, types=(
        MemberLeftGroup, c.MemberJoinedWorkingGroup, c.JoinRequested, c.MemberInvitedToGroup))
    async def when_someone_leaves_main_or_enters_a_group_from_outside_take_them_out(rec: Recorded) -> None:
        """Only Main-group members are in working groups. Whoever leaves Main (revoked or erased) leaves
        every group and their requests and invitations end: read from the read model once it has applied
        this very event, so every join before it is there. A join decided on a read model that still
        showed the person in Main comes after it in the log: seen here once the read model has caught up
        with the join (and so with the leaving before it), it is undone."""
        e = rec.event
        match e:
            case MemberLeftGroup() if e.group_id == MAIN:
                await view_at(svc, GROUPS_VIEW, rec)
                await out_of_working_groups(rec, e.member_id, await groups_of(e.member_id))
            case c.MemberJoinedWorkingGroup() | c.JoinRequested() | c.MemberInvitedToGroup():
                await view_at(svc, GROUPS_VIEW, rec)
                if await svc.store.get(MEMBERS, membership_id(MAIN, e.member_id)) is None:
                    await out_of_working_groups(rec, e.member_id, [e.group_id])

    @svc.policy("main_announcements", [events_of("groups", "working_group")])
    async def when_working_group_opened_announce_it_in_main(rec: Recorded) -> None:
        """The Main group hears of a new group it may see; a hidden one is not announced."""
        e = rec.event
        if not isinstance(e, c.WorkingGroupApproved):
            return
        state, _ = await svc.load(WORKING_GROUP, e.group_id)
        if state.settings.visibility != "main":
            return
        announcement_id = str(uuid.uuid5(rec.envelope.event_id, "announce"))
        await svc.decide(ANNOUNCEMENT, announcement_id, PublishAnnouncement(
            announcement_id, "working_group_opened", e.group_id, {"title": state.title}), _meta(rec),
            _ids(rec, "announce"))

    forget_erased_authors(svc, AUTHOR)

    @svc.on_start
    async def create_base_groups() -> None:
        for group_id in (INTRODUCTION, MAIN):
            await svc.decide(
                GROUP, group_id, CreateBaseGroup(group_id),
                Meta(actor="system", correlation_id=str(uuid.uuid5(uuid.NAMESPACE_URL, "hr-mnenie:bootstrap:groups"))),
                lambda n, g=group_id: [uuid.uuid5(uuid.NAMESPACE_URL, f"hr-mnenie:group:{g}:{i}")  # type: ignore[misc]
                                       for i in range(n)],
            )
