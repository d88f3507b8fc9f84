"""Tokens and credentials under attack: forged, foreign, expired, misused and
replayed tokens; password guessing; guessing invitation links."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import time
import uuid

import pytest

from libs.contracts.errors import RateLimited
from libs.kit import auth
from services.onboarding.accounts import Accounts
from tests.e2e.helpers import log_position, settle
from tests.e2e.journey import invite, login
from tests.security.conftest import PASSWORD, new_guest

TOKEN_ALPHABET = re.compile(r"^[A-Za-z0-9_-]+$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def tamper(token: str, **changes) -> str:
    """Change the payload, keep the header and the signature."""
    header, payload, signature = token.split(".")
    claims = {**json.loads(_unb64(payload)), **changes}
    return ".".join((header, _b64(json.dumps(claims).encode()), signature))


def secret_of(platform) -> str:
    """The platform's signing key (only onboarding has it)."""
    return platform.settings["onboarding"].token_private_key.get_secret_value()


def another_private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


async def me_status(platform, token: str) -> tuple[int, dict]:
    async with platform.client(token) as c:
        r = await c.get("/v1/me")
    return r.status_code, r.json()


def assert_refused(status: int, body: dict, code: str = "invalid_token", expected: int = 401) -> None:
    assert status == expected, body
    assert body["code"] == code, body
    assert body["status"] == expected and body["title"]


# ------------------------------------------------------------------ access tokens


async def test_a_tampered_access_token_is_refused(platform, actors):
    guest = actors["guest"]
    assert (await me_status(platform, guest.token))[0] == 200
    forged = tamper(guest.token, roles=["admin", "moderator"])
    assert forged != guest.token
    assert_refused(*await me_status(platform, forged))
    async with platform.client(forged) as c:  # no escalation: 401, not 200 and not 403
        r = await c.get("/v1/invitations")
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    assert r.headers["content-type"].startswith("application/problem+json")
    # another member's id under the guest's signature
    assert_refused(*await me_status(platform, tamper(guest.token, sub=actors["admin"].member_id)))


async def test_a_token_signed_with_another_key_is_refused(platform, actors):
    token, _ = auth.issue(another_private_key(), actors["admin"].member_id, ("admin",), "access", 900)
    assert_refused(*await me_status(platform, token))


async def test_the_public_key_used_as_an_hmac_secret_is_refused(platform, actors):
    """Algorithm confusion: whoever knows the public key could sign HS256 if a verifier allowed it."""
    import hashlib
    import hmac as hmac_

    public = platform.settings["onboarding"].token_public_key.encode()
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    now = int(time.time())
    payload = _b64(json.dumps({"iss": auth.ISSUER, "sub": actors["admin"].member_id, "roles": ["admin"],
                               "typ": "access", "jti": uuid.uuid4().hex, "iat": now, "exp": now + 600}).encode())
    signature = _b64(hmac_.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    assert_refused(*await me_status(platform, f"{header}.{payload}.{signature}"))


async def test_a_valid_token_for_a_member_who_does_not_exist_opens_nothing(platform, actors):
    """Even with the right key: services check that the actor exists (the forged-admin finding)."""
    ghost, _ = auth.issue(secret_of(platform), str(uuid.uuid4()), ("admin",), "access", 600)
    async with platform.client(ghost) as c:
        for method, url in (("GET", "/v1/me"), ("GET", "/v1/invitations"), ("GET", "/v1/moderation/queue"),
                            ("GET", "/v1/groups/main/members")):
            r = await c.request(method, url)
            assert r.status_code == 401 and r.json()["code"] == "invalid_token", (url, r.text)
        r = await c.post("/v1/invitations", json={"max_uses": 1, "expires_in_days": 1})
        assert r.status_code == 401, r.text


async def test_an_unsigned_token_is_refused(platform, actors):
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    now = int(time.time())
    payload = _b64(json.dumps({"iss": auth.ISSUER, "sub": actors["admin"].member_id, "roles": ["admin"],
                               "typ": "access", "jti": uuid.uuid4().hex, "iat": now, "exp": now + 600}).encode())
    assert_refused(*await me_status(platform, f"{header}.{payload}."))


async def test_an_expired_token_is_refused(platform, actors):
    token, _ = auth.issue(secret_of(platform), actors["admin"].member_id, ("admin",), "access", -10)
    assert_refused(*await me_status(platform, token))
    fresh, _ = auth.issue(secret_of(platform), actors["admin"].member_id, ("admin",), "access", 60)
    assert (await me_status(platform, fresh))[0] == 200  # the same claims, in time: accepted


async def test_a_refresh_token_is_not_an_access_token(platform, actors):
    guest = actors["guest"]
    tokens = await login(platform, guest.email, PASSWORD)
    assert_refused(*await me_status(platform, tokens["refresh_token"]))


async def test_an_access_token_is_not_a_refresh_token(platform, actors):
    guest = actors["guest"]
    tokens = await login(platform, guest.email, PASSWORD)
    async with platform.client() as c:
        r = await c.post("/v1/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert_refused(r.status_code, r.json())


# ------------------------------------------------------------------ refresh rotation


async def test_a_refresh_token_works_once_and_its_successor_works(platform, actors):
    guest = actors["guest"]
    first = await login(platform, guest.email, PASSWORD)
    async with platform.client() as c:
        r = await c.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert r.status_code == 200, r.text
        second = r.json()
        assert (await me_status(platform, second["access_token"]))[0] == 200
        replay = await c.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert_refused(replay.status_code, replay.json(), "refresh_token_used")
        r = await c.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert r.status_code == 200, r.text
        assert r.json()["refresh_token"] not in (first["refresh_token"], second["refresh_token"])


async def test_a_replayed_refresh_token_race_yields_one_pair(platform, actors):
    tokens = await login(platform, actors["guest"].email, PASSWORD)
    async with platform.client() as c:
        replies = await asyncio.gather(*(
            c.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}) for _ in range(5)
        ))
    codes = sorted(r.status_code for r in replies)
    assert codes == [200, 401, 401, 401, 401], [r.text for r in replies]


