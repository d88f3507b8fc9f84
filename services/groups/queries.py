from __future__ import annotations

from libs.contracts import groups as c
from libs.contracts.errors import Forbidden, NotFound
from libs.contracts.groups import (
    MAIN,
    GroupMember,
    GroupMembers,
    GroupMembersView,
    MemberGroups,
    MemberGroupsView,
    membership_id,
)
from libs.kit.docstore.search import matches, words
from libs.kit.rpc import Context
from libs.kit.service import Service
from services.groups.projections import DIRECTORY, GROUPS, MEMBERS, REQUESTS

#: working groups a list examines at most (a community has tens of them, not thousands)
MAX_WORKING_GROUPS = 2000


def register_queries(svc: Service) -> None:  # noqa: C901 — the read rules sit together on purpose
    async def is_member(group_id: str, member_id: str) -> bool:
        return await svc.store.get(MEMBERS, membership_id(group_id, member_id)) is not None

    async def member_list(group_id: str, limit: int = 1000) -> tuple[GroupMember, ...]:
        rows = await svc.store.find(MEMBERS, {"group_id": group_id}, sort=[("joined_at", 1)], limit=limit)
        items = []
        for r in rows:
            name = await svc.store.get(DIRECTORY, r["member_id"])
            items.append(GroupMember(member_id=r["member_id"], display_name=name["display_name"] if name else None,
                                     joined_at=r["joined_at"]))
        return tuple(items)

    async def visible_group(group_id: str, ctx: Context) -> tuple[dict, bool]:
        """The working group as the caller may see it, and whether they are in it. What the caller may not
        see does not exist for them (404): a hidden group, someone else's proposal, an archive."""
        doc = await svc.store.get(GROUPS, group_id)
        if doc is None or doc.get("kind") != "working":
            raise NotFound("group_not_found", group_id=group_id)
        me = ctx.actor.id
        member = await is_member(group_id, me)
        if ctx.actor.is_moderator or member:
            return doc, member
        status, visibility = doc["status"], doc["settings"]["visibility"]
        if status in ("proposed", "declined") and doc["proposed_by"] == me:
            return doc, member
        if status != "active" or visibility != "main" or not await is_member(MAIN, me):
            raise NotFound("group_not_found", group_id=group_id)
        return doc, member

    def may_read_content(doc: dict, member: bool, in_main: bool, ctx: Context) -> bool:
        return ctx.actor.is_moderator or member or (doc["settings"]["content"] == "main" and in_main)

    @svc.query(GroupMembers, reads=["groups", "directory"])
    async def group_members(q: GroupMembers, ctx: Context) -> GroupMembersView:
        group = await svc.store.get(GROUPS, q.group_id)
        if group is None:
            raise NotFound("group_not_found", group_id=q.group_id)
        if group.get("kind") == "working":
            group, member = await visible_group(q.group_id, ctx)
            if not may_read_content(group, member, await is_member(MAIN, ctx.actor.id), ctx):
                raise Forbidden("not_a_group_member")
        # a base group's member list is for its members and for moderators
        elif not ctx.actor.is_moderator and not await is_member(q.group_id, ctx.actor.id):
            raise Forbidden("not_a_group_member")
        items = await member_list(q.group_id, q.limit)
        total = await svc.store.count(MEMBERS, {"group_id": q.group_id})
        return GroupMembersView(group_id=q.group_id, title_ru=group["title_ru"], title_en=group["title_en"],
                                items=items, total=total)

    @svc.query(MemberGroups, reads=["groups"])
    async def member_groups(q: MemberGroups, ctx: Context) -> MemberGroupsView:
        if q.member_id != ctx.actor.id and not ctx.actor.is_moderator:
            raise Forbidden("not_your_profile")
        rows = await svc.store.find(MEMBERS, {"member_id": q.member_id}, sort=[("joined_at", 1)])
        return MemberGroupsView(groups=tuple(r["group_id"] for r in rows))

    @svc.query(c.ListWorkingGroups, reads=["groups"])
    async def list_working_groups(q: c.ListWorkingGroups, ctx: Context) -> c.GroupList:
        """The groups the caller may know of: active ones shown to Main, the caller's own (archived ones
        included), and for moderators everything, proposals too."""
        me = ctx.actor.id
        moderator = ctx.actor.is_moderator
        if q.status == "proposed" and not moderator:
            raise Forbidden("moderator_only")
        in_main = await is_member(MAIN, me)
        if not in_main and not moderator:
            raise Forbidden("main_group_only")
        where: dict = {"kind": "working"}
        if q.group_type:
            where["group_type"] = q.group_type
        wanted = words(q.q) if q.q else []
        mine = {r["group_id"] for r in await svc.store.find(MEMBERS, {"member_id": me})}
        items = []
        for doc in await svc.store.find(GROUPS, where, sort=[("created_at", 1)], limit=MAX_WORKING_GROUPS):
            status = doc["status"]
            member = doc["group_id"] in mine
            if q.status and status != q.status or not q.status and status in ("proposed", "declined"):
                continue
            if not moderator and not member and (status != "active" or doc["settings"]["visibility"] != "main"):
                continue
            # an archive is out of search: its members find it in their list, not by a word
            if wanted and (status == "archived" or not matches(wanted, doc.get("words"))):
                continue
            items.append(c.GroupSummary(
                group_id=doc["group_id"], title=doc["title"], group_type=doc["group_type"], status=status,
                settings=c.GroupSettings(**doc["settings"]), is_member=member,
                members=await svc.store.count(MEMBERS, {"group_id": doc["group_id"]})))
            if len(items) >= q.limit:
                break
        return c.GroupList(items=tuple(items))

    @svc.query(c.GetWorkingGroup, reads=["groups", "directory"])
    async def get_working_group(q: c.GetWorkingGroup, ctx: Context) -> c.GroupPage:
        doc, member = await visible_group(q.group_id, ctx)
        content = may_read_content(doc, member, await is_member(MAIN, ctx.actor.id), ctx)
        listed = await member_list(q.group_id) if content else None
        joined = {m.member_id: m for m in listed or ()}
        coordinators = []
        for member_id in doc["coordinators"]:
            if member_id in joined:
                coordinators.append(joined[member_id])
                continue
            name = await svc.store.get(DIRECTORY, member_id)
            row = await svc.store.get(MEMBERS, membership_id(q.group_id, member_id))
            if row is not None:
                coordinators.append(GroupMember(member_id=member_id, joined_at=row["joined_at"],
                                                display_name=name["display_name"] if name else None))
        return c.GroupPage(
            group_id=doc["group_id"], title=doc["title"], description=doc["description"],
            group_type=doc["group_type"], status=doc["status"], settings=c.GroupSettings(**doc["settings"]),
            proposed_by=doc["proposed_by"], coordinators=tuple(coordinators), is_member=member,
            is_coordinator=ctx.actor.id in doc["coordinators"], members=listed)

    @svc.query(c.ListJoinRequests, reads=["groups", "directory"])
    async def list_join_requests(q: c.ListJoinRequests, ctx: Context) -> c.JoinRequestList:
        doc, _ = await visible_group(q.group_id, ctx)
        if not ctx.actor.is_moderator and ctx.actor.id not in doc["coordinators"]:
            raise Forbidden("coordinator_only")
        items = []
        for r in await svc.store.find(REQUESTS, {"group_id": q.group_id}, sort=[("requested_at", 1)], limit=500):
            name = await svc.store.get(DIRECTORY, r["member_id"])
            items.append(c.JoinRequestView(member_id=r["member_id"], message=r["message"],
                                           requested_at=r["requested_at"],
                                           display_name=name["display_name"] if name else None))
        return c.JoinRequestList(group_id=q.group_id, items=tuple(items))
