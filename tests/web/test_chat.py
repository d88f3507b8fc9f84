"""A working group's chat and personal messages in the browser, against the real platform: what one member
writes reaches another's open page without a reload, the unread counts in the navigation follow the
member's reading on every device, threads, edits and deletions, reactions, writing from a colleague's
card, blocking and its refusal; forged forms change nothing, and a stream ends with its browser."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.helpers import log_position
from tests.platform_harness import Platform
from tests.web.conftest import open_session, seal_session
from tests.web.test_groups import a_group, settle_views, token_of
from tests.web.test_journey import colleague, sign_in, surname
from tests.web.test_layout import OPEN_DETAILS, OVERFLOW, UNLABELLED
from tests.web.test_web_security import HOSTILE, Visitor


@pytest.fixture(scope="module")
async def team(web) -> dict:
    """A group whose content only its members see, opened by its coordinator Anna, with Boris and Vera in
    it and Gleb outside: name -> (member_id, email, full name); "group" -> the group's id."""
    people = {}
    for key in ("anna", "boris", "vera", "gleb"):
        name = surname()
        member_id, email = await colleague(web, name)
        people[key] = (member_id, email, f"Зинаида {name}")
    group_id = await a_group(web, people["anna"][1], f"Чат {people['anna'][2]}", content="members", joining="open")
    for key in ("boris", "vera"):
        async with web.client(await token_of(web, people[key][1])) as c:
            assert (await c.post(f"/v1/groups/{group_id}/join", json={})).status_code == 200
    await settle_views(web)
    return {**people, "group": group_id}


async def live(person) -> None:
    """The page's live stream is open (its first event arrived)."""
    await person.page.locator("html[data-live='on']").wait_for(state="attached")


async def click(person, locator, shot: str) -> None:
    async with person.page.expect_navigation():
        await locator.click()
    await person.shoot(shot)


async def fits(person, label: str) -> None:
    """Nothing runs off the screen and every control has a label, disclosures opened."""
    await person.page.evaluate(OPEN_DETAILS)
    await person.shoot(f"{label}-open")
    assert await person.page.evaluate(OVERFLOW) <= 0, f"{label} runs off the screen"
    assert await person.page.evaluate(UNLABELLED) == [], label


async def unread_of(web: Platform, email: str, group_id: str) -> int:
    async with web.client(await token_of(web, email)) as c:
        groups = (await c.get("/v1/me/unread")).json()["groups"]
    return next(g["unread"] for g in groups if g["group_id"] == group_id)


