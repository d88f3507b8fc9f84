"""The whole platform in the test process: every service on real NATS and
SQLite (or MongoDB when HRM_MONGO_URL is set), the gateway on real HTTP
(uvicorn on a free port)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from libs.kit.http_writes import OneWritePerAnswer
from libs.kit.natsserver import free_port
from services.gateway.app import create_app
from services.gateway.settings import Settings as GatewaySettings
from services.registry import domain_services
from services.web.app import create_app as create_web_app
from services.web.settings import Settings as WebSettings

ADMIN_EMAIL = "admin@hr-mnenie.ru"
ADMIN_PASSWORD = "admin-test-password"
#: the web client's proof for the address it forwards (tests pose as several client addresses with it)
FORWARDED_SECRET = "forwarded-test-secret-3f9a0c2e"
#: seals the web client's session cookies in tests (the browser suite opens and forges them with it)
WEB_SESSION_KEY = base64.b64encode(b"web-session-key-for-tests-only!!").decode()
#: this test run: a reused tmp path (a fresh container) never meets an earlier run's databases
_RUN = uuid.uuid4().hex


def production_secrets() -> dict:
    """Fresh real secrets, as an operator would put in: what HRM_ENV=production accepts."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return {"env": "production", "token_private_key": private, "token_public_key": public,
            "pii_kek": base64.b64encode(os.urandom(32)).decode(), "email_index_secret": secrets.token_urlsafe(32)}


#: the test platform's per-group drive quota (the default file-size limit, 50 MB, stays)
DRIVE_QUOTA = 64 * 1024 * 1024


class Platform:
    def __init__(self, nats_url: str, data_dir: Path, env: str = "development",
                 nats_urls: dict[str, str] | None = None):
        """``nats_urls``: a URL per process (onboarding, groups, gateway), e.g. each with its own NATS user."""
        self.nats_url = nats_url
        urls = nats_urls or {}
        self.data_dir = data_dir
        self.env = env
        #: the log's position when it was last found settled and still (tests.e2e.helpers.settled_position)
        self.quiet_at: int | None = None
        # With HRM_MONGO_URL (make test-mongo) the read models live in MongoDB, in
        # databases named after this run and data_dir: unique per platform, the same after a restart.
        mongo_url = os.environ.get("HRM_MONGO_URL")
        store = {"docstore_url": f"sqlite:///{data_dir}"} if not mongo_url else {
            "docstore_url": mongo_url,
            "docstore_prefix": "t" + hashlib.sha256(f"{_RUN}:{Path(data_dir).resolve()}".encode()).hexdigest()[:12] + "_",
        }
        common = {**store, "log_level": "WARNING"}
        secret = production_secrets() if env == "production" else {}
        verifier = {k: v for k, v in secret.items() if k in ("env", "token_public_key")}
        # what a test platform gives each service beyond the common settings: fast argon2, the test admin,
        # and (one address runs the whole suite) a per-address sign-in limit out of its way (tests of that
        # limit pose as other addresses), and access tokens that outlive a test session (the security suites sign
        # each role in once a session, and the permission matrix alone runs longer than the default 15 minutes;
        # expiry is tested with tokens issued already expired)
        specific = {
            "onboarding": {**secret, "admin_email": ADMIN_EMAIL, "admin_password": ADMIN_PASSWORD,
                           "argon2_time_cost": 1, "argon2_memory_kib": 1024, "login_max_failures_per_address": 100_000,
                           "access_ttl_s": 6 * 3600},
        }
        self.declarations = {d.name: d for d in domain_services()}
        self.settings = {}
        for name, declaration in self.declarations.items():
            own = specific.get(name) or {**verifier, **({"pii_kek": secret["pii_kek"]} if secret else {})}
            if secret and "feed_secret" in declaration.settings.model_fields:  # the calendar's links
                own["feed_secret"] = secrets.token_urlsafe(32)
            if secret and "unsubscribe_secret" in declaration.settings.model_fields:  # the e-mails' links
                own["unsubscribe_secret"] = secrets.token_urlsafe(32)
            self.settings[name] = declaration.settings(**common, **own, nats_url=urls.get(name, nats_url),
                                                       consistency_wait_s=5.0)
        self.gateway_settings = GatewaySettings(nats_url=urls.get("gateway", nats_url), log_level="WARNING", **verifier,
                                                forwarded_secret=FORWARDED_SECRET)
        self.bootstraps = {name: d.bootstrap for name, d in self.declarations.items()}
        self.services = {}
        self.port = free_port()
        self.web_port = free_port()
        # the invitation links lead to this platform's web client
        self.settings["onboarding"] = self.settings["onboarding"].model_copy(
            update={"invitation_base_url": f"http://127.0.0.1:{self.web_port}/join"})
        # a small quota, so the drive's tests reach it with a few files
        self.settings["groups"] = self.settings["groups"].model_copy(update={"drive_quota_bytes": DRIVE_QUOTA})
        self.web_settings = WebSettings(log_level="WARNING", web_port=self.web_port, gateway_url=self.base_url,
                                        forwarded_secret=FORWARDED_SECRET, web_session_key=WEB_SESSION_KEY,
                                        **({"env": "production", "secure_cookies": False} if secret else {}))
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None
        self._web: uvicorn.Server | None = None
        self._web_task: asyncio.Task | None = None

    @property
    def app_client(self):
        """The gateway's client of the bus (tests shorten its time-out to provoke an unknown outcome)."""
        return self._app.state.client

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    async def start_service(self, name: str):
        svc = self.bootstraps[name](self.settings[name])
        await svc.start()
        self.services[name] = svc
        return svc

    async def stop_service(self, name: str) -> None:
        await self.services.pop(name).stop()

    async def start(self) -> Platform:
        for name in self.bootstraps:
            await self.start_service(name)
        app = self._app = create_app(self.gateway_settings.model_copy(update={"port": self.port}))
        self._server, self._task = await _serve(app, self.port)
        return self

    async def start_web(self) -> Platform:
        """The web client too (the browser suite), as services/web/__main__.py runs it."""
        if self._web is None:
            self._web, self._web_task = await _serve(create_web_app(self.web_settings), self.web_port)
        return self

    async def stop(self) -> None:
        if self._web:
            self._web.should_exit = True
            await self._web_task
            self._web = None
        if self._server:
            self._server.should_exit = True
            await self._task
            self._server = None
        for name in list(self.services):
            await self.stop_service(name)

    @contextmanager
    def bounded_streams(self, seconds: float) -> Iterator[None]:
        """Live streams (GET /v1/stream) end after ``seconds`` meanwhile, whatever a request asks: a fuzzer
        that opens one never waits on it."""
        state = self._app.state
        saved = state.settings
        state.settings = saved.model_copy(update={"stream_max_s": seconds})
        try:
            yield
        finally:
            state.settings = saved

    def client(self, token: str | None = None, lang: str | None = None, address: str | None = None) -> httpx.AsyncClient:
        """``address``: pose as that client address, as the web client forwards it."""
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if lang:
            headers["Accept-Language"] = lang
        if address:
            headers["X-Forwarded-For"] = address
            headers["X-Hrm-Forwarded-Secret"] = FORWARDED_SECRET
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=20.0)


async def _serve(app, port: int) -> tuple[uvicorn.Server, asyncio.Task]:
    # log_config=None: uvicorn's loggers reach the sanitized root handler instead of handlers of their own;
    # proxy_headers=False and one write per answer as the entry points run it
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None,
                            proxy_headers=False, timeout_graceful_shutdown=5, http=OneWritePerAnswer)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    return server, task
