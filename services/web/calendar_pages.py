"""The community's calendar: the seasons (/calendar), a season with its events as a list or a month grid
(/calendar/seasons/{id}), one event with its places and waitlist (/calendar/seasons/{id}/events/{event_id}),
the season's requests while it is planned (/calendar/seasons/{id}/requests) and the member's own events and
ICS links (/calendar/my). A game's page carries its teams (applying with a roster, a moderator's decision,
an offered place taken or passed on) and an event's page, for its host and the moderators once it has
begun, who came. The season's results and research have their own pages (services/web/calendar_more.py).

Each page is a call or a few of the gateway's public API (/v1/seasons..., /v1/me/calendar...) and a template.
The API decides who may do what: a page leaves out the moderators' controls for everyone else, and a
moderator's form posted by anyone else gets the API's refusal, said on the page. Every time is shown in the
season's zone with the zone named; a time typed in a form (``datetime-local``) is read in that zone.
"""

from __future__ import annotations

import asyncio
import calendar as stdcal
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter
from fastapi.responses import Response

from services.web.context import Ctx, Form, Page
from services.web.gateway import Answer
from services.web.pages import ID, _refused, _sign_in_first, _text

router = APIRouter(include_in_schema=False)

KINDS = ("online_meeting", "game", "research")
FORMATS = ("online", "in_person")
PHASES = ("planning", "open", "closed", "results_published")
#: the phase step a moderator's button takes: form value -> (the API's path, what the page says after)
STEPS = {"open": ("open", "cal_opened"), "close": ("close", "cal_closed"),
         "results": ("results", "cal_results_published")}
#: what may be done about a game's team: form value -> what the page says after
TEAM_ACTIONS = {"confirm": "cal_team_confirm_done", "decline": "cal_team_decline_done",
                "withdraw": "cal_team_withdraw_done", "accept": "cal_team_accept_done", "pass": "cal_team_pass_done"}
#: a game's teams by where they stand, in the order the page lists them
TEAM_LISTS = ("confirmed", "offered", "waitlisted", "pending")
#: one's own groups whose pages an event's page reads (to find the game teams one coordinates)
MY_TEAMS_READ = 10
#: the teams of a game whose groups' pages it reads for their rosters' names
TEAMS_READ = 20
#: the registered members whose names the attendance form looks up at once
ATTENDANCE_NAMES = 200
#: the step each phase offers
NEXT_STEP = {"planning": "open", "open": "close", "closed": "results"}
REQUEST_ACTIONS = ("support", "accept", "merge", "decline")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: how many preferred dates the request form offers
PREFERRED_DATES = 3
TITLE_LIMIT, TEXT_LIMIT = 300, 3000
#: the feeds' paths: the API's, and the web client's own that serve the same feed (calendar_more.py)
API_FEEDS, WEB_FEEDS = "/v1/calendar/feeds/", "/calendar/feeds/"


def _season_url(season_id: str) -> str:
    return f"/calendar/seasons/{season_id}"


def _event_url(season_id: str, event_id: str) -> str:
    return f"/calendar/seasons/{season_id}/events/{event_id}"


def _requests_url(season_id: str) -> str:
    return f"/calendar/seasons/{season_id}/requests"


def _moderating(ctx: Ctx) -> bool:
    return ctx.has("moderator", "admin")


