"""Reading the chat: a group's messages (a page either way from a position, a thread), search, unread
counts, personal conversations, and the caller's own live stream.

Who may read a group's chat is decided on the group's aggregate, as posting is: its members, the
moderators, and the Main group when the group opens its content to it; anyone else is refused (403),
and a group hidden from them does not exist for them (404)."""

from __future__ import annotations

from typing import Any

from libs.contracts import chat as c
from libs.contracts.chat import conversation_id
from libs.contracts.errors import Forbidden, Invalid, NotFound
from libs.kit.docstore.query import MAX_PREFIX
from libs.kit.docstore.search import matches, words
from libs.kit.pii import Undecryptable
from libs.kit.rpc import Context
from libs.kit.service import Service
from services.groups.chat_policies import sealed_aad
from services.groups.chat_projections import (
    BLOCKS,
    CHAT_MEMBERS,
    CHAT_VIEW,
    CONVERSATIONS,
    DIRECT,
    DIRECT_MARKS,
    MESSAGES,
    read_up_to,
    unread_in_conversation,
    unread_in_group,
    unread_mentions,
)
from services.groups.domain import WORKING_GROUP
from services.groups.handlers import in_main
from services.groups.projections import DIRECTORY, GROUPS

#: messages a search examines at most in one group
SEARCH_SCAN = 5000
VIEWS = [CHAT_VIEW, "directory"]


async def content_readable(svc: Service, group_id: str, ctx: Context) -> bool:
    """Whether the caller is in the group (True) or only reads its content — chat, tasks — (False); else
    refused: a group hidden from them does not exist for them (404), a members-only one is 403."""
    state, _ = await svc.load(WORKING_GROUP, group_id)
    me = ctx.actor.id
    member = me in state.members
    if state.status is None or (not member and not ctx.actor.is_moderator and (
            state.status != "active" or state.settings.visibility != "main" or not await in_main(svc, me))):
        raise NotFound("group_not_found", group_id=group_id)
    if not (member or ctx.actor.is_moderator or (state.settings.content == "main" and await in_main(svc, me))):
        raise Forbidden("group_content_members_only")
    return member


