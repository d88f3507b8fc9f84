"""Steps of the onboarding journey, shared by the end-to-end tests."""

from __future__ import annotations

import uuid

from tests.platform_harness import ADMIN_EMAIL, ADMIN_PASSWORD, Platform

FULL_PROFILE = {
    "full_name": "Анна Смирнова",
    "city": "Екатеринбург",
    "company": "Уралмаш",
    "position": "HR-бизнес-партнёр",
    "years_in_hr": 7,
    "professional_interests": ["оценка персонала", "HR-аналитика"],
    "phone": "+7 912 000-00-00",
    "about": "Люблю деловые игры.",
}


async def login(p: Platform, email: str, password: str) -> dict:
    async with p.client() as c:
        r = await c.post("/v1/auth/token", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return r.json()


async def admin_token(p: Platform) -> str:
    return (await login(p, ADMIN_EMAIL, ADMIN_PASSWORD))["access_token"]


async def invite(p: Platform, token: str, **body) -> dict:
    async with p.client(token) as c:
        r = await c.post("/v1/invitations", json={"max_uses": 1, "expires_in_days": 7, **body})
        assert r.status_code == 201, r.text
        return r.json()


async def register(p: Platform, invitation: str, email: str | None = None, **extra) -> tuple[str, str, str]:
    """Register; return (member_id, email, access token)."""
    email = email or f"newcomer-{uuid.uuid4().hex[:8]}@example.ru"
    async with p.client() as c:
        r = await c.post("/v1/registrations", json={
            "invitation_token": invitation, "email": email, "password": "s3cret-pass",
            "full_name": "Анна Смирнова", "consent_personal_data": True, **extra,
        })
        assert r.status_code == 201, r.text
        member_id = r.json()["member_id"]
    return member_id, email, (await login(p, email, "s3cret-pass"))["access_token"]


async def ready_for_review(p: Platform, moderator_token: str, profile: dict = FULL_PROFILE) -> tuple[str, str]:
    """A newcomer with rules acknowledged and a complete profile: (member_id, token)."""
    inv = await invite(p, moderator_token)
    member_id, _, token = await register(p, inv["token"], full_name=profile["full_name"])
    async with p.client(token) as c:
        assert (await c.post("/v1/me/rules-acknowledgement")).status_code == 200
        r = await c.put("/v1/me/profile", json=profile)
        assert r.status_code == 200 and r.json()["complete"], r.text
    return member_id, token


async def make_member(p: Platform, admin: str, profile: dict = FULL_PROFILE,
                      email: str | None = None) -> tuple[str, str, str]:
    """A newcomer taken into the Main group: (member_id, email, token)."""
    inv = await invite(p, admin)
    member_id, email, token = await register(p, inv["token"], email, full_name=profile["full_name"])
    async with p.client(token) as c:
        assert (await c.post("/v1/me/rules-acknowledgement")).status_code == 200
        assert (await c.put("/v1/me/profile", json=profile)).status_code == 200
    async with p.client(admin) as c:
        r = await c.post(f"/v1/moderation/{member_id}/decision", json={"decision": "grant"})
        assert r.status_code == 200, r.text
    return member_id, email, token


async def make_moderator(p: Platform, admin: str) -> str:
    """A member given the moderator role (only a member can hold one)."""
    member_id, email, _ = await make_member(p, admin)
    async with p.client(admin) as c:
        r = await c.put(f"/v1/members/{member_id}/roles", json={"roles": ["moderator"]})
        assert r.status_code == 200, r.text
    return (await login(p, email, "s3cret-pass"))["access_token"]
