"""The roles service's events read by the other services, end to end (real HTTP, NATS JetStream, SQLite):
the groups' map shows each group's role places of the latest window's season, and the calendar's season
results carry what the roles service reported when the season's window closed (their announcement in Main
says how many roles were taken). Neither service asks the roles service anything: they read its events.

A window is global, so each test opens its own by closing a season of years of its own (test_roles.py)."""

from __future__ import annotations

from xml.etree import ElementTree

from tests.e2e.helpers import settle
from tests.e2e.test_chat import people
from tests.e2e.test_roles import SVG_NS, group_of, open_window, run_season
from tests.e2e.test_working_groups import call, ok
from tests.platform_harness import Platform

__all__ = ["people"]


async def on_map(p: Platform, token: str, group_id: str) -> dict:
    the_map = await ok(p, token, "GET", "/v1/groups/map")
    return next(g for t in the_map["types"] for g in t["groups"] if g["group_id"] == group_id)


async def card_lines(p: Platform, token: str, title: str, lang: str) -> list[str]:
    """The texts of the group's card on the map's picture (the card's ``<title>`` is the group's)."""
    async with p.client(token, lang=lang) as c:
        r = await c.get("/v1/groups/map.svg")
    assert r.status_code == 200, r.text
    root = ElementTree.fromstring(r.text)
    card = next(g for g in root.iter(f"{SVG_NS}g") if g.findtext(f"{SVG_NS}title") == title)
    return [t.text or "" for t in card.iter(f"{SVG_NS}text")]


async def test_the_map_shows_each_groups_role_places_of_the_latest_windows_season(platform, people):
    anna = people["anna"][1]
    busy = await group_of(platform, people)
    quiet = await group_of(platform, people, members=())
    _, season_id = await open_window(platform, people)
    # two places of role 5; Anna takes role 1 (its only place), Boris one place of role 5
    await ok(platform, people["coordinator"][1], "PUT", f"/v1/groups/{busy}/roles/5/capacity", {"capacity": 2})
    await ok(platform, anna, "PUT", f"/v1/groups/{busy}/roles/1/pick")
    await ok(platform, people["boris"][1], "PUT", f"/v1/groups/{busy}/roles/5/pick")
    group = await on_map(platform, anna, busy)
    assert group["vacancies"] == {"taken": 2, "open": 8, "roles_open": 8}, group
    assert (await on_map(platform, anna, quiet))["vacancies"] == {"taken": 0, "open": 9, "roles_open": 9}
    # the same figures as the roles service's own board
    board = await ok(platform, anna, "GET", f"/v1/groups/{busy}/roles")
    assert board["season_id"] == season_id
    assert sum(len(v["holders"]) for v in board["vacancies"]) == 2
    assert sum(v["open"] for v in board["vacancies"]) == 8
    assert sum(1 for v in board["vacancies"] if v["open"]) == 8
    # the picture says so on the group's card, in both languages
    assert {"Места в ролях — занято: 2, свободно: 8", "Ролей со свободными местами: 8"} <= set(
        await card_lines(platform, anna, group["title"], "ru"))
    assert {"Role places — taken: 2, open: 8", "Roles with an open place: 8"} <= set(
        await card_lines(platform, anna, group["title"], "en"))
    # a release frees a place at once
    await ok(platform, people["boris"][1], "DELETE", f"/v1/groups/{busy}/roles/5/pick")
    assert (await on_map(platform, anna, busy))["vacancies"] == {"taken": 1, "open": 9, "roles_open": 8}
    # the calendar closes the window's season: the next window's season is on the map, nothing taken there
    await run_season(platform, people["moderator"][1], people["coordinator"][0], season_id)
    next_window = await ok(platform, anna, "GET", "/v1/roles/window")
    assert next_window["status"] == "open" and next_window["season_id"] != season_id
    assert (await on_map(platform, anna, busy))["vacancies"] == {"taken": 0, "open": 9, "roles_open": 9}


