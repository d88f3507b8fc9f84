"""The calendar's other pages in the browser, against the real platform: the host ticks who came and a
moderator publishes a closed season's results, which a member reads as a chart (its bars carry the
report's numbers); a game team's coordinator applies with a roster and a moderator confirms the team;
research hours offered, a task distributed and the member reading why it is theirs; the ICS feeds read
by a calendar app through the web client's own address, and a renewed link answering 404 there too."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import icalendar

from tests.platform_harness import Platform
from tests.season_years import Years
from tests.web.test_calendar_browser import _years as calendar_years
from tests.web.test_calendar_browser import call, crew, plan
from tests.web.test_chat import click, fits
from tests.web.test_groups import settle_views, token_of
from tests.web.test_journey import sign_in

__all__ = ["crew"]

#: past autumns (their events have begun: attendance can be recorded) and future springs of their own
_past = Years(1910, 1990, span=2)
# the calendar browser module's own counter: two counters from random bases in one range collided (409
# season_exists in a full run), one counter cannot
_future = calendar_years


def autumn_meeting(season_id: str, host_id: str, title: str, capacity: int) -> dict:
    """10 September of the season's year, 18:00 in Yekaterinburg (UTC+5)."""
    start = datetime(int(season_id[:4]), 9, 10, 13, tzinfo=UTC)
    return {"kind": "online_meeting", "title": title, "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(minutes=90)).isoformat(), "call_link": "https://meet.example.org/hr",
            "capacity": capacity, "host_id": host_id}


