"""What the platform refuses, and that a refusal changes nothing."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import nats
import pytest

from libs.contracts.onboarding import AccessDeclined, AccessGranted, ChangesRequested, InvitationIssued
from libs.kit.eventstore import Meta
from services.onboarding.accounts import EMAILS_BUCKET, Accounts
from services.onboarding.domain import INVITATION, MEMBER
from tests.e2e.helpers import log_position, settle
from tests.e2e.journey import FULL_PROFILE, admin_token, invite, login, make_moderator, ready_for_review, register


@pytest.fixture(scope="module")
async def admin(platform):
    return await admin_token(platform)


@pytest.mark.parametrize("who", ["guest", "member"])
async def test_guest_or_member_cannot_act_as_moderator_and_nothing_changes(platform, admin, who):
    target, _ = await ready_for_review(platform, admin)
    inv = await invite(platform, admin)
    me_id, email, token = await register(platform, inv["token"])
    if who == "member":
        async with platform.client(token) as c:
            await c.post("/v1/me/rules-acknowledgement")
            await c.put("/v1/me/profile", json=FULL_PROFILE)
        async with platform.client(admin) as c:
            assert (await c.post(f"/v1/moderation/{me_id}/decision", json={"decision": "grant"})).status_code == 200
        token = (await login(platform, email, "s3cret-pass"))["access_token"]
        async with platform.client(token) as c:
            assert "member" in (await c.get("/v1/me")).json()["roles"]
    await settle(platform)
    before = await log_position(platform)
    async with platform.client(token) as c:
        calls = [
            c.post("/v1/invitations", json={"max_uses": 1, "expires_in_days": 1}),
            c.get("/v1/invitations"),
            c.delete(f"/v1/invitations/{inv['token']}"),
            c.get("/v1/moderation/queue"),
            c.post(f"/v1/moderation/{target}/decision", json={"decision": "grant"}),
            c.post(f"/v1/moderation/{target}/decision", json={"decision": "decline", "message": "нет"}),
            c.delete(f"/v1/members/{target}"),
            c.put(f"/v1/members/{target}/roles", json={"roles": ["moderator"]}),
        ]
        for r in await asyncio.gather(*calls):
            assert r.status_code == 403, (r.request.url, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["title"]
    assert await log_position(platform) == before
    async with platform.client(admin) as c:
        queue = (await c.get("/v1/moderation/queue")).json()["items"]
    assert target in [i["member_id"] for i in queue]


async def test_exhausted_invitation_is_refused(platform, admin):
    inv = await invite(platform, admin, max_uses=2)
    await register(platform, inv["token"])
    await register(platform, inv["token"])
    async with platform.client() as c:
        r = await c.post("/v1/registrations", json={
            "invitation_token": inv["token"], "email": f"x{uuid.uuid4().hex[:6]}@example.ru", "password": "s3cret-pass",
            "full_name": "Третий Лишний", "consent_personal_data": True})
    assert r.status_code == 422
    assert r.json()["code"] == "invitation_exhausted"
    assert "максимальное число раз" in r.json()["title"]


async def test_revoked_invitation_is_refused_and_listed_inactive(platform, admin):
    inv = await invite(platform, admin, max_uses=5)
    async with platform.client(admin) as c:
        r = await c.delete(f"/v1/invitations/{inv['token']}")
        assert r.status_code == 200
        listed = (await c.get("/v1/invitations", params={"include_inactive": True},
                              headers={"X-Consistency-Token": r.headers["X-Consistency-Token"]})).json()["items"]
        mine = [i for i in listed if i["token"] == inv["token"]]
        assert mine and mine[0]["revoked"] and not mine[0]["active"]
        active = (await c.get("/v1/invitations")).json()["items"]
        assert inv["token"] not in [i["token"] for i in active]
    async with platform.client(lang="en") as c:
        r = await c.post("/v1/registrations", json={
            "invitation_token": inv["token"], "email": "late@example.ru", "password": "s3cret-pass",
            "full_name": "Опоздавший", "consent_personal_data": True})
    assert r.status_code == 422
    assert r.json()["code"] == "invitation_revoked"
    assert r.json()["title"] == "The invitation was revoked by a moderator."


async def test_expired_invitation_is_refused(platform, admin):
    # an invitation issued long ago: written to the log as the service would have
    svc = platform.services["onboarding"]
    token = f"expired-{uuid.uuid4().hex}"
    stream = await svc.events.load(INVITATION.subject(token))
    await svc.events.append(stream, [InvitationIssued(invitation_id=token, max_uses=5,
                                                      expires_at=datetime.now(UTC) - timedelta(days=1),
                                                      issued_by="test")], Meta("test", "test"))
    async with platform.client() as c:
        r = await c.post("/v1/registrations", json={
            "invitation_token": token, "email": "old@example.ru", "password": "s3cret-pass",
            "full_name": "Из Прошлого", "consent_personal_data": True})
    assert r.status_code == 422
    assert r.json()["code"] == "invitation_expired"


async def test_registration_without_consent_is_refused_and_spends_no_invitation(platform, admin):
    inv = await invite(platform, admin, max_uses=1)
    async with platform.client() as c:
        r = await c.post("/v1/registrations", json={
            "invitation_token": inv["token"], "email": "noconsent@example.ru", "password": "s3cret-pass",
            "full_name": "Без Согласия", "consent_personal_data": False})
    assert r.status_code == 422
    assert r.json()["code"] == "consent_required"
    assert "152-ФЗ" in r.json()["title"]
    await register(platform, inv["token"], email="noconsent@example.ru")  # the one use is still there


async def test_duplicate_email_is_refused(platform, admin):
    inv = await invite(platform, admin, max_uses=3)
    _, email, _ = await register(platform, inv["token"])
    async with platform.client() as c:
        r = await c.post("/v1/registrations", json={
            "invitation_token": inv["token"], "email": email.upper(), "password": "other-pass",
            "full_name": "Двойник", "consent_personal_data": True})
    assert r.status_code == 409
    assert r.json()["code"] == "email_taken"
    # the refused attempt spent no use: one more registration fits
    await register(platform, inv["token"])


async def test_grant_needs_rules_and_complete_profile(platform, admin):
    inv = await invite(platform, admin)
    member_id, _, token = await register(platform, inv["token"])
    async with platform.client(admin) as mod:
        r = await mod.post(f"/v1/moderation/{member_id}/decision", json={"decision": "grant"})
        assert r.status_code == 409 and r.json()["code"] == "rules_not_acknowledged"
        async with platform.client(token) as me:
            await me.post("/v1/me/rules-acknowledgement")
            await me.put("/v1/me/profile", json={**FULL_PROFILE, "phone": None, "company": ""})
        r = await mod.post(f"/v1/moderation/{member_id}/decision", json={"decision": "grant"})
        assert r.status_code == 409 and r.json()["code"] == "profile_incomplete"
        assert set(r.json()["params"]["missing"]) == {"phone", "company"}


async def test_request_changes_then_resubmit_then_grant(platform, admin):
    member_id, token = await ready_for_review(platform, admin)
    async with platform.client(admin) as mod:
        r = await mod.post(f"/v1/moderation/{member_id}/decision", json={"decision": "request_changes"})
        assert r.status_code == 422 and r.json()["code"] == "message_required"
        r = await mod.post(f"/v1/moderation/{member_id}/decision",
                           json={"decision": "request_changes", "message": "Уточните компанию"})
        assert r.status_code == 200 and r.json()["status"] == "changes_requested"
    async with platform.client(token) as me:
        body = (await me.get("/v1/me", headers={"X-Consistency-Token": r.headers["X-Consistency-Token"]})).json()
        assert body["status"] == "changes_requested"
        assert body["moderator_message"] == "Уточните компанию"
        r = await me.put("/v1/me/profile", json={**FULL_PROFILE, "company": "ЕВРАЗ"})
        assert r.json()["status"] == "pending_review"
    async with platform.client(admin) as mod:
        r = await mod.post(f"/v1/moderation/{member_id}/decision", json={"decision": "grant"})
        assert r.status_code == 200 and r.json()["status"] == "member"


async def test_two_moderators_deciding_at_once_record_exactly_one_decision(platform, admin):
    moderator = await make_moderator(platform, admin)
    for attempt in range(3):
        member_id, _ = await ready_for_review(platform, admin)
        async with platform.client(admin) as a, platform.client(moderator) as b:
            grant, decline = await asyncio.gather(
                a.post(f"/v1/moderation/{member_id}/decision", json={"decision": "grant"}),
                b.post(f"/v1/moderation/{member_id}/decision", json={"decision": "decline", "message": "Не сейчас"}),
            )
        codes = sorted([grant.status_code, decline.status_code])
        assert codes == [200, 409], (grant.text, decline.text)
        loser = grant if grant.status_code == 409 else decline
        assert loser.json()["code"] == "already_decided"
        stream = await platform.services["onboarding"].events.load(MEMBER.subject(member_id))
        decisions = [r.event for r in stream.events if isinstance(r.event, AccessGranted | AccessDeclined | ChangesRequested)]
        assert len(decisions) == 1


async def test_errors_speak_russian_by_default_and_english_on_request(platform):
    async with platform.client() as c:
        ru = await c.post("/v1/registrations", json={"email": "not-an-email"})
    async with platform.client(lang="en-US,en;q=0.9") as c:
        en = await c.post("/v1/registrations", json={"email": "not-an-email"})
    for r in (ru, en):
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        fields = {e["field"] for e in r.json()["errors"]}
        assert {"email", "invitation_token", "password", "full_name", "consent_personal_data"} <= fields
    assert ru.json()["title"] == "Проверьте заполнение полей."
    assert en.json()["title"] == "Some fields are invalid."
    assert "обязательное поле" in {e["message"] for e in ru.json()["errors"]}
    async with platform.client() as c:
        r = await c.post("/v1/auth/token", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["code"] == "malformed_request"
        r = await c.get("/v1/me", headers={"Authorization": "Bearer forged.token.value"})
        assert r.status_code == 401 and r.json()["code"] == "invalid_token"


async def test_an_address_left_reserved_by_a_dead_registration_is_taken_over(platform, admin):
    """A registration that died after reserving the address: the next one may
    take it once the reservation is old and no member holds it."""
    keys = Accounts(platform.settings["onboarding"], None)
    old, fresh = f"orphan-{uuid.uuid4().hex[:6]}@example.ru", f"busy-{uuid.uuid4().hex[:6]}@example.ru"
    nc = await nats.connect(platform.nats_url)
    try:
        kv = await nc.jetstream().key_value(EMAILS_BUCKET)
        await kv.create(keys.email_key(old), f"ghost-member {time.time() - 3600:.3f}".encode())
        await kv.create(keys.email_key(fresh), f"ghost-member {time.time():.3f}".encode())
    finally:
        await nc.close()
    inv = await invite(platform, admin, max_uses=2)
    member_id, _, token = await register(platform, inv["token"], email=old)
    async with platform.client(token) as c:
        assert (await c.get("/v1/me")).json()["member_id"] == member_id
    # a reservation still young may belong to a registration under way
    async with platform.client() as c:
        r = await c.post("/v1/registrations", json={
            "invitation_token": inv["token"], "email": fresh, "password": "s3cret-pass",
            "full_name": "Вторая Попытка", "consent_personal_data": True})
    assert r.status_code == 409 and r.json()["code"] == "email_taken"
