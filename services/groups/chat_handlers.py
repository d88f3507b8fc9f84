"""Chat commands: each one decision on one aggregate, with the facts the decider cannot know read by the
handler — the group from its own aggregate (never stale), who is in the Main group from the read
model, both sides' blocklists from their aggregates."""

from __future__ import annotations

from collections.abc import Callable

from uuid6 import uuid7

from libs.contracts import chat as c
from libs.contracts.chat import conversation_id, read_mark_id
from libs.contracts.errors import NotFound
from libs.kit.rpc import Context, Done
from libs.kit.service import Service, meta_of
from services.groups import chat_domain as d
from services.groups.chat_projections import DIRECT, FLOWS, flow_id, read_up_to, unread_in_group
from services.groups.domain import WORKING_GROUP
from services.groups.handlers import in_main, signed_in
from services.groups.projections import DIRECTORY


async def group_facts(svc: Service, group_id: str, ctx: Context) -> d.GroupFacts:
    state, _ = await svc.load(WORKING_GROUP, group_id)
    me = ctx.actor.id
    member = me in state.members
    # a group one may not see does not exist for one (as its queries answer)
    hidden = not member and not ctx.actor.is_moderator and (
        state.settings.visibility != "main" or not await in_main(svc, me))
    if state.status is None or hidden:
        return d.GroupFacts(False, None, False)
    return d.GroupFacts(True, state.status, member, state.members,
                        ctx.actor.is_moderator or me in state.coordinators)


async def newest_position(svc: Service, group_id: str, thread_id: str | None) -> int:
    tail = await svc.store.get(FLOWS, flow_id(group_id, thread_id))
    return tail["last"] if tail else 0


