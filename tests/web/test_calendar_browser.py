"""The calendar in the browser, against the real platform: a member registers for an event and finds it in
their calendar (the "N из M" moving), a full event's waitlist position, the ICS links renewed; a season
planned from a member's request to a published grid answering it; a member sees no moderator's control and
a forged moderator's form gets the gateway's refusal in Russian; hostile input stays text."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.platform_harness import Platform
from tests.season_years import Years
from tests.web.test_chat import click, fits
from tests.web.test_groups import a_moderator, settle_views, token_of
from tests.web.test_journey import colleague, sign_in, surname

#: each test its own season (the platform is shared by the whole session); the e2e suite's years are lower
_years = Years(8000, 9800)
ZONE = "Asia/Yekaterinburg"
HOSTILE_TOPIC = "<script>alert(1)</script><b>жирно</b>"
FORGE = """([action, fields]) => {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = action;
  fields.csrf = document.querySelector('input[name=csrf]').value;
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement('input');
    input.type = 'hidden'; input.name = name; input.value = value; form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
}"""


@pytest.fixture(scope="module")
async def crew(web) -> dict:
    """A moderator and three members: name -> (member_id, email, full name)."""
    made = {}
    names = {key: surname() for key in ("anna", "boris", "vera")}
    ids = await asyncio.gather(*(colleague(web, name) for name in names.values()))
    for (key, name), (member_id, email) in zip(names.items(), ids, strict=True):
        made[key] = (member_id, email, f"Зинаида {name}")
    moderator_id, moderator_email = await a_moderator(web)
    made["moderator"] = (moderator_id, moderator_email, "")
    return made


async def call(web: Platform, email: str, method: str, url: str, json=None) -> dict:
    async with web.client(await token_of(web, email)) as c:
        r = await c.request(method, url, json=json)
    assert r.status_code in (200, 201), r.text
    return r.json()


def at(season_id: str, day: int, hour: int, minutes: int = 90) -> tuple[str, str]:
    """Day ``day`` of March of the season's year, at ``hour`` in Yekaterinburg (UTC+5 all year)."""
    start = datetime(int(season_id[:4]), 3, day, hour - 5, tzinfo=UTC)
    return start.isoformat(), (start + timedelta(minutes=minutes)).isoformat()


def plan(season_id: str, host_id: str, title: str, day: int, capacity: int) -> dict:
    starts_at, ends_at = at(season_id, day, 18)
    return {"kind": "online_meeting", "title": title, "starts_at": starts_at, "ends_at": ends_at,
            "call_link": "https://meet.example.org/hr", "capacity": capacity, "host_id": host_id}


async def forged(person, action: str, **fields: str):
    """A form the page never offered, posted from this member's page with their own CSRF token."""
    async with person.page.expect_navigation() as navigation:
        await person.page.evaluate(FORGE, [action, fields])
    response = await navigation.value
    await person.shoot("forged")
    return response


