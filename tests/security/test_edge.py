"""The edge and the bus as an attacker tries them (issue "The edge and the bus"): ids with
wildcards, decisions on oneself, roles and erasures reaching live tokens at once, oversized
and hidden-character input, correlation ids, repeats with an Idempotency-Key, deadlines and
unknown outcomes, sign-in floods and lock-outs, and what registration reveals."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest

from services.notifications.links import unsubscribe_token
from tests.e2e.helpers import log_position, settle
from tests.e2e.journey import FULL_PROFILE, invite, login, make_member, make_moderator
from tests.platform_harness import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.security.conftest import PASSWORD, new_guest

WILDCARDS = ["*", ">", "a.b", "a b", "x" * 65, "%2A", "..", "a*b"]


async def unchanged(platform, before: int) -> None:
    await settle(platform)
    assert await log_position(platform) == before


# ------------------------------------------------------------------ 1. ids into subjects


@pytest.mark.parametrize("bad", WILDCARDS)
async def test_a_wildcard_or_junk_id_is_refused_at_the_edge_and_changes_nothing(platform, actors, bad):
    admin = actors["admin"].token
    victim = await new_guest(platform, admin)
    await settle(platform)
    before = await log_position(platform)
    async with platform.client(admin) as c:
        calls = [
            c.delete(f"/v1/members/{bad}"),
            c.get(f"/v1/members/{bad}"),
            c.put(f"/v1/members/{bad}/roles", json={"roles": []}),
            c.post(f"/v1/moderation/{bad}/decision", json={"decision": "grant"}),
            c.delete(f"/v1/invitations/{bad}"),
            c.get(f"/v1/groups/{bad}/members"),
            c.post("/v1/notifications/read", json={"notification_ids": [bad]}),
            # signed with the service's own secret: even a genuine signature takes no wildcard to a subject
            c.post("/v1/notifications/unsubscribe", params={"token": unsubscribe_token(
                platform.settings["notifications"].unsubscribe_secret.get_secret_value(), bad, "mention")}),
        ]
        for r in await asyncio.gather(*calls):
            if r.request.method == "GET" and r.request.url.path == "/v1/members":
                # ".." never reaches the gateway as an id: the client resolves it, to the member list
                assert bad == ".." and r.status_code == 200, (r.request.url, r.status_code, r.text)
                continue
            if r.request.method == "PUT" and r.request.url.path == "/v1/roles":
                # nor here: PUT /v1/members/../roles is PUT /v1/roles, the roles' matrix, which is only read
                assert bad == ".." and r.status_code == 405, (r.request.url, r.status_code, r.text)
                continue
            assert r.status_code in (404, 422), (r.request.url, r.status_code, r.text)
            if r.status_code == 422:
                link = r.request.url.path.endswith("/unsubscribe")  # refused by the edge, or by the link's check
                assert r.json()["code"] in ({"invalid_fields", "unsubscribe_link_invalid"} if link else
                                            {"invalid_fields"}), r.text
    await unchanged(platform, before)
    # the live member whose e-mail a wildcard erasure released once still signs in, and it is still taken
    assert (await login(platform, victim.email, PASSWORD))["access_token"]
    inv = await invite(platform, admin)
    async with platform.client() as c:
        r = await c.post("/v1/registrations", json={"invitation_token": inv["token"], "email": victim.email,
                                                    "password": "another-pass-1", "full_name": "Чужой Человек",
                                                    "consent_personal_data": True})
    assert r.status_code == 409 and r.json()["code"] == "email_taken"


def test_the_subject_builder_refuses_what_the_edge_let_through():
    from libs.contracts.subjects import InvalidSubjectToken, event_subject, pii_key_subject

    for bad in ["*", ">", "a.b", "", "a b", "a\tb", "x" * 201]:
        with pytest.raises(InvalidSubjectToken):
            event_subject("onboarding", "member", bad)
        with pytest.raises(InvalidSubjectToken):
            pii_key_subject(bad)


# ------------------------------------------------------------------ 2. no self-admission; current roles


async def test_nobody_decides_on_their_own_membership(platform, actors):
    admin = actors["admin"].token
    guest = await new_guest(platform, admin)
    async with platform.client(admin) as c:  # the attack of the finding: a guest made a moderator
        r = await c.put(f"/v1/members/{guest.member_id}/roles", json={"roles": ["moderator"]})
        assert r.status_code == 409 and r.json()["code"] == "not_a_member", r.text
        r = await c.put(f"/v1/members/{guest.member_id}/roles", json={"roles": ["member"]})
        assert r.status_code == 422, r.text
    moderator = actors["moderator"]
    async with platform.client(moderator.token) as c:
        for decision in ("revoke", "decline", "grant"):
            r = await c.post(f"/v1/moderation/{moderator.member_id}/decision",
                             json={"decision": decision, "message": "сам себе"})
            assert r.status_code == 403 and r.json()["code"] == "own_membership", (decision, r.text)


async def test_a_demoted_moderator_loses_their_powers_on_the_next_request(platform, actors):
    admin = actors["admin"].token
    token = await make_moderator(platform, admin)
    async with platform.client(token) as c:
        me = (await c.get("/v1/me")).json()
        assert (await c.get("/v1/moderation/queue")).status_code == 200
        assert (await c.get("/v1/groups/introduction/members")).status_code == 200  # moderators see every group
    async with platform.client(admin) as c:
        assert (await c.put(f"/v1/members/{me['member_id']}/roles", json={"roles": []})).status_code == 200
    async with platform.client(token) as c:  # the same token, at once
        r = await c.get("/v1/moderation/queue")
        assert r.status_code == 403 and r.json()["code"] == "moderator_only", r.text
        r = await c.post("/v1/invitations", json={"max_uses": 1, "expires_in_days": 1})
        assert r.status_code == 403, r.text
        r = await c.get("/v1/groups/introduction/members")  # groups checks the current roles too
        assert r.status_code == 403 and r.json()["code"] == "not_a_group_member", r.text


async def test_an_erased_members_token_stops_working_everywhere_at_once(platform, actors):
    admin = actors["admin"].token
    member_id, _, token = await make_member(platform, admin)
    await settle(platform)
    async with platform.client(token) as c:
        assert (await c.get("/v1/groups/main/members")).status_code == 200
    async with platform.client(admin) as c:
        assert (await c.delete(f"/v1/members/{member_id}")).status_code == 200
    async with platform.client(token) as c:
        for url in ("/v1/me", "/v1/groups/main/members", f"/v1/members/{member_id}"):
            r = await c.get(url)
            assert r.status_code == 401 and r.json()["code"] == "invalid_token", (url, r.text)
        r = await c.put("/v1/me/profile", json=FULL_PROFILE)
        assert r.status_code == 401, r.text


async def test_a_revoked_membership_takes_the_member_out_of_the_main_group(platform, actors):
    admin = actors["admin"].token
    member_id, _, token = await make_member(platform, admin)
    async with platform.client(admin) as c:
        r = await c.post(f"/v1/moderation/{member_id}/decision", json={"decision": "revoke"})
        assert r.status_code == 422 and r.json()["code"] == "reason_required"
        r = await c.post(f"/v1/moderation/{member_id}/decision", json={"decision": "revoke", "message": "правила"})
        assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    await settle(platform)
    async with platform.client(token) as c:
        me = (await c.get("/v1/me")).json()
        assert me["status"] == "revoked" and me["roles"] == ["guest"] and "main" not in me["groups"], me
        assert (await c.get("/v1/groups/main/members")).status_code == 403


# ------------------------------------------------------------------ 6. bounded input


def raw_http(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks):
                    break
        except (TimeoutError, ConnectionResetError):
            pass
        return b"".join(chunks)


async def test_a_huge_body_is_refused_before_it_is_read_or_authenticated(platform):
    head = (b"POST /v1/me/profile HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 157286400\r\n\r\n")
    reply = await asyncio.to_thread(raw_http, platform.port, head)  # not a byte of the 150 MB sent
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"application/problem+json" in reply


async def test_a_body_without_a_length_stops_being_read_at_the_limit(platform):
    async def chunks():
        for _ in range(40):  # 40 × 8 KiB, over the 64 KiB limit
            yield b"[" + b"1," * 4095 + b"1]"

    async with platform.client() as c:
        r = await c.post("/v1/registrations", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large", r.text


@pytest.mark.parametrize("profile,field", [
    ({"professional_interests": ["x" * 60_000]}, "professional_interests"),   # one huge item: 413 (body)
    ({"professional_interests": ["интерес"] * 21}, "professional_interests"),
    ({"professional_interests": ["x" * 101]}, "professional_interests.0"),
    ({"about": "я" * 4001}, "about"),
    ({"full_name": "x" * 201}, "full_name"),
    ({"city": "Екатеринбург\x00"}, "city"),
    ({"full_name": "Анна \u202eаннА"}, "full_name"),
    ({"company": "Ромашка\u2066"}, "company"),
    ({"professional_interests": ["обучение\x00"]}, "professional_interests.0"),
])
async def test_every_field_is_bounded_and_hidden_characters_are_refused(platform, actors, profile, field):
    guest = actors["guest"]
    await settle(platform)
    before = await log_position(platform)
    async with platform.client(guest.token) as c:
        r = await c.put("/v1/me/profile", json={**FULL_PROFILE, **profile})
    assert r.status_code in (413, 422), r.text
    if r.status_code == 422:
        assert any(e["field"].startswith(field) for e in r.json()["errors"]), r.json()
    await unchanged(platform, before)


async def test_a_name_with_a_nul_or_a_bidi_override_cannot_register(platform, actors):
    inv = await invite(platform, actors["admin"].token)
    async with platform.client(lang="en") as c:
        for name in ("Анна\x00Петрова", "Анна \u202dПетрова"):
            r = await c.post("/v1/registrations", json={
                "invitation_token": inv["token"], "email": f"bidi-{uuid.uuid4().hex[:8]}@example.ru",
                "password": PASSWORD, "full_name": name, "consent_personal_data": True})
            assert r.status_code == 422, r.text
            [error] = [e for e in r.json()["errors"] if e["field"] == "full_name"]
            assert "forbidden characters" in error["message"]


async def test_a_correlation_id_is_kept_only_when_it_is_a_uuid(platform, actors):
    guest = actors["guest"]
    mine = str(uuid.uuid4())
    async with platform.client(guest.token) as c:
        kept = await c.post("/v1/me/rules-acknowledgement", headers={"X-Correlation-Id": mine})
        junk = await c.get("/v1/me", headers={"X-Correlation-Id": "x" * 10_000 + " DROP TABLE"})
    assert kept.headers["x-correlation-id"] == mine
    replaced = junk.headers["x-correlation-id"]
    assert uuid.UUID(replaced) and "DROP" not in replaced


# ------------------------------------------------------------------ 5. truthful answers


async def test_the_same_idempotency_key_creates_one_invitation(platform, actors):
    admin = actors["admin"].token
    key = str(uuid.uuid4())
    await settle(platform)
    before = await log_position(platform)
    async with platform.client(admin) as c:
        first = await c.post("/v1/invitations", json={"max_uses": 2, "expires_in_days": 3},
                             headers={"Idempotency-Key": key})
        again = await c.post("/v1/invitations", json={"max_uses": 2, "expires_in_days": 3},
                             headers={"Idempotency-Key": key})
        other = await c.post("/v1/invitations", json={"max_uses": 3, "expires_in_days": 3},
                             headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused", other.text
    await settle(platform)
    assert await log_position(platform) == before + 1, "one InvitationIssued, not two"


async def test_the_same_key_sent_at_once_is_carried_out_once(platform, actors):
    admin = actors["admin"].token
    key = str(uuid.uuid4())
    await settle(platform)
    before = await log_position(platform)
    async with platform.client(admin) as c:
        replies = await asyncio.gather(*(c.post("/v1/invitations", json={"max_uses": 1, "expires_in_days": 1},
                                                headers={"Idempotency-Key": key}) for _ in range(6)))
    codes = sorted(r.status_code for r in replies)
    assert set(codes) <= {201, 409} and 201 in codes, [r.text for r in replies]
    tokens = {r.json()["token"] for r in replies if r.status_code == 201}
    assert len(tokens) == 1
    for r in replies:
        if r.status_code == 409:
            assert r.json()["code"] == "request_in_progress"
    await settle(platform)
    assert await log_position(platform) == before + 1


async def test_an_unknown_outcome_is_told_and_a_repeat_with_the_key_settles_it(platform, actors):
    """The registration finding: a slow service answered 503 "try again" yet registered, so the retry got
    "e-mail taken". Now the client hears the outcome is unknown, nothing is carried out past the deadline,
    and a repeat with the same key gets the one true answer."""
    onboarding = platform.services["onboarding"]
    inv = await invite(platform, actors["admin"].token)
    email = f"slow-{uuid.uuid4().hex[:8]}@example.ru"
    body = {"invitation_token": inv["token"], "email": email, "password": PASSWORD, "full_name": "Медленный Пётр",
            "consent_personal_data": True}
    key = str(uuid.uuid4())
    gateway_client = platform.app_client
    old_timeout = gateway_client._timeout
    hashing = onboarding_accounts(onboarding)._hashing
    gateway_client._timeout = 1.0
    await hashing.acquire()  # the service is slow: every password hash waits
    await hashing.acquire()
    try:
        async with platform.client() as c:
            r = await c.post("/v1/registrations", json=body, headers={"Idempotency-Key": key})
        assert r.status_code == 504 and r.json()["code"] == "outcome_unknown", r.text
        assert "Idempotency-Key" in r.json()["title"]
    finally:
        hashing.release()
        hashing.release()
        gateway_client._timeout = old_timeout
    await asyncio.sleep(0.5)  # the late handler finds its deadline gone and appends nothing
    async with platform.client() as c:
        r1 = await c.post("/v1/registrations", json=body, headers={"Idempotency-Key": key})
        r2 = await c.post("/v1/registrations", json=body, headers={"Idempotency-Key": key})
    assert r1.status_code == 201, r1.text
    assert r2.status_code == 201 and r2.json() == r1.json(), r2.text
    assert (await login(platform, email, PASSWORD))["access_token"]


def onboarding_accounts(svc):
    """The onboarding service's Accounts, as its bootstrap bound it into the command handlers."""
    for _, fn in svc._commands:
        deps = getattr(fn, "keywords", {}).get("deps")
        if deps is not None:
            return deps.accounts
    raise AssertionError("no accounts found")


