"""A working group's chat and personal messages: the pages and their forms.

A group's chat (/groups/{id}/chat) lists its messages oldest first, a page at a time, with the authors'
names, what was edited or deleted, reactions and each message's thread (/groups/{id}/chat/threads/{mid});
its members write, react, edit and delete their own (coordinators and moderators delete any). Opening it
marks it read up to the newest message shown — the platform keeps that mark, so every device agrees — and
a line says where the new messages began. Personal messages (/messages, /messages/{member_id}) are the
same for two: a conversation, its unread count, and blocking.

Everything works by forms and reloads; static/web.js adds what arrives live (GET /stream, services/web/live.py).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import Response

from services.web.context import Ctx, Form, Page, safe_next
from services.web.gateway import Answer
from services.web.pages import ID, _refused, _sign_in_first, _text

router = APIRouter(include_in_schema=False)

#: the reactions the platform accepts (libs/contracts/chat.py REACTIONS), in its order
REACTIONS = ("👍", "❤️", "😂", "🎉", "🤔", "🙏", "👀", "✅")
#: messages one page shows
PAGE = 50
#: what a message may hold (the API's limit is 4000: a longer one is refused by it, and kept in the form)
TEXT_LIMIT = 10_000
#: ``@[Shown name](member_id)`` names a member, ``@all`` / ``@все`` the whole group (as the platform reads them)
_MENTION = re.compile(r"@\[([^\]\n]{0,200})\]\(([A-Za-z0-9_-]{1,64})\)|(?<![\w@])@(all|все)(?!\w)", re.IGNORECASE)
_WHOLE_MENTION = re.compile(r"@\[[^\]\n]{0,200}\]\([A-Za-z0-9_-]{1,64}\)|@(all|все)", re.IGNORECASE)
_POSITION = re.compile(r"^[0-9]{1,16}$")


def parts(text: str | None) -> list[dict[str, str]]:
    """A message's text as pieces to show: plain text, a member named (with their id), the whole group."""
    if not text:
        return []
    out: list[dict[str, str]] = []
    at = 0
    for found in _MENTION.finditer(text):
        if found.start() > at:
            out.append({"kind": "text", "text": text[at:found.start()]})
        if found.group(2):
            out.append({"kind": "member", "text": "@" + found.group(1), "member_id": found.group(2)})
        else:
            out.append({"kind": "all", "text": found.group(0)})
        at = found.end()
    if at < len(text):
        out.append({"kind": "text", "text": text[at:]})
    return out


def _cursor(value: str | None) -> int | None:
    return int(value) if value and _POSITION.match(value) else None


def _message(ctx: Ctx, m: dict, rights: dict) -> dict:
    """A message as the page shows it: its text in pieces, and what the reader may do with it (the API
    decides again): members edit and delete their own while they write there; the group's coordinators
    and the moderators delete anyone's, an archived group's too."""
    mine = bool(m.get("author_id")) and m.get("author_id") == ctx.session.member_id
    deleted = bool(m.get("deleted"))
    return {**m, "parts": parts(m.get("text")), "mine": mine, "when": ctx.when(m.get("posted_at")),
            "may_edit": mine and not deleted and rights["writable"],
            "may_delete": not deleted and ((mine and rights["member"]) or rights["managing"])}


def _managing(ctx: Ctx, group: dict) -> bool:
    return bool(group.get("is_coordinator")) or ctx.has("moderator", "admin")


def _first_new(items: list[dict], read_up_to: int, me: str | None) -> str | None:
    """The first message of others after the reader's mark: the "new" line goes before it."""
    for m in items:
        if m["position"] > read_up_to and m.get("author_id") != me:
            return m["message_id"]
    return None


def _chat_url(group_id: str, thread_id: str | None = None) -> str:
    return f"/groups/{group_id}/chat" + (f"/threads/{thread_id}" if thread_id else "")


def _back(ctx: Ctx, group_id: str, thread_id: str | None) -> str:
    """The chat page the form came from (a page of older messages, say), or the chat's newest."""
    default = _chat_url(group_id, thread_id)
    back = safe_next(_text(ctx, "back", 600), default).split("#", 1)[0]
    return back if urlsplit(back).path == default else default


