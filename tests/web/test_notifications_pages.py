"""The notifications pages through the web client (real platform, HTTP as a browser sends it): the list with
read / unread and marking read, the preferences form (a channel per kind, the e-mails' language, the zone,
quiet hours) with its refusals said in the person's language, and the unsubscribe page an e-mail links to,
which works without signing in, asks first, and turns off only its member's one kind."""

from __future__ import annotations

import re

from tests.e2e.helpers import settle
from tests.platform_harness import Platform
from tests.web.test_journey import colleague, surname
from tests.web.test_web_security import Visitor


async def signed_in(web: Platform) -> tuple[str, Visitor]:
    member_id, email = await colleague(web, surname())  # granted: told so in the app
    await settle(web)
    me = Visitor(web)
    await me.sign_in(email)
    return member_id, me


async def test_the_list_shows_what_the_member_was_told_and_marks_it_read(web):
    _, me = await signed_in(web)
    async with me:
        r = await me.get("/notifications")
        assert r.status_code == 200, r.text
        assert "Вам открыт доступ в Главную группу сообщества" in r.text and "Непрочитанных: 1" in r.text
        assert 'data-kind="access_granted"' in r.text and "новое" in r.text
        r = await me.post("/notifications/read", {})
        assert r.status_code == 303 and r.headers["location"] == "/notifications"
        r = await me.get("/notifications")
        assert "Все уведомления отмечены прочитанными." in r.text and "Непрочитанных: 0" in r.text
        assert "новое" not in r.text
        r = await me.get("/notifications?unread=true")
        assert 'id="notifications-empty"' in r.text
        await me.get("/lang/en?next=/notifications")
        r = await me.get("/notifications")
        assert "You have been admitted to the Main group" in r.text and "Unread: 0" in r.text


async def test_preferences_are_chosen_per_kind_with_quiet_hours_and_refused_in_the_persons_language(web):
    _, me = await signed_in(web)
    async with me:
        r = await me.get("/notifications/preferences")
        assert r.status_code == 200, r.text
        assert "упоминания" in r.text and "в сводке за день (по умолчанию)" in r.text
        assert 'id="no-mail-server"' in r.text  # no mail server on the test platform: said plainly
        form = {"ch_mention": "off", "ch_join_request": "in_app", "language": "en", "time_zone": "Europe/Moscow",
                "quiet_starts": "23:00", "quiet_ends": "07:30"}
        r = await me.post("/notifications/preferences", form)
        assert r.status_code == 303, r.text
        r = await me.get("/notifications/preferences")
        assert "Настройки уведомлений сохранены." in r.text
        assert re.search(r'name="ch_mention">.*?<option value="off" selected', r.text, re.S)
        assert re.search(r'name="ch_join_request">.*?<option value="in_app" selected', r.text, re.S)
        assert 'value="Europe/Moscow"' in r.text and 'value="23:00"' in r.text and 'value="07:30"' in r.text
        assert '<option value="en" selected' in r.text

        r = await me.post("/notifications/preferences", {**form, "time_zone": "Mars/Olympus"})
        assert r.status_code == 422 and "Такого часового пояса нет." in r.text, r.text
        r = await me.post("/notifications/preferences", {**form, "quiet_starts": "25:00"})
        assert r.status_code == 422 and "Время в виде ЧЧ:ММ" in r.text
        await me.get("/lang/en?next=/notifications/preferences")
        r = await me.post("/notifications/preferences", {**form, "time_zone": "Mars/Olympus"})
        assert r.status_code == 422 and "There is no such time zone." in r.text, r.text

        r = await me.post("/notifications/preferences", {"quiet": "no", "language": "ru"})
        assert r.status_code == 303
        r = await me.get("/notifications/preferences")
        assert 'id="f-quiet" name="quiet" value="no" checked' in r.text


async def test_an_unsubscribe_link_asks_then_turns_off_one_kind_without_signing_in(web):
    from services.notifications.links import unsubscribe_token

    member_id, me = await signed_in(web)
    secret = web.settings["notifications"].unsubscribe_secret.get_secret_value()
    token = unsubscribe_token(secret, member_id, "pick_window_opened")
    async with Visitor(web) as stranger:
        r = await stranger.get(f"/notifications/unsubscribe?token={token}")
        assert r.status_code == 200, r.text
        assert "Больше не присылать уведомления вида «открытие выбора ролей»?" in r.text
        r = await stranger.post(f"/notifications/unsubscribe?token={token}", {})
        assert r.status_code == 200 and "Уведомления вида «открытие выбора ролей» больше не приходят." in r.text
        forged = token.replace("pick_window_opened", "mention")
        r = await stranger.get(f"/notifications/unsubscribe?token={forged}")
        assert r.status_code == 422 and "Ссылка для отписки недействительна" in r.text
        r = await stranger.post(f"/notifications/unsubscribe?token={token}", {}, csrf=False)
        assert r.status_code == 403  # the page's form needs its CSRF token (a mail client posts to the API)
    async with me:
        r = await me.get("/notifications/preferences")
        assert re.search(r'name="ch_pick_window_opened">.*?<option value="off" selected', r.text, re.S)
        assert re.search(r'name="ch_mention">.*?<option value="digest" selected', r.text, re.S)
