"""One signed-in actor per role, shared by the security suites."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.e2e.journey import FULL_PROFILE, admin_token, invite, login, make_moderator, register
from tests.platform_harness import ADMIN_EMAIL, ADMIN_PASSWORD, Platform

ROLES = ("anonymous", "guest", "member", "moderator", "admin")
PASSWORD = "s3cret-pass"  # what tests.e2e.journey.register sets


@dataclass(frozen=True)
class Actor:
    role: str
    token: str | None = None
    member_id: str | None = None
    email: str | None = None
    password: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


async def whoami(p: Platform, token: str) -> str:
    async with p.client(token) as c:
        r = await c.get("/v1/me")
        assert r.status_code == 200, r.text
        return r.json()["member_id"]


async def new_guest(p: Platform, admin: str) -> Actor:
    inv = await invite(p, admin)
    member_id, email, token = await register(p, inv["token"])
    return Actor("guest", token, member_id, email, PASSWORD)


async def new_member(p: Platform, admin: str) -> Actor:
    guest = await new_guest(p, admin)
    async with p.client(guest.token) as c:
        assert (await c.post("/v1/me/rules-acknowledgement")).status_code == 200
        assert (await c.put("/v1/me/profile", json=FULL_PROFILE)).status_code == 200
    async with p.client(admin) as c:
        r = await c.post(f"/v1/moderation/{guest.member_id}/decision", json={"decision": "grant"})
        assert r.status_code == 200, r.text
    token = (await login(p, guest.email, PASSWORD))["access_token"]  # the new role rides in a new token
    return Actor("member", token, guest.member_id, guest.email, PASSWORD)


@pytest.fixture(scope="session")
async def actors(platform) -> dict[str, Actor]:
    admin = await admin_token(platform)
    moderator = await make_moderator(platform, admin)
    return {
        "anonymous": Actor("anonymous"),
        "guest": await new_guest(platform, admin),
        "member": await new_member(platform, admin),
        "moderator": Actor("moderator", moderator, await whoami(platform, moderator)),
        "admin": Actor("admin", admin, await whoami(platform, admin), ADMIN_EMAIL, ADMIN_PASSWORD),
    }
