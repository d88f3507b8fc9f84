"""The web client: server-rendered pages over the gateway's public API (a backend-for-frontend).

It keeps no data of its own. Everything a page shows comes from the gateway, with the person's
token, and everything a form does is one call of the public API: what the browser can do, a
program can do (docs/adr/0014).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from libs.kit.bodylimit import BodyLimitMiddleware
from libs.kit.logging import get_logger, setup_logging
from libs.kit.settings import redact_url, secret_values
from services.web import (
    calendar_more,
    calendar_pages,
    chat_pages,
    drive_pages,
    feedback_pages,
    group_pages,
    live,
    my_data_pages,
    notification_pages,
    pages,
    roles_pages,
    task_pages,
)
from services.web.context import CsrfRefused, Ctx, context, referer_path
from services.web.gateway import Expired, Gateway
from services.web.session import COOKIE, LANG_COOKIE, Sealer, Session
from services.web.settings import Settings
from services.web.texts import TEXTS, text

log = get_logger(__name__)
HERE = Path(__file__).resolve().parent
#: a live stream with nothing from the gateway for this long (not even its keep-alive) is ended; the
#: browser reconnects
STREAM_READ_S = 90.0
#: how long a stopping web client waits for the open live streams before it cuts them
SHUTDOWN_GRACE_S = 5
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def create_app(settings: Settings | None = None, *, started: Callable[[], None] | None = None) -> FastAPI:
    """``started``: called once the app has started (the entry point freezes the heap then)."""
    settings = settings or Settings()
    sealer = Sealer(settings.session_key, settings.web_session_max_age_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        setup_logging("web", settings.log_format, settings.log_level, secrets=secret_values(settings))
        http = httpx.AsyncClient(base_url=settings.gateway_url, timeout=settings.web_gateway_timeout_s)
        # the live streams: quiet for a while between events (the gateway's keep-alive comes every 15 s), as
        # many at once as pages are open, each for minutes
        streams = httpx.AsyncClient(base_url=settings.gateway_url,
                                    timeout=httpx.Timeout(settings.web_gateway_timeout_s, read=STREAM_READ_S),
                                    limits=httpx.Limits(max_connections=None, max_keepalive_connections=20))
        app.state.http = http
        app.state.gateway = Gateway(http, settings.forwarded_secret.get_secret_value(), streams)
        log.info("web_started", gateway=redact_url(settings.gateway_url), port=settings.web_port)
        if started is not None:
            started()
        yield
        await http.aclose()
        await streams.aclose()

    app = FastAPI(title="HR-mnenie web", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.sealer = sealer
    app.state.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(),
                                trim_blocks=True, lstrip_blocks=True)

    def cookies(ctx: Ctx, response: Response) -> None:
        secure = settings.cookies_secure
        response.set_cookie(COOKIE, sealer.seal(ctx.session), max_age=settings.web_session_max_age_s,
                            httponly=True, samesite="lax", secure=secure, path="/")

    app.state.cookies = cookies
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(pages.router)
    app.include_router(group_pages.router)
    app.include_router(chat_pages.router)
    app.include_router(task_pages.router)
    app.include_router(drive_pages.router)
    app.include_router(calendar_pages.router)
    app.include_router(calendar_more.router)
    app.include_router(roles_pages.router)
    app.include_router(feedback_pages.router)
    app.include_router(notification_pages.router)
    app.include_router(my_data_pages.router)
    app.include_router(live.router)
    #: live streams relayed now (each holds a connection to the gateway until its browser goes)
    app.state.relays = 0

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz():
        try:
            response = await app.state.http.get("/healthz", timeout=3.0)
            ok = response.status_code == 200
        except httpx.HTTPError:
            ok = False
        if not ok:
            return JSONResponse({"status": "not_ready", "reason": "gateway_unreachable"}, status_code=503)
        return {"status": "ready"}

    @app.exception_handler(CsrfRefused)
    async def on_csrf(request: Request, exc: CsrfRefused):
        ctx = context(request)
        return await ctx.refuse(403, ctx.t("bad_request_title"), ctx.t("csrf_refused"))

    @app.exception_handler(Expired)
    async def on_expired(request: Request, exc: Expired):
        ctx = context(request)
        back = ctx.path if request.method == "GET" else referer_path(request)
        ctx.session.sign_out()
        ctx.session.say("info", "session_expired")
        return ctx.redirect(f"/login?next={quote(back, safe='')}")

    @app.exception_handler(httpx.HTTPError)
    async def on_gateway_away(request: Request, exc: httpx.HTTPError):
        ctx = context(request)
        ctx.quiet = True  # the page saying so does not wait for the gateway again
        log.warning("gateway_unreachable", error=type(exc).__name__)
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) or request.method == "GET":
            return await ctx.refuse(503, ctx.t("unavailable_title"), ctx.t("unavailable_text"))
        return await ctx.refuse(504, ctx.t("unavailable_title"), ctx.t("outcome_unknown_text"))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException):
        ctx = context(request)
        if exc.status_code == 413:
            return await ctx.refuse(413, ctx.t("bad_request_title"),
                                    ctx.t("too_large", limit=settings.web_max_body_bytes))
        if exc.status_code == 404:
            return await ctx.refuse(404, ctx.t("not_found_title"), ctx.t("not_found_text"))
        return await ctx.refuse(exc.status_code, ctx.t("bad_request_title"), ctx.t("not_found_text"))

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError):
        ctx = context(request)
        return await ctx.refuse(404, ctx.t("not_found_title"), ctx.t("not_found_text"))

    def refuse_body(scope, limit: int, close: bool):
        lang = "ru"
        for key, value in scope.get("headers", []):
            if key == b"cookie" and f"{LANG_COOKIE}=en".encode() in value:
                lang = "en"
        title, detail = text("bad_request_title", lang), text("too_large", lang, limit=limit)
        html = app.state.env.get_template("status.html").render(
            ctx=None, t=lambda c, **p: text(c, lang, **p), s=Session(), flash=None, title=title, detail=detail,
            lang=lang)
        return HTMLResponse(html, status_code=413, headers={"Connection": "close"} if close else {})

    # a file's upload is streamed on to the gateway, which limits it (the file's size, the group's quota)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.web_max_body_bytes, refuse=refuse_body,
                       streamed=drive_pages.UPLOAD_PATHS)
    app.add_middleware(SecurityHeaders)
    assert set(TEXTS)  # the texts load at build time, not on the first page
    return app


class SecurityHeaders:
    """Every answer: no script, style or frame from anywhere else, no sniffing, no referrer (a join
    page's address holds its invitation)."""

    HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                own = message.get("headers", [])
                # an answer with a policy of its own (the map's picture: stricter still) keeps it alone
                mine = [h for h in self.HEADERS if h[0] != b"content-security-policy"
                        or not any(k.lower() == b"content-security-policy" for k, _ in own)]
                message["headers"] = [*own, *mine]
            await send(message)

        await self.app(scope, receive, with_headers)
