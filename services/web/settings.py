from __future__ import annotations

import base64
import binascii
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator

from libs.kit.forwarding import Network, parse_networks
from libs.kit.settings import DEV_FORWARDED_SECRET, KitSettings

#: `make run` works on a fresh machine with this key; production refuses it (KNOWN_DEVELOPMENT_VALUES)
DEV_SESSION_KEY = "aHJtLXdlYi1kZXZlbG9wbWVudC1zZXNzaW9uLWtleSE="


class Settings(KitSettings):
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    #: where the web client finds the gateway's public API
    gateway_url: str = "http://127.0.0.1:8000"
    #: base64 of 32 bytes: seals the session cookie (AES-GCM); rotate it and every session ends
    web_session_key: SecretStr = SecretStr(DEV_SESSION_KEY)
    #: proves to the gateway the client address the web client forwards (the gateway's HRM_FORWARDED_SECRET)
    forwarded_secret: SecretStr = SecretStr(DEV_FORWARDED_SECRET)
    #: proxies in front of the web client whose X-Forwarded-For entries are believed (comma-separated)
    trusted_proxies: str = ""
    #: cookies only over HTTPS; default: in production
    secure_cookies: bool | None = None
    #: the community's time zone: every time shown is in it, with its name
    web_timezone: str = "Asia/Yekaterinburg"
    #: the largest form accepted
    web_max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)
    #: how long a page waits for the gateway
    web_gateway_timeout_s: float = Field(default=15.0, gt=0, le=120)
    #: a session lasts at most this long without a new sign-in
    web_session_max_age_s: int = Field(default=30 * 24 * 3600, ge=300, le=90 * 24 * 3600)

    PRODUCTION_REQUIRED: ClassVar[tuple[str, ...]] = ("web_session_key", "forwarded_secret")
    KNOWN_DEVELOPMENT_VALUES: ClassVar[frozenset[str]] = (
        KitSettings.KNOWN_DEVELOPMENT_VALUES | {DEV_SESSION_KEY, DEV_FORWARDED_SECRET})

    @field_validator("web_session_key")
    @classmethod
    def _thirty_two_bytes(cls, v: SecretStr) -> SecretStr:
        try:
            raw = base64.b64decode(v.get_secret_value().strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("HRM_WEB_SESSION_KEY must be base64 of 32 bytes") from None
        if len(raw) != 32:
            raise ValueError(f"HRM_WEB_SESSION_KEY must be base64 of 32 bytes, got {len(raw)}")
        return v

    @field_validator("web_timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"HRM_WEB_TIMEZONE: unknown time zone {v!r}") from None
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: str) -> str:
        try:
            parse_networks(v)
        except ValueError as e:
            raise ValueError(f"HRM_TRUSTED_PROXIES: {e}") from None
        return v

    @property
    def session_key(self) -> bytes:
        return base64.b64decode(self.web_session_key.get_secret_value().strip())

    @property
    def proxies(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def cookies_secure(self) -> bool:
        return self.secure_cookies if self.secure_cookies is not None else self.env == "production"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.web_timezone)
