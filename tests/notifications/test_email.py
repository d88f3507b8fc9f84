"""Notifications by e-mail end to end: real HTTP, NATS JetStream, SQLite and a real SMTP server (aiosmtpd)
started here. A grant sends the newcomer exactly one e-mail in their language, also when the grant is
delivered again to a restarted service; during quiet hours it waits and goes after them; a kind turned
off sends nothing (and tells nothing in the app); a day's digest gathers a member's notifications into
one e-mail the next morning; the mail server down and back: nothing lost, nothing sent twice, readiness
says why while it lasts; an unsubscribe link works without signing in, and only for its member and kind.

The notifications service runs with a clock of its own (``Service.clock``) the tests move: a night and a
next morning come at once."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx
import pytest
from aiosmtpd.controller import Controller

from libs.contracts.notifications import KINDS
from libs.contracts.subjects import EVENTS_STREAM
from libs.kit.natsserver import free_port
from services.notifications.domain import PREFERENCES, zone_of
from tests.e2e.helpers import log_position, settle
from tests.e2e.journey import FULL_PROFILE, admin_token, invite, register
from tests.e2e.test_working_groups import ok
from tests.platform_harness import Platform

YEKT = zone_of("Asia/Yekaterinburg")
NTF = "notifications"


class Mailbox:
    """What the SMTP server received: (recipients, parsed message)."""

    def __init__(self) -> None:
        self.received: list[tuple[tuple[str, ...], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.received.append((tuple(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.received if address in rcpt]


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller:
            self._controller.stop()
            self._controller = None


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def set_clock(p: Platform, at: datetime) -> None:
    """The notifications service's "now" is ``at`` and runs on from there."""
    offset = at - datetime.now(UTC)
    p.services[NTF].clock = lambda: datetime.now(UTC) + offset


def local(days: int, hour: int, minute: int = 0) -> datetime:
    """``days`` from today, at this time in Yekaterinburg."""
    today = datetime.now(YEKT).date() + timedelta(days=days)
    return datetime(today.year, today.month, today.day, hour, minute, tzinfo=YEKT)


@pytest.fixture(scope="module")
async def mail(platform, smtp):
    """The shared platform's notifications service, given the test mail server (and given back after)."""
    saved = platform.settings[NTF]
    platform.settings[NTF] = saved.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_tls": "none", "web_url": "https://hr.test",
        "api_url": platform.base_url,
        "mail_first_backoff_s": 0.2, "mail_max_backoff_s": 1.0, "smtp_timeout_s": 5.0})
    await platform.stop_service(NTF)
    await platform.start_service(NTF)
    set_clock(platform, local(0, 12))
    yield smtp.mailbox
    platform.settings[NTF] = saved
    await platform.stop_service(NTF)
    await platform.start_service(NTF)


@pytest.fixture(scope="module")
async def admin(platform):
    return await admin_token(platform)


async def newcomer(p: Platform, admin: str, prefs: dict | None = None) -> tuple[str, str, str]:
    """Registered, rules read, profile complete, waiting for the moderators; with these preferences."""
    inv = await invite(p, admin)
    member_id, address, token = await register(p, inv["token"], email=f"n-{uuid.uuid4().hex[:10]}@example.ru")
    await ok(p, token, "POST", "/v1/me/rules-acknowledgement")
    await ok(p, token, "PUT", "/v1/me/profile", FULL_PROFILE)
    if prefs is not None:
        await ok(p, token, "PUT", "/v1/me/notification-preferences", prefs)
    return member_id, address, token


async def grant(p: Platform, admin: str, member_id: str) -> None:
    await ok(p, admin, "POST", f"/v1/moderation/{member_id}/decision", {"decision": "grant"})


