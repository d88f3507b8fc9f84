"""Settings shared by every service; each service extends them with its own.

Read from HRM_* environment variables and validated at start. Nothing here
is instantiated at import time: call ``Settings()`` in the entry point.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def redact_url(url: str) -> str:
    """A URL fit for a log line: credentials dropped (of every URL in a comma-separated list)."""
    if "," in url:
        return ",".join(redact_url(part) for part in url.split(","))
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


class KitSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HRM_", extra="ignore", frozen=True)

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
    jwt_secret: str = Field(default="dev-only-change-me-please-32-bytes!!", min_length=32)
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
