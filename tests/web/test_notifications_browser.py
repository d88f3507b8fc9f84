"""The notifications pages in Chromium on a phone (360 px) and a desktop (1280 px), in Russian and English:
nothing runs off the side, every control has a label (the checks of tests/web/test_layout.py); a member
chooses a kind's channel and quiet hours with the form, and a stranger opens an unsubscribe link and
confirms."""

from __future__ import annotations

import pytest

from services.notifications.links import unsubscribe_token
from tests.web.test_journey import colleague, sign_in, surname
from tests.web.test_layout import OVERFLOW, UNLABELLED


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_the_notifications_pages_fit_the_screen_and_label_every_control(people, web, width, lang):
    member_id, email = await colleague(web, surname())
    secret = web.settings["notifications"].unsubscribe_secret.get_secret_value()
    token = unsubscribe_token(secret, member_id, "help_request_answered")
    person = await people(f"notifications-{lang}-{width}", width=width, height=800)
    await sign_in(person, email)
    if lang == "en":
        await person.open("/lang/en?next=/")
    for path in ("/notifications", "/notifications/preferences"):
        await person.open(path, f"{path}-{lang}-{width}")
        assert await person.page.locator("html").get_attribute("lang") == lang, path
        assert await person.page.evaluate(OVERFLOW) <= 0, f"{path} runs off a {width} px screen"
        assert await person.page.evaluate(UNLABELLED) == [], path
    stranger = await people(f"unsubscribe-{lang}-{width}", width=width, height=800)
    if lang == "en":
        await stranger.open("/lang/en?next=/")
    await stranger.open(f"/notifications/unsubscribe?token={token}", f"unsubscribe-{lang}-{width}")
    assert await stranger.page.evaluate(OVERFLOW) <= 0
    assert await stranger.page.evaluate(UNLABELLED) == []


async def test_a_member_sets_a_channel_and_quiet_hours_and_a_stranger_unsubscribes_by_link(people, web):
    member_id, email = await colleague(web, surname())
    me = await people("preferences")
    await sign_in(me, email)
    await me.open("/notifications")
    assert "Вам открыт доступ в Главную группу сообщества" in await me.text()
    await me.submit("Отметить все прочитанными")
    assert "Все уведомления отмечены прочитанными." in await me.page.locator("body").inner_text()
    await me.open("/notifications/preferences")
    await me.page.get_by_label("упоминания").select_option("email_now")
    await me.page.get_by_label("Тихие часы: с").fill("21:30")
    await me.submit("Сохранить")
    assert "Настройки уведомлений сохранены." in await me.page.locator("body").inner_text()
    assert await me.page.get_by_label("упоминания").input_value() == "email_now"
    assert await me.page.get_by_label("Тихие часы: с").input_value() == "21:30"

    secret = web.settings["notifications"].unsubscribe_secret.get_secret_value()
    stranger = await people("unsubscribe")
    await stranger.open(f"/notifications/unsubscribe?token={unsubscribe_token(secret, member_id, 'mention')}")
    assert "Больше не присылать уведомления вида «упоминания»?" in await stranger.text()
    await stranger.submit("Да, не присылать")
    assert "Уведомления вида «упоминания» больше не приходят." in await stranger.text()
    await me.open("/notifications/preferences")
    assert await me.page.get_by_label("упоминания").input_value() == "off"
