"""The 12 roles in the browser, against the real platform: while the pick window is open a coordinator makes
a second place of a role, and a member picks roles on their group's vacancy board (a colleague's pick shown by
name), is refused a third in Russian, finds the picks on their development map, list and picture, gives one
up and is refused a Vision role with the qualities missing named; once the window has closed the roles page
says so and which season's closing opens it, with that season's last day. The groups map and a season's
results show what the roles service reported. Pages for an unknown group or a wildcard id are error pages,
never a crash; a guest is refused every roles page, and hostile capacities get the refusal said, nothing
changed.

The pick window is one for the whole platform (shared by the session): each test opens or closes it by
closing a season of a year of its own in the calendar, below every year the other suites use."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest

from services.web.gateway import Answer
from services.web.roles_pages import inline_svg
from tests.e2e.helpers import log_position, settle
from tests.e2e.journey import admin_token, invite, register
from tests.e2e.test_roles import run_season
from tests.platform_harness import Platform
from tests.season_years import Years
from tests.web.test_calendar_browser import call, forged
from tests.web.test_chat import click, fits
from tests.web.test_groups import a_group, a_moderator, settle_views, token_of
from tests.web.test_journey import colleague, sign_in, surname
from tests.web.test_web_security import HOSTILE, Visitor

#: past years of this module's own (the calendar's and the roles' suites use 1500 and above)
_years = Years(1000, 1480, span=2)


@pytest.fixture(scope="module")
async def crew(web) -> dict:
    """Anna coordinates a working group Boris belongs to; a moderator runs the calendar's seasons."""
    made = {}
    for key in ("anna", "boris"):
        name = surname()
        member_id, email = await colleague(web, name)
        made[key] = (member_id, email, f"Зинаида {name}")
    made["moderator"] = await a_moderator(web)
    made["group"] = await a_group(web, made["anna"][1], f"Роли {made['anna'][2]}", joining="open")
    await call(web, made["boris"][1], "POST", f"/v1/groups/{made['group']}/join", {})
    await settle_views(web)
    return made


async def close_season(web: Platform, crew: dict, season_id: str) -> None:
    """The calendar runs a season from planning to closed: the pick window for the next season opens."""
    await run_season(web, await token_of(web, crew["moderator"][1]), crew["anna"][0], season_id)


