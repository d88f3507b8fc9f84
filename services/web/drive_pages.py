"""A working group's shared drive: its files (/groups/{id}/drive: names, sizes, versions, who and when,
the space used of the quota, uploading, renaming, binning), one file (/groups/{id}/drive/files/{file_id}:
its versions, each downloadable, and a new version) and the bin (/groups/{id}/drive/bin: restore, erase
for good, when each is purged).

Files pass through the web client, never held by it: an upload is the file itself as the request's body
(the page's script sends it with XMLHttpRequest, showing its progress), streamed on to the gateway as it
arrives (the body-size limit leaves these paths alone: ``UPLOAD_PATHS``); a download is the gateway's
answer streamed back with its type, name and length. Every other form is one call of the public API
(/v1/groups/{id}/files...), with CSRF, and a redirect back with what was done.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect

from services.web.context import Ctx, Form, Page, context
from services.web.gateway import Answer, Expired, Gateway
from services.web.pages import ID, _refused, _sign_in_first, _text

router = APIRouter(include_in_schema=False)

#: the web routes whose bodies are files, streamed on to the gateway (BodyLimitMiddleware's ``streamed``)
UPLOAD_PATHS = re.compile(r"^/groups/[A-Za-z0-9_-]{1,64}/drive/files(/[A-Za-z0-9_-]{1,64}/versions)?$")
#: a file's name as the API takes it (it says what is wrong with a longer one)
NAME_LIMIT = 255
#: what is still read and dropped of a body the gateway refused before it took it all, so that the browser
#: sees the refusal rather than a cut connection; past it the connection is closed
DRAIN_BYTES = 64 * 1024 * 1024
#: a file on its way (either direction) may pause this long between two pieces
PIECE_WAIT_S = 120.0
#: what a download passes on of the gateway's answer
PASSED_ON = ("content-type", "content-disposition", "content-length", "etag", "x-file-version")
CLOSE = {"Connection": "close"}
UNITS = ("size_b", "size_kb", "size_mb", "size_gb")


def _drive_url(group_id: str) -> str:
    return f"/groups/{group_id}/drive"


def _file_url(group_id: str, file_id: str) -> str:
    return f"/groups/{group_id}/drive/files/{file_id}"


def human_size(ctx: Ctx, size: int | None) -> str:
    """1536 -> "1,5 КБ" / "1.5 KB"."""
    value, unit = float(size or 0), 0
    while value >= 1024 and unit < len(UNITS) - 1:
        value, unit = value / 1024, unit + 1
    shown = f"{value:.0f}" if unit == 0 or value >= 100 else f"{value:.1f}".rstrip("0").rstrip(".")
    return ctx.t(UNITS[unit], n=shown.replace(".", ",") if ctx.lang == "ru" else shown)


def _shown(ctx: Ctx, item: dict) -> dict:
    return {**item, "size_text": human_size(ctx, item.get("size")), "updated": ctx.when(item.get("updated_at")),
            "purge": ctx.when(item.get("purge_at")), "binned_when": ctx.when(item.get("binned_at"))}


def _space(ctx: Ctx, listing: dict) -> dict:
    used, quota = int(listing.get("used_bytes") or 0), int(listing.get("quota_bytes") or 0)
    biggest = int(listing.get("max_file_bytes") or 0)
    return {"used": used, "quota": quota, "free": max(quota - used, 0), "max_file": biggest,
            "used_text": human_size(ctx, used), "quota_text": human_size(ctx, quota),
            "max_file_text": human_size(ctx, biggest), "percent": min(100, round(100 * used / quota)) if quota else 0}


def _refusal(answer: Answer) -> str:
    """The API's words on a refusal: its title, and its detail when it gives one (the limit)."""
    detail = answer.body.get("detail") if isinstance(answer.body, dict) else None
    return f"{answer.title} {detail}".strip() if isinstance(detail, str) and detail else answer.title


def _managing(ctx: Ctx, group: dict) -> bool:
    return bool(group.get("is_coordinator")) or ctx.has("moderator", "admin")


