"""Feedback in the browser, against the real platform: a moderator assigns an observer found by name (a colleague
without the role refused in words), the host opens a round, the observer writes feedback for a team while the
service's check names the parts still missing beside them (and the send without one is refused naming it) and
edits it while the round is open, the host closes the round, and a member of the team reads it and answers it,
which the observer reads beside her feedback, now published. A request for expert help missing its "conscious" part
is refused naming it in Russian; a complete one is routed by a moderator to the expert picked by name, who answers
in its thread, and the asker replies and closes it. Unknown and wildcard ids, hostile text and a guest get pages
that say why, never a crash, and change nothing."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import expect

from libs.contracts.feedback import PART_TITLES
from tests.e2e.helpers import log_position, settle
from tests.e2e.journey import admin_token, invite, register
from tests.e2e.test_calendar import event_url, plan, planned_season
from tests.e2e.test_working_groups import ok
from tests.platform_harness import Platform
from tests.web.test_chat import click, fits
from tests.web.test_groups import a_moderator, token_of
from tests.web.test_journey import colleague, sign_in, surname
from tests.web.test_web_security import HOSTILE, Visitor

PARTS = {
    "situation": "Команда распределяла роли в первые десять минут раунда",
    "behaviour": "Капитан сам назначил всех, никого не спросив о предпочтениях",
    "impact": "Двое участников молчали до конца раунда и не предложили своих идей",
    "recommendation": "В следующем раунде спросите каждого, какую задачу он хочет взять",
}
EDITED = "В следующем раунде дайте каждому выбрать задачу до начала обсуждения"
HELP = {
    "need": "Нужно выстроить адаптацию для линейного персонала на заводе",
    "data": "Текучесть в первые три месяца сорок процентов, наставников нет",
    "closure": "Получу план адаптации на первый месяц и запущу его в цехе",
    "dialogue": "Готов созвониться по вторникам и четвергам после шестнадцати часов",
}
LABELS = {part: ru for part, (ru, _) in PART_TITLES.items()}


async def a_game(web: Platform, moderator: str, host: tuple[str, str], members: list[tuple[str, str]],
                 title: str, team: str) -> dict:
    """An in-person game the calendar published, with one game team confirmed for it (its coordinator, the host,
    and these members on the roster): what the feedback service makes a game of, by events. Tokens in, ids out."""
    season_id = await planned_season(web, moderator)
    body = {**plan(season_id, host[0], title=title, capacity=10), "kind": "game",
            "place": "Екатеринбург, ул. Ленина, 1", "call_link": None}
    event_id = (await ok(web, moderator, "POST", f"/v1/seasons/{season_id}/events", body))["event_id"]
    await ok(web, moderator, "POST", f"/v1/seasons/{season_id}/open")
    group_id = (await ok(web, host[1], "POST", "/v1/groups",
                         {"title": team, "description": "", "group_type": "game_team"}))["group_id"]
    await ok(web, moderator, "POST", f"/v1/groups/{group_id}/decision", {"decision": "approve"})
    await ok(web, host[1], "PUT", f"/v1/groups/{group_id}/settings",
             {"visibility": "main", "content": "members", "joining": "open"})
    for _, token in members:
        await ok(web, token, "POST", f"/v1/groups/{group_id}/join", {})
    teams = event_url(season_id, event_id) + "/teams"
    await ok(web, host[1], "POST", teams, {"group_id": group_id, "roster": [host[0], *(m for m, _ in members)]})
    await ok(web, moderator, "POST", f"{teams}/{group_id}/confirm")
    await settle(web)
    return {"game_id": event_id, "group_id": group_id, "season_id": season_id}


async def an_observer(web: Platform, member_id: str) -> None:
    await ok(web, await admin_token(web), "PUT", f"/v1/members/{member_id}/roles", {"roles": ["observer"]})


@pytest.fixture(scope="module")
async def crew(web) -> dict:
    """Anna coordinates a game team with Boris on its roster and hosts the game; Vera is an observer, Gleb an
    expert colleague; a moderator: name -> (member_id, email, surname); "game" -> the game's ids."""
    made: dict = {}
    for key in ("anna", "boris", "vera", "gleb"):
        name = surname()
        member_id, email = await colleague(web, name)
        made[key] = (member_id, email, name)
    moderator_id, moderator_email = await a_moderator(web)
    made["moderator"] = (moderator_id, moderator_email, "")
    await an_observer(web, made["vera"][0])
    anna = (made["anna"][0], await token_of(web, made["anna"][1]))
    boris = (made["boris"][0], await token_of(web, made["boris"][1]))
    made["game"] = await a_game(web, await token_of(web, moderator_email), anna, [boris], "Игра HR-ВЛИЯНИЕ: весна",
                                f"Команда {made['anna'][2]}")
    return made


