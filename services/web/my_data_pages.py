"""My data (issue 17, docs/adr/0024): the member asks for everything the platform holds about them and sees
which parts are in (/my-data), reads it as a page or downloads it as JSON or HTML once every part is
(/my-data/export.json, /my-data/export.html), and withdraws their consent (/my-data/withdraw): a page that
says plainly what goes, what stays without their name and that it cannot be undone, and erases only when the
word it asks for is typed.

Each page is a call or two of the gateway's public API (/v1/me/data…, /v1/me/consent/withdrawal); the
download is the gateway's JSON as the services answered, put in words here (a label per key the page knows,
the key itself otherwise) without adding anything."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from services.web.context import Ctx, Form, Page
from services.web.pages import _refused, _sign_in_first, _text

router = APIRouter(include_in_schema=False)

#: the services' parts in the order the page shows them
ORDER = ("onboarding", "groups", "calendar", "roles", "feedback", "notifications")


def _web_links(data: Any) -> Any:
    """The download's file links are the API's; on the page they open the web client's download."""
    if isinstance(data, dict):
        out = {k: _web_links(v) for k, v in data.items()}
        if {"group_id", "file_id", "version", "link"} <= out.keys():
            out["link"] = f"/groups/{out['group_id']}/drive/files/{out['file_id']}/versions/{out['version']}/download"
        return out
    if isinstance(data, list):
        return [_web_links(v) for v in data]
    return data


@router.get("/my-data")
async def my_data_page(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("GET", "/v1/me/data")
    if not answer.ok:
        return await _refused(ctx, answer)
    return await _page(ctx, answer.body)


async def _page(ctx: Ctx, state: dict, status: int = 200, error: str | None = None) -> Response:
    received = sum(1 for p in state["parts"] if p["status"] == "received")
    return await ctx.render("my_data.html", status=status, state=state, received=received, error=error)


@router.post("/my-data/request")
async def request_my_data(ctx: Form) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("POST", "/v1/me/data")
    if answer.ok:
        ctx.session.say("ok", "md_requested")
        return ctx.redirect("/my-data")
    if answer.status != 409:
        return await _refused(ctx, answer)
    state = await ctx.api("GET", "/v1/me/data")  # already being gathered: said, beside what is awaited
    if not state.ok:
        return await _refused(ctx, state)
    return await _page(ctx, state.body, status=409, error=answer.title)


async def _export(ctx: Ctx) -> tuple[dict | None, Response | None]:
    if (back := _sign_in_first(ctx)) is not None:
        return None, back
    answer = await ctx.api("GET", "/v1/me/data/export.json")
    if not answer.ok:
        if answer.status == 409:
            return None, await ctx.refuse(409, ctx.t("md_title"), answer.title)
        return None, await _refused(ctx, answer)
    return answer.body, None


@router.get("/my-data/export.json")
async def download_json(ctx: Page) -> Response:
    export, refused = await _export(ctx)
    if refused is not None:
        return refused
    body = json.dumps(export, ensure_ascii=False, indent=2)
    return ctx.send(Response(body, media_type="application/json", headers={
        "Content-Disposition": 'attachment; filename="my-data.json"'}))


@router.get("/my-data/export.html")
async def view_html(ctx: Page, download: bool = False) -> Response:
    """A page of its own (no navigation, no script, its style inline): the same whether read here or
    saved and opened later."""
    export, refused = await _export(ctx)
    if refused is not None:
        return refused
    assert export is not None
    services = export["services"]
    parts = [(s, _web_links(services[s])) for s in (*ORDER, *sorted(set(services) - set(ORDER))) if s in services]
    page = ctx.app.state.env.get_template("my_data_export.html")
    html = page.render(t=ctx.t, lang=ctx.lang, export=export, parts=parts, when=ctx.when)
    headers = {"Content-Language": ctx.lang, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    if download:
        headers["Content-Disposition"] = 'attachment; filename="my-data.html"'
    return ctx.send(Response(html, media_type="text/html; charset=utf-8", headers=headers))


@router.get("/my-data/withdraw")
async def withdraw_page(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await ctx.render("my_data_withdraw.html", error=None, errors={})


@router.post("/my-data/withdraw")
async def withdraw(ctx: Form) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("POST", "/v1/me/consent/withdrawal", json={"confirmation": _text(ctx, "confirmation", 50)})
    if answer.ok:
        ctx.session.sign_out()
        return await ctx.render("status.html", title=ctx.t("md_withdrawn_title"), detail=ctx.t("md_withdrawn"))
    if answer.status in (401, 403) or answer.status >= 500:
        return await _refused(ctx, answer)
    errors = {"confirmation": answer.title} if answer.code == "withdrawal_not_confirmed" else {}
    return await ctx.render("my_data_withdraw.html", status=answer.status, error=answer.title, errors=errors)
