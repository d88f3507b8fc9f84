"""Read models of groups: groups, memberships, and the names shown beside members."""

from __future__ import annotations

from libs.contracts.groups import GroupCreated, MemberJoinedGroup, MemberLeftGroup, membership_id
from libs.contracts.onboarding import MemberErased, MemberRegistered, ProfileUpdated
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Recorded
from libs.kit.projection import View
from libs.kit.service import Service

GROUPS = "groups"
MEMBERS = "group_members"
DIRECTORY = "directory"


def register_projections(svc: Service) -> None:
    @svc.projection("groups", [events_of("groups")], [GROUPS, MEMBERS])
    async def when_group_event_update_groups(rec: Recorded, view: View) -> None:
        e = rec.event
        match e:
            case GroupCreated():
                await view.put(GROUPS, e.group_id, {"group_id": e.group_id, "kind": e.kind, "title_ru": e.title_ru,
                                                    "title_en": e.title_en})
            case MemberJoinedGroup():
                await view.put(MEMBERS, membership_id(e.group_id, e.member_id), {
                    "group_id": e.group_id, "member_id": e.member_id,
                    "joined_at": rec.envelope.occurred_at.isoformat()})
            case MemberLeftGroup():
                await view.delete(MEMBERS, membership_id(e.group_id, e.member_id))

    @svc.projection("directory", [events_of("onboarding", "member")], [DIRECTORY])
    async def when_member_named_update_directory(rec: Recorded, view: View) -> None:
        e = rec.event
        member_id = rec.envelope.aggregate_id
        match e:
            case MemberRegistered() | ProfileUpdated():
                await view.put(DIRECTORY, member_id, {"member_id": member_id, "display_name": e.full_name})
            case MemberErased():
                await view.delete(DIRECTORY, member_id)
