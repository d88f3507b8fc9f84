"""Feedback (issue 15): HR-ВЛИЯНИЕ games with their rounds, teams and observers (/games, /games/{id}), an
observer's form for a team in an open round (/games/{id}/rounds/{n}/teams/{gid}), a team's feedback by round with
its members' answers (/games/{id}/teams/{gid}), what an observer still owes (/feedback/owed), the feedback to
one's teams by quality of the matrix (/feedback/my), and requests for expert help (/help...): writing one, one's
requests, a request's thread, and the moderators' queue where they route or decline them.

Each page is a few calls of the gateway's public API (/v1/games..., /v1/me/feedback..., /v1/help-requests...)
and a template. The quality standard belongs to the feedback service alone: as a member types, the page's script
asks the service's own check (POST /v1/feedback/check, /v1/help-requests/check) through the web client's small
endpoints (/feedback/check, /help/check), which say beside each part what the check answered. The web client
counts no word itself, so the form and the service can never disagree; without the script the refusal on
sending names the part, in the same service's words.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, Response

from services.web.calendar_pages import _moderating, _refusal
from services.web.context import Ctx, Form, Page
from services.web.gateway import Answer
from services.web.pages import ID, ID_PATTERN, _refused, _sign_in_first, _text
from services.web.roles_pages import matrix_view

router = APIRouter(include_in_schema=False)

#: the unified developmental format, in its order; the four parts of a request for expert help
FEEDBACK_PARTS = ("situation", "behaviour", "impact", "recommendation")
HELP_PARTS = ("need", "data", "closure", "dialogue")
HELPED = ("yes", "partly", "no")
#: where the API would refuse a text anyway (libs/contracts/feedback.py): cut there, not later
WORDS_LIMIT, SHORT_LIMIT, TOPIC_LIMIT, REASON_LIMIT = 4000, 1000, 200, 2000
MAX_ROUNDS = 20
#: the members whose names a page looks up at once (hosts, observers, rosters, askers, authors)
NAMES_READ = 100
#: the working groups a moderator may route a request to
GROUPS_READ = 200
RoundNo = Annotated[int, Path(ge=1, le=MAX_ROUNDS)]
FeedbackId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_:-]{1,200}$")]
_ID = re.compile(ID_PATTERN)
_TARGET = re.compile(r"^(group|expert):([A-Za-z0-9_-]{1,64})$")
NO_MATRIX: dict[str, Any] = {"roles": {}, "qualities": [], "names": {}}


def game_url(game_id: str) -> str:
    return f"/games/{game_id}"


def form_url(game_id: str, round_no: int, group_id: str) -> str:
    return f"/games/{game_id}/rounds/{round_no}/teams/{group_id}"


def team_url(game_id: str, group_id: str) -> str:
    return f"/games/{game_id}/teams/{group_id}"


def request_url(request_id: str) -> str:
    return f"/help/requests/{request_id}"


def anchor(feedback_id: str) -> str:
    """A piece's id on its page: the feedback id without the colons a CSS selector would trip on."""
    return "piece-" + feedback_id.replace(":", "-")


# ------------------------------------------------------------------ words


def part_title(ctx: Ctx, part: Any) -> str:
    code = f"fb_part_{part}"
    return ctx.t(code) if part in FEEDBACK_PARTS + HELP_PARTS else str(part)


def problem_words(ctx: Ctx, problem: dict) -> str:
    """What the service's check said of one part, in the reader's words (its codes, never a rule of ours)."""
    part = part_title(ctx, problem.get("part"))
    if problem.get("code") == "too_thin":
        return ctx.t("fb_problem_too_thin", part=part, n=problem.get("min_words") or "?")
    if problem.get("code") == "same_as":
        return ctx.t("fb_problem_same_as", part=part, other=part_title(ctx, problem.get("same_as")))
    return ctx.t("fb_problem_missing", part=part)


def notes(ctx: Ctx, parts: tuple[str, ...], problems: Any) -> dict[str, dict[str, Any]]:
    """Each part: the service's first problem with it, said; a part it found nothing wrong with is fine."""
    said: dict[str, dict[str, Any]] = {}
    for problem in problems or ():
        if isinstance(problem, dict) and problem.get("part") in parts and problem["part"] not in said:
            said[problem["part"]] = {"ok": False, "words": problem_words(ctx, problem)}
    return {p: said.get(p) or {"ok": True, "words": ctx.t("fb_part_ok", part=part_title(ctx, p))} for p in parts}


