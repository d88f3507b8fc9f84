"""A working group's chat, personal messages, blocks, unread counts, and the member's live stream
(server-sent events)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, get_args

from fastapi import APIRouter, Depends, Header, Path, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from libs.contracts import chat as c
from libs.contracts.chat import SERVICE
from libs.contracts.errors import ErrorBody
from libs.contracts.subjects import notify_wake_subject
from libs.contracts.types import ID_PATTERN, Id
from libs.kit import auth
from libs.kit.direct import unsubscribe
from services.gateway.deps import AuthBus, AuthCommandBus, Caller, current_caller
from services.gateway.problems import PROBLEM_RESPONSES, Problem

PathId = Annotated[str, Path(pattern=ID_PATTERN)]
Position = Annotated[int | None, Query(ge=0, le=2**53)]
Limit = Annotated[int, Query(ge=1, le=200)]

router = APIRouter(tags=["chat"], responses=PROBLEM_RESPONSES)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageIn(Body):
    text: c.ChatText
    #: reply in the thread this message began
    thread_id: Id | None = None


class EditIn(Body):
    text: c.ChatText


class ReactionIn(Body):
    reaction: c.Reaction
    on: bool = True


class ReadIn(Body):
    up_to: c.Cursor
    thread_id: Id | None = None


class DirectIn(Body):
    text: c.ChatText


class ConversationReadIn(Body):
    up_to: c.Cursor


@router.get("/v1/groups/{group_id}/messages", response_model=c.ListMessages.reply_model,
            summary="A group's messages, oldest first: the newest page, or the page before/after a position; "
                    "a thread's replies with thread_id (members; moderators; Main when the content is open)")
async def list_messages(bus: AuthBus, group_id: PathId, thread_id: Annotated[Id | None, Query()] = None,
                        before: Position = None, after: Position = None, limit: Limit = 50):
    return await bus.query(SERVICE, c.ListMessages(group_id=group_id, thread_id=thread_id, before=before,
                                                   after=after, limit=limit))


@router.get("/v1/groups/{group_id}/messages/search", response_model=c.SearchMessages.reply_model,
            summary="Messages of a group with every word of q (the beginnings of words; ё and case folded)")
async def search_messages(bus: AuthBus, group_id: PathId, q: Annotated[str, Query(min_length=1, max_length=100)],
                          limit: Limit = 50):
    return await bus.query(SERVICE, c.SearchMessages(group_id=group_id, q=q, limit=limit))


@router.post("/v1/groups/{group_id}/messages", response_model=c.PostMessage.reply_model,
             status_code=status.HTTP_201_CREATED,
             summary="Write in a group (its members); @[Name](member_id) names a member, @all the whole group")
async def post_message(body: MessageIn, bus: AuthCommandBus, group_id: PathId):
    return await bus.command(SERVICE, c.PostMessage(group_id=group_id, text=body.text, thread_id=body.thread_id))


@router.put("/v1/groups/{group_id}/messages/{message_id}", response_model=c.EditMessage.reply_model,
            summary="Edit one's own message")
async def edit_message(body: EditIn, bus: AuthCommandBus, group_id: PathId, message_id: PathId):
    return await bus.command(SERVICE, c.EditMessage(group_id=group_id, message_id=message_id, text=body.text))


@router.delete("/v1/groups/{group_id}/messages/{message_id}", response_model=c.DeleteMessage.reply_model,
               summary="Delete one's own message; the group's coordinators and moderators delete any")
async def delete_message(bus: AuthCommandBus, group_id: PathId, message_id: PathId):
    return await bus.command(SERVICE, c.DeleteMessage(group_id=group_id, message_id=message_id))


@router.put("/v1/groups/{group_id}/messages/{message_id}/reactions", response_model=c.ReactToMessage.reply_model,
            summary="React to a message (on: false withdraws one's reaction)")
async def react(body: ReactionIn, bus: AuthCommandBus, group_id: PathId, message_id: PathId):
    return await bus.command(SERVICE, c.ReactToMessage(group_id=group_id, message_id=message_id,
                                                       reaction=body.reaction, on=body.on))


@router.put("/v1/groups/{group_id}/read", response_model=c.MarkRead.reply_model,
            summary="Read the group's flow (or a thread) up to a position: stored, so every device agrees")
async def mark_read(body: ReadIn, bus: AuthCommandBus, group_id: PathId):
    return await bus.command(SERVICE, c.MarkRead(group_id=group_id, thread_id=body.thread_id, up_to=body.up_to))


@router.get("/v1/me/unread", response_model=c.GetUnread.reply_model,
            summary="Unread messages and mentions per group, unread personal messages per conversation")
async def unread(bus: AuthBus):
    return await bus.query(SERVICE, c.GetUnread())


@router.get("/v1/conversations", response_model=c.ListConversations.reply_model,
            summary="One's personal conversations, the latest first, with unread counts")
async def conversations(bus: AuthBus):
    return await bus.query(SERVICE, c.ListConversations())


@router.get("/v1/conversations/{member_id}/messages", response_model=c.ListDirectMessages.reply_model,
            summary="Personal messages with a member, oldest first (pages before/after a position)")
async def direct_messages(bus: AuthBus, member_id: PathId, before: Position = None, after: Position = None,
                          limit: Limit = 50):
    return await bus.query(SERVICE, c.ListDirectMessages(member_id=member_id, before=before, after=after,
                                                         limit=limit))


@router.post("/v1/conversations/{member_id}/messages", response_model=c.SendDirectMessage.reply_model,
             status_code=status.HTTP_201_CREATED,
             summary="Write to a member (Main-group members to each other; never to one who blocked you)")
async def send_direct(body: DirectIn, bus: AuthCommandBus, member_id: PathId):
    return await bus.command(SERVICE, c.SendDirectMessage(member_id=member_id, text=body.text))


@router.put("/v1/conversations/{member_id}/read", response_model=c.MarkConversationRead.reply_model,
            summary="Read a conversation up to a position")
async def read_conversation(body: ConversationReadIn, bus: AuthCommandBus, member_id: PathId):
    return await bus.command(SERVICE, c.MarkConversationRead(member_id=member_id, up_to=body.up_to))


@router.put("/v1/blocks/{member_id}", response_model=c.BlockMember.reply_model,
            summary="Block a member: their personal messages to you are refused")
async def block(bus: AuthCommandBus, member_id: PathId):
    return await bus.command(SERVICE, c.BlockMember(member_id=member_id))


@router.delete("/v1/blocks/{member_id}", response_model=c.UnblockMember.reply_model, summary="Unblock a member")
async def unblock(bus: AuthCommandBus, member_id: PathId):
    return await bus.command(SERVICE, c.UnblockMember(member_id=member_id))


def _event(item: dict) -> bytes:
    return f"id: {item['id']}\nevent: {item['kind']}\ndata: {json.dumps(item, ensure_ascii=False)}\n\n".encode()


#: items one read of the stream takes at most
READ_LIMIT = 100
#: one event of the stream: ``data`` is a StreamItem as JSON (``{}`` for ``ready``)
SSE_EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "the stream position (Last-Event-ID)"},
        "event": {"type": "string", "enum": ["ready", *get_args(c.StreamItem.model_fields["kind"].annotation)]},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "retry": {"type": "integer"},
    },
    "required": ["event", "data"],
}


@router.get("/v1/stream", summary="The caller's live stream as server-sent events (messages, edits, deletions, "
                                  "reactions, read marks, personal messages, with unread counts)",
            response_description="text/event-stream: each event's id is its stream position; reconnect with "
                                 "Last-Event-ID (or ?after=) and nothing is lost or sent twice. An event "
                                 "`reset` means the page must reload. The stream ends when the access token "
                                 "expires or after max_seconds (the server's limit at most); reconnect.",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {"schema": SSE_EVENT}}}})
async def stream(request: Request, bus: AuthBus, caller: Annotated[Caller, Depends(current_caller)],
                 last_event_id: Annotated[str | None, Header(max_length=20)] = None,
                 after: Position = None, max_seconds: Annotated[float | None, Query(gt=0, le=86400)] = None):
    settings = request.app.state.settings
    start = after
    if last_event_id is not None:
        if not last_event_id.isdigit() or int(last_event_id) > 2**53:
            raise Problem(ErrorBody(kind="validation", code="invalid_last_event_id"))
        start = int(last_event_id)
    # the first page is read before the answer starts: a refusal is still an HTTP status, not an event
    first = await bus.query(SERVICE, c.ReadStream(after=start, limit=READ_LIMIT))
    claims = auth.verify(settings.token_public_key, caller.token, "access")
    lasts = min(max_seconds or settings.stream_max_s, settings.stream_max_s, claims.expires_at - time.time())
    deadline = time.monotonic() + max(0.0, lasts)
    nc = request.app.state.nc
    woken = asyncio.Event()

    async def on_wake(msg) -> None:
        woken.set()

    async def events():
        sub = await nc.subscribe(notify_wake_subject(caller.id), cb=on_wake)
        try:
            # a fresh stream starts here (its id is where it stands); a resumed one keeps the client's
            ready = f"id: {first['last_id']}\n" if start is None else ""
            yield f"retry: {settings.stream_retry_ms}\n{ready}event: ready\ndata: {{}}\n\n".encode()
            for item in first["items"]:
                yield _event(item)
            position = first["last_id"]
            while time.monotonic() < deadline and not await request.is_disconnected():
                # cleared before the read: an item stored after the read wakes the wait below
                woken.clear()
                try:
                    page = await bus.query(SERVICE, c.ReadStream(after=position, limit=READ_LIMIT))
                except Problem:
                    return  # the member's access ended meanwhile: the client reconnects and is told why
                for item in page["items"]:
                    yield _event(item)
                position = page["last_id"]
                if page["items"]:
                    continue
                try:
                    await asyncio.wait_for(woken.wait(), max(0.0, min(deadline - time.monotonic(),
                                                                      settings.stream_keepalive_s)))
                except TimeoutError:
                    yield b": keep-alive\n\n"
        finally:
            await unsubscribe(sub)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