def _zone(ctx: Ctx, name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or ctx.settings.web_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ctx.settings.zone


def _day(value: str | date | None) -> str:
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"{day:%d.%m.%Y}"


def _moment(value: str, zone: ZoneInfo) -> datetime:
    return datetime.fromisoformat(str(value)).astimezone(zone)


def _refusal(answer: Answer) -> str:
    """The API's words: the first field it named, else its title (and detail, when it gives one)."""
    field = next(iter(answer.field_errors().values()), None)
    if field:
        return field
    detail = answer.body.get("detail") if isinstance(answer.body, dict) else None
    return f"{answer.title} {detail}".strip() if isinstance(detail, str) and detail else answer.title


def _season(ctx: Ctx, season: dict) -> dict:
    zone = season.get("time_zone") or ctx.settings.web_timezone
    return {**season, "dates": f"{_day(season['starts_on'])} – {_day(season['ends_on'])}, {zone}",
            "next_step": NEXT_STEP.get(season["phase"])}


def _event(ctx: Ctx, event: dict) -> dict:
    """An event as a page shows it: its time in its season's zone, "19 из 50", where the caller stands."""
    name = event.get("time_zone") or ctx.settings.web_timezone
    zone = _zone(ctx, name)
    plan = event["plan"]
    start, end = _moment(plan["starts_at"], zone), _moment(plan["ends_at"], zone)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%d.%m.%Y %H:%M}"
    mine = None
    if event.get("my_status") == "registered":
        mine = ctx.t("cal_my_registered")
    elif event.get("my_status") == "waitlisted":
        mine = ctx.t("cal_my_position", n=event.get("my_position") or "?")
    return {**event, "plan": plan, "start": start, "day": start.date(),
            "when": f"{start:%d.%m.%Y %H:%M}–{until}, {name}", "time": f"{start:%H:%M}",
            "places": ctx.t("cal_places", registered=event.get("registered", 0), capacity=event.get("capacity", 0)),
            "mine": mine}


def _month_of(ctx: Ctx, season: dict, events: list[dict], month: str) -> tuple[int, int]:
    """The month asked for; else this month while the season runs, the first event's, or the season's first."""
    if m := _MONTH.match(month or ""):
        year, number = int(m.group(1)), int(m.group(2))
        if 1 <= number <= 12 and 1 <= year <= 9999:
            return year, number
    today = datetime.now(_zone(ctx, season.get("time_zone"))).date()
    if date.fromisoformat(season["starts_on"]) <= today <= date.fromisoformat(season["ends_on"]):
        return today.year, today.month
    if events:
        return events[0]["day"].year, events[0]["day"].month
    first = date.fromisoformat(season["starts_on"])
    return first.year, first.month


def _grid(ctx: Ctx, year: int, month: int, events: list[dict]) -> dict:
    by_day: dict[date, list[dict]] = {}
    for e in events:
        by_day.setdefault(e["day"], []).append(e)
    weeks = [[{"date": d, "in_month": d.month == month, "events": by_day.get(d, []) if d.month == month else []}
              for d in week] for week in stdcal.Calendar(firstweekday=0).monthdatescalendar(year, month)]
    before = (year, month - 1) if month > 1 else (year - 1, 12)
    after = (year, month + 1) if month < 12 else (year + 1, 1)
    return {"title": ctx.t("cal_month_title", month=ctx.t(f"cal_month_{month}"), year=year), "weeks": weeks,
            "prev": f"{before[0]:04d}-{before[1]:02d}" if before[0] >= 1 else None,
            "next": f"{after[0]:04d}-{after[1]:02d}" if after[0] <= 9999 else None,
            "weekdays": [ctx.t(f"cal_wd_{i}") for i in range(7)], "today": date.today()}


async def _all_ok(ctx: Ctx, *answers: Answer) -> Response | None:
    for answer in answers:
        if not answer.ok:
            return await _refused(ctx, answer)
    return None


# ------------------------------------------------------------------ the seasons


