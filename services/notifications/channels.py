"""Channels a notification leaves by, besides the app: a port (``Channel``) and its one adapter today,
e-mail over SMTP. A messenger bot later is another adapter of the same port; nothing stands behind the
port until it exists.

A channel either accepts a message (and answers the id the message will be known by), refuses it for
good (``Refused``: the address does not exist, the server says so with a 5xx), or fails for now
(any other exception: the server away, a 4xx, a time-out): the outbox then keeps the message due and
tries again with back-off, and the channel's health says why meanwhile (readiness shows it)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

import aiosmtplib

from libs.kit.logging import describe, get_logger
from services.notifications.texts import Letter

log = get_logger(__name__)


@dataclass(frozen=True)
class Outgoing:
    #: the notification's (or digest's) id: the message's identity wherever it is delivered again
    key: str
    address: str
    letter: Letter
    language: str
    #: RFC 8058 one-click unsubscribe target (POST), if any
    unsubscribe_url: str | None = None


class Refused(Exception):
    """The channel will never take this message (the recipient refused for good)."""


class MailServerError(Exception):
    """The mail server answered with an error for now; its words (which may name the recipient) are left out."""


class Channel(Protocol):
    name: str

    async def deliver(self, message: Outgoing) -> str:
        """Hand the message over; answer the id it is known by. Raise ``Refused`` or a passing failure."""
        ...


def message_id(key: str, domain: str) -> str:
    """Derived from the notification: a copy sent again after a crash (between the server's acceptance
    and the outbox recording it) carries the same Message-ID, which mail clients take as one message."""
    return f"<{key}@{domain}>"


@dataclass
class Health:
    """A channel's state for readiness: failing since when, why, and when the outbox tries it next."""

    name: str
    failing_since: float | None = None
    reason: str | None = None
    failures: int = 0
    next_try: float = 0.0

    def waiting(self) -> bool:
        return self.failing_since is not None and time.monotonic() < self.next_try

    def failed(self, error: Exception, first_backoff_s: float, max_backoff_s: float) -> None:
        self.failures += 1
        if self.failing_since is None:
            self.failing_since = time.time()
        self.reason = describe(error)
        self.next_try = time.monotonic() + min(max_backoff_s, first_backoff_s * 2 ** (self.failures - 1))
        log.warning("channel_failing", channel=self.name, failures=self.failures, error=self.reason)

    def recovered(self) -> None:
        if self.failing_since is not None:
            log.info("channel_recovered", channel=self.name, after_s=round(time.time() - self.failing_since, 1))
        self.failing_since = self.reason = None
        self.failures = 0
        self.next_try = 0.0

    def status(self, pending: int) -> dict:
        """In the shape of a consumer's status (libs/kit/consumers.py), so readiness reads it as one."""
        out: dict[str, Any] = {"name": self.name, "kind": "channel", "lag": pending, "dead_letters": 0,
                               "state": "stalled" if self.failing_since else "running"}
        if self.failing_since is not None:
            out["stalled"] = {"reason": self.reason, "since": self.failing_since, "attempts": self.failures,
                              "for_s": round(time.time() - self.failing_since, 1)}
        return out


class SmtpChannel:
    name = "email"

    def __init__(self, host: str, port: int, *, sender: str, tls: str, username: str | None, password: str | None,
                 timeout_s: float, domain: str):
        self._host, self._port = host, port
        self._sender, self._tls = sender, tls
        self._username, self._password = username, password
        self._timeout = timeout_s
        self.domain = domain

    async def deliver(self, message: Outgoing) -> str:
        msg = EmailMessage()
        msg["From"] = self._sender
        msg["To"] = message.address
        msg["Subject"] = message.letter.subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = mid = message_id(message.key, self.domain)
        msg["Auto-Submitted"] = "auto-generated"
        if message.unsubscribe_url:
            msg["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg.set_content(message.letter.text)
        msg.add_alternative(message.letter.html, subtype="html")
        msg["Content-Language"] = message.language  # after the content: setting it drops Content-* headers
        try:
            await aiosmtplib.send(msg, hostname=self._host, port=self._port, username=self._username,
                                  password=self._password, use_tls=self._tls == "tls",
                                  start_tls={"starttls": True, "none": False}.get(self._tls),
                                  timeout=self._timeout)
        except aiosmtplib.SMTPRecipientsRefused as e:
            codes = ", ".join(str(r.code) for r in e.recipients)
            if all(400 <= r.code < 500 for r in e.recipients):  # greylisting, a full mailbox: try again later
                raise MailServerError(f"the recipient is refused for now ({codes})") from None
            raise Refused(f"the recipient is refused ({codes})") from None
        except aiosmtplib.SMTPResponseException as e:
            # its message may repeat the address: only the kind and code go on (logs, readiness)
            raise MailServerError(f"{type(e).__name__} {e.code}") from None
        return mid
