"""HRM_ENV=production refuses to start while any secret is unset, a known development default,
or a placeholder — naming the variable — and the development defaults keep `make run` working."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from libs.kit.provision import ProvisionSettings
from services.gateway.settings import Settings as GatewaySettings
from services.groups.settings import Settings as GroupsSettings
from services.onboarding.settings import Settings as OnboardingSettings
from tests.platform_harness import production_secrets

ROOT = Path(__file__).resolve().parents[2]


def real(**over) -> dict:
    s = production_secrets()
    return {"HRM_ENV": "production", "HRM_TOKEN_PUBLIC_KEY": s["token_public_key"],
            "HRM_TOKEN_PRIVATE_KEY": s["token_private_key"], "HRM_PII_KEK": s["pii_kek"],
            "HRM_EMAIL_INDEX_SECRET": s["email_index_secret"], "HRM_ADMIN_PASSWORD": "Kx8-s7Qm-3vLp-Zr",
            "HRM_FORWARDED_SECRET": "Wq3tF9sPzL2nB8vX", **over}


@pytest.fixture
def env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("HRM_"):
            monkeypatch.delenv(name)

    def set_env(values: dict) -> None:
        for k, v in values.items():
            if v is None:
                monkeypatch.delenv(k, raising=False)
            else:
                monkeypatch.setenv(k, v)

    return set_env


SERVICES = {
    "onboarding": (OnboardingSettings, ["HRM_TOKEN_PRIVATE_KEY", "HRM_EMAIL_INDEX_SECRET", "HRM_ADMIN_PASSWORD",
                                        "HRM_PII_KEK", "HRM_TOKEN_PUBLIC_KEY"]),
    "groups": (GroupsSettings, ["HRM_PII_KEK", "HRM_TOKEN_PUBLIC_KEY"]),
    "gateway": (GatewaySettings, ["HRM_FORWARDED_SECRET", "HRM_TOKEN_PUBLIC_KEY"]),
    "provision": (ProvisionSettings, ["HRM_PII_KEK"]),
}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_development_defaults_work_in_development(env, service):
    cls, _ = SERVICES[service]
    env({})
    assert cls().env == "development"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_real_values_start_in_production(env, service):
    cls, _ = SERVICES[service]
    env(real())
    assert cls().env == "production"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_production_refuses_the_development_defaults_and_names_them(env, service):
    cls, required = SERVICES[service]
    env({"HRM_ENV": "production"})
    with pytest.raises(ValidationError) as refused:
        cls()
    text = str(refused.value)
    for var in required:
        assert var in text, (var, text)


@pytest.mark.parametrize("service", sorted(SERVICES))
@pytest.mark.parametrize("placeholder", ["CHANGE-ME", "change-me-please-0123456789", "<secret>", "dev-only-xxx",
                                         "changeme123", "xxxxxxxx", "TODO: set me", "REPLACE_ME_with_a_real_value"])
def test_production_refuses_placeholders(env, service, placeholder):
    cls, required = SERVICES[service]
    for var in required:
        if var in ("HRM_TOKEN_PUBLIC_KEY", "HRM_TOKEN_PRIVATE_KEY", "HRM_PII_KEK"):
            continue  # formats of their own: a placeholder there fails to parse, tested below
        env(real(**{var: placeholder}))
        with pytest.raises(ValidationError) as refused:
            cls()
        assert var in str(refused.value)


def _keys_whose_pem_spells(word: str) -> dict:
    """Real secrets whose public key's PEM happens to hold ``word`` (about one key in 800 for "xxx")."""
    for _ in range(200_000):
        s = production_secrets()
        if word in s["token_public_key"].lower():
            return s
    raise AssertionError(f"no key spelled {word!r}")


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_random_secrets_that_spell_a_template_word_start_in_production(env, service):
    """CI was once refused a freshly generated key whose base64 held "xxx": random material is not a template
    left in place — inside a run of letters a template's word is not a word."""
    cls, _ = SERVICES[service]
    s = _keys_whose_pem_spells("xxx")
    kek = ("XxxTodoChangemeExampleReplaceme" + "A" * 12)[:43] + "="
    assert len(base64.b64decode(kek)) == 32
    env(real(HRM_TOKEN_PUBLIC_KEY=s["token_public_key"], HRM_TOKEN_PRIVATE_KEY=s["token_private_key"],
             HRM_PII_KEK=kek, HRM_EMAIL_INDEX_SECRET="q7XxXk2TODOz9-Pn3exampleR4m",
             HRM_ADMIN_PASSWORD="Kx8xxxQm3vLpZr", HRM_FORWARDED_SECRET="Wq3tF9sChangeMePzL2nB8vX"))
    assert cls().env == "production"


def test_a_pem_that_does_not_load_is_still_searched_for_a_template(env):
    env(real(HRM_TOKEN_PUBLIC_KEY="-----BEGIN PUBLIC KEY-----\nCHANGE-ME\n-----END PUBLIC KEY-----\n"))
    with pytest.raises(ValidationError, match="HRM_TOKEN_PUBLIC_KEY"):
        GroupsSettings()


def test_production_refuses_a_key_that_is_not_a_key_or_not_the_pair(env):
    env(real(HRM_PII_KEK="CHANGE-ME"))
    with pytest.raises(ValidationError, match="HRM_PII_KEK"):
        OnboardingSettings()
    other = production_secrets()
    env(real(HRM_TOKEN_PUBLIC_KEY=other["token_public_key"]))
    with pytest.raises(ValidationError, match="HRM_TOKEN_PUBLIC_KEY does not belong"):
        OnboardingSettings()


def test_production_refuses_a_placeholder_password_in_the_nats_url(env):
    env(real(HRM_NATS_URL="nats://groups:CHANGE-ME@nats:4222"))
    with pytest.raises(ValidationError, match="HRM_NATS_URL"):
        GroupsSettings()


def test_a_service_started_with_a_placeholder_says_which_variable_and_exits(tmp_path):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HRM_")}
    environ.update(real(HRM_EMAIL_INDEX_SECRET="CHANGE-ME-0123456789abcdef"))
    environ["HRM_NATS_URL"] = "nats://127.0.0.1:1"  # never reached: it must stop before connecting
    done = subprocess.run([sys.executable, "-m", "services.onboarding"], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "HRM_EMAIL_INDEX_SECRET" in done.stderr and "placeholder" in done.stderr
    assert "Traceback" not in done.stderr
    assert "CHANGE-ME-0123456789abcdef" not in done.stderr, "the refused value itself is not printed"
