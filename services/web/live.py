"""The live part of the pages: the member's stream relayed to the browser, and the small endpoints the
page's script calls (a chat read while it is open).

The browser cannot reach the gateway with the member's token (the token never leaves the sealed cookie),
so GET /stream opens the gateway's GET /v1/stream with it and passes the events on byte for byte. The
browser's EventSource reconnects by itself (when the gateway ends the stream as the access token expires,
say) and sends back the last event's id: passed on as Last-Event-ID, the gateway resumes right after it.
"""

from __future__ import annotations

import anyio
import httpx
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from services.web.context import Form, Page
from services.web.gateway import Expired, Gateway
from services.web.pages import ID

router = APIRouter(include_in_schema=False)

#: a stream position as the gateway writes it (its event ids)
_POSITION_DIGITS = 16


def _position(value: str | None) -> str | None:
    return value if value and value.isdigit() and len(value) <= _POSITION_DIGITS else None


class Relay(StreamingResponse):
    """The gateway's stream passed on until either side ends it. The browser's leaving is listened for
    whatever the ASGI server (a quiet stream writes nothing that would notice it), and the gateway's
    stream is closed then, so it stops reading for a page nobody looks at."""

    def __init__(self, upstream: httpx.Response, request: Request):
        super().__init__(upstream.aiter_raw(), media_type="text/event-stream",
                         headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        self.upstream = upstream
        self.app_state = request.app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.app_state.relays += 1
        try:
            async with anyio.create_task_group() as group:

                async def pump() -> None:
                    try:
                        await self.stream_response(send)
                    except (OSError, httpx.HTTPError):
                        pass  # the browser left, or the gateway went away: the browser reconnects
                    group.cancel_scope.cancel()

                group.start_soon(pump)
                await self.listen_for_disconnect(receive)
                group.cancel_scope.cancel()
        finally:
            self.app_state.relays -= 1
            with anyio.CancelScope(shield=True):
                await self.upstream.aclose()


@router.get("/stream")
async def stream(ctx: Page, request: Request, after: str | None = None,
                 last_event_id: str | None = Header(default=None)) -> Response:
    """The signed-in member's live stream as server-sent events. ``after``: where the page's stream starts
    (the page says it, so nothing between the page and its stream is missed); a reconnect's Last-Event-ID
    goes first. Anything but a stream is 204, which tells the EventSource to stop (the page's script
    tries again later)."""
    if not ctx.live:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    gateway: Gateway = ctx.app.state.gateway
    tokens = (ctx.session.access, ctx.session.refresh)
    try:
        upstream = await gateway.open_stream(ctx.session, ctx.lang, ctx.address, after=_position(after),
                                             last_event_id=_position(last_event_id))
    except Expired:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    if upstream.status_code != 200 or not upstream.headers.get("content-type", "").startswith("text/event-stream"):
        await upstream.aclose()
        return ctx.send(Response(status_code=204))
    relay = Relay(upstream, request)
    if (ctx.session.access, ctx.session.refresh) != tokens:
        ctx.app.state.cookies(ctx, relay)  # renewed to open it: the browser keeps the new pair
    return relay


def _json(ctx, answer) -> Response:
    body = answer.body if answer.ok else {"code": answer.code, "title": answer.title}
    return ctx.send(JSONResponse(body, status_code=answer.status))


def _up_to(ctx) -> int | None:
    value = ctx.form.get("up_to")
    return int(value) if isinstance(value, str) and _position(value) else None


@router.post("/groups/{group_id}/chat/read")
async def read_chat(ctx: Form, group_id: str = ID()) -> Response:
    """The open chat page read a new message: its read mark moves (the platform keeps it for every
    device). The page's script posts the form's CSRF token with it."""
    up_to = _up_to(ctx)
    thread_id = ctx.form.get("thread_id") or None
    if not ctx.session.signed_in or up_to is None or not (thread_id is None or isinstance(thread_id, str)):
        return ctx.send(JSONResponse({"code": "invalid_fields"}, status_code=422))
    answer = await ctx.api("PUT", f"/v1/groups/{group_id}/read",
                           json={"up_to": up_to, **({"thread_id": thread_id[:64]} if thread_id else {})})
    return _json(ctx, answer)


@router.post("/messages/{member_id}/read")
async def read_conversation(ctx: Form, member_id: str = ID()) -> Response:
    up_to = _up_to(ctx)
    if not ctx.session.signed_in or up_to is None:
        return ctx.send(JSONResponse({"code": "invalid_fields"}, status_code=422))
    answer = await ctx.api("PUT", f"/v1/conversations/{member_id}/read", json={"up_to": up_to})
    return _json(ctx, answer)