async def test_a_forged_refresh_token_is_refused(platform, actors):
    tokens = await login(platform, actors["guest"].email, PASSWORD)
    async with platform.client() as c:
        r = await c.post("/v1/auth/refresh", json={"refresh_token": tamper(tokens["refresh_token"], sub="someone")})
        assert_refused(r.status_code, r.json())
        # signed correctly but never issued (unknown jti): treated as spent
        unknown, _ = auth.issue(secret_of(platform), actors["guest"].member_id, (), "refresh", 600)
        r = await c.post("/v1/auth/refresh", json={"refresh_token": unknown})
        assert_refused(r.status_code, r.json(), "refresh_token_used")


# ------------------------------------------------------------------ sign-in throttling


async def sign_in(platform, email: str, password: str, lang: str | None = None):
    async with platform.client(lang=lang) as c:
        return await c.post("/v1/auth/token", json={"email": email, "password": password})


async def test_repeated_failures_lock_the_email_even_for_the_right_password(platform, actors):
    victim = await new_guest(platform, actors["admin"].token)
    bystander = await new_guest(platform, actors["admin"].token)
    limit = platform.settings["onboarding"].login_max_failures
    lock_s = platform.settings["onboarding"].login_lock_s
    for _ in range(limit):
        r = await sign_in(platform, victim.email, "wrong-password")
        assert r.status_code == 401 and r.json()["code"] == "bad_credentials", r.text
    await settle(platform)
    before = await log_position(platform)
    r = await sign_in(platform, victim.email, PASSWORD)
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "too_many_attempts" and body["status"] == 429
    assert body["title"] == "Слишком много неудачных попыток входа. Повторите попытку позже."
    retry_after = int(r.headers["Retry-After"])
    assert 0 < retry_after <= lock_s
    assert body["params"]["retry_after_s"] == retry_after
    # the address is case-insensitive; the lock is too; English on request
    r = await sign_in(platform, victim.email.upper(), PASSWORD, lang="en")
    assert r.status_code == 429 and r.json()["title"] == "Too many failed sign-in attempts. Try again later."
    assert (await sign_in(platform, victim.email, "wrong-password")).status_code == 429
    # another address is unaffected
    assert (await sign_in(platform, bystander.email, PASSWORD)).status_code == 200
    assert await log_position(platform) == before  # sign-in touches no log
    # an already issued token still works: the lock is on signing in, not on the account
    assert (await me_status(platform, victim.token))[0] == 200


async def test_an_unknown_email_locks_the_same_way(platform):
    """No difference that would tell which addresses are registered."""
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.ru"
    limit = platform.settings["onboarding"].login_max_failures
    codes = [(await sign_in(platform, email, "guess")).status_code for _ in range(limit + 1)]
    assert codes == [401] * limit + [429]


async def test_a_successful_sign_in_resets_the_count(platform, actors):
    member = await new_guest(platform, actors["admin"].token)
    limit = platform.settings["onboarding"].login_max_failures
    for _ in range(3):
        for _ in range(limit - 1):
            assert (await sign_in(platform, member.email, "wrong-password")).status_code == 401
        assert (await sign_in(platform, member.email, PASSWORD)).status_code == 200


