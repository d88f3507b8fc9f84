"""The calendar's other pages: a season's results as a chart (/calendar/seasons/{id}/results), its research
(/calendar/seasons/{id}/research: tasks, offers of hours, who got which task and why), and the ICS feeds
served under the web client's own address (/calendar/feeds/...), which a calendar app can reach when the
gateway's internal address is not.

The chart is an SVG drawn here, on the server (no script): horizontal bars, each labelled with its words
and its number, and the same figures as a table for screen readers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from libs.kit.forwarding import client_address
from services.web.calendar_pages import (
    API_FEEDS,
    TITLE_LIMIT,
    WEB_FEEDS,
    _all_ok,
    _done,
    _moderating,
    _season,
)
from services.web.context import Ctx, Form, Page
from services.web.pages import ID, _sign_in_first, _text
from services.web.roles_pages import report_lines
from services.web.settings import Settings

router = APIRouter(include_in_schema=False)

#: the chart's groups of bars: (heading, [(report field, words)]); a group's bars share its scale
CHART: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("cal_chart_events", (("events_held.online_meeting", "cal_bar_online_meeting"),
                          ("events_held.game", "cal_bar_game"), ("events_held.research", "cal_bar_research"),
                          ("events_cancelled", "cal_bar_cancelled"))),
    ("cal_chart_places", (("capacity", "cal_bar_capacity"), ("places_taken", "cal_bar_places_taken"),
                          ("participants", "cal_bar_participants"), ("waitlisted", "cal_bar_waitlisted"))),
    ("cal_chart_attendance", (("registered_where_recorded", "cal_bar_registered_where_recorded"),
                              ("present", "cal_bar_present"))),
    ("cal_chart_requests", (("requests", "cal_bar_requests"), ("requests_accepted", "cal_bar_requests_accepted"),
                            ("requests_merged", "cal_bar_requests_merged"),
                            ("requests_declined", "cal_bar_requests_declined"))),
    ("cal_chart_teams", (("teams_applied", "cal_bar_teams_applied"), ("teams_confirmed", "cal_bar_teams_confirmed"),
                         ("teams_waitlisted", "cal_bar_teams_waitlisted"),
                         ("teams_declined", "cal_bar_teams_declined"))),
    ("cal_chart_research", (("research_tasks", "cal_bar_research_tasks"),
                            ("research_assigned", "cal_bar_research_assigned"),
                            ("research_volunteers", "cal_bar_research_volunteers"),
                            ("research_hours", "cal_bar_research_hours"))),
)
#: the chart's geometry (SVG user units): its width, where a bar starts, a bar's height, one row's height
WIDTH, BAR_X, BAR_H, ROW_H, HEAD_H = 400, 0, 16, 44, 34
NUMBER_ROOM = 48
#: the reasons a distribution gives, worded (``DistributionReason.code`` -> text code)
REASONS = {"largest_share_left": "cal_reason_largest_share_left", "only_one_fits": "cal_reason_only_one_fits",
           "no_volunteer_has_hours": "cal_reason_no_volunteer_has_hours"}
#: the offers whose members' names the research page looks up at once
NAMES_READ = 100
FEED_TIMEOUT_S = 15.0


def _research_url(season_id: str) -> str:
    return f"/calendar/seasons/{season_id}/research"


def _figure(report: dict, field: str) -> int:
    value: Any = report
    for part in field.split("."):
        value = value.get(part, 0) if isinstance(value, dict) else 0
    return value if isinstance(value, int) and value >= 0 else 0


def chart(ctx: Ctx, report: dict) -> dict[str, Any]:
    """The report's figures as groups of bars, each bar's place and length worked out for the SVG."""
    groups, y = [], 0
    for heading, bars in CHART:
        figures = [(field, words, _figure(report, field)) for field, words in bars]
        top = max((v for _, _, v in figures), default=0) or 1
        group: dict[str, Any] = {"heading": ctx.t(heading), "y": y + HEAD_H - 10, "bars": []}
        y += HEAD_H
        for field, words, value in figures:
            length = round((WIDTH - BAR_X - NUMBER_ROOM) * value / top)
            group["bars"].append({"key": field, "label": ctx.t(words), "value": value, "label_y": y + 15,
                                  "y": y + 21, "width": length, "number_x": BAR_X + length + 6,
                                  "number_y": y + 21 + BAR_H - 3})
            y += ROW_H
        groups.append(group)
    return {"groups": groups, "width": WIDTH, "height": y + 4, "bar_x": BAR_X, "bar_h": BAR_H}


def _attendance_rate(ctx: Ctx, report: dict) -> str | None:
    registered, present = _figure(report, "registered_where_recorded"), _figure(report, "present")
    if not registered:
        return None
    return ctx.t("cal_attendance_rate", present=present, registered=registered,
                 percent=round(100 * present / registered), events=_figure(report, "attendance_recorded"))


# ------------------------------------------------------------------ the season's results


@router.get("/calendar/seasons/{season_id}/results")
async def results_page(ctx: Page, season_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    season_answer, report_answer = await asyncio.gather(ctx.api("GET", f"/v1/seasons/{season_id}"),
                                                        ctx.api("GET", f"/v1/seasons/{season_id}/results"))
    if (refused := await _all_ok(ctx, season_answer, report_answer)) is not None:
        return refused
    report = report_answer.body
    drawn = chart(ctx, report)
    roles, others = report_lines(ctx, report.get("reports"))
    return await ctx.render("calendar_results.html", season=_season(ctx, season_answer.body), report=report,
                            chart=drawn, reports=others, roles=roles,
                            rate=_attendance_rate(ctx, report),
                            held=sum(_figure(report, f"events_held.{k}") for k in ("online_meeting", "game",
                                                                                   "research")))


# ------------------------------------------------------------------ the season's research


def reason_words(ctx: Ctx, reason: dict | None) -> str:
    """A distribution's reason (``code`` and its numbers) as a sentence; a code this client does not know yet
    is said plainly rather than shown raw."""
    if not reason:
        return ""
    code = REASONS.get(str(reason.get("code")))
    params = reason.get("params") or {}
    if code is None:
        return ctx.t("cal_reason_other")
    try:
        return ctx.t(code, **params)
    except (KeyError, IndexError, ValueError):
        return ctx.t("cal_reason_other")


@router.get("/calendar/seasons/{season_id}/research")
async def research_page(ctx: Page, season_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _research_page(ctx, season_id)


async def _research_page(ctx: Ctx, season_id: str, status: int = 200, error: str | None = None,
                         values: dict | None = None) -> Response:
    season_answer, research_answer = await asyncio.gather(ctx.api("GET", f"/v1/seasons/{season_id}"),
                                                          ctx.api("GET", f"/v1/seasons/{season_id}/research"))
    if (refused := await _all_ok(ctx, season_answer, research_answer)) is not None:
        return refused
    research = research_answer.body
    me = ctx.session.member_id
    people = list(dict.fromkeys([*(o["member_id"] for o in research.get("offers") or ()),
                                 *(t["member_id"] for t in research.get("tasks") or () if t.get("member_id"))]))
    people = [p for p in people if p != me][:NAMES_READ]
    looked = await asyncio.gather(*(ctx.api("GET", f"/v1/colleagues/{p}") for p in people))
    names = {p: a.body.get("full_name") for p, a in zip(people, looked, strict=True) if a.ok}
    if me:
        names[me] = ctx.t("you")

    def name(member_id: str | None) -> str:
        return names.get(member_id or "") or ctx.t("deleted_member")

    tasks = [{**t, "who": name(t["member_id"]) if t.get("member_id") else None, "mine": t.get("member_id") == me,
              "why": reason_words(ctx, t.get("reason"))}
             for t in sorted(research.get("tasks") or (), key=lambda t: (-t["effort_hours"], t["title"]))]
    offers = [{**o, "who": name(o["member_id"]), "mine": o["member_id"] == me} for o in research.get("offers") or ()]
    mine = next((o for o in offers if o["mine"]), None)
    return await ctx.render("calendar_research.html", status=status, season=_season(ctx, season_answer.body),
                            distributed=bool(research.get("distributed")), tasks=tasks, offers=offers, mine=mine,
                            hours=sum(t["effort_hours"] for t in tasks), offered=sum(o["hours"] for o in offers),
                            moderating=_moderating(ctx), error=error, values=values or {})


def _again_research(ctx: Ctx, season_id: str,
                    values: dict | None = None) -> Callable[[int, str], Awaitable[Response]]:
    return lambda status, error: _research_page(ctx, season_id, status, error, values)


def _hours(value: str) -> Any:
    return int(value) if value.isdigit() and len(value) < 6 else value


@router.post("/calendar/seasons/{season_id}/research/offer")
async def offer_hours(ctx: Form, season_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    hours = _text(ctx, "hours", 10)
    answer = await ctx.api("PUT", f"/v1/seasons/{season_id}/research/offer", json={"hours": _hours(hours)})
    return await _done(ctx, answer, "cal_offer_made", _research_url(season_id) + "#offers",
                       _again_research(ctx, season_id, {"hours": hours}), hours=hours)


@router.post("/calendar/seasons/{season_id}/research/withdraw")
async def withdraw_offer(ctx: Form, season_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("DELETE", f"/v1/seasons/{season_id}/research/offer")
    return await _done(ctx, answer, "cal_offer_withdrawn", _research_url(season_id) + "#offers",
                       _again_research(ctx, season_id))


@router.post("/calendar/seasons/{season_id}/research/tasks")
async def add_task(ctx: Form, season_id: str = ID()) -> Response:
    """A moderator lists a task with its estimated effort (until distributed)."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    values = {"title": _text(ctx, "title", TITLE_LIMIT), "effort_hours": _text(ctx, "effort_hours", 10)}
    answer = await ctx.api("POST", f"/v1/seasons/{season_id}/research/tasks",
                           json={"title": values["title"], "effort_hours": _hours(values["effort_hours"])})
    return await _done(ctx, answer, "cal_task_added", _research_url(season_id) + "#tasks",
                       _again_research(ctx, season_id, values), title=values["title"])