async def test_a_member_picks_roles_on_the_board_is_refused_a_third_and_sees_them_on_the_map(people, web, crew):
    year = next(_years)
    await close_season(web, crew, f"{year}-spring")
    group_id = crew["group"]
    window = await call(web, crew["boris"][1], "GET", "/v1/roles/window")
    assert (window["status"], window["season_id"]) == ("open", f"{year}-autumn"), window
    await call(web, crew["anna"][1], "PUT", f"/v1/groups/{group_id}/roles/4/pick")
    await settle_views(web)

    # the coordinator makes two places of the role she holds
    anna = await people("roles-coordinator")
    await sign_in(anna, crew["anna"][1], then=f"/groups/{group_id}/roles")
    assert await anna.page.get_by_role("button", name="Взять роль 4").count() == 0
    await anna.page.get_by_label("Мест на роль 4").fill("2")
    await anna.submit("Сохранить число мест роли 4", "capacity")
    assert await anna.page.locator(".flash").inner_text() == "Мест на роль 4: 2."
    assert await anna.page.locator("#role-4").get_attribute("data-capacity") == "2"

    boris = await people("roles-member", width=360, height=800)
    await sign_in(boris, crew["boris"][1])
    await click(boris, boris.page.locator("#nav-roles"), "roles")
    status = boris.page.locator("#window")
    assert await status.get_attribute("data-status") == "open"
    assert f"Роли на сезон осень {year} можно выбрать до " in await status.inner_text()
    assert "Asia/Yekaterinburg" in await status.inner_text()
    assert "Видение" in await boris.page.locator("#quality-vision").inner_text()
    assert "в прошлых сезонах" in await boris.page.locator("#vision-rule").inner_text()
    await click(boris, boris.page.locator(f"#my-boards [data-group='{group_id}'] a"), "board")

    # Anna's pick by her name; Boris takes two roles, and a third is refused in his words
    assert crew["anna"][2] in await boris.page.locator("#role-4 .vacancy-holders").inner_text()
    assert "Мест: 2, свободно: 1" in await boris.page.locator("#role-4").inner_text()
    assert await boris.page.locator("#vacancies .capacity-form").count() == 0
    await boris.submit("Взять роль 1", "picked-1")
    assert await boris.page.locator(".flash").inner_text() == "Роль 1 теперь ваша."
    assert await boris.page.locator("#role-1").get_attribute("data-mine") == "yes"
    assert "(вы)" in await boris.page.locator("#role-1 .vacancy-holders").inner_text()
    await boris.submit("Взять роль 7", "picked-7")
    assert "2 из 2" in await boris.page.locator("#my-picks").inner_text()
    async with boris.page.expect_navigation() as navigation:
        await boris.page.get_by_role("button", name="Взять роль 2", exact=True).click()
    assert (await navigation.value).status == 409
    await boris.shoot("refused")
    refusal = await boris.page.locator("#form-error").inner_text()
    assert refusal.startswith("Роль 2: Вы уже выбрали максимум ролей на этот сезон.") and "Не больше 2" in refusal
    assert await boris.page.locator("#role-2").get_attribute("data-mine") == "no"
    assert await boris.page.locator("#uncovered").inner_text() == "У каждого качества есть хотя бы одна занятая роль."
    assert await boris.page.locator("#coverage-picture svg g.role[data-held='true']").count() == 3
    await fits(boris, "board-phone")

    # his map: this season's picks, current, in the list and on the picture
    await click(boris, boris.page.locator("#board .crumbs a", has_text="Моя карта развития"), "map")
    season = boris.page.locator(f"#held-{year}-autumn")
    assert await season.get_attribute("data-current") == "yes"
    assert [await li.get_attribute("data-role") for li in await season.locator("li").all()] == ["1", "7"]
    held = await boris.page.evaluate("""() => [...document.querySelectorAll('#map-picture g.role')]
        .filter(g => g.dataset.held === 'true').map(g => Number(g.dataset.role))""")
    assert sorted(held) == [1, 7]
    assert f"{year}-autumn" in await boris.page.locator("#map-picture g.role[data-role='7']").text_content()
    suggestion = boris.page.locator("#suggestion-list [data-quality='expertise'] a")
    assert await suggestion.get_attribute("href") == f"/groups/{group_id}/roles#role-4"
    await fits(boris, "map-phone")
    # the map of working groups says the group's role places
    await boris.open("/groups/map", "groups-map")
    assert "роли: занято 3, открыто 7" in await boris.page.locator(f"#map-list [data-group='{group_id}']").inner_text()

    # he gives one up, and a Vision role is refused, naming the qualities his earlier seasons lack
    await boris.open(f"/groups/{group_id}/roles", "board-again")
    await boris.submit("Отказаться от роли 7", "released")
    assert await boris.page.locator(".flash").inner_text() == "Вы отказались от роли 7."
    assert "1 из 2" in await boris.page.locator("#my-picks").inner_text()
    await click(boris, boris.page.locator("#board .crumbs a", has_text="12 ролей профессионала"), "roles-again")
    await click(boris, boris.page.locator("#coordination-link"), "coordination")
    assert await boris.page.locator("#vacancies [data-role]").count() == 3
    async with boris.page.expect_navigation() as navigation:
        await boris.page.get_by_role("button", name="Взять роль 10", exact=True).click()
    assert (await navigation.value).status == 409
    await boris.shoot("vision-refused")
    assert await boris.page.locator("#form-error").inner_text() == (
        "Роль 10: Роли «Видения» открываются после ролей всех трёх других качеств в прошлых сезонах. "
        "Ещё не хватает: Осознанность, Экспертность, Системность.")

    # an unknown group, a wildcard, a role out of range (a form the page never offered): an error page, never a
    # crash
    for path, words in ((f"/groups/{uuid.uuid4()}/roles", "Группа не найдена."),
                        ("/groups/*/roles", "Такой страницы нет")):
        response = await boris.open(path, "missing")
        assert response.status == 404, path
        assert words in await boris.text(), path
    for action in ("/groups/*/roles/1/pick", f"/groups/{group_id}/roles/10/pick"):
        assert (await forged(boris, action)).status == 404, action
        assert "Такой страницы нет" in await boris.text(), action