def register_chat_handlers(svc: Service) -> None:  # noqa: C901 — one handler per command
    async def on_message(message_id: str, command, ctx: Context):
        signed_in(ctx)
        return await svc.decide(d.MESSAGE, message_id, command, meta_of(ctx))

    @svc.command(c.PostMessage)
    async def post_message(cmd: c.PostMessage, ctx: Context) -> Done:
        signed_in(ctx)
        root = None
        if cmd.thread_id is not None:
            root, _ = await svc.load(d.MESSAGE, cmd.thread_id)
        message_id = str(uuid7())
        done = await on_message(message_id, d.Post(ctx.actor, message_id, cmd.group_id, cmd.text,
                                                   await group_facts(svc, cmd.group_id, ctx), cmd.thread_id, root), ctx)
        return Done(done.seq, c.MessageReply(group_id=cmd.group_id, message_id=message_id, thread_id=cmd.thread_id))

    async def change(cmd: c.EditMessage | c.DeleteMessage | c.ReactToMessage, ctx: Context,
                     decided: Callable[[d.GroupFacts], d.MessageCommand]) -> Done:
        """A change to an existing message, decided with what the group is now."""
        signed_in(ctx)
        done = await on_message(cmd.message_id, decided(await group_facts(svc, cmd.group_id, ctx)), ctx)
        return Done(done.seq, c.MessageReply(group_id=cmd.group_id, message_id=cmd.message_id,
                                             thread_id=done.state.thread_id))

    @svc.command(c.EditMessage)
    async def edit_message(cmd: c.EditMessage, ctx: Context) -> Done:
        return await change(cmd, ctx, lambda group: d.Edit(ctx.actor, cmd.group_id, cmd.message_id, cmd.text, group))

    @svc.command(c.DeleteMessage)
    async def delete_message(cmd: c.DeleteMessage, ctx: Context) -> Done:
        return await change(cmd, ctx, lambda group: d.Delete(ctx.actor, cmd.group_id, cmd.message_id, group))

    @svc.command(c.ReactToMessage)
    async def react_to_message(cmd: c.ReactToMessage, ctx: Context) -> Done:
        return await change(cmd, ctx, lambda group: d.React(ctx.actor, cmd.group_id, cmd.message_id, cmd.reaction,
                                                            cmd.on, group))

    @svc.command(c.MarkRead)
    async def mark_read(cmd: c.MarkRead, ctx: Context) -> Done:
        signed_in(ctx)
        group = await group_facts(svc, cmd.group_id, ctx)
        if not group.exists:
            raise NotFound("group_not_found", group_id=cmd.group_id)
        # a mark past the newest message would hide what comes next as read
        up_to = min(cmd.up_to, await newest_position(svc, cmd.group_id, cmd.thread_id))
        done = await svc.decide(d.READ_MARK, read_mark_id(cmd.group_id, ctx.actor.id), d.MoveMark(
            ctx.actor, cmd.group_id, cmd.thread_id, up_to, group.is_member), meta_of(ctx))
        # the read model may know further (one's own messages read the flow up to them) or not yet this
        mark = max(done.state.marks.get(cmd.thread_id or "", 0),
                   await read_up_to(svc.store, cmd.group_id, ctx.actor.id, cmd.thread_id))
        return Done(done.seq, c.ReadMarkReply(
            group_id=cmd.group_id, thread_id=cmd.thread_id, up_to=mark,
            unread=await unread_in_group(svc.store, cmd.group_id, ctx.actor.id, mark, cmd.thread_id)))

    @svc.command(c.SendDirectMessage)
    async def send_direct_message(cmd: c.SendDirectMessage, ctx: Context) -> Done:
        signed_in(ctx)
        me, them = ctx.actor.id, cmd.member_id
        mine, _ = await svc.load(d.BLOCKLIST, me)
        theirs, _ = await svc.load(d.BLOCKLIST, them)
        peers = d.PeerFacts(
            sender_in_main=await in_main(svc, me), recipient_in_main=await in_main(svc, them),
            recipient_exists=await svc.store.get(DIRECTORY, them) is not None,
            blocked_by_recipient=me in theirs.blocked, blocked_by_sender=them in mine.blocked)
        conversation = conversation_id(me, them)
        message_id = str(uuid7())
        done = await svc.decide(d.CONVERSATION, conversation, d.Send(ctx.actor, conversation, message_id, them,
                                                                     cmd.text, peers), meta_of(ctx))
        return Done(done.seq, c.DirectMessageReply(conversation_id=conversation, message_id=message_id, member_id=them))

    @svc.command(c.MarkConversationRead)
    async def mark_conversation_read(cmd: c.MarkConversationRead, ctx: Context) -> Done:
        signed_in(ctx)
        conversation = conversation_id(ctx.actor.id, cmd.member_id)
        newest = await svc.store.find(DIRECT, {"conversation_id": conversation}, sort=[("position", -1)], limit=1)
        # a mark past the newest message (or in a conversation with none) would hide what comes next
        up_to = min(cmd.up_to, newest[0]["position"] if newest else 0)
        done = await svc.decide(d.CONVERSATION, conversation, d.ReadConversation(ctx.actor, conversation, up_to),
                                meta_of(ctx))
        return Done(done.seq, c.ConversationReadReply(member_id=cmd.member_id,
                                                      up_to=done.state.marks.get(ctx.actor.id, 0)))

    async def set_blocked(member_id: str, blocked: bool, ctx: Context) -> Done:
        signed_in(ctx)
        done = await svc.decide(d.BLOCKLIST, ctx.actor.id, d.SetBlocked(
            ctx.actor, member_id, blocked, await svc.store.get(DIRECTORY, member_id) is not None), meta_of(ctx))
        return Done(done.seq, c.BlockReply(member_id=member_id, blocked=member_id in done.state.blocked))

    @svc.command(c.BlockMember)
    async def block_member(cmd: c.BlockMember, ctx: Context) -> Done:
        return await set_blocked(cmd.member_id, True, ctx)

    @svc.command(c.UnblockMember)
    async def unblock_member(cmd: c.UnblockMember, ctx: Context) -> Done:
        return await set_blocked(cmd.member_id, False, ctx)

