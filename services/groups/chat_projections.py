"""The chat's read models, and the unread counts read from them.

A message's position is the log sequence of its posting: one order for pagination cursors and read
marks. Unread is counted from marks the platform stores (``ReadMarkMoved``), so it is the same on
every device; a member who joins a group starts with everything before their joining read.

The counts are kept, not counted when asked (``chat_unread``, one document per member and flow or
thread, ADR 0028): each message is told live to every member of its group with their counts, and
counting the messages after each member's mark made a message's cost grow with members × messages
held. ``counted_unread_in_group`` still counts them the long way; the tests hold the two equal.

The projection keeps its own list of each group's members (from the group's events it reads anyway),
so a mention of the whole group and the unread counts never wait for another projection.
"""

from __future__ import annotations

from libs.contracts import chat as c
from libs.contracts import groups as g
from libs.contracts.chat import read_mark_id
from libs.contracts.subjects import events_of
from libs.kit.docstore.port import DocumentStore
from libs.kit.docstore.search import words
from libs.kit.eventstore import Recorded
from libs.kit.projection import View
from libs.kit.service import Service

MESSAGES = "chat_messages"
CHAT_MEMBERS = "chat_members"
READ_MARKS = "chat_read_marks"
MENTIONS = "chat_mentions"
FOLLOWS = "chat_follows"
DIRECT = "direct_messages"
CONVERSATIONS = "conversations"
DIRECT_MARKS = "direct_read_marks"
BLOCKS = "blocks"
#: per member and flow (or thread): its unread count; the flow's document also the group's total and mentions
UNREAD = "chat_unread"
#: per flow (or thread): the position of its newest message
FLOWS = "chat_flows"
#: the read model the chat's queries and the member streams read
CHAT_VIEW = "chat"
COLLECTIONS = [MESSAGES, CHAT_MEMBERS, READ_MARKS, MENTIONS, FOLLOWS, DIRECT, CONVERSATIONS, DIRECT_MARKS, BLOCKS,
               UNREAD, FLOWS]


def mark_id(group_id: str, member_id: str, thread_id: str | None) -> str:
    return f"{read_mark_id(group_id, member_id)}:{thread_id or ''}"


