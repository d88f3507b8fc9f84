from typing import ClassVar

from pydantic import Field, SecretStr

from libs.kit.seasons import SeasonSettings

#: signs the members' ICS links in development only (production refuses it)
DEV_FEED_SECRET = "hrm-calendar-feed-development-secret"


class Settings(SeasonSettings):
    #: the calendar seals what members write (their requests): it reads their keys, wrapped by the kek
    PRODUCTION_REQUIRED: ClassVar[tuple[str, ...]] = ("token_public_key", "pii_kek", "feed_secret")
    #: derives each member's ICS link token (with their feed generation): no secret is kept in the log
    feed_secret: SecretStr = SecretStr(DEV_FEED_SECRET)
    #: how long a game team has to take a place offered to it when another team left
    team_offer_hours: int = Field(default=48, ge=1, le=24 * 30)
    #: the largest season feed or personal feed, in events
    feed_max_events: int = Field(default=500, ge=1, le=5000)
