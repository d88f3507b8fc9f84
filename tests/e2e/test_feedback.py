"""Feedback end to end: real HTTP, NATS JetStream and SQLite. A team the calendar confirms for a game is
in the game (across services, by events); only an assigned observer writes, every part named when it is
missing; the round's closing publishes and freezes it, and the team reads and answers it; a help request
missing its "conscious" part is refused naming it, a complete one reaches its expert and the thread works
both ways; nobody else sees it."""

from __future__ import annotations

import os

import pytest

from services.feedback.projections import FEEDBACK_VIEW
from tests.e2e.helpers import log_position, settle
from tests.e2e.journey import login, make_member
from tests.e2e.test_calendar import event_url, plan, planned_season, refused
from tests.e2e.test_chat import people
from tests.e2e.test_working_groups import call, ok
from tests.ops.test_hrm_cli import fail_checkpoints_of, free_disk
from tests.platform_harness import Platform

__all__ = ["people"]

PARTS = {
    "situation": "Команда распределяла роли в первые десять минут раунда",
    "behaviour": "Капитан сам назначил всех, никого не спросив о предпочтениях",
    "impact": "Двое участников молчали до конца раунда и не предложили своих идей",
    "recommendation": "В следующем раунде спросите каждого, какую задачу он хочет взять",
}
HELP = {
    "title": "Адаптация на заводе",
    "need": "Нужно выстроить адаптацию для линейного персонала на заводе",
    "data": "Текучесть в первые три месяца сорок процентов, наставников нет",
    "closure": "Получу план адаптации на первый месяц и запущу его в цехе",
    "dialogue": "Готов созвониться по вторникам и четвергам после шестнадцати часов",
}


async def observer(p: Platform, admin: str) -> tuple[str, str]:
    member_id, email, _ = await make_member(p, admin)
    await ok(p, admin, "PUT", f"/v1/members/{member_id}/roles", {"roles": ["observer"]})
    return member_id, (await login(p, email, "s3cret-pass"))["access_token"]


