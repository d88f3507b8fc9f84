"""Every page on a phone (360 px) and on a desktop (1280 px), in Russian and in English: nothing runs
off the side, every control has a label, and the keyboard alone is enough."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.links import unsubscribe_token
from tests.e2e.helpers import settle
from tests.e2e.journey import admin_token, ready_for_review
from tests.platform_harness import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.web.test_groups import a_group, a_moderator, settle_views, token_of
from tests.web.test_journey import colleague, sign_in, surname

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
OPEN_DETAILS = "() => [...document.querySelectorAll('details')].map(d => { d.open = true; return 1; }).length"
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !(e.tagName === 'BUTTON'
               && e.innerText.trim()))
  .map(e => e.outerHTML.slice(0, 120))"""


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_every_page_fits_the_screen_and_labels_every_control(people, web, width, lang):
    admin = await admin_token(web)
    newcomer_id, _ = await ready_for_review(web, admin)
    member_id, _ = await colleague(web, surname(), company="Очень-длинное-название-компании-без-пробелов-" * 3,
                                   professional_interests=["оценка персонала", "HR-аналитика", "х" * 80])
    await settle(web)
    group_id = await groups_to_show(web)
    game_id, team_id, request_id = await feedback_to_show(web)
    person = await people(f"layout-{lang}-{width}", width=width, height=800)
    await sign_in(person, ADMIN_EMAIL, ADMIN_PASSWORD)
    if lang == "en":
        await person.open("/lang/en?next=/")
    pages = ["/", "/profile", "/rules", "/moderation", f"/moderation/{newcomer_id}", "/invitations",
             "/colleagues", f"/colleagues/{member_id}", "/admin/members", "/no-such-page",
             "/groups", "/groups/new", f"/groups/{group_id}", f"/groups/{group_id}?who=Зинаида",
             f"/groups/{group_id}/requests", f"/groups/{group_id}/calls/past", "/groups/proposals", "/groups/map",
             "/announcements", f"/groups/{group_id}/chat", f"/groups/{group_id}/chat?q=Сообщение", "/messages",
             f"/messages/{member_id}", "/roles", f"/groups/{group_id}/roles", "/roles/coordination", "/roles/my",
             "/games", f"/games/{game_id}", f"/games/{game_id}?who=Зинаида", f"/games/{game_id}/teams/{team_id}",
             f"/games/{game_id}/rounds/1/teams/{team_id}", f"/games/{game_id}/rounds/2/teams/{team_id}",
             "/feedback/owed", "/feedback/my", "/help", "/help/new", "/help/queue?who=Зинаида",
             f"/help/requests/{request_id}", "/notifications", "/notifications?unread=true",
             "/notifications/preferences"]
    for path in pages:
        await person.open(path, f"{path}-{lang}-{width}")
        # what a disclosure holds (removing a member) is checked as it looks once opened
        if await person.page.evaluate(OPEN_DETAILS):
            await person.shoot(f"{path}-open-{lang}-{width}")
        assert await person.page.locator("html").get_attribute("lang") == lang, path
        assert await person.page.evaluate(OVERFLOW) <= 0, f"{path} runs off a {width} px screen"
        assert await person.page.evaluate(UNLABELLED) == [], path
    anonymous = await people(f"layout-anon-{lang}-{width}", width=width, height=800)
    if lang == "en":
        await anonymous.open("/lang/en?next=/login")
    secret = web.settings["notifications"].unsubscribe_secret.get_secret_value()
    unsubscribe = f"/notifications/unsubscribe?token={unsubscribe_token(secret, newcomer_id, 'changes_requested')}"
    for path in ("/login", "/join/some-invitation", "/rules", unsubscribe):
        await anonymous.open(path, f"anon-{path}-{lang}-{width}")
        assert await anonymous.page.evaluate(OVERFLOW) <= 0, path
        assert await anonymous.page.evaluate(UNLABELLED) == [], path


_SHOWN: dict[str, str] = {}