# ------------------------------------------------------------------ 7. sign-in for everybody


async def test_a_flood_of_bogus_sign_ins_does_not_keep_the_admin_out(platform):
    """The flood fills the gateway's places (64): what is past them is refused at once (503 with Retry-After),
    and the admin, doing what the refusal says, gets in while the flood is still being answered."""
    async def bogus(i):
        async with platform.client(address="198.51.100.23") as c:
            return await c.post("/v1/auth/token", json={"email": f"nobody-{i}@example.ru", "password": "guess"})

    async def admin():
        await asyncio.sleep(0.05)
        async with platform.client(address="203.0.113.5") as c:
            for _ in range(30):
                r = await c.post("/v1/auth/token", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
                if r.status_code != 503:
                    return r
                assert r.json()["code"] == "overloaded", r.text
                await asyncio.sleep(float(r.headers["retry-after"]))
            return r

    *floods, mine = await asyncio.gather(*(bogus(i) for i in range(120)), admin())
    assert mine.status_code == 200, mine.text
    assert {r.status_code for r in floods} <= {401, 429, 503}
    assert all(r.json()["code"] == "overloaded" for r in floods if r.status_code == 503)


async def test_sign_ins_are_handled_side_by_side_not_one_after_another(platform, actors):
    """A sign-in stuck in a slow password hash must not hold the next one behind it (the finding: commands
    of one type were handled one at a time, so a flood of bogus sign-ins starved the admin's)."""
    victim = await new_guest(platform, actors["admin"].token)
    limit = platform.settings["onboarding"].login_max_failures
    async with platform.client(address="192.0.2.44") as c:
        for _ in range(limit):
            await c.post("/v1/auth/token", json={"email": victim.email, "password": "x"})
    hashing = onboarding_accounts(platform.services["onboarding"])._hashing
    await hashing.acquire()
    await hashing.acquire()
    try:
        async with platform.client(address="192.0.2.45") as slow_client, platform.client(address="192.0.2.44") as c:
            slow = asyncio.create_task(slow_client.post("/v1/auth/token", json={"email": ADMIN_EMAIL,
                                                                                "password": ADMIN_PASSWORD}))
            await asyncio.sleep(0.3)  # the admin's sign-in now waits for a hash
            quick = await asyncio.wait_for(c.post("/v1/auth/token", json={"email": victim.email, "password": "x"}), 3)
            assert quick.status_code == 429, quick.text  # answered while the other one still waits
            assert not slow.done()
            hashing.release()
            hashing.release()
            assert (await slow).status_code == 200
    finally:
        while hashing.locked():
            hashing.release()


async def test_a_locked_e_mail_still_signs_in_from_an_address_with_no_failures(platform, actors):
    victim = await new_guest(platform, actors["admin"].token)
    limit = platform.settings["onboarding"].login_max_failures
    async with platform.client(address="192.0.2.66") as attacker:
        for _ in range(limit):
            assert (await attacker.post("/v1/auth/token", json={"email": victim.email, "password": "x"})).status_code == 401
        locked = await attacker.post("/v1/auth/token", json={"email": victim.email, "password": PASSWORD})
        assert locked.status_code == 429, locked.text
    async with platform.client(address="192.0.2.200") as victim_home:
        r = await victim_home.post("/v1/auth/token", json={"email": victim.email, "password": PASSWORD})
        assert r.status_code == 200, r.text


async def test_a_forwarded_address_counts_only_with_the_web_clients_secret(platform, actors):
    victim = await new_guest(platform, actors["admin"].token)
    limit = platform.settings["onboarding"].login_max_failures
    async with platform.client() as c:
        for i in range(limit):  # each claims another address, without the secret: all count for the peer
            r = await c.post("/v1/auth/token", json={"email": victim.email, "password": "x"},
                             headers={"X-Forwarded-For": f"10.9.9.{i}"})
            assert r.status_code == 401
        r = await c.post("/v1/auth/token", json={"email": victim.email, "password": PASSWORD},
                         headers={"X-Forwarded-For": "10.9.9.250"})
        assert r.status_code == 429, r.text


# ------------------------------------------------------------------ 8. what registration reveals


async def test_registration_checks_the_invitation_before_the_e_mail(platform, actors):
    taken = actors["guest"].email
    async with platform.client() as c:
        r = await c.post("/v1/registrations", json={"invitation_token": "not-a-real-invitation-token-xx",
                                                    "email": taken, "password": PASSWORD, "full_name": "Кто Угодно",
                                                    "consent_personal_data": True})
    assert r.status_code == 422 and r.json()["code"] == "invitation_unknown", r.text
