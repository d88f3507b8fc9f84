"""The working groups' pages and the Main group's announcements: the directory, proposing a group, a
group's page (about, members, the call room and its calls, joining and leaving, what its coordinators
and the moderators do), join requests, proposals, the map, announcements.

Each page is a call or two of the gateway's public API (/v1/groups, /v1/announcements, and
/v1/colleagues to pick whom to invite) and a template: the API decides who may see and do what, a
page only leaves out the buttons that would certainly be refused.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter
from fastapi.responses import Response

from services.web.context import Ctx, Form, Page
from services.web.gateway import Answer
from services.web.pages import ID, _refused, _sign_in_first, _text
from services.web.roles_pages import map_vacancies

router = APIRouter(include_in_schema=False)

#: the types a community starts with (a type it adds is listed once a group of it exists, by its id)
GROUP_TYPES = ("game_team", "research", "practice")
SETTINGS = {"visibility": ("main", "members"), "content": ("main", "members"),
            "joining": ("open", "request", "invitation")}
DEFAULT_SETTINGS = {"visibility": "main", "content": "members", "joining": "request"}
#: the map's picture: an SVG drawn by the platform, shown in an <img> (where no script runs anyway);
#: opened on its own it may load nothing and run nothing either
MAP_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
#: proposals whose whole page the moderators' list reads at once (a community has a handful)
PROPOSALS_READ = 30
#: ending where one stands before joining: the API's command, and what the page says once it is done
ENDING = {"requested": ("requests/mine/withdraw", "request_withdrawn"),
          "invited": ("invitations/decline", "invitation_declined")}
#: how the directory marks a group by where the caller stands in it
MY_STATE_MARKS = {"member": "you_are_member", "requested": "you_requested", "invited": "you_are_invited"}
#: past calls one page lists, newest first (the API gives up to 200 at once and no cursor)
PAST_CALLS = 50


def _managing(ctx: Ctx, group: dict) -> bool:
    """The group's coordinators and the moderators run a group (the API checks it again on every action)."""
    return bool(group.get("is_coordinator")) or ctx.has("moderator", "admin")


def _link(url: Any) -> str | None:
    """A link the page may put in an href: the web's own schemes only (never ``javascript:``)."""
    if not isinstance(url, str) or len(url) > 2000:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("https", "http") and parts.netloc else None


def _types(items: list[dict]) -> list[str]:
    return list(dict.fromkeys([*GROUP_TYPES, *(i["group_type"] for i in items)]))


# ------------------------------------------------------------------ the directory


@router.get("/groups")
async def groups_page(ctx: Page, q: str = "", group_type: str = "") -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    params = {"q": q.strip()[:100]} if q.strip() else {}
    if group_type:
        params["group_type"] = group_type[:40]
    answer = await ctx.api("GET", "/v1/groups", params=params)
    values = {"q": q[:100], "group_type": group_type[:40]}
    if answer.status == 422:
        return await ctx.render("groups.html", status=422, items=(), values=values, types=GROUP_TYPES,
                                proposals=None, error=answer.title)
    if not answer.ok:
        return await _refused(ctx, answer)
    proposals = None
    if ctx.has("moderator", "admin"):
        pending = await ctx.api("GET", "/v1/groups", params={"status": "proposed"})
        proposals = len(pending.body["items"]) if pending.ok else None
    items = answer.body["items"]
    for g in items:  # a gateway without my_state: a member or not
        g["mark"] = MY_STATE_MARKS.get(g.get("my_state") or ("member" if g.get("is_member") else "none"))
    return await ctx.render("groups.html", items=items, values=values, types=_types(items), proposals=proposals,
                            error=None)


# ------------------------------------------------------------------ proposing a group


async def _configured_types(ctx: Ctx) -> tuple[Answer, list[dict]]:
    """The types the community configured, as the map lists them (to the same people who may propose)."""
    answer = await ctx.api("GET", "/v1/groups/map")
    types = [{"group_type": k["group_type"], "title": k.get("title")} for k in answer.body.get("types") or ()] \
        if answer.ok else []
    return answer, types or [{"group_type": gt, "title": None} for gt in GROUP_TYPES]


