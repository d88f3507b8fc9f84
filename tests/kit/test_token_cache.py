"""Verified tokens are kept (libs/kit/auth.py): a token verifies from the cache only as it would afresh —
the same bytes, the same kind, the same key, not expired. The end-to-end refusals (tampered, forged,
wrong algorithm, expired, unknown member) are in tests/security/test_tokens.py; these break the cache."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.kit import auth


def other_keys() -> tuple[str, str]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return private, auth.public_pem_of(private)


def test_a_kept_token_still_expires(monkeypatch):
    token, claims = auth.issue(auth.DEV_PRIVATE_KEY, "m1", ("member",), "access", 60)
    assert auth.verify(auth.DEV_PUBLIC_KEY, token, "access") == claims
    assert auth.verify(auth.DEV_PUBLIC_KEY, token, "access") == claims  # from the cache
    now = time.time()
    monkeypatch.setattr(auth.time, "time", lambda: now + 61)
    with pytest.raises(auth.InvalidToken):
        auth.verify(auth.DEV_PUBLIC_KEY, token, "access")
    monkeypatch.setattr(auth.time, "time", lambda: now)
    # and it was verified afresh after that, not served from a stale entry
    assert auth.verify(auth.DEV_PUBLIC_KEY, token, "access") == claims


def test_a_kept_token_opens_nothing_else():
    token, _ = auth.issue(auth.DEV_PRIVATE_KEY, "m2", ("member",), "access", 60)
    auth.verify(auth.DEV_PUBLIC_KEY, token, "access")
    head, payload, signature = token.split(".")
    # the signature's second-to-last character swapped for another (it holds six bits of the signature: the
    # last holds two, and "AA" in its place was the signature itself once in 256 tokens)
    changed = signature[:-2] + ("B" if signature[-2] == "A" else "A") + signature[-1]
    for forged in (f"{head}.{payload}.{changed}", f"{head}.{payload}x.{signature}", token + " ", token[:-1]):
        assert forged != token
        with pytest.raises(auth.InvalidToken):
            auth.verify(auth.DEV_PUBLIC_KEY, forged, "access")
    with pytest.raises(auth.InvalidToken):  # kept as an access token: still not a refresh token
        auth.verify(auth.DEV_PUBLIC_KEY, token, "refresh")
    _, other_public = other_keys()
    with pytest.raises(auth.InvalidToken):  # kept under one key: refused under another
        auth.verify(other_public, token, "access")


def test_a_refused_token_is_refused_every_time():
    other_private, _ = other_keys()
    token, _ = auth.issue(other_private, "m3", ("admin",), "access", 60)
    for _ in range(3):
        with pytest.raises(auth.InvalidToken):
            auth.verify(auth.DEV_PUBLIC_KEY, token, "access")


def test_the_cache_is_bounded(monkeypatch):
    # full of what the session's platforms verified before (the cache is the process's): still bounded
    for i in range(120):
        auth.verify(auth.DEV_PUBLIC_KEY, auth.issue(auth.DEV_PRIVATE_KEY, f"f{i}", (), "access", 60)[0], "access")
    monkeypatch.setattr(auth, "VERIFIED_KEPT", 50)
    tokens = [auth.issue(auth.DEV_PRIVATE_KEY, f"b{i}", (), "access", 60)[0] for i in range(200)]
    for t in tokens:
        auth.verify(auth.DEV_PUBLIC_KEY, t, "access")
    assert len(auth._verified) <= 50
    assert auth.verify(auth.DEV_PUBLIC_KEY, tokens[0], "access").member_id == "b0"  # evicted: verified again