def _plain(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


async def read_up_to(store: DocumentStore | View, group_id: str, member_id: str, thread_id: str | None) -> int:
    """Where the member has read this flow (or thread) up to: their mark, or their joining."""
    joined = await store.get(CHAT_MEMBERS, read_mark_id(group_id, member_id))
    return await _mark_of(store, group_id, member_id, thread_id, joined["joined_at"] if joined else 0)


async def _mark_of(store: DocumentStore | View, group_id: str, member_id: str, thread_id: str | None,
                   joined_at: int) -> int:
    mark = await store.get(READ_MARKS, mark_id(group_id, member_id, thread_id))
    return max(mark["up_to"] if mark else 0, joined_at)


def flow_id(group_id: str, thread_id: str | None) -> str:
    return f"{group_id}:{thread_id or ''}"


async def _unread_after(store: DocumentStore | View, group_id: str, member_id: str, thread_id: str | None,
                        mark: int) -> int:
    """The long way, for a mark the read model has not applied yet: nothing after the flow's newest
    message is unread without a look; else a count over the messages."""
    tail = await store.get(FLOWS, flow_id(group_id, thread_id))
    if tail is None or mark >= tail["last"]:
        return 0
    return await _counted_after(store, group_id, member_id, thread_id, mark)


async def _counted_after(store: DocumentStore | View, group_id: str, member_id: str, thread_id: str | None,
                         mark: int) -> int:
    """The flow's messages after the mark that are not the member's own, counted over the messages."""
    where = {"group_id": group_id, "thread_id": thread_id, "deleted": False, "position": {"$gt": mark}}
    return await store.count(MESSAGES, where) - await store.count(MESSAGES, {**where, "author_id": member_id})


async def unread_in_group(store: DocumentStore | View, group_id: str, member_id: str, mark: int | None = None,
                          thread_id: str | None = None) -> int:
    """One thread's unread replies (``thread_id``), or the group's: its flow after the mark plus the
    replies after their marks in the threads the member follows. Given a ``mark`` the read model has not
    applied yet (a reply to the command that moved it), that flow is counted after it."""
    kept = await store.get(UNREAD, mark_id(group_id, member_id, thread_id))
    count, total = (kept["count"], kept["total"]) if kept else (0, 0)
    if mark is None:
        return count if thread_id is not None else total
    own = await _unread_after(store, group_id, member_id, thread_id, mark)
    return own if thread_id is not None else own + total - count


async def counted_unread_in_group(store: DocumentStore | View, group_id: str, member_id: str,
                                  mark: int | None = None, thread_id: str | None = None) -> int:
    """What ``unread_in_group`` keeps, counted from the messages and marks (for the tests that hold the
    kept counts to it)."""
    async def after(thread: str | None, given: int | None = None) -> int:
        up_to = await read_up_to(store, group_id, member_id, thread) if given is None else given
        return await _counted_after(store, group_id, member_id, thread, up_to)

    if thread_id is not None:
        return await after(thread_id, mark)
    total = await after(None, mark)
    for follow in await store.find(FOLLOWS, {"group_id": group_id, "member_id": member_id}, limit=1000):
        total += await after(follow["thread_id"])
    return total


async def unread_mentions(store: DocumentStore | View, group_id: str, member_id: str) -> int:
    kept = await store.get(UNREAD, mark_id(group_id, member_id, None))
    return kept["mentions"] if kept else 0


class Unread:
    """The unread counts one event moves, changed in memory and put once each when the event has been
    applied (a view writes a document once per event: a second put at the same position is taken for a
    redelivery and skipped). Only a member of the group has counts: one who left has none to keep."""

    def __init__(self, view: View):
        self._view = view
        self._docs: dict[str, dict | None] = {}
        self._before: dict[str, dict | None] = {}
        self._members: dict[str, bool] = {}

    async def _is_member(self, group_id: str, member_id: str) -> bool:
        key = read_mark_id(group_id, member_id)
        if key not in self._members:
            self._members[key] = await self._view.get(CHAT_MEMBERS, key) is not None
        return self._members[key]

    async def _doc(self, group_id: str, member_id: str, thread_id: str | None) -> dict | None:
        key = mark_id(group_id, member_id, thread_id)
        if key not in self._docs:
            old = await self._view.get(UNREAD, key)
            self._before[key] = _plain(old) if old else None
            fresh = {"key": key, "group_id": group_id, "member_id": member_id, "thread_id": thread_id,
                     "count": 0, "total": 0, "mentions": 0, "followed": False}
            member = await self._is_member(group_id, member_id)
            self._docs[key] = None if not member else _plain(old) if old else fresh
        return self._docs[key]

    async def add(self, group_id: str, member_id: str, thread_id: str | None, delta: int) -> None:
        doc = await self._doc(group_id, member_id, thread_id)
        if doc is None:
            return
        doc["count"] += delta
        if thread_id is None:
            doc["total"] += delta
        elif doc["followed"]:
            flow = await self._doc(group_id, member_id, None)
            assert flow is not None
            flow["total"] += delta

    async def set(self, group_id: str, member_id: str, thread_id: str | None, count: int) -> None:
        doc = await self._doc(group_id, member_id, thread_id)
        if doc is not None:
            await self.add(group_id, member_id, thread_id, count - doc["count"])

    async def follow(self, group_id: str, member_id: str, thread_id: str) -> None:
        doc = await self._doc(group_id, member_id, thread_id)
        if doc is not None and not doc["followed"]:
            doc["followed"] = True
            flow = await self._doc(group_id, member_id, None)
            assert flow is not None
            flow["total"] += doc["count"]

    async def mention(self, group_id: str, member_id: str, delta: int) -> None:
        doc = await self._doc(group_id, member_id, None)
        if doc is not None:
            doc["mentions"] += delta

    async def put(self) -> None:
        for key, doc in self._docs.items():
            if doc is not None and doc != self._before[key]:
                await self._view.put(UNREAD, key, doc)


async def unread_in_conversation(store: DocumentStore | View, conversation_id: str, member_id: str) -> int:
    """Kept on the member's side of the conversation (``conversations``), as a group's are."""
    side = await store.get(CONVERSATIONS, f"{conversation_id}:{member_id}")
    return side["unread"] if side else 0


async def counted_unread_in_conversation(store: DocumentStore | View, conversation_id: str, member_id: str,
                                         after: int | None = None) -> int:
    """The messages to the member after their mark (or ``after``), counted the long way."""
    if after is None:
        mark = await store.get(DIRECT_MARKS, f"{conversation_id}:{member_id}")
        after = mark["up_to"] if mark else 0
    return await store.count(DIRECT, {"conversation_id": conversation_id, "recipient_id": member_id,
                                      "position": {"$gt": after}})


async def _follow(view: View, unread: Unread, group_id: str, thread_id: str, member_id: str) -> None:
    """A member follows a thread (its replies count in the group's unread); one who left follows nothing."""
    if await view.get(CHAT_MEMBERS, read_mark_id(group_id, member_id)) is None:
        return
    key = f"{thread_id}:{member_id}"
    if await view.get(FOLLOWS, key) is None:
        await view.put(FOLLOWS, key, {"key": key, "group_id": group_id, "thread_id": thread_id, "member_id": member_id})
    await unread.follow(group_id, member_id, thread_id)


async def _mention(view: View, unread: Unread, e: c.MessagePosted | c.MessageEdited, position: int) -> None:
    """Who this message names gets an unread mention, until their mark passes it."""
    named = set(e.mentions)
    if e.mentions_all:
        named |= {r["member_id"] for r in await view.find(CHAT_MEMBERS, {"group_id": e.group_id})}
    named.discard(e.author_id)
    for member_id in sorted(named):
        if await view.get(CHAT_MEMBERS, read_mark_id(e.group_id, member_id)) is None:
            continue
        if position <= await read_up_to(view, e.group_id, member_id, e.thread_id):
            continue  # an edit naming someone who has read past it already
        key = f"{e.message_id}:{member_id}"
        if await view.get(MENTIONS, key) is None:
            await unread.mention(e.group_id, member_id, 1)
        await view.put(MENTIONS, key, {
            "key": key, "group_id": e.group_id, "member_id": member_id,
            "message_id": e.message_id, "thread_id": e.thread_id, "position": position})
        if e.thread_id is not None:
            await _follow(view, unread, e.group_id, e.thread_id, member_id)


async def _unmention(view: View, unread: Unread, message_id: str) -> None:
    for row in await view.find(MENTIONS, {"message_id": message_id}):
        await view.delete(MENTIONS, f"{message_id}:{row['member_id']}")
        await unread.mention(row["group_id"], row["member_id"], -1)


async def _read(view: View, unread: Unread, group_id: str, member_id: str, thread_id: str | None,
                up_to: int) -> None:
    """The member's mark in a flow moves to ``up_to`` (never back), and the mentions it passes are read."""
    key = mark_id(group_id, member_id, thread_id)
    mark = await view.get(READ_MARKS, key)
    if mark is None or mark["up_to"] < up_to:
        await view.put(READ_MARKS, key, {"key": key, "group_id": group_id, "member_id": member_id,
                                         "thread_id": thread_id, "up_to": up_to})
        await unread.set(group_id, member_id, thread_id, await _unread_after(
            view, group_id, member_id, thread_id, await read_up_to(view, group_id, member_id, thread_id)))
    for row in await view.find(MENTIONS, {"group_id": group_id, "member_id": member_id, "thread_id": thread_id,
                                          "position": {"$lte": up_to}}):
        await view.delete(MENTIONS, f"{row['message_id']}:{member_id}")
        await unread.mention(group_id, member_id, -1)


async def _count_for_the_group(view: View, unread: Unread, group_id: str, thread_id: str | None, position: int,
                               author_id: str | None, delta: int) -> None:
    """A message at ``position`` came (1) or went (-1): it moves the count of every member but its author
    who had not read that far."""
    for row in await view.find(CHAT_MEMBERS, {"group_id": group_id}):
        member_id = row["member_id"]
        if member_id != author_id and position > await _mark_of(view, group_id, member_id, thread_id,
                                                                 row["joined_at"]):
            await unread.add(group_id, member_id, thread_id, delta)


async def _forget_member_in_group(view: View, group_id: str, member_id: str) -> None:
    await view.delete(CHAT_MEMBERS, read_mark_id(group_id, member_id))
    for row in await view.find(MENTIONS, {"group_id": group_id, "member_id": member_id}):
        await view.delete(MENTIONS, f"{row['message_id']}:{member_id}")
    for row in await view.find(FOLLOWS, {"group_id": group_id, "member_id": member_id}):
        await view.delete(FOLLOWS, f"{row['thread_id']}:{member_id}")
    for row in await view.find(UNREAD, {"group_id": group_id, "member_id": member_id}):
        await view.delete(UNREAD, row["key"])


async def _forget_author(view: View, member_id: str) -> None:
    """An erased member's words leave every chat read model; what others wrote beside them stays. (Their
    author stays named until this event, in a rebuild too, so a rebuild writes what the live run wrote.)"""
    for m in await view.find(MESSAGES, {"author_id": member_id}):
        await view.put(MESSAGES, m["message_id"], {**_plain(m), "text": None, "words": [], "author_id": None})
    for dm in await view.find(DIRECT, {"sender_id": member_id}):
        await view.put(DIRECT, dm["message_id"], {**_plain(dm), "text": None, "sender_id": None})
    for collection in (CHAT_MEMBERS, MENTIONS, FOLLOWS, READ_MARKS, CONVERSATIONS, DIRECT_MARKS, BLOCKS, UNREAD):
        for row in await view.find(collection, {"member_id": member_id}):
            await view.delete(collection, row["key"])


def register_chat_projections(svc: Service) -> None:
    @svc.projection(CHAT_VIEW, [events_of("groups")], COLLECTIONS, version=5)
    async def when_chat_event_update_chat(rec: Recorded, view: View) -> None:
        unread = Unread(view)
        await _apply(rec, view, unread)
        await unread.put()


async def _apply(rec: Recorded, view: View, unread: Unread) -> None:  # noqa: C901 — one case per event
    e = rec.event
    at = rec.envelope.occurred_at.isoformat()
    match e:
        case g.MemberJoinedWorkingGroup():
            await view.put(CHAT_MEMBERS, read_mark_id(e.group_id, e.member_id), {
                "key": read_mark_id(e.group_id, e.member_id), "group_id": e.group_id, "member_id": e.member_id,
                "joined_at": rec.seq})
            # everything before one's joining is read (counts a member kept are zeroed, follows stay)
            for row in await view.find(UNREAD, {"group_id": e.group_id, "member_id": e.member_id}):
                await view.put(UNREAD, row["key"], {**_plain(row), "count": 0, "total": 0})
        case g.MemberLeftWorkingGroup():
            await _forget_member_in_group(view, e.group_id, e.member_id)
        case c.MessagePosted():
            await view.put(MESSAGES, e.message_id, {
                "message_id": e.message_id, "group_id": e.group_id, "thread_id": e.thread_id,
                "author_id": e.author_id, "text": e.text,
                "words": words(e.text), "mentions": list(e.mentions), "mentions_all": e.mentions_all,
                "position": rec.seq, "posted_at": at, "edited": False, "deleted": False, "reactions": {},
                "replies": 0})
            await view.put(FLOWS, flow_id(e.group_id, e.thread_id), {
                "key": flow_id(e.group_id, e.thread_id), "group_id": e.group_id, "thread_id": e.thread_id,
                "last": rec.seq})
            await _count_for_the_group(view, unread, e.group_id, e.thread_id, rec.seq, e.author_id, 1)
            if e.thread_id is not None:
                root = await view.get(MESSAGES, e.thread_id)
                if root is not None:
                    await view.put(MESSAGES, e.thread_id, {**_plain(root), "replies": root["replies"] + 1})
                    if root["author_id"]:
                        await _follow(view, unread, e.group_id, e.thread_id, root["author_id"])
                if e.text is not None:
                    await _follow(view, unread, e.group_id, e.thread_id, e.author_id)
            await _mention(view, unread, e, rec.seq)
            if e.text is not None:
                # one has read what one answers: writing in a flow reads it up to one's own message
                await _read(view, unread, e.group_id, e.author_id, e.thread_id, rec.seq)
        case c.MessageEdited():
            m = await view.get(MESSAGES, e.message_id)
            if m is not None and not m["deleted"]:
                await view.put(MESSAGES, e.message_id, {
                    **_plain(m), "text": e.text, "words": words(e.text), "mentions": list(e.mentions),
                    "mentions_all": e.mentions_all, "edited": True})
                await _unmention(view, unread, e.message_id)
                await _mention(view, unread, e, m["position"])
        case c.MessageDeleted():
            m = await view.get(MESSAGES, e.message_id)
            if m is not None:
                await view.put(MESSAGES, e.message_id, {**_plain(m), "text": None, "words": [], "deleted": True})
                if not m["deleted"]:
                    await _count_for_the_group(view, unread, e.group_id, m["thread_id"], m["position"],
                                               m["author_id"], -1)
                await _unmention(view, unread, e.message_id)
                if e.thread_id is not None:
                    root = await view.get(MESSAGES, e.thread_id)
                    if root is not None:
                        await view.put(MESSAGES, e.thread_id, {**_plain(root),
                                                               "replies": max(0, root["replies"] - 1)})
        case c.ReactionAdded() | c.ReactionWithdrawn():
            m = await view.get(MESSAGES, e.message_id)
            if m is not None:
                reactions = {k: list(v) for k, v in m["reactions"].items()}
                who = [x for x in reactions.get(e.reaction, []) if x != e.member_id]
                if isinstance(e, c.ReactionAdded):
                    who.append(e.member_id)
                reactions[e.reaction] = who
                await view.put(MESSAGES, e.message_id, {**_plain(m), "reactions": {
                    k: v for k, v in reactions.items() if v}})
        case c.ReadMarkMoved():
            await _read(view, unread, e.group_id, e.member_id, e.thread_id, e.up_to)
        case c.DirectMessageSent():
            await view.put(DIRECT, e.message_id, {
                "message_id": e.message_id, "conversation_id": e.conversation_id,
                "sender_id": e.sender_id, "recipient_id": e.recipient_id,
                "text": e.text, "position": rec.seq, "sent_at": at})
            for me, other in ((e.sender_id, e.recipient_id), (e.recipient_id, e.sender_id)):
                key = f"{e.conversation_id}:{me}"
                side = await view.get(CONVERSATIONS, key)
                held = side["unread"] if side else 0
                mark = await view.get(DIRECT_MARKS, key) if me == e.recipient_id else None
                if me == e.recipient_id and rec.seq > (mark["up_to"] if mark else 0):
                    held += 1
                await view.put(CONVERSATIONS, key, {
                    "key": key, "conversation_id": e.conversation_id, "member_id": me, "other_id": other,
                    "last_at": at, "last_position": rec.seq, "unread": held})
        case c.ConversationMarkedRead():
            key = f"{e.conversation_id}:{e.member_id}"
            await view.put(DIRECT_MARKS, key, {"key": key, "conversation_id": e.conversation_id,
                                               "member_id": e.member_id, "up_to": e.up_to})
            side = await view.get(CONVERSATIONS, key)
            if side is not None:  # the mark sets the count: nothing after the newest message, else counted once
                held = 0 if e.up_to >= side["last_position"] else await counted_unread_in_conversation(
                    view, e.conversation_id, e.member_id, e.up_to)
                await view.put(CONVERSATIONS, key, {**_plain(side), "unread": held})
        case c.MemberBlocked():
            key = f"{e.member_id}:{e.blocked_id}"
            await view.put(BLOCKS, key, {"key": key, "member_id": e.member_id, "blocked_id": e.blocked_id})
        case c.MemberUnblocked():
            await view.delete(BLOCKS, f"{e.member_id}:{e.blocked_id}")
        case g.AuthorErased():
            await _forget_author(view, e.member_id)
