from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, model_validator

from libs.kit.auth import DEV_PRIVATE_KEY, public_pem_of
from libs.kit.settings import KitSettings

DEV_ADMIN_PASSWORD = "admin-dev-password"
DEV_EMAIL_INDEX_SECRET = "dev-only-email-index-secret"


class Settings(KitSettings):
    #: PEM of the Ed25519 key that signs tokens; only onboarding has it
    token_private_key: SecretStr = SecretStr(DEV_PRIVATE_KEY)
    admin_email: str = "admin@hr-mnenie.ru"
    admin_password: SecretStr = SecretStr(DEV_ADMIN_PASSWORD)
    access_ttl_s: int = Field(default=900, ge=30, le=24 * 3600)
    #: at most the refresh bucket's time-to-live (libs/kit/provision.py)
    refresh_ttl_s: int = Field(default=30 * 24 * 3600, ge=60, le=90 * 24 * 3600)
    #: where a newcomer opens an invitation (the client's join page)
    invitation_base_url: str = "http://127.0.0.1:8080/join"
    #: keys the e-mail index; the index lives outside the log and is purged on erasure
    email_index_secret: SecretStr = SecretStr(DEV_EMAIL_INDEX_SECRET)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=1024)
    #: failed sign-ins for one e-mail from one client address before that address is locked out of it
    #: (other addresses can still sign in to it: no one can lock a member out from afar)
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    #: failed sign-ins from one client address, whatever the e-mail, before it may not try any
    login_max_failures_per_address: int = Field(default=30, ge=1, le=100_000)
    #: how long the failures are remembered and a lock lasts, counted from the last failure
    #: (at most the failures bucket's time-to-live)
    login_lock_s: int = Field(default=900, ge=1, le=7 * 24 * 3600)

    PRODUCTION_REQUIRED: ClassVar[tuple[str, ...]] = (
        "token_public_key", "token_private_key", "email_index_secret", "admin_password", "pii_kek",
    )
    KNOWN_DEVELOPMENT_VALUES: ClassVar[frozenset[str]] = KitSettings.KNOWN_DEVELOPMENT_VALUES | {
        DEV_PRIVATE_KEY.strip(), DEV_ADMIN_PASSWORD, DEV_EMAIL_INDEX_SECRET,
    }

    @model_validator(mode="after")
    def _keys_belong_together(self):
        try:
            public = public_pem_of(self.token_private_key.get_secret_value())
        except ValueError as e:
            raise ValueError(f"HRM_TOKEN_PRIVATE_KEY is not an Ed25519 private key in PEM ({e})") from None
        if public.strip() != self.token_public_key.strip():
            raise ValueError("HRM_TOKEN_PUBLIC_KEY does not belong to HRM_TOKEN_PRIVATE_KEY: tokens would not verify")
        return self