async def refused_with(person, status: int, shot: str, button: str) -> str:
    """Press a form's button, expect the page it leads to with this status; what its error box says."""
    async with person.page.expect_navigation() as navigation:
        await person.page.get_by_role("button", name=button, exact=True).click()
    assert (await navigation.value).status == status
    await person.shoot(shot)
    return await person.page.locator("#form-error").inner_text()


async def test_an_observer_writes_feedback_the_host_closes_the_round_and_a_member_of_the_team_reads_it(
        people, web, crew):
    game_id, group_id = crew["game"]["game_id"], crew["game"]["group_id"]
    team = f"Команда {crew['anna'][2]}"
    vera_name, boris_name = f"Зинаида {crew['vera'][2]}", f"Зинаида {crew['boris'][2]}"

    # the moderator finds colleagues by name: one without the observer role is refused in words, Vera is assigned
    moderator = await people("fb-moderator")
    await sign_in(moderator, crew["moderator"][1], then=f"/games/{game_id}")
    assert await moderator.page.locator("#team-list .team-title").inner_text() == team
    assert "Зинаида " + crew["boris"][2] in await moderator.page.locator(f"#team-{group_id} .team-roster").inner_text()
    await moderator.page.get_by_label("Имя коллеги").fill(crew["boris"][2])
    await moderator.submit("Найти", "found-boris")
    assert await refused_with(moderator, 409, "not-an-observer", "Назначить наблюдателем") == (
        "Наблюдателем можно назначить только участника с ролью эксперта-наблюдателя.")
    assert await moderator.page.locator("#observers-empty").count() == 1
    await moderator.page.get_by_label("Имя коллеги").fill(crew["vera"][2])
    await moderator.submit("Найти", "found-vera")
    await moderator.submit("Назначить наблюдателем", "assigned")
    assert await moderator.page.locator(".flash").inner_text() == "Наблюдатель назначен на игру."
    assert await moderator.page.locator("#observer-list .observer-name").all_inner_texts() == [vera_name]

    # the host opens the first round from the navigation
    anna = await people("fb-host")
    await sign_in(anna, crew["anna"][1])
    await click(anna, anna.page.locator("#nav-feedback"), "games")
    await click(anna, anna.page.locator(f"#game-{game_id} a"), "game")
    assert await anna.page.locator("#game-host").inner_text() == "вы"
    await anna.submit("Открыть раунд 1", "round-opened")
    assert await anna.page.locator(".flash").inner_text() == "Раунд 1 открыт: наблюдатели могут писать обратную связь."
    await settle(web)

    # the observer, on her phone: what she owes, then the form, checked by the service as she types
    vera = await people("fb-observer", width=360, height=800)
    await sign_in(vera, crew["vera"][1], then="/feedback/owed")
    owed = vera.page.locator(f"#owed-list [data-team='{group_id}']")
    assert "ещё не написана" in await owed.inner_text()
    await click(vera, owed.locator("a"), "form")
    form = vera.page.locator("#feedback-form")
    await form.get_by_label("Ситуация").fill(PARTS["situation"])
    await expect(vera.page.locator("#check-behaviour")).to_have_text("Наблюдаемое поведение: не заполнено")
    assert await vera.page.locator("#check-situation").inner_text() == "Ситуация: в порядке"
    assert await vera.page.locator("#check-summary").inner_text() == (
        "Ещё не готово: Наблюдаемое поведение, Влияние, Рекомендация на следующий шаг.")
    await vera.shoot("checked")
    await form.get_by_label("Наблюдаемое поведение").fill(PARTS["behaviour"])
    await form.get_by_label("Влияние").fill(PARTS["situation"])
    await expect(vera.page.locator("#check-impact")).to_have_text("Влияние: повторяет «Ситуация»")
    await form.get_by_label("Влияние").fill(PARTS["impact"])
    await form.get_by_label("Экспертность").check()
    await form.get_by_label("Роль (необязательно)").select_option("5")
    # sent without its recommendation (as without the script): refused naming it, and nothing typed is lost
    refusal = await refused_with(vera, 422, "refused", "Сохранить обратную связь")
    assert "Рекомендация на следующий шаг: часть не заполнена." in refusal, refusal
    assert await vera.page.locator("#e-recommendation").inner_text() == "Рекомендация на следующий шаг: не заполнено"
    assert await form.get_by_label("Влияние").input_value() == PARTS["impact"]
    assert await form.get_by_label("Экспертность").is_checked()
    await form.get_by_label("Рекомендация на следующий шаг").fill(PARTS["recommendation"])
    await vera.page.locator("#check-summary[data-ok='yes']").wait_for()
    assert await vera.page.locator("#check-summary").inner_text() == "Все части на месте — можно отправлять."
    await fits(vera, "form-phone")
    await vera.submit("Сохранить обратную связь", "saved")
    assert await vera.page.locator(".flash").inner_text() == (
        "Обратная связь сохранена. До закрытия раунда её видите только вы и можете изменить.")
    assert await form.get_by_label("Наблюдаемое поведение").input_value() == PARTS["behaviour"]
    assert await vera.page.locator("#f-role").input_value() == "5"
    # while the round is open she edits it: the page keeps her draft, and says whose it is
    assert await vera.page.locator("#piece-status").inner_text() == "черновик: до закрытия раунда видите только вы"
    await form.get_by_label("Рекомендация на следующий шаг").fill(EDITED)
    await vera.submit("Сохранить обратную связь", "edited")
    assert await form.get_by_label("Рекомендация на следующий шаг").input_value() == EDITED

    # the host closes the round: published to the team
    await anna.page.reload()
    await anna.submit("Закрыть раунд 1", "round-closed")
    assert await anna.page.locator(".flash").inner_text() == "Раунд 1 закрыт: обратная связь опубликована командам."
    await settle(web)

    # a member of the team reads it among his feedback by quality, and answers it on the team's page
    boris = await people("fb-member", width=360, height=800)
    await sign_in(boris, crew["boris"][1], then="/feedback/my")
    quality = boris.page.locator("#quality-expertise")
    assert "Экспертность" in await quality.locator("h2").inner_text()
    assert await quality.locator(".part-behaviour").inner_text() == PARTS["behaviour"]
    assert await quality.locator(".piece-observer").inner_text() == vera_name
    await click(boris, quality.locator(".in-game a"), "team")
    piece = boris.page.locator("#round-1 .piece")
    assert await piece.get_attribute("data-status") == "published"
    assert await piece.locator(".part-recommendation").inner_text() == EDITED
    assert "роль 5" in await piece.locator(".role-badge").inner_text()
    await piece.get_by_label("Да, полезно").check()
    await piece.get_by_label("Что вы с ней сделаете (необязательно)").fill("Спрошу каждого перед раундом")
    await boris.submit("Ответить", "marked")
    assert await boris.page.locator(".flash").inner_text() == "Ваш ответ сохранён: наблюдатель его прочтёт."
    assert "Спрошу каждого перед раундом" in await boris.page.locator("#round-1 .my-mark").inner_text()
    await fits(boris, "team-phone")
    await settle(web)

    # the observer's form now says it is published; the team's page shows her the answer
    await vera.open(f"/games/{game_id}/rounds/1/teams/{group_id}", "published")
    assert await vera.page.locator("#piece-status").inner_text() == (
        "Раунд 1 закрыт: обратная связь опубликована команде и больше не меняется.")
    assert await vera.page.locator("#feedback-form").count() == 0
    await click(vera, vera.page.locator("#team-link"), "answers")
    answer = vera.page.locator(f"#round-1 .marks li[data-member='{crew['boris'][0]}']")
    assert await answer.get_attribute("data-useful") == "yes"
    assert boris_name in await answer.inner_text() and "Спрошу каждого перед раундом" in await answer.inner_text()