@router.post("/calendar/seasons/{season_id}/research/tasks/{task_id}/remove")
async def remove_task(ctx: Form, season_id: str = ID(), task_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("DELETE", f"/v1/seasons/{season_id}/research/tasks/{task_id}")
    return await _done(ctx, answer, "cal_task_removed", _research_url(season_id) + "#tasks",
                       _again_research(ctx, season_id))


@router.post("/calendar/seasons/{season_id}/research/{step}")
async def research_step(ctx: Form, step: str, season_id: str = ID()) -> Response:
    """A moderator distributes the tasks among the offers, or reopens the distribution."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    if step not in ("distribute", "reopen"):
        return await ctx.refuse(404, ctx.t("not_found_title"), ctx.t("not_found_text"))
    answer = await ctx.api("POST", f"/v1/seasons/{season_id}/research/{step}")
    return await _done(ctx, answer, f"cal_research_{step}_done", _research_url(season_id) + "#tasks",
                       _again_research(ctx, season_id))


# ------------------------------------------------------------------ the ICS feeds under the web's own address


async def _feed(request: Request, path: str) -> Response:
    """The gateway's feed at ``path``, read as a calendar app would (no sign-in: the link's token is the key),
    given back with its status: a renewed or forged link answers 404 here too."""
    settings: Settings = request.app.state.settings
    peer = request.client.host if request.client else None
    address = client_address(peer, request.headers.get("x-forwarded-for"), settings.proxies)
    headers = {"Accept": "text/calendar"}
    if address:
        headers.update({"X-Forwarded-For": address,
                        "X-Hrm-Forwarded-Secret": settings.forwarded_secret.get_secret_value()})
    got = await request.app.state.http.get(API_FEEDS + path, headers=headers, timeout=FEED_TIMEOUT_S)
    if got.status_code != 200:
        status = got.status_code if got.status_code in (404, 410, 429) else 502 if got.status_code >= 500 else 404
        return Response(b"", status_code=status, headers={"Cache-Control": "no-store"})
    return Response(got.content, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": got.headers.get("cache-control", "private, max-age=300"),
                             "X-Robots-Tag": "noindex"})


@router.get(WEB_FEEDS + "{member_id}/{token}/personal.ics")
async def personal_feed(request: Request, member_id: str = ID(), token: str = ID()) -> Response:
    return await _feed(request, f"{member_id}/{token}/personal.ics")


@router.get(WEB_FEEDS + "{member_id}/{token}/seasons/{season_id}.ics")
async def season_feed(request: Request, member_id: str = ID(), token: str = ID(), season_id: str = ID()) -> Response:
    return await _feed(request, f"{member_id}/{token}/seasons/{season_id}.ics")


@router.get(WEB_FEEDS + "{member_id}/{token}/groups/{group_id}.ics")
async def group_feed(request: Request, member_id: str = ID(), token: str = ID(), group_id: str = ID()) -> Response:
    return await _feed(request, f"{member_id}/{token}/groups/{group_id}.ics")

