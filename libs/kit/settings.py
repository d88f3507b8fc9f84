"""Settings shared by every service; each service extends them with its own.

Read from HRM_* environment variables and validated at start. Nothing here
is instantiated at import time: call ``Settings()`` in the entry point.

``HRM_ENV=production`` (compose and the manifests set it) refuses to start
while a secret is unset, still the development default, or a placeholder:
the development defaults exist so that `make run` works on a fresh machine,
and must never protect anything real.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import unquote

from cryptography.hazmat.primitives import serialization
from pydantic import Field, SecretBytes, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from libs.kit.auth import DEV_PUBLIC_KEY

#: what a value left from a template looks like: a template's word standing as a word (not inside a run of
#: letters — random material such as a key's base64 spells "xxx" or "todo" in about one value of a thousand)
PLACEHOLDER = re.compile(
    r"<[^>]*>|(?<![a-z])(?:change[-_ .]?me|placeholder|example|x{3,}|dev[-_ ]only|todo|replace[-_ ]?me|secret-here)"
    r"(?![a-z])",
    re.IGNORECASE,
)
ENV_PREFIX = "HRM_"
#: what the web client and the gateway share in development to vouch for a forwarded client address
DEV_FORWARDED_SECRET = "hrm-forwarded-development-secret"


_AUTHORITY_END = re.compile(r"[/?#]")


def _userinfo(url: str) -> tuple[str, str, str] | None:
    """(scheme, userinfo, rest after the last @ of the authority), or None without credentials."""
    scheme, sep, rest = url.partition("://")
    authority = _AUTHORITY_END.split(rest, 1)[0]
    if not sep or "@" not in authority:
        return None
    userinfo, _, host = authority.rpartition("@")  # the last @: a password may hold one unquoted
    return scheme, userinfo, host + rest[len(authority) :]


def redact_url(url: str) -> str:
    """A URL fit for a log line: credentials dropped (of every URL in a comma-separated list)."""
    if "," in url:
        return ",".join(redact_url(part) for part in url.split(","))
    parts = _userinfo(url)
    return url if parts is None else f"{parts[0]}://***@{parts[2]}"


def secret_values(settings: BaseSettings) -> list[str]:
    """Every secret a settings object holds, for ``setup_logging(secrets=...)``:
    its SecretStr fields and the credentials inside its URLs."""
    out: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            out.append(value.get_secret_value())
        elif isinstance(value, SecretBytes):
            out.append(value.get_secret_value().decode(errors="replace"))
        elif isinstance(value, str) and name.endswith("_url"):
            for part in value.split(","):
                if (parts := _userinfo(part.strip())) is None:
                    continue
                user, colon, password = parts[1].partition(":")
                secret = password if colon else user  # no colon: the user part is a token (nats://token@host)
                out += [secret, unquote(secret)]
    return [v for v in dict.fromkeys(out) if v]


def url_passwords(url: str) -> list[str]:
    """The passwords inside a (comma-separated) URL, for the production checks."""
    out = []
    for part in url.split(","):
        parts = _userinfo(part.strip())
        if parts is not None and ":" in parts[1]:
            out.append(unquote(parts[1].split(":", 1)[1]))
    return out


def looks_like_placeholder(value: str) -> bool:
    """A PEM key that loads is key material whatever its base64 spells; anything else is searched for a
    template's words."""
    if "-----BEGIN" in value:
        data = value.strip().encode()
        for load in (serialization.load_pem_public_key, lambda d: serialization.load_pem_private_key(d, None)):
            try:
                load(data)
            except (ValueError, TypeError):
                continue
            return False
    return PLACEHOLDER.search(value) is not None