async def test_a_message_arrives_live_and_reading_it_on_one_device_clears_the_count_on_the_other(people, web, team):
    group_id, chat = team["group"], f"/groups/{team['group']}/chat"
    _, anna_email, _ = team["anna"]
    _, boris_email, _ = team["boris"]
    _, vera_email, vera_name = team["vera"]
    anna, boris = await people("chat-anna"), await people("chat-boris")
    vera = await people("chat-vera", width=360, height=800)
    await asyncio.gather(sign_in(anna, anna_email), sign_in(boris, boris_email), sign_in(vera, vera_email))

    # Boris has the chat open, Vera her profile; the group page links the chat
    await vera.open(f"/groups/{group_id}")
    await click(vera, vera.page.locator("#chat-link"), "chat-empty")
    assert await vera.page.locator("#chat-empty").is_visible()
    await vera.open("/profile", "profile-before")
    await boris.open(chat, "chat-open")
    await asyncio.gather(live(boris), live(vera))
    assert await vera.page.locator("#unread-total").is_hidden()
    for p in (boris, vera):
        await p.page.evaluate("window.stayed = true")

    # Anna writes, naming Vera picked from the list
    await anna.open(chat)
    await anna.page.get_by_label("Сообщение в чат группы").fill("Коллеги, созвон в четверг?")
    await anna.page.get_by_label("Упомянуть").select_option(label=vera_name)
    assert vera_name in await anna.page.get_by_label("Сообщение в чат группы").input_value()
    await anna.submit("Отправить", "posted")
    posted = anna.page.locator("#messages li.message").last
    assert "Коллеги, созвон в четверг?" in await posted.inner_text()
    assert await posted.locator(".at").inner_text() == f"@{vera_name}"

    # Boris sees it on the open page, which reads it (his count never stays up); no reload
    arrived = boris.page.locator("#messages li.message", has_text="созвон в четверг")
    await arrived.wait_for()
    await boris.shoot("arrived")
    assert "Зинаида" in await arrived.locator(".author").inner_text()
    await expect(boris.page.locator("#unread-total")).to_be_hidden()
    assert await boris.page.evaluate("window.stayed") is True
    # Anna reacts: Boris's open page shows the reaction on the message, whose words stay
    message_id = (await arrived.get_attribute("id")).removeprefix("m-")
    async with web.client(await token_of(web, anna_email)) as c:
        r = await c.put(f"/v1/groups/{group_id}/messages/{message_id}/reactions", json={"reaction": "👍"})
        assert r.status_code == 200, r.text
    await expect(arrived.locator(".reaction-list")).to_contain_text("👍 1")
    assert "Коллеги, созвон в четверг?" in await arrived.locator(".text").inner_text()
    assert "Зинаида" in await arrived.locator(".author").inner_text()
    for _ in range(50):
        if await unread_of(web, boris_email, group_id) == 0:
            break
        await asyncio.sleep(0.1)
    assert await unread_of(web, boris_email, group_id) == 0, "the open page marked it read"

    # Vera's counts rise on her profile page: one unread, one mention
    await expect(vera.page.locator("#unread-total .n")).to_have_text("1")
    await expect(vera.page.locator("#unread-mentions .n")).to_have_text("1")
    await vera.shoot("counted")
    assert await vera.page.evaluate("window.stayed") is True

    # her other device shows the same, by itself and in the list of groups
    other = await people("chat-vera-other")
    await sign_in(other, vera_email)
    await other.open("/groups", "groups-unread")
    assert await other.page.locator("#unread-total .n").inner_text() == "1"
    assert await other.page.locator(f"#groups [data-unread-group='{group_id}'] .n").inner_text() == "1"
    await live(other)

    # Vera opens the chat on her phone: where the new ones begin, her mention marked; read everywhere
    await vera.open(chat, "chat-new")
    assert "Новые сообщения" in await vera.page.locator("#new-mark").inner_text()
    mention = vera.page.locator("#messages li.mention")
    assert "вас упомянули" in await mention.inner_text() and "созвон в четверг" in await mention.inner_text()
    assert await vera.page.locator("#unread-total").is_hidden()
    await expect(other.page.locator("#unread-total")).to_be_hidden()
    await expect(other.page.locator("#unread-mentions")).to_be_hidden()
    await expect(other.page.locator(f"#groups [data-unread-group='{group_id}']")).to_be_hidden()
    await other.shoot("read-elsewhere")
    await other.page.reload()
    assert await other.page.locator("#unread-total").is_hidden()
    await fits(vera, "chat-360")


