"""The e-mail outbox: each queued e-mail (a notification's) and each day's digest leaves once.

Every e-mail is a durable timer (libs/kit/timers.py) set by the event that queued it and cancelled by the
event that records it sent or dropped; the timer's ticker is single-active among the replicas. When one is
due, the outbox loads the notification's aggregate: an e-mail already recorded sent is not sent again
(a redelivered cause, a restart, a timer fired twice). Otherwise it asks the member's preferences now
(erased, no address, the kind turned off, quiet hours begun meanwhile: dropped or deferred, recorded),
then hands the e-mail to the channel and records ``EmailSent`` once the server accepted it. The one gap
no outbox closes — the process dying between the server's acceptance and that record — sends the e-mail
again with the same Message-ID (derived from the notification id), which mail clients take as one.

A failing mail server fails the timer (it stays due and the later ones behind it) and backs off, doubling
up to the setting's maximum; meanwhile the channel's health is part of the service's status, so
readiness says the mail server is failing and why, until a send goes through. One member's address that
does not open is no reason to hold everyone's: a missing key (a passing cause: a replica behind) defers
that e-mail with the same back-off a few times, then drops it (``address_unreadable``), as a corrupt
sealed copy is dropped at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from libs.contracts import notifications as n
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Meta, Recorded
from libs.kit.logging import get_logger
from libs.kit.pii import KeyUnavailable, Undecryptable
from libs.kit.service import Service
from libs.kit.timers import Due, Timer
from services.notifications import domain as d
from services.notifications.channels import Channel, Health, Outgoing, Refused, SmtpChannel
from services.notifications.domain import DIGEST, NOTIFICATION, PREFERENCES
from services.notifications.links import unsubscribe_token
from services.notifications.projections import CONTACTS, NOTIFICATIONS, address_aad
from services.notifications.settings import Settings
from services.notifications.texts import Line, letter, word

log = get_logger(__name__)


#: how often a member's missing key defers their e-mail before it is dropped
ADDRESS_TRIES = 5


class Unreadable(Exception):
    """The address did not open: ``until`` the time to try again, None when it never will."""

    def __init__(self, until, why: str):
        super().__init__(why)
        self.until = until


class MailServerFailing(RuntimeError):
    """The mail server failed a moment ago: the outbox waits out its back-off before it tries again."""


def channel_of(settings: Settings) -> Channel | None:
    if not settings.smtp_host:
        return None
    return SmtpChannel(settings.smtp_host, settings.smtp_port, sender=settings.mail_sender, tls=settings.smtp_tls,
                       username=settings.smtp_username,
                       password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                       timeout_s=settings.smtp_timeout_s, domain=settings.mail_domain)


class Outbox:
    def __init__(self, svc: Service, settings: Settings, channel: Channel | None):
        self.svc = svc
        self.settings = settings
        self.channel = channel
        self.health = Health("mail_server")
        self._counting: asyncio.Task[int] | None = None
        self._last_pending = 0
        #: per e-mail (its key), how often its member's key was missing (in memory: a restart tries afresh)
        self._missing_key: dict[str, int] = {}

    @property
    def available(self) -> bool:
        return self.channel is not None

    async def address_of(self, member_id: str) -> str | None:
        doc = await self.svc.store.get(CONTACTS, member_id)
        if doc is None:
            return None
        return (await self.svc.vault.open(member_id, doc["sealed"], address_aad(member_id))).get("email")

    async def address_to_send(self, key: str, member_id: str, now) -> str | None:
        """``address_of`` for an e-mail due now; raises ``Unreadable`` rather than fail the timer."""
        try:
            address = await self.address_of(member_id)
        except Undecryptable as e:
            log.error("email_address_unreadable", key=key, error=str(e))
            raise Unreadable(None, str(e)) from None
        except KeyUnavailable as e:
            tries = self._missing_key[key] = self._missing_key.get(key, 0) + 1
            log.warning("email_address_key_missing", key=key, tries=tries, error=str(e))
            if tries >= ADDRESS_TRIES:
                self._missing_key.pop(key, None)
                raise Unreadable(None, str(e)) from None
            pause = min(self.settings.mail_first_backoff_s * 2 ** (tries - 1), self.settings.mail_max_backoff_s)
            raise Unreadable(now + timedelta(seconds=pause), str(e)) from None
        self._missing_key.pop(key, None)
        return address

    async def address_known(self, member_id: str) -> bool:
        return await self.svc.store.get(CONTACTS, member_id) is not None

    def unsubscribe_urls(self, member_id: str, kind: str) -> tuple[str, str]:
        """The web page a reader opens (it asks before it turns the kind off), and the gateway's address a
        mail client posts to for a one-click unsubscribe (List-Unsubscribe-Post, RFC 8058)."""
        token = unsubscribe_token(self.settings.unsubscribe_secret.get_secret_value(), member_id, kind)
        return (f"{self.settings.web_url.rstrip('/')}/notifications/unsubscribe?token={token}",
                f"{self.settings.api_url.rstrip('/')}/v1/notifications/unsubscribe?token={token}")

    async def _deliver(self, outgoing: Outgoing) -> str | None:
        """The Message-ID once the server accepted it; None when it refuses the address for good."""
        assert self.channel is not None
        if self.health.waiting():
            raise MailServerFailing(f"the mail server failed: {self.health.reason}; trying again shortly")
        try:
            mid = await self.channel.deliver(outgoing)
        except Refused as e:
            log.warning("email_refused", key=outgoing.key, error=str(e))
            self.health.recovered()  # the server answered
            return None
        except Exception as e:
            self.health.failed(e, self.settings.mail_first_backoff_s, self.settings.mail_max_backoff_s)
            raise
        self.health.recovered()
        return mid

    # ------------------------------------------------------------ one notification's e-mail

    async def when_an_email_is_due_send_it(self, timer: Timer) -> None:
        svc = self.svc
        nid = timer.key
        state, _ = await svc.load(NOTIFICATION, nid)
        if state.email != "queued":
            return  # sent, dropped, or never queued: nothing to do however often the timer fires
        member_id = state.member_id or ""
        prefs, _ = await svc.load(PREFERENCES, member_id)
        now = svc.clock()
        meta = Meta(actor="system", correlation_id=nid)
        try:
            address = None if prefs.erased else await self.address_to_send(nid, member_id, now)
        except Unreadable as u:
            step = f"unreadable:{u.until.isoformat()}" if u.until else "address_unreadable"
            await svc.decide(NOTIFICATION, nid, d.Defer(u.until) if u.until else d.Drop("address_unreadable"), meta,
                             self._ids(nid, step))
            return
        verdict = d.email_verdict(state.kind or "", d.EmailFacts(prefs, address is not None, now))
        if verdict is not None:
            await svc.decide(NOTIFICATION, nid, verdict, meta, self._ids(nid, f"{type(verdict).__name__}:{now}"))
            return
        if self.channel is None:  # the mail server was taken out of the settings since it was queued
            await svc.decide(NOTIFICATION, nid, d.Drop("no_mail_server"), meta, self._ids(nid, "no_mail_server"))
            return
        doc = await svc.store.get(NOTIFICATIONS, nid)
        params = dict(doc["params"]) if doc else {}
        lang = prefs.language
        page, one_click = self.unsubscribe_urls(member_id, state.kind or "")
        body = letter([Line(state.kind or "", params)], lang, self.settings.web_url, page, state.kind)
        mid = await self._deliver(Outgoing(nid, address or "", body, lang, one_click))
        if mid is None:
            await svc.decide(NOTIFICATION, nid, d.Drop("refused"), meta, self._ids(nid, "refused"))
            return
        await svc.decide(NOTIFICATION, nid, d.RecordSent(mid, lang, now), meta, self._ids(nid, "sent"))

    # ------------------------------------------------------------ a day's digest

    async def when_a_digest_is_due_send_it(self, timer: Timer) -> None:
        svc = self.svc
        state, _ = await svc.load(DIGEST, timer.key)
        if state.done or not state.items:
            return
        member_id = state.member_id or ""
        prefs, _ = await svc.load(PREFERENCES, member_id)
        now = svc.clock()
        meta = Meta(actor="system", correlation_id=timer.key)
        try:
            address = None if prefs.erased else await self.address_to_send(timer.key, member_id, now)
        except Unreadable as u:
            step = f"unreadable:{u.until.isoformat()}" if u.until else "address_unreadable"
            await svc.decide(DIGEST, timer.key, d.DeferDigest(u.until) if u.until else d.DropDigest(
                "address_unreadable"), meta, self._ids(timer.key, step))
            return
        verdict = d.digest_verdict(d.EmailFacts(prefs, address is not None, now))
        if isinstance(verdict, d.Drop):
            await svc.decide(DIGEST, timer.key, d.DropDigest(verdict.reason), meta, self._ids(timer.key, "drop"))
            return
        if isinstance(verdict, d.Defer):  # quiet hours moved over the digest's time since it was gathered
            await svc.decide(DIGEST, timer.key, d.DeferDigest(verdict.until), meta,
                             self._ids(timer.key, f"defer:{verdict.until.isoformat()}"))
            return
        if self.channel is None:
            await svc.decide(DIGEST, timer.key, d.DropDigest("no_mail_server"), meta,
                             self._ids(timer.key, "no_mail_server"))
            return
        lines = []
        for nid in state.items:
            doc = await svc.store.get(NOTIFICATIONS, nid)
            if doc is not None:
                lines.append(Line(doc["kind"], dict(doc["params"])))
        day = state.digest_id.rsplit("_", 1)[-1] if state.digest_id else ""
        lang = prefs.language
        body = letter(lines, lang, self.settings.web_url, None, None, subject=word("digest_subject", lang, day=day))
        mid = await self._deliver(Outgoing(timer.key, address or "", body, lang))
        if mid is None:
            await svc.decide(DIGEST, timer.key, d.DropDigest("refused"), meta, self._ids(timer.key, "refused"))
            return
        await svc.decide(DIGEST, timer.key, d.RecordDigestSent(mid, lang, now), meta, self._ids(timer.key, "sent"))

    @staticmethod
    def _ids(key: str, step: str):
        return lambda count: [uuid.uuid5(uuid.NAMESPACE_URL, f"hr-notifications:{key}:{step}:{i}")
                              for i in range(count)]

    async def pending(self) -> int:
        return await self.svc.store.count("timers_emails") + await self.svc.store.count("timers_digests")

    async def pending_soon(self, wait_s: float = 0.5) -> int:
        """``pending()`` for the status, which must answer at once whatever the store does: a count is waited
        for a moment at most, and while one is under way (the store locked, full, away) the last one counted
        stands; the consumers waiting for the store say why."""
        if self._counting is None or self._counting.done():
            self._counting = asyncio.create_task(self.pending())
            self._counting.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved: never logged
        done, _ = await asyncio.wait({self._counting}, timeout=wait_s)
        if done and not self._counting.cancelled() and self._counting.exception() is None:
            self._last_pending = self._counting.result()
        return self._last_pending


def register_outbox(svc: Service, settings: Settings, channel: Channel | None = None) -> Outbox:
    outbox = Outbox(svc, settings, channel if channel is not None else channel_of(settings))

    def emails(rec: Recorded) -> list[Due]:
        e = rec.event
        match e:
            case n.EmailQueued() | n.EmailDeferred():
                return [Due(e.notification_id, e.send_after)]
            case n.EmailSent() | n.EmailDropped():
                return [Due(e.notification_id, None)]
        return []

    def digests(rec: Recorded) -> list[Due]:
        e = rec.event
        match e:
            case n.DigestItemAdded() | n.DigestDeferred():
                return [Due(e.digest_id, e.send_after)]
            case n.DigestSent() | n.DigestDropped():
                return [Due(e.digest_id, None)]
        return []

    svc.timer("emails", [events_of(n.SERVICE, "notification")], emails, outbox.when_an_email_is_due_send_it)
    svc.timer("digests", [events_of(n.SERVICE, "digest")], digests, outbox.when_a_digest_is_due_send_it)

    @svc.reports
    async def the_mail_servers_health() -> dict:
        return outbox.health.status(await outbox.pending_soon())

    return outbox