async def mails_to(mailbox: Mailbox, address: str, count: int, timeout: float = 10.0) -> list[EmailMessage]:
    """Wait until ``count`` e-mails reached ``address`` (more fail the test at once)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        got = mailbox.to(address)
        assert len(got) <= count, [m["Subject"] for m in got]
        if len(got) == count:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"{len(mailbox.to(address))} e-mails to {address}, expected {count}")


async def nothing_more(mailbox: Mailbox, address: str, count: int, seconds: float = 2.5) -> None:
    """Timers tick every second: a few ticks without another e-mail."""
    await asyncio.sleep(seconds)
    assert len(mailbox.to(address)) == count, [m["Subject"] for m in mailbox.to(address)]


async def notifications_of(p: Platform, token: str, lang: str | None = None) -> dict:
    async with p.client(token, lang=lang) as c:
        r = await c.get("/v1/notifications")
        assert r.status_code == 200, r.text
        return r.json()


async def recorded_sent(p: Platform, token: str, count: int = 1) -> dict:
    """The member's list once ``count`` of its e-mails are recorded sent (the record follows the server's
    acceptance by a moment)."""
    for _ in range(100):
        page = await notifications_of(p, token, "en")
        if sum(i["email"] == "sent" for i in page["items"]) >= count:
            return page
        await asyncio.sleep(0.05)
    raise AssertionError(f"not recorded sent: {page}")


def parts(message: EmailMessage) -> tuple[str, str]:
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())


async def rewind_and_restart(p: Platform, consumer: str, to_seq: int) -> None:
    """The service goes down; when it comes back its policy takes the log again from ``to_seq`` + 1 (as after a
    crash between a policy's effects and its acknowledgement)."""
    svc = p.services[NTF]
    runner = next(r for r in svc.runners if r.c.name == consumer)
    fence = runner.fence
    await runner.stop()
    await svc.js.delete_consumer(EVENTS_STREAM, runner.durable)
    await svc.store.set_checkpoint(runner.checkpoint_name, to_seq, fence)
    clock = svc.clock
    await p.stop_service(NTF)
    await p.start_service(NTF)
    p.services[NTF].clock = clock


async def test_a_grant_sends_one_email_in_the_members_language_across_redelivery_and_restart(platform, mail, admin):
    set_clock(platform, local(0, 12))
    member_id, address, token = await newcomer(platform, admin, {"language": "en"})
    before = await log_position(platform)
    await grant(platform, admin, member_id)
    [message] = await mails_to(mail, address, 1)
    assert message["Subject"] == "You have been admitted to the Main group"
    assert message["Content-Language"] == "en"
    text, html = parts(message)
    assert "Open: https://hr.test/" in text and "You receive this as a member" in text
    assert '<html lang="en">' in html and "admitted" in html
    assert message["List-Unsubscribe"].startswith(f"<{platform.base_url}/v1/notifications/unsubscribe?token=")
    assert "https://hr.test/notifications/unsubscribe?token=" in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    page = await recorded_sent(platform, token)  # the server took it a moment before the outbox recorded it
    [item] = page["items"]
    assert (item["kind"], item["read"], item["email"], page["unread"]) == ("access_granted", False, "sent", 1)
    assert message["Message-ID"] == f"<{item['notification_id']}@hr-mnenie.local>"

    # the grant delivered again to a restarted service (and every later event of the log with it)
    await rewind_and_restart(platform, "tell_onboarding", before)
    await settle(platform)
    await nothing_more(mail, address, 1)
    page = await notifications_of(platform, token)
    assert [i["notification_id"] for i in page["items"]] == [item["notification_id"]]
    assert page["items"][0]["title"] == "Вам открыт доступ в Главную группу сообщества"

    async with platform.client(token) as c:
        r = await c.post("/v1/notifications/read", json={})
        assert r.status_code == 200 and r.json() == {"marked": 1, "unread": 0}, r.text
        r = await c.post("/v1/notifications/read", json={"notification_ids": ["nobody-s"]})
        assert r.status_code == 404 and r.json()["title"] == "Такого уведомления нет.", r.text
    async with platform.client(token, lang="en") as c:
        r = await c.post("/v1/notifications/read", json={"notification_ids": ["nobody-s"]})
        assert r.status_code == 404 and r.json()["title"] == "There is no such notification.", r.text


async def test_during_quiet_hours_the_email_waits_and_goes_after_them(platform, mail, admin):
    set_clock(platform, local(0, 12))
    member_id, address, token = await newcomer(platform, admin)  # never chose: Russian, quiet 22:00-08:00
    set_clock(platform, local(0, 23))
    await grant(platform, admin, member_id)
    await settle(platform)
    await nothing_more(mail, address, 0)
    [item] = (await notifications_of(platform, token))["items"]
    assert item["email"] == "queued"  # in the app at once, the e-mail waits
    set_clock(platform, local(1, 7, 59))
    await nothing_more(mail, address, 0, seconds=1.5)
    set_clock(platform, local(1, 8))
    [message] = await mails_to(mail, address, 1)
    assert message["Subject"] == "Вам открыт доступ в Главную группу сообщества"
    assert message["Content-Language"] == "ru"
    assert "Открыть: https://hr.test/" in parts(message)[0]
    await nothing_more(mail, address, 1)
    set_clock(platform, local(0, 12))


async def test_a_kind_turned_off_sends_nothing(platform, mail, admin):
    set_clock(platform, local(0, 12))
    member_id, address, token = await newcomer(platform, admin, {"channels": {"access_granted": "off"}})
    got = await ok(platform, token, "GET", "/v1/me/notification-preferences")
    assert {k["kind"]: k["channel"] for k in got["kinds"]}["access_granted"] == "off"
    assert got["email_available"] and got["address_known"]
    await grant(platform, admin, member_id)
    await settle(platform)
    await nothing_more(mail, address, 0)
    assert (await notifications_of(platform, token))["items"] == []


async def test_in_the_app_only_sends_no_email_but_lists_it(platform, mail, admin):
    set_clock(platform, local(0, 12))
    member_id, address, token = await newcomer(platform, admin, {"channels": {"access_granted": "in_app"}})
    await grant(platform, admin, member_id)
    await settle(platform)
    await nothing_more(mail, address, 0, seconds=1.5)
    [item] = (await notifications_of(platform, token))["items"]
    assert (item["kind"], item["email"]) == ("access_granted", None)


async def test_a_days_digest_gathers_a_members_notifications_in_one_email(platform, mail, admin):
    set_clock(platform, local(0, 12))
    coordinator, address, coordinator_token = await newcomer(platform, admin, {
        "channels": {"join_request": "digest"}, "language": "en"})
    await grant(platform, admin, coordinator)
    await mails_to(mail, address, 1)  # the grant itself, at once
    body = {"title": f"Дайджест {uuid.uuid4().hex[:6]}", "description": "", "group_type": "research"}
    group_id = (await ok(platform, coordinator_token, "POST", "/v1/groups", body))["group_id"]
    await ok(platform, admin, "POST", f"/v1/groups/{group_id}/decision", {"decision": "approve"})
    askers = []
    for _ in range(2):
        member_id, _, token = await newcomer(platform, admin, {"channels": {"access_granted": "in_app"}})
        await grant(platform, admin, member_id)
        await ok(platform, token, "POST", f"/v1/groups/{group_id}/join", {"message": "Хочу участвовать"})
        askers.append(member_id)
    await settle(platform)
    page = await notifications_of(platform, coordinator_token, "en")
    requests = [i for i in page["items"] if i["kind"] == "join_request"]
    assert len(requests) == 2 and all(i["email"] == "digest" for i in requests), page
    assert requests[0]["title"] == f"A request to join \"{body['title']}\""
    await nothing_more(mail, address, 1)
    set_clock(platform, local(1, 8))
    [_, digest] = await mails_to(mail, address, 2)
    assert digest["Subject"] == f"Your notifications of {local(0, 12).date().isoformat()}"
    text, html = parts(digest)
    assert text.count(f"A request to join \"{body['title']}\"") == 2, text
    assert html.count(f"/groups/{group_id}") == 2
    await nothing_more(mail, address, 2)
    set_clock(platform, local(0, 12))


async def test_the_mail_server_down_then_back_loses_nothing_and_sends_nothing_twice(platform, mail, smtp, admin):
    """Down for a while (and the service restarted meanwhile): readiness says why; back, each e-mail goes once."""
    set_clock(platform, local(0, 12))
    people = [await newcomer(platform, admin) for _ in range(3)]
    smtp.stop()
    try:
        for member_id, _, _ in people:
            await grant(platform, admin, member_id)
        await settle(platform)
        async with platform.client() as c:
            for _ in range(100):
                r = await c.get("/readyz")
                ours = next(s for s in r.json()["services"] if s["service"] == NTF)
                if not ours["ready"]:
                    break
                await asyncio.sleep(0.1)
        assert r.status_code == 503, r.text
        assert ours["stalled"] == ["mail_server"], ours
        [channel] = [c for c in ours["consumers"] if c["name"] == "mail_server"]
        assert channel["stalled"]["reason"] and channel["lag"] >= 3, channel
        await asyncio.sleep(3)  # a few failed attempts, backing off
        # and the service restarted meanwhile: the queued e-mails are in the log, not in its memory
        clock = platform.services[NTF].clock
        await platform.stop_service(NTF)
        await platform.start_service(NTF)
        platform.services[NTF].clock = clock
        await asyncio.sleep(2)
        assert all(len(mail.to(address)) == 0 for _, address, _ in people)
    finally:
        smtp.start()
    for _, address, _ in people:
        await mails_to(mail, address, 1, timeout=15)
    for _, address, _ in people:
        await nothing_more(mail, address, 1, seconds=0)
    await asyncio.sleep(2)
    assert all(len(mail.to(address)) == 1 for _, address, _ in people)
    async with platform.client() as c:
        for _ in range(100):
            r = await c.get("/readyz")
            ours = next(s for s in r.json()["services"] if s["service"] == NTF)
            if ours["ready"]:
                break
            await asyncio.sleep(0.1)
        assert ours["ready"], ours


async def test_an_unsubscribe_link_works_without_signing_in_for_its_member_and_kind(platform, mail, admin):
    set_clock(platform, local(0, 12))
    member_id, address, token = await newcomer(platform, admin)
    await grant(platform, admin, member_id)
    [message] = await mails_to(mail, address, 1)
    one_click = message["List-Unsubscribe"].strip("<>")
    link_token = one_click.split("token=", 1)[1]
    assert f"https://hr.test/notifications/unsubscribe?token={link_token}" in parts(message)[0]
    async with httpx.AsyncClient() as c:  # what a mail client does: one POST, nobody signed in
        r = await c.post(one_click, data={"List-Unsubscribe": "One-Click"})
        assert r.status_code == 200 and r.json()["channel"] == "off", r.text
    async with platform.client() as c:
        r = await c.get("/v1/notifications/unsubscribe", params={"token": link_token})
        assert r.status_code == 200 and r.json() == {"kind": "access_granted", "channel": "off",
                                                     "name": "решение о доступе: открыт"}, r.text
        r = await c.post("/v1/notifications/unsubscribe", params={"token": link_token},
                         headers={"Accept-Language": "en"})
        assert r.status_code == 200 and r.json() == {"kind": "access_granted", "channel": "off",
                                                     "name": "access granted"}, r.text
        forged = link_token.replace("access_granted", "mention")
        r = await c.post("/v1/notifications/unsubscribe", params={"token": forged})
        assert r.status_code == 422 and "Ссылка для отписки недействительна" in r.json()["title"], r.text
    got = await ok(platform, token, "GET", "/v1/me/notification-preferences")
    channels = {k["kind"]: k["channel"] for k in got["kinds"]}
    assert channels["access_granted"] == "off" and channels["mention"] == "digest"


async def test_an_erased_member_gets_nothing_and_their_address_is_not_kept(platform, mail, admin):
    set_clock(platform, local(0, 12))
    member_id, address, token = await newcomer(platform, admin)
    set_clock(platform, local(0, 23))  # the e-mail waits for the morning...
    await grant(platform, admin, member_id)
    await settle(platform)
    svc = platform.services[NTF]
    assert await svc.store.get("contacts", member_id) is not None
    await ok(platform, admin, "DELETE", f"/v1/members/{member_id}")
    await settle(platform)
    set_clock(platform, local(1, 9))  # ...and never goes
    await nothing_more(mail, address, 0)
    assert await svc.store.get("contacts", member_id) is None
    assert await svc.store.find("notifications", {"member_id": member_id}) == []
    prefs, _ = await svc.load(PREFERENCES, member_id)
    assert prefs.erased and all(prefs.channel(kind) == "off" for kind in KINDS)  # any later cause raises nothing
    set_clock(platform, local(0, 12))


class Refusing(Mailbox):
    """A server that refuses one recipient for good and another for now, naming them as servers do."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("gone"):
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        if address.startswith("full"):
            return f"452 4.2.2 <{address}>: Mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 OK"


async def test_a_refusal_for_good_is_told_from_one_for_now_and_neither_repeats_the_address():
    from services.notifications.channels import MailServerError, Outgoing, Refused, SmtpChannel
    from services.notifications.texts import letter

    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        channel = SmtpChannel("127.0.0.1", port, sender="HR <noreply@hr.test>", tls="none", username=None,
                              password=None, timeout_s=5, domain="hr.test")
        body = letter([], "ru", "https://hr.test", None, None, subject="Проверка")
        with pytest.raises(Refused) as refused:
            await channel.deliver(Outgoing("k1", "gone@example.ru", body, "ru"))
        with pytest.raises(MailServerError) as later:
            await channel.deliver(Outgoing("k2", "full@example.ru", body, "ru"))
        assert "example.ru" not in str(refused.value) and "550" in str(refused.value)
        assert "example.ru" not in str(later.value) and "452" in str(later.value)
        assert await channel.deliver(Outgoing("k3", "fine@example.ru", body, "ru")) == "<k3@hr.test>"
    finally:
        controller.stop()


async def test_an_email_due_after_the_mail_server_was_taken_out_of_the_settings_is_dropped_and_says_so(
        platform, mail, admin):
    set_clock(platform, local(0, 12))
    member_id, address, token = await newcomer(platform, admin)
    set_clock(platform, local(0, 23))
    await grant(platform, admin, member_id)
    await settle(platform)
    with_mail = platform.settings[NTF]
    platform.settings[NTF] = with_mail.model_copy(update={"smtp_host": None})
    try:
        await platform.stop_service(NTF)
        await platform.start_service(NTF)
        set_clock(platform, local(1, 9))
        for _ in range(100):
            [item] = (await notifications_of(platform, token))["items"]
            if item["email"] != "queued":
                break
            await asyncio.sleep(0.05)
        assert item["email"] == "dropped", item
    finally:
        platform.settings[NTF] = with_mail
        await platform.stop_service(NTF)
        await platform.start_service(NTF)
        set_clock(platform, local(0, 12))
    await nothing_more(mail, address, 0, seconds=1.5)


async def test_a_members_address_that_does_not_open_holds_no_one_elses_email(platform, mail, admin, monkeypatch):
    """One member's key missing (a passing cause: tried again with the back-off, then given up) and another's
    sealed address corrupt (given up at once): each of their e-mails is dropped as address_unreadable, and the
    e-mail of a member queued after them goes all the same."""
    from libs.kit.pii import KeyUnavailable, Undecryptable
    from services.notifications.outbox import ADDRESS_TRIES
    from services.notifications.projections import address_aad

    set_clock(platform, local(0, 12))
    missing, _, missing_token = await newcomer(platform, admin)
    corrupt, _, corrupt_token = await newcomer(platform, admin)
    fine, fine_address, fine_token = await newcomer(platform, admin)
    set_clock(platform, local(0, 23))  # queued in this order for the morning: the unreadable ones first
    for member_id in (missing, corrupt, fine):
        await grant(platform, admin, member_id)
    await settle(platform)
    svc = platform.services[NTF]
    real_open, asked = svc.vault.open, {missing: 0, corrupt: 0}

    async def opening(subject, blob, aad):
        if subject in asked and aad == address_aad(subject):
            asked[subject] += 1
            raise (KeyUnavailable if subject == missing else Undecryptable)(f"made so by the test for {subject}")
        return await real_open(subject, blob, aad)

    monkeypatch.setattr(svc.vault, "open", opening)
    start = await log_position(platform)
    set_clock(platform, local(1, 9))
    [message] = await mails_to(mail, fine_address, 1, timeout=30)
    assert message["To"] == fine_address
    for token in (missing_token, corrupt_token):
        for _ in range(300):
            [item] = (await notifications_of(platform, token))["items"]
            if item["email"] != "queued":
                break
            await asyncio.sleep(0.05)
        assert item["email"] == "dropped", item
    assert asked == {missing: ADDRESS_TRIES, corrupt: 1}, asked
    await settle(platform)
    js = svc.js
    dropped = {}
    for seq in range(start + 1, await log_position(platform) + 1):
        msg = await js.get_msg(EVENTS_STREAM, seq)
        if msg.subject.startswith("hr.evt.notifications.notification.") and b'"EmailDropped"' in msg.data:
            body = json.loads(msg.data)
            dropped[body["payload"]["member_id"]] = body["payload"]["reason"]
    assert dropped == {missing: "address_unreadable", corrupt: "address_unreadable"}, dropped
    set_clock(platform, local(0, 12))