async def test_a_member_registers_sees_it_in_their_calendar_waits_in_line_and_renews_their_links(people, web, crew):
    moderator = crew["moderator"][1]
    season_id = f"{next(_years)}-spring"
    year = season_id[:4]
    await call(web, moderator, "POST", "/v1/seasons", {"season_id": season_id, "title": "Весна для записи"})
    first = await call(web, moderator, "POST", f"/v1/seasons/{season_id}/events",
                       plan(season_id, crew["moderator"][0], "Калибровка оценок", 10, 2))
    full = await call(web, moderator, "POST", f"/v1/seasons/{season_id}/events",
                      plan(season_id, crew["moderator"][0], "Разбор кейсов", 12, 1))
    await call(web, moderator, "POST", f"/v1/seasons/{season_id}/open")
    events = f"/v1/seasons/{season_id}/events"
    await call(web, crew["boris"][1], "PUT", f"{events}/{first['event_id']}/registration")
    await call(web, crew["boris"][1], "PUT", f"{events}/{full['event_id']}/registration")
    assert (await call(web, crew["vera"][1], "PUT", f"{events}/{full['event_id']}/registration"))[
        "my_position"] == 1
    await settle_views(web)

    anna = await people("cal-anna", width=360, height=800)
    await sign_in(anna, crew["anna"][1])
    await click(anna, anna.page.locator("#nav-calendar"), "seasons")
    await click(anna, anna.page.locator(f"#season-{season_id} a").first, "season")
    assert await anna.page.locator("#season-dates").inner_text() == f"15.02.{year} – 01.07.{year}, {ZONE}"
    item = anna.page.locator(f"#event-{first['event_id']}")
    assert "1 из 2" in await item.inner_text()
    assert f"10.03.{year} 18:00–19:30, {ZONE}" in await item.inner_text()

    # the month view: March holds both events in their day cells; the links go a month either way
    await click(anna, anna.page.locator("#view-month"), "month")
    assert await anna.page.locator("#month-title").inner_text() == f"Март {year} г."
    assert "Калибровка оценок" in await anna.page.locator(f"#day-{year}-03-10").inner_text()
    assert "Разбор кейсов" in await anna.page.locator(f"#day-{year}-03-12").inner_text()
    await click(anna, anna.page.locator("#month-next"), "april")
    assert await anna.page.locator("#month-title").inner_text() == f"Апрель {year} г."
    assert await anna.page.locator("#month-grid [data-event]").count() == 0
    await click(anna, anna.page.locator("#month-prev"), "march-again")
    await fits(anna, "month-phone")
    await click(anna, anna.page.locator(f"#day-{year}-03-10 a"), "event")

    # she registers: the count moves, and the event is in her calendar
    assert await anna.page.locator("#event-places").inner_text() == "1 из 2"
    await anna.submit("Записаться", "registered")
    assert await anna.page.locator("#event-places").inner_text() == "2 из 2"
    assert await anna.page.locator("#event-mine").inner_text() == "Вы записаны"
    await anna.open(f"/calendar/seasons/{season_id}/events/{full['event_id']}", "full")
    assert await anna.page.locator("#event-places").inner_text() == "1 из 1"
    await anna.submit("Встать в очередь", "waitlisted")
    assert "вы 2-й в очереди" in await anna.page.locator(".flash").inner_text()
    assert await anna.page.locator("#event-mine").inner_text() == "Вы 2-й в очереди"
    assert await anna.page.locator("#event-waitlist").inner_text() == "2"
    await anna.open(f"/calendar/seasons/{season_id}", "season-after")
    shown = await anna.page.locator(f"#event-{full['event_id']}").inner_text()
    assert "1 из 1" in shown and "в очереди: 2" in shown and "Вы 2-й в очереди" in shown
    assert "2 из 2" in await anna.page.locator(f"#event-{first['event_id']}").inner_text()

    await anna.open("/calendar/my", "mine")
    assert "Вы записаны" in await anna.page.locator(f"#event-{first['event_id']}").inner_text()
    assert "Вы 2-й в очереди" in await anna.page.locator(f"#event-{full['event_id']}").inner_text()

    # the links: renewing them says the old ones stop working, and they do
    old = await anna.page.locator("#link-personal").input_value()
    assert await anna.page.locator(f"#link-season-{season_id}").count() == 1
    assert "перестанут работать" in await anna.page.locator("#renew-warning").inner_text()
    await anna.submit("Обновить ссылки", "renewed")
    assert "Прежние ссылки больше не работают" in await anna.page.locator(".flash").inner_text()
    new = await anna.page.locator("#link-personal").input_value()
    assert new != old
    async with httpx.AsyncClient() as http:
        assert (await http.get(old)).status_code == 404
        assert (await http.get(new)).status_code == 200

    # leaving the line: Vera's place in it is hers again alone
    await anna.open(f"/calendar/seasons/{season_id}/events/{full['event_id']}", "full-again")
    await anna.submit("Отменить запись", "left")
    assert await anna.page.locator("#event-mine").inner_text() == "Вы не записаны"
    assert await anna.page.locator("#event-waitlist").inner_text() == "1"

    # in English, on her phone: the same words in hers, nothing off the screen
    await anna.open(f"/lang/en?next=/calendar/seasons/{season_id}/events/{first['event_id']}", "english")
    assert await anna.page.locator("#event-places").inner_text() == "2 of 2"
    assert await anna.page.locator("#event-mine").inner_text() == "You are registered"
    assert await anna.page.locator("#event-when").inner_text() == f"10.03.{year} 18:00–19:30, {ZONE}"
    await fits(anna, "event-en")
    await anna.open("/calendar/my", "mine-en")
    assert "every earlier link stops working" in await anna.page.locator("#renew-warning").inner_text()
    await fits(anna, "mine-en")


