"""The calendar end to end: real HTTP, NATS JetStream and SQLite — a season from its first request to its
results, as someone trying to break it would: the wrong role, the wrong phase, conflicts, the same request
twice, fifty registrations at once, feeds with a stale or forged link, an erased asker."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from tests.e2e.helpers import settle
from tests.e2e.journey import make_member
from tests.e2e.test_chat import chat_group, people, read_stream
from tests.e2e.test_working_groups import ok
from tests.platform_harness import Platform
from tests.season_years import Years, fresh_year

__all__ = ["people"]

#: each test its own season: the platform is shared by the whole session
_years = Years(2300, 7300)


def new_season_id() -> str:
    return f"{next(_years)}-spring"


def at(season_id: str, day: int, hour: int, minutes: int = 90) -> tuple[str, str]:
    """A time inside ``season_id`` (from 15 February): day ``day`` of March, at ``hour`` in Yekaterinburg."""
    year = int(season_id[:4])
    start = datetime(year, 3, day, hour - 5, tzinfo=UTC)  # Asia/Yekaterinburg is UTC+5 all year
    return start.isoformat(), (start + timedelta(minutes=minutes)).isoformat()


def plan(season_id: str, host_id: str, title: str = "Онлайн-встреча", day: int = 10, hour: int = 18,
         capacity: int = 10, **extra) -> dict:
    starts_at, ends_at = at(season_id, day, hour)
    return {"kind": "online_meeting", "title": title, "starts_at": starts_at, "ends_at": ends_at,
            "call_link": "https://meet.example.org/hr", "capacity": capacity, "host_id": host_id, **extra}


async def planned_season(p: Platform, moderator: str, title: str = "Весна") -> str:
    season_id = new_season_id()
    got = await ok(p, moderator, "POST", "/v1/seasons", {"season_id": season_id, "title": title})
    assert (got["phase"], got["starts_on"], got["ends_on"], got["time_zone"]) == (
        "planning", f"{season_id[:4]}-02-15", f"{season_id[:4]}-07-01", "Asia/Yekaterinburg")
    return season_id


async def open_season_with(p: Platform, moderator: str, host_id: str, *plans: dict) -> tuple[str, list[str]]:
    season_id = await planned_season(p, moderator)
    ids = [(await ok(p, moderator, "POST", f"/v1/seasons/{season_id}/events", body))["event_id"] for body in plans]
    await ok(p, moderator, "POST", f"/v1/seasons/{season_id}/open")
    return season_id, ids


def event_url(season_id: str, event_id: str) -> str:
    return f"/v1/seasons/{season_id}/events/{event_id}"


async def refused(p: Platform, token: str, method: str, url: str, status: int, code: str, json=None,
                  lang: str | None = None) -> dict:
    async with p.client(token, lang=lang) as c:
        r = await c.request(method, url, json=json)
    assert (r.status_code, r.json().get("code")) == (status, code), r.text
    return r.json()


async def test_a_season_goes_through_every_phase_and_refuses_what_its_phase_does_not_allow(platform, people):
    moderator = people["moderator"][1]
    anna_id, anna = people["anna"]
    season_id = await planned_season(platform, moderator)
    # a member cannot move a season, nor start one
    await refused(platform, anna, "POST", f"/v1/seasons/{season_id}/open", 403, "moderator_only")
    await refused(platform, anna, "POST", "/v1/seasons", 403, "moderator_only",
                  {"season_id": new_season_id(), "title": "Моя"})
    # the same season twice is refused; a season with an unknown name needs its dates
    await refused(platform, moderator, "POST", "/v1/seasons", 409, "season_exists",
                  {"season_id": season_id, "title": "Весна"})
    await refused(platform, moderator, "POST", "/v1/seasons", 422, "season_dates_required",
                  {"season_id": f"s-{uuid.uuid4().hex[:6]}", "title": "Лето"})
    # an empty grid is not published; a phase is not skipped
    await refused(platform, moderator, "POST", f"/v1/seasons/{season_id}/open", 409, "season_grid_empty")
    await refused(platform, moderator, "POST", f"/v1/seasons/{season_id}/close", 409, "season_not_open")
    await refused(platform, moderator, "POST", f"/v1/seasons/{season_id}/results", 409, "season_not_closed")
    request = await ok(platform, anna, "POST", f"/v1/seasons/{season_id}/requests", {
        "topic": "Оценка персонала", "format": "online", "experience": "Провести калибровку", "group_size": 8})
    event = await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/events", plan(season_id, anna_id))
    # a draft is the moderators' until the grid is published
    await refused(platform, anna, "GET", event_url(season_id, event["event_id"]), 404, "event_not_found")
    assert (await ok(platform, anna, "GET", f"/v1/seasons/{season_id}/events"))["items"] == []
    await refused(platform, anna, "PUT", event_url(season_id, event["event_id"]) + "/registration", 404,
                  "event_not_found")
    assert (await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/open"))["phase"] == "open"
    # open: no more requests, in Russian by default, in English on request, with what the phase is
    body = await refused(platform, anna, "POST", f"/v1/seasons/{season_id}/requests", 409, "season_not_planning",
                         {"topic": "Поздно", "format": "online", "experience": "—", "group_size": 3})
    assert "планировании" in body["title"]
    body = await refused(platform, anna, "POST", f"/v1/seasons/{season_id}/requests/{request['request_id']}/support",
                         409, "season_not_planning", lang="en")
    assert "no longer being planned" in body["title"]
    await ok(platform, anna, "PUT", event_url(season_id, event["event_id"]) + "/registration")
    assert (await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/close"))["phase"] == "closed"
    # closed: no registration, no cancelling, in words that say so
    body = await refused(platform, people["boris"][1], "PUT", event_url(season_id, event["event_id"]) + "/registration",
                         409, "season_not_open")
    assert "не открыт" in body["title"] and "closed" in body["detail"]
    await refused(platform, anna, "DELETE", event_url(season_id, event["event_id"]) + "/registration", 409,
                  "season_not_open")
    await refused(platform, moderator, "POST", f"/v1/seasons/{season_id}/close", 409, "season_not_open")
    got = await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/results")
    assert got["phase"] == "results_published"
    assert (await ok(platform, anna, "GET", f"/v1/seasons/{season_id}"))["phase"] == "results_published"
    assert season_id in [s["season_id"] for s in (await ok(platform, anna, "GET", "/v1/seasons"))["items"]]


async def test_requests_are_supported_once_each_and_their_askers_see_the_outcome_and_the_event(platform, people):
    moderator = people["moderator"][1]
    anna_id, anna = people["anna"]
    boris_id, boris = people["boris"]
    season_id = await planned_season(platform, moderator)
    url = f"/v1/seasons/{season_id}/requests"
    body = {"topic": "Адаптация новичков", "format": "in_person", "experience": "Хочу провести игру",
            "group_size": 12, "preferred_dates": [f"{season_id[:4]}-03-20"]}
    first = await ok(platform, anna, "POST", url, body)
    second = await ok(platform, boris, "POST", url, {**body, "topic": "Онбординг", "format": "online"})
    third = await ok(platform, boris, "POST", url, {**body, "topic": "Скучная тема"})
    # one vote each: twice is once, one's own is refused, the introduction group is refused
    for _ in range(2):
        got = await ok(platform, boris, "POST", f"{url}/{first['request_id']}/support")
    assert (got["supporters"], got["supported"]) == (1, True)
    await refused(platform, anna, "POST", f"{url}/{first['request_id']}/support", 403, "own_request_support")
    await refused(platform, people["outsider"][1], "POST", f"{url}/nope/support", 404, "request_not_found")
    await refused(platform, anna, "POST", f"{url}/{first['request_id']}/accept", 403, "moderator_only")
    # moderators decide: accept, merge into the accepted one, decline with a reason
    await ok(platform, moderator, "POST", f"{url}/{first['request_id']}/accept")
    await refused(platform, moderator, "POST", f"{url}/{first['request_id']}/accept", 409, "request_already_decided")
    await refused(platform, moderator, "POST", f"{url}/{third['request_id']}/merge", 409, "merge_target_not_accepted",
                  {"into_request_id": second["request_id"]})
    await ok(platform, moderator, "POST", f"{url}/{second['request_id']}/merge",
             {"into_request_id": first["request_id"]})
    await refused(platform, moderator, "POST", f"{url}/{third['request_id']}/decline", 422, "invalid_fields",
                  {"reason": ""})
    await ok(platform, moderator, "POST", f"{url}/{third['request_id']}/decline", {"reason": "Тема уже была"})
    # the grid answers the accepted request; an event cannot answer one not accepted
    await refused(platform, moderator, "POST", f"/v1/seasons/{season_id}/events", 422, "request_not_accepted",
                  plan(season_id, anna_id, answers=[third["request_id"]]))
    event = await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/events",
                     plan(season_id, anna_id, answers=[first["request_id"]]))
    listed = {r["request_id"]: r for r in (await ok(platform, boris, "GET", url))["items"]}
    assert list(listed)[0] == first["request_id"]  # the most supported first
    assert (listed[first["request_id"]]["outcome"], listed[first["request_id"]]["event_ids"]) == (
        "accepted", [event["event_id"]])
    assert (listed[second["request_id"]]["outcome"], listed[second["request_id"]]["into_request_id"],
            listed[second["request_id"]]["event_ids"]) == ("merged", first["request_id"], [event["event_id"]])
    assert (listed[third["request_id"]]["outcome"], listed[third["request_id"]]["reason"]) == (
        "declined", "Тема уже была")
    assert listed[first["request_id"]]["topic"] == "Адаптация новичков"
    assert listed[first["request_id"]]["preferred_dates"] == [f"{season_id[:4]}-03-20"]


async def test_the_grid_refuses_a_host_or_group_booked_twice_and_an_event_outside_its_season(platform, people):
    moderator = people["moderator"][1]
    anna_id, boris_id = people["anna"][0], people["boris"][0]
    group_id = await chat_group(platform, people)
    season_id = await planned_season(platform, moderator)
    events = f"/v1/seasons/{season_id}/events"
    first = await ok(platform, moderator, "POST", events, plan(season_id, anna_id, group_id=group_id))
    body = await refused(platform, moderator, "POST", events, 409, "host_double_booked",
                         plan(season_id, anna_id, title="Другая", hour=19))
    assert "ведущего" in body["title"]
    await refused(platform, moderator, "POST", events, 409, "group_double_booked",
                  plan(season_id, boris_id, title="Та же группа", hour=19, group_id=group_id))
    # one ending as the other starts is no clash
    await ok(platform, moderator, "POST", events, plan(season_id, anna_id, title="Следом", hour=20))
    year = season_id[:4]
    outside = {**plan(season_id, boris_id), "starts_at": f"{year}-07-01T19:30:00Z", "ends_at": f"{year}-07-01T20:30:00Z"}
    body = await refused(platform, moderator, "POST", events, 422, "event_outside_season", outside)
    assert body["detail"] == f"Сезон идёт с {year}-02-15 по {year}-07-01 (Asia/Yekaterinburg)."
    # the last evening of the season in Yekaterinburg is still inside it
    await ok(platform, moderator, "POST", events, {**outside, "starts_at": f"{year}-07-01T17:00:00Z",
                                                  "ends_at": f"{year}-07-01T18:30:00Z"})
    await refused(platform, moderator, "POST", events, 422, "game_needs_place",
                  {**plan(season_id, boris_id, day=11), "kind": "game"})
    await refused(platform, moderator, "PUT", f"{events}/{first['event_id']}", 409, "host_double_booked",
                  plan(season_id, anna_id, hour=20, group_id=group_id))


async def test_publishing_the_grid_announces_each_event_in_the_main_group(platform, people):
    moderator = people["moderator"][1]
    anna_id, anna = people["anna"]
    title = f"Игра HR-ВЛИЯНИЕ {uuid.uuid4().hex[:4]}"
    season_id = await planned_season(platform, moderator)
    game = {**plan(season_id, anna_id, title=title, day=14, hour=11), "kind": "game", "place": "Екатеринбург, "
            "ул. Ленина, 1", "call_link": None}
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/events", game)
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/events", plan(season_id, people["boris"][0]))
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/open")
    await settle(platform)
    news = (await ok(platform, anna, "GET", "/v1/announcements?limit=50"))["items"]
    mine = [a for a in news if a["topic"] == "calendar_event_scheduled" and title in a["title"]]
    assert len(mine) == 1, news
    assert mine[0]["body"].startswith(f"14.03.{season_id[:4]} 11:00 (Asia/Yekaterinburg)")
    async with platform.client(anna, lang="en") as c:
        english = (await c.get("/v1/announcements?limit=50")).json()["items"]
    assert any(a["title"] == f"On the calendar: “{title}”" for a in english)
    # the same EventScheduled delivered again (twice) announces nothing twice
    groups = platform.services["groups"]
    policy = next(r for r in groups.runners if r.c.name == "calendar_announcements")
    stream = await groups.events.load(f"hr.evt.calendar.season.{season_id}")
    scheduled = next(r for r in stream.events if getattr(r.event, "plan", None) and r.event.plan.title == title
                     and type(r.event).__name__ == "EventScheduled")
    for _ in range(2):
        await policy.c.handle(scheduled)
    await settle(platform)
    news = (await ok(platform, anna, "GET", "/v1/announcements?limit=50"))["items"]
    assert len([a for a in news if title in a["title"]]) == 1


async def test_fifty_at_once_for_ten_places_get_ten_places_and_a_line_in_order(platform, people):
    moderator, admin = people["moderator"][1], people["admin"][1]
    host_id = people["anna"][0]
    season_id = await planned_season(platform, moderator)
    event_id = (await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/events",
                         plan(season_id, host_id, capacity=10)))["event_id"]
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/open")
    crowd = [await make_member(platform, admin) for _ in range(50)]
    await settle(platform)
    url = event_url(season_id, event_id) + "/registration"

    async def register(token: str):
        async with platform.client(token) as c:
            return await c.put(url)

    answers = await asyncio.gather(*(register(token) for _, _, token in crowd))
    assert [r.status_code for r in answers] == [200] * 50, [r.text for r in answers if r.status_code != 200]
    await settle(platform)
    got = await ok(platform, moderator, "GET", event_url(season_id, event_id))
    assert (got["registered"], got["capacity"], got["waitlisted"]) == (10, 10, 40)
    # the line is in the order of the appends: each member's position is where their event stands in the log
    calendar = platform.services["calendar"]
    stream = await calendar.events.load(f"hr.evt.calendar.registration.{event_id}")
    waitlisted = [r.event.member_id for r in stream.events if type(r.event).__name__ == "RegistrationWaitlisted"]
    registered = [r.event.member_id for r in stream.events if type(r.event).__name__ == "EventRegistered"]
    assert len(registered) == 10 and len(waitlisted) == 40 and not set(registered) & set(waitlisted)
    token_of = {member_id: token for member_id, _, token in crowd}
    for position, member_id in enumerate(waitlisted[:5], start=1):
        mine = await ok(platform, token_of[member_id], "GET", event_url(season_id, event_id))
        assert (mine["my_status"], mine["my_position"]) == ("waitlisted", position)
    # a cancellation promotes exactly one, the first in line, who is told so on their stream
    first = waitlisted[0]
    after = (await read_stream(platform, token_of[first], None, 0.2))[0]["id"]
    await ok(platform, token_of[registered[3]], "DELETE", url)
    got = await ok(platform, moderator, "GET", event_url(season_id, event_id))
    assert (got["registered"], got["waitlisted"]) == (10, 39)
    assert (await ok(platform, token_of[first], "GET", event_url(season_id, event_id)))["my_status"] == "registered"
    assert (await ok(platform, token_of[waitlisted[1]], "GET", event_url(season_id, event_id)))["my_position"] == 1
    told = [e for e in await read_stream(platform, token_of[first], int(after), 0.5) if e["event"].startswith("calendar")]
    assert [(e["event"], e["data"]["calendar_event_id"]) for e in told] == [("calendar_waitlist_promoted", event_id)]
    # the same cancellation twice frees nothing more; someone else's place is not one's to give up
    await ok(platform, token_of[registered[3]], "DELETE", url)
    await refused(platform, token_of[registered[4]], "DELETE", event_url(season_id, event_id) +
                  f"/registrations/{registered[5]}", 403, "own_registration_only")
    got = await ok(platform, moderator, "GET", event_url(season_id, event_id))
    assert (got["registered"], got["waitlisted"]) == (10, 39)


def parsed(text: str) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(text)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


async def feed(p: Platform, path: str):
    async with p.client() as c:
        return await c.get(path)


async def test_feeds_parse_follow_changes_and_cancellations_and_a_renewed_link_answers_404(platform, people):
    moderator = people["moderator"][1]
    anna_id, anna = people["anna"]
    boris_id, boris = people["boris"]
    group_id = await chat_group(platform, people)
    season_id = await planned_season(platform, moderator)
    meeting = (await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/events",
                        plan(season_id, anna_id, title="Встреча; с запятой, и \\ чертой")))["event_id"]
    group_event = (await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/events",
                            plan(season_id, boris_id, title="Встреча группы", day=12, group_id=group_id)))["event_id"]
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/open")
    await ok(platform, anna, "PUT", event_url(season_id, meeting) + "/registration")
    links = await ok(platform, anna, "GET", "/v1/me/calendar/links")
    personal = links["personal"]
    season_feed = links["season"].replace("{season_id}", season_id)
    group_feed = links["group"].replace("{group_id}", group_id)
    for path, expected in ((personal, {meeting, group_event}), (season_feed, {meeting, group_event}),
                           (group_feed, {group_event})):
        r = await feed(platform, path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar"), r.text
        events = parsed(r.text)
        got = {u.split("@")[0] for u in events}
        # anna's own feed also holds what earlier tests gave her; the season's and the group's hold exactly these
        assert expected <= got if path == personal else got == expected, path
    events = {u.split("@")[0]: e for u, e in parsed((await feed(platform, personal)).text).items()}
    assert str(events[meeting]["SUMMARY"]) == "Встреча; с запятой, и \\ чертой"
    assert int(events[meeting].get("SEQUENCE", 0)) == 0
    # a change: its people are told, and the feed shows the new time with a higher SEQUENCE
    mark = (await read_stream(platform, anna, None, 0.2))[0]["id"]
    changed = plan(season_id, anna_id, title="Встреча (перенос)", day=11, hour=19)
    await ok(platform, moderator, "PUT", event_url(season_id, meeting), changed)
    events = {u.split("@")[0]: e for u, e in parsed((await feed(platform, personal)).text).items()}
    assert int(events[meeting]["SEQUENCE"]) == 1 and str(events[meeting]["SUMMARY"]) == "Встреча (перенос)"
    assert events[meeting].decoded("DTSTART").astimezone(UTC) == datetime.fromisoformat(changed["starts_at"])
    await ok(platform, moderator, "POST", event_url(season_id, meeting) + "/cancel", {"reason": "Ведущий заболел"})
    events = {u.split("@")[0]: e for u, e in parsed((await feed(platform, personal)).text).items()}
    assert (str(events[meeting]["STATUS"]), int(events[meeting]["SEQUENCE"])) == ("CANCELLED", 2)
    told = [e["event"] for e in await read_stream(platform, anna, int(mark), 0.5)]
    assert told.count("calendar_event_changed") == 1 and told.count("calendar_event_cancelled") == 1, told
    # a group feed is its members'; boris's link cannot be guessed from anna's; a forged token opens nothing
    outsider_links = await ok(platform, people["outsider"][1], "GET", "/v1/me/calendar/links")
    assert (await feed(platform, outsider_links["group"].replace("{group_id}", group_id))).status_code == 404
    forged = personal.replace(f"/{anna_id}/", f"/{boris_id}/")
    assert (await feed(platform, forged)).status_code == 404
    assert (await feed(platform, personal.replace(personal.split("/")[-2], "A" * 32))).status_code == 404
    # renewing the link: every earlier one answers 404, the new ones work
    renewed = await ok(platform, anna, "POST", "/v1/me/calendar/links")
    assert renewed["personal"] != personal and renewed["generation"] == links["generation"] + 1
    for old in (personal, season_feed, group_feed):
        r = await feed(platform, old)
        assert r.status_code == 404 and r.json()["code"] == "feed_not_found", old
    assert (await feed(platform, renewed["personal"])).status_code == 200


async def test_a_guest_reads_no_calendar_and_an_erased_askers_words_are_gone(platform, people):
    from tests.e2e.journey import invite, register
    moderator, admin = people["moderator"][1], people["admin"][1]
    inv = await invite(platform, admin)
    _, _, guest = await register(platform, inv["token"], full_name="Гость Гостев")
    await settle(platform)
    season_id = await planned_season(platform, moderator)
    for method, url in (("GET", "/v1/seasons"), ("GET", f"/v1/seasons/{season_id}/events"),
                        ("GET", "/v1/me/calendar/links"), ("POST", "/v1/me/calendar/links"),
                        ("POST", f"/v1/seasons/{season_id}/requests")):
        body = {"topic": "Тема", "format": "online", "experience": "Опыт", "group_size": 3} if "requests" in url else None
        await refused(platform, guest, method, url, 403, "calendar_members_only", body)
    doomed_id, _, doomed = await make_member(platform, admin)
    await settle(platform)
    secret = f"Секретная тема {uuid.uuid4().hex[:6]}"
    request = await ok(platform, doomed, "POST", f"/v1/seasons/{season_id}/requests",
                       {"topic": secret, "format": "online", "experience": "Мой опыт", "group_size": 4})
    await ok(platform, admin, "DELETE", f"/v1/members/{doomed_id}")
    await settle(platform)
    listed = {r["request_id"]: r for r in (await ok(platform, moderator, "GET",
                                                     f"/v1/seasons/{season_id}/requests"))["items"]}
    gone = listed[request["request_id"]]
    assert (gone["topic"], gone["experience"], gone["member_id"]) == (None, None, None)
    # and after a rebuild of the read model from the log
    calendar = platform.services["calendar"]
    runner = next(r for r in calendar.runners if r.c.name == "calendar")
    await runner.rebuild()
    await settle(platform)
    listed = {r["request_id"]: r for r in (await ok(platform, moderator, "GET",
                                                     f"/v1/seasons/{season_id}/requests"))["items"]}
    assert listed[request["request_id"]]["topic"] is None
    assert secret.encode() not in b"".join(p.read_bytes() for p in platform.data_dir.rglob("*calendar*") if p.is_file())


@pytest.mark.parametrize("field,value", [("capacity", 10_001), ("title", "x" * 201), ("call_link", "http://a"),
                                         ("starts_at", "2027-03-01T10:00:00"), ("host_id", "*")])
async def test_a_plan_with_a_bad_field_is_refused_and_changes_nothing(platform, people, field, value):
    moderator = people["moderator"][1]
    season_id = await planned_season(platform, moderator)
    body = {**plan(season_id, people["anna"][0]), field: value}
    await refused(platform, moderator, "POST", f"/v1/seasons/{season_id}/events", 422, "invalid_fields", body)
    assert (await ok(platform, moderator, "GET", f"/v1/seasons/{season_id}"))["events"] == 0


async def test_a_member_who_leaves_the_community_gives_up_their_place_to_the_next_in_line(platform, people):
    moderator, admin = people["moderator"][1], people["admin"][1]
    season_id = await planned_season(platform, moderator)
    event_id = (await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/events",
                         plan(season_id, people["anna"][0], capacity=1)))["event_id"]
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/open")
    leaving_id, _, leaving = await make_member(platform, admin)
    erased_id, _, erased = await make_member(platform, admin)
    next_id, _, next_in_line = await make_member(platform, admin)
    await settle(platform)
    url = event_url(season_id, event_id)
    await ok(platform, leaving, "PUT", url + "/registration")
    await ok(platform, erased, "PUT", url + "/registration")
    await ok(platform, next_in_line, "PUT", url + "/registration")
    assert (await ok(platform, next_in_line, "GET", url))["my_position"] == 2
    async with platform.client(admin) as c:
        r = await c.post(f"/v1/moderation/{leaving_id}/decision", json={"decision": "revoke", "message": "правила"})
        assert r.status_code == 200, r.text
    await settle(platform)
    got = await ok(platform, next_in_line, "GET", url)
    assert (got["registered"], got["waitlisted"], got["my_position"]) == (1, 1, 1)
    await ok(platform, admin, "DELETE", f"/v1/members/{erased_id}")
    await settle(platform)
    got = await ok(platform, next_in_line, "GET", url)
    assert (got["registered"], got["waitlisted"], got["my_status"]) == (1, 0, "registered")


async def game_team(p: Platform, moderator: str, admin: str) -> tuple[str, str, str]:
    """A game team whose coordinator is a new member: (group_id, coordinator_id, coordinator's token)."""
    member_id, _, token = await make_member(p, admin)
    await settle(p)
    body = {"title": f"Команда {uuid.uuid4().hex[:6]}", "description": "Играем", "group_type": "game_team"}
    group_id = (await ok(p, token, "POST", "/v1/groups", body))["group_id"]
    await ok(p, moderator, "POST", f"/v1/groups/{group_id}/decision", {"decision": "approve"})
    return group_id, member_id, token


async def test_eight_teams_confirmed_at_once_for_three_places_and_a_freed_place_offered_down_the_line(platform,
                                                                                                     people):
    moderator, admin = people["moderator"][1], people["admin"][1]
    season_id = await planned_season(platform, moderator)
    game = {**plan(season_id, people["anna"][0], title="Игра HR-ВЛИЯНИЕ", capacity=3), "kind": "game",
            "place": "Екатеринбург", "call_link": None}
    event_id = (await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/events", game))["event_id"]
    teams_url = event_url(season_id, event_id) + "/teams"
    # before the grid is published there is no game to apply for
    teams = [await game_team(platform, moderator, admin) for _ in range(8)]
    await settle(platform)
    first_group, first_coordinator, first_token = teams[0]
    await refused(platform, first_token, "POST", teams_url, 404, "event_not_found",
                  {"group_id": first_group, "roster": [first_coordinator]})
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/open")
    # only a team's coordinator applies, with themselves on the roster, for their own group
    await refused(platform, people["anna"][1], "POST", teams_url, 403, "team_coordinator_only",
                  {"group_id": first_group, "roster": [people["anna"][0]]})
    await refused(platform, first_token, "POST", teams_url, 422, "roster_not_in_group",
                  {"group_id": first_group, "roster": [first_coordinator, people["boris"][0]]})
    for group_id, coordinator_id, token in teams:
        for _ in range(2):  # the same application twice is one
            await ok(platform, token, "POST", teams_url, {"group_id": group_id, "roster": [coordinator_id]})
    await refused(platform, first_token, "POST", f"{teams_url}/{first_group}/confirm", 403, "moderator_only")

    async def confirm(group_id: str):
        async with platform.client(moderator) as c:
            return await c.post(f"{teams_url}/{group_id}/confirm")

    answers = await asyncio.gather(*(confirm(group_id) for group_id, _, _ in teams))
    assert [r.status_code for r in answers] == [200] * 8, [r.text for r in answers if r.status_code != 200]
    got = await ok(platform, first_token, "GET", teams_url)
    assert (len(got["confirmed"]), len(got["waitlisted"]), got["max_teams"]) == (3, 5, 3)
    # the line is the order of the appends, and the confirmed teams carry their rosters (the feedback
    # service builds a game's teams from these events)
    stream = await platform.services["calendar"].events.load(f"hr.evt.calendar.game_teams.{event_id}")
    names = [(type(r.event).__name__, r.event) for r in stream.events]
    line = [e.group_id for n, e in names if n == "TeamWaitlisted"]
    assert [t["group_id"] for t in got["waitlisted"]] == line and [t["position"] for t in got["waitlisted"]] == [
        1, 2, 3, 4, 5]
    roster_of = {group_id: [coordinator_id] for group_id, coordinator_id, _ in teams}
    assert all(list(e.roster) == roster_of[e.group_id] for n, e in names if n == "TeamConfirmed")
    # a confirmed team leaves: exactly one place is offered, to the first in line, for 48 hours
    token_of = {group_id: token for group_id, _, token in teams}
    leaving = got["confirmed"][0]["group_id"]
    await ok(platform, token_of[leaving], "POST", f"{teams_url}/{leaving}/withdraw")
    got = await ok(platform, moderator, "GET", teams_url)
    assert [t["group_id"] for t in got["offered"]] == [line[0]] and len(got["confirmed"]) == 2
    expires = datetime.fromisoformat(got["offered"][0]["offer_expires_at"])
    assert timedelta(hours=47, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=48)
    # the offered team passes: the place goes to the next; the next takes it
    await ok(platform, token_of[line[0]], "POST", f"{teams_url}/{line[0]}/pass")
    await refused(platform, token_of[line[2]], "POST", f"{teams_url}/{line[2]}/accept", 409, "team_place_not_offered")
    await ok(platform, token_of[line[1]], "POST", f"{teams_url}/{line[1]}/accept")
    got = await ok(platform, moderator, "GET", teams_url)
    assert (len(got["confirmed"]), [t["group_id"] for t in got["waitlisted"]], got["offered"]) == (
        3, line[2:], [])
    # the offer's timer was set and then cancelled by the answers: no timer is left for this game
    timers = await platform.services["calendar"].store.find("timers_team_offers", {})
    assert not [t for t in timers if str(t.get("key", "")).startswith(event_id)], timers


async def test_research_is_distributed_within_each_volunteers_hours_and_says_why(platform, people):
    moderator = people["moderator"][1]
    anna_id, anna = people["anna"]
    boris_id, boris = people["boris"]
    season_id = await planned_season(platform, moderator)
    url = f"/v1/seasons/{season_id}/research"
    for title, hours in (("Опрос работодателей", 10), ("Анализ вакансий", 6), ("Интервью", 4), ("Огромное", 40)):
        await ok(platform, moderator, "POST", f"{url}/tasks", {"title": title, "effort_hours": hours})
    await refused(platform, anna, "POST", f"{url}/tasks", 403, "moderator_only", {"title": "Моё", "effort_hours": 1})
    await ok(platform, anna, "PUT", f"{url}/offer", {"hours": 12})
    await ok(platform, boris, "PUT", f"{url}/offer", {"hours": 8})
    await refused(platform, anna, "POST", f"{url}/distribute", 403, "moderator_only")
    got = await ok(platform, moderator, "POST", f"{url}/distribute")
    assert got["distributed"]
    by_title = {t["title"]: t for t in got["tasks"]}
    load = {anna_id: 0, boris_id: 0}
    for t in got["tasks"]:
        if t["member_id"]:
            load[t["member_id"]] += t["effort_hours"]
            assert t["reason"]["code"] in ("largest_share_left", "only_one_fits"), t
    # largest first, each to whoever has most hours left: 10 → anna, 6 → boris; then 4 fits neither's 2
    assert load == {anna_id: 10, boris_id: 6}
    for title in ("Огромное", "Интервью"):
        assert by_title[title]["member_id"] is None
        assert by_title[title]["reason"]["code"] == "no_volunteer_has_hours"
    assert {o["member_id"]: o["assigned_hours"] for o in got["offers"]} == load
    # distributed: a second distribution changes nothing, offers are closed until a moderator reopens
    assert (await ok(platform, moderator, "POST", f"{url}/distribute")) == got
    await refused(platform, boris, "PUT", f"{url}/offer", 409, "research_distributed", {"hours": 50})
    await ok(platform, moderator, "POST", f"{url}/reopen")
    await ok(platform, boris, "PUT", f"{url}/offer", {"hours": 50})
    got = await ok(platform, moderator, "POST", f"{url}/distribute")
    assert {t["title"]: t["member_id"] for t in got["tasks"]}["Огромное"] == boris_id
    assert (await ok(platform, anna, "GET", url)) == got


async def test_published_results_report_what_the_season_held_and_are_announced(platform, people):
    moderator, admin = people["moderator"][1], people["admin"][1]
    host_id, host = people["anna"]
    # a season already past, so its events have begun and their attendance can be recorded
    season_id = f"{fresh_year(1600, 1900)}-spring"
    title = f"Весна {season_id[:4]}"
    await ok(platform, moderator, "POST", "/v1/seasons", {"season_id": season_id, "title": title})
    asked = await ok(platform, host, "POST", f"/v1/seasons/{season_id}/requests",
                     {"topic": "Наставничество", "format": "online", "experience": "Опыт", "group_size": 5})
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/requests/{asked['request_id']}/accept")
    events = f"/v1/seasons/{season_id}/events"
    meeting = (await ok(platform, moderator, "POST", events, plan(season_id, host_id, capacity=2)))["event_id"]
    dropped = (await ok(platform, moderator, "POST", events, plan(season_id, host_id, day=20)))["event_id"]
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/open")
    crowd = [await make_member(platform, admin) for _ in range(3)]
    await settle(platform)
    for _, _, token in crowd:
        await ok(platform, token, "PUT", event_url(season_id, meeting) + "/registration")
    await ok(platform, moderator, "POST", event_url(season_id, dropped) + "/cancel", {})
    # who came: the host records it, among the registered only; a participant may not
    present = [crowd[0][0]]
    await refused(platform, crowd[1][2], "PUT", event_url(season_id, meeting) + "/attendance", 403,
                  "host_or_moderator_only", {"present": present})
    await refused(platform, host, "PUT", event_url(season_id, meeting) + "/attendance", 422,
                  "attendee_not_registered", {"present": [crowd[2][0]]})
    await ok(platform, host, "PUT", event_url(season_id, meeting) + "/attendance", {"present": present})
    seen = await ok(platform, host, "GET", event_url(season_id, meeting))
    assert (list(seen["registered_ids"]), list(seen["present_ids"])) == ([m for m, _, _ in crowd[:2]], present)
    other = await ok(platform, crowd[0][2], "GET", event_url(season_id, meeting))
    assert (other["registered_ids"], other["present_ids"]) == ([], [])  # not the host's list to read
    await refused(platform, moderator, "POST", f"/v1/seasons/{season_id}/results", 409, "season_not_closed")
    await refused(platform, host, "GET", f"/v1/seasons/{season_id}/results", 404, "season_results_not_published")
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/close")
    await refused(platform, host, "POST", f"/v1/seasons/{season_id}/results", 403, "moderator_only")
    await ok(platform, moderator, "POST", f"/v1/seasons/{season_id}/results")
    report = await ok(platform, host, "GET", f"/v1/seasons/{season_id}/results")
    assert report["events_held"] == {"online_meeting": 1, "game": 0, "research": 0}
    assert (report["events_cancelled"], report["capacity"], report["places_taken"], report["participants"],
            report["waitlisted"]) == (1, 2, 2, 2, 1)
    assert (report["attendance_recorded"], report["present"], report["registered_where_recorded"]) == (1, 1, 2)
    assert (report["requests"], report["requests_accepted"], report["reports"]) == (1, 1, [])
    await settle(platform)
    news = (await ok(platform, host, "GET", "/v1/announcements?limit=50"))["items"]
    mine = [a for a in news if a["topic"] == "calendar_results_published" and title in a["title"]]
    assert len(mine) == 1 and "участников: 2" in mine[0]["body"], news[:3]