async def test_a_member_replies_in_a_thread_reacts_edits_and_deletes_and_an_outsider_is_refused(people, web, team):
    group_id, chat = team["group"], f"/groups/{team['group']}/chat"
    boris = await people("thread-boris", width=360, height=800)
    await sign_in(boris, team["boris"][1])
    await boris.open(chat)
    page = boris.page
    await page.get_by_label("Сообщение в чат группы").fill("Повестка: вариант первый")
    await boris.submit("Отправить", "agenda")
    message = page.locator("#messages li.message", has_text="Повестка")
    message_id = await message.get_attribute("data-message")

    # a reaction, then the text edited
    await message.locator(".react-more summary").click()
    await click(boris, message.get_by_role("button", name="👍"), "reacted")
    mine = message.locator(".reaction-list button")
    assert await mine.inner_text() == "👍 1" and await mine.get_attribute("aria-pressed") == "true"
    await message.locator(".edit summary").click()
    await message.get_by_label("Текст сообщения").fill("Повестка: вариант второй")
    await click(boris, message.get_by_role("button", name="Сохранить"), "edited")
    assert "Сообщение изменено" in await boris.text()
    shown = await message.inner_text()
    assert "вариант второй" in shown and "вариант первый" not in shown and "(изменено)" in shown

    # a reply in its thread
    await click(boris, message.get_by_role("link", name="Ответить в ветке"), "thread")
    assert page.url.endswith(f"{chat}/threads/{message_id}")
    assert "вариант второй" in await page.locator("#thread-root").inner_text()
    await page.get_by_label("Ответ в ветке").fill("Добавлю пункт про адаптацию")
    await boris.submit("Ответить", "replied")
    reply = page.locator("#messages li.message", has_text="пункт про адаптацию")
    assert await reply.count() == 1
    await fits(boris, "thread-360")
    await click(boris, page.locator("#chat-back"), "back-to-chat")
    assert "Ответов в ветке: 1" in await message.inner_text()

    # the reply deleted: said so in its place, its controls gone
    await click(boris, message.get_by_role("link", name="Ответов в ветке: 1"), "thread-again")
    await reply.locator(".delete summary").click()
    await click(boris, reply.get_by_role("button", name="Да, удалить сообщение"), "deleted")
    assert "Сообщение удалено" in await boris.text()
    assert "пункт про адаптацию" not in await page.locator("#messages").inner_text()
    gone = page.locator("#messages li.is-deleted")
    assert await gone.locator(".deleted-note").is_visible() and await gone.locator(".message-tools").count() == 0

    # another member may neither edit nor delete it; the coordinator may delete it, not edit it
    await settle_views(web)
    async with Visitor(web) as vera, Visitor(web) as anna, Visitor(web) as gleb:
        await vera.sign_in(team["vera"][1])
        await anna.sign_in(team["anna"][1])
        await gleb.sign_in(team["gleb"][1])
        r = await vera.get(chat)
        assert r.status_code == 200 and "вариант второй" in r.text
        assert f"{message_id}/edit" not in r.text and f"{message_id}/delete" not in r.text
        r = await anna.get(chat)
        assert f"{message_id}/delete" in r.text and f"{message_id}/edit" not in r.text
        r = await vera.post(f"{chat}/{message_id}/edit", {"text": "Чужая правка", "back": chat})
        assert r.status_code == 403 and "Можно менять только свои сообщения" in r.text
        # outside the group, its chat and its threads are refused
        for path in (chat, f"{chat}/threads/{message_id}", f"{chat}?q=Повестка"):
            r = await gleb.get(path)
            assert r.status_code == 403, (path, r.status_code)
            assert "Нет доступа" in r.text and "Содержимое этой группы видят только её участники" in r.text
            assert "Повестка" not in r.text.replace("q=Повестка", "")
        assert 'id="chat-link"' not in (await gleb.get(f"/groups/{group_id}")).text
        # searching the chat finds the edited text and links to it
        r = await vera.get(chat, params={"q": "ВАРИАНТ"})
        assert r.status_code == 200 and "Найдено сообщений: 1" in r.text and f"#m-{message_id}" in r.text


