"""The 12 roles of a professional (issue 14): the matrix in the community's words with the pick window (/roles),
a working group's vacancy board (/groups/{id}/roles) and the coordination roles' board (/roles/coordination),
where members pick and give up roles while the window is open and coordinators set how many may hold one,
and the member's development map (/roles/my).

Each page is a few calls of the gateway's public API (/v1/roles..., /v1/groups/{id}/roles..., /v1/me/roles)
and a template. The API decides who may pick where: a board leaves out the buttons it would certainly refuse,
and what it refuses anyway (a filled vacancy, the season's maximum, Vision not yet open) is said on the board
in the person's language. The pictures are drawn by the roles service; they are read here, on the server,
kept only if they are plain drawing, and put into the page itself (the browser never calls the gateway).
"""

from __future__ import annotations

import asyncio
import re
from html import escape
from typing import Annotated, Any
from xml.etree import ElementTree

from fastapi import APIRouter, Path
from fastapi.responses import Response
from markupsafe import Markup

from services.web.calendar_pages import _day, _done, _moment, _zone
from services.web.context import Ctx, Form, Page
from services.web.gateway import Answer
from services.web.pages import ID, _refused, _sign_in_first, _text

router = APIRouter(include_in_schema=False)

GroupRole = Annotated[int, Path(ge=1, le=9)]
CoordinationRole = Annotated[int, Path(ge=10, le=12)]
COORDINATION = "coordination"
#: holders whose names a board looks up one by one when the group's page does not list them
NAMES_READ = 40
#: the working groups whose boards the roles page links to (the API lists one's own groups first)
MY_GROUPS_READ = 100
#: a season id the calendar gives by default: its words say which half of which year
_SEASON = re.compile(r"^(\d{4})-(spring|autumn)$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: a season's own title, quoted as each language quotes a name
QUOTES = {"ru": "«{}»", "en": "“{}”"}
#: what of the service's drawing stays in the page: shapes and text, never a script, a link or a style sheet
SVG_NS = "{http://www.w3.org/2000/svg}"
SVG_TAGS = frozenset({"svg", "g", "rect", "text", "tspan", "title", "desc", "line", "path", "circle", "ellipse",
                      "polyline", "polygon"})
SVG_ATTRIBUTES = frozenset({
    "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "width", "height", "viewBox", "d", "points",
    "transform", "fill", "fill-opacity", "stroke", "stroke-width", "stroke-dasharray", "opacity", "font-family",
    "font-size", "font-weight", "text-anchor", "dominant-baseline", "class", "role", "aria-label", "aria-hidden",
})
_DATA_ATTRIBUTE = re.compile(r"^data-[a-z][a-z0-9-]{0,30}$")
SVG_MAX_BYTES = 512 * 1024
#: the season's figures the roles service reports to the calendar, in the order the results page lists them
REPORT_KEYS = ("roles_taken", "members_with_roles", "groups", "vacancies_open", "places_open")


def board_url(group_id: str | None) -> str:
    return f"/groups/{group_id}/roles" if group_id and group_id != COORDINATION else "/roles/coordination"


def _api_board(group_id: str | None) -> str:
    return f"/v1/groups/{group_id}/roles" if group_id else "/v1/roles/coordination"


# ------------------------------------------------------------------ pictures


def inline_svg(answer: Answer) -> Markup | None:
    """The service's drawing rebuilt from what it is allowed to hold: elements of plain drawing, attributes
    of shape and text (no ``on…``, no ``href``, no ``style``), every text escaped again. A picture that is not
    such a drawing is left out (the page says so) rather than trusted."""
    if not answer.ok or answer.content_type != "image/svg+xml" or not answer.content \
            or len(answer.content) > SVG_MAX_BYTES:
        return None
    raw = answer.content.decode("utf-8", "replace")
    if "<!DOCTYPE" in raw.upper() or "<!ENTITY" in raw.upper():
        return None
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError:
        return None
    if root.tag != SVG_NS + "svg":
        return None
    out: list[str] = []

    def walk(node: ElementTree.Element, top: bool) -> None:
        if not node.tag.startswith(SVG_NS) or node.tag[len(SVG_NS):] not in SVG_TAGS:
            return
        tag = node.tag[len(SVG_NS):]
        kept = [(k, v) for k, v in node.attrib.items() if k in SVG_ATTRIBUTES or _DATA_ATTRIBUTE.match(k)]
        attributes = "".join(f' {k}="{escape(v, quote=True)}"' for k, v in kept)
        if top:
            attributes = ' xmlns="http://www.w3.org/2000/svg" focusable="false"' + attributes
        out.append(f"<{tag}{attributes}>")
        if node.text:
            out.append(escape(node.text, quote=False))
        for child in node:
            walk(child, False)
            if child.tail:
                out.append(escape(child.tail, quote=False))
        out.append(f"</{tag}>")

    walk(root, True)
    return Markup("".join(out))  # noqa: S704 — rebuilt above from allowed names, every value escaped


# ------------------------------------------------------------------ words


def matrix_view(ctx: Ctx, body: Any) -> dict[str, Any]:
    """The matrix (GET /v1/roles) in the reader's language: the qualities with their roles, each role by its
    number, and each quality's name by its code."""
    en = ctx.lang == "en"
    items = body if isinstance(body, dict) else {}
    roles = {r["number"]: {"number": r["number"], "quality": r["quality"], "level": r["level"],
                           "title": r["title_en"] if en else r["title_ru"]} for r in items.get("roles") or ()}
    qualities = [{"quality": q["quality"], "title": q["title_en"] if en else q["title_ru"],
                  "note": q.get("note_en" if en else "note_ru") or "",
                  "roles": [roles[n] for n in q.get("roles") or () if n in roles]}
                 for q in items.get("qualities") or ()]
    return {"roles": roles, "qualities": qualities, "names": {q["quality"]: q["title"] for q in qualities}}


def quality_list(matrix: dict, codes: Any) -> str:
    return ", ".join(matrix["names"].get(q, q) for q in codes or ())


def season_words(ctx: Ctx, season_id: str | None, titles: dict[str, str]) -> str:
    """A season as people call it: the calendar's title when it has one, else "осень 2028" for the default ids."""
    if not season_id:
        return ""
    if season_id in titles:
        return QUOTES.get(ctx.lang, QUOTES["ru"]).format(titles[season_id])
    if m := _SEASON.match(season_id):
        return ctx.t(f"roles_season_{m.group(2)}", year=m.group(1))
    return season_id


async def season_titles(ctx: Ctx, *season_ids: str | None) -> dict[str, str]:
    """The calendar's titles of these seasons (a season the calendar does not have yet has none)."""
    wanted = list(dict.fromkeys(s for s in season_ids if s and _ID.match(s)))
    answers = await asyncio.gather(*(ctx.api("GET", f"/v1/seasons/{s}") for s in wanted))
    return {s: a.body["title"] for s, a in zip(wanted, answers, strict=True)
            if a.ok and isinstance(a.body, dict) and a.body.get("title")}


async def window_view(ctx: Ctx, window: dict) -> dict[str, Any]:
    """Where the picks stand, said: open for which season and until when (the zone named), or closed and which
    season's closing opens it, with that season's planned last day."""
    titles = await season_titles(ctx, window.get("season_id"), window.get("opens_after_season_id"))
    zone_name = window.get("time_zone") or ctx.settings.web_timezone
    zone = _zone(ctx, zone_name)

    def at(value: str | None) -> str:
        return f"{_moment(value, zone):%d.%m.%Y %H:%M}, {zone_name}" if value else ""

    season = season_words(ctx, window.get("season_id"), titles)
    is_open = window.get("status") == "open"
    lines = []
    if is_open:
        lines.append(ctx.t("roles_window_open", season=season, until=at(window.get("closes_at"))))
    else:
        after = window.get("opens_after_season_id")
        ends_on = window.get("opens_after_season_ends_on")
        if after and ends_on:
            lines.append(ctx.t("roles_window_opens_after_day", season=season_words(ctx, after, titles),
                               day=_day(ends_on)))
        elif after:
            lines.append(ctx.t("roles_window_opens_after", season=season_words(ctx, after, titles)))
        else:
            lines.append(ctx.t("roles_window_opens_unknown"))
        if window.get("season_id") and window.get("closed_at"):
            lines.append(ctx.t("roles_window_last", season=season, at=at(window.get("closed_at"))))
    return {"open": is_open, "season_id": window.get("season_id"), "season": season, "lines": lines,
            "opens_after": window.get("opens_after_season_id"), "max_picks": window.get("max_picks"),
            "zone": zone_name}


# ------------------------------------------------------------------ the roles page


@router.get("/roles")
async def roles_page(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    matrix_answer, window_answer, groups_answer = await asyncio.gather(
        ctx.api("GET", "/v1/roles"), ctx.api("GET", "/v1/roles/window"),
        ctx.api("GET", "/v1/groups", params={"limit": MY_GROUPS_READ}))
    for answer in (matrix_answer, window_answer):
        if not answer.ok:
            return await _refused(ctx, answer)
    groups = [g for g in (groups_answer.body.get("items") or () if groups_answer.ok else ())
              if (g.get("my_state") == "member" or g.get("is_member")) and g.get("status", "active") == "active"]
    return await ctx.render("roles.html", matrix=matrix_view(ctx, matrix_answer.body),
                            window=await window_view(ctx, window_answer.body), groups=groups)


# ------------------------------------------------------------------ the vacancy boards


async def _names(ctx: Ctx, holders: list[str], group: dict | None) -> dict[str, str]:
    """Display names of the holders: from the group's page where it lists them, else from their cards."""
    names: dict[str, str] = {}
    for person in [*((group or {}).get("members") or ()), *((group or {}).get("coordinators") or ())]:
        if person.get("display_name"):
            names[person["member_id"]] = person["display_name"]
    me = ctx.session.member_id
    missing = [h for h in dict.fromkeys(holders) if h not in names and h != me][:NAMES_READ]
    looked = await asyncio.gather(*(ctx.api("GET", f"/v1/colleagues/{h}") for h in missing))
    for member_id, answer in zip(missing, looked, strict=True):
        if answer.ok and isinstance(answer.body, dict) and answer.body.get("full_name"):
            names[member_id] = answer.body["full_name"]
    return names


async def _board_page(ctx: Ctx, group_id: str | None, status: int = 200, error: str | None = None,
                      values: dict | None = None) -> Response:
    calls = [ctx.api("GET", _api_board(group_id)), ctx.api("GET", "/v1/roles")]
    if group_id:
        calls += [ctx.api("GET", f"/v1/groups/{group_id}"), ctx.api("GET", f"/v1/groups/{group_id}/roles/coverage.svg")]
    board_answer, matrix_answer, *more = await asyncio.gather(*calls)
    for answer in (board_answer, matrix_answer):
        if not answer.ok:
            return await _refused(ctx, answer)
    board = board_answer.body
    group = more[0].body if more and more[0].ok and isinstance(more[0].body, dict) else None
    picture = inline_svg(more[1]) if group_id else None
    matrix = matrix_view(ctx, matrix_answer.body)
    holders = [h for v in board.get("vacancies") or () for h in v.get("holders") or ()]
    names = await _names(ctx, holders, group)
    me = ctx.session.member_id
    vacancies = []
    for v in board.get("vacancies") or ():
        role = matrix["roles"].get(v["role"], {"title": "", "quality": v["quality"]})
        people = [{"member_id": h, "name": names.get(h) or ctx.t("roles_someone"), "me": h == me}
                  for h in v.get("holders") or ()]
        vacancies.append({**v, "title": role["title"], "quality_name": matrix["names"].get(v["quality"], v["quality"]),
                          "people": people})
    mine, most = board.get("my_picks", 0), board.get("max_picks", 0)
    return await ctx.render(
        "roles_board.html", status=status, board=board, group_id=group_id, url=board_url(group_id),
        title=(group or {}).get("title") or board.get("group_title") or group_id, vacancies=vacancies,
        window=await window_view(ctx, board.get("window") or {}), matrix=matrix, picture=picture,
        uncovered=quality_list(matrix, board.get("qualities_uncovered")), full=bool(most) and mine >= most,
        error=error, values=values or {}, coordination=group_id is None,
        season=season_words(ctx, board.get("season_id"), {}))


@router.get("/groups/{group_id}/roles")
async def group_board(ctx: Page, group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _board_page(ctx, group_id)


@router.get("/roles/coordination")
async def coordination_board(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _board_page(ctx, None)


async def _pick(ctx: Ctx, group_id: str | None, role: int, step: str) -> Response:
    """Take or give up a role; the board again, with what was done or the API's refusal said."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("PUT" if step == "pick" else "DELETE", f"{_api_board(group_id)}/{role}/pick")
    return await _done(ctx, answer, f"roles_done_{step}", f"{board_url(group_id)}#role-{role}",
                       lambda status, why: _board_page(ctx, group_id, status, ctx.t("roles_refused", n=role, why=why)),
                       n=role)


async def _capacity(ctx: Ctx, group_id: str | None, role: int) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    typed = _text(ctx, "capacity", 10)
    answer = await ctx.api("PUT", f"{_api_board(group_id)}/{role}/capacity",
                           json={"capacity": int(typed) if typed.isdigit() else typed})
    return await _done(ctx, answer, "roles_done_capacity", f"{board_url(group_id)}#role-{role}",
                       lambda status, why: _board_page(ctx, group_id, status, ctx.t("roles_refused", n=role, why=why),
                                                       {role: typed}),
                       n=role, capacity=typed)


@router.post("/groups/{group_id}/roles/{role}/pick")
async def pick_group_role(ctx: Form, role: GroupRole, group_id: str = ID()) -> Response:
    return await _pick(ctx, group_id, role, "pick")


@router.post("/groups/{group_id}/roles/{role}/release")
async def release_group_role(ctx: Form, role: GroupRole, group_id: str = ID()) -> Response:
    return await _pick(ctx, group_id, role, "release")


@router.post("/groups/{group_id}/roles/{role}/capacity")
async def set_group_capacity(ctx: Form, role: GroupRole, group_id: str = ID()) -> Response:
    return await _capacity(ctx, group_id, role)


@router.post("/roles/coordination/{role}/pick")
async def pick_coordination_role(ctx: Form, role: CoordinationRole) -> Response:
    return await _pick(ctx, None, role, "pick")


@router.post("/roles/coordination/{role}/release")
async def release_coordination_role(ctx: Form, role: CoordinationRole) -> Response:
    return await _pick(ctx, None, role, "release")


@router.post("/roles/coordination/{role}/capacity")
async def set_coordination_capacity(ctx: Form, role: CoordinationRole) -> Response:
    return await _capacity(ctx, None, role)


# ------------------------------------------------------------------ my development map


@router.get("/roles/my")
async def my_map(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    map_answer, picture_answer, matrix_answer = await asyncio.gather(
        ctx.api("GET", "/v1/me/roles"), ctx.api("GET", "/v1/me/roles/map.svg"), ctx.api("GET", "/v1/roles"))
    for answer in (map_answer, matrix_answer):
        if not answer.ok:
            return await _refused(ctx, answer)
    the_map, matrix = map_answer.body, matrix_view(ctx, matrix_answer.body)
    window = await window_view(ctx, the_map.get("window") or {})
    titles = await season_titles(ctx, *(s["season_id"] for s in the_map.get("seasons") or ()))

    def role_of(number: int | None) -> dict:
        return matrix["roles"].get(number or 0, {"number": number, "title": "", "quality": ""})

    seasons = [{**s, "name": season_words(ctx, s["season_id"], titles),
                "roles": [{**h, "info": role_of(h["role"]), "url": board_url(h.get("group_id")),
                           "quality_name": matrix["names"].get(h["quality"], h["quality"])} for h in s["roles"]]}
               for s in the_map.get("seasons") or ()]
    suggestions = [{**s, "quality_name": matrix["names"].get(s["quality"], s["quality"]),
                    "info": role_of(s.get("role")),
                    "url": f"{board_url(s.get('group_id'))}#role-{s['role']}" if s.get("role") else None}
                   for s in the_map.get("suggestions") or ()]
    return await ctx.render("roles_map.html", seasons=seasons, suggestions=suggestions, window=window,
                            picture=inline_svg(picture_answer), matrix=matrix,
                            covered=quality_list(matrix, the_map.get("qualities_covered")),
                            missing=quality_list(matrix, the_map.get("vision_missing")))


# ------------------------------------------------------------------ what other pages show of the roles


def map_vacancies(vacancies: Any) -> dict[str, int] | None:
    """A groups map card's role places taken and open (``MapGroup.vacancies``): None until a pick window has
    ever opened, and for a gateway that does not say both."""
    if not isinstance(vacancies, dict):
        return None
    taken, left = vacancies.get("taken"), vacancies.get("open")
    return {"taken": taken, "open": left} if isinstance(taken, int) and isinstance(left, int) else None


def report_lines(ctx: Ctx, reports: Any) -> tuple[list[dict], list[dict]]:
    """A season's report lines split: the roles service's, worded (how many roles were taken, in how many
    groups each role stayed open), and the rest as they came."""
    roles, others = [], []
    for line in reports or ():
        key, value = line.get("key"), line.get("value")
        if line.get("source") != "roles" or not isinstance(value, int):
            others.append(line)
        elif key in REPORT_KEYS:
            roles.append({"key": key, "label": ctx.t(f"roles_report_{key}"), "value": value,
                          "order": REPORT_KEYS.index(key)})
        elif isinstance(key, str) and (m := re.fullmatch(r"open_role_(\d{1,2})", key)) and 1 <= int(m.group(1)) <= 12:
            n = int(m.group(1))
            words = "roles_report_open_role" if n <= 9 else "roles_report_open_coordination"
            roles.append({"key": key, "label": ctx.t(words, n=n), "value": value, "order": len(REPORT_KEYS) + n})
        else:
            others.append(line)
    return sorted(roles, key=lambda r: r["order"]), others
