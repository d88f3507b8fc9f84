from __future__ import annotations

from datetime import UTC, datetime

from libs.contracts import groups as c
from libs.contracts.errors import Forbidden, Invalid, NotFound
from libs.contracts.groups import (
    GROUP_TYPE_TITLES,
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
from services.groups.calendar_policies import CALENDAR_TOPICS
from services.groups.map_svg import draw
from services.groups.projections import (
    ANNOUNCEMENTS,
    CALLS,
    DIRECTORY,
    GROUPS,
    INVITATIONS,
    MEMBERS,
    REQUESTS,
    utc_text,
)
from services.groups.roles_projections import ROLE_BOARDS_VIEW, ROLE_VACANCIES, board_figures, current_window
from services.groups.settings import Settings

#: working groups a list examines at most (a community has tens of them, not thousands)
MAX_WORKING_GROUPS = 2000
#: upcoming calls a group's page shows
PAGE_CALLS = 50

#: how a policy's announcement reads: (title, body) per language, filled from its params
TOPICS = {
    "working_group_opened": {
        "ru": ("Новая рабочая группа: «{title}»", "Открыта рабочая группа «{title}», тип: {type}. "
               "Узнать о ней и вступить можно на её странице."),
        "en": ("New working group: “{title}”", "The working group “{title}” is open, type: {type}. "
               "Read about it and join on its page."),
    },
    "calendar_event_scheduled": {
        "ru": ("В календаре: «{title}»", "{when}. Записаться можно на странице мероприятия в календаре сезона."),
        "en": ("On the calendar: “{title}”", "{when}. Register on the event's page in the season's calendar."),
    },
    "calendar_results_published": {
        "ru": ("Итоги сезона «{title}»", "Мероприятий: {events}, участников: {participants}, занятых мест: "
               "{places}{roles}. Подробности — на странице итогов сезона."),
        "en": ("Results of the season “{title}”", "Events: {events}, participants: {participants}, places taken: "
               "{places}{roles}. The details are on the season's results page."),
    },
}
#: the parts of a topic's wording that only some announcements carry (an announcement published before
#: them, or without their figure, reads without them): filled from the param of the same name
OPTIONAL_PARTS = {
    "roles": {"ru": ", ролей взято: {roles}", "en": ", roles taken: {roles}"},
}


def worded_params(params: dict[str, str], lang: str) -> dict[str, str]:
    return {**params, **{name: part[lang].format_map(params) if params.get(name) else ""
                         for name, part in OPTIONAL_PARTS.items()}}


def type_title(group_type: str, lang: str) -> str:
    return GROUP_TYPE_TITLES.get(group_type, {}).get(lang, group_type)


def register_queries(svc: Service, settings: Settings) -> None:  # noqa: C901 — the read rules sit together
    def room_url(room: str | None) -> str | None:
        return settings.call_room_url.replace("{room}", room) if room else None

    async def name_of(member_id: str) -> str | None:
        doc = await svc.store.get(DIRECTORY, member_id)
        return doc["display_name"] if doc else None

    async def call_views(group_id: str, past: bool, limit: int) -> tuple[c.ScheduledCallView, ...]:
        now = utc_text(datetime.now(UTC))
        rows = await svc.store.find(CALLS, {"group_id": group_id, "ends_at": {"$lte" if past else "$gt": now}},
                                    sort=[("starts_at", -1 if past else 1)], limit=limit)
        return tuple([c.ScheduledCallView(
            call_id=r["call_id"], topic=r["topic"], starts_at=r["starts_at"], duration_minutes=r["duration_minutes"],
            scheduled_by=r["scheduled_by"], scheduled_by_name=await name_of(r["scheduled_by"])) for r in rows])

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
        if status == "active" and await pending(group_id, me) != "none":
            return doc, member  # invited to a hidden group, or asked before it was hidden: theirs to see
        if status != "active" or visibility != "main" or not await is_member(MAIN, me):
            raise NotFound("group_not_found", group_id=group_id)
        return doc, member

    async def pending(group_id: str, member_id: str) -> str:
        """Where someone not in the group stands: invited, asked, or neither."""
        if await svc.store.get(INVITATIONS, membership_id(group_id, member_id)) is not None:
            return "invited"
        if await svc.store.get(REQUESTS, membership_id(group_id, member_id)) is not None:
            return "requested"
        return "none"

    def may_read_content(doc: dict, member: bool, in_main: bool, ctx: Context) -> bool:
        return ctx.actor.is_moderator or member or (doc["settings"]["content"] == "main" and in_main)

    def shown_to(doc: dict, member: bool, in_main: bool, ctx: Context) -> bool:
        """Whether a group is on the map, the list and the announcements for this caller: active, and
        either shown to the Main group or the caller's own (moderators see every active group)."""
        if doc.get("kind") != "working" or doc["status"] != "active":
            return False
        return ctx.actor.is_moderator or member or (doc["settings"]["visibility"] == "main" and in_main)

    async def main_or_moderator(ctx: Context) -> bool:
        in_main = await is_member(MAIN, ctx.actor.id)
        if not in_main and not ctx.actor.is_moderator:
            raise Forbidden("main_group_only")
        return in_main

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
        waiting = {r["group_id"]: state for state, coll in (("requested", REQUESTS), ("invited", INVITATIONS))
                   for r in await svc.store.find(coll, {"member_id": me})}
        shown = []
        for doc in await svc.store.find(GROUPS, where, sort=[("created_at", -1)], limit=MAX_WORKING_GROUPS):
            status = doc["status"]
            member = doc["group_id"] in mine
            if q.status and status != q.status or not q.status and status in ("proposed", "declined"):
                continue
            hidden = doc["settings"]["visibility"] != "main" and doc["group_id"] not in waiting
            if not moderator and not member and (status != "active" or hidden):
                continue
            # an archive is out of search: its members find it in their list, not by a word
            if wanted and (status == "archived" or not matches(wanted, doc.get("words"))):
                continue
            shown.append((doc, "member" if member else waiting.get(doc["group_id"], "none")))
        # one's own groups (and those one is invited to or asked to join) first, then the newest: a
        # community with more groups than a page still finds its own at the top
        shown.sort(key=lambda pair: pair[1] == "none")
        items = [c.GroupSummary(
            group_id=doc["group_id"], title=doc["title"], group_type=doc["group_type"], status=doc["status"],
            settings=c.GroupSettings(**doc["settings"]), is_member=state == "member", my_state=state,  # type: ignore[arg-type]
            members=await svc.store.count(MEMBERS, {"group_id": doc["group_id"]})) for doc, state in shown[:q.limit]]
        return c.GroupList(items=tuple(items), total=len(shown))

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
            is_coordinator=ctx.actor.id in doc["coordinators"], members=listed,
            my_state="member" if member else await pending(q.group_id, ctx.actor.id),  # type: ignore[arg-type]
            proposed_by_name=await name_of(doc["proposed_by"]),
            room_url=room_url(doc.get("room")) if member else None,
            calls=await call_views(q.group_id, False, PAGE_CALLS) if content else None,
            declined_reason=doc.get("declined_reason") if doc["status"] == "declined" else None)

    @svc.query(c.ListCalls, reads=["groups", "directory"])
    async def list_calls(q: c.ListCalls, ctx: Context) -> c.GroupCalls:
        doc, member = await visible_group(q.group_id, ctx)
        if not may_read_content(doc, member, await is_member(MAIN, ctx.actor.id), ctx):
            raise Forbidden("group_content_members_only")
        return c.GroupCalls(group_id=q.group_id, room_url=room_url(doc.get("room")) if member else None,
                            items=await call_views(q.group_id, q.past, q.limit))

    @svc.query(c.ListAnnouncements, reads=["groups", "directory"])
    async def list_announcements(q: c.ListAnnouncements, ctx: Context) -> c.AnnouncementList:
        in_main = await main_or_moderator(ctx)
        try:
            page = await svc.store.find_page(ANNOUNCEMENTS, None, [("published_at", -1)], limit=q.limit,
                                             after=q.cursor)
        except ValueError:
            raise Invalid("invalid_cursor") from None
        items = []
        for a in page.items:
            if a["source"] == "moderator":
                title, body = a["title"], a["body"]
            elif a["topic"] in CALENDAR_TOPICS:
                # the season's grid is every Main member's to see: so is its announcement
                worded = TOPICS.get(a["topic"], {}).get(q.lang)
                if worded is None or not (in_main or ctx.actor.is_moderator):
                    continue
                title, body = (part.format_map(worded_params(a["params"], q.lang)) for part in worded)
            else:
                group = await svc.store.get(GROUPS, a["ref_id"])
                member = group is not None and await is_member(a["ref_id"], ctx.actor.id)
                worded = TOPICS.get(a["topic"], {}).get(q.lang)
                if group is None or worded is None or not shown_to(group, member, in_main, ctx):
                    continue  # about a group this reader may not see (now), or a topic this release cannot word
                params = {**a["params"], "type": type_title(group["group_type"], q.lang)}
                title, body = (part.format_map(params) for part in worded)
            author = a.get("author_id")
            items.append(c.AnnouncementView(
                announcement_id=a["announcement_id"], title=title, body=body, source=a["source"],
                topic=a.get("topic"), ref_id=a.get("ref_id"), author_id=author,
                author_name=await name_of(author) if author else None, published_at=a["published_at"]))
        return c.AnnouncementList(items=tuple(items), next_cursor=page.next_cursor)

    async def group_map(ctx: Context, lang: str) -> c.GroupMap:
        in_main = await main_or_moderator(ctx)
        mine = {r["group_id"] for r in await svc.store.find(MEMBERS, {"member_id": ctx.actor.id})}
        by_type: dict[str, list[c.MapGroup]] = {t: [] for t in settings.group_types}
        everyone: set[str] = set()
        docs = await svc.store.find(GROUPS, {"kind": "working", "status": "active"}, sort=[("created_at", 1)],
                                    limit=MAX_WORKING_GROUPS)
        window = await current_window(svc.store)
        for doc in docs:
            if not shown_to(doc, doc["group_id"] in mine, in_main, ctx):
                continue
            rows = await svc.store.find(MEMBERS, {"group_id": doc["group_id"]})
            everyone |= {r["member_id"] for r in rows}
            coordinators = tuple([c.MapCoordinator(member_id=m, display_name=await name_of(m))
                                  for m in doc["coordinators"]])
            board = await svc.store.find(ROLE_VACANCIES, {"season_id": window["season_id"],
                                                          "group_id": doc["group_id"]}) if window else []
            by_type.setdefault(doc["group_type"], []).append(c.MapGroup(
                group_id=doc["group_id"], title=doc["title"], members=len(rows), coordinators=coordinators,
                vacancies=board_figures(window, board)))
        return c.GroupMap(
            types=tuple(c.MapType(group_type=t, title=type_title(t, lang), groups=tuple(groups))
                        for t, groups in by_type.items()),
            groups=sum(len(g) for g in by_type.values()), members=len(everyone))

    @svc.query(c.GetGroupMap, reads=["groups", "directory", ROLE_BOARDS_VIEW])
    async def get_group_map(q: c.GetGroupMap, ctx: Context) -> c.GroupMap:
        return await group_map(ctx, q.lang)

    @svc.query(c.DrawGroupMap, reads=["groups", "directory", ROLE_BOARDS_VIEW])
    async def draw_group_map(q: c.DrawGroupMap, ctx: Context) -> c.GroupMapSvg:
        return c.GroupMapSvg(svg=draw(await group_map(ctx, q.lang), q.lang))

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