# ------------------------------------------------------------------ pages


async def _drive(ctx: Ctx, group_id: str, *, binned: bool = False, status: int = 200,
                 error: str | None = None) -> Response:
    group_answer, files_answer = await asyncio.gather(
        ctx.api("GET", f"/v1/groups/{group_id}"),
        ctx.api("GET", f"/v1/groups/{group_id}/files", params={"bin": "true"} if binned else None))
    if not group_answer.ok:
        return await _refused(ctx, group_answer)
    if not files_answer.ok:
        return await _refused(ctx, files_answer)
    group = group_answer.body
    items = [_shown(ctx, f) for f in files_answer.body["items"]]
    writable = bool(group.get("is_member")) and group.get("status") == "active"
    return await ctx.render("drive_bin.html" if binned else "drive.html", status=status, group=group, items=items,
                            space=_space(ctx, files_answer.body), writable=writable,
                            managing=_managing(ctx, group), error=error)


async def _file(ctx: Ctx, group_id: str, file_id: str, *, status: int = 200, error: str | None = None) -> Response:
    group_answer, file_answer, files_answer = await asyncio.gather(
        ctx.api("GET", f"/v1/groups/{group_id}"), ctx.api("GET", f"/v1/groups/{group_id}/files/{file_id}"),
        ctx.api("GET", f"/v1/groups/{group_id}/files"))
    for answer in (group_answer, file_answer, files_answer):
        if not answer.ok:
            return await _refused(ctx, answer)
    group, item = group_answer.body, _shown(ctx, file_answer.body)
    versions = [{**v, "size_text": human_size(ctx, v.get("size")), "when": ctx.when(v.get("uploaded_at"))}
                for v in reversed(item.get("versions") or [])]
    writable = bool(group.get("is_member")) and group.get("status") == "active" and not item.get("binned")
    return await ctx.render("drive_file.html", status=status, group=group, item=item, versions=versions,
                            space=_space(ctx, files_answer.body), writable=writable, error=error)


