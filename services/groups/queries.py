from __future__ import annotations

from libs.contracts.errors import Forbidden, NotFound
from libs.contracts.groups import (
    GroupMember,
    GroupMembers,
    GroupMembersView,
    MemberGroups,
    MemberGroupsView,
    membership_id,
)
from libs.kit.rpc import Context
from libs.kit.service import Service
from services.groups.projections import DIRECTORY, GROUPS, MEMBERS


def register_queries(svc: Service) -> None:
    @svc.query(GroupMembers, reads=["groups", "directory"])
    async def group_members(q: GroupMembers, ctx: Context) -> GroupMembersView:
        group = await svc.store.get(GROUPS, q.group_id)
        if group is None:
            raise NotFound("group_not_found", group_id=q.group_id)
        # a group's member list is for its members and for moderators
        if not ctx.actor.is_moderator and await svc.store.get(MEMBERS, membership_id(q.group_id, ctx.actor.id)) is None:
            raise Forbidden("not_a_group_member")
        rows = await svc.store.find(MEMBERS, {"group_id": q.group_id}, sort=[("joined_at", 1)], limit=q.limit)
        items = []
        for r in rows:
            name = await svc.store.get(DIRECTORY, r["member_id"])
            items.append(GroupMember(member_id=r["member_id"], display_name=name["display_name"] if name else None,
                                     joined_at=r["joined_at"]))
        total = await svc.store.count(MEMBERS, {"group_id": q.group_id})
        return GroupMembersView(group_id=q.group_id, title_ru=group["title_ru"], title_en=group["title_en"],
                                items=tuple(items), total=total)

    @svc.query(MemberGroups, reads=["groups"])
    async def member_groups(q: MemberGroups, ctx: Context) -> MemberGroupsView:
        if q.member_id != ctx.actor.id and not ctx.actor.is_moderator:
            raise Forbidden("not_your_profile")
        rows = await svc.store.find(MEMBERS, {"member_id": q.member_id}, sort=[("joined_at", 1)])
        return MemberGroupsView(groups=tuple(r["group_id"] for r in rows))
