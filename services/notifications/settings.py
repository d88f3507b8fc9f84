import re
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator

from libs.kit.settings import ENV_PREFIX, KitSettings, looks_like_placeholder

#: what the manifests' and .env.example's mail placeholders say (not PLACEHOLDER's "example": a real provider's
#: host may well be on a domain of that name in tests)
MANIFEST_PLACEHOLDER = re.compile(r"change[-_ .]?me|your-provider|your-domain|<your", re.IGNORECASE)

#: signs the unsubscribe links in development only (production refuses it)
DEV_UNSUBSCRIBE_SECRET = "hrm-notifications-unsubscribe-development-secret"


class Settings(KitSettings):
    #: it reads the members' keys (their addresses are sealed with them), wrapped by the kek
    PRODUCTION_REQUIRED: ClassVar[tuple[str, ...]] = ("token_public_key", "pii_kek", "unsubscribe_secret")
    KNOWN_DEVELOPMENT_VALUES: ClassVar[frozenset[str]] = KitSettings.KNOWN_DEVELOPMENT_VALUES | {
        DEV_UNSUBSCRIBE_SECRET}
    #: the mail server; none: e-mail is no channel here (nothing is queued, preferences say so)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    #: starttls (upgrade a plain connection), tls (TLS from the start, port 465), none (a local relay)
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=30.0, gt=0, le=300)
    #: the From header of every e-mail
    mail_sender: str = "HR-мнение <noreply@hr-mnenie.local>"
    #: the right-hand side of the Message-IDs (a domain of the platform's)
    mail_domain: str = "hr-mnenie.local"
    #: the web client's address, for the links in e-mails
    web_url: str = "http://127.0.0.1:8080"
    #: the gateway's public address: a mail client's one-click unsubscribe (RFC 8058) posts there
    api_url: str = "http://127.0.0.1:8000"
    #: signs the unsubscribe links (HMAC): a link works without signing in, only for its member and kind
    unsubscribe_secret: SecretStr = SecretStr(DEV_UNSUBSCRIBE_SECRET)
    #: how long before a registered event its people are reminded (hours; none: no reminders)
    reminder_hours: tuple[int, ...] = (24, 1)
    #: the zone whose midnight makes a task's due date past (the community's)
    community_time_zone: str = "Asia/Yekaterinburg"
    #: the hour (the member's time) a day's digest leaves the next morning
    digest_hour: int = Field(default=8, ge=0, le=23)
    #: the first pause after the mail server failed, doubled on each failure up to the maximum
    mail_first_backoff_s: float = Field(default=1.0, gt=0, le=600)
    mail_max_backoff_s: float = Field(default=300.0, gt=0, le=3600)

    @field_validator("smtp_host", "smtp_username", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        """An empty variable (``HRM_SMTP_USERNAME=`` as .env.example leaves it) means none, not an empty login."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("smtp_password", mode="before")
    @classmethod
    def _empty_password_is_unset(cls, value):
        return None if isinstance(value, str) and not value else value

    def production_problems(self) -> list[str]:
        """With a mail server in production, e-mails go from the community's account: the repository's sender,
        or a mail login or password left as a placeholder (deploy/k8s/secrets.yaml's CHANGE-ME), is refused."""
        problems = super().production_problems()
        if not self.smtp_host:
            return problems
        if self.mail_sender == type(self).model_fields["mail_sender"].default:
            problems.append(f"{ENV_PREFIX}MAIL_SENDER is the development default (e-mail is on)")
        for name in ("smtp_host", "mail_sender"):
            if MANIFEST_PLACEHOLDER.search(getattr(self, name) or ""):
                problems.append(f"{ENV_PREFIX}{name.upper()} looks like a placeholder")
        for name in ("smtp_username", "smtp_password"):
            value = getattr(self, name)
            plain = value.get_secret_value() if isinstance(value, SecretStr) else value
            if plain and (looks_like_placeholder(plain) or plain in self.KNOWN_DEVELOPMENT_VALUES):
                problems.append(f"{ENV_PREFIX}{name.upper()} looks like a placeholder")
        if self.smtp_tls == "none" and self.smtp_password is not None:
            problems.append(f"{ENV_PREFIX}SMTP_TLS=none with {ENV_PREFIX}SMTP_PASSWORD: the password would cross the "
                            "network in clear")
        return problems
