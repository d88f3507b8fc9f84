"""The whole platform in the test process: every service on real NATS and
SQLite (or MongoDB when HRM_MONGO_URL is set), the gateway on real HTTP
(uvicorn on a free port)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from pathlib import Path

import httpx
import uvicorn

from libs.kit.natsserver import free_port
from services.gateway.app import create_app
from services.gateway.settings import Settings as GatewaySettings
from services.groups.app import bootstrap as groups_bootstrap
from services.groups.settings import Settings as GroupsSettings
from services.onboarding.app import bootstrap as onboarding_bootstrap
from services.onboarding.settings import Settings as OnboardingSettings

ADMIN_EMAIL = "admin@hr-mnenie.ru"
ADMIN_PASSWORD = "admin-test-password"
#: this test run: a reused tmp path (a fresh container) never meets an earlier run's databases
_RUN = uuid.uuid4().hex


class Platform:
    def __init__(self, nats_url: str, data_dir: Path):
        self.nats_url = nats_url
        self.data_dir = data_dir
        # With HRM_MONGO_URL (make test-mongo) the read models live in MongoDB, in
        # databases named after this run and data_dir: unique per platform, the same after a restart.
        mongo_url = os.environ.get("HRM_MONGO_URL")
        store = {"docstore_url": f"sqlite:///{data_dir}"} if not mongo_url else {
            "docstore_url": mongo_url,
            "docstore_prefix": "t" + hashlib.sha256(f"{_RUN}:{Path(data_dir).resolve()}".encode()).hexdigest()[:12] + "_",
        }
        common = {"nats_url": nats_url, **store, "log_level": "WARNING"}
        self.settings = {
            "onboarding": OnboardingSettings(
                **common, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD,
                argon2_time_cost=1, argon2_memory_kib=1024, consistency_wait_s=5.0,
            ),
            "groups": GroupsSettings(**common, consistency_wait_s=5.0),
        }
        self.bootstraps = {"onboarding": onboarding_bootstrap, "groups": groups_bootstrap}
        self.services = {}
        self.port = free_port()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start_service(self, name: str):
        svc = self.bootstraps[name](self.settings[name])
        await svc.start()
        self.services[name] = svc
        return svc

    async def stop_service(self, name: str) -> None:
        await self.services.pop(name).stop()

    async def start(self) -> "Platform":
        for name in self.bootstraps:
            await self.start_service(name)
        app = create_app(GatewaySettings(nats_url=self.nats_url, port=self.port, log_level="WARNING"))
        # log_config=None: uvicorn's loggers reach the sanitized root handler instead of handlers of their own
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", log_config=None)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)
        return self

    async def stop(self) -> None:
        if self._server:
            self._server.should_exit = True
            await self._task
            self._server = None
        for name in list(self.services):
            await self.stop_service(name)

    def client(self, token: str | None = None, lang: str | None = None) -> httpx.AsyncClient:
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if lang:
            headers["Accept-Language"] = lang
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=20.0)
