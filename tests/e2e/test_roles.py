"""The 12 roles end to end: real HTTP, NATS JetStream and SQLite. The calendar closing a season opens the
pick window for the next one; members race for the last place of a vacancy; Vision waits for the history;
a member's map spans seasons, as JSON and as SVG; the timer closes a window and the season is reported.

The platform is shared by the session and a window is global (one at a time): every test opens its own by
closing a season of its own in the calendar (years of their own, far from the calendar tests')."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest

from tests.e2e.helpers import log_position, settle
from tests.e2e.journey import make_member
from tests.e2e.test_calendar import refused
from tests.e2e.test_chat import people
from tests.e2e.test_working_groups import call, ok
from tests.platform_harness import Platform
from tests.season_years import Years, fresh_year

__all__ = ["people"]

#: each test its own years (three apart: a test may run three seasons of one pair of years)
_years = Years(3000, 9000, span=3)
SVG_NS = "{http://www.w3.org/2000/svg}"


async def run_season(p: Platform, moderator: str, host_id: str, season_id: str, title: str = "Сезон") -> None:
    """A season of the calendar from planning to closed, with one online meeting inside its days."""
    got = await ok(p, moderator, "POST", "/v1/seasons", {"season_id": season_id, "title": title})
    day = datetime.fromisoformat(got["starts_on"]).replace(hour=13, tzinfo=UTC)
    plan = {"kind": "online_meeting", "title": "Встреча", "starts_at": day.replace(day=20).isoformat(),
            "ends_at": day.replace(day=20, hour=14).isoformat(), "call_link": "https://meet.example.org/r",
            "capacity": 5, "host_id": host_id}
    await ok(p, moderator, "POST", f"/v1/seasons/{season_id}/events", plan)
    await ok(p, moderator, "POST", f"/v1/seasons/{season_id}/open")
    await ok(p, moderator, "POST", f"/v1/seasons/{season_id}/close")
    await settle(p)


async def open_window(p: Platform, people) -> tuple[int, str]:
    """Close a spring season of a year of this test's own: the window opens for that year's autumn."""
    year = next(_years)
    await run_season(p, people["moderator"][1], people["coordinator"][0], f"{year}-spring")
    window = await ok(p, people["anna"][1], "GET", "/v1/roles/window")
    assert (window["status"], window["season_id"]) == ("open", f"{year}-autumn"), window
    return year, f"{year}-autumn"


async def group_of(p: Platform, people, members=("anna", "boris")) -> str:
    coordinator = people["coordinator"][1]
    body = {"title": f"Роли {uuid.uuid4().hex[:6]}", "description": "", "group_type": "research"}
    group_id = (await ok(p, coordinator, "POST", "/v1/groups", body))["group_id"]
    await ok(p, people["moderator"][1], "POST", f"/v1/groups/{group_id}/decision", {"decision": "approve"})
    await ok(p, coordinator, "PUT", f"/v1/groups/{group_id}/settings",
             {"visibility": "main", "content": "members", "joining": "open"})
    for name in members:
        await ok(p, people[name][1], "POST", f"/v1/groups/{group_id}/join", {})
    await settle(p)
    return group_id


def vacancy(board: dict, role: int) -> dict:
    return next(v for v in board["vacancies"] if v["role"] == role)


async def test_the_matrix_is_the_communitys_wording_in_both_languages(platform, people):
    matrix = await ok(platform, people["anna"][1], "GET", "/v1/roles")
    assert [r["number"] for r in matrix["roles"]] == list(range(1, 13))
    assert [q["title_ru"] for q in matrix["qualities"]] == ["Осознанность", "Экспертность", "Системность", "Видение"]
    assert {r["level"] for r in matrix["roles"][:9]} == {"group"} and {r["level"] for r in matrix["roles"][9:]} == {
        "coordination"}
    assert matrix["roles"][0]["title_ru"] == "Действовать осознанно" and matrix["roles"][11]["title_en"].startswith(
        "Set strategic goals")
    async with platform.client(None) as c:
        assert (await c.get("/v1/roles")).status_code == 401


async def test_closing_the_season_of_a_window_closes_it_and_opens_the_next(platform, people):
    year, season_id = await open_window(platform, people)
    await run_season(platform, people["moderator"][1], people["coordinator"][0], season_id)
    window = await ok(platform, people["anna"][1], "GET", "/v1/roles/window")
    assert (window["status"], window["season_id"]) == ("open", f"{year + 1}-spring")
    # a window opened late (its season begins sooner than the minimum) stays open for the minimum: 7 days
    opened, closes = (datetime.fromisoformat(window[k]) for k in ("opened_at", "closes_at"))
    assert closes == max(datetime(year + 1, 2, 14, 19, tzinfo=UTC), opened + timedelta(days=7))
    windows = platform.services["roles"].store
    assert (await windows.get("windows", season_id))["closed_because"] == "season_closed"


async def test_the_timer_closes_a_window_then_picks_are_refused_and_the_season_is_reported(platform, people):
    """A season long past closes with no minimum configured: its next season began long ago, so the window
    closes at once, by its durable timer (not by any request)."""
    settings = platform.settings["roles"]
    await platform.stop_service("roles")
    platform.settings["roles"] = settings.model_copy(update={"pick_window_min_days": 0})
    await platform.start_service("roles")
    try:
        group_id = await group_of(platform, people, members=("anna",))
        year = fresh_year(1500, 1900)
        await run_season(platform, people["moderator"][1], people["coordinator"][0], f"{year}-spring")
        store = platform.services["roles"].store
        for _ in range(100):
            doc = await store.get("windows", f"{year}-autumn")
            if doc and doc["reported"]:
                break
            await asyncio.sleep(0.1)
        assert doc and (doc["status"], doc["closed_because"], doc["reported"]) == ("closed", "time", True), doc
        window = await ok(platform, people["anna"][1], "GET", "/v1/roles/window")
        assert (window["status"], window["season_id"]) == ("closed", f"{year}-autumn")
        before = await log_position(platform)
        await refused(platform, people["anna"][1], "PUT", f"/v1/groups/{group_id}/roles/1/pick", 409,
                      "pick_window_closed")
        assert await log_position(platform) == before
    finally:
        await platform.stop_service("roles")
        platform.settings["roles"] = settings
        await platform.start_service("roles")
        await settle(platform)


async def test_two_members_race_for_the_last_place_one_gets_it_the_other_a_clear_refusal(platform, people):
    admin = people["admin"][1]
    racers = [await make_member(platform, admin) for _ in range(6)]
    group_id = await group_of(platform, people, members=("anna",))
    for _, _, token in racers:
        await ok(platform, token, "POST", f"/v1/groups/{group_id}/join", {})
    _, season_id = await open_window(platform, people)
    # the coordinator makes two places of role 5; six members ask at once, twice each
    board = await ok(platform, people["coordinator"][1], "PUT", f"/v1/groups/{group_id}/roles/5/capacity",
                     {"capacity": 2})
    assert vacancy(board, 5)["capacity"] == 2 and board["season_id"] == season_id
    answers = await asyncio.gather(*(call(platform, token, "PUT", f"/v1/groups/{group_id}/roles/5/pick")
                                     for _, _, token in racers for _ in range(2)))
    await settle(platform)
    won = {racers[i // 2][0] for i, r in enumerate(answers) if r.status_code == 200}
    refusals = [r.json() for r in answers if r.status_code != 200]
    assert len(won) == 2, [r.text for r in answers]
    assert refusals and all((r["status"], r["code"]) == (409, "vacancy_filled") for r in refusals), refusals
    assert all("заняты" in r["detail"] for r in refusals)
    board = await ok(platform, people["anna"][1], "GET", f"/v1/groups/{group_id}/roles")
    assert set(vacancy(board, 5)["holders"]) == won and vacancy(board, 5)["open"] == 0
    # the capacity cannot go under the holders; a member cannot set it
    await refused(platform, people["coordinator"][1], "PUT", f"/v1/groups/{group_id}/roles/5/capacity", 409,
                  "capacity_below_holders", {"capacity": 1})
    await refused(platform, people["anna"][1], "PUT", f"/v1/groups/{group_id}/roles/5/capacity", 403,
                  "coordinator_only", {"capacity": 3})
    # a holder releases: one place opens, and the next who asks gets it
    winner = next(t for m, _, t in racers if m in won)
    loser_id, _, loser = next(r for r in racers if r[0] not in won)
    await ok(platform, winner, "DELETE", f"/v1/groups/{group_id}/roles/5/pick")
    board = await ok(platform, loser, "PUT", f"/v1/groups/{group_id}/roles/5/pick")
    assert loser_id in vacancy(board, 5)["holders"] and len(vacancy(board, 5)["holders"]) == 2


async def test_a_pick_is_refused_saying_which_rule_it_breaks_and_changes_nothing(platform, people):
    anna_id, anna = people["anna"]
    group_id = await group_of(platform, people, members=("anna",))
    other = await group_of(platform, people, members=("boris",))
    await open_window(platform, people)
    board = await ok(platform, anna, "PUT", f"/v1/groups/{group_id}/roles/1/pick")
    assert vacancy(board, 1)["mine"] and board["my_picks"] == 1 and board["can_pick"]
    # the same pick again changes nothing
    before = await log_position(platform)
    again = await ok(platform, anna, "PUT", f"/v1/groups/{group_id}/roles/1/pick")
    assert vacancy(again, 1)["holders"] == [anna_id] and await log_position(platform) == before
    await ok(platform, anna, "PUT", f"/v1/groups/{group_id}/roles/4/pick")
    cases = [
        (anna, "PUT", f"/v1/groups/{group_id}/roles/7/pick", 409, "picks_max_reached", "Не больше 2"),
        (anna, "PUT", f"/v1/groups/{other}/roles/2/pick", 403, "not_in_group", None),
        (anna, "PUT", "/v1/roles/coordination/10/pick", 409, "picks_max_reached", None),
        (anna, "PUT", f"/v1/groups/{group_id}/roles/10/pick", 422, "invalid_fields", None),
        (anna, "PUT", f"/v1/groups/{group_id}/roles/0/pick", 422, "invalid_fields", None),
        (anna, "PUT", "/v1/roles/coordination/9/pick", 422, "invalid_fields", None),
        (anna, "PUT", "/v1/groups/*/roles/1/pick", 422, "invalid_fields", None),
        (anna, "PUT", f"/v1/groups/{uuid.uuid4()}/roles/1/pick", 404, "group_not_found", None),
        (anna, "DELETE", f"/v1/groups/{group_id}/roles/2/pick", 404, "role_not_held", None),
        (people["boris"][1], "DELETE", f"/v1/groups/{group_id}/roles/1/pick?member_id={anna_id}", 403,
         "own_picks_only", None),
        (people["outsider"][1], "PUT", f"/v1/groups/{group_id}/roles/2/pick", 403, "not_in_group", None),
        (anna, "PUT", f"/v1/groups/{group_id}/roles/2/capacity", 403, "coordinator_only", {"capacity": 2}),
        (anna, "PUT", "/v1/roles/coordination/11/capacity", 403, "moderator_only", {"capacity": 2}),
    ]
    before = await log_position(platform)
    for token, method, url, status, code, words in cases:
        body = None
        if isinstance(words, dict):
            body, words = words, None
        got = await refused(platform, token, method, url, status, code, body)
        if words:
            assert words in (got.get("detail") or ""), got
    assert await log_position(platform) == before
    # in English on request
    got = await refused(platform, anna, "PUT", f"/v1/groups/{group_id}/roles/7/pick", 409, "picks_max_reached",
                        lang="en")
    assert "most roles" in got["title"] and "At most 2" in got["detail"]
    # a moderator releases a member's pick; the member's map says it is gone
    await ok(platform, people["moderator"][1], "DELETE", f"/v1/groups/{group_id}/roles/4/pick?member_id={anna_id}")
    held = (await ok(platform, anna, "GET", "/v1/me/roles"))["seasons"][-1]["roles"]
    assert [h["role"] for h in held] == [1]


async def test_vision_waits_for_the_three_qualities_of_earlier_seasons_and_the_map_shows_them(platform, people):
    admin = people["admin"][1]
    member_id, _, token = await make_member(platform, admin)
    group_id = await group_of(platform, people, members=())
    await ok(platform, token, "POST", f"/v1/groups/{group_id}/join", {})
    year, first = await open_window(platform, people)
    # season 1: Awareness and Expertise; Vision is refused, naming all three qualities
    got = await refused(platform, token, "PUT", "/v1/roles/coordination/10/pick", 409, "vision_not_yet")
    assert all(q in got["detail"] for q in ("Осознанность", "Экспертность", "Системность")), got
    await ok(platform, token, "PUT", f"/v1/groups/{group_id}/roles/2/pick")
    await ok(platform, token, "PUT", f"/v1/groups/{group_id}/roles/6/pick")
    # the calendar closes that season: the next window opens; this season's picks are history now
    await run_season(platform, people["moderator"][1], people["coordinator"][0], first)
    second = f"{year + 1}-spring"
    assert (await ok(platform, token, "GET", "/v1/roles/window"))["season_id"] == second
    await ok(platform, token, "PUT", f"/v1/groups/{group_id}/roles/8/pick")
    got = await refused(platform, token, "PUT", "/v1/roles/coordination/10/pick", 409, "vision_not_yet", lang="en")
    assert got["detail"] == "Still missing: Systemic thinking.", got
    the_map = await ok(platform, token, "GET", "/v1/me/roles")
    assert [(s["season_id"], s["current"], [r["role"] for r in s["roles"]]) for s in the_map["seasons"]] == [
        (first, False, [2, 6]), (second, True, [8])]
    assert the_map["qualities_covered"] == ["awareness", "expertise"] and the_map["vision_missing"] == ["systemic"]
    suggestion = next(s for s in the_map["suggestions"] if s["quality"] == "systemic")
    assert suggestion["group_id"] == group_id and suggestion["role"] in (7, 9)  # 8 is theirs already
    # the picture: valid SVG, the 12 roles, the held ones marked by season
    async with platform.client(token) as c:
        r = await c.get("/v1/me/roles/map.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    tree = ElementTree.fromstring(r.text)
    cells = {int(g.get("data-role")): g for g in tree.iter(f"{SVG_NS}g") if g.get("class") == "role"}
    assert sorted(cells) == list(range(1, 13))
    assert {n for n, g in cells.items() if g.get("data-held") == "true"} == {2, 6, 8}
    assert first in "".join(cells[2].itertext()) and second in "".join(cells[8].itertext())
    # the second season closes: all three are history, and Vision opens
    await run_season(platform, people["moderator"][1], people["coordinator"][0], second)
    board = await ok(platform, token, "PUT", "/v1/roles/coordination/10/pick")
    assert vacancy(board, 10)["holders"] == [member_id] and board["group_id"] == "coordination"
    the_map = await ok(platform, token, "GET", "/v1/me/roles")
    assert the_map["vision_missing"] == [] and the_map["qualities_covered"] == ["awareness", "expertise", "systemic"]
    # another member's map is the moderators'
    await refused(platform, people["anna"][1], "GET", f"/v1/members/{member_id}/development-map", 403,
                  "own_map_only")
    assert (await ok(platform, people["moderator"][1], "GET", f"/v1/members/{member_id}/development-map"))[
        "member_id"] == member_id


async def test_a_member_who_leaves_the_group_gives_up_the_picks_held_there(platform, people):
    admin = people["admin"][1]
    member_id, _, token = await make_member(platform, admin)
    group_id = await group_of(platform, people, members=())
    await ok(platform, token, "POST", f"/v1/groups/{group_id}/join", {})
    await open_window(platform, people)
    await ok(platform, token, "PUT", f"/v1/groups/{group_id}/roles/3/pick")
    await ok(platform, token, "POST", f"/v1/groups/{group_id}/leave", {})
    await settle(platform)
    board = await ok(platform, people["anna"][1], "GET", f"/v1/groups/{group_id}/roles")
    assert vacancy(board, 3)["holders"] == []
    assert (await ok(platform, token, "GET", "/v1/me/roles"))["seasons"] == []


@pytest.mark.parametrize("url", ["/v1/roles/window", "/v1/roles/coordination", "/v1/me/roles"])
async def test_a_newcomer_outside_the_main_group_reads_no_roles(platform, url):
    from tests.e2e.journey import admin_token as admin_of
    from tests.e2e.journey import invite, register

    inv = await invite(platform, await admin_of(platform))
    _, _, token = await register(platform, inv["token"], full_name="Новичок")
    await refused(platform, token, "GET", url, 403, "community_members_only")


async def test_a_group_shown_to_its_members_only_has_a_board_no_one_else_finds(platform, people):
    group_id = await group_of(platform, people, members=("anna",))
    await ok(platform, people["coordinator"][1], "PUT", f"/v1/groups/{group_id}/settings",
             {"visibility": "members", "content": "members", "joining": "request"})
    await settle(platform)
    assert (await ok(platform, people["anna"][1], "GET", f"/v1/groups/{group_id}/roles"))["group_title"]
    for url in (f"/v1/groups/{group_id}/roles", f"/v1/groups/{group_id}/roles/coverage.svg"):
        body = await refused(platform, people["boris"][1], "GET", url, 404, "group_not_found")
        assert "Роли" not in body.get("detail", "")
    await refused(platform, people["boris"][1], "PUT", f"/v1/groups/{group_id}/roles/1/pick", 404, "group_not_found")
    assert (await ok(platform, people["moderator"][1], "GET", f"/v1/groups/{group_id}/roles"))["group_id"] == group_id
