from __future__ import annotations

from pydantic import Field, SecretStr

from libs.kit.settings import KitSettings


class Settings(KitSettings):
    admin_email: str = "admin@hr-mnenie.ru"
    admin_password: SecretStr = SecretStr("admin-dev-password")
    access_ttl_s: int = Field(default=900, ge=30)
    refresh_ttl_s: int = Field(default=30 * 24 * 3600, ge=60)
    #: where a newcomer opens an invitation (the client's join page)
    invitation_base_url: str = "http://127.0.0.1:8000/join"
    #: keys the e-mail index; the index lives outside the log and is purged on erasure
    email_index_secret: SecretStr = SecretStr("dev-only-email-index-secret")
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=1024)
    #: failed sign-ins for one e-mail before it is locked (even the right password is refused)
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    #: how long the failures are remembered and the lock lasts, counted from the last failure
    login_lock_s: int = Field(default=900, ge=1, le=7 * 24 * 3600)
