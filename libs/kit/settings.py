"""Settings shared by every service; each service extends them with its own.

Read from HRM_* environment variables and validated at start. Nothing here
is instantiated at import time: call ``Settings()`` in the entry point.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import unquote

from pydantic import Field, SecretBytes, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

_AUTHORITY_END = re.compile(r"[/?#]")


def _userinfo(url: str) -> tuple[str, str, str] | None:
    """(scheme, userinfo, rest after the last @ of the authority), or None without credentials."""
    scheme, sep, rest = url.partition("://")
    authority = _AUTHORITY_END.split(rest, 1)[0]
    if not sep or "@" not in authority:
        return None
    userinfo, _, host = authority.rpartition("@")  # the last @: a password may hold one unquoted
    return scheme, userinfo, host + rest[len(authority):]


def redact_url(url: str) -> str:
    """A URL fit for a log line: credentials dropped (of every URL in a comma-separated list)."""
    if "," in url:
        return ",".join(redact_url(part) for part in url.split(","))
    parts = _userinfo(url)
    return url if parts is None else f"{parts[0]}://***@{parts[2]}"


def secret_values(settings: BaseSettings) -> list[str]:
    """Every secret a settings object holds, for ``setup_logging(secrets=...)``:
    its SecretStr fields and the credentials inside its URLs."""
    out: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            out.append(value.get_secret_value())
        elif isinstance(value, SecretBytes):
            out.append(value.get_secret_value().decode(errors="replace"))
        elif isinstance(value, str) and name.endswith("_url"):
            for part in value.split(","):
                if (parts := _userinfo(part.strip())) is None:
                    continue
                user, colon, password = parts[1].partition(":")
                secret = password if colon else user  # no colon: the user part is a token (nats://token@host)
                out += [secret, unquote(secret)]
    return [v for v in dict.fromkeys(out) if v]


class KitSettings(BaseSettings):
    # a refused value is printed before logging is set up: keep the input (a secret) out of the message
    model_config = SettingsConfigDict(env_prefix="HRM_", extra="ignore", frozen=True, hide_input_in_errors=True)

    #: one server, or the servers of a cluster, comma-separated: nats://a:4222,nats://b:4222
    nats_url: str = "nats://127.0.0.1:4222"
    #: sqlite:///var/data (embedded default) or mongodb://host/?replicaSet=rs0
    docstore_url: str = "sqlite:///var/data"
    #: prefix of each service's database name: <prefix><service>, e.g. hr_onboarding
    docstore_prefix: str = Field(default="hr_", pattern=r"^[A-Za-z0-9_-]{0,40}$")
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"
    stream_replicas: int = Field(default=1, ge=1, le=5)
    #: secret shared by onboarding (issues tokens) and gateway (verifies them)
    jwt_secret: SecretStr = Field(default=SecretStr("dev-only-change-me-please-32-bytes!!"), min_length=32)
    #: how long a query may wait for read-your-writes
    consistency_wait_s: float = Field(default=3.0, gt=0, le=30)
    #: how many times a projection or policy retries one event before dead-lettering it
    #: (retries back off from 0.2 s to 10 s: 8 attempts ride out about 20 s of a broken dependency)
    max_deliver: int = Field(default=8, ge=1, le=100)
    otel_service_namespace: str = "hr-mnenie"

    @property
    def nats_servers(self) -> list[str]:
        """HRM_NATS_URL as the list nats-py and FastStream want (they refuse a comma-separated string)."""
        return [u.strip() for u in self.nats_url.split(",") if u.strip()]