async def test_a_colleague_writes_from_a_card_the_recipient_reads_blocks_and_the_refusal_is_said(people, web, team):
    anna_id, anna_email, anna_name = team["anna"]
    gleb_id, gleb_email, gleb_name = team["gleb"]
    gleb, anna = await people("dm-gleb"), await people("dm-anna", width=360, height=800)
    await asyncio.gather(sign_in(gleb, gleb_email), sign_in(anna, anna_email))
    await anna.open("/messages", "messages-before")
    await live(anna)
    before = int(await anna.page.locator("#unread-total .n").inner_text())

    # from Anna's card in Colleagues
    await gleb.open(f"/colleagues/{anna_id}")
    await click(gleb, gleb.page.locator("#write-link"), "conversation")
    assert gleb.page.url.endswith(f"/messages/{anna_id}")
    assert await gleb.page.locator("h1").inner_text() == anna_name
    await gleb.page.get_by_label("Ваше сообщение").fill("Добрый день! Можно вопрос\nпро адаптацию?")
    await gleb.submit("Отправить", "sent")
    sent = gleb.page.locator("#direct li.message").last
    assert "можно вопрос" in (await sent.inner_text()).lower() and "вы" in await sent.locator(".author").inner_text()

    # Anna's count rises where she is; her list says who wrote and how much is unread
    await expect(anna.page.locator("#unread-total .n")).to_have_text(str(before + 1))
    await anna.page.reload()
    await anna.shoot("messages-unread")
    row = anna.page.locator(f"#conversations li[data-member='{gleb_id}']")
    assert gleb_name in await row.inner_text()
    assert await row.locator(f"[data-unread-member='{gleb_id}'] .n").inner_text() == "1"

    # she reads it and blocks him (confirmed)
    await click(anna, row.get_by_role("link"), "read")
    assert "про адаптацию?" in await anna.page.locator("#direct").inner_text()
    assert await anna.page.locator("#new-mark").is_visible()
    await fits(anna, "conversation-360")
    await anna.page.reload()
    await anna.page.locator("#blocking summary").click()
    await click(anna, anna.page.get_by_role("button", name="Да, заблокировать"), "blocked")
    assert "Участник заблокирован" in await anna.text() and await anna.page.locator("#blocked-note").is_visible()

    # his next message is refused next to the form, in Russian, and what he wrote is kept
    before_refusal = await log_position(web)
    await gleb.page.get_by_label("Ваше сообщение").fill("Ответьте, пожалуйста")
    await gleb.submit("Отправить", "refused")
    assert await gleb.page.locator("#e-text").inner_text() == "Этот участник ограничил личные сообщения от вас."
    assert await gleb.page.get_by_label("Ваше сообщение").input_value() == "Ответьте, пожалуйста"
    assert await gleb.page.get_by_label("Ваше сообщение").get_attribute("aria-invalid") == "true"
    assert await log_position(web) == before_refusal

    # unblocked, he may write again
    await click(anna, anna.page.get_by_role("button", name="Разблокировать"), "unblocked")
    assert "Блокировка снята" in await anna.text()
    await gleb.submit("Отправить", "sent-again")
    assert "Ответьте, пожалуйста" in await gleb.page.locator("#direct").inner_text()