async def test_outside_the_window_the_roles_page_says_it_is_closed_and_which_seasons_closing_opens_it(
        people, web, crew):
    """A season long past closes while no window is kept open a minimum of days: its window closes at once,
    by its timer; a season still planned is the one whose closing opens the next. The window's own season
    runs afterwards, and its results carry what the roles service reported when the window closed."""
    year = next(_years)
    moderator = await token_of(web, crew["moderator"][1])
    settings = web.settings["roles"]
    await web.stop_service("roles")
    web.settings["roles"] = settings.model_copy(update={"pick_window_min_days": 0})
    await web.start_service("roles")
    try:
        await run_season(web, moderator, crew["anna"][0], f"{year}-spring")
        for _ in range(100):
            window = await call(web, crew["boris"][1], "GET", "/v1/roles/window")
            if (window["status"], window["season_id"]) == ("closed", f"{year}-autumn"):
                break
            await asyncio.sleep(0.1)
        assert (window["status"], window["season_id"]) == ("closed", f"{year}-autumn"), window
    finally:
        await web.stop_service("roles")
        web.settings["roles"] = settings
        await web.start_service("roles")
    await call(web, crew["moderator"][1], "POST", "/v1/seasons", {"season_id": f"{year + 1}-spring",
                                                                  "title": "Весна после окна"})
    await settle(web)
    window = await call(web, crew["boris"][1], "GET", "/v1/roles/window")
    after = await call(web, crew["boris"][1], "GET", f"/v1/seasons/{window['opens_after_season_id']}")

    boris = await people("roles-closed")
    await sign_in(boris, crew["boris"][1], then="/roles")
    status = boris.page.locator("#window")
    assert await status.get_attribute("data-status") == "closed"
    assert await status.get_attribute("data-opens-after") == after["season_id"]
    last_day = f"{date.fromisoformat(after['ends_on']):%d.%m.%Y}"
    assert (f"Окно откроется, когда закроется сезон «{after['title']}»; по плану его последний день — {last_day}."
            in await status.inner_text())
    assert f"Прошлое окно, на сезон осень {year}, закрылось " in await status.inner_text()
    # the board offers no pick while the window is closed
    await boris.open(f"/groups/{crew['group']}/roles", "closed-board")
    assert await boris.page.locator("#window").get_attribute("data-status") == "closed"
    assert await boris.page.locator("#vacancies button").count() == 0

    # that season's results, once published, carry the roles service's figures in words
    season_id = f"{year}-autumn"
    await run_season(web, moderator, crew["anna"][0], season_id)
    await call(web, crew["moderator"][1], "POST", f"/v1/seasons/{season_id}/results")
    await settle(web)
    report = await call(web, crew["boris"][1], "GET", f"/v1/seasons/{season_id}/results")
    figures = {line["key"]: str(line["value"]) for line in report["reports"] if line["source"] == "roles"}
    assert figures["roles_taken"] == "0" and len(figures) == 17, figures
    await boris.open(f"/calendar/seasons/{season_id}/results", "results")
    shown = await boris.page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        '#roles-results-table tr[data-key]')].map(r => [r.dataset.key, r.querySelector('td').textContent.trim()]))""")
    assert shown == figures
    table = await boris.page.locator("#roles-results-table").inner_text()
    assert "Ролей взято" in table and "Групп, где роль 5 осталась открытой" in table
    assert await boris.page.locator("#reports-table").count() == 0


async def test_a_guest_is_refused_the_roles_pages_and_hostile_capacities_get_a_page_that_says_why(web, crew):
    """Spoken to the web client directly, as a script would: nothing here needs a browser."""
    _, guest_email, _ = await register(web, (await invite(web, await admin_token(web)))["token"])
    group_url = f"/groups/{crew['group']}/roles"
    async with Visitor(web) as guest:
        await guest.sign_in(guest_email)
        for path in ("/roles", "/roles/my", "/roles/coordination", group_url):
            r = await guest.get(path)
            assert r.status_code == 403 and "Нет доступа" in r.text, (path, r.status_code)
    async with Visitor(web) as anna:
        await anna.sign_in(crew["anna"][1])
        await anna.get(group_url)
        before = await log_position(web)
        for value in (*HOSTILE[:12], "0", "51", "-1", "1e3"):
            r = await anna.post(f"{group_url}/4/capacity", {"capacity": value})
            assert r.status_code in (409, 422), (value, r.status_code)
            assert 'id="form-error"' in r.text and "Роль 4: " in r.text, value
            assert "<script>alert(1)</script>" not in r.text
        assert await log_position(web) == before, "nothing changed"


def test_a_picture_put_into_the_page_keeps_only_plain_drawing():
    """The pictures are the roles service's, yet they enter the page itself: whatever else a drawing held
    (a script, a handler, a link, a foreign element, an entity) never reaches the browser."""
    def put(svg: str, kind: str = "image/svg+xml") -> str | None:
        got = inline_svg(Answer(200, None, svg.encode(), kind))
        return None if got is None else str(got)

    hostile = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink" viewBox="0 0 9 9" '
               'onload="alert(1)"><script>alert(2)</script><g class="role" data-role="1" data-held="true" '
               'style="background:url(//evil)"><text x="1" onclick="alert(3)">&lt;b&gt;1 · осень</text>'
               '<a x:href="javascript:alert(4)"><rect width="1"/></a></g><foreignObject><p>x</p></foreignObject>'
               '<image href="https://evil.example/i.png"/></svg>')
    kept = put(hostile)
    assert kept == ('<svg xmlns="http://www.w3.org/2000/svg" focusable="false" viewBox="0 0 9 9"><g class="role" '
                    'data-role="1" data-held="true"><text x="1">&lt;b&gt;1 · осень</text></g></svg>')
    assert put('<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>') is None
    assert put("<svg") is None and put('<html xmlns="http://www.w3.org/1999/xhtml"/>') is None
    assert put('<svg xmlns="http://www.w3.org/2000/svg"/>', "text/html") is None