async def groups_to_show(web) -> str:
    """A group with a long title, a pending request with a long message, a call and a proposal; an
    announcement: every groups page has something on it. Made once for the four layouts; the group's id."""
    if web.web_url in _SHOWN:
        return _SHOWN[web.web_url]
    _, coordinator_email = await colleague(web, surname(), company="Очень-длинное-название-компании-" * 3)
    long = "Очень-длинное-название-рабочей-группы-" * 3
    group_id = await a_group(web, coordinator_email, long[:120], content="main")
    _, applicant_email = await colleague(web, surname())
    async with web.client(await token_of(web, applicant_email)) as c:
        await c.post(f"/v1/groups/{group_id}/join", json={"message": "Хочу-участвовать-" * 40})
    async with web.client(await token_of(web, coordinator_email)) as c:
        await c.post(f"/v1/groups/{group_id}/messages", json={"text": "Сообщение-без-пробелов-" * 40})
        starts = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        await c.post(f"/v1/groups/{group_id}/calls", json={"topic": "Тема-без-пробелов-" * 10, "starts_at": starts})
        await c.post("/v1/groups", json={"title": "Предложение-" * 10, "description": "Зачем-" * 300,
                                         "group_type": "game_team"})
    async with web.client(await admin_token(web)) as c:
        await c.post("/v1/announcements", json={"title": "Объявление-" * 18, "body": "Текст-" * 500})
    await settle_views(web)
    _SHOWN[web.web_url] = group_id
    return group_id


_FEEDBACK: dict[str, tuple[str, str, str]] = {}


async def feedback_to_show(web) -> tuple[str, str, str]:
    """A game with a long title whose team got feedback of long words in its first round (published, answered)
    and whose second round is open, and a request for expert help of long words waiting for a moderator: every
    feedback page has something on it. Made once for the four layouts; the game's, team's and request's ids."""
    if web.web_url in _FEEDBACK:
        return _FEEDBACK[web.web_url]
    # imported here: the feedback suite imports the chat suite, which imports this module
    from tests.web.test_feedback_browser import a_game, an_observer

    long = "Очень-длинное-слово-без-пробелов-" * 4
    (host_id, host_email), (member_id, member_email) = [await colleague(web, surname()) for _ in range(2)]
    observer_id, observer_email = await colleague(web, surname())
    await an_observer(web, observer_id)
    _, moderator_email = await a_moderator(web)
    moderator, host, member, observer = [await token_of(web, e) for e in (moderator_email, host_email, member_email,
                                                                          observer_email)]
    game = await a_game(web, moderator, (host_id, host), [(member_id, member)], "Игра-" * 30, "Команда-" * 15)
    game_id, team_id = game["game_id"], game["group_id"]
    # each part a long word of its own (parts alike are refused as one part written twice)
    words = {part: f"{word}-без-пробелов-" * 8 + " и ещё три слова" for part, word in (
        ("situation", "Ситуация"), ("behaviour", "Поведение"), ("impact", "Влияние"), ("recommendation", "Совет"))}
    async with web.client(moderator) as c:
        assert (await c.put(f"/v1/games/{game_id}/observers/{observer_id}")).status_code == 200
    async with web.client(host) as c:
        assert (await c.post(f"/v1/games/{game_id}/rounds")).status_code == 201
    async with web.client(observer) as c:
        r = await c.put(f"/v1/games/{game_id}/rounds/1/teams/{team_id}/feedback", json={**words, "quality": "vision",
                                                                                       "role": 12})
        assert r.status_code == 200, r.text
    async with web.client(host) as c:
        assert (await c.post(f"/v1/games/{game_id}/rounds/close")).status_code == 200
        await settle(web)
        assert (await c.post(f"/v1/games/{game_id}/rounds")).status_code == 201
        r = await c.put(f"/v1/feedback/{r.json()['feedback_id']}/mark", json={"useful": False, "intention": long})
        assert r.status_code == 200, r.text
    async with web.client(member) as c:
        r = await c.post("/v1/help-requests", json={"title": long, **{part: f"{word}-без-пробелов-" * 8 + " и ещё три "
                                                                      "слова" for part, word in (
            ("need", "Потребность"), ("data", "Данные"), ("closure", "Осознанность"), ("dialogue", "Диалог"))}})
        assert r.status_code == 201, r.text
    await settle(web)
    _FEEDBACK[web.web_url] = (game_id, team_id, r.json()["request_id"])
    return _FEEDBACK[web.web_url]


