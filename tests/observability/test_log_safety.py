"""Logs keep secrets (security review, finding 7.5): errors are provoked the
way real code meets them, and the output of either format is searched for
the secrets and the personal data they carried — first in-process, then in
the output of the real platform's processes."""

from __future__ import annotations

import io
import json
import logging
import sys

import httpx
import pytest
import structlog
from pydantic import BaseModel, Field

from libs.kit.logging import describe, get_logger, setup_logging
from libs.kit.settings import KitSettings, redact_url, secret_values
from tests.observability.processes import platform_processes, sign_up, wait_ready

#: a secret setting of every service (the key-encryption key, base64 of 32 bytes)
KEK = "S2V5RW5jcnlwdGlvbktleVVuZGVyVGVzdDAxMjM0NTY="
INDEX_SECRET = "email-index-secret-under-test-42"
ADMIN = ("admin@hr-mnenie.ru", "admin-password-under-test")
PHONE = "+7 912 345-67-89"
NAME = "Зинаида Подтелкова"
EMAIL = "zinaida.podtelkova@example.ru"
PASSWORD = "member-password-under-test"
URL_PASSWORD = "nats-password-under-test"
JWT_LIKE = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtZW1iZXItNDIifQ.c2lnbmF0dXJlLW9mLWl0"
FORMATS = ("console", "json")


class Profile(BaseModel):
    full_name: str = Field(max_length=5)
    phone: int


def _handle_oversized_profile(profile: dict) -> None:
    settings = {"jwt_secret": KEK}  # noqa: F841 - a local a traceback with locals would print
    phone = profile["phone"]  # noqa: F841
    raise ValueError(f"profile too large for {profile['full_name']} ({PHONE})")


def _leaks(text: str) -> list[str]:
    needles = [KEK, INDEX_SECRET, ADMIN[1], PASSWORD, URL_PASSWORD, PHONE, "912 345", "9123456789",
               NAME, "Зинаида", EMAIL, "eyJ"]
    return [n for n in needles if n in text]


@pytest.fixture
def captured():
    """setup_logging into a buffer; what it configures is set back afterwards."""
    root = logging.getLogger()
    handlers, level, hook = list(root.handlers), root.level, sys.excepthook

    def configure(fmt: str) -> io.StringIO:
        stream = io.StringIO()
        setup_logging("safety", fmt, "DEBUG", secrets=[KEK, INDEX_SECRET, "short"], stream=stream)
        return stream

    yield configure
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)
    sys.excepthook = hook
    structlog.reset_defaults()


@pytest.mark.parametrize("fmt", FORMATS)
def test_error_paths_log_what_failed_but_no_secret_or_personal_data(captured, fmt):
    stream = captured(fmt)
    log = get_logger("test")

    try:
        _handle_oversized_profile({"full_name": NAME, "phone": PHONE})
    except ValueError:
        log.exception("profile_failed")
    try:
        Profile(full_name=NAME, phone=PHONE)
    except ValueError as e:
        log.exception("validation_failed")
        log.warning("validation_described", error=describe(e))
    try:
        try:
            {}[EMAIL]
        except KeyError as e:
            raise RuntimeError(f"no account {EMAIL}") from e
    except RuntimeError as e:
        log.exception("lookup_failed")
        log.error("lookup_described", error=describe(e))
    try:
        _handle_oversized_profile({"full_name": NAME, "phone": PHONE})
    except ValueError as e:
        # FastStream's way: the message is the exception's text, the traceback rides along
        logging.getLogger("faststream").error(f"{type(e).__name__}: {e}", exc_info=e)
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    log.info("connected", nats=f"nats://hr:{URL_PASSWORD}@127.0.0.1:4222", token=JWT_LIKE,
             headers={"authorization": f"Bearer {JWT_LIKE}"}, settings=f"jwt_secret={KEK!r}")

    out = stream.getvalue()
    assert not _leaks(out), (_leaks(out), out)
    # still says what failed, and where
    for what in ("profile_failed", "_handle_oversized_profile", "ValueError", "ValidationError", "full_name",
                 "string_too_long", "int_parsing", "KeyError", "RuntimeError", "faststream", "uvicorn.error",
                 "nats://***@127.0.0.1:4222", "Bearer ***", "***"):
        assert what in out, (what, out)
    if fmt == "json":
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        assert {"profile_failed", "validation_failed", "lookup_failed", "connected"} <= {l["event"] for l in lines}
        assert all(l["service"] == "safety" for l in lines)