@pytest.fixture(scope="module")
async def game(platform, people) -> dict:
    """A game of a published season, with the coordinator's team (anna, boris on its roster) confirmed by
    the calendar and an observer: what the tests below share."""
    moderator, admin = people["moderator"][1], people["admin"][1]
    coordinator_id, coordinator = people["coordinator"]
    season_id = await planned_season(platform, moderator)
    body = {**plan(season_id, coordinator_id, title="Игра HR-ВЛИЯНИЕ", capacity=4), "kind": "game",
            "place": "Екатеринбург", "call_link": None}
    event_id = (await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/events", body))["event_id"]
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/open")
    group = {"title": "Команда обратной связи", "description": "", "group_type": "game_team"}
    group_id = (await ok(platform, coordinator, "POST", "/v1/groups", group))["group_id"]
    await ok(platform, moderator, "POST", f"/v1/groups/{group_id}/decision", {"decision": "approve"})
    await ok(platform, coordinator, "PUT", f"/v1/groups/{group_id}/settings",
             {"visibility": "main", "content": "members", "joining": "open"})
    for name in ("anna", "boris"):
        await ok(platform, people[name][1], "POST", f"/v1/groups/{group_id}/join", {})
    roster = [coordinator_id, people["anna"][0], people["boris"][0]]
    teams = event_url(season_id, event_id) + "/teams"
    await ok(platform, coordinator, "POST", teams, {"group_id": group_id, "roster": roster})
    await ok(platform, moderator, "POST", f"{teams}/{group_id}/confirm")
    observer_id, observer_token = await observer(platform, admin)
    await settle(platform)
    return {"game_id": event_id, "group_id": group_id, "roster": roster, "observer": (observer_id, observer_token),
            "season_id": season_id}


async def test_a_team_the_calendar_confirms_is_in_the_game_and_observers_are_the_moderators_to_assign(
        platform, people, game):
    got = await ok(platform, people["anna"][1], "GET", f"/v1/games/{game['game_id']}")
    assert [(t["group_id"], t["roster"]) for t in got["teams"]] == [(game["group_id"], game["roster"])]
    assert got["my_team_ids"] == [game["group_id"]] and got["status"] == "scheduled"
    observer_id, _ = game["observer"]
    url = f"/v1/games/{game['game_id']}/observers/{observer_id}"
    await refused(platform, people["coordinator"][1], "PUT", url, 403, "moderator_only")
    await refused(platform, people["moderator"][1], "PUT", f"/v1/games/{game['game_id']}/observers/"
                  f"{people['anna'][0]}", 409, "not_an_observer")
    got = await ok(platform, people["moderator"][1], "PUT", url)
    assert got["observers"] == [observer_id]


async def test_only_an_assigned_observer_writes_each_part_is_required_and_the_closed_round_is_the_teams(
        platform, people, game):
    observer_id, observer_token = game["observer"]
    await ok(platform, people["moderator"][1], "PUT", f"/v1/games/{game['game_id']}/observers/{observer_id}")
    host = people["coordinator"][1]
    await refused(platform, people["anna"][1], "POST", f"/v1/games/{game['game_id']}/rounds", 403,
                  "host_or_moderator_only")
    round_no = (await ok(platform, host, "POST", f"/v1/games/{game['game_id']}/rounds"))["rounds"][-1]["round_no"]
    url = f"/v1/games/{game['game_id']}/rounds/{round_no}/teams/{game['group_id']}/feedback"
    body = {**PARTS, "quality": "expertise", "role": 5}
    before = await log_position(platform)
    await refused(platform, people["anna"][1], "PUT", url, 403, "assigned_observers_only", body)
    for part in ("situation", "behaviour", "impact", "recommendation"):
        got = await refused(platform, observer_token, "PUT", url, 422, "feedback_incomplete", {**body, part: ""})
        assert got["detail"].endswith(": часть не заполнена."), got
    got = await refused(platform, observer_token, "PUT", url, 422, "feedback_incomplete",
                        {**body, "impact": PARTS["behaviour"]}, lang="en")
    assert got["detail"] == 'Impact: repeats "Observed behaviour".', got
    assert await log_position(platform) == before
    written = await ok(platform, observer_token, "PUT", url, body)
    assert written["status"] == "draft"
    # a draft is the observer's: the team does not read it yet; the observer sees what they owe
    team_url = f"/v1/games/{game['game_id']}/teams/{game['group_id']}/feedback"
    assert (await ok(platform, people["anna"][1], "GET", team_url))["items"] == []
    owed = (await ok(platform, observer_token, "GET", "/v1/me/feedback/owed"))["items"]
    assert [(o["group_id"], o["written"]) for o in owed if o["game_id"] == game["game_id"]] == [
        (game["group_id"], True)]
    await ok(platform, host, "POST", f"/v1/games/{game['game_id']}/rounds/close")
    await settle(platform)
    # closed: published, frozen, and the team reads it and answers it
    await refused(platform, observer_token, "PUT", url, 409, "round_closed",
                  {**body, "recommendation": "Иначе: попробуйте распределить роли жребием в начале"})
    items = (await ok(platform, people["anna"][1], "GET", team_url))["items"]
    assert [(i["status"], i["behaviour"], i["quality"]) for i in items] == [
        ("published", PARTS["behaviour"], "expertise")]
    marked = await ok(platform, people["anna"][1], "PUT", f"/v1/feedback/{items[0]['feedback_id']}/mark",
                      {"useful": True, "intention": "Спрошу каждого перед раундом"})
    assert [m["intention"] for m in marked["marks"]] == ["Спрошу каждого перед раундом"]
    await refused(platform, people["outsider"][1], "PUT", f"/v1/feedback/{items[0]['feedback_id']}/mark", 403,
                  "team_members_only", {"useful": False})
    seen = (await ok(platform, observer_token, "GET", team_url))["items"][0]["marks"]
    assert [(m["member_id"], m["useful"]) for m in seen] == [(people["anna"][0], True)]
    mine = await ok(platform, people["boris"][1], "GET", "/v1/me/feedback")
    assert [q["quality"] for q in mine["qualities"]] == ["expertise"]
    # the development map counts it for every member of the team's roster (the roles service, by events)
    assert (await ok(platform, people["boris"][1], "GET", "/v1/me/roles"))["feedback_by_quality"] == {
        "expertise": 1}
    await refused(platform, people["outsider"][1], "GET", team_url, 403, "team_members_only")


async def test_a_help_request_meets_the_standard_reaches_its_expert_and_the_thread_works_both_ways(
        platform, people, game):
    anna = people["anna"][1]
    expert_id, expert = game["observer"]
    before = await log_position(platform)
    got = await refused(platform, anna, "POST", "/v1/help-requests", 422, "help_request_incomplete",
                        {**HELP, "closure": "  "})
    assert got["detail"] == "Как ответ закроет потребность (осознанность): часть не заполнена.", got
    assert await log_position(platform) == before
    check = await ok(platform, anna, "POST", "/v1/help-requests/check", {"need": HELP["need"], "data": "мало"})
    assert [(p["part"], p["code"]) for p in check["problems"]] == [("data", "too_thin"), ("closure", "missing"),
                                                                   ("dialogue", "missing")]
    request = await ok(platform, anna, "POST", "/v1/help-requests", HELP)
    url = f"/v1/help-requests/{request['request_id']}"
    queue = (await ok(platform, people["moderator"][1], "GET", "/v1/help-requests?scope=queue"))["items"]
    assert request["request_id"] in [r["request_id"] for r in queue]
    await refused(platform, anna, "GET", "/v1/help-requests?scope=queue", 403, "moderator_only")
    await refused(platform, people["moderator"][1], "POST", url + "/route", 422, "route_to_one", {})
    await ok(platform, people["moderator"][1], "POST", url + "/route", {"expert_id": expert_id})
    assert request["request_id"] in [r["request_id"] for r in
                                     (await ok(platform, expert, "GET", "/v1/help-requests?scope=to_me"))["items"]]
    await ok(platform, expert, "POST", url + "/messages", {"text": "Давайте начнём с карты первого дня"})
    await ok(platform, anna, "POST", url + "/messages", {"text": "Спасибо, во вторник в 17:00 удобно?"})
    thread = (await ok(platform, expert, "GET", url))["messages"]
    assert [m["author_id"] for m in thread] == [expert_id, people["anna"][0]]
    # to anyone else the request does not exist
    await refused(platform, people["boris"][1], "GET", url, 404, "help_request_not_found")
    await refused(platform, people["boris"][1], "POST", url + "/messages", 404, "help_request_not_found",
                  {"text": "А можно и мне?"})
    await refused(platform, people["boris"][1], "POST", url + "/close", 404, "help_request_not_found",
                  {"outcome": "—", "helped": "yes"})
    await refused(platform, people["boris"][1], "POST", url + "/route", 403, "moderator_only", {"expert_id": expert_id})
    await refused(platform, expert, "POST", url + "/close", 403, "asker_only", {"outcome": "—", "helped": "yes"})
    closed = await ok(platform, anna, "POST", url + "/close", {"outcome": "План запущен в цехе", "helped": "yes"})
    assert (closed["status"], closed["helped"]) == ("closed", "yes")
    # the expert keeps it among theirs, closed, with what came of it
    kept = (await ok(platform, expert, "GET", "/v1/help-requests?scope=to_me"))["items"]
    assert [(r["status"], r["outcome"]) for r in kept if r["request_id"] == request["request_id"]] == [
        ("closed", "План запущен в цехе")]


async def test_an_erased_observers_words_and_an_erased_askers_request_leave_every_page(platform, people, game):
    moderator, admin = people["moderator"][1], people["admin"][1]
    observer_id, observer_token = await observer(platform, admin)
    await ok(platform, moderator, "PUT", f"/v1/games/{game['game_id']}/observers/{observer_id}")
    host = people["coordinator"][1]
    round_no = (await ok(platform, host, "POST", f"/v1/games/{game['game_id']}/rounds"))["rounds"][-1]["round_no"]
    url = f"/v1/games/{game['game_id']}/rounds/{round_no}/teams/{game['group_id']}/feedback"
    words = {**PARTS, "situation": "Уникальная ситуация наблюдателя, которого потом удалят из сообщества"}
    written = await ok(platform, observer_token, "PUT", url, {**words, "quality": "systemic"})
    await ok(platform, host, "POST", f"/v1/games/{game['game_id']}/rounds/close")
    asker_id, _, asker = await make_member(platform, admin)
    request = await ok(platform, asker, "POST", "/v1/help-requests",
                       {**HELP, "data": "Уникальные данные спрашивающего, которого потом удалят из сообщества"})
    await ok(platform, admin, "DELETE", f"/v1/members/{observer_id}")
    await ok(platform, admin, "DELETE", f"/v1/members/{asker_id}")
    await settle(platform)
    team_url = f"/v1/games/{game['game_id']}/teams/{game['group_id']}/feedback"
    piece = next(i for i in (await ok(platform, people["anna"][1], "GET", team_url))["items"]
                 if i["feedback_id"] == written["feedback_id"])
    assert (piece["observer_id"], piece["situation"], piece["recommendation"]) == (None, None, None)
    assert piece["quality"] == "systemic" and piece["status"] == "published"
    got = await ok(platform, moderator, "GET", f"/v1/help-requests/{request['request_id']}")
    assert (got["asker_id"], got["need"], got["title"]) == (None, None, None)
    # and no byte of their words is left in the feedback service's files (its read models, their journal)
    files = b"".join(p.read_bytes() for p in platform.data_dir.rglob("*feedback*") if p.is_file())
    assert files, "the feedback service's files were not found"
    for word in ("Уникальная ситуация наблюдателя", "Уникальные данные спрашивающего"):
        assert word.encode() not in files, word


@pytest.mark.skipif(bool(os.environ.get("HRM_MONGO_URL")), reason="the failure is injected into a SQLite file")
async def test_a_command_answers_what_it_decided_while_the_read_model_lags(platform, people, game):
    """The answer to a command on a game or a piece is its aggregate as the decision left it: with the
    service's read model unable to write (a full disk, injected), a round opened answers open, a first piece
    its words (not "not found"), a rewrite its new words; once it writes again, the pages say the same."""
    moderator, admin, host = people["moderator"][1], people["admin"][1], people["coordinator"][1]
    observer_id, observer_token = await observer(platform, admin)
    await ok(platform, moderator, "PUT", f"/v1/games/{game['game_id']}/observers/{observer_id}")
    await settle(platform)
    [db] = [p for p in platform.data_dir.rglob("*feedback*.sqlite3")]
    fail_checkpoints_of(db, f"projection:{FEEDBACK_VIEW}")

    async def answer(token: str, method: str, url: str, json=None) -> dict:  # no settling: it cannot settle
        r = await call(platform, token, method, url, json)
        assert r.status_code in (200, 201), r.text
        return r.json()

    try:
        opened = await answer(host, "POST", f"/v1/games/{game['game_id']}/rounds")
        round_no = opened["rounds"][-1]["round_no"]
        assert opened["rounds"][-1]["status"] == "open" and observer_id in opened["observers"], opened
        url = f"/v1/games/{game['game_id']}/rounds/{round_no}/teams/{game['group_id']}/feedback"
        first = await answer(observer_token, "PUT", url, {**PARTS, "quality": "awareness"})
        assert (first["status"], first["situation"], first["quality"]) == ("draft", PARTS["situation"], "awareness")
        again = {**PARTS, "recommendation": "Перед следующим раундом договоритесь, кто ведёт обсуждение и зачем"}
        rewritten = await answer(observer_token, "PUT", url, {**again, "quality": "expertise"})
        assert (rewritten["recommendation"], rewritten["quality"]) == (again["recommendation"], "expertise")
        closed = await answer(host, "POST", f"/v1/games/{game['game_id']}/rounds/close")
        assert [r["status"] for r in closed["rounds"] if r["round_no"] == round_no] == ["closed"]
        # the read model did not have it: the answers were not read from it
        stale = (await answer(moderator, "GET", f"/v1/games/{game['game_id']}"))["rounds"]
        assert round_no not in [r["round_no"] for r in stale], stale
    finally:
        free_disk(db)
    await settle(platform, timeout=30)  # the stalled read model retries after a back-off of up to 10 s
    team_url = f"/v1/games/{game['game_id']}/teams/{game['group_id']}/feedback"
    piece = next(i for i in (await ok(platform, people["anna"][1], "GET", team_url))["items"]
                 if i["feedback_id"] == rewritten["feedback_id"])
    assert (piece["status"], piece["recommendation"], piece["quality"]) == (
        "published", again["recommendation"], "expertise")
