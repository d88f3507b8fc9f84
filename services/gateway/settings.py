from __future__ import annotations

from pathlib import Path

from pydantic import Field

from libs.kit.settings import KitSettings


class Settings(KitSettings):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: how long the gateway waits for a service's reply
    request_timeout_s: float = Field(default=10.0, gt=0, le=60)
    #: services /readyz asks for their status
    services: tuple[str, ...] = ("onboarding", "groups")
    #: the AsyncAPI document served at GET /asyncapi.json (`make asyncapi`); relative to the repository root
    asyncapi_path: Path = Path("docs/asyncapi.json")
