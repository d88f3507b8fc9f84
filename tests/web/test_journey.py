"""The onboarding journey in two browsers, a newcomer and a moderator, against the real platform."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.helpers import settle
from tests.e2e.journey import FULL_PROFILE, admin_token, invite, login, register
from tests.platform_harness import ADMIN_EMAIL, ADMIN_PASSWORD, Platform

PASSWORD = "s3cret-pass"


async def sign_in(person, email: str, password: str = PASSWORD, then: str | None = None) -> None:
    await person.open("/login" + (f"?next={then}" if then else ""), "login")
    await person.page.get_by_label("E-mail").fill(email)
    await person.page.get_by_label("Пароль").fill(password)
    await person.submit("Войти")


async def colleague(p: Platform, surname: str, **profile) -> tuple[str, str]:
    """A member of the Main group made through the API, with a surname no one else has: (member_id, email)."""
    admin = await admin_token(p)
    inv = await invite(p, admin)
    member_id, email, token = await register(p, inv["token"], full_name=f"Зинаида {surname}")
    async with p.client(token) as c:
        assert (await c.post("/v1/me/rules-acknowledgement")).status_code == 200
        r = await c.put("/v1/me/profile", json={**FULL_PROFILE, "full_name": f"Зинаида {surname}", **profile})
        assert r.status_code == 200, r.text
    async with p.client(admin) as c:
        assert (await c.post(f"/v1/moderation/{member_id}/decision", json={"decision": "grant"})).status_code == 200
    await settle(p)
    return member_id, email


def surname() -> str:
    return "Тестова" + "".join("абвгдежзиклмнопрстуф"[int(c, 16)] for c in uuid.uuid4().hex[:6])


async def test_a_newcomer_joins_is_asked_for_changes_is_granted_and_finds_a_colleague(people, web):
    found = surname()
    await colleague(web, found, city="Нижний Тагил", company="Ёлочка")
    moderator, newcomer = await people("moderator"), await people("newcomer", width=360, height=780)

    # the moderator creates a one-use invitation and copies its link
    await sign_in(moderator, ADMIN_EMAIL, ADMIN_PASSWORD)
    await moderator.open("/invitations")
    await moderator.page.get_by_label("Сколько раз можно использовать").fill("1")
    await moderator.submit("Создать")
    link = await moderator.page.locator("#new-link").input_value()
    assert link.startswith(web.web_url + "/join/")
    await moderator.page.reload()
    assert await moderator.page.locator("#new-link").count() == 0, "the full link is shown once"

    # the newcomer opens it and registers; without consent the form says so next to the box
    email = f"web-{uuid.uuid4().hex[:8]}@example.ru"
    await newcomer.page.goto(link)
    await newcomer.shoot("join")
    assert "152-ФЗ" in await newcomer.text(), "the consent text is shown"
    await newcomer.page.get_by_label("Имя и фамилия").fill("Ольга Новикова")
    await newcomer.page.get_by_label("E-mail").fill(email)
    await newcomer.page.get_by_label("Пароль").fill(PASSWORD)
    await newcomer.submit("Зарегистрироваться", "join-no-consent")
    assert "Без согласия регистрация невозможна" in await newcomer.page.locator("#e-consent").inner_text()
    assert await newcomer.page.get_by_label("Пароль").input_value() == "", "a password is never sent back"
    await newcomer.page.get_by_label("Пароль").fill(PASSWORD)
    await newcomer.page.get_by_label("Я прочитал(а) текст и даю согласие").check()
    await newcomer.submit("Зарегистрироваться", "registered")
    assert newcomer.page.url.endswith("/rules")
    await newcomer.submit("Я ознакомился(ась) с правилами", "rules-done")
    assert newcomer.page.url.endswith("/profile")

    # the profile: what is missing shrinks as the newcomer types, before anything is saved
    missing = newcomer.page.locator("#missing li:not([hidden])")
    before = await missing.count()
    assert before == 6  # the name came with the registration
    await newcomer.page.locator("#profile-form").get_by_label("Город").fill("Екатеринбург")
    await newcomer.page.locator("#profile-form").get_by_label("Компания").fill("Уралхиммаш")
    assert await missing.count() == before - 2
    await newcomer.page.locator("#profile-form").get_by_label("Должность").fill("Рекрутер")
    await newcomer.page.locator("#profile-form").get_by_label("Лет в HR").fill("3")
    await newcomer.page.locator("#profile-form").get_by_label("Профессиональные интересы").fill("подбор, адаптация")
    await newcomer.page.locator("#profile-form").get_by_label("Телефон").fill("+7 900 111-22-33")
    assert await missing.count() == 0
    assert await newcomer.page.locator("#missing-none").is_visible()
    await newcomer.submit("Сохранить", "profile-saved")
    assert "Профиль на проверке" in await newcomer.page.locator("#my-status").inner_text()

    # the moderator sees the newcomer in the queue with the whole profile, and asks for changes
    await moderator.open("/moderation")
    await moderator.page.get_by_role("link", name="Открыть — Ольга Новикова").first.click()
    await moderator.shoot("newcomer")
    shown = await moderator.page.locator("#newcomer-profile").inner_text()
    assert "Уралхиммаш" in shown and "+7 900 111-22-33" in shown and "подбор, адаптация" in shown
    await moderator.page.get_by_label("Попросить изменения").check()
    await moderator.page.get_by_label("Сообщение участнику").fill("Уточните, пожалуйста, должность полностью.")
    await moderator.submit("Принять решение", "changes-requested")
    assert "запрошены изменения" in await moderator.page.locator("#history").inner_text()
    assert "Уточните, пожалуйста, должность" in await moderator.page.locator("#history").inner_text()

    # the newcomer sees the message, fixes the profile
    await newcomer.open("/profile")
    status = await newcomer.page.locator("#my-status").inner_text()
    assert "Модератор просит внести изменения" in status and "Уточните, пожалуйста, должность" in status
    await newcomer.page.locator("#profile-form").get_by_label("Должность").fill("Ведущий специалист по подбору")
    await newcomer.submit("Сохранить", "profile-fixed")
    assert "Профиль на проверке" in await newcomer.page.locator("#my-status").inner_text()

    # the moderator grants; the history keeps both decisions, in order, with who took them
    await moderator.page.reload()
    assert "Ведущий специалист по подбору" in await moderator.page.locator("#newcomer-profile").inner_text()
    await moderator.page.get_by_label("Открыть доступ в «Главную группу»").check()
    await moderator.submit("Принять решение", "granted")
    history = await moderator.page.locator("#history li").all_inner_texts()
    assert [h.split(" — ")[0] for h in history] == ["запрошены изменения", "доступ открыт"]

    # the newcomer is a member now, and finds a colleague in the directory (ё folded, any case)
    await newcomer.open("/")
    assert "Вы участник «Главной группы»" in await newcomer.text()
    await newcomer.page.get_by_role("link", name="Коллеги").first.click()
    await newcomer.page.get_by_label("Имя, город, компания или интерес").fill(f"{found[:9].upper()} елочка")
    await newcomer.submit("Найти", "colleagues-found")
    cards = newcomer.page.locator("#colleagues li")
    assert await cards.count() == 1
    assert f"Зинаида {found}" in await cards.first.inner_text()
    await cards.first.get_by_role("link").click()
    await newcomer.shoot("colleague")
    card = await newcomer.page.locator("#colleague-card").inner_text()
    assert "Ёлочка" in card and "Нижний Тагил" in card
    assert "+7 912 000-00-00" not in await newcomer.page.content(), "a phone is hidden unless its owner shows it"


async def test_a_dead_invitation_gets_a_page_that_says_so_before_anyone_fills_the_form(people, web):
    admin = await admin_token(web)
    spent = await invite(web, admin)
    await register(web, spent["token"])
    revoked = await invite(web, admin)
    async with web.client(admin) as c:
        assert (await c.delete(f"/v1/invitations/{revoked['token']}")).status_code == 200
    person = await people("late")
    for token, words in ((spent["token"], "использовано максимальное число раз"),
                         (revoked["token"], "отозвано"), ("no-such-invitation", "скопирована целиком")):
        response = await person.open(f"/join/{token}", "join-dead")
        text = await person.text()
        assert response.status == 410 and "Приглашение не действует" in text and words in text, text
        assert await person.page.locator("form#join, input[name=password]").count() == 0
    # one spent by someone else while this person was filling the form in: said on sending it
    last = await invite(web, admin)
    await person.open(f"/join/{last['token']}", "join-open")
    assert "Приглашение действует до" in await person.text()
    await register(web, last["token"])
    await person.page.get_by_label("Имя и фамилия").fill("Поздний Гость")
    await person.page.get_by_label("E-mail").fill(f"late-{uuid.uuid4().hex[:6]}@example.ru")
    await person.page.get_by_label("Пароль").fill(PASSWORD)
    await person.page.get_by_label("Я прочитал(а) текст и даю согласие").check()
    await person.submit("Зарегистрироваться", "join-refused")
    text = await person.text()
    assert "Приглашение не действует" in text and "использовано максимальное число раз" in text, text
    assert "Traceback" not in text and "{" not in text


async def test_signing_out_ends_the_session_and_a_page_asks_to_sign_in_then_comes_back(people, web):
    member_id, email = await colleague(web, surname())
    person = await people("member")
    await person.open("/colleagues?q=%D0%B7%D0%B8%D0%BD")
    assert person.page.url.startswith(web.web_url + "/login?next=")
    assert "Войдите, чтобы открыть эту страницу" in await person.text()
    await person.page.get_by_label("E-mail").fill(email)
    await person.page.get_by_label("Пароль").fill(PASSWORD)
    await person.submit("Войти", "back-where-i-was")
    assert person.page.url == web.web_url + "/colleagues?q=%D0%B7%D0%B8%D0%BD"
    stolen = await person.session_cookie()
    await person.page.get_by_role("button", name="Выйти").click()
    await person.page.wait_for_url("**/login")
    assert "Вы вышли из системы" in await person.text()
    await person.open("/profile")
    assert "/login" in person.page.url
    # a copy of the cookie taken before signing out cannot renew itself: its refresh token was spent
    from tests.web.conftest import open_session

    spent = open_session(stolen["value"])["refresh"]
    async with web.client() as c:
        r = await c.post("/v1/auth/refresh", json={"refresh_token": spent})
        assert r.status_code == 401 and r.json()["code"] == "refresh_token_used"


async def test_wrong_credentials_are_said_on_the_form_and_nothing_else_happens(people, web):
    person = await people("wrong")
    await sign_in(person, "nobody@example.ru", "wrong-password-1")
    assert person.page.url.endswith("/login")
    assert "Неверный e-mail или пароль" in await person.page.locator("#form-error").inner_text()
    assert await person.page.get_by_label("E-mail").input_value() == "nobody@example.ru"


async def test_the_session_cookie_is_httponly_sealed_and_a_forged_one_is_no_session(people, web):
    _, email = await colleague(web, surname())
    person = await people("cookie")
    await sign_in(person, email)
    cookie = await person.session_cookie()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    tokens = await login(web, email, PASSWORD)
    assert tokens["access_token"].split(".")[0] not in cookie["value"], "the cookie holds no readable token"
    assert await person.page.evaluate("document.cookie") in ("", "hrm_lang=ru"), "no script sees the session"
    forged = cookie["value"][:-4] + ("AAAA" if not cookie["value"].endswith("AAAA") else "BBBB")
    await person.context.add_cookies([{**cookie, "value": forged}])
    await person.open("/profile", "forged")
    assert "/login" in person.page.url


async def test_every_page_speaks_english_after_the_switch_and_back(people, web):
    _, email = await colleague(web, surname())
    person = await people("english")
    await sign_in(person, email)
    await person.open("/profile")
    await person.page.get_by_role("link", name="Switch to English").click()
    await person.page.wait_for_url("**/profile")
    await person.shoot("profile-en")
    assert await person.page.locator("html").get_attribute("lang") == "en"
    for path, words in (("/", "Hello"), ("/profile", "Still missing"), ("/rules", "The community's rules"),
                        ("/colleagues", "The directory of Main-group members"), ("/moderation", "Access denied")):
        await person.open(path, f"en-{path}")
        assert words in await person.text(), path
    cookies = {"hrm_session": (await person.session_cookie())["value"], "hrm_lang": "en"}
    async with httpx.AsyncClient(base_url=web.web_url, cookies=cookies) as c:  # the gateway's refusal, in English
        assert "Only moderators" in (await c.get("/moderation")).text
    await person.page.get_by_role("link", name="Переключить на русский").click()
    await person.page.wait_for_load_state()
    assert await person.page.locator("html").get_attribute("lang") == "ru"
    assert "Нет доступа" in await person.text()