async def test_a_help_request_missing_its_conscious_part_is_refused_and_a_complete_one_is_answered_by_its_expert(
        people, web, crew):
    title = f"Адаптация на заводе {uuid.uuid4().hex[:4]}"
    gleb_name = f"Зинаида {crew['gleb'][2]}"
    boris = await people("help-asker", width=360, height=800)
    await sign_in(boris, crew["boris"][1], then="/help/new")
    form = boris.page.locator("#help-form")
    await form.get_by_label("Тема запроса").fill(title)
    for part in ("need", "data", "dialogue"):
        await form.get_by_label(LABELS[part]).fill(HELP[part])
    closure = "Как ответ закроет потребность (осознанность)"
    await expect(boris.page.locator("#check-closure")).to_have_text(f"{closure}: не заполнено")
    assert await boris.page.locator("#check-need").inner_text() == f"{LABELS['need']}: в порядке"
    before = await log_position(web)
    refusal = await refused_with(boris, 422, "help-refused", "Отправить запрос")
    assert refusal == f"Запрос не соответствует стандарту качества. {closure}: часть не заполнена.", refusal
    assert await log_position(web) == before, "a refused request publishes nothing"
    await form.get_by_label(closure).fill(HELP["closure"])
    await boris.page.locator("#check-summary[data-ok='yes']").wait_for()
    await boris.submit("Отправить запрос", "help-sent")
    assert await boris.page.locator(".flash").inner_text() == (
        "Запрос отправлен: модератор направит его рабочей группе или эксперту.")
    assert await boris.page.locator("#request-status").inner_text() == "ждёт модератора"
    request_id = await boris.page.locator("#request").get_attribute("data-request")
    await settle(web)

    # the moderator routes it from the queue to the expert found by name
    moderator = await people("help-moderator")
    await sign_in(moderator, crew["moderator"][1], then="/help/queue")
    queued = moderator.page.locator(f"#request-{request_id}")
    assert await queued.locator(".part-closure").inner_text() == HELP["closure"]
    await moderator.page.get_by_label("Найти эксперта по имени").fill(crew["gleb"][2])
    await moderator.submit("Найти", "expert-found")
    await queued.get_by_label("Кому направить").select_option(label=gleb_name)
    await moderator.submit(f"Направить: {title}", "routed")
    assert await moderator.page.locator(".flash").inner_text() == "Запрос направлен."
    assert await moderator.page.locator(f"#request-{request_id}").count() == 0
    await settle(web)

    # the expert finds it among those routed to him and answers in its thread
    gleb = await people("help-expert")
    await sign_in(gleb, crew["gleb"][1], then="/help")
    await click(gleb, gleb.page.locator(f"#to-me [data-request='{request_id}'] a"), "expert-request")
    assert await gleb.page.locator("#request-expert").inner_text() == "вы"
    await gleb.page.get_by_label("Ваше сообщение").fill("Давайте начнём с карты первого дня")
    await gleb.submit("Отправить сообщение", "expert-wrote")
    assert await gleb.page.locator(".flash").inner_text() == "Сообщение отправлено."
    await settle(web)

    # the asker reads the answer by its author's name, replies, and closes the request as helpful
    await boris.page.reload()
    await boris.shoot("answered")
    first = boris.page.locator("#thread-messages li").first
    assert await first.locator(".author").inner_text() == gleb_name
    assert await first.locator(".text").inner_text() == "Давайте начнём с карты первого дня"
    assert await boris.page.locator("#request-expert").inner_text() == gleb_name
    await boris.page.get_by_label("Ваше сообщение").fill("Спасибо, во вторник в 17:00 удобно?")
    await boris.submit("Отправить сообщение", "asker-wrote")
    await settle(web)
    await gleb.page.reload()
    assert await gleb.page.locator("#thread-messages .text").all_inner_texts() == [
        "Давайте начнём с карты первого дня", "Спасибо, во вторник в 17:00 удобно?"]
    await boris.page.get_by_label("Чем закончилось").fill("План адаптации запущен в цехе")
    await boris.page.get_by_label("помогло", exact=True).check()
    await boris.submit("Закрыть запрос", "closed")
    assert await boris.page.locator("#request-status").inner_text() == "закрыт"
    assert await boris.page.locator("#request-helped").inner_text() == "помогло"
    await fits(boris, "request-phone")