async def _chat_page(ctx: Ctx, group_id: str, thread_id: str | None = None, *, before: int | None = None,
                     after: int | None = None, q: str = "", status: int = 200, error: str | None = None,
                     action_error: str | None = None, text: str = "", edit_errors: dict | None = None,
                     edit_values: dict | None = None) -> Response:
    q = q.strip()[:100]
    searching = bool(q) and thread_id is None
    ctx.live_from_here = not searching
    params: dict[str, Any] = {"q": q} if searching else {"limit": str(PAGE)}
    if thread_id:
        params["thread_id"] = thread_id
    if before is not None:
        params["before"] = str(before)
    elif after is not None:
        params["after"] = str(after)
    group_answer, page_answer = await asyncio.gather(
        ctx.api("GET", f"/v1/groups/{group_id}"),
        ctx.api("GET", f"/v1/groups/{group_id}/messages" + ("/search" if searching else ""), params=params))
    if not group_answer.ok:
        return await _refused(ctx, group_answer)
    group = group_answer.body
    managing = _managing(ctx, group)
    member = bool(group.get("is_member"))
    rights = {"member": member, "managing": managing, "writable": member and group.get("status") == "active"}
    values: dict[str, Any] = {
        "group": group, "thread_id": thread_id, "member": member, "managing": managing, "q": q,
        "searching": searching, "writable": rights["writable"], "error": error,
        "action_error": action_error, "text": text, "edit_errors": edit_errors or {},
        "edit_values": edit_values or {}, "reactions": REACTIONS, "here": ctx.path,
        "url": _chat_url(group_id, thread_id)}
    if searching:
        if page_answer.status in (401, 403, 404) or page_answer.status >= 500:
            return await _refused(ctx, page_answer)
        hits = [_message(ctx, m, rights) for m in page_answer.body["items"]] if page_answer.ok else None
        return await ctx.render("chat.html", status=status, hits=hits, search_error=None if page_answer.ok
                                else page_answer.title, **values)
    if not page_answer.ok:
        return await _refused(ctx, page_answer)
    page = page_answer.body
    me = ctx.session.member_id
    items = [_message(ctx, m, rights) for m in page["items"]]
    # opening the page reads it: the mark moves to the newest message shown (never back), on every device
    read_up_to = page.get("read_up_to") or 0
    new_at = _first_new(items, read_up_to, me) if member else None
    newest = max((m["position"] for m in items), default=0)
    marked = False
    if member and newest > read_up_to:
        body: dict[str, Any] = {"up_to": newest, **({"thread_id": thread_id} if thread_id else {})}
        marked = (await ctx.api("PUT", f"/v1/groups/{group_id}/read", json=body)).ok
    people = [p for p in group.get("members") or () if p.get("member_id") != me and p.get("display_name")]
    template = _message(ctx, {
        "message_id": "__ID__", "group_id": group_id, "thread_id": thread_id, "author_id": me, "author_name": "",
        "text": "", "deleted": False, "edited": False, "posted_at": None, "position": 0, "reactions": [],
        "replies": 0, "unread_replies": 0, "mentions_me": False}, rights)
    return await ctx.render(
        "chat.html", status=status, items=items, root=_message(ctx, page["root"], rights) if page.get("root")
        else None, older=page.get("before"), newer=page.get("after"), new_at=new_at, marked=marked, people=people,
        template_message=template, **values)


@router.get("/groups/{group_id}/chat")
async def chat_page(ctx: Page, group_id: str = ID(), before: str | None = None, after: str | None = None,
                    q: str = "") -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _chat_page(ctx, group_id, before=_cursor(before), after=_cursor(after), q=q)


@router.get("/groups/{group_id}/chat/threads/{message_id}")
async def thread_page(ctx: Page, group_id: str = ID(), message_id: str = ID(), before: str | None = None,
                      after: str | None = None) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _chat_page(ctx, group_id, message_id, before=_cursor(before), after=_cursor(after))


def _thread_of(ctx: Ctx) -> str | None:
    thread_id = _text(ctx, "thread_id", 100)
    return thread_id if thread_id and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", thread_id) else None


@router.post("/groups/{group_id}/chat")
async def post_message(ctx: Form, group_id: str = ID()) -> Response:
    """Write in the group (or reply in a thread). A member picked in the form's list is named at the start."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    thread_id = _thread_of(ctx)
    text = _text(ctx, "text", TEXT_LIMIT)
    mention = _text(ctx, "mention", 300)
    if mention and _WHOLE_MENTION.fullmatch(mention) and mention not in text:
        text = f"{mention} {text}"
    answer = await ctx.api("POST", f"/v1/groups/{group_id}/messages",
                           json={"text": text, **({"thread_id": thread_id} if thread_id else {})})
    if answer.ok:
        return ctx.redirect(f"{_chat_url(group_id, thread_id)}#m-{answer.body['message_id']}")
    if answer.code == "thread_not_found":  # its first message deleted meanwhile: the chat, with the words kept
        return await _chat_page(ctx, group_id, status=answer.status, error=answer.title, text=text)
    if answer.status in (401, 404) or answer.status >= 500:
        return await _refused(ctx, answer)
    return await _chat_page(ctx, group_id, thread_id, status=answer.status,
                            error=answer.field_errors().get("text") or answer.title, text=text)


async def _after_action(ctx: Ctx, answer: Answer, group_id: str, message_id: str, done: str | None = None,
                        **extra: Any) -> Response:
    thread_id = _thread_of(ctx)
    if answer.ok:
        if done:
            ctx.session.say("ok", done)
        anchor = "" if message_id == thread_id else f"#m-{message_id}"
        return ctx.redirect(_back(ctx, group_id, thread_id) + anchor)
    if answer.status == 401 or answer.status >= 500:
        return await _refused(ctx, answer)
    return await _chat_page(ctx, group_id, thread_id, status=answer.status, action_error=answer.title, **extra)


@router.post("/groups/{group_id}/chat/{message_id}/edit")
async def edit_message(ctx: Form, group_id: str = ID(), message_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    text = _text(ctx, "text", TEXT_LIMIT)
    answer = await ctx.api("PUT", f"/v1/groups/{group_id}/messages/{message_id}", json={"text": text})
    error = (answer.field_errors().get("text") or answer.title) if not answer.ok else None
    return await _after_action(ctx, answer, group_id, message_id, "message_edited",
                               edit_errors={message_id: error}, edit_values={message_id: text})


@router.post("/groups/{group_id}/chat/{message_id}/delete")
async def delete_message(ctx: Form, group_id: str = ID(), message_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("DELETE", f"/v1/groups/{group_id}/messages/{message_id}")
    return await _after_action(ctx, answer, group_id, message_id, "message_deleted")


@router.post("/groups/{group_id}/chat/{message_id}/react")
async def react(ctx: Form, group_id: str = ID(), message_id: str = ID()) -> Response:
    """A reaction's button says what it does: ``on:👍`` adds one's 👍, ``off:👍`` takes it back."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    switch, _, reaction = _text(ctx, "reaction", 40).partition(":")
    body = {"reaction": reaction, "on": switch != "off"}
    answer = await ctx.api("PUT", f"/v1/groups/{group_id}/messages/{message_id}/reactions", json=body)
    return await _after_action(ctx, answer, group_id, message_id)