@router.get("/calendar")
async def seasons_page(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _seasons(ctx)


async def _seasons(ctx: Ctx, status: int = 200, error: str | None = None, values: dict | None = None) -> Response:
    answer = await ctx.api("GET", "/v1/seasons")
    if not answer.ok:
        return await _refused(ctx, answer)
    return await ctx.render("calendar.html", status=status, seasons=[_season(ctx, s) for s in answer.body["items"]],
                            moderating=_moderating(ctx), error=error,
                            values=values or {"time_zone": ctx.settings.web_timezone})


@router.post("/calendar/seasons")
async def start_season(ctx: Form) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    values = {"season_id": _text(ctx, "season_id", 100), "title": _text(ctx, "title", TITLE_LIMIT),
              "starts_on": _text(ctx, "starts_on", 20), "ends_on": _text(ctx, "ends_on", 20),
              "time_zone": _text(ctx, "time_zone", 100) or ctx.settings.web_timezone}
    body = {k: v for k, v in values.items() if v}
    answer = await ctx.api("POST", "/v1/seasons", json=body)
    if answer.ok:
        ctx.session.say("ok", "cal_season_started", title=answer.body["title"])
        return ctx.redirect(_season_url(answer.body["season_id"]))
    if answer.status == 401 or answer.status >= 500:
        return await _refused(ctx, answer)
    return await _seasons(ctx, answer.status, _refusal(answer), values)


# ------------------------------------------------------------------ a season: its events as a list or a month


@router.get("/calendar/seasons/{season_id}")
async def season_page(ctx: Page, season_id: str = ID(), view: str = "list", month: str = "",
                      who: str = "") -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _season_page(ctx, season_id, view=view, month=month, who=who)


async def _season_page(ctx: Ctx, season_id: str, *, view: str = "list", month: str = "", who: str = "",
                       status: int = 200, error: str | None = None, values: dict | None = None) -> Response:
    moderating = _moderating(ctx)
    season_answer, events_answer = await asyncio.gather(ctx.api("GET", f"/v1/seasons/{season_id}"),
                                                        ctx.api("GET", f"/v1/seasons/{season_id}/events"))
    if (refused := await _all_ok(ctx, season_answer, events_answer)) is not None:
        return refused
    season = _season(ctx, season_answer.body)
    events = [_event(ctx, e) for e in events_answer.body["items"]]
    view = "month" if view == "month" else "list"
    year, number = _month_of(ctx, season, events, month)
    grid = _grid(ctx, year, number, events) if view == "month" else None
    planner: dict[str, Any] | None = None
    if moderating and season["phase"] == "planning":
        planner = await _planner(ctx, season_id, who)
    return await ctx.render("calendar_season.html", status=status, season=season, events=events, view=view,
                            grid=grid, month=f"{year:04d}-{number:02d}", moderating=moderating, planner=planner,
                            error=error, values=values or {}, kinds=KINDS, who=who[:100])


async def _planner(ctx: Ctx, season_id: str, who: str) -> dict[str, Any]:
    """What the moderators' grid form offers: the accepted requests, the working groups, the hosts found."""
    reads = [ctx.api("GET", f"/v1/seasons/{season_id}/requests"), ctx.api("GET", "/v1/groups",
                                                                           params={"status": "active"})]
    if who.strip():
        reads.append(ctx.api("GET", "/v1/colleagues", params={"q": who.strip()[:100]}))
    answers = await asyncio.gather(*reads)
    accepted = [r for r in answers[0].body["items"] if r["outcome"] == "accepted"] if answers[0].ok else []
    groups = answers[1].body["items"] if answers[1].ok else []
    me = ctx.session.member_id
    hosts: list[dict] = [{"member_id": me, "name": f"{ctx.session.name or ''} ({ctx.t('you')})".strip()}] if me else []
    found_error = None
    if len(answers) > 2:
        if answers[2].ok:
            hosts += [{"member_id": c["member_id"], "name": c["full_name"]} for c in answers[2].body["items"]
                      if c["member_id"] != ctx.session.member_id]
        else:
            found_error = answers[2].title or ctx.t("unavailable_text")
    return {"accepted": accepted, "groups": groups, "hosts": hosts, "found_error": found_error}


@router.post("/calendar/seasons/{season_id}/phase")
async def move_season(ctx: Form, season_id: str = ID()) -> Response:
    """A moderator's step: publish the grid, close the season, publish its results."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    step = STEPS.get(_text(ctx, "step", 20))
    if step is None:
        return await _season_page(ctx, season_id, status=422, error=ctx.t("cal_unknown_step"))
    answer = await ctx.api("POST", f"/v1/seasons/{season_id}/{step[0]}")
    return await _done(ctx, answer, step[1], _season_url(season_id),
                       lambda status, error: _season_page(ctx, season_id, status=status, error=error))


async def _done(ctx: Ctx, answer: Answer, done: str, to: str,
                again: Callable[[int, str], Awaitable[Response]], **said: Any) -> Response:
    """Where a form goes next: on with what was done said, or its page again with the API's refusal."""
    if answer.ok:
        ctx.session.say("ok", done, **said)
        return ctx.redirect(to)
    if answer.status == 401 or answer.status >= 500 or answer.code == "season_not_found":
        return await _refused(ctx, answer)
    return await again(answer.status, _refusal(answer))


def _local_time(ctx: Ctx, value: str, zone: ZoneInfo) -> datetime | None:
    """A ``datetime-local`` value (``2027-03-10T18:00``) read in the season's zone."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else None


@router.post("/calendar/seasons/{season_id}/events")
async def add_event(ctx: Form, season_id: str = ID()) -> Response:
    """A moderator drafts an event of the grid; its times are typed in the season's zone."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    values: dict[str, Any] = {k: _text(ctx, k, limit) for k, limit in (
        ("kind", 40), ("title", TITLE_LIMIT), ("starts_at", 40), ("ends_at", 40), ("place", 1000),
        ("call_link", 1000), ("capacity", 10), ("host_id", 64), ("group_id", 64))}
    values["answers"] = [a for a in dict.fromkeys(ctx.form_lists.get("answers", [])) if _ID.match(a)][:50]
    season_answer = await ctx.api("GET", f"/v1/seasons/{season_id}")
    if not season_answer.ok:
        return await _refused(ctx, season_answer)
    zone = _zone(ctx, season_answer.body.get("time_zone"))
    starts, ends = _local_time(ctx, values["starts_at"], zone), _local_time(ctx, values["ends_at"], zone)
    if starts is None or ends is None:
        return await _season_page(ctx, season_id, status=422, error=ctx.t("cal_when_invalid"), values=values)
    capacity: Any = int(values["capacity"]) if values["capacity"].isdigit() else values["capacity"]
    body: dict[str, Any] = {"kind": values["kind"], "title": values["title"], "starts_at": starts.isoformat(),
                            "ends_at": ends.isoformat(), "capacity": capacity, "host_id": values["host_id"],
                            "answers": values["answers"]}
    for optional in ("place", "call_link", "group_id"):
        if values[optional]:
            body[optional] = values[optional]
    answer = await ctx.api("POST", f"/v1/seasons/{season_id}/events", json=body)
    return await _done(ctx, answer, "cal_event_added", _season_url(season_id),
                       lambda status, error: _season_page(ctx, season_id, status=status, error=error, values=values),
                       title=values["title"])