async def test_the_seasons_results_carry_the_roles_taken_and_the_vacancies_left_open(platform, people):
    moderator = people["moderator"][1]
    group_id = await group_of(platform, people)
    _, season_id = await open_window(platform, people)
    await ok(platform, people["anna"][1], "PUT", f"/v1/groups/{group_id}/roles/1/pick")
    await ok(platform, people["boris"][1], "PUT", f"/v1/groups/{group_id}/roles/5/pick")
    # the calendar runs the window's season and closes it: the window closes and the roles service reports
    title = f"Сезон ролей {season_id}"
    await run_season(platform, moderator, people["coordinator"][0], season_id, title=title)
    await settle(platform)
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/results")
    report = await ok(platform, people["anna"][1], "GET", f"/v1/seasons/{season_id}/results")
    # the feedback service reports only seasons with games (none here): the lines are the roles'
    lines = [line for line in report["reports"] if line["source"] == "roles"]
    assert lines and {line["source"] for line in report["reports"]} == {"roles"}, report
    assert [line["key"] for line in lines] == sorted(line["key"] for line in lines)
    figures = {line["key"]: line["value"] for line in lines}
    assert (figures["roles_taken"], figures["members_with_roles"]) == (2, 2), figures
    # one place each by default: roles 1 and 5 are full in this group and open in every other; the
    # coordination's roles 10–12 are one vacancy each, and nobody took them
    groups = figures["groups"]
    assert groups >= 1
    expected = {role: groups - (role in (1, 5)) for role in range(1, 10)} | {10: 1, 11: 1, 12: 1}
    assert {role: figures[f"open_role_{role}"] for role in range(1, 13)} == expected, figures
    assert figures["vacancies_open"] == figures["places_open"] == sum(expected.values())
    # the calendar's own figures are there beside them
    assert report["events_held"]["online_meeting"] == 1
    # and the Main group's announcement of the results says how many roles were taken, in both languages
    for lang, words in (("ru", "ролей взято: 2."), ("en", "roles taken: 2.")):
        async with platform.client(people["anna"][1], lang=lang) as c:
            news = (await c.get("/v1/announcements?limit=50")).json()["items"]
        mine = [a for a in news if a["topic"] == "calendar_results_published" and title in a["title"]]
        assert len(mine) == 1 and words in mine[0]["body"], mine or news[:3]


async def test_a_season_without_a_pick_window_reports_nothing_of_roles(platform, people):
    """The roles service reports the seasons it had a window for; the calendar adds nothing of its own."""
    moderator = people["moderator"][1]
    year, window_season = await open_window(platform, people)
    # a season of a year of this test's own, whose closing closes no window of its own (the window open
    # now is for another season: it closes as the next one opens, and that season is reported, not this)
    lonely = f"{year + 2}-spring"
    await run_season(platform, moderator, people["coordinator"][0], lonely)
    await ok(platform, moderator, "POST", f"/v1/seasons/{lonely}/results")
    reports = (await ok(platform, moderator, "GET", f"/v1/seasons/{lonely}/results"))["reports"]
    assert reports == [], reports
    # its announcement says nothing of roles
    news = (await ok(platform, moderator, "GET", "/v1/announcements?limit=50"))["items"]
    mine = [a for a in news if a["topic"] == "calendar_results_published" and a["ref_id"] == lonely]
    assert len(mine) == 1 and "ролей" not in mine[0]["body"] and "мест: " in mine[0]["body"], mine
    # the window that the closing ended was reported for its own season, which the calendar then holds
    await run_season(platform, moderator, people["coordinator"][0], window_season)
    r = await call(platform, moderator, "POST", f"/v1/seasons/{window_season}/results")
    assert r.status_code == 200, r.text
    report = await ok(platform, moderator, "GET", f"/v1/seasons/{window_season}/results")
    roles_lines = [line for line in report["reports"] if line["source"] == "roles"]
    assert roles_lines, report
    assert {line["key"]: line["value"] for line in roles_lines}["roles_taken"] == 0
