"""Working groups in the browser, against the real platform: a proposal approved and a request to join
decided, calls in the group's room, the map, the Main group's announcements; and the same pages as a
guest and as someone typing hostile input sees them."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime, timedelta

import pytest

from libs.contracts.subjects import event_subject
from tests.e2e.helpers import log_position
from tests.e2e.journey import admin_token, invite, login, register
from tests.platform_harness import Platform
from tests.web.test_journey import PASSWORD, colleague, sign_in, surname
from tests.web.test_web_security import HOSTILE, Visitor

MISSING = (404, 405)


async def settle_views(p: Platform, timeout: float = 10.0) -> None:
    """Wait until every read model has applied everything in the log (policies may still be at work: the
    pages read the read models, and waiting out a policy's retry would only slow the suite down)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        views = [r for svc in p.services.values() for r in svc.runners if r.c.kind == "projection"]
        statuses = [await r.status() for r in views]
        if all(s["lag"] == 0 for s in statuses):
            return
        if loop.time() > deadline:
            raise TimeoutError(f"read models did not settle: {statuses}")
        await asyncio.sleep(0.02)


_MODERATORS: dict[str, tuple[str, str]] = {}


async def a_moderator(web: Platform) -> tuple[str, str]:
    """A Main-group member given the moderator role, one for the suite: (member_id, email)."""
    if web.web_url not in _MODERATORS:
        member_id, email = await colleague(web, surname())
        async with web.client(await admin_token(web)) as c:
            r = await c.put(f"/v1/members/{member_id}/roles", json={"roles": ["moderator"]})
            assert r.status_code == 200, r.text
        _MODERATORS[web.web_url] = (member_id, email)
    return _MODERATORS[web.web_url]


async def token_of(web: Platform, email: str) -> str:
    return (await login(web, email, PASSWORD))["access_token"]


async def a_group(web: Platform, coordinator_email: str, title: str, **settings: str) -> str:
    """Proposed by this member, approved by the admin (a moderator), with these settings."""
    token = await token_of(web, coordinator_email)
    body = {"title": title, "description": "Встречаемся по четвергам.\nОнлайн.", "group_type": "practice",
            "settings": {"visibility": "main", "content": "members", "joining": "request", **settings}}
    async with web.client(token) as c:
        r = await c.post("/v1/groups", json=body)
        assert r.status_code == 201, r.text
    group_id = r.json()["group_id"]
    await settle_views(web)
    async with web.client(await admin_token(web)) as c:
        r = await c.post(f"/v1/groups/{group_id}/decision", json={"decision": "approve"})
        assert r.status_code == 200, r.text
    await settle_views(web)
    return group_id


def listed_mark(r, group_id: str) -> str | None:
    """How the directory marks this group for the person who reads it (None: not marked, or not listed)."""
    assert r.status_code == 200, r.text[:300]
    item = re.search(rf'<li class="person" data-group="{group_id}">(.*?)</li>', r.text, re.S)
    mark = item and re.search(r'class="[a-z]+ my-state">([^<]*)<', item.group(1))
    return mark.group(1) if mark else None


async def test_a_proposal_is_approved_and_a_colleagues_request_to_join_is_let_in(people, web):
    proposer_name, joiner_name = surname(), surname()
    _, proposer_email = await colleague(web, proposer_name)
    joiner_id, joiner_email = await colleague(web, joiner_name)
    _, moderator_email = await a_moderator(web)
    proposer, moderator = await people("proposer"), await people("group-moderator")
    joiner = await people("joiner", width=360, height=780)
    title = f"Исследование {proposer_name}"

    # a member proposes a research group, members-only inside, joined by request
    await sign_in(proposer, proposer_email)
    await proposer.open("/groups")
    async with proposer.page.expect_navigation():
        await proposer.page.get_by_role("link", name="Предложить группу").click()
    await proposer.shoot("propose")
    page = proposer.page
    await page.get_by_label("Название").fill(title)
    await page.get_by_label("О группе").fill("Изучаем адаптацию новичков.\nВстречи раз в две недели.")
    await page.get_by_label("Исследовательская группа").check()
    await page.get_by_label("Только участники группы", exact=True).check()
    await page.get_by_label("По заявке: координатор рассматривает каждую заявку на вступление").check()
    assert await page.locator("#f-direct").count() == 0, "only moderators create a group at once"
    await proposer.submit("Предложить", "proposed")
    group_id = page.url.rsplit("/", 1)[1]
    text = await proposer.text()
    assert "Предложение отправлено" in text and "на рассмотрении" in text and title in text, text
    assert "Исследовательская группа" in await page.locator("#group-type").inner_text()
    await settle_views(web)

    # the moderator finds it among the proposals: a decline wants a reason, an approval makes it active
    await sign_in(moderator, moderator_email)
    await moderator.open("/groups")
    assert "Предложения групп" in await moderator.page.locator("#proposals-link").inner_text()
    await moderator.page.locator("#proposals-link").click()
    await moderator.page.wait_for_url("**/groups/proposals")
    await moderator.shoot("proposals")
    card = moderator.page.locator(f"section[data-group='{group_id}']")
    assert "Изучаем адаптацию новичков" in await card.inner_text()
    proposer_link = card.locator(".proposer a")
    assert await proposer_link.inner_text() == f"Зинаида {proposer_name}"
    assert (await proposer_link.get_attribute("href") or "").startswith("/colleagues/")
    await moderator.submit(f"Отклонить — {title}", "decline-without-reason")
    assert "Укажите причину" in await moderator.page.locator(f"section[data-group='{group_id}']").inner_text()
    await moderator.submit(f"Одобрить — {title}", "approved")
    assert "Группа одобрена" in await moderator.text()
    assert await moderator.page.locator(f"section[data-group='{group_id}']").count() == 0
    await settle_views(web)

    # a colleague finds it, sees no members and no call room from outside, and asks to join
    await sign_in(joiner, joiner_email)
    await joiner.open("/groups")
    await joiner.page.get_by_label("Название группы").fill(proposer_name.upper())
    await joiner.submit("Найти", "groups-found")
    found = joiner.page.locator("#groups li")
    assert await found.count() == 1 and "Исследовательская группа" in await found.inner_text()
    async with joiner.page.expect_navigation():
        await found.get_by_role("link").click()
    await joiner.shoot("group-outside")
    assert await joiner.page.locator("#members-hidden").is_visible()
    assert await joiner.page.locator("#group-members, #room-link").count() == 0
    assert await joiner.page.locator("#proposer").inner_text() == f"Зинаида {proposer_name}"
    await joiner.page.get_by_label("Сообщение координатору (необязательно)").fill(
        "Веду адаптацию в «Уралхиммаше»,\nготова делиться опытом.")
    await joiner.submit("Подать заявку на вступление", "asked")
    assert "Заявка на вступление отправлена" in await joiner.text()
    assert await joiner.page.locator("#my-state").inner_text() == "Ваша заявка ждёт решения координатора."
    await settle_views(web)

    # the proposer, now its coordinator, sees the request with its message and lets the colleague in
    await proposer.open(f"/groups/{group_id}")
    assert "Вы координатор этой группы" in await proposer.text()
    assert "Заявки на вступление: 1" in await proposer.page.locator("#requests-link").inner_text()
    async with proposer.page.expect_navigation():
        await proposer.page.locator("#requests-link").click()
    await proposer.shoot("requests")
    request = proposer.page.locator(f"li[data-member='{joiner_id}']")
    shown = await request.inner_text()
    assert f"Зинаида {joiner_name}" in shown and "готова делиться опытом" in shown, shown
    assert await request.get_by_role("link").get_attribute("href") == f"/colleagues/{joiner_id}"
    # the same page open on another device: a decision there after this one gets a message, not an error
    async with Visitor(web) as other_device:
        await other_device.sign_in(proposer_email)
        assert "готова делиться опытом" in (await other_device.get(f"/groups/{group_id}/requests")).text
        await proposer.submit(f"Принять — Зинаида {joiner_name}", "request-approved")
        assert "Заявка принята" in await proposer.text()
        assert await proposer.page.locator("#requests-empty").is_visible()
        await settle_views(web)
        r = await other_device.post(f"/groups/{group_id}/requests/{joiner_id}",
                                    {"decision": "reject", "reason": "Мест нет"})
        assert r.status_code == 409 and "Эту заявку уже рассмотрел другой координатор" in r.text, r.text[:500]

    # the colleague's page still offers to withdraw the request: clicked now, it leaves them in the group
    assert await joiner.page.locator("#my-state").inner_text() == "Ваша заявка ждёт решения координатора."
    await joiner.submit("Отозвать заявку", "stale-withdraw")
    assert joiner.page.url.endswith(f"/groups/{group_id}") and "Вы уже участник группы" in await joiner.text()
    assert await joiner.page.get_by_role("button", name="Выйти из группы").is_visible()

    # the colleague is in: the group's page shows its members
    await joiner.open(f"/groups/{group_id}", "group-inside")
    members = await joiner.page.locator("#group-members").inner_text()
    assert f"Зинаида {proposer_name}" in members and f"Зинаида {joiner_name}" in members, members
    assert "Вы участник этой группы" in await joiner.text()


async def test_an_invitee_declines_a_hidden_group_and_an_applicant_withdraws_a_request(people, web):
    coordinator_name = surname()
    _, coordinator_email = await colleague(web, coordinator_name)
    invitee_id, invitee_email = await colleague(web, surname())
    applicant_id, applicant_email = await colleague(web, surname())
    hidden_title, open_title = f"Закрытая {coordinator_name}", f"Открытая {coordinator_name}"
    hidden = await a_group(web, coordinator_email, hidden_title, visibility="members", joining="invitation")
    visible = await a_group(web, coordinator_email, open_title)
    async with web.client(await token_of(web, coordinator_email)) as c:
        r = await c.post(f"/v1/groups/{hidden}/invitations", json={"member_id": invitee_id})
        assert r.status_code == 200, r.text
    await settle_views(web)
    invitee = await people("invitee", width=360, height=800)
    applicant = await people("applicant")
    await asyncio.gather(sign_in(invitee, invitee_email), sign_in(applicant, applicant_email))

    # the invitee finds the hidden group in the list, marked, reads the invitation and declines it: it is gone
    await invitee.open("/groups")
    assert await invitee.page.locator(f"#groups li[data-group='{hidden}'] .my-state").inner_text() == "вас пригласили"
    async with invitee.page.expect_navigation():
        await invitee.page.locator("#groups").get_by_role("link", name=hidden_title).click()
    await invitee.shoot("invited")
    assert await invitee.page.locator("#my-state").inner_text() == "Вас пригласили в группу."
    assert await invitee.page.locator("#proposer").inner_text() == f"Зинаида {coordinator_name}"
    assert await invitee.page.get_by_role("button", name="Принять приглашение").is_visible()
    await invitee.submit("Отклонить приглашение", "declined")
    assert invitee.page.url.endswith("/groups") and "Приглашение отклонено" in await invitee.text()
    assert hidden_title not in await invitee.text()
    assert (await invitee.open(f"/groups/{hidden}", "hidden-again")).status == 404

    # the applicant asks, sees the request waiting, withdraws it and may ask again
    await applicant.open(f"/groups/{visible}")
    await applicant.submit("Подать заявку на вступление", "asked")
    assert "Ваша заявка ждёт решения координатора" in await applicant.page.locator("#my-state").inner_text()
    assert await applicant.page.get_by_role("button", name="Принять приглашение").count() == 0
    await settle_views(web)
    await applicant.open("/groups")
    mark = applicant.page.locator(f"#groups li[data-group='{visible}'] .my-state")
    assert await mark.inner_text() == "заявка отправлена"
    async with applicant.page.expect_navigation():
        await applicant.page.locator("#groups").get_by_role("link", name=open_title).click()
    await applicant.submit("Отозвать заявку", "withdrawn")
    assert applicant.page.url.endswith(f"/groups/{visible}") and "Заявка отозвана" in await applicant.text()
    assert await applicant.page.locator("#join-form").is_visible()
    assert await applicant.page.locator("#my-state").count() == 0
    await settle_views(web)
    await applicant.open("/groups")
    assert await mark.count() == 0, "no longer marked in the list"
    async with Visitor(web) as coordinator:
        await coordinator.sign_in(coordinator_email)
        r = await coordinator.get(f"/groups/{visible}/requests")
        assert r.status_code == 200 and 'id="requests-empty"' in r.text and applicant_id not in r.text


async def test_a_coordinator_makes_a_group_invitation_only_invites_a_colleague_and_archives_it(web):
    """The coordinator's forms over HTTP, as the browser sends them: settings, an invitation picked from
    Colleagues and accepted on the group's page, archive only when confirmed."""
    coordinator_name, invitee_name = surname(), surname()
    _, coordinator_email = await colleague(web, coordinator_name)
    invitee_id, invitee_email = await colleague(web, invitee_name)
    group_id = await a_group(web, coordinator_email, f"Команда {coordinator_name}")
    async with Visitor(web) as coordinator, Visitor(web) as invitee:
        await coordinator.sign_in(coordinator_email)
        await invitee.sign_in(invitee_email)
        page = f"/groups/{group_id}"
        r = await coordinator.post(f"{page}/settings", {"visibility": "main", "content": "main",
                                                        "joining": "invitation"})
        assert r.status_code == 303 and r.headers["location"] == page
        r = await coordinator.get(page)
        assert "Настройки группы сохранены" in r.text and 'value="invitation" checked' in r.text
        await settle_views(web)
        r = await invitee.get(page)
        assert "по приглашению координатора" in r.text
        assert "Принять приглашение" not in r.text, "no invitation: nothing to accept"
        r = await invitee.post(f"{page}/accept", {})
        assert r.status_code == 404 and "Приглашения в эту группу нет" in r.text, "no invitation yet: said on the page"
        r = await coordinator.get(page, params={"who": invitee_name})
        assert r.status_code == 200 and f"Зинаида {invitee_name}" in r.text and f'value="{invitee_id}"' in r.text
        r = await coordinator.post(f"{page}/invite", {"member_id": invitee_id})
        assert r.status_code == 303, r.text[:300]
        await settle_views(web)
        r = await invitee.get(page)
        assert "Вас пригласили в группу" in r.text and "Принять приглашение" in r.text
        assert f'action="{page}/decline"' in r.text and 'name="state"' not in r.text
        assert listed_mark(await invitee.get("/groups"), group_id) == "вас пригласили"
        r = await invitee.post(f"{page}/accept", {})
        assert r.status_code == 303
        r = await invitee.get(page)
        assert "Вы вступили в группу" in r.text and "Вы участник этой группы" in r.text
        await settle_views(web)
        assert listed_mark(await invitee.get("/groups"), group_id) == "вы участник"
        # "decline" from a page read before accepting (another tab) does not take the member out; nor does
        # withdrawing a request, nor a page from before these had forms of their own (``state`` to leave)
        for stale, form in (("decline", {}), ("withdraw", {}), ("leave", {"state": "invited"}),
                            ("leave", {"state": "requested"})):
            r = await invitee.post(f"{page}/{stale}", form)
            assert r.status_code == 303 and r.headers["location"] == page, (stale, form)
            r = await invitee.get(page)
            assert "Вы уже участник группы" in r.text and "Вы участник этой группы" in r.text, (stale, form)
        r = await invitee.post(f"{page}/leave", {})
        assert r.status_code == 303 and r.headers["location"] == "/groups"
        assert "Вы вышли из группы" in (await invitee.get("/groups")).text
        await settle_views(web)
        r = await coordinator.post(f"{page}/archive", {})
        assert r.status_code == 422 and "Подтвердите перевод в архив" in r.text
        r = await coordinator.post(f"{page}/archive", {"confirm": "yes"})
        assert r.status_code == 303
        r = await coordinator.get(page)
        assert "Группа переведена в архив" in r.text and "в архиве" in r.text
        assert 'id="manage"' not in r.text and 'id="call-form"' not in r.text, "an archive takes no changes"


async def test_a_moderator_declines_a_proposal_on_its_page_and_its_author_reads_why(web):
    _, author_email = await colleague(web, surname())
    _, moderator_email = await a_moderator(web)
    async with Visitor(web) as author, Visitor(web) as moderator:
        await author.sign_in(author_email)
        await moderator.sign_in(moderator_email)
        r = await author.post("/groups/new", {"title": "Ещё одна игровая команда", "group_type": "game_team",
                                              "visibility": "main", "content": "main", "joining": "open"})
        assert r.status_code == 303
        page = r.headers["location"]
        await settle_views(web)
        r = await moderator.get(page)
        assert r.status_code == 200 and "Решение по предложению" in r.text
        r = await moderator.post(f"{page}/decision", {"decision": "decline", "reason": "Такая команда уже есть"})
        assert r.status_code == 303 and r.headers["location"] == page
        await settle_views(web)
        r = await author.get(page)
        assert "Предложение отклонено модератором" in r.text and "Такая команда уже есть" in r.text
        assert "Решение по предложению" not in r.text and 'id="membership"' not in r.text


def _tomorrow_evening(web: Platform) -> datetime:
    zone = web.web_settings.zone
    return (datetime.now(zone) + timedelta(days=1)).replace(hour=18, minute=30, second=0, microsecond=0)


async def test_members_schedule_calls_in_their_room_and_outsiders_see_neither(people, web):
    coordinator_name = surname()
    _, coordinator_email = await colleague(web, coordinator_name)
    _, outsider_email = await colleague(web, surname())
    group_id = await a_group(web, coordinator_email, f"Созвоны {coordinator_name}", content="members")
    async with web.client(await token_of(web, coordinator_email)) as c:
        page = (await c.get(f"/v1/groups/{group_id}")).json()
        probe = await c.post(f"/v1/groups/{group_id}/calls", json={})
    if "calls" not in page or "room_url" not in page:
        pytest.skip("GET /v1/groups/{id} has no room_url and calls yet")
    if probe.status_code in MISSING:
        pytest.skip(f"POST /v1/groups/{{id}}/calls answers {probe.status_code}: not built yet")

    coordinator = await people("call-coordinator", width=360, height=800)
    await sign_in(coordinator, coordinator_email)
    await coordinator.open(f"/groups/{group_id}", "calls-none")
    room = await coordinator.page.locator("#room-link").get_attribute("href")
    assert room and room.startswith(("https://", "http://")), room
    assert "Запланированных созвонов нет" in await coordinator.text()
    # a time already past is refused next to its field; what was typed stays
    form = coordinator.page.locator("#call-form")
    await form.get_by_label("Тема созвона").fill("Разбор кейсов адаптации")
    await form.get_by_label("Дата и время").fill("2020-01-15T18:30")
    await coordinator.submit("Запланировать созвон", "call-past")
    assert await coordinator.page.locator("#call-form .error, #form-error").count() >= 1
    assert await form.get_by_label("Тема созвона").input_value() == "Разбор кейсов адаптации"
    when = _tomorrow_evening(web)
    await form.get_by_label("Дата и время").fill(when.strftime("%Y-%m-%dT%H:%M"))
    await form.get_by_label("Длительность, минут").fill("90")
    await coordinator.submit("Запланировать созвон", "call-scheduled")
    assert "Созвон запланирован" in await coordinator.text()
    call = coordinator.page.locator("#call-list li")
    shown = await call.inner_text()
    assert "Разбор кейсов адаптации" in shown and when.strftime("%d.%m.%Y 18:30 (UTC+05:00)") in shown, shown
    assert "90 мин" in shown
    await settle_views(web)

    # a Main-group member outside the group: no member list, no room, no calls
    outsider = await people("call-outsider")
    await sign_in(outsider, outsider_email)
    await outsider.open(f"/groups/{group_id}", "calls-outside")
    assert await outsider.page.locator("#members-hidden").is_visible()
    assert await outsider.page.locator("#calls-hidden").is_visible()
    assert await outsider.page.locator("#room-link, #call-list, #call-form").count() == 0
    content = await outsider.page.content()
    assert "Разбор кейсов адаптации" not in content and room not in content

    # the one who scheduled it cancels it
    await coordinator.submit("Отменить — Разбор кейсов адаптации", "call-cancelled")
    assert "Созвон отменён" in await coordinator.text()
    assert await coordinator.page.locator("#call-list").count() == 0


async def group_position(web: Platform, group_id: str) -> int:
    """The last event of this group in the log: unchanged, nothing was done to it."""
    return await web.services["groups"].events.last_seq_of(event_subject("groups", "working_group", group_id))


async def test_a_coordinator_removes_a_member_only_with_a_reason_and_ticked_and_the_member_sees_no_more(people, web):
    coordinator_name, member_name = surname(), surname()
    coordinator_id, coordinator_email = await colleague(web, coordinator_name)
    member_id, member_email = await colleague(web, member_name)
    group_id = await a_group(web, coordinator_email, f"Исключение {coordinator_name}", content="members",
                             joining="open")
    async with web.client(await token_of(web, member_email)) as c:
        assert (await c.post(f"/v1/groups/{group_id}/join", json={})).status_code == 200
    await settle_views(web)
    coordinator = await people("remover", width=360, height=800)
    await sign_in(coordinator, coordinator_email)
    await coordinator.open(f"/groups/{group_id}", "members")
    page = coordinator.page
    mine = page.locator(f"#group-members li[data-member='{coordinator_id}']")
    assert "координатор группы" in await mine.inner_text()
    assert await mine.locator("details, form").count() == 0, "no control to remove oneself"
    theirs = page.locator(f"#group-members li[data-member='{member_id}']")
    assert await theirs.locator(".coordinator-mark").count() == 0
    assert await theirs.locator("form[action$='/appoint']").count() == 0, "appointing is the moderators'"
    await theirs.locator("summary").click()

    # ticked but without a reason: said next to the reason, and the member stays
    before = await group_position(web, group_id)
    await theirs.get_by_label(f"Да, исключить из группы: Зинаида {member_name}").check()
    await coordinator.submit(f"Исключить — Зинаида {member_name}", "remove-no-reason")
    reason = theirs.get_by_label("Причина исключения")
    assert await reason.get_attribute("aria-invalid") == "true"
    assert await page.locator(f"#e-remove-reason-{member_id}").inner_text() == "Укажите причину исключения."
    assert await page.evaluate("document.activeElement.id") == f"remove-reason-{member_id}"
    assert await group_position(web, group_id) == before, "nothing was done"

    # with a reason but not ticked: asked to confirm, the reason kept; then ticked, the member is out
    await reason.fill("Не появляется на встречах\nтри месяца")
    await coordinator.submit(f"Исключить — Зинаида {member_name}", "remove-unconfirmed")
    assert "Подтвердите исключение" in await theirs.inner_text()
    assert await reason.input_value() == "Не появляется на встречах\nтри месяца"
    assert await group_position(web, group_id) == before
    await theirs.get_by_label(f"Да, исключить из группы: Зинаида {member_name}").check()
    await coordinator.submit(f"Исключить — Зинаида {member_name}", "removed")
    assert "Участник исключён из группы" in await coordinator.text()
    assert await theirs.count() == 0
    await settle_views(web)

    # the member is outside now: no member list, no room, no calls
    async with Visitor(web) as former:
        await former.sign_in(member_email)
        r = await former.get(f"/groups/{group_id}")
        assert r.status_code == 200 and 'id="members-hidden"' in r.text and 'id="calls-hidden"' in r.text
        assert 'id="group-members"' not in r.text and 'id="room-link"' not in r.text
        assert 'id="past-calls-link"' not in r.text
        assert (await former.get(f"/groups/{group_id}/calls/past")).status_code == 403


async def test_a_moderator_appoints_a_coordinator_and_a_member_can_neither_see_nor_forge_it(web):
    coordinator_name, member_name = surname(), surname()
    coordinator_id, coordinator_email = await colleague(web, coordinator_name)
    member_id, member_email = await colleague(web, member_name)
    _, moderator_email = await a_moderator(web)
    group_id = await a_group(web, coordinator_email, f"Назначения {coordinator_name}", content="members",
                             joining="open")
    async with web.client(await token_of(web, member_email)) as c:
        assert (await c.post(f"/v1/groups/{group_id}/join", json={})).status_code == 200
    async with web.client(await token_of(web, coordinator_email)) as c:
        starts = _tomorrow_evening(web).isoformat()
        r = await c.post(f"/v1/groups/{group_id}/calls", json={"topic": "Будущий созвон", "starts_at": starts})
        assert r.status_code == 201, r.text
    await settle_views(web)
    page = f"/groups/{group_id}"
    async with Visitor(web) as member, Visitor(web) as moderator:
        await member.sign_in(member_email)
        await moderator.sign_in(moderator_email)

        # a plain member: the marks, no controls; forged forms get the page that says no and change nothing
        r = await member.get(page)
        assert r.status_code == 200 and "координатор группы" in r.text
        assert "/remove" not in r.text and "/appoint" not in r.text and "/dismiss" not in r.text
        assert 'id="requests-link"' not in r.text
        before = await group_position(web, group_id)
        for path, form in ((f"members/{coordinator_id}/remove", {"reason": "Захват группы", "confirm": "yes"}),
                           (f"members/{coordinator_id}/remove", {}),
                           (f"coordinators/{member_id}/appoint", {}),
                           (f"coordinators/{coordinator_id}/dismiss", {})):
            r = await member.post(f"{page}/{path}", form)
            assert r.status_code == 403 and "Нет доступа" in r.text, (path, form, r.status_code)
        assert await group_position(web, group_id) == before, "a forged form changed nothing"

        # the moderator appoints the member, who then runs the group: the requests link is theirs
        r = await moderator.get(page)
        assert f'action="{page}/coordinators/{member_id}/appoint"' in r.text
        assert f'action="{page}/coordinators/{coordinator_id}/dismiss"' in r.text
        r = await moderator.post(f"{page}/coordinators/{member_id}/appoint", {})
        assert r.status_code == 303 and r.headers["location"] == page
        assert "Участник назначен координатором группы" in (await moderator.get(page)).text
        await settle_views(web)
        r = await member.get(page)
        assert 'id="requests-link"' in r.text and "Вы координатор этой группы" in r.text
        assert f'action="{page}/members/{coordinator_id}/remove"' in r.text
        assert f'action="{page}/members/{member_id}/remove"' not in r.text, "never oneself"
        assert "/appoint" not in r.text and "/dismiss" not in r.text, "appointing is the moderators'"
        r = await moderator.post(f"{page}/coordinators/{member_id}/dismiss", {})
        assert r.status_code == 303
        await settle_views(web)
        assert 'id="requests-link"' not in (await member.get(page)).text

        # past calls: none yet, and the call still ahead is not among them
        r = await member.get(page)
        assert f'href="{page}/calls/past"' in r.text and "Будущий созвон" in r.text
        r = await member.get(f"{page}/calls/past")
        assert r.status_code == 200 and "Прошедших созвонов нет" in r.text and "Будущий созвон" not in r.text
        await member.get(f"/lang/en?next={page}/calls/past")
        assert "No calls have taken place yet" in (await member.get(f"{page}/calls/past")).text


async def test_the_map_shows_a_picture_that_loads_and_the_same_as_a_list(people, web):
    name = surname()
    _, email = await colleague(web, name)
    title = f"Карта {name}"
    group_id = await a_group(web, email, title)
    async with web.client(await token_of(web, email)) as c:
        listed, drawn = await c.get("/v1/groups/map"), await c.get("/v1/groups/map.svg")
    if listed.status_code in MISSING or drawn.status_code in MISSING:
        pytest.skip(f"GET /v1/groups/map answers {listed.status_code}, /v1/groups/map.svg {drawn.status_code}: "
                    "not built yet")
    person = await people("map", width=360, height=800)
    await sign_in(person, email)
    await person.open("/groups")
    async with person.page.expect_navigation():
        await person.page.get_by_role("link", name="Карта рабочих групп").click()
    image = person.page.locator("#map-image")
    await person.page.wait_for_function("document.getElementById('map-image').complete")
    await person.shoot("map")
    assert await image.evaluate("i => i.naturalWidth") > 0, "the map's picture loads"
    assert await image.get_attribute("alt")
    item = person.page.locator(f"#map-list li[data-group='{group_id}']")
    shown = await item.inner_text()
    assert title in shown and f"Зинаида {name}" in shown and "Участников: 1" in shown, shown
    # the picture is served by the web client as an SVG with a policy of its own that allows no script
    async with Visitor(web) as v:
        await v.sign_in(email)
        r = await v.get("/groups/map.svg")
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        assert r.headers.get_list("content-security-policy") == [
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"]
        assert r.headers["x-content-type-options"] == "nosniff"
    async with Visitor(web) as anonymous:
        assert (await anonymous.get("/groups/map.svg")).status_code == 401


async def test_a_moderators_announcement_is_read_by_a_member_and_withdrawn(people, web):
    _, moderator_email = await a_moderator(web)
    _, member_email = await colleague(web, surname())
    async with web.client(await token_of(web, member_email)) as c:
        probe = await c.get("/v1/announcements")
    if probe.status_code in MISSING:
        pytest.skip(f"GET /v1/announcements answers {probe.status_code}: not built yet")
    heading = f"Сбор заявок на весенний сезон {uuid.uuid4().hex[:4]}"
    moderator = await people("announcer")
    await sign_in(moderator, moderator_email)
    await moderator.open("/announcements")
    await moderator.page.get_by_label("Заголовок").fill(heading)
    await moderator.page.get_by_label("Текст объявления").fill("Коллеги!\nЗаявки принимаем до 1 февраля.")
    await moderator.submit("Опубликовать", "announced")
    assert "Объявление опубликовано" in await moderator.text()
    await settle_views(web)

    member = await people("reader", width=360, height=800)
    await sign_in(member, member_email)
    await member.page.get_by_role("link", name="Объявления").click()
    await member.page.wait_for_url("**/announcements")
    await member.shoot("announcements")
    first = member.page.locator("#announcements article").first
    shown = await first.inner_text()
    assert heading in shown and "Заявки принимаем до 1 февраля" in shown and "от модератора" in shown, shown
    assert await member.page.get_by_role("button", name=f"Снять — {heading}").count() == 0
    assert await member.page.locator("#announcement-form").count() == 0

    await moderator.page.reload()
    await moderator.submit(f"Снять — {heading}", "withdrawn")
    assert "Объявление снято" in await moderator.text()
    await settle_views(web)
    await member.page.reload()
    assert heading not in await member.text()


async def test_a_guest_is_refused_on_the_groups_pages_and_changes_nothing(web):
    inv = await invite(web, await admin_token(web))
    _, guest_email, _ = await register(web, inv["token"])
    async with Visitor(web) as guest:
        await guest.sign_in(guest_email)
        assert "/groups" not in (await guest.get("/")).text, "the navigation offers no groups to a guest"
        for path in ("/groups", "/groups/new", "/groups/proposals", "/announcements"):
            r = await guest.get(path)
            assert r.status_code == 403 and "Нет доступа" in r.text, (path, r.status_code)
        before = await log_position(web)
        r = await guest.post("/groups/new", {"title": "Гостевая", "group_type": "research"})
        assert r.status_code == 403 and "Нет доступа" in r.text
        assert await log_position(web) == before


async def test_hostile_input_in_the_groups_forms_gets_a_page_never_a_crash(web):
    _, email = await colleague(web, surname())
    group_id = await a_group(web, email, f"Стойкость {uuid.uuid4().hex[:6]}")
    async with Visitor(web) as v:
        await v.sign_in(email)
        for value in HOSTILE:
            r = await v.get("/groups", params={"q": value, "group_type": value})
            assert r.status_code in (200, 422), (value, r.status_code)
            assert "<script>alert(1)</script>" not in r.text and "Traceback" not in r.text
            r = await v.post("/groups/new", {"title": value, "description": value, "group_type": value,
                                             "visibility": value, "content": value, "joining": value,
                                             "direct": value})
            assert r.status_code in (413, 422), (value, r.status_code, r.text[:300])
            if r.status_code == 422:
                assert 'class="error"' in r.text or "error-box" in r.text
            assert "<script>alert(1)</script>" not in r.text
            r = await v.get("/announcements", params={"cursor": value})
            assert r.status_code in (200, 422), (value, r.status_code)
            assert "<script>alert(1)</script>" not in r.text
            r = await v.post(f"/groups/{group_id}/calls", {"topic": value, "starts_at": value,
                                                            "duration_minutes": value})
            assert r.status_code in (404, 405, 413, 422), (value, r.status_code)
            assert "<script>alert(1)</script>" not in r.text
        # a title that is only markup is kept as text
        r = await v.post("/groups/new", {"title": "<script>alert(1)</script>", "group_type": "research"})
        assert r.status_code == 303, r.text[:300]
        r = await v.get(r.headers["location"])
        assert r.status_code == 200 and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
        assert "<script>alert(1)</script>" not in r.text
        for path in ("/groups/%00", "/groups/..%2F..%2Fetc", "/groups/" + "x" * 500, "/groups/*/requests",
                     f"/groups/{uuid.uuid4().hex}", "/groups/map.svg%00"):
            r = await v.get(path)
            assert r.status_code in (403, 404), (path, r.status_code)
            assert "text/html" in r.headers["content-type"] and "Traceback" not in r.text