def test_describe_keeps_messages_of_machine_errors_only():
    assert describe(ConnectionRefusedError(111, "Connection refused")) == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert describe(TimeoutError()) == "TimeoutError"
    assert describe(KeyError(EMAIL)) == "KeyError: <message withheld>"
    try:
        Profile.model_validate({"full_name": NAME, "phone": PHONE, EMAIL: 1})
    except ValueError as e:
        text = describe(e)
    assert "2 validation error(s) for Profile" in text and "phone (int_parsing)" in text and not _leaks(text)


def test_secret_values_and_redact_url_cover_settings_and_urls():
    s = KitSettings(pii_kek=KEK, nats_url=f"nats://hr:{URL_PASSWORD}@a:4222,nats://token-of-the-bus@b:4222")
    assert {KEK, URL_PASSWORD, "token-of-the-bus"} <= set(secret_values(s))
    assert redact_url("nats://u:p@ss@host:4222/x?y=1") == "nats://***@host:4222/x?y=1"


# ------------------------------------------------------------------ the real processes


def _profile(interests: int, size: int) -> dict:
    return {"full_name": NAME, "phone": PHONE, "city": "Екатеринбург",
            "professional_interests": [f"{NAME} {PHONE} {i} ".ljust(size, "x") for i in range(interests)]}


@pytest.mark.parametrize("fmt", FORMATS)
async def test_platform_processes_keep_secrets_out_of_their_logs(tmp_path, fmt):
    env = {"HRM_LOG_FORMAT": fmt, "HRM_LOG_LEVEL": "DEBUG", "HRM_PII_KEK": KEK,
           "HRM_EMAIL_INDEX_SECRET": INDEX_SECRET, "HRM_ADMIN_EMAIL": ADMIN[0], "HRM_ADMIN_PASSWORD": ADMIN[1]}
    with platform_processes(tmp_path, env) as (base, logs):
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            await wait_ready(c)
            _, _, me = await sign_up(c, ADMIN, EMAIL, PASSWORD, NAME)
            statuses = [
                # oversized profiles: refused at the edge, by the body limit (413) before anything reads them
                *[(await c.put("/v1/me/profile", json=_profile(count, size), headers=me)).status_code
                  for count, size in ((2000, 1000), (20, 15_000))],
                (await c.post("/v1/auth/token", content=f'{{"email": "{EMAIL}", "password": "{PASSWORD}"',
                              headers={"Content-Type": "application/json"})).status_code,
                (await c.post("/v1/auth/token", json={"email": EMAIL, "password": PASSWORD + "-wrong"})).status_code,
                (await c.get(f"/v1/members/by-phone/{PHONE}/{EMAIL}", headers=me)).status_code,
                (await c.put("/v1/me/profile", json={"full_name": NAME, "phone": PHONE, "years_in_hr": PHONE},
                             headers=me)).status_code,
                (await c.post("/v1/registrations", json={"invitation_token": JWT_LIKE, "email": EMAIL,
                                                         "password": PASSWORD, "full_name": NAME,
                                                         "phone": PHONE})).status_code,
                (await c.put("/v1/me/profile", json=_profile(20, 60_000), headers=me)).status_code,
                # within the body limit, but each interest past its own limit
                (await c.put("/v1/me/profile", json=_profile(20, 2_000), headers=me)).status_code,
            ]
            assert statuses == [413, 413, 422, 401, 404, 422, 422, 413, 422], statuses
    logged = {name: path.read_text(errors="replace") for name, path in logs.items()}
    # the failures are in the logs, named
    gateway = logged["gateway"]
    assert "status=413" in gateway or '"status": 413' in gateway, gateway[-5000:]
    for name, text in logged.items():
        assert not _leaks(text), (name, _leaks(text), text[-5000:])