def said(r, *statuses: int) -> None:
    """A page saying why (or that the body was too large), the hostile text in it only as text."""
    assert r.status_code in (*statuses, 413), r.status_code
    assert "text/html" in r.headers["content-type"] and "<script>alert(1)</script>" not in r.text
    assert r.status_code == 413 or 'id="form-error"' in r.text


async def test_unknown_ids_wildcards_hostile_text_and_a_guest_get_pages_that_say_why_and_change_nothing(web, crew):
    """Spoken to the web client directly, as a script would: nothing here needs a browser."""
    game_id, group_id = crew["game"]["game_id"], crew["game"]["group_id"]
    # round 1 open, as the first test leaves it (the host opens it there in the browser): this test must not
    # depend on that one having run
    host = await token_of(web, crew["anna"][1])
    if not (await ok(web, host, "GET", f"/v1/games/{game_id}"))["rounds"]:
        await ok(web, host, "POST", f"/v1/games/{game_id}/rounds")
    async with Visitor(web) as boris:
        await boris.sign_in(crew["boris"][1])
        for path, words in ((f"/games/{uuid.uuid4()}", "Такой игры нет."),
                            (f"/games/{uuid.uuid4()}/teams/{group_id}", "Такой игры нет."),
                            (f"/games/{game_id}/teams/{uuid.uuid4()}", "Эта команда не участвует в игре."),
                            (f"/games/{game_id}/rounds/20/teams/{group_id}", "Такого раунда в игре нет."),
                            (f"/help/requests/{uuid.uuid4()}", "Такого запроса нет."),
                            ("/games/*", "Такой страницы нет"), ("/games/%25", "Такой страницы нет"),
                            (f"/games/{game_id}/rounds/0/teams/{group_id}", "Такой страницы нет"),
                            (f"/games/{game_id}/rounds/x/teams/*", "Такой страницы нет"),
                            ("/help/requests/*", "Такой страницы нет"), ("/help/requests/..%2F..", "Такой страницы нет")):
            r = await boris.get(path)
            assert r.status_code == 404, (path, r.status_code)
            assert words in r.text and "text/html" in r.headers["content-type"], path
        await boris.get("/help/new")
        before = await log_position(web)
        for value in HOSTILE:
            # four parts of five thousand letters each are more than the web client takes: a page says so (413)
            said(await boris.post("/help/new", {"title": value, **dict.fromkeys(HELP, value)}), 422)
            r = await boris.post("/help/check", dict.fromkeys(HELP, value))
            assert r.status_code == 413 or (r.status_code in (200, 422)
                                            and r.headers["content-type"] == "application/json"), (value, r.text)
            said(await boris.post(f"/games/{game_id}/rounds/1/teams/{group_id}",
                                  {**dict.fromkeys(PARTS, value), "quality": value, "role": value}), 403, 409, 422)
            said(await boris.post(f"/games/{game_id}/teams/{group_id}/feedback/{game_id}:1:{group_id}:x/mark",
                                  {"useful": value, "intention": value}), 404, 422)
        # the longest parts the service takes, in Cyrillic, pass the web client as the form sends them (multipart)
        longest = {part: f"{part} " + "ж" * 3990 for part in HELP}
        r = await boris.http.post("/help/new", files={k: (None, v) for k, v in
                                                      {"csrf": boris.csrf, "title": "Длинный", **longest}.items()})
        assert r.status_code == 422 and "(минимум слов: 4)" in r.text, r.status_code
        for path in (f"/games/{game_id}/teams/{group_id}/feedback/*/mark", f"/games/{game_id}/rounds/skip",
                     f"/games/{game_id}/observers/*/remove", "/help/requests/*/route"):
            r = await boris.post(path, {})
            assert r.status_code == 404, (path, r.status_code)
        # a member is no moderator: the queue, routing, assigning say so
        r = await boris.get("/help/queue")
        assert r.status_code == 403 and "только модераторам" in r.text
        r = await boris.post(f"/games/{game_id}/observers", {"observer_id": crew["vera"][0]})
        assert r.status_code == 403 and "только модераторам" in r.text
        assert await log_position(web) == before, "nothing changed"

    # a moderator's searches take any text; a pick that is no colleague is said; taking an observer off the game
    async with Visitor(web) as moderator:
        await moderator.sign_in(crew["moderator"][1])
        for value in HOSTILE:
            for path in (f"/games/{game_id}", "/help/queue"):
                r = await moderator.get(path, params={"who": value})
                assert r.status_code == 200 and "<script>alert(1)</script>" not in r.text, (path, value)
        r = await moderator.post(f"/games/{game_id}/observers", {"observer_id": "*"})
        assert r.status_code == 422 and "Сначала найдите и выберите коллегу." in r.text
        r = await moderator.post(f"/games/{game_id}/observers/{crew['vera'][0]}/remove", {})
        assert r.status_code == 303, r.status_code
        r = await moderator.get(f"/games/{game_id}")
        assert "Наблюдатель снят с игры." in r.text and 'id="observers-empty"' in r.text

    _, guest_email, _ = await register(web, (await invite(web, await admin_token(web)))["token"])
    async with Visitor(web) as guest:
        await guest.sign_in(guest_email)
        for path in ("/games", f"/games/{game_id}", "/feedback/my", "/feedback/owed", "/help"):
            r = await guest.get(path)
            assert r.status_code == 403 and "Нет доступа" in r.text, (path, r.status_code)
        await guest.get("/help/new")
        r = await guest.post("/help/new", {"title": "Гость", **HELP})
        assert r.status_code == 403, r.status_code


def test_the_pages_name_each_part_as_the_service_does():
    """The refusal on sending comes from the service, the words beside each part from the web client: the same
    names in both languages."""
    from services.web.texts import TEXTS

    assert {part: TEXTS[f"fb_part_{part}"] for part in PART_TITLES} == PART_TITLES
