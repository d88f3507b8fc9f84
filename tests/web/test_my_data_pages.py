"""«Мои данные» through the web client (real platform, HTTP as a browser sends it): asking, the parts as they
arrive, a second request while one is gathered said in words, the download as JSON and as a page of its own
(the member's words in it, another member's not), and the withdrawal page: what goes, what stays, that it
cannot be undone; without the typed word nothing changes, with it the account is erased and the session
ends."""

from __future__ import annotations

import asyncio
import json

from tests.e2e.helpers import log_position, settle
from tests.e2e.journey import login
from tests.platform_harness import Platform
from tests.web.test_journey import colleague, surname
from tests.web.test_web_security import Visitor


async def signed_in(web: Platform, name: str | None = None) -> tuple[str, str, Visitor]:
    found = name or surname()
    member_id, email = await colleague(web, found)
    me = Visitor(web)
    await me.sign_in(email)
    return member_id, email, me


async def ready(me: Visitor, timeout: float = 30.0) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        r = await me.get("/my-data")
        if 'id="my-data-ready"' in r.text or loop.time() > deadline:
            assert 'id="my-data-ready"' in r.text, r.text
            return r.text
        await asyncio.sleep(0.2)


async def test_a_member_asks_sees_the_parts_and_reads_and_downloads_their_data(web):
    other_name = surname()
    other_id, other_email = await colleague(web, other_name)
    me_id, me_email, me = await signed_in(web)
    async with me:
        r = await me.get("/my-data")
        assert r.status_code == 200, r.text
        assert 'id="my-data-none"' in r.text and 'id="nav-my-data"' in r.text and "152-ФЗ" in r.text
        r = await me.post("/my-data/request", {})
        assert r.status_code == 303 and r.headers["location"] == "/my-data"
        # a personal message to the other member (mine) and one from them (theirs): only mine is in the download
        token = (await login(web, me_email, "s3cret-pass"))["access_token"]
        other = (await login(web, other_email, "s3cret-pass"))["access_token"]
        text = await ready(me)
        assert text.count('data-status="received"') == 6 and "Учётная запись, профиль и согласия" in text
        async with web.client(token) as c:
            assert (await c.post(f"/v1/conversations/{other_id}/messages", json={"text": "Моё письмо коллеге"})
                    ).status_code == 201
        async with web.client(other) as c:
            assert (await c.post(f"/v1/conversations/{me_id}/messages", json={"text": "Ответ коллеги мне"})
                    ).status_code == 201
        await settle(web)
        r = await me.post("/my-data/request", {})
        assert r.status_code == 303
        # asked again at once: said so in words beside the parts (unless every part came back already)
        again = await me.post("/my-data/request", {})
        if again.status_code == 409:
            assert "уже собираются" in again.text and 'id="my-data-parts"' in again.text
        await ready(me)
        r = await me.get("/my-data/export.json")
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        export = r.json()
        assert export["member_id"] == me_id
        assert [m["text"] for m in export["services"]["groups"]["personal_messages_sent"]] == ["Моё письмо коллеге"]
        page = await me.get("/my-data/export.html")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Мои данные на платформе HR-мнение" in page.text and "Моё письмо коллеге" in page.text
        assert "Отправленные личные сообщения" in page.text and me_email in page.text
        assert "<script" not in page.text and "default-src 'none'" in page.headers["content-security-policy"]
        for raw in (r.content, page.content):
            for needle in ("Ответ коллеги мне", other_name, other_email, other_id):
                assert needle.encode() not in raw, needle
        saved = await me.get("/my-data/export.html?download=true")
        assert 'filename="my-data.html"' in saved.headers["content-disposition"]
        await me.get("/lang/en?next=/my-data")
        page = await me.get("/my-data/export.html")
        assert "My data on the HR-mnenie platform" in page.text and "Personal messages sent" in page.text
        assert json.loads((await me.get("/my-data/export.json")).text)["member_id"] == me_id


async def test_withdrawal_says_what_it_means_refuses_without_the_word_and_erases_with_it(web):
    me_id, _, me = await signed_in(web)
    async with me:
        r = await me.get("/my-data/withdraw")
        assert r.status_code == 200
        for said in ("Что удаляется", "Что остаётся, без вашего имени", "Это необратимо", "удалённый участник",
                     "впишите слово УДАЛИТЬ"):
            assert said in r.text, said
        before = await log_position(web)
        r = await me.post("/my-data/withdraw", {"confirmation": "да"})
        assert r.status_code == 422 and 'id="e-confirmation"' in r.text and "УДАЛИТЬ" in r.text
        assert await log_position(web) == before
        assert (await me.get("/my-data")).status_code == 200  # still here
        r = await me.post("/my-data/withdraw", {"confirmation": "УДАЛИТЬ"})
        assert r.status_code == 200 and "Учётная запись удалена" in r.text
        r = await me.get("/my-data")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    await settle(web)
    assert await web.services["onboarding"].vault.is_shredded(me_id)


async def test_pages_ask_to_sign_in_first(web):
    async with Visitor(web) as stranger:
        for path in ("/my-data", "/my-data/withdraw", "/my-data/export.json", "/my-data/export.html"):
            r = await stranger.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