def summary(ctx: Ctx, parts: tuple[str, ...], checked: dict[str, dict[str, Any]]) -> str:
    left = [part_title(ctx, p) for p in parts if not checked[p]["ok"]]
    return ctx.t("fb_check_left", parts=", ".join(left)) if left else ctx.t("fb_check_ok")


def why(ctx: Ctx, answer: Answer, labels: dict[str, str]) -> str:
    """A refusal said: each field the API named with its label, else the API's title and detail (the detail of a
    format's refusal names the part)."""
    fields = answer.field_errors()
    if fields:
        return "; ".join(f"{labels.get(name, name)}: {message}" for name, message in fields.items())
    return _refusal(answer)


async def _next(ctx: Ctx, answer: Answer, done: str, to: str, again: Callable[[int, str], Awaitable[Response]],
                labels: dict[str, str] | None = None, **said: Any) -> Response:
    """Where a form goes next: on with what was done said, or its page again with the API's refusal (each field
    it named by its label)."""
    if answer.ok:
        ctx.session.say("ok", done, **said)
        return ctx.redirect(to)
    if answer.status == 401 or answer.status >= 500:
        return await _refused(ctx, answer)
    return await again(answer.status, why(ctx, answer, labels or {}))


def refused_problems(answer: Answer) -> list[dict]:
    """The problems the service found with every part, which its refusal carries for the form."""
    params = answer.body.get("params") if isinstance(answer.body, dict) else None
    problems = params.get("problems") if isinstance(params, dict) else None
    return [p for p in problems if isinstance(p, dict)] if isinstance(problems, list) else []


def form_parts(ctx: Ctx, parts: tuple[str, ...], values: dict, problems: list[dict]) -> list[dict[str, Any]]:
    """The parts as a form shows them: name, hint, what was typed, and what the service refused in it."""
    refused = notes(ctx, parts, problems) if problems else {}
    return [{"name": p, "title": part_title(ctx, p), "hint": ctx.t(f"fb_hint_{p}"), "value": values.get(p) or "",
             "problem": refused[p]["words"] if p in refused and not refused[p]["ok"] else None} for p in parts]


def _texts(ctx: Ctx, parts: tuple[str, ...]) -> dict[str, str]:
    return {p: _text(ctx, p, WORDS_LIMIT) for p in parts}


async def _names(ctx: Ctx, ids: Any) -> dict[str, str | None]:
    """Members' names from their cards; None for a member who is no more (the card is gone)."""
    me = ctx.session.member_id
    wanted = [i for i in dict.fromkeys(ids) if isinstance(i, str) and i != me and _ID.match(i)][:NAMES_READ]
    looked = await asyncio.gather(*(ctx.api("GET", f"/v1/colleagues/{i}") for i in wanted))
    names: dict[str, str | None] = {}
    for member_id, answer in zip(wanted, looked, strict=True):
        if answer.ok and isinstance(answer.body, dict) and answer.body.get("full_name"):
            names[member_id] = answer.body["full_name"]
        elif answer.status == 404:
            names[member_id] = None
    return names


def name_of(ctx: Ctx, names: dict[str, str | None], member_id: str | None) -> str:
    if not member_id:
        return ctx.t("deleted_member")
    if member_id == ctx.session.member_id:
        return ctx.t("you")
    if member_id in names:
        return names[member_id] or ctx.t("deleted_member")
    return ctx.t("fb_someone")


async def _found(ctx: Ctx, who: str) -> tuple[list[dict], str | None]:
    """Colleagues found by name for a moderator's pick (an observer, an expert), and what went wrong."""
    if not who:
        return [], None
    answer = await ctx.api("GET", "/v1/colleagues", params={"q": who})
    if not answer.ok:
        return [], answer.title or ctx.t("unavailable_text")
    return [{"member_id": c["member_id"], "name": c.get("full_name") or c["member_id"]}
            for c in answer.body.get("items") or () if c.get("member_id") != ctx.session.member_id], None


def _who(ctx: Ctx, who: str) -> str:
    return who.strip()[:100] if _moderating(ctx) else ""


# ------------------------------------------------------------------ the live check


