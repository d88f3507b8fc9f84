"""What every page and form gets: the person's session, language and address, and the helpers that
answer with a page or a redirect (setting the sealed cookie on every answer)."""

from __future__ import annotations

import asyncio
import hmac
import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from libs.kit.forwarding import client_address
from services.web.gateway import Answer, Expired, Gateway
from services.web.session import COOKIE, LANG_COOKIE, Sealer, Session
from services.web.settings import Settings
from services.web.texts import LANGS, TEXTS, text

_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path of this site: never another host (``//evil``, ``/\\evil``, ``https://...``)."""
    if not target or len(target) > 512 or not target.startswith("/") or target.startswith("//") \
            or _CONTROL.search(target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


class CsrfRefused(Exception):
    pass


class Ctx:
    """One request of one person: their session, language and address, and the pages' helpers."""

    def __init__(self, request: Request, session: Session, fresh: bool):
        self.request = request
        self.app = request.app
        self.settings: Settings = request.app.state.settings
        self.session = session
        self.fresh = fresh
        lang = request.cookies.get(LANG_COOKIE)
        self.lang = lang if lang in LANGS else "ru"
        peer = request.client.host if request.client else None
        self.address = client_address(peer, request.headers.get("x-forwarded-for"), self.settings.proxies)
        self.form: dict[str, Any] = {}
        self.form_lists: dict[str, list[str]] = {}
        #: what the navigation says (unread, mentions, where the live stream starts): read beside the
        #: page's own first read, read again after anything the page changed (a read mark moved)
        self._nav: asyncio.Task | None = None
        self._nav_stale = False
        #: no navigation counts (the gateway is away: a page saying so must not wait for it again)
        self.quiet = False
        #: a page that shows what arrives live (a chat) starts its stream where the member's stream stood
        #: when the page was read, so nothing said meanwhile is missed; elsewhere only the counts are live,
        #: and every item carries them whole, so a stream from "now" serves (and costs a request less)
        self.live_from_here = False

    def t(self, code: str, **params) -> str:
        return text(code, self.lang, **params)

    async def api(self, method: str, path: str, *, json: Any = None, params: dict | None = None) -> Answer:
        gateway: Gateway = self.app.state.gateway
        if method == "GET" and self.request.method == "GET":
            self._read_nav()
        elif method != "GET" and self._nav is not None:
            self._nav_stale = True
        return await gateway.call(method, path, self.session, self.lang, self.address, json=json, params=params)

    @property
    def live(self) -> bool:
        """Whether the navigation shows unread counts and the page listens to the live stream: the Main
        group's members, its moderators and admins (a guest has no chats)."""
        return self.session.signed_in and not self.quiet and self.has("member", "moderator", "admin")

    def _read_nav(self) -> None:
        if self._nav is None and self.live:
            self._nav = asyncio.create_task(self._nav_read(with_position=self.live_from_here))

    async def _nav_read(self, with_position: bool) -> dict | None:
        """The unread counts (GET /v1/me/unread) and, for a page's live stream, where the member's stream
        stands now (so nothing said between this page and its stream is missed); None when unknown."""
        gateway: Gateway = self.app.state.gateway
        try:
            unread = await gateway.call("GET", "/v1/me/unread", self.session, self.lang, self.address)
        except (Expired, httpx.HTTPError):
            return None
        if not unread.ok or not isinstance(unread.body, dict):
            return None
        body = unread.body
        # the counts say where the stream stood when they were read: the page's stream starts there
        given = body.get("stream_position")
        position = given if with_position and isinstance(given, int) and given >= 0 else None
        groups = {g["group_id"]: g for g in body.get("groups") or ()}
        conversations = {c["member_id"]: c["unread"] for c in body.get("conversations") or ()}
        # each count by its place ("g:<group>", "c:<member>"): the page's script replaces one as the stream
        # tells it, and adds them up again
        counts = {**{f"g:{k}": g["unread"] for k, g in groups.items()},
                  **{f"c:{k}": n for k, n in conversations.items()}}
        return {"total": body.get("total", 0), "mentions": body.get("mentions", 0), "groups": groups,
                "conversations": conversations, "counts": counts,
                "mention_counts": {f"g:{k}": g["mentions"] for k, g in groups.items()}, "position": position}

    async def nav(self) -> dict | None:
        """The navigation's counts as of now: read again when the page changed something after its first
        read (opening a chat moves its read mark); the stream's position stays the earlier one."""
        if not self.live:
            return None
        if self._nav is None:
            self._nav = asyncio.create_task(self._nav_read(with_position=self.live_from_here))
        counts = await self._nav
        if self._nav_stale:
            self._nav_stale = False
            again = await self._nav_read(with_position=self.live_from_here and counts is None)
            if again is not None and counts is not None:
                again["position"] = counts["position"]
            counts = again
        return counts

    def _finish(self, response: Response) -> Response:
        self.app.state.cookies(self, response)
        response.headers["Cache-Control"] = "no-store"
        return response

    def send(self, response: Response) -> Response:
        """An answer that is not a page (a picture): the session's cookie is still renewed."""
        return self._finish(response)

    async def render(self, template: str, status: int = 200, **values) -> Response:
        page = self.app.state.env.get_template(template)
        nav = await self.nav()
        html = page.render(ctx=self, t=self.t, s=self.session, flash=self.session.take_flash(), nav=nav, **values)
        return self._finish(HTMLResponse(html, status_code=status, headers={"Content-Language": self.lang}))

    def redirect(self, url: str) -> Response:
        return self._finish(RedirectResponse(url, status_code=303))

    async def refuse(self, status: int, title: str, detail: str) -> Response:
        return await self.render("status.html", status=status, title=title, detail=detail)

    def when(self, value: str | datetime | None) -> str:
        """A time in the community's zone, with the zone said."""
        if not value:
            return ""
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        local = moment.astimezone(self.settings.zone)
        offset = local.strftime("%z")
        return f"{local:%d.%m.%Y %H:%M} (UTC{offset[:3]}:{offset[3:]})"

    def local_time(self, value: str) -> datetime | None:
        """A date and time typed in a form (``2026-12-05T18:30``), read in the community's zone."""
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        if moment.tzinfo is not None:
            return None
        return moment.replace(tzinfo=self.settings.zone)

    @property
    def utc_offset(self) -> str:
        """The community's offset now (``UTC+05:00``): what the page's script says after a time it writes."""
        offset = datetime.now(self.settings.zone).strftime("%z")
        return f"UTC{offset[:3]}:{offset[3:]}"

    @property
    def zone_name(self) -> str:
        offset = datetime.now(self.settings.zone).strftime("%z")
        return f"{self.settings.web_timezone}, UTC{offset[:3]}:{offset[3:]}"

    def group_type(self, value: str, fallback: str | None = None) -> str:
        """A working group's type in words; a type the community added is shown by its name or id."""
        code = f"gt_{value}"
        return self.t(code) if code in TEXTS else (fallback or value)

    @property
    def path(self) -> str:
        query = self.request.url.query
        return self.request.url.path + (f"?{query}" if query else "")

    def has(self, *roles: str) -> bool:
        return any(r in self.session.roles for r in roles)


def context(request: Request) -> Ctx:
    cached = getattr(request.state, "ctx", None)
    if cached is not None:
        return cached
    sealer: Sealer = request.app.state.sealer
    session = sealer.open(request.cookies.get(COOKIE))
    ctx = Ctx(request, session or Session(), fresh=session is None)
    request.state.ctx = ctx
    return ctx


async def form_context(request: Request) -> Ctx:
    """A form: accepted only with this session's CSRF token, and only from this site."""
    ctx = context(request)
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise CsrfRefused()
    form = await request.form()
    token = form.get("csrf")
    if not isinstance(token, str) or ctx.fresh or not hmac.compare_digest(token.encode(), ctx.session.csrf.encode()):
        raise CsrfRefused()
    ctx.form = {k: form.getlist(k) if len(form.getlist(k)) > 1 else form.get(k) for k in form}
    ctx.form_lists = {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form}
    return ctx


Page = Annotated[Ctx, Depends(context)]
Form = Annotated[Ctx, Depends(form_context)]


def referer_path(request: Request) -> str:
    referer = request.headers.get("referer")
    if not referer:
        return "/"
    parts = urlsplit(referer)
    if parts.netloc != request.headers.get("host"):
        return "/"
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