def _plain(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class KitSettings(BaseSettings):
    # a refused value is printed before logging is set up: keep the input (a secret) out of the message
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True, hide_input_in_errors=True)

    #: development: the defaults below work; production: every secret must be given (see module docstring)
    env: Literal["development", "production"] = "development"
    #: one server, or the servers of a cluster, comma-separated: nats://a:4222,nats://b:4222
    nats_url: str = "nats://127.0.0.1:4222"
    #: sqlite:///var/data (embedded default) or mongodb://host/?replicaSet=rs0
    docstore_url: str = "sqlite:///var/data"
    #: prefix of each service's database name: <prefix><service>, e.g. hr_onboarding
    docstore_prefix: str = Field(default="hr_", pattern=r"^[A-Za-z0-9_-]{0,40}$")
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"
    stream_replicas: int = Field(default=1, ge=1, le=5)
    #: PEM of the Ed25519 key that verifies tokens (onboarding alone holds the private half)
    token_public_key: str = DEV_PUBLIC_KEY
    #: key-encryption key (base64 of 32 bytes) that wraps each member's personal-data key; keep it
    #: outside the data volume (an environment secret or a mounted file)
    pii_kek: SecretStr | None = None
    pii_kek_file: Path | None = None
    #: how long a query may wait for read-your-writes
    consistency_wait_s: float = Field(default=3.0, gt=0, le=30)
    #: a projection or policy that fails for a passing cause retries without limit, backing off up to this
    retry_max_backoff_s: float = Field(default=10.0, gt=0, le=300)
    #: commands and queries handled at once per subscription (argon2 has its own, smaller bound)
    max_concurrent_requests: int = Field(default=32, ge=1, le=1024)
    otel_service_namespace: str = "hr-mnenie"
    #: with an OTLP exporter, the share of user actions traced (decided at the root, kept whole across
    #: processes); with none, nothing is recorded whatever this says (docs/adr/0026)
    trace_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)

    #: fields that must hold real values with HRM_ENV=production; a subclass lists all of its own
    PRODUCTION_REQUIRED: ClassVar[tuple[str, ...]] = ("token_public_key",)
    #: values known from this repository, refused in production wherever they appear
    KNOWN_DEVELOPMENT_VALUES: ClassVar[frozenset[str]] = frozenset({DEV_PUBLIC_KEY.strip(), DEV_FORWARDED_SECRET})

    @property
    def nats_servers(self) -> list[str]:
        """HRM_NATS_URL as the list nats-py and FastStream want (they refuse a comma-separated string)."""
        return [u.strip() for u in self.nats_url.split(",") if u.strip()]

    @property
    def kek(self) -> bytes | None:
        """The key-encryption key, or None (keys are then stored unwrapped: development)."""
        raw = None
        if self.pii_kek is not None:
            raw = self.pii_kek.get_secret_value()
        elif self.pii_kek_file is not None:
            raw = self.pii_kek_file.read_text().strip()
        if not raw:
            return None
        return _decode_kek(raw)

    @model_validator(mode="after")
    def _check(self):
        if self.pii_kek is not None:
            _decode_kek(self.pii_kek.get_secret_value())
        if self.pii_kek_file is not None and not self.pii_kek_file.is_file():
            raise ValueError(f"{ENV_PREFIX}PII_KEK_FILE: no such file: {self.pii_kek_file}")
        if self.env == "production":
            problems = self.production_problems()
            if problems:
                raise ValueError("refusing to start with HRM_ENV=production: " + "; ".join(problems))
        return self

    def production_problems(self) -> list[str]:
        problems = []
        for name in self.PRODUCTION_REQUIRED:
            var = ENV_PREFIX + name.upper()
            if name == "pii_kek":
                if self.pii_kek is None and self.pii_kek_file is None:
                    problems.append(f"{var} (or {var}_FILE) is not set")
                    continue
                value = (
                    self.pii_kek.get_secret_value()
                    if self.pii_kek is not None
                    else self.pii_kek_file.read_text().strip() if self.pii_kek_file is not None else None
                )
            else:
                value = _plain(getattr(self, name))
            default = _plain(type(self).model_fields[name].default)
            if value is None or (isinstance(value, str) and not value.strip()):
                problems.append(f"{var} is not set")
            elif value == default or (isinstance(value, str) and value.strip() in self.KNOWN_DEVELOPMENT_VALUES):
                problems.append(f"{var} is the development default")
            elif isinstance(value, str) and looks_like_placeholder(value):
                problems.append(f"{var} looks like a placeholder")
        for name in ("nats_url", "docstore_url"):
            for password in url_passwords(getattr(self, name)):
                if looks_like_placeholder(password) or password in self.KNOWN_DEVELOPMENT_VALUES:
                    problems.append(f"{ENV_PREFIX}{name.upper()} carries a placeholder password")
        return problems


def exit_refused(error) -> None:
    """A refused configuration is one clear line naming the variables, not a traceback (exit 2)."""
    import sys

    print(f"configuration refused: {'; '.join(err['msg'] for err in error.errors())}", file=sys.stderr)
    sys.exit(2)


def _decode_kek(raw: str) -> bytes:
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{ENV_PREFIX}PII_KEK must be base64 of 32 bytes") from None
    if len(key) != 32:
        raise ValueError(f"{ENV_PREFIX}PII_KEK must be base64 of 32 bytes, got {len(key)}")
    return key
