from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr

from libs.contracts.registry import CATALOG
from libs.kit.settings import DEV_FORWARDED_SECRET, KitSettings


class Settings(KitSettings):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: how long the gateway waits for a service's reply; also the deadline a request carries
    request_timeout_s: float = Field(default=10.0, gt=0, le=60)
    #: services /readyz asks for their status
    services: tuple[str, ...] = Field(default_factory=lambda: tuple(c.service for c in CATALOG))
    #: the AsyncAPI document served at GET /asyncapi.json (`make asyncapi`); relative to the repository root
    asyncapi_path: Path = Path("docs/asyncapi.json")
    #: where /docs and /redoc take Swagger UI's and ReDoc's files from (swagger-ui-dist/, redoc/bundles/):
    #: the repository's node_modules (`make install`, pinned in package-lock.json) unless an image puts them elsewhere
    docs_assets_path: Path = Path(__file__).resolve().parents[2] / "node_modules"
    #: the largest request body read (JSON); larger ones get 413 before anything else happens
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    #: the web client vouches for the client address it forwards (X-Forwarded-For) with this secret;
    #: without it, the address is the connection's peer (the development default is refused in production)
    forwarded_secret: SecretStr | None = SecretStr(DEV_FORWARDED_SECRET)
    #: /docs, /redoc, /openapi.json and /asyncapi.json; default: served in development only
    api_docs: bool | None = None

    #: a live stream (GET /v1/stream) ends after this long at most (and when the caller's token expires);
    #: the browser reconnects with Last-Event-ID and misses nothing
    stream_max_s: float = Field(default=300.0, gt=0, le=86400)
    #: a comment line this often keeps proxies from closing a quiet stream
    stream_keepalive_s: float = Field(default=15.0, gt=0, le=300)
    #: what the stream tells the browser to wait before it reconnects
    stream_retry_ms: int = Field(default=1000, ge=100, le=60000)

    #: requests carried at once; past it the gateway answers 503 `overloaded` at once rather than queueing
    #: (health probes and live streams are not counted)
    max_in_flight: int = Field(default=64, ge=1, le=100_000)
    #: the typical (median) time of a request past which, with more than half the bound taken, the gateway
    #: carries fewer at once (down to min_in_flight), so that what it accepts stays fast past its capacity
    #: (docs/adr/0031); unset: max_in_flight, fixed
    overload_target_ms: float | None = Field(default=15.0, gt=0, le=60_000)
    min_in_flight: int = Field(default=2, ge=1, le=100_000)
    #: of them, from one client address (the web client's forwarded one when it proves itself with the secret);
    #: unset: no share below the bound. Set it where clients come from many addresses: one address's flood then
    #: leaves room for the others (an office behind one NAT address counts as one)
    max_in_flight_per_address: int | None = Field(default=None, ge=1, le=100_000)
    #: what a refused client is told to wait (Retry-After, seconds)
    overload_retry_after_s: int = Field(default=1, ge=1, le=3600)

    PRODUCTION_REQUIRED: ClassVar[tuple[str, ...]] = ("token_public_key", "forwarded_secret")

    @property
    def docs_served(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.env == "development"