async def test_signing_in_and_filling_the_profile_by_keyboard_alone(people, web):
    _, email = await colleague(web, surname())
    person = await people("keyboard", width=360, height=800)
    await person.open("/login")
    page = person.page
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip", "the first stop skips to content"
    focused = []
    for _ in range(12):
        await page.keyboard.press("Tab")
        focused.append(await page.evaluate("document.activeElement.id || document.activeElement.name"))
        if focused[-1] == "f-email":
            break
    assert focused[-1] == "f-email", focused
    await page.keyboard.type(email)
    await page.keyboard.press("Tab")
    await page.keyboard.type("s3cret-pass")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await person.shoot("keyboard-signed-in")
    assert page.url.endswith("/")
    await person.open("/profile")
    await page.locator("#f-city").focus()
    await page.keyboard.press("Control+A")
    await page.keyboard.type("Каменск-Уральский")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert await page.locator("#f-city").input_value() == "Каменск-Уральский"
    assert "Профиль сохранён" in await person.text()


async def test_a_refused_profile_shows_the_error_next_to_its_field_and_focuses_it(people, web):
    _, email = await colleague(web, surname())
    person = await people("field-error")
    await sign_in(person, email)
    await person.open("/profile")
    await person.page.locator("#profile-form").get_by_label("Телефон").fill("call me maybe")
    await person.submit("Сохранить", "phone-refused")
    error = person.page.locator("#e-phone")
    assert await error.is_visible() and await error.inner_text()
    assert await person.page.locator("#profile-form").get_by_label("Телефон").get_attribute("aria-invalid") == "true"
    assert await person.page.evaluate("document.activeElement.id") == "f-phone"
    assert await person.page.locator("#profile-form").get_by_label("Телефон").input_value() == "call me maybe", "what was typed is kept"


async def test_an_admin_gives_a_member_a_role_and_a_moderator_revokes_an_invitation(people, web):
    name = surname()
    member_id, email = await colleague(web, name)
    admin = await people("admin")
    await sign_in(admin, ADMIN_EMAIL, ADMIN_PASSWORD)
    await admin.open(f"/admin/members?q={name}")
    row = admin.page.locator(f"tr[data-member='{member_id}']")
    assert await admin.page.locator("#members tbody tr").count() == 1
    await row.get_by_label("модератор").check()
    async with admin.page.expect_navigation():
        await row.get_by_role("button").click()
    await admin.shoot("role-given")
    assert "Роли сохранены" in await admin.text()
    moderator = await people("new-moderator")
    await sign_in(moderator, email)
    await moderator.open("/invitations")
    await moderator.page.get_by_label("Сколько раз можно использовать").fill("3")
    await moderator.submit("Создать", "invitation-3")
    token = (await moderator.page.locator("#new-link").input_value()).rsplit("/", 1)[1]
    row = moderator.page.locator(f"tr[data-token='{token}']")
    assert "3 / 3" in await row.inner_text()
    async with moderator.page.expect_navigation():
        await row.get_by_role("button", name="Отозвать").click()
    await moderator.shoot("revoked")
    assert "Приглашение отозвано" in await moderator.text()
    assert await moderator.page.locator(f"tr[data-token='{token}']").count() == 0
    await moderator.open("/invitations?inactive=true")
    assert "отозвано" in await moderator.page.locator(f"tr[data-token='{token}']").inner_text()