def register_chat_queries(svc: Service) -> None:  # noqa: C901 — the read rules sit together
    async def name_of(member_id: str | None) -> str | None:
        doc = await svc.store.get(DIRECTORY, member_id) if member_id else None
        return doc["display_name"] if doc else None

    async def readable(group_id: str, ctx: Context) -> bool:
        return await content_readable(svc, group_id, ctx)

    async def view(doc: dict, me: str, member: bool) -> c.ChatMessage:
        reactions = tuple(c.ReactionCount(reaction=r, count=len(who), mine=me in who)
                          for r, who in sorted(doc["reactions"].items(), key=lambda kv: c.REACTIONS.index(kv[0])
                                               if kv[0] in c.REACTIONS else 99))
        unread_replies = 0
        if member and doc["thread_id"] is None and doc["replies"]:
            unread_replies = await unread_in_group(svc.store, doc["group_id"], me, thread_id=doc["message_id"])
        return c.ChatMessage(
            message_id=doc["message_id"], group_id=doc["group_id"], thread_id=doc["thread_id"],
            author_id=doc["author_id"], author_name=await name_of(doc["author_id"]), text=doc["text"],
            deleted=doc["deleted"], edited=doc["edited"], posted_at=doc["posted_at"], position=doc["position"],
            mentions=tuple(doc["mentions"]), mentions_all=doc["mentions_all"],
            mentions_me=doc["author_id"] != me and (me in doc["mentions"] or doc["mentions_all"]),
            reactions=reactions, replies=doc["replies"], unread_replies=unread_replies)

    async def page(collection: str, where: dict, q: Any) -> tuple[list[dict], int | None, int | None]:
        """A page oldest first: the newest, or the one before or after a position; and the cursors on."""
        if q.before is not None and q.after is not None:
            raise Invalid("one_cursor_only")
        if q.after is not None:
            rows = await svc.store.find(collection, {**where, "position": {"$gt": q.after}},
                                        sort=[("position", 1)], limit=q.limit + 1)
            newer, rows = len(rows) > q.limit, rows[:q.limit]
            older = bool(rows) or q.after > 0
        else:
            cond = {**where, "position": {"$lt": q.before}} if q.before is not None else where
            rows = await svc.store.find(collection, cond, sort=[("position", -1)], limit=q.limit + 1)
            older, rows = len(rows) > q.limit, list(reversed(rows[:q.limit]))
            newer = q.before is not None
        if older and rows:
            older = bool(await svc.store.find(collection, {**where, "position": {"$lt": rows[0]["position"]}},
                                              limit=1))
        before = rows[0]["position"] if rows and older else None
        after = rows[-1]["position"] if rows and newer else (q.after if newer and not rows else None)
        return rows, before, after

    @svc.query(c.ListMessages, reads=VIEWS)
    async def list_messages(q: c.ListMessages, ctx: Context) -> c.MessagePage:
        member = await readable(q.group_id, ctx)
        me = ctx.actor.id
        root = None
        if q.thread_id is not None:
            doc = await svc.store.get(MESSAGES, q.thread_id)
            if doc is None or doc["group_id"] != q.group_id or doc["thread_id"] is not None:
                raise NotFound("thread_not_found")
            root = await view(doc, me, member)
        rows, before, after = await page(MESSAGES, {"group_id": q.group_id, "thread_id": q.thread_id}, q)
        return c.MessagePage(
            group_id=q.group_id, thread_id=q.thread_id, items=tuple([await view(r, me, member) for r in rows]),
            before=before, after=after, root=root,
            read_up_to=await read_up_to(svc.store, q.group_id, me, q.thread_id) if member else 0)

    @svc.query(c.SearchMessages, reads=VIEWS)
    async def search_messages(q: c.SearchMessages, ctx: Context) -> c.SearchHits:
        member = await readable(q.group_id, ctx)
        wanted = words(q.q)
        if not wanted:
            return c.SearchHits(group_id=q.group_id, items=())
        anchor = max(wanted, key=len)[:MAX_PREFIX]
        rows = await svc.store.find(MESSAGES, {"group_id": q.group_id, "deleted": False}, sort=[("position", -1)],
                                    limit=SEARCH_SCAN, prefix={"words": anchor})
        hits = [r for r in rows if matches(wanted, r["words"])][:q.limit]
        return c.SearchHits(group_id=q.group_id, items=tuple([await view(r, ctx.actor.id, member) for r in hits]))

    @svc.query(c.GetUnread, reads=VIEWS)
    async def get_unread(q: c.GetUnread, ctx: Context) -> c.UnreadSummary:
        me = ctx.actor.id
        # read first: an item told while the counts are read is after it, never lost between the two
        _, position = await svc.member_streams.bounds()
        groups = []
        for row in await svc.store.find(CHAT_MEMBERS, {"member_id": me}, limit=1000):
            group = await svc.store.get(GROUPS, row["group_id"])
            groups.append(c.GroupUnread(
                group_id=row["group_id"], title=group.get("title", "") if group else "",
                unread=await unread_in_group(svc.store, row["group_id"], me),
                mentions=await unread_mentions(svc.store, row["group_id"], me)))
        conversations = []
        for row in await svc.store.find(CONVERSATIONS, {"member_id": me}, limit=1000):
            n = await unread_in_conversation(svc.store, row["conversation_id"], me)
            if n:
                conversations.append(c.ConversationUnread(member_id=row["other_id"], unread=n))
        return c.UnreadSummary(groups=tuple(groups), conversations=tuple(conversations),
                               total=sum(g.unread for g in groups) + sum(x.unread for x in conversations),
                               mentions=sum(g.mentions for g in groups), stream_position=position)

    @svc.query(c.ListConversations, reads=VIEWS)
    async def list_conversations(q: c.ListConversations, ctx: Context) -> c.ConversationList:
        me = ctx.actor.id
        items = []
        for row in await svc.store.find(CONVERSATIONS, {"member_id": me}, sort=[("last_position", -1)], limit=500):
            other = row["other_id"]
            items.append(c.ConversationSummary(
                member_id=other, display_name=await name_of(other), last_at=row["last_at"],
                unread=await unread_in_conversation(svc.store, row["conversation_id"], me),
                blocked=await svc.store.get(BLOCKS, f"{me}:{other}") is not None))
        return c.ConversationList(items=tuple(items))

    @svc.query(c.ListDirectMessages, reads=VIEWS)
    async def list_direct_messages(q: c.ListDirectMessages, ctx: Context) -> c.DirectMessagePage:
        me, them = ctx.actor.id, q.member_id
        if me == them:
            raise Invalid("cannot_message_yourself")
        conversation = conversation_id(me, them)
        rows, before, after = await page(DIRECT, {"conversation_id": conversation}, q)
        mark = await svc.store.get(DIRECT_MARKS, f"{conversation}:{me}")
        items = tuple([c.DirectMessageView(
            message_id=r["message_id"], sender_id=r["sender_id"], sender_name=await name_of(r["sender_id"]),
            text=r["text"], sent_at=r["sent_at"], position=r["position"]) for r in rows])
        return c.DirectMessagePage(
            member_id=them, display_name=await name_of(them), items=items, before=before, after=after,
            read_up_to=mark["up_to"] if mark else 0,
            blocked=await svc.store.get(BLOCKS, f"{me}:{them}") is not None,
            blocked_me=await svc.store.get(BLOCKS, f"{them}:{me}") is not None)

    async def opened(sealed: str | None, author_id: str | None, ref: str) -> str | None:
        if not sealed or not author_id:
            return None
        try:
            return (await svc.vault.open(author_id, sealed, sealed_aad("text", ref))).get("text")
        except Undecryptable:
            return None

    async def stream_item(seq: int, data: dict, me: str) -> c.StreamItem:
        kind = data["kind"]
        item: dict[str, Any] = {k: data.get(k) for k in ("group_id", "thread_id", "message_id", "member_id", "unread",
                                                         "mentions", "up_to", "event_id",
                                                         "thread_replies", "task_id", "title", "due", "season_id",
                                                         "calendar_event_id", "starts_at", "revision",
                                                         "notification_id", "notification_kind")}
        if data.get("message"):
            m = dict(data["message"])
            text = await opened(data.get("sealed"), m.get("author_id"), m["message_id"])
            if text is None and not m["deleted"]:
                m["author_id"] = None  # its author is erased: written by a deleted member
            reactions = m.pop("reactions") or {}
            item["message"] = c.ChatMessage(
                **m, text=text, author_name=await name_of(m["author_id"]),
                mentions_me=m["author_id"] != me and (me in m["mentions"] or m["mentions_all"]),
                reactions=tuple(c.ReactionCount(reaction=r, count=len(who), mine=me in who)
                                for r, who in reactions.items()))
        if data.get("direct"):
            d = dict(data["direct"])
            text = await opened(data.get("sealed"), d.get("sender_id"), d["message_id"])
            sender = d["sender_id"] if text is not None else None
            item["direct"] = c.DirectMessageView(message_id=d["message_id"], sender_id=sender,
                                                 sender_name=await name_of(sender), text=text, sent_at=d["sent_at"],
                                                 position=d["position"])
        return c.StreamItem(id=seq, kind=kind, mentioned=bool(data.get("mentioned")), **item)

    @svc.query(c.ReadStream)
    async def read_stream(q: c.ReadStream, ctx: Context) -> c.StreamPage:
        """Only the caller's own stream: the subject is the caller's id, never a parameter."""
        me = ctx.actor.id
        if me in ("anonymous", "system"):
            raise Forbidden("login_required")
        first, last = await svc.member_streams.bounds()
        if q.after is None:
            return c.StreamPage(items=(), last_id=last)
        if q.after > last or (q.after + 1 < first and q.after < last):
            # what came before ``first`` is gone with the stream's age limit (or the position is not one this
            # stream ever gave): the page must reload
            return c.StreamPage(items=(c.StreamItem(id=last, kind="reset"),), last_id=last)
        items = [await stream_item(i.id, i.data, me) for i in await svc.member_streams.read(me, q.after, q.limit)]
        return c.StreamPage(items=tuple(items), last_id=items[-1].id if items else max(q.after, 0))