async def bars(person) -> dict[str, tuple[str, str]]:
    """The chart's bars: key -> (the value it carries, the number written at its end)."""
    return await person.page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#chart-svg g.bar')]
        .map(g => [g.dataset.key, [g.dataset.value, g.querySelector('.chart-number').textContent.trim()]]))""")


async def test_the_host_ticks_who_came_and_a_member_reads_the_published_results_as_a_chart(people, web, crew):
    moderator_email, (anna_id, anna_email, _) = crew["moderator"][1], crew["anna"]
    season_id = f"{next(_past)}-autumn"
    await call(web, moderator_email, "POST", "/v1/seasons", {"season_id": season_id, "title": "Осень итогов"})
    meeting = await call(web, moderator_email, "POST", f"/v1/seasons/{season_id}/events",
                         autumn_meeting(season_id, anna_id, "Итоговая встреча", 2))
    await call(web, moderator_email, "POST", f"/v1/seasons/{season_id}/open")
    event_url = f"/v1/seasons/{season_id}/events/{meeting['event_id']}"
    for who in ("boris", "vera"):
        await call(web, crew[who][1], "PUT", f"{event_url}/registration")
    await settle_views(web)

    anna, moderator, vera = await people("res-host"), await people("res-moderator"), await people("res-member",
                                                                                                   width=360)
    await asyncio.gather(sign_in(anna, anna_email), sign_in(moderator, moderator_email),
                         sign_in(vera, crew["vera"][1]))

    # the host: the registered by name, ticks who came
    await anna.open(f"/calendar/seasons/{season_id}/events/{meeting['event_id']}", "host-event")
    form = anna.page.locator("#attendance")
    assert await form.get_by_label(crew["boris"][2]).count() == 1
    await form.get_by_label(crew["boris"][2]).check()
    await anna.submit("Сохранить посещаемость", "attended")
    assert "пришли 1" in await anna.page.locator(".flash").inner_text()
    assert await anna.page.locator("#attendance").get_by_label(crew["boris"][2]).is_checked()
    assert not await anna.page.locator("#attendance").get_by_label(crew["vera"][2]).is_checked()
    await fits(anna, "attendance")
    # a participant gets no such form
    await vera.open(f"/calendar/seasons/{season_id}/events/{meeting['event_id']}", "member-event")
    assert await vera.page.locator("#attendance").count() == 0

    # the moderator closes the season and publishes its results in the browser
    await moderator.open(f"/calendar/seasons/{season_id}", "season")
    await moderator.submit("Закрыть сезон", "closed")
    await moderator.submit("Опубликовать итоги", "published")
    assert await moderator.page.locator("#season").get_attribute("data-phase") == "results_published"
    await settle_views(web)

    # the member follows the season's link to its results: the bars carry the report's numbers
    await vera.open(f"/calendar/seasons/{season_id}", "season-published")
    await click(vera, vera.page.locator("#results-link"), "results")
    drawn = await bars(vera)
    expected = {"events_held.online_meeting": "1", "events_held.game": "0", "events_cancelled": "0",
                "capacity": "2", "places_taken": "2", "participants": "2", "registered_where_recorded": "2",
                "present": "1", "requests": "0", "teams_confirmed": "0", "research_tasks": "0"}
    assert {k: tuple(drawn[k]) for k in expected} == {k: (v, v) for k, v in expected.items()}
    place_bar = vera.page.locator('#chart-svg g.bar[data-key="places_taken"]')
    assert await place_bar.locator(".chart-label").text_content() == "Мест занято"
    widths = {k: await vera.page.locator(f'#chart-svg g.bar[data-key="{k}"] rect.chart-bar').get_attribute("width")
              for k in ("present", "registered_where_recorded")}
    assert int(widths["present"]) * 2 == int(widths["registered_where_recorded"])  # half of the registered came
    assert "Пришли 1 из 2 записавшихся (50%)" in await vera.page.locator("#results-summary").inner_text()
    assert await vera.page.locator('#results-table tr[data-key="present"] td').inner_text() == "1"
    assert await vera.page.locator("#reports-empty").inner_text() == (
        "Отчёты о ролях и обратной связи пока недоступны.")
    await fits(vera, "results-phone")
    await vera.open(f"/lang/en?next=/calendar/seasons/{season_id}/results", "results-en")
    label = vera.page.locator('#chart-svg g.bar[data-key="places_taken"] .chart-label')
    assert await label.text_content() == "Places taken"
    await fits(vera, "results-en")


async def test_a_coordinator_applies_with_a_roster_and_a_moderator_confirms_the_team(people, web, crew):
    moderator_email = crew["moderator"][1]
    (anna_id, anna_email, anna_name), (boris_id, boris_email, boris_name) = crew["anna"], crew["boris"]
    title = f"Команда {uuid.uuid4().hex[:6]}"
    async with web.client(await token_of(web, anna_email)) as c:
        r = await c.post("/v1/groups", json={"title": title, "description": "Играем", "group_type": "game_team",
                                             "settings": {"joining": "open"}})
        assert r.status_code == 201, r.text
    group_id = r.json()["group_id"]
    await settle_views(web)
    await call(web, moderator_email, "POST", f"/v1/groups/{group_id}/decision", {"decision": "approve"})
    await settle_views(web)
    await call(web, boris_email, "POST", f"/v1/groups/{group_id}/join", {"message": ""})
    season_id = f"{next(_future)}-spring"
    await call(web, moderator_email, "POST", "/v1/seasons", {"season_id": season_id, "title": "Весна игр"})
    game = {**plan(season_id, crew["moderator"][0], "Игра HR-ВЛИЯНИЕ", 14, 2), "kind": "game",
            "place": "Екатеринбург", "call_link": None}
    event_id = (await call(web, moderator_email, "POST", f"/v1/seasons/{season_id}/events", game))["event_id"]
    await call(web, moderator_email, "POST", f"/v1/seasons/{season_id}/open")
    await settle_views(web)

    anna, moderator = await people("team-coordinator", width=360), await people("team-moderator")
    await asyncio.gather(sign_in(anna, anna_email), sign_in(moderator, moderator_email))
    await anna.open(f"/calendar/seasons/{season_id}/events/{event_id}", "game")
    assert await anna.page.locator("#teams-count").inner_text() == "0 из 2"
    form = anna.page.locator(f"#apply-{group_id}")
    assert await form.get_by_label(f"{anna_name} (вы)").is_checked()
    assert not await form.get_by_label(boris_name).is_checked()
    await form.get_by_label(boris_name).check()
    await fits(anna, "apply-phone")
    await click(anna, anna.page.get_by_role("button", name=f"Подать заявку команды: {title}"), "applied")
    pending = anna.page.locator(f"#teams-pending #team-{group_id}")
    assert await pending.get_attribute("data-team-status") == "pending"
    roster = await pending.locator(".team-roster").inner_text()
    assert "Состав: 2 чел." in roster and boris_name in roster
    assert await anna.page.locator(f"#apply-{group_id}").count() == 0
    assert await anna.page.get_by_role("button", name=f"Подтвердить: {title}").count() == 0
    assert (await call(web, anna_email, "GET", f"/v1/seasons/{season_id}/events/{event_id}/teams"))[
        "pending"][0]["roster"] == [anna_id, boris_id]

    await moderator.open(f"/calendar/seasons/{season_id}/events/{event_id}", "mod-game")
    await click(moderator, moderator.page.get_by_role("button", name=f"Подтвердить: {title}"), "confirmed")
    assert "Команда подтверждена." in await moderator.page.locator(".flash").inner_text()
    assert await moderator.page.locator(f"#teams-confirmed #team-{group_id}").get_attribute(
        "data-team-status") == "confirmed"
    assert await moderator.page.locator("#teams-count").inner_text() == "1 из 2"
    assert boris_name in await moderator.page.locator(f"#team-{group_id} .team-roster").inner_text()
    await anna.open(f"/calendar/seasons/{season_id}/events/{event_id}", "game-confirmed")
    assert await anna.page.locator(f"#teams-confirmed #team-{group_id} .badge").inner_text() == "ваша команда"


async def test_hours_offered_a_task_distributed_and_the_member_reads_why_it_is_theirs(people, web, crew):
    moderator_email = crew["moderator"][1]
    season_id = f"{next(_future)}-spring"
    await call(web, moderator_email, "POST", "/v1/seasons", {"season_id": season_id, "title": "Весна исследований"})
    await call(web, crew["boris"][1], "PUT", f"/v1/seasons/{season_id}/research/offer", {"hours": 4})
    await settle_views(web)

    vera, moderator = await people("research-member"), await people("research-moderator")
    await asyncio.gather(sign_in(vera, crew["vera"][1]), sign_in(moderator, moderator_email))
    await vera.open(f"/calendar/seasons/{season_id}", "season")
    await click(vera, vera.page.locator("#research-link"), "research")
    await vera.page.get_by_label("Сколько часов вы готовы дать").fill("10")
    await vera.submit("Предложить часы", "offered")
    assert "Вы предложили 10 ч." in await vera.page.locator(".flash").inner_text()
    assert await vera.page.locator("#withdraw-offer").count() == 1
    assert await vera.page.locator("#add-task, #distribute").count() == 0
    await fits(vera, "offer")

    await moderator.open(f"/calendar/seasons/{season_id}/research", "mod-research")
    for task, hours in (("Опрос работодателей", "6"), ("Анализ вакансий", "3"), ("Огромное", "20")):
        await moderator.page.get_by_label("Название задачи").fill(task)
        await moderator.page.get_by_label("Трудоёмкость, часов").fill(hours)
        await moderator.submit("Добавить задачу", f"task-{hours}")
    assert [t.strip() for t in await moderator.page.locator("#task-list .task-name").all_inner_texts()] == [
        "Огромное", "Опрос работодателей", "Анализ вакансий"]
    await moderator.submit("Распределить задачи", "distributed")
    assert await moderator.page.locator("#research").get_attribute("data-distributed") == "yes"
    await fits(moderator, "distributed")
    await settle_views(web)

    await vera.open(f"/calendar/seasons/{season_id}/research", "mine")
    survey = vera.page.locator("#task-list li", has_text="Опрос работодателей")
    assert await survey.get_attribute("data-member") == crew["vera"][0]
    assert "ваша задача" in await survey.inner_text()
    assert await survey.locator(".task-outcome").inner_text() == (
        "Досталась: вы — только у этого участника хватало часов")
    other = vera.page.locator("#task-list li", has_text="Анализ вакансий")
    assert await other.locator(".task-outcome").inner_text() == (
        f"Досталась: {crew['boris'][2]} — у участника оставалось больше всего часов: 4 из 4")
    huge = vera.page.locator("#task-list li", has_text="Огромное")
    assert await huge.locator(".task-outcome").inner_text() == "Никому не досталась — ни у кого не осталось 20 ч"
    assert await vera.page.locator("#offer-form").count() == 0
    await vera.page.set_viewport_size({"width": 360, "height": 800})
    await fits(vera, "research-phone")


async def feed(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20.0) as calendar_app:  # no cookie, no token: the link is the key
        return await calendar_app.get(url)


async def test_a_calendar_app_reads_the_feeds_through_the_web_address_and_a_renewed_link_answers_404(
        people, web: Platform, crew):
    moderator_email = crew["moderator"][1]
    season_id = f"{next(_future)}-spring"
    await call(web, moderator_email, "POST", "/v1/seasons", {"season_id": season_id, "title": "Весна в календаре"})
    event = await call(web, moderator_email, "POST", f"/v1/seasons/{season_id}/events",
                       plan(season_id, crew["moderator"][0], "Встреча в календаре", 16, 5))
    await call(web, moderator_email, "POST", f"/v1/seasons/{season_id}/open")
    await call(web, crew["boris"][1], "PUT", f"/v1/seasons/{season_id}/events/{event['event_id']}/registration")
    await settle_views(web)

    boris = await people("feed-member")
    await sign_in(boris, crew["boris"][1])
    await boris.open("/calendar/my", "links")
    personal = await boris.page.locator("#link-personal").input_value()
    season = await boris.page.locator(f"#link-season-{season_id}").input_value()
    assert personal.startswith(web.web_url + "/calendar/feeds/") and personal.endswith("/personal.ics")
    assert season.startswith(web.web_url + "/calendar/feeds/") and season.endswith(f"/seasons/{season_id}.ics")
    for url in (personal, season):
        got = await feed(url)
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/calendar"), got.text
        calendar = icalendar.Calendar.from_ical(got.content)
        summaries = [str(e.get("summary")) for e in calendar.walk("VEVENT")]
        assert "Встреча в календаре" in summaries, summaries
    forged = personal.rsplit("/", 2)
    assert (await feed(f"{forged[0]}/{'A' * len(forged[1])}/personal.ics")).status_code == 404

    await boris.submit("Обновить ссылки", "renewed")
    renewed = await boris.page.locator("#link-personal").input_value()
    assert renewed != personal and renewed.startswith(web.web_url)
    assert (await feed(personal)).status_code == 404
    assert (await feed(season)).status_code == 404
    assert (await feed(renewed)).status_code == 200