async def _live_check(ctx: Ctx, api_path: str, parts: tuple[str, ...]) -> Response:
    """The service's check of a draft, said part by part for the page's script (JSON); nothing is stored."""
    if not ctx.session.signed_in:
        return ctx.send(JSONResponse({"code": "login_required"}, status_code=401))
    answer = await ctx.api("POST", api_path, json=_texts(ctx, parts))
    if not answer.ok or not isinstance(answer.body, dict):
        return ctx.send(JSONResponse({"code": answer.code, "summary": why(ctx, answer, {
            p: part_title(ctx, p) for p in parts})}, status_code=answer.status if answer.status >= 400 else 502))
    checked = notes(ctx, parts, answer.body.get("problems"))
    return ctx.send(JSONResponse({"ok": bool(answer.body.get("ok")), "parts": checked,
                                  "summary": summary(ctx, parts, checked)}))


@router.post("/feedback/check")
async def check_feedback(ctx: Form) -> Response:
    return await _live_check(ctx, "/v1/feedback/check", FEEDBACK_PARTS)


@router.post("/help/check")
async def check_help(ctx: Form) -> Response:
    return await _live_check(ctx, "/v1/help-requests/check", HELP_PARTS)


# ------------------------------------------------------------------ games


def _game(ctx: Ctx, game: dict) -> dict[str, Any]:
    rounds = list(game.get("rounds") or ())
    open_round = next((r["round_no"] for r in rounds if r["status"] == "open"), None)
    cancelled = game.get("status") == "cancelled"
    return {**game, "when": ctx.when(game.get("starts_at")), "rounds": rounds, "open_round": open_round,
            "closed_rounds": sum(1 for r in rounds if r["status"] == "closed"), "cancelled": cancelled,
            "next_round": len(rounds) + 1 if len(rounds) < MAX_ROUNDS and not cancelled else None,
            "runs": bool(game.get("is_host")) or _moderating(ctx)}


def _team_title(ctx: Ctx, team: dict | None) -> str:
    return (team or {}).get("title") or ctx.t("fb_team_unnamed")