# ------------------------------------------------------------------ one event


@router.get("/calendar/seasons/{season_id}/events/{event_id}")
async def event_page(ctx: Page, season_id: str = ID(), event_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _event_page(ctx, season_id, event_id)


async def _event_page(ctx: Ctx, season_id: str, event_id: str, status: int = 200,
                      error: str | None = None) -> Response:
    season_answer, event_answer = await asyncio.gather(
        ctx.api("GET", f"/v1/seasons/{season_id}"), ctx.api("GET", f"/v1/seasons/{season_id}/events/{event_id}"))
    if (refused := await _all_ok(ctx, season_answer, event_answer)) is not None:
        return refused
    event = _event(ctx, event_answer.body)
    plan = event["plan"]
    season = _season(ctx, season_answer.body)
    moderating = _moderating(ctx)
    reads: list[Awaitable[Answer]] = [ctx.api("GET", f"/v1/colleagues/{plan['host_id']}")]
    if plan.get("group_id"):
        reads.append(ctx.api("GET", f"/v1/groups/{plan['group_id']}"))
    game = plan["kind"] == "game" and event["status"] != "draft"
    began = event["status"] == "scheduled" and event["start"] <= datetime.now(event["start"].tzinfo)
    hosting = plan["host_id"] == ctx.session.member_id
    answers, teams, attendance = await asyncio.gather(
        asyncio.gather(*reads),
        _teams(ctx, season, event, moderating) if game else _nothing(),
        _attendance(ctx, event) if began and (hosting or moderating) else _nothing())
    host = answers[0].body.get("full_name") if answers[0].ok else None
    group = answers[1].body if len(answers) > 1 and answers[1].ok else None
    return await ctx.render("calendar_event.html", status=status, season=season, event=event, host=host,
                            group=group, moderating=moderating, error=error, teams=teams, attendance=attendance,
                            registering=season["phase"] == "open" and event["status"] == "scheduled")


async def _nothing() -> None:
    return None


def _when(ctx: Ctx, value: str | None, zone_name: str | None) -> str:
    """A moment in the season's zone, the zone named: ``12.03.2027 18:00, Asia/Yekaterinburg``."""
    if not value:
        return ""
    name = zone_name or ctx.settings.web_timezone
    return f"{_moment(value, _zone(ctx, name)):%d.%m.%Y %H:%M}, {name}"


async def _teams(ctx: Ctx, season: dict, event: dict, moderating: bool) -> dict[str, Any]:
    """A game's teams ("3 из 8", the line, the offers, who waits for a moderator), named by their groups,
    and the game teams the caller coordinates: a team of theirs in the game gets its buttons, one not in
    it a form to apply with a roster of its members."""
    path = f"/v1/seasons/{season['season_id']}/events/{event['event_id']}/teams"
    teams_answer, mine_answer = await asyncio.gather(
        ctx.api("GET", path), ctx.api("GET", "/v1/groups", params={"group_type": "game_team", "status": "active"}))
    if not teams_answer.ok:
        return {"error": teams_answer.title or ctx.t("unavailable_text")}
    body = teams_answer.body
    listed = [t for kind in TEAM_LISTS for t in body.get(kind) or ()]
    in_game = {t["group_id"] for t in listed}
    titles = {g["group_id"]: g["title"] for g in (mine_answer.body["items"] if mine_answer.ok else ())}
    my_groups = [g["group_id"] for g in (mine_answer.body["items"] if mine_answer.ok else ())
                 if (g.get("my_state") or ("member" if g.get("is_member") else "none")) == "member"][:MY_TEAMS_READ]
    # the groups' pages: one's own (to find the teams one coordinates) and the teams' (their rosters' names)
    read = list(dict.fromkeys([*my_groups, *(t["group_id"] for t in listed)]))[:MY_TEAMS_READ + TEAMS_READ]
    pages = [p.body for p in await asyncio.gather(*(ctx.api("GET", f"/v1/groups/{g}") for g in read)) if p.ok]
    coordinated = {p["group_id"]: p for p in pages if p.get("is_coordinator") and p.get("group_type") == "game_team"}
    members = {p["group_id"]: {m["member_id"]: m.get("display_name") for m in p.get("members") or ()} for p in pages}
    me = ctx.session.member_id
    zone = event.get("time_zone")

    def shown(team: dict) -> dict:
        names = members.get(team["group_id"], {})
        roster = [names.get(m) or (ctx.t("you") if m == me else None) for m in team.get("roster") or ()]
        return {**team, "title": titles.get(team["group_id"]) or team["group_id"],
                "roster_names": [n for n in roster if n], "size": len(team.get("roster") or ()),
                "mine": team["group_id"] in coordinated,
                "until": _when(ctx, team.get("offer_expires_at"), zone)}

    open_game = season["phase"] == "open" and event["status"] == "scheduled"
    apply = [{"group_id": g["group_id"], "title": g["title"],
              "members": [{"member_id": m["member_id"], "name": m.get("display_name") or m["member_id"],
                           "me": m["member_id"] == me} for m in g.get("members") or ()]}
             for g in coordinated.values() if g["group_id"] not in in_game] if open_game else []
    return {"max_teams": body.get("max_teams", 0),
            "count": ctx.t("cal_places", registered=len(body.get("confirmed") or ()),
                           capacity=body.get("max_teams", 0)),
            **{kind: [shown(t) for t in body.get(kind) or ()] for kind in TEAM_LISTS},
            "apply": apply, "open": open_game, "moderating": moderating}


async def _attendance(ctx: Ctx, event: dict) -> dict[str, Any]:
    """Who holds a place (the API gives the list to the host and the moderators) with their names, and who
    was recorded present."""
    registered = list(event.get("registered_ids") or ())
    present = set(event.get("present_ids") or ())
    looked = await asyncio.gather(*(ctx.api("GET", f"/v1/colleagues/{m}") for m in registered[:ATTENDANCE_NAMES]))
    names = {m: a.body.get("full_name") for m, a in zip(registered, looked, strict=False) if a.ok}
    return {"people": [{"member_id": m, "name": names.get(m) or ctx.t("deleted_member"), "present": m in present}
                       for m in registered],
            "recorded": len(present)}


def _again_event(ctx: Ctx, season_id: str, event_id: str) -> Callable[[int, str], Awaitable[Response]]:
    return lambda status, error: _event_page(ctx, season_id, event_id, status=status, error=error)


@router.post("/calendar/seasons/{season_id}/events/{event_id}/register")
async def register(ctx: Form, season_id: str = ID(), event_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("PUT", f"/v1/seasons/{season_id}/events/{event_id}/registration")
    waitlisted = answer.ok and answer.body.get("my_status") == "waitlisted"
    return await _done(ctx, answer, "cal_waitlisted" if waitlisted else "cal_registered",
                       _event_url(season_id, event_id), _again_event(ctx, season_id, event_id),
                       **({"n": answer.body.get("my_position") or "?"} if waitlisted else {}))


@router.post("/calendar/seasons/{season_id}/events/{event_id}/unregister")
async def unregister(ctx: Form, season_id: str = ID(), event_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("DELETE", f"/v1/seasons/{season_id}/events/{event_id}/registration")
    return await _done(ctx, answer, "cal_unregistered", _event_url(season_id, event_id),
                       _again_event(ctx, season_id, event_id))


@router.post("/calendar/seasons/{season_id}/events/{event_id}/cancel")
async def cancel_event(ctx: Form, season_id: str = ID(), event_id: str = ID()) -> Response:
    """A moderator cancels a published event (its people are told)."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    reason = _text(ctx, "reason", TEXT_LIMIT)
    answer = await ctx.api("POST", f"/v1/seasons/{season_id}/events/{event_id}/cancel",
                           json={"reason": reason or None})
    return await _done(ctx, answer, "cal_event_cancelled", _event_url(season_id, event_id),
                       _again_event(ctx, season_id, event_id))


@router.post("/calendar/seasons/{season_id}/events/{event_id}/remove")
async def remove_event(ctx: Form, season_id: str = ID(), event_id: str = ID()) -> Response:
    """A moderator takes a draft out of the grid while the season is planned."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("DELETE", f"/v1/seasons/{season_id}/events/{event_id}")
    return await _done(ctx, answer, "cal_event_removed", _season_url(season_id),
                       _again_event(ctx, season_id, event_id))


@router.post("/calendar/seasons/{season_id}/events/{event_id}/attendance")
async def record_attendance(ctx: Form, season_id: str = ID(), event_id: str = ID()) -> Response:
    """The host or a moderator ticks who came, among the registered (the list replaces the earlier one)."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    present = [m for m in dict.fromkeys(ctx.form_lists.get("present", [])) if _ID.match(m)][:10_000]
    answer = await ctx.api("PUT", f"/v1/seasons/{season_id}/events/{event_id}/attendance", json={"present": present})
    return await _done(ctx, answer, "cal_attendance_recorded", _event_url(season_id, event_id) + "#attendance",
                       _again_event(ctx, season_id, event_id), n=len(present))


@router.post("/calendar/seasons/{season_id}/events/{event_id}/teams")
async def apply_team(ctx: Form, season_id: str = ID(), event_id: str = ID()) -> Response:
    """A game team's coordinator applies with the roster ticked among the group's members."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    group_id = _text(ctx, "group_id", 64)
    roster = [m for m in dict.fromkeys(ctx.form_lists.get("roster", [])) if _ID.match(m)][:50]
    answer = await ctx.api("POST", f"/v1/seasons/{season_id}/events/{event_id}/teams",
                           json={"group_id": group_id, "roster": roster})
    return await _done(ctx, answer, "cal_team_applied", _event_url(season_id, event_id) + "#teams",
                       _again_event(ctx, season_id, event_id))


@router.post("/calendar/seasons/{season_id}/events/{event_id}/teams/{group_id}/{action}")
async def on_team(ctx: Form, action: str, season_id: str = ID(), event_id: str = ID(),
                  group_id: str = ID()) -> Response:
    """A moderator confirms or declines a team; its coordinator withdraws it, takes an offered place or passes."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    done = TEAM_ACTIONS.get(action)
    if done is None:
        return await ctx.refuse(404, ctx.t("not_found_title"), ctx.t("not_found_text"))
    body = {"reason": _text(ctx, "reason", TEXT_LIMIT)} if action == "decline" else None
    answer = await ctx.api("POST", f"/v1/seasons/{season_id}/events/{event_id}/teams/{group_id}/{action}",
                           json=body)
    return await _done(ctx, answer, done, _event_url(season_id, event_id) + "#teams",
                       _again_event(ctx, season_id, event_id))


# ------------------------------------------------------------------ the season's requests


@router.get("/calendar/seasons/{season_id}/requests")
async def requests_page(ctx: Page, season_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _requests_page(ctx, season_id)


async def _requests_page(ctx: Ctx, season_id: str, status: int = 200, error: str | None = None,
                         values: dict | None = None, errors: dict | None = None) -> Response:
    season_answer, requests_answer, events_answer = await asyncio.gather(
        ctx.api("GET", f"/v1/seasons/{season_id}"), ctx.api("GET", f"/v1/seasons/{season_id}/requests"),
        ctx.api("GET", f"/v1/seasons/{season_id}/events"))
    if (refused := await _all_ok(ctx, season_answer, requests_answer)) is not None:
        return refused
    season = _season(ctx, season_answer.body)
    events = {e["event_id"]: _event(ctx, e) for e in (events_answer.body["items"] if events_answer.ok else ())}
    items = list(requests_answer.body["items"])
    topics = {r["request_id"]: r.get("topic") for r in items}
    accepted = [r for r in items if r["outcome"] == "accepted"]
    me = ctx.session.member_id
    planning = season["phase"] == "planning"
    shown = []
    for r in items:
        shown.append({**r, "own": r.get("member_id") == me, "into_topic": topics.get(r.get("into_request_id") or ""),
                      "events": [events[e] for e in r.get("event_ids") or () if e in events],
                      "dates": ", ".join(_day(d) for d in r.get("preferred_dates") or ()),
                      "supportable": planning and r.get("member_id") != me and not r.get("supported")
                      and r["outcome"] in ("pending", "accepted"),
                      "merge_into": [a for a in accepted if a["request_id"] != r["request_id"]]})
    return await ctx.render("calendar_requests.html", status=status, season=season, items=shown, planning=planning,
                            moderating=_moderating(ctx), error=error, errors=errors or {}, values=values or {},
                            formats=FORMATS, preferred=PREFERRED_DATES)


@router.post("/calendar/seasons/{season_id}/requests")
async def request_event(ctx: Form, season_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    values: dict[str, Any] = {"topic": _text(ctx, "topic", TITLE_LIMIT), "format": _text(ctx, "format", 20),
                              "experience": _text(ctx, "experience", TEXT_LIMIT),
                              "group_size": _text(ctx, "group_size", 10),
                              "preferred_dates": [d.strip() for d in ctx.form_lists.get("preferred_dates", [])
                                                  if d.strip()][:20]}
    size: Any = int(values["group_size"]) if values["group_size"].isdigit() else values["group_size"]
    body = {**values, "group_size": size}
    answer = await ctx.api("POST", f"/v1/seasons/{season_id}/requests", json=body)
    if answer.ok:
        ctx.session.say("ok", "cal_requested")
        return ctx.redirect(_requests_url(season_id) + f"#request-{answer.body['request_id']}")
    if answer.status == 401 or answer.status >= 500 or answer.code == "season_not_found":
        return await _refused(ctx, answer)
    return await _requests_page(ctx, season_id, answer.status, _refusal(answer), values, answer.field_errors())


@router.post("/calendar/seasons/{season_id}/requests/{request_id}/{action}")
async def on_request(ctx: Form, action: str, season_id: str = ID(), request_id: str = ID()) -> Response:
    """Support a request; a moderator's outcome: accept, merge into an accepted one, decline with a reason."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    if action not in REQUEST_ACTIONS:
        return await ctx.refuse(404, ctx.t("not_found_title"), ctx.t("not_found_text"))
    body: dict[str, Any] | None = None
    if action == "merge":
        body = {"into_request_id": _text(ctx, "into_request_id", 64)}
    elif action == "decline":
        body = {"reason": _text(ctx, "reason", TEXT_LIMIT)}
    answer = await ctx.api("POST", f"/v1/seasons/{season_id}/requests/{request_id}/{action}", json=body)
    return await _done(ctx, answer, f"cal_request_{action}_done", _requests_url(season_id) + f"#request-{request_id}",
                       lambda status, error: _requests_page(ctx, season_id, status, error))


# ------------------------------------------------------------------ my calendar and its ICS links


@router.get("/calendar/my")
async def my_calendar(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    mine, links, seasons, groups = await asyncio.gather(
        ctx.api("GET", "/v1/me/calendar"), ctx.api("GET", "/v1/me/calendar/links"), ctx.api("GET", "/v1/seasons"),
        ctx.api("GET", "/v1/groups", params={"status": "active"}))
    if (refused := await _all_ok(ctx, mine, links)) is not None:
        return refused
    # a calendar app reads the feeds through the web client's own address (it cannot reach the gateway's)
    root = str(ctx.request.base_url).rstrip("/")
    feeds = {k: v.replace(API_FEEDS, WEB_FEEDS, 1) for k, v in links.body.items() if isinstance(v, str)}
    season_links = [{"title": s["title"], "season_id": s["season_id"],
                     "url": root + feeds["season"].replace("{season_id}", s["season_id"])}
                    for s in (seasons.body["items"] if seasons.ok else ()) if s["phase"] != "planning"]
    group_links = [{"title": g["title"], "group_id": g["group_id"],
                    "url": root + feeds["group"].replace("{group_id}", g["group_id"])}
                   for g in (groups.body["items"] if groups.ok else ())
                   if g.get("is_member") or g.get("my_state") == "member"]
    return await ctx.render("calendar_my.html", items=[_event(ctx, e) for e in mine.body["items"]],
                            personal=root + feeds["personal"], season_links=season_links, group_links=group_links)


@router.post("/calendar/my/links")
async def renew_links(ctx: Form) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("POST", "/v1/me/calendar/links")
    if not answer.ok:
        return await _refused(ctx, answer)
    ctx.session.say("ok", "cal_links_renewed")
    return ctx.redirect("/calendar/my#links")