# ------------------------------------------------------------------ personal messages


@router.get("/messages")
async def conversations_page(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("GET", "/v1/conversations")
    if not answer.ok:
        return await _refused(ctx, answer)
    items = [{**c, "when": ctx.when(c.get("last_at"))} for c in answer.body["items"]]
    return await ctx.render("conversations.html", items=items)


def _direct(ctx: Ctx, m: dict) -> dict:
    return {**m, "mine": bool(m.get("sender_id")) and m.get("sender_id") == ctx.session.member_id,
            "when": ctx.when(m.get("sent_at"))}


async def _conversation_page(ctx: Ctx, member_id: str, *, before: int | None = None, after: int | None = None,
                             status: int = 200, error: str | None = None, text: str = "") -> Response:
    params = {"limit": str(PAGE)}
    if before is not None:
        params["before"] = str(before)
    elif after is not None:
        params["after"] = str(after)
    ctx.live_from_here = True
    answer = await ctx.api("GET", f"/v1/conversations/{member_id}/messages", params=params)
    if not answer.ok:
        return await _refused(ctx, answer)
    page = answer.body
    me = ctx.session.member_id
    items = [_direct(ctx, m) for m in page["items"]]
    read_up_to = page.get("read_up_to") or 0
    new_at = next((m["message_id"] for m in items if m["position"] > read_up_to and m.get("sender_id") != me),
                  None)
    newest = max((m["position"] for m in items), default=0)
    if newest > read_up_to:
        await ctx.api("PUT", f"/v1/conversations/{member_id}/read", json={"up_to": newest})
    return await ctx.render(
        "conversation.html", status=status, page=page, member_id=member_id, items=items, new_at=new_at,
        older=page.get("before"), newer=page.get("after"), paged=before is not None or after is not None,
        error=error, text=text, template_message=_direct(ctx, {
            "message_id": "__ID__", "sender_id": me, "sender_name": ctx.session.name, "text": "",
            "sent_at": None, "position": 0}))


@router.get("/messages/{member_id}")
async def conversation_page(ctx: Page, member_id: str = ID(), before: str | None = None,
                            after: str | None = None) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _conversation_page(ctx, member_id, before=_cursor(before), after=_cursor(after))


@router.post("/messages/{member_id}")
async def send_direct(ctx: Form, member_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    text = _text(ctx, "text", TEXT_LIMIT)
    answer = await ctx.api("POST", f"/v1/conversations/{member_id}/messages", json={"text": text})
    if answer.ok:
        return ctx.redirect(f"/messages/{member_id}#dm-{answer.body['message_id']}")
    if answer.status == 401 or answer.status >= 500:
        return await _refused(ctx, answer)
    # blocked either way, not in the Main group, too long...: said next to the form, the text kept
    return await _conversation_page(ctx, member_id, status=answer.status,
                                    error=answer.field_errors().get("text") or answer.title, text=text)


async def _block(ctx: Ctx, member_id: str, block: bool) -> Response:
    answer = await ctx.api("PUT" if block else "DELETE", f"/v1/blocks/{member_id}")
    if not answer.ok:
        if answer.status == 401 or answer.status >= 500:
            return await _refused(ctx, answer)
        return await _conversation_page(ctx, member_id, status=answer.status, error=answer.title)
    ctx.session.say("ok", "member_blocked" if block else "member_unblocked")
    return ctx.redirect(f"/messages/{member_id}")


@router.post("/messages/{member_id}/block")
async def block_member(ctx: Form, member_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _block(ctx, member_id, block=True)


@router.post("/messages/{member_id}/unblock")
async def unblock_member(ctx: Form, member_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _block(ctx, member_id, block=False)
