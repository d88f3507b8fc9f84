"""One signed-in actor per role, shared by the security suites; on the development platform
(``actors``) and on both the development and the HRM_ENV=production one (``secured``)."""

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


async def sign_in_every_role(p: Platform) -> dict[str, Actor]:
    admin = await admin_token(p)
    moderator = await make_moderator(p, admin)
    return {
        "anonymous": Actor("anonymous"),
        "guest": await new_guest(p, admin),
        "member": await new_member(p, admin),
        "moderator": Actor("moderator", moderator, await whoami(p, moderator)),
        "admin": Actor("admin", admin, await whoami(p, admin), ADMIN_EMAIL, ADMIN_PASSWORD),
    }


#: the actors of each platform, by its env: built once a session. pytest keeps one instance of a
#: parametrized session fixture at a time and builds it again when the parameter comes back
#: (it may, across modules), so `secured` must not sign everyone in again each time.
_ACTORS: dict[str, tuple[Platform, dict[str, Actor]]] = {}


async def actors_of(p: Platform) -> dict[str, Actor]:
    cached = _ACTORS.get(p.env)
    if cached is None or cached[0] is not p:
        _ACTORS[p.env] = cached = (p, await sign_in_every_role(p))
    return cached[1]


ENVS = ("development", "production")
PLATFORM_OF_ENV = {"development": "platform", "production": "production_platform"}


@pytest.fixture(scope="session")
async def actors(platform) -> dict[str, Actor]:
    """The development platform's actors (the same ones ``secured`` gives for development)."""
    return await actors_of(platform)


@pytest.fixture(scope="session", params=ENVS)
def secured_platform(request) -> Platform:
    """The platform of each env. Not async: from an async fixture, getfixturevalue of an async one
    fails (Runner.run() cannot be called from a running event loop); from a plain one it works."""
    p = request.getfixturevalue(PLATFORM_OF_ENV[request.param])
    assert p.env == request.param
    return p


@pytest.fixture(scope="session")
async def secured(secured_platform) -> tuple[Platform, dict[str, Actor]]:
    """(platform, actors) for each env: a test that takes it runs on both."""
    return secured_platform, await actors_of(secured_platform)