async def test_a_grid_built_from_a_members_request_is_published_and_members_cannot_moderate(people, web, crew):
    moderator, anna = await people("cal-moderator"), await people("cal-member")
    await asyncio.gather(sign_in(moderator, crew["moderator"][1]), sign_in(anna, crew["anna"][1]))
    season_id = f"{next(_years)}-spring"
    year = season_id[:4]

    # the moderator starts the season in the browser
    await moderator.open("/calendar", "seasons")
    await moderator.page.get_by_label("Обозначение сезона").fill(season_id)
    await moderator.page.locator("#start-season").get_by_label("Название").fill("Весна из заявок")
    await moderator.submit("Начать планирование", "started")
    assert await moderator.page.locator("#season-title").inner_text() == "Весна из заявок"
    assert "планирование" in await moderator.page.locator("#season-facts").inner_text()
    await settle_views(web)

    # the member asks for an event, and sends a hostile one too
    await anna.open(f"/calendar/seasons/{season_id}/requests", "requests")
    form = anna.page.locator("#new-request")
    await form.get_by_label("Тема").fill("Адаптация новичков")
    await form.get_by_label("Очно").check()
    await form.get_by_label("Какой опыт хотите получить").fill("Хочу провести игру по адаптации")
    await form.get_by_label("Желаемый размер группы").fill("12")
    await form.get_by_label("Дата 1").fill(f"{year}-03-20")
    await anna.submit("Отправить заявку", "requested")
    await form.get_by_label("Тема").fill(HOSTILE_TOPIC)
    await form.get_by_label("Какой опыт хотите получить").fill('<img src=x onerror="alert(2)">')
    await form.get_by_label("Желаемый размер группы").fill("3")
    await anna.submit("Отправить заявку", "hostile")
    hostile = anna.page.locator("#request-list li", has_text="<script>")
    assert await hostile.locator(".request-topic").inner_text() == HOSTILE_TOPIC
    assert await hostile.locator(".request-experience").inner_text() == '<img src=x onerror="alert(2)">'
    assert await anna.page.locator("#request-list b, #request-list img, #request-list script").count() == 0
    mine = anna.page.locator("#request-list li", has_text="Адаптация новичков")
    request_id = await mine.get_attribute("data-request")
    assert "20.03." + year in await mine.inner_text()

    # a member sees none of the moderators' controls; a forged moderator's form gets the gateway's refusal
    assert await anna.page.get_by_role("button", name="Принять").count() == 0
    await anna.open(f"/calendar/seasons/{season_id}", "member-season")
    assert await anna.page.locator("#moderator-tools, #add-event, #phase-step").count() == 0
    response = await forged(anna, f"/calendar/seasons/{season_id}/phase", step="open")
    assert response.status == 403
    assert "Это действие доступно только модераторам." in await anna.page.locator("#form-error").inner_text()
    response = await forged(anna, f"/calendar/seasons/{season_id}/requests/{request_id}/accept")
    assert response.status == 403
    assert "только модераторам" in await anna.page.locator("#form-error").inner_text()
    await anna.open("/calendar", "member-seasons")
    assert await anna.page.locator("#start-season").count() == 0
    response = await forged(anna, "/calendar/seasons", season_id=f"{next(_years)}-spring", title="Моя")
    assert response.status == 403
    assert "только модераторам" in await anna.page.locator("#form-error").inner_text()
    await settle_views(web)

    # the moderator supports the request (one vote), accepts it, declines the hostile one with a reason
    await moderator.open(f"/calendar/seasons/{season_id}/requests", "mod-requests")
    await click(moderator, moderator.page.get_by_role("button", name="Поддержать: Адаптация новичков"), "supported")
    assert "поддержали: 1" in await moderator.page.locator(f"#request-{request_id} .request-supporters").inner_text()
    assert await moderator.page.get_by_role("button", name="Поддержать: Адаптация новичков").count() == 0
    await fits(moderator, "mod-requests")
    await click(moderator, moderator.page.get_by_role("button", name="Принять: Адаптация новичков"), "accepted")
    assert await moderator.page.locator(f"#request-{request_id}").get_attribute("data-outcome") == "accepted"
    bad = moderator.page.locator("#request-list li", has_text="<script>")
    await bad.locator("summary", has_text="Отклонить").click()
    await bad.get_by_label("Причина отказа").fill("Не по теме сезона")
    await moderator.submit("Отклонить заявку", "declined")

    # an event answering it, its times typed in the season's zone, then the grid published
    await moderator.open(f"/calendar/seasons/{season_id}", "grid")
    grid = moderator.page.locator("#add-event")
    await grid.get_by_label("Вид мероприятия").select_option("game")
    await grid.get_by_label("Название мероприятия").fill("Игра: адаптация")
    await grid.get_by_label(f"Начало ({ZONE})").fill(f"{year}-03-20T18:00")
    await grid.get_by_label(f"Окончание ({ZONE})").fill(f"{year}-03-20T20:30")
    await grid.get_by_label("Место проведения").fill("Екатеринбург, ул. Ленина, 1")
    await grid.locator("#f-capacity").fill("20")
    await grid.get_by_label("Адаптация новичков").check()
    await moderator.submit("Добавить в сетку", "added")
    draft = moderator.page.locator("#event-list li", has_text="Игра: адаптация")
    assert f"20.03.{year} 18:00–20:30, {ZONE}" in await draft.inner_text()
    assert "черновик" in await draft.inner_text()
    event_id = await draft.get_attribute("data-event")
    await fits(moderator, "grid")
    await moderator.submit("Опубликовать сетку", "published")
    assert await moderator.page.locator("#season").get_attribute("data-phase") == "open"
    stored = await call(web, crew["moderator"][1], "GET", f"/v1/seasons/{season_id}/events/{event_id}")
    assert stored["plan"]["starts_at"].startswith(f"{year}-03-20T13:00:00")  # 18:00 in Yekaterinburg
    await settle_views(web)

    # the member sees the event in the season and her request answered by it
    await anna.open(f"/calendar/seasons/{season_id}", "published")
    shown = await anna.page.locator(f"#event-{event_id}").inner_text()
    assert "Игра: адаптация" in shown and "0 из 20" in shown and f"20.03.{year} 18:00–20:30, {ZONE}" in shown
    await anna.open(f"/calendar/seasons/{season_id}/requests", "answered")
    mine = anna.page.locator(f"#request-{request_id}")
    assert "принята" in await mine.locator(".request-outcome").inner_text()
    assert await mine.locator(f".request-events a[href$='/events/{event_id}']").inner_text() == "Игра: адаптация"
    refused = anna.page.locator("#request-list li", has_text="<script>")
    assert "отклонена" in await refused.inner_text() and "Не по теме сезона" in await refused.inner_text()
    await click(anna, mine.locator(".request-events a"), "event")
    assert await anna.page.locator("#event-place").inner_text() == "Екатеринбург, ул. Ленина, 1"
    assert await anna.page.locator("#event-kind").inner_text() == "Игра"

    # the moderator cancels it: its page and the season mark it, and nobody can register any more
    await moderator.open(f"/calendar/seasons/{season_id}/events/{event_id}", "mod-event")
    await moderator.page.get_by_label("Причина отмены").fill("Ведущий заболел")
    await moderator.submit("Отменить мероприятие", "cancelled")
    assert await moderator.page.locator("#event-cancelled").inner_text() == "Мероприятие отменено."
    await settle_views(web)
    await anna.open(f"/calendar/seasons/{season_id}", "cancelled-season")
    assert await anna.page.locator(f"#event-{event_id} [data-cancelled]").inner_text() == "отменено"
    await anna.open(f"/calendar/seasons/{season_id}/events/{event_id}", "cancelled-event")
    assert await anna.page.locator("#event-cancelled").count() == 1
    assert await anna.page.get_by_role("button", name="Записаться").count() == 0
