"""The platform as real processes, the way it is deployed: nats-server, and
``python -m services.<name>`` for every domain service (the registry's) and the gateway, each
writing its output to a log file of its own. Shared by the observability tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from libs.kit.natsserver import NatsServer, free_port
from services.registry import domain_services

ROOT = Path(__file__).resolve().parents[2]
SERVICES = (*(d.name for d in domain_services()), "gateway")


@contextmanager
def platform_processes(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[str, dict[str, Path]]]:
    """Yield the gateway's base URL and each service's log file; ``env`` adds HRM_* (and other) variables."""
    nats = NatsServer(tmp_path / "nats").start()
    port = free_port()
    env = {**os.environ, "HRM_NATS_URL": nats.url, "HRM_DOCSTORE_URL": f"sqlite:///{tmp_path / 'data'}",
           "HRM_PORT": str(port), "HRM_ARGON2_TIME_COST": "1", "HRM_ARGON2_MEMORY_KIB": "1024", **env}
    logs, procs = {}, {}
    try:
        for name in SERVICES:
            logs[name] = tmp_path / f"{name}.log"
            procs[name] = subprocess.Popen([sys.executable, "-m", f"services.{name}"], cwd=ROOT, env=env,
                                           stdout=open(logs[name], "wb"), stderr=subprocess.STDOUT)
        yield f"http://127.0.0.1:{port}", logs
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            p.wait(15)
        nats.stop()


async def wait_ready(c: httpx.AsyncClient) -> None:
    for _ in range(200):
        try:
            if (await c.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the platform did not become ready")


async def sign_up(c: httpx.AsyncClient, admin: tuple[str, str], email: str, password: str,
                  full_name: str) -> tuple[str, dict, dict]:
    """The admin invites, a newcomer registers, signs in and acknowledges the rules:
    (member_id, the admin's headers, the newcomer's headers)."""
    r = await c.post("/v1/auth/token", json={"email": admin[0], "password": admin[1]})
    assert r.status_code == 200, r.text
    admin_headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    inv = (await c.post("/v1/invitations", json={"max_uses": 1, "expires_in_days": 1}, headers=admin_headers)).json()
    r = await c.post("/v1/registrations", json={"invitation_token": inv["token"], "email": email, "password": password,
                                                "full_name": full_name, "consent_personal_data": True})
    assert r.status_code == 201, r.text
    member_id = r.json()["member_id"]
    r = await c.post("/v1/auth/token", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    member_headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await c.post("/v1/me/rules-acknowledgement", headers=member_headers)).status_code == 200
    return member_id, admin_headers, member_headers