async def _propose_page(ctx: Ctx, values: dict, errors: dict, status: int = 200,
                        error: str | None = None) -> Response:
    _, types = await _configured_types(ctx)
    return await ctx.render("group_new.html", status=status, values=values, errors=errors, error=error, types=types,
                            settings=SETTINGS)


@router.get("/groups/new")
async def propose_page(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    allowed, types = await _configured_types(ctx)  # the API says who may propose
    if not allowed.ok and allowed.status in (401, 403):
        return await _refused(ctx, allowed)
    values = {"title": "", "description": "", "group_type": types[0]["group_type"], "direct": False,
              **DEFAULT_SETTINGS}
    return await ctx.render("group_new.html", values=values, errors={}, error=None, types=types, settings=SETTINGS)


@router.post("/groups/new")
async def propose(ctx: Form) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    values: dict[str, Any] = {"title": _text(ctx, "title", 1000), "description": _text(ctx, "description", 10000),
                              "group_type": _text(ctx, "group_type", 100)}
    for name, default in DEFAULT_SETTINGS.items():
        values[name] = _text(ctx, name, 100) or default
    values["direct"] = ctx.form.get("direct") == "yes"
    body = {"title": values["title"], "description": values["description"], "group_type": values["group_type"],
            "settings": {k: values[k] for k in SETTINGS}, "direct": values["direct"]}
    answer = await ctx.api("POST", "/v1/groups", json=body)
    if answer.status in (401, 403):
        return await _refused(ctx, answer)
    if not answer.ok:
        errors = answer.field_errors()
        if answer.code == "unknown_group_type":
            errors["group_type"] = answer.title
        return await _propose_page(ctx, values, errors, status=answer.status,
                                   error=ctx.t("fix_errors") if errors else answer.title)
    ctx.session.say("ok", "created_done" if answer.body.get("status") == "active" else "proposed_done")
    return ctx.redirect(f"/groups/{answer.body['group_id']}")


# ------------------------------------------------------------------ moderators: proposals


async def _proposals_page(ctx: Ctx, status: int = 200, errors: dict | None = None,
                          reasons: dict | None = None) -> Response:
    answer = await ctx.api("GET", "/v1/groups", params={"status": "proposed"})
    if not answer.ok:
        return await _refused(ctx, answer)
    listed = answer.body["items"][:PROPOSALS_READ]
    pages = await asyncio.gather(*(ctx.api("GET", f"/v1/groups/{g['group_id']}") for g in listed))
    items = [p.body if p.ok else {**g, "description": ""} for g, p in zip(listed, pages, strict=True)]
    return await ctx.render("proposals.html", status=status, items=items, more=len(answer.body["items"]) - len(listed),
                            decision_errors=errors or {}, decision_reasons=reasons or {}, from_list=True)


@router.get("/groups/proposals")
async def proposals_page(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _proposals_page(ctx)


# ------------------------------------------------------------------ the map


@router.get("/groups/map")
async def map_page(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("GET", "/v1/groups/map")
    if not answer.ok:
        return await _refused(ctx, answer)
    types = answer.body.get("types") or ()
    for kind in types:
        for g in kind.get("groups") or ():
            g["roles"] = map_vacancies(g.get("vacancies"))
    return await ctx.render("groups_map.html", types=types)


@router.get("/groups/map.svg")
async def map_picture(ctx: Page) -> Response:
    """The gateway's drawing, passed on as it is only when it is an SVG; its own strict policy goes with it."""
    if not ctx.session.signed_in:
        return ctx.send(Response(status_code=401))
    answer = await ctx.api("GET", "/v1/groups/map.svg")
    if not answer.ok or answer.content_type != "image/svg+xml":
        return ctx.send(Response(status_code=answer.status if 400 <= answer.status < 500 else 502))
    return ctx.send(Response(answer.content, media_type="image/svg+xml",
                             headers={"Content-Security-Policy": MAP_CSP, "Content-Language": ctx.lang}))


# ------------------------------------------------------------------ a group's page


async def _group_page(ctx: Ctx, group_id: str, status: int = 200, error: str | None = None,
                      managers_only: bool = False, **extra: Any) -> Response:
    """The group's page; ``managers_only``: a form only its coordinators and the moderators have was refused
    before it reached the API, and anyone else gets the page that says no (a forged form learns nothing)."""
    answer = await ctx.api("GET", f"/v1/groups/{group_id}")
    if not answer.ok:
        return await _refused(ctx, answer)
    group = answer.body
    managing = _managing(ctx, group)
    if managers_only and not managing:
        return await ctx.refuse(403, ctx.t("forbidden_title"), ctx.t("forbidden_text"))
    active = group["status"] == "active"
    coordinators = {c["member_id"] for c in group.get("coordinators") or ()}
    for person in group.get("members") or ():
        person["coordinates"] = person["member_id"] in coordinators
    requests = None
    if managing and active:
        pending = await ctx.api("GET", f"/v1/groups/{group_id}/requests")
        requests = len(pending.body["items"]) if pending.ok else None
    who = str(extra.pop("who", "") or "")[:100]
    found, found_error = None, None
    if managing and active and who.strip():
        colleagues = await ctx.api("GET", "/v1/colleagues", params={"q": who.strip()})
        if colleagues.ok:
            inside = {m["member_id"] for m in group.get("members") or ()}
            found = [c for c in colleagues.body["items"] if c["member_id"] not in inside]
        else:
            found_error = colleagues.title or ctx.t("unavailable_text")
    me = ctx.session.member_id
    calls = group.get("calls")
    for call in calls or ():
        call["cancellable"] = call.get("scheduled_by") == me or managing
    values = {"visibility": group["settings"]["visibility"], "content": group["settings"]["content"],
              "joining": group["settings"]["joining"]}
    # where the caller stands (a gateway without my_state: a member or not)
    my_state = group.get("my_state") or ("member" if group["is_member"] else "none")
    return await ctx.render(
        "group.html", status=status, group=group, error=error, managing=managing, active=active, my_state=my_state,
        requests=requests, who=who, found=found, found_error=found_error, room=_link(group.get("room_url")),
        has_calls="calls" in group, calls=calls, settings=SETTINGS, values=values,
        may_schedule=active and (group["is_member"] or ctx.has("moderator", "admin")),
        call_values=extra.pop("call_values", {"topic": "", "starts_at": "", "duration_minutes": "60"}),
        call_errors=extra.pop("call_errors", {}), decision_reasons=extra.pop("decision_reasons", {}),
        join_message=extra.pop("join_message", ""), archive_error=extra.pop("archive_error", None),
        settings_error=extra.pop("settings_error", None), remove_errors=extra.pop("remove_errors", {}),
        remove_reasons=extra.pop("remove_reasons", {}))


async def _after(ctx: Ctx, answer: Answer, group_id: str, done: str, to: str | None = None,
                 **extra: Any) -> Response:
    """The group's page again: with the outcome said on success, with the API's refusal said on it otherwise."""
    if answer.ok:
        ctx.session.say("ok", done)
        return ctx.redirect(to or f"/groups/{group_id}")
    return await _group_page(ctx, group_id, status=answer.status if answer.status < 500 else 503,
                             error=answer.title or ctx.t("unavailable_text"), **extra)


@router.get("/groups/{group_id}")
async def group_page(ctx: Page, group_id: str = ID(), who: str = "") -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _group_page(ctx, group_id, who=who)


@router.post("/groups/{group_id}/join")
async def join_group(ctx: Form, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    message = _text(ctx, "message", 5000)
    answer = await ctx.api("POST", f"/v1/groups/{group_id}/join", json={"message": message})
    state = answer.body.get("state") if answer.ok else None
    return await _after(ctx, answer, group_id, "requested_done" if state == "requested" else "joined_done",
                        join_message=message)


@router.post("/groups/{group_id}/accept")
async def accept_invitation(ctx: Form, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("POST", f"/v1/groups/{group_id}/invitations/accept")
    return await _after(ctx, answer, group_id, "joined_done")


@router.post("/groups/{group_id}/leave")
async def leave_group(ctx: Form, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    # a page rendered before withdraw and decline had their own forms posts here with ``state``: that
    # click means the request or the invitation, never the membership it may have become since
    meant = _text(ctx, "state", 20)
    if meant in ENDING:
        return await _end_before_joining(ctx, group_id, meant)
    answer = await ctx.api("POST", f"/v1/groups/{group_id}/leave")
    # to the directory: a hidden group is no longer there for one who left it
    return await _after(ctx, answer, group_id, "left_done", to="/groups")


async def _end_before_joining(ctx: Ctx, group_id: str, state: str) -> Response:
    """Withdraw one's request or decline one's invitation. The API leaves a membership alone (the request
    approved or the invitation accepted since the page was read) and its answer says where one stands."""
    path, done = ENDING[state]
    answer = await ctx.api("POST", f"/v1/groups/{group_id}/{path}")
    if not answer.ok:
        return await _after(ctx, answer, group_id, done)
    now = answer.body.get("state")
    if now == "member":
        ctx.session.say("info", "already_member")
        return ctx.redirect(f"/groups/{group_id}")
    if now != "none":  # nothing of this kind to end (say, an invitation where a request was meant): the page says
        return ctx.redirect(f"/groups/{group_id}")
    # the group's page again while they may still see it (a hidden group is gone with the invitation)
    still = await ctx.api("GET", f"/v1/groups/{group_id}")
    return await _after(ctx, answer, group_id, done, to=None if still.ok else "/groups")


@router.post("/groups/{group_id}/withdraw")
async def withdraw_request(ctx: Form, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _end_before_joining(ctx, group_id, "requested")


@router.post("/groups/{group_id}/decline")
async def decline_invitation(ctx: Form, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _end_before_joining(ctx, group_id, "invited")


@router.post("/groups/{group_id}/decision")
async def decide_group(ctx: Form, group_id: str = ID()) -> Response:
    """A moderator approves or declines a proposal, on its page or in the list of proposals."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    decision, reason = _text(ctx, "decision", 20), _text(ctx, "reason", 5000)
    from_list = _text(ctx, "back", 40) == "proposals"
    answer = await ctx.api("POST", f"/v1/groups/{group_id}/decision",
                           json={"decision": decision, "reason": reason or None})
    done = "group_declined" if decision == "decline" else "group_approved"
    if not from_list:
        return await _after(ctx, answer, group_id, done, decision_reasons={group_id: reason})
    if answer.ok:
        ctx.session.say("ok", done)
        return ctx.redirect("/groups/proposals")
    if answer.status in (401, 403):
        return await _refused(ctx, answer)
    return await _proposals_page(ctx, answer.status, errors={group_id: answer.title}, reasons={group_id: reason})


@router.post("/groups/{group_id}/settings")
async def change_settings(ctx: Form, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    body = {name: _text(ctx, name, 100) for name in SETTINGS}
    answer = await ctx.api("PUT", f"/v1/groups/{group_id}/settings", json=body)
    if not answer.ok and answer.status < 500:
        return await _group_page(ctx, group_id, answer.status, settings_error=answer.title)
    return await _after(ctx, answer, group_id, "settings_saved")


@router.post("/groups/{group_id}/archive")
async def archive_group(ctx: Form, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    if ctx.form.get("confirm") != "yes":
        return await _group_page(ctx, group_id, 422, archive_error=ctx.t("archive_unconfirmed"))
    answer = await ctx.api("POST", f"/v1/groups/{group_id}/archive")
    return await _after(ctx, answer, group_id, "archived_done")


@router.post("/groups/{group_id}/invite")
async def invite_member(ctx: Form, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("POST", f"/v1/groups/{group_id}/invitations",
                           json={"member_id": _text(ctx, "member_id", 100)})
    return await _after(ctx, answer, group_id, "invited_done")


@router.post("/groups/{group_id}/calls")
async def schedule_call(ctx: Form, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    values = {"topic": _text(ctx, "topic", 1000), "starts_at": _text(ctx, "starts_at", 40),
              "duration_minutes": _text(ctx, "duration_minutes", 10) or "60"}
    starts = ctx.local_time(values["starts_at"])
    if starts is None:
        return await _group_page(ctx, group_id, 422, ctx.t("fix_errors"), call_values=values,
                                 call_errors={"starts_at": ctx.t("call_when_invalid")})
    duration: Any = int(values["duration_minutes"]) if values["duration_minutes"].isdigit() \
        else values["duration_minutes"]
    answer = await ctx.api("POST", f"/v1/groups/{group_id}/calls",
                           json={"topic": values["topic"], "starts_at": starts.isoformat(),
                                 "duration_minutes": duration})
    errors = answer.field_errors() if answer.status == 422 else {}
    return await _after(ctx, answer, group_id, "call_scheduled", call_values=values, call_errors=errors)


@router.post("/groups/{group_id}/calls/{call_id}/cancel")
async def cancel_call(ctx: Form, group_id: str = ID(), call_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("DELETE", f"/v1/groups/{group_id}/calls/{call_id}")
    return await _after(ctx, answer, group_id, "call_cancelled")


@router.post("/groups/{group_id}/members/{member_id}/remove")
async def remove_member(ctx: Form, group_id: str = ID(), member_id: str = ID()) -> Response:
    """A coordinator or a moderator takes a member out: with a reason, and ticked to confirm (a click on the
    wrong name removes no one)."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    reason = _text(ctx, "reason", 5000)
    errors = {}
    if not reason:
        errors["reason"] = ctx.t("remove_reason_missing")
    if ctx.form.get("confirm") != "yes":
        errors["confirm"] = ctx.t("remove_unconfirmed")
    if errors:
        return await _group_page(ctx, group_id, 422, ctx.t("fix_errors"), managers_only=True,
                                 remove_errors={member_id: errors}, remove_reasons={member_id: reason})
    answer = await ctx.api("DELETE", f"/v1/groups/{group_id}/members/{member_id}", params={"reason": reason})
    if answer.status in (401, 403, 404):
        return await _refused(ctx, answer)
    if answer.status == 422:  # the reason as the API reads it (too long, say): said next to it
        said = answer.field_errors().get("reason") or answer.title or ctx.t("remove_reason_missing")
        return await _group_page(ctx, group_id, 422, ctx.t("fix_errors"), remove_errors={member_id: {"reason": said}},
                                 remove_reasons={member_id: reason})
    return await _after(ctx, answer, group_id, "member_removed", remove_reasons={member_id: reason})


async def _coordinator(ctx: Ctx, group_id: str, member_id: str, appoint: bool) -> Response:
    """A moderator appoints a member of the group its coordinator, or takes that away (the API checks who)."""
    answer = await ctx.api("PUT" if appoint else "DELETE", f"/v1/groups/{group_id}/coordinators/{member_id}")
    if answer.status in (401, 403, 404):
        return await _refused(ctx, answer)
    return await _after(ctx, answer, group_id, "coordinator_appointed" if appoint else "coordinator_dismissed")


@router.post("/groups/{group_id}/coordinators/{member_id}/appoint")
async def appoint_coordinator(ctx: Form, group_id: str = ID(), member_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _coordinator(ctx, group_id, member_id, appoint=True)


@router.post("/groups/{group_id}/coordinators/{member_id}/dismiss")
async def dismiss_coordinator(ctx: Form, group_id: str = ID(), member_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _coordinator(ctx, group_id, member_id, appoint=False)


@router.get("/groups/{group_id}/calls/past")
async def past_calls_page(ctx: Page, group_id: str = ID()) -> Response:
    """The group's calls that are over, newest first, for those who may read its content."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    group, calls = await asyncio.gather(
        ctx.api("GET", f"/v1/groups/{group_id}"),
        ctx.api("GET", f"/v1/groups/{group_id}/calls", params={"past": "true", "limit": str(PAST_CALLS)}))
    if not group.ok:
        return await _refused(ctx, group)
    if not calls.ok:
        return await _refused(ctx, calls)
    items = sorted(calls.body["items"], key=lambda c: datetime.fromisoformat(str(c["starts_at"])), reverse=True)
    return await ctx.render("group_calls_past.html", group=group.body, items=items,
                            more=PAST_CALLS if len(items) >= PAST_CALLS else None)


# ------------------------------------------------------------------ join requests


async def _requests_page(ctx: Ctx, group_id: str, status: int = 200, error: str | None = None,
                         errors: dict | None = None, reasons: dict | None = None) -> Response:
    group = await ctx.api("GET", f"/v1/groups/{group_id}")
    if not group.ok:
        return await _refused(ctx, group)
    answer = await ctx.api("GET", f"/v1/groups/{group_id}/requests")
    if not answer.ok:
        return await _refused(ctx, answer)
    return await ctx.render("group_requests.html", status=status, group=group.body, items=answer.body["items"],
                            error=error, errors=errors or {}, reasons=reasons or {})


@router.get("/groups/{group_id}/requests")
async def requests_page(ctx: Page, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _requests_page(ctx, group_id)


@router.post("/groups/{group_id}/requests/{member_id}")
async def decide_request(ctx: Form, group_id: str = ID(), member_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    decision, reason = _text(ctx, "decision", 20), _text(ctx, "reason", 5000)
    answer = await ctx.api("POST", f"/v1/groups/{group_id}/requests/{member_id}/decision",
                           json={"decision": decision, "reason": reason or None})
    if answer.ok:
        ctx.session.say("ok", "request_rejected" if decision == "reject" else "request_approved")
        return ctx.redirect(f"/groups/{group_id}/requests")
    if answer.code == "join_request_decided":
        return await _requests_page(ctx, group_id, 409, ctx.t("request_decided_elsewhere"))
    if answer.status in (401, 403, 404) or answer.status >= 500:
        return await _refused(ctx, answer)
    return await _requests_page(ctx, group_id, answer.status, errors={member_id: answer.title},
                                reasons={member_id: reason})


# ------------------------------------------------------------------ announcements


async def _announcements_page(ctx: Ctx, cursor: str | None = None, status: int = 200, values: dict | None = None,
                              errors: dict | None = None, error: str | None = None) -> Response:
    params = {"limit": "20", **({"cursor": cursor[:4096]} if cursor else {})}
    answer = await ctx.api("GET", "/v1/announcements", params=params)
    if answer.status == 422 and cursor:
        return await _announcements_page(ctx, None, 422, values, errors, answer.title)
    if not answer.ok:
        return await _refused(ctx, answer)
    more = answer.body.get("next_cursor")
    return await ctx.render("announcements.html", status=status, items=answer.body["items"],
                            next=f"/announcements?{urlencode({'cursor': more})}" if more else None,
                            values=values or {"title": "", "body": ""}, errors=errors or {}, error=error,
                            first=not cursor)


@router.get("/announcements")
async def announcements_page(ctx: Page, cursor: str | None = None) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _announcements_page(ctx, cursor)


@router.post("/announcements")
async def post_announcement(ctx: Form) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    values = {"title": _text(ctx, "title", 1000), "body": _text(ctx, "body", 20000)}
    answer = await ctx.api("POST", "/v1/announcements", json=values)
    if answer.ok:
        ctx.session.say("ok", "published_done")
        return ctx.redirect("/announcements")
    if answer.status in (401, 403) or answer.status >= 500:
        return await _refused(ctx, answer)
    errors = answer.field_errors()
    return await _announcements_page(ctx, None, answer.status, values, errors,
                                     ctx.t("fix_errors") if errors else answer.title)


@router.post("/announcements/{announcement_id}/withdraw")
async def withdraw_announcement(ctx: Form, announcement_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("DELETE", f"/v1/announcements/{announcement_id}")
    if not answer.ok:
        return await _refused(ctx, answer)
    ctx.session.say("ok", "withdrawn_done")
    return ctx.redirect("/announcements")