@router.get("/games")
async def games_page(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("GET", "/v1/games")
    if not answer.ok:
        return await _refused(ctx, answer)
    return await ctx.render("feedback_games.html", games=[_game(ctx, g) for g in answer.body.get("items") or ()])


@router.get("/games/{game_id}")
async def game_page(ctx: Page, game_id: str = ID(), who: str = "") -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _game_page(ctx, game_id, who=who)


async def _game_page(ctx: Ctx, game_id: str, *, who: str = "", status: int = 200, error: str | None = None,
                     error_at: str = "game") -> Response:
    """The game; a refusal is said in the section whose form was refused (``error_at``: rounds, observers)."""
    who = _who(ctx, who)
    reads = [ctx.api("GET", f"/v1/games/{game_id}")]
    if ctx.has("observer"):
        reads.append(ctx.api("GET", "/v1/me/feedback/owed"))
    answers = await asyncio.gather(*reads)
    if not answers[0].ok:
        return await _refused(ctx, answers[0])
    game = _game(ctx, answers[0].body)
    owed = answers[1].body.get("items") or () if len(answers) > 1 and answers[1].ok else ()
    written = {o["group_id"]: o["written"] for o in owed
               if o.get("game_id") == game_id and o.get("round_no") == game["open_round"]}
    teams = list(game.get("teams") or ())
    people = [game.get("host_id"), *(game.get("observers") or ()), *(m for t in teams for m in t["roster"])]
    names, (found, found_error) = await asyncio.gather(_names(ctx, people), _found(ctx, who))
    mine = set(game.get("my_team_ids") or ())
    reads_all = game.get("is_observer") or _moderating(ctx)
    shown = [{**t, "title": _team_title(ctx, t), "roster_names": [name_of(ctx, names, m) for m in t["roster"]],
              "mine": t["group_id"] in mine, "readable": reads_all or t["group_id"] in mine,
              "written": written.get(t["group_id"]),
              "form": form_url(game_id, game["open_round"], t["group_id"]) if game["open_round"] else None}
             for t in teams]
    observers = [{"member_id": o, "name": name_of(ctx, names, o)} for o in game.get("observers") or ()]
    return await ctx.render("feedback_game.html", status=status, game=game, teams=shown, observers=observers,
                            host=name_of(ctx, names, game.get("host_id")), moderating=_moderating(ctx),
                            writing=bool(game.get("is_observer") and game["open_round"] and not game["cancelled"]),
                            who=who, found=found, found_error=found_error, error=error, error_at=error_at)


def _again_game(ctx: Ctx, game_id: str, where: str) -> Callable[[int, str], Awaitable[Response]]:
    return lambda status, error: _game_page(ctx, game_id, status=status, error=error, error_at=where)


@router.post("/games/{game_id}/observers")
async def assign_observer(ctx: Form, game_id: str = ID()) -> Response:
    """A moderator assigns the colleague they found and picked; the service says whether they may observe."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    observer_id = _text(ctx, "observer_id", 64)
    if not _ID.match(observer_id):
        return await _game_page(ctx, game_id, status=422, error=ctx.t("fb_choose_colleague"), error_at="observers")
    answer = await ctx.api("PUT", f"/v1/games/{game_id}/observers/{observer_id}")
    return await _next(ctx, answer, "fb_observer_assigned", game_url(game_id) + "#observers",
                       _again_game(ctx, game_id, "observers"))


@router.post("/games/{game_id}/observers/{observer_id}/remove")
async def unassign_observer(ctx: Form, game_id: str = ID(), observer_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("DELETE", f"/v1/games/{game_id}/observers/{observer_id}")
    return await _next(ctx, answer, "fb_observer_unassigned", game_url(game_id) + "#observers",
                       _again_game(ctx, game_id, "observers"))


@router.post("/games/{game_id}/rounds/{step}")
async def move_round(ctx: Form, step: str, game_id: str = ID()) -> Response:
    """The host (or a moderator) opens the next round, or closes the open one, which publishes its feedback."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    if step not in ("open", "close"):
        return await ctx.refuse(404, ctx.t("not_found_title"), ctx.t("not_found_text"))
    path = f"/v1/games/{game_id}/rounds" + ("/close" if step == "close" else "")
    answer = await ctx.api("POST", path)
    said: dict[str, Any] = {}
    if answer.ok:
        rounds = [r for r in answer.body.get("rounds") or () if step == "open" or r["status"] == "closed"]
        said["n"] = rounds[-1]["round_no"] if rounds else "?"
    return await _next(ctx, answer, "fb_round_opened" if step == "open" else "fb_round_closed_done",
                       game_url(game_id) + "#rounds", _again_game(ctx, game_id, "rounds"), **said)


# ------------------------------------------------------------------ the observer's form


@router.get("/games/{game_id}/rounds/{round_no}/teams/{group_id}")
async def feedback_form(ctx: Page, round_no: RoundNo, game_id: str = ID(), group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _form_page(ctx, game_id, round_no, group_id)


async def _form_page(ctx: Ctx, game_id: str, round_no: int, group_id: str, *, status: int = 200,
                     error: str | None = None, values: dict | None = None, problems: list[dict] | None = None,
                     errors: dict | None = None) -> Response:
    game_answer, items_answer, matrix_answer = await asyncio.gather(
        ctx.api("GET", f"/v1/games/{game_id}"), ctx.api("GET", f"/v1/games/{game_id}/teams/{group_id}/feedback"),
        ctx.api("GET", "/v1/roles"))
    if not game_answer.ok:
        return await _refused(ctx, game_answer)
    game = _game(ctx, game_answer.body)
    team = next((t for t in game.get("teams") or () if t["group_id"] == group_id), None)
    the_round = next((r for r in game["rounds"] if r["round_no"] == round_no), None)
    if team is None or the_round is None:
        return await ctx.refuse(404, ctx.t("not_found_title"),
                                ctx.t("fb_team_unknown" if team is None else "fb_round_unknown"))
    if not items_answer.ok:
        return await _refused(ctx, items_answer)
    me = ctx.session.member_id
    piece = next((i for i in items_answer.body.get("items") or ()
                  if i["round_no"] == round_no and i.get("observer_id") == me), None)
    matrix = matrix_view(ctx, matrix_answer.body) if matrix_answer.ok else NO_MATRIX
    writing = the_round["status"] == "open" and not game["cancelled"] and bool(game.get("is_observer"))
    if values is None:
        values = {**{p: (piece or {}).get(p) or "" for p in FEEDBACK_PARTS},
                  "quality": (piece or {}).get("quality") or "", "role": str((piece or {}).get("role") or "")}
    return await ctx.render(
        "feedback_form.html", status=status, game=game, team={**team, "title": _team_title(ctx, team)},
        round=the_round, piece=piece, matrix=matrix, writing=writing, values=values, error=error,
        errors=errors or {}, parts=form_parts(ctx, FEEDBACK_PARTS, values, problems or []),
        shown_parts=[{"title": part_title(ctx, p), "text": (piece or {}).get(p)} for p in FEEDBACK_PARTS],
        action=form_url(game_id, round_no, group_id))


@router.post("/games/{game_id}/rounds/{round_no}/teams/{group_id}")
async def write_feedback(ctx: Form, round_no: RoundNo, game_id: str = ID(), group_id: str = ID()) -> Response:
    """The observer's feedback written or rewritten; a refusal comes back with every part the check named."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    values: dict[str, Any] = {**_texts(ctx, FEEDBACK_PARTS), "quality": _text(ctx, "quality", 20),
                              "role": _text(ctx, "role", 10)}
    role: Any = int(values["role"]) if values["role"].isdigit() else (values["role"] or None)
    # a quality not chosen is left out: the API says it is required, next to its field
    body = {**{p: values[p] for p in FEEDBACK_PARTS}, "role": role,
            **({"quality": values["quality"]} if values["quality"] else {})}
    answer = await ctx.api("PUT", f"/v1/games/{game_id}/rounds/{round_no}/teams/{group_id}/feedback", json=body)
    if answer.ok:
        ctx.session.say("ok", "fb_saved")
        return ctx.redirect(form_url(game_id, round_no, group_id))
    if answer.status == 401 or answer.status >= 500 or answer.code == "game_not_found":
        return await _refused(ctx, answer)
    labels = {p: part_title(ctx, p) for p in FEEDBACK_PARTS} | {"quality": ctx.t("fb_quality"),
                                                                  "role": ctx.t("fb_role")}
    return await _form_page(ctx, game_id, round_no, group_id, status=answer.status, error=why(ctx, answer, labels),
                            values=values, problems=refused_problems(answer), errors=answer.field_errors())


# ------------------------------------------------------------------ a team's feedback


def _piece(ctx: Ctx, item: dict, names: dict, matrix: dict, roster: tuple[str, ...] = ()) -> dict[str, Any]:
    """A piece of feedback as a page shows it: its parts by name, its quality and role in words, the answers."""
    me = ctx.session.member_id
    role = matrix["roles"].get(item.get("role") or 0)
    marks = [{**m, "name": name_of(ctx, names, m.get("member_id"))} for m in item.get("marks") or ()]
    status = item.get("status")
    if status == "draft":
        status_words = ctx.t("fb_status_draft" if item.get("observer_id") == me else "fb_status_draft_other")
    else:
        status_words = ctx.t("fb_status_published")
    return {**item, "anchor": anchor(item["feedback_id"]), "observer": name_of(ctx, names, item.get("observer_id")),
            "status_words": status_words,
            "quality_name": matrix["names"].get(item.get("quality"), item.get("quality")),
            "role_words": ctx.t("fb_role_is", n=item["role"], title=role["title"] if role else "")
            if item.get("role") else "",
            "parts": [{"name": p, "title": part_title(ctx, p), "text": item.get(p)} for p in FEEDBACK_PARTS],
            "marks": marks, "my_mark": next((m for m in marks if m.get("member_id") == me), None),
            "can_mark": item.get("status") == "published" and me in roster}


@router.get("/games/{game_id}/teams/{group_id}")
async def team_page(ctx: Page, game_id: str = ID(), group_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _team_page(ctx, game_id, group_id)


async def _team_page(ctx: Ctx, game_id: str, group_id: str, *, status: int = 200, error: str | None = None,
                     values: dict | None = None) -> Response:
    game_answer, items_answer, matrix_answer = await asyncio.gather(
        ctx.api("GET", f"/v1/games/{game_id}"), ctx.api("GET", f"/v1/games/{game_id}/teams/{group_id}/feedback"),
        ctx.api("GET", "/v1/roles"))
    if not game_answer.ok:
        return await _refused(ctx, game_answer)
    game = _game(ctx, game_answer.body)
    team = next((t for t in game.get("teams") or () if t["group_id"] == group_id), None)
    if team is None:
        return await ctx.refuse(404, ctx.t("not_found_title"), ctx.t("fb_team_unknown"))
    if not items_answer.ok:
        return await _refused(ctx, items_answer)
    items = list(items_answer.body.get("items") or ())
    matrix = matrix_view(ctx, matrix_answer.body) if matrix_answer.ok else NO_MATRIX
    names = await _names(ctx, [*(i.get("observer_id") for i in items),
                               *(m.get("member_id") for i in items for m in i.get("marks") or ())])
    rounds: dict[int, list[dict]] = {}
    for item in items:
        rounds.setdefault(item["round_no"], []).append(_piece(ctx, item, names, matrix, tuple(team["roster"])))
    status_of = {r["round_no"]: r["status"] for r in game["rounds"]}
    return await ctx.render("feedback_team.html", status=status, game=game, team={**team, "title": _team_title(
        ctx, team)}, rounds=[{"round_no": n, "status": status_of.get(n), "pieces": rounds[n]} for n in sorted(rounds)],
        error=error, values=values or {})


@router.post("/games/{game_id}/teams/{group_id}/feedback/{feedback_id}/mark")
async def mark_feedback(ctx: Form, feedback_id: FeedbackId, game_id: str = ID(), group_id: str = ID()) -> Response:
    """A team member's answer to a published piece: useful or not, and what they will do with it."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    useful, intention = _text(ctx, "useful", 10), _text(ctx, "intention", SHORT_LIMIT)
    body: dict[str, Any] = {"intention": intention or None}
    if useful:
        body["useful"] = {"yes": True, "no": False}.get(useful, useful)
    answer = await ctx.api("PUT", f"/v1/feedback/{feedback_id}/mark", json=body)
    if answer.ok:
        ctx.session.say("ok", "fb_marked")
        return ctx.redirect(team_url(game_id, group_id) + "#" + anchor(feedback_id))
    if answer.status == 401 or answer.status >= 500:
        return await _refused(ctx, answer)
    labels = {"useful": ctx.t("fb_mark_legend"), "intention": ctx.t("fb_mark_intention")}
    return await _team_page(ctx, game_id, group_id, status=answer.status, error=why(ctx, answer, labels),
                            values={feedback_id: {"useful": useful, "intention": intention}})


# ------------------------------------------------------------------ my feedback, what I owe


@router.get("/feedback/my")
async def my_feedback(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    mine_answer, games_answer, matrix_answer = await asyncio.gather(
        ctx.api("GET", "/v1/me/feedback"), ctx.api("GET", "/v1/games"), ctx.api("GET", "/v1/roles"))
    if not mine_answer.ok:
        return await _refused(ctx, mine_answer)
    matrix = matrix_view(ctx, matrix_answer.body) if matrix_answer.ok else NO_MATRIX
    games = {g["game_id"]: g for g in (games_answer.body.get("items") or () if games_answer.ok else ())}
    qualities = list(mine_answer.body.get("qualities") or ())
    items = [i for q in qualities for i in q.get("items") or ()]
    names = await _names(ctx, [i.get("observer_id") for i in items])

    def where(item: dict) -> dict[str, Any]:
        game = games.get(item["game_id"]) or {}
        team = next((t for t in game.get("teams") or () if t["group_id"] == item["group_id"]), None)
        return {**_piece(ctx, item, names, matrix), "url": team_url(item["game_id"], item["group_id"]),
                "in_game": ctx.t("fb_in_game", game=game.get("title") or ctx.t("fb_menu_games"),
                                 team=_team_title(ctx, team), n=item["round_no"])}

    groups = [{"quality": q["quality"], "name": matrix["names"].get(q["quality"], q["quality"]),
               "pieces": [where(i) for i in q.get("items") or ()]} for q in qualities]
    return await ctx.render("feedback_my.html", groups=groups)


@router.get("/feedback/owed")
async def owed_feedback(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("GET", "/v1/me/feedback/owed")
    if not answer.ok:
        return await _refused(ctx, answer)
    items = [{**o, "url": form_url(o["game_id"], o["round_no"], o["group_id"]),
              "team": o.get("group_title") or ctx.t("fb_team_unnamed")} for o in answer.body.get("items") or ()]
    return await ctx.render("feedback_owed.html", items=items)


# ------------------------------------------------------------------ requests for expert help


def _request(ctx: Ctx, r: dict, names: dict, groups: dict[str, str]) -> dict[str, Any]:
    return {**r, "shown_title": r.get("title") or ctx.t("fb_help_untitled"),
            "asker": name_of(ctx, names, r.get("asker_id")), "mine": r.get("asker_id") == ctx.session.member_id,
            "when": ctx.when(r.get("requested_at")),
            "expert": name_of(ctx, names, r.get("expert_id")) if r.get("expert_id") else None,
            "group": (groups.get(r["group_id"]) or ctx.t("fb_a_group")) if r.get("group_id") else None,
            "parts": [{"name": p, "title": part_title(ctx, p), "text": r.get(p)} for p in HELP_PARTS],
            "messages": [{**m, "author": name_of(ctx, names, m.get("author_id")), "when": ctx.when(m.get("posted_at")),
                          "own": m.get("author_id") == ctx.session.member_id} for m in r.get("messages") or ()]}


@router.get("/help")
async def help_page(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    reads = [ctx.api("GET", "/v1/help-requests"), ctx.api("GET", "/v1/help-requests", params={"scope": "to_me"})]
    if _moderating(ctx):
        reads.append(ctx.api("GET", "/v1/help-requests", params={"scope": "queue"}))
    answers = await asyncio.gather(*reads)
    if not answers[0].ok:
        return await _refused(ctx, answers[0])
    mine = list(answers[0].body.get("items") or ())
    to_me = list(answers[1].body.get("items") or ()) if answers[1].ok else []
    names = await _names(ctx, [r.get(k) for r in mine + to_me for k in ("asker_id", "expert_id")])
    queue = len(answers[2].body.get("items") or ()) if len(answers) > 2 and answers[2].ok else None
    return await ctx.render("feedback_help.html", mine=[_request(ctx, r, names, {}) for r in mine],
                            to_me=[_request(ctx, r, names, {}) for r in to_me], queue=queue)


@router.get("/help/new")
async def new_request_page(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _new_request(ctx)


async def _new_request(ctx: Ctx, *, status: int = 200, error: str | None = None, values: dict | None = None,
                       problems: list[dict] | None = None, errors: dict | None = None) -> Response:
    values = values or {}
    return await ctx.render("feedback_help_new.html", status=status, error=error, values=values,
                            errors=errors or {}, parts=form_parts(ctx, HELP_PARTS, values, problems or []))


@router.post("/help/new")
async def request_help(ctx: Form) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    values = {"title": _text(ctx, "title", TOPIC_LIMIT), **_texts(ctx, HELP_PARTS)}
    answer = await ctx.api("POST", "/v1/help-requests", json=values)
    if answer.ok:
        ctx.session.say("ok", "fb_help_sent")
        return ctx.redirect(request_url(answer.body["request_id"]))
    if answer.status == 401 or answer.status >= 500:
        return await _refused(ctx, answer)
    labels = {p: part_title(ctx, p) for p in HELP_PARTS} | {"title": ctx.t("fb_help_topic")}
    return await _new_request(ctx, status=answer.status, error=why(ctx, answer, labels), values=values,
                              problems=refused_problems(answer), errors=answer.field_errors())


async def _routing(ctx: Ctx, who: str) -> dict[str, Any]:
    """What a moderator's routing form offers: the active working groups and the colleagues found by name."""
    groups_answer, (found, found_error) = await asyncio.gather(
        ctx.api("GET", "/v1/groups", params={"status": "active", "limit": GROUPS_READ}), _found(ctx, who))
    groups = [{"group_id": g["group_id"], "title": g["title"]}
              for g in (groups_answer.body.get("items") or () if groups_answer.ok else ())]
    return {"groups": groups, "experts": found, "error": found_error, "who": who}


@router.get("/help/requests/{request_id}")
async def request_page(ctx: Page, request_id: str = ID(), who: str = "") -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _request_page(ctx, request_id, who=who)


async def _request_page(ctx: Ctx, request_id: str, *, who: str = "", status: int = 200, error: str | None = None,
                        values: dict | None = None) -> Response:
    answer = await ctx.api("GET", f"/v1/help-requests/{request_id}")
    if not answer.ok:
        return await _refused(ctx, answer)
    r = answer.body
    routing = await _routing(ctx, _who(ctx, who)) \
        if _moderating(ctx) and r.get("status") in ("submitted", "routed") else None
    groups = {g["group_id"]: g["title"] for g in (routing or {}).get("groups") or ()}
    group_id = r.get("group_id")
    reads: list[Awaitable[Any]] = [_names(ctx, [r.get("asker_id"), r.get("expert_id"),
                                                *(m.get("author_id") for m in r.get("messages") or ())])]
    if group_id and group_id not in groups and _ID.match(group_id):
        reads.append(ctx.api("GET", f"/v1/groups/{group_id}"))
    names, *group = await asyncio.gather(*reads)
    if group and group[0].ok and isinstance(group[0].body, dict):
        groups[group_id] = group[0].body.get("title")
    return await ctx.render("feedback_help_request.html", status=status, r=_request(ctx, r, names, groups),
                            routing=routing, moderating=_moderating(ctx), error=error, values=values or {},
                            helped=HELPED)


@router.get("/help/queue")
async def queue_page(ctx: Page, who: str = "") -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _queue_page(ctx, who=who)


async def _queue_page(ctx: Ctx, *, who: str = "", status: int = 200, error: str | None = None) -> Response:
    answer = await ctx.api("GET", "/v1/help-requests", params={"scope": "queue"})
    if not answer.ok:
        return await _refused(ctx, answer)
    items = list(answer.body.get("items") or ())
    names, routing = await asyncio.gather(_names(ctx, [r.get("asker_id") for r in items]),
                                          _routing(ctx, _who(ctx, who)))
    return await ctx.render("feedback_help_queue.html", status=status, routing=routing, error=error,
                            items=[_request(ctx, r, names, {}) for r in items])


def _again_help(ctx: Ctx, request_id: str, values: dict | None = None) -> Callable[[int, str], Awaitable[Response]]:
    """A refused form on a request: the page it was sent from again (the queue, or the request's page)."""
    if _text(ctx, "from", 10) == "queue":
        return lambda status, error: _queue_page(ctx, status=status, error=error)
    return lambda status, error: _request_page(ctx, request_id, status=status, error=error, values=values)


def _after_help(ctx: Ctx, request_id: str) -> str:
    return "/help/queue" if _text(ctx, "from", 10) == "queue" else request_url(request_id)


@router.post("/help/requests/{request_id}/route")
async def route_request(ctx: Form, request_id: str = ID()) -> Response:
    """A moderator routes the request to the working group or the expert picked in one list."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    target = _TARGET.match(_text(ctx, "target", 80))
    again = _again_help(ctx, request_id)
    if target is None:
        return await again(422, ctx.t("fb_route_first"))
    answer = await ctx.api("POST", f"/v1/help-requests/{request_id}/route",
                           json={f"{target.group(1)}_id": target.group(2)})
    return await _next(ctx, answer, "fb_routed", _after_help(ctx, request_id), again)


@router.post("/help/requests/{request_id}/decline")
async def decline_request(ctx: Form, request_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("POST", f"/v1/help-requests/{request_id}/decline",
                           json={"reason": _text(ctx, "reason", REASON_LIMIT)})
    return await _next(ctx, answer, "fb_declined", _after_help(ctx, request_id), _again_help(ctx, request_id),
                       {"reason": ctx.t("fb_decline_reason")})


@router.post("/help/requests/{request_id}/messages")
async def post_message(ctx: Form, request_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    text = _text(ctx, "text", WORDS_LIMIT)
    answer = await ctx.api("POST", f"/v1/help-requests/{request_id}/messages", json={"text": text})
    return await _next(ctx, answer, "fb_message_sent", request_url(request_id) + "#thread",
                       _again_help(ctx, request_id, {"text": text}), {"text": ctx.t("fb_message_label")})


@router.post("/help/requests/{request_id}/close")
async def close_request(ctx: Form, request_id: str = ID()) -> Response:
    """The asker closes their request with the outcome and whether it helped."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    values = {"outcome": _text(ctx, "outcome", SHORT_LIMIT), "helped": _text(ctx, "helped", 10)}
    answer = await ctx.api("POST", f"/v1/help-requests/{request_id}/close",
                           json={k: v for k, v in values.items() if v or k == "outcome"})
    return await _next(ctx, answer, "fb_closed", request_url(request_id), _again_help(ctx, request_id, values),
                       {"outcome": ctx.t("fb_close_outcome"), "helped": ctx.t("fb_close_helped")})
