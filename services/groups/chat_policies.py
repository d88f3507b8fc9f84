"""What each member is told live: the chat's events, turned into items on the members' own streams
(libs/kit/notify.py) with only what that member may see — a group's messages to its members, a read
mark to the member who moved it, a personal message to its two sides.

Each policy waits until the chat read model has applied the event, so the recipients and the unread
counts it sends are those right after it; it only appends to the members' streams, so it runs outside
the store's transaction. An item's id is derived from the event and the member: a redelivered event
tells nobody twice."""

from __future__ import annotations

from typing import Any

from libs.contracts import chat as c
from libs.contracts.errors import NotFound
from libs.contracts.onboarding import MemberErased
from libs.contracts.subjects import events_of
from libs.kit.erasure import NotYet, view_at
from libs.kit.eventstore import Recorded
from libs.kit.service import Service
from services.groups.chat_projections import (
    CHAT_MEMBERS,
    CHAT_VIEW,
    MESSAGES,
    unread_in_conversation,
    unread_in_group,
    unread_mentions,
)

#: the fields of a message an item carries (its text travels sealed, beside them)
MESSAGE_FIELDS = ("message_id", "group_id", "thread_id", "author_id", "deleted", "edited", "posted_at", "position",
                  "mentions", "mentions_all", "reactions", "replies")


def sealed_aad(item_kind: str, ref: str) -> str:
    return f"hr-notify:{item_kind}:{ref}"


def register_chat_policies(svc: Service) -> None:  # noqa: C901 — one policy per aggregate
    svc.tells_members = True

    async def chat_view_at(rec: Recorded) -> None:
        await view_at(svc, CHAT_VIEW, rec)

    async def seal(author_id: str, text: str | None, ref: str) -> str | None:
        if text is None:
            return None  # its author is erased: nothing to tell
        try:
            return await svc.vault.seal(author_id, {"text": text}, sealed_aad("text", ref))
        except NotFound:
            return None  # erased between the event and now: the same

    async def tell(rec: Recorded, member_id: str, item: dict[str, Any]) -> None:
        await svc.member_streams.tell(member_id, {**item, "event_id": str(rec.envelope.event_id)},
                              f"{rec.envelope.event_id}:{member_id}")

    @svc.policy("chat_stream", [events_of("groups", "message")], waits_for_views=True)
    async def when_message_changed_tell_the_group(rec: Recorded) -> None:
        e = rec.event
        if not isinstance(e, (c.MessagePosted, c.MessageEdited, c.MessageDeleted, c.ReactionAdded,
                              c.ReactionWithdrawn)):
            return
        await chat_view_at(rec)
        doc = await svc.store.get(MESSAGES, e.message_id)
        if doc is None:
            # every message event has its document once the view has applied it (none is ever removed):
            # a view that said it had, and has not, is behind — wait, never skip (the chaos suite saw one
            # idle-looking consumer right after a cluster's stream leader was killed)
            raise NotYet(f"the {CHAT_VIEW} read model has no message {e.message_id} yet")
        kind = {c.MessagePosted: "message_posted", c.MessageEdited: "message_edited",
                c.MessageDeleted: "message_deleted"}.get(type(e), "reaction_changed")
        message = {k: doc.get(k) for k in MESSAGE_FIELDS}
        # the message as it reads now, whatever changed it (a reaction's item carries the text too: a page
        # updates the message in place from it)
        sealed = None if doc["deleted"] or not doc["author_id"] else await seal(doc["author_id"], doc["text"],
                                                                                e.message_id)
        root = await svc.store.get(MESSAGES, doc["thread_id"]) if doc["thread_id"] else None
        named = set(e.mentions) if isinstance(e, c.MessagePosted | c.MessageEdited) else set()
        everyone = isinstance(e, c.MessagePosted | c.MessageEdited) and e.mentions_all
        told = []
        for row in await svc.store.find(CHAT_MEMBERS, {"group_id": e.group_id}):
            member_id = row["member_id"]
            told.append((member_id, {
                "kind": kind, "group_id": e.group_id, "thread_id": doc["thread_id"], "message_id": e.message_id,
                "message": message, "sealed": sealed, "thread_replies": root["replies"] if root else None,
                "mentioned": kind in ("message_posted", "message_edited") and member_id != doc["author_id"]
                and (member_id in named or everyone),
                "unread": await unread_in_group(svc.store, e.group_id, member_id),
                "mentions": await unread_mentions(svc.store, e.group_id, member_id)}))
        await svc.member_streams.tell_many([
            (member_id, {**item, "event_id": str(rec.envelope.event_id)}, f"{rec.envelope.event_id}:{member_id}")
            for member_id, item in told])

    @svc.policy("read_mark_stream", [events_of("groups", "read_mark")], waits_for_views=True)
    async def when_read_mark_moved_tell_the_reader(rec: Recorded) -> None:
        e = rec.event
        if not isinstance(e, c.ReadMarkMoved):
            return
        await chat_view_at(rec)
        await tell(rec, e.member_id, {
            "kind": "read", "group_id": e.group_id, "thread_id": e.thread_id, "up_to": e.up_to,
            "unread": await unread_in_group(svc.store, e.group_id, e.member_id),
            "mentions": await unread_mentions(svc.store, e.group_id, e.member_id)})

    @svc.policy("conversation_stream", [events_of("groups", "conversation")], waits_for_views=True)
    async def when_personal_message_sent_tell_both_sides(rec: Recorded) -> None:
        e = rec.event
        await chat_view_at(rec)
        match e:
            case c.DirectMessageSent():
                sealed = await seal(e.sender_id, e.text, e.message_id)
                direct = {"message_id": e.message_id, "sender_id": e.sender_id if e.text is not None else None,
                          "sent_at": rec.envelope.occurred_at.isoformat(), "position": rec.seq}
                for me, other in ((e.recipient_id, e.sender_id), (e.sender_id, e.recipient_id)):
                    await tell(rec, me, {
                        "kind": "direct_message", "member_id": other, "direct": direct, "sealed": sealed,
                        "unread": await unread_in_conversation(svc.store, e.conversation_id, me)})
            case c.ConversationMarkedRead():
                first, second = e.conversation_id.split(":", 1)
                other = second if first == e.member_id else first
                await tell(rec, e.member_id, {
                    "kind": "conversation_read", "member_id": other, "up_to": e.up_to,
                    "unread": await unread_in_conversation(svc.store, e.conversation_id, e.member_id)})

    @svc.policy("erased_streams", [events_of("onboarding", "member")], waits_for_views=True, types=(MemberErased,))
    async def when_member_erased_forget_their_stream(rec: Recorded) -> None:
        """What an erased member was told goes with them (others' words in it were sealed anyway)."""
        if isinstance(rec.event, MemberErased):
            await svc.member_streams.forget(rec.envelope.aggregate_id)


