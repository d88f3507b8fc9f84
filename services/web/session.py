"""The browser's session: one cookie, sealed (AES-GCM), HttpOnly, SameSite=Lax.

The tokens never reach JavaScript and the browser cannot read or forge what is inside: a cookie
that does not open with the key, or is older than its maximum age, is no session at all.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

COOKIE = "hrm_session"
LANG_COOKIE = "hrm_lang"
#: what a cookie may hold: larger ones are not opened
MAX_COOKIE = 3800
_AAD = b"hrm-web-session-v1"


@dataclass
class Session:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    access: str | None = None
    refresh: str | None = None
    #: who signed in, their name and roles as last read from GET /v1/me: what the navigation offers (the
    #: gateway and the services decide what the person may really do, on every request)
    member_id: str | None = None
    name: str | None = None
    roles: list = field(default_factory=list)
    #: the newest X-Consistency-Token seen: the next read sees this person's own writes
    seen: str | None = None
    #: a message for the next page (kind, text code, params)
    flash: list | None = None
    #: the link of an invitation just created, shown once with its copy button
    created_link: str | None = None
    created_at: float = field(default_factory=time.time)

    @property
    def signed_in(self) -> bool:
        return self.access is not None

    def sign_out(self) -> None:
        self.access = self.refresh = self.member_id = self.name = self.seen = self.created_link = None
        self.roles = []
        self.csrf = secrets.token_urlsafe(32)

    def say(self, kind: str, code: str, **params) -> None:
        self.flash = [kind, code, params]

    def take_flash(self) -> list | None:
        flash, self.flash = self.flash, None
        return flash


class Sealer:
    def __init__(self, key: bytes, max_age_s: int):
        self._aead = AESGCM(key)
        self._max_age = max_age_s

    def seal(self, session: Session) -> str:
        nonce = os.urandom(12)
        plain = json.dumps(asdict(session), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, plain, _AAD)).decode().rstrip("=")

    def open(self, cookie: str | None) -> Session | None:
        if not cookie or len(cookie) > MAX_COOKIE:
            return None
        try:
            raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
            data = json.loads(self._aead.decrypt(raw[:12], raw[12:], _AAD))
            session = Session(**data)
        except (binascii.Error, ValueError, InvalidTag, TypeError):
            return None
        if not isinstance(session.created_at, int | float) or time.time() - session.created_at > self._max_age:
            return None
        return session
