"""«Мои данные» in Chromium on a phone (360 px) and a desktop (1280 px), in Russian and English: the pages
and the download's own page run off no screen and label every control (the checks of
tests/web/test_layout.py); a member asks with the button, opens the download as a page, and withdraws
their consent only with the typed word."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.helpers import settle
from tests.web.test_journey import colleague, sign_in, surname
from tests.web.test_layout import OVERFLOW, UNLABELLED


async def until_ready(person, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await person.page.locator("#my-data-ready").count() == 0:
        assert loop.time() < deadline, await person.text()
        await asyncio.sleep(0.3)
        await person.page.reload()


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_the_my_data_pages_fit_the_screen_and_label_every_control(people, web, width, lang):
    _, email = await colleague(web, surname(), about="Очень длинное слово: " + "оченьдлинноеслово" * 8)
    person = await people(f"my-data-{lang}-{width}", width=width, height=800)
    await sign_in(person, email)
    if lang == "en":
        await person.open("/lang/en?next=/")
    await person.open("/my-data", f"my-data-{lang}-{width}")
    await person.submit(None, f"my-data-asked-{lang}-{width}")
    await until_ready(person)
    for path in ("/my-data", "/my-data/withdraw", "/my-data/export.html"):
        await person.open(path, f"{path}-{lang}-{width}")
        assert await person.page.locator("html").get_attribute("lang") == lang, path
        assert await person.page.evaluate(OVERFLOW) <= 0, f"{path} runs off a {width} px screen"
        assert await person.page.evaluate(UNLABELLED) == [], path


async def test_a_member_asks_reads_and_withdraws_only_with_the_word(people, web):
    _, email = await colleague(web, surname())
    me = await people("my-data")
    await sign_in(me, email)
    await me.open("/")
    await me.page.locator("#nav-my-data").click()
    await me.page.wait_for_url("**/my-data")
    assert "Вы ещё не запрашивали свои данные." in await me.text()
    await me.submit("Запросить мои данные")
    await until_ready(me)
    await me.page.get_by_role("link", name="Открыть как страницу").click()
    await me.page.wait_for_url("**/my-data/export.html")
    body = await me.page.locator("body").inner_text()
    assert "Мои данные на платформе HR-мнение" in body and email in body
    await me.open("/my-data")
    await me.page.get_by_role("link", name="Отозвать согласие на обработку персональных данных").click()
    await me.page.wait_for_url("**/my-data/withdraw")
    assert "Это необратимо" in await me.text()
    await me.page.get_by_label("Чтобы подтвердить, впишите слово УДАЛИТЬ").fill("да")
    await me.submit("Отозвать согласие и удалить учётную запись")
    assert "впишите слово УДАЛИТЬ" in await me.page.locator("#e-confirmation").inner_text()
    await me.page.get_by_label("Чтобы подтвердить, впишите слово УДАЛИТЬ").fill("УДАЛИТЬ")
    await me.submit("Отозвать согласие и удалить учётную запись")
    assert "Учётная запись удалена" in await me.text()
    await settle(web)
    await me.open("/my-data")
    assert "/login" in me.page.url