@router.get("/groups/{group_id}/drive")
async def drive_page(ctx: Page, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _drive(ctx, group_id)


@router.get("/groups/{group_id}/drive/bin")
async def bin_page(ctx: Page, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _drive(ctx, group_id, binned=True)


@router.get("/groups/{group_id}/drive/files/{file_id}")
async def file_page(ctx: Page, group_id: str = ID(), file_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _file(ctx, group_id, file_id)


# ------------------------------------------------------------------ forms


async def _after(ctx: Ctx, answer: Answer, group_id: str, done: str, name: str = "") -> Response:
    """Back where the form was (the drive, the bin or the file) with what was done, or that page again with
    the API's refusal."""
    back = _text(ctx, "back", 10)
    file_id = _text(ctx, "file_id", 64)
    if answer.ok:
        ctx.session.say("ok", done, name=name or (answer.body or {}).get("name") or "")
        if back == "file" and file_id:
            return ctx.redirect(_file_url(group_id, file_id))
        return ctx.redirect(_drive_url(group_id) + ("/bin" if back == "bin" else ""))
    if answer.status == 401 or answer.status >= 500 or answer.code == "group_not_found":
        return await _refused(ctx, answer)
    error = next(iter(answer.field_errors().values()), None) or _refusal(answer)
    if back == "file" and file_id and answer.code != "file_not_found":
        return await _file(ctx, group_id, file_id, status=answer.status, error=error)
    return await _drive(ctx, group_id, binned=back == "bin", status=answer.status, error=error)


@router.post("/groups/{group_id}/drive/files/{file_id}/rename")
async def rename(ctx: Form, group_id: str = ID(), file_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    ctx.form["file_id"] = file_id
    name = _text(ctx, "name", NAME_LIMIT + 1)
    answer = await ctx.api("PATCH", f"/v1/groups/{group_id}/files/{file_id}", json={"name": name})
    return await _after(ctx, answer, group_id, "drive_renamed", name)


@router.post("/groups/{group_id}/drive/files/{file_id}/delete")
async def to_bin(ctx: Form, group_id: str = ID(), file_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    ctx.form["back"] = "drive"  # the file is in the bin now: its page would only say so
    answer = await ctx.api("DELETE", f"/v1/groups/{group_id}/files/{file_id}")
    return await _after(ctx, answer, group_id, "drive_binned")


@router.post("/groups/{group_id}/drive/files/{file_id}/restore")
async def restore(ctx: Form, group_id: str = ID(), file_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    ctx.form["back"] = "bin"
    answer = await ctx.api("POST", f"/v1/groups/{group_id}/files/{file_id}/restore", json={})
    return await _after(ctx, answer, group_id, "drive_restored")


@router.post("/groups/{group_id}/drive/files/{file_id}/purge")
async def purge(ctx: Form, group_id: str = ID(), file_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    ctx.form["back"] = "bin"
    name = _text(ctx, "name", NAME_LIMIT)  # a purged file has no name left to say
    answer = await ctx.api("DELETE", f"/v1/groups/{group_id}/bin/{file_id}")
    return await _after(ctx, answer, group_id, "drive_purged", name)


# ------------------------------------------------------------------ files through: uploads and downloads


def _timeout(ctx: Ctx) -> httpx.Timeout:
    return httpx.Timeout(ctx.settings.web_gateway_timeout_s, read=PIECE_WAIT_S, write=PIECE_WAIT_S)


def _upstream_headers(ctx: Ctx) -> dict[str, str]:
    gateway: Gateway = ctx.app.state.gateway
    return gateway._headers(ctx.session, ctx.lang, ctx.address)


def _said(ctx: Ctx, status: int, error: str, location: str | None = None,
          headers: dict[str, str] | None = None) -> Response:
    """What the page's script hears of an upload: where to go next, or what to say."""
    body: dict[str, Any] = {"location": location} if location else {"error": error}
    return ctx.send(JSONResponse(body, status_code=status, headers=headers))


def _csrf_ok(request: Request, ctx: Ctx) -> bool:
    """As for a form (services.web.context.form_context), the token coming in a header: the body is the file."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        return False
    token = request.headers.get("x-csrf-token") or ""
    return not ctx.fresh and hmac.compare_digest(token.encode(), ctx.session.csrf.encode())


async def _drain(source) -> bool:
    """Read and drop what is left of the browser's body; False when it goes on past DRAIN_BYTES."""
    seen = 0
    try:
        async for piece in source:
            seen += len(piece)
            if seen > DRAIN_BYTES:
                return False
    except ClientDisconnect:
        return False
    return True


async def _unsent(ctx: Ctx, source, status: int, error: str) -> Response:
    """A refused upload: what is left of its body is read and dropped first (a browser still sending
    would see a cut connection rather than the refusal), or the connection closed past DRAIN_BYTES."""
    drained = await _drain(source)
    return _said(ctx, status, error, headers=None if drained else CLOSE)


async def _upload(request: Request, group_id: str, file_id: str | None, name: str) -> Response:
    ctx = context(request)
    if (request.headers.get("content-type") or "").lower().startswith("multipart/form-data"):
        # the form sent by a browser without the page's script: it cannot stream, the page says so
        refused = await ctx.refuse(400, ctx.t("bad_request_title"), ctx.t("drive_needs_js"))
        refused.headers.update(CLOSE)  # its body is not read
        return refused
    if not ctx.session.signed_in:
        return _said(ctx, 401, ctx.t("login_required_page"), headers=CLOSE)
    if not _csrf_ok(request, ctx):  # a stranger's body is not read at all
        return _said(ctx, 403, ctx.t("csrf_refused"), headers=CLOSE)
    # a read first: it renews the session's token if it must (a streamed body cannot be sent twice), and
    # an outsider or a missing file is told before a byte is sent on
    try:
        checked = await ctx.api("GET", f"/v1/groups/{group_id}/files" + (f"/{file_id}" if file_id else ""))
    except Expired:
        ctx.session.sign_out()
        return await _unsent(ctx, request.stream(), 401, ctx.t("session_expired"))
    if not checked.ok:
        return await _unsent(ctx, request.stream(), checked.status, _refusal(checked))
    headers = {**_upstream_headers(ctx), "Content-Type": request.headers.get("content-type")
               or "application/octet-stream", "Accept": "application/json"}
    if (declared := request.headers.get("content-length")) is not None:
        headers["Content-Length"] = declared
    source = request.stream()

    async def body():
        async for piece in source:
            yield piece

    path = f"/v1/groups/{group_id}/files" + (f"/{file_id}/versions" if file_id else "")
    http: httpx.AsyncClient = ctx.app.state.http
    try:
        response = await http.post(path, params=None if file_id else {"name": name[:NAME_LIMIT + 1]},
                                   content=body(), headers=headers, timeout=_timeout(ctx))
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is there to hear it
    except httpx.HTTPError:
        return _said(ctx, 503, ctx.t("drive_upload_failed"), headers=CLOSE)
    try:
        reply = response.json()
    except ValueError:
        reply = None
    answer = Answer(response.status_code, reply)
    if answer.ok:
        ctx.session.say("ok", "drive_new_version" if file_id else "drive_uploaded", name=reply.get("name") or "")
        return _said(ctx, 201, "", _file_url(group_id, file_id) if file_id else _drive_url(group_id))
    error = next(iter(answer.field_errors().values()), None) or _refusal(answer) or ctx.t("drive_upload_failed")
    return await _unsent(ctx, source, answer.status if answer.status < 500 else 503, error)


@router.post("/groups/{group_id}/drive/files")
async def upload_file(request: Request, group_id: str = ID(), name: str = "") -> Response:
    """The file is the body (the script sends it as it is); its name comes in the address."""
    return await _upload(request, group_id, None, name)


@router.post("/groups/{group_id}/drive/files/{file_id}/versions")
async def upload_version(request: Request, group_id: str = ID(), file_id: str = ID()) -> Response:
    return await _upload(request, group_id, file_id, "")


async def _download(ctx: Ctx, group_id: str, file_id: str, version: int | None) -> Response:
    ctx.quiet = True  # a file, not a page: no navigation counts are read for it
    # a read first: it renews the token if it must, and a refusal is a page in the person's words
    checked = await ctx.api("GET", f"/v1/groups/{group_id}/files/{file_id}")
    if not checked.ok:
        return await _refused(ctx, checked)
    http: httpx.AsyncClient = ctx.app.state.http
    path = f"/v1/groups/{group_id}/files/{file_id}" + (f"/versions/{version}" if version else "") + "/content"
    request = http.build_request("GET", path, headers=_upstream_headers(ctx), timeout=_timeout(ctx))
    response = await http.send(request, stream=True)
    if response.status_code != 200:
        await response.aread()
        await response.aclose()
        try:
            reply = response.json()
        except ValueError:
            reply = None
        answer = Answer(response.status_code, reply)
        if answer.status == 409:  # binned meanwhile
            return await ctx.refuse(409, ctx.t("bad_request_title"), answer.title)
        return await _refused(ctx, answer)
    headers = {k: response.headers[k] for k in PASSED_ON if k in response.headers}
    headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return ctx.send(StreamingResponse(response.aiter_raw(), status_code=200, headers=headers,
                                      background=BackgroundTask(response.aclose)))


@router.get("/groups/{group_id}/drive/files/{file_id}/download")
async def download(ctx: Page, group_id: str = ID(), file_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _download(ctx, group_id, file_id, None)


@router.get("/groups/{group_id}/drive/files/{file_id}/versions/{version}/download")
async def download_version(ctx: Page, group_id: str = ID(), file_id: str = ID(),
                           version: int = Path(ge=1, le=2**31)) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _download(ctx, group_id, file_id, version)