async def test_forged_chat_forms_change_nothing_hostile_input_is_text_and_a_stream_ends_with_its_browser(web, team):
    group_id, chat = team["group"], f"/groups/{team['group']}/chat"
    vera_id = team["vera"][0]
    async with web.client(await token_of(web, team["boris"][1])) as c:
        r = await c.post(f"/v1/groups/{group_id}/messages", json={"text": "Для подделок"})
        assert r.status_code == 201, r.text
        message_id = r.json()["message_id"]
    await settle_views(web)
    async with Visitor(web) as boris:
        await boris.sign_in(team["boris"][1])
        assert (await boris.get(chat)).status_code == 200
        forms = [(chat, {"text": "Подделка"}), (f"{chat}/{message_id}/edit", {"text": "Подделка"}),
                 (f"{chat}/{message_id}/delete", {}), (f"{chat}/{message_id}/react", {"reaction": "on:👍"}),
                 (f"{chat}/read", {"up_to": "1"}), (f"/messages/{vera_id}", {"text": "Подделка"}),
                 (f"/messages/{vera_id}/block", {}), (f"/messages/{vera_id}/unblock", {}),
                 (f"/messages/{vera_id}/read", {"up_to": "1"})]
        before = await log_position(web)
        for path, data in forms:
            r = await boris.post(path, data, csrf=False)
            assert r.status_code == 403 and "Форма устарела" in r.text, (path, r.status_code)
            r = await boris.post(path, data, headers={"Origin": "https://evil.example"})
            assert r.status_code == 403, (path, r.status_code)
        await settle_views(web)
        assert await log_position(web) == before, "a forged form appended nothing"

        # hostile input: a page or a refusal, never a crash; markup is shown as text
        for value in HOSTILE:
            r = await boris.get(chat, params={"q": value, "before": value[:100], "after": value[:100]})
            assert r.status_code in (200, 422), (value, r.status_code)
            assert "<script>alert(1)</script>" not in r.text and "Traceback" not in r.text
        r = await boris.post(chat, {"text": "<script>alert(1)</script>", "mention": "<b>x</b>"})
        assert r.status_code == 303, r.text[:300]
        r = await boris.get(chat)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text and "<script>alert(1)</script>" not in r.text
        for value in ("", " ", "ё" * 5000, "\u202e"):
            r = await boris.post(chat, {"text": value})
            assert r.status_code == 422 and 'id="e-text"' in r.text, (value[:10], r.status_code)

        # the stream: the page's position passed on, a reconnect's Last-Event-ID too; it ends with its browser
        relay = web._web.config.app.state
        await no_relays(relay)
        r = await boris.get(chat)
        start = r.text.split('data-stream="/stream?after=', 1)[1].split('"', 1)[0]
        assert start.isdigit()
        async with web.client(await token_of(web, team["anna"][1])) as c:
            r = await c.post(f"/v1/groups/{group_id}/messages", json={"text": "Живое сообщение"})
            assert r.status_code == 201
        events = await read_events(boris.http, f"/stream?after={start}", "message_posted")
        posted = next(e for e in events if e.get("event") == "message_posted")
        assert "Живое сообщение" in posted["data"]
        again = await read_events(boris.http, "/stream", "message_posted", {"Last-Event-ID": str(int(posted["id"]) - 1)})
        assert [e["id"] for e in again if e.get("event") == "message_posted"][:1] == [posted["id"]]
        await no_relays(relay)
        # a page open longer than its access token lives: the stream opens with the pair renewed, kept as a cookie
        data = open_session(boris.http.cookies["hrm_session"])
        data["access"] = data["access"][:-6] + "AAAAAA"
        async with httpx.AsyncClient(base_url=web.web_url, cookies={"hrm_session": seal_session(data)}) as stale:
            async with stale.stream("GET", "/stream") as r:
                assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
                renewed = open_session(r.cookies["hrm_session"])
                assert renewed["access"] != data["access"] and renewed["refresh"] != data["refresh"]
        await no_relays(relay)
        async with httpx.AsyncClient(base_url=web.web_url) as anonymous:
            r = await anonymous.get("/stream")
            assert r.status_code == 204


async def read_events(http: httpx.AsyncClient, path: str, until: str, headers: dict | None = None) -> list[dict]:
    """The events of a stream until one of kind ``until``; then the stream is dropped, as a browser leaves."""
    events, current = [], {}
    async with asyncio.timeout(10):
        async with http.stream("GET", path, headers=headers or {}) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            async for line in r.aiter_lines():
                if line:
                    key, _, value = line.partition(":")
                    current[key] = value.strip()
                    continue
                if current:
                    events.append(current)
                    if current.get("event") == until:
                        return events
                current = {}
    return events


async def no_relays(state) -> None:
    """Every stream the web client relayed has ended (and so has its stream from the gateway)."""
    for _ in range(100):
        if state.relays == 0:
            return
        await asyncio.sleep(0.05)
    assert state.relays == 0, "a relayed stream outlived its browser"