async def test_concurrent_guesses_are_all_counted(platform, actors):
    member = await new_guest(platform, actors["admin"].token)
    limit = platform.settings["onboarding"].login_max_failures
    replies = await asyncio.gather(*(sign_in(platform, member.email, f"guess-{i}") for i in range(limit)))
    assert all(r.status_code == 401 for r in replies)
    assert (await sign_in(platform, member.email, PASSWORD)).status_code == 429


async def test_the_lock_ends_after_lock_s(platform):
    """The window, with a short lock: an Accounts of its own over the same bucket."""
    svc = platform.services["onboarding"]
    settings = platform.settings["onboarding"].model_copy(update={"login_max_failures": 2, "login_lock_s": 1})
    accounts = Accounts(settings, svc.js)
    await accounts.open()
    email = f"window-{uuid.uuid4().hex[:8]}@example.ru"
    here = f"10.0.{uuid.uuid4().int % 250}.1"
    assert await accounts.throttle_login(email, here) == 0
    await accounts.login_failed(email, here)
    assert await accounts.throttle_login(email, here) == 1
    await accounts.login_failed(email, here)
    with pytest.raises(RateLimited) as locked:
        await accounts.throttle_login(email, here)
    assert locked.value.code == "too_many_attempts" and locked.value.params["retry_after_s"] == 1
    assert await accounts.throttle_login(email, "192.0.2.77") == 0  # from elsewhere the e-mail is not locked
    await asyncio.sleep(1.1)
    assert await accounts.throttle_login(email, here) == 0
    await accounts.login_failed(email, here)  # counting starts over
    assert await accounts.throttle_login(email, here) == 1
    await accounts.login_succeeded(email, here)
    assert await accounts.throttle_login(email, here) == 0


async def test_one_address_guessing_many_e_mails_is_stopped(platform):
    svc = platform.services["onboarding"]
    settings = platform.settings["onboarding"].model_copy(update={"login_max_failures_per_address": 4})
    accounts = Accounts(settings, svc.js)
    await accounts.open()
    guesser, other = f"198.51.100.{uuid.uuid4().int % 250}", "203.0.113.9"
    emails = [f"spray-{i}-{uuid.uuid4().hex[:6]}@example.ru" for i in range(5)]
    for email in emails[:4]:
        await accounts.throttle_login(email, guesser)
        await accounts.login_failed(email, guesser)
    with pytest.raises(RateLimited):
        await accounts.throttle_login(emails[4], guesser)  # a fresh e-mail, the same address: stopped
    assert await accounts.throttle_login(emails[4], other) == 0


# ------------------------------------------------------------------ invitation links


async def test_invitation_tokens_are_unique_and_carry_at_least_128_bits(platform, actors):
    admin = actors["admin"].token
    tokens: list[str] = []
    for _ in range(10):
        batch = await asyncio.gather(*(invite(platform, admin) for _ in range(20)))
        tokens += [i["token"] for i in batch]
    assert len(tokens) == 200
    assert len(set(tokens)) == 200, "an invitation token was issued twice"
    for t in tokens:
        # secrets.token_urlsafe(24): 24 random bytes = 32 base64url characters = 192 bits
        assert len(t) == 32 and TOKEN_ALPHABET.match(t), t
    assert len(tokens[0]) * 6 >= 128
    # the characters are spread over the whole alphabet, not a counter or a timestamp
    assert len(set("".join(tokens))) >= 60
    assert len({t[:4] for t in tokens}) > 190


async def test_guessed_invitation_tokens_are_refused_and_change_nothing(platform, actors):
    real = (await invite(platform, actors["admin"].token))["token"]
    guesses = [secrets.token_urlsafe(24) for _ in range(20)]
    guesses += [real[:-1] + ("A" if real[-1] != "A" else "B"), real.upper() if real.upper() != real else real.lower()]
    await settle(platform)
    before = await log_position(platform)
    async with platform.client() as c:
        for guess in guesses:
            r = await c.post("/v1/registrations", json={
                "invitation_token": guess, "email": f"guess-{uuid.uuid4().hex[:8]}@example.ru",
                "password": PASSWORD, "full_name": "Угадай Мелодию", "consent_personal_data": True})
            assert r.status_code == 422 and r.json()["code"] == "invitation_unknown", (guess, r.text)
    async with platform.client(actors["admin"].token) as c:
        r = await c.delete(f"/v1/invitations/{guesses[0]}")
        assert r.status_code == 404 and r.json()["code"] == "invitation_not_found"
    await settle(platform)
    assert await log_position(platform) == before
