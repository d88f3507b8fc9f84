from datetime import date
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator

from libs.contracts.calendar import AUTUMN_SEASON, COMMUNITY_TIME_ZONE, SPRING_SEASON
from libs.kit.settings import KitSettings

#: signs the members' ICS links in development only (production refuses it)
DEV_FEED_SECRET = "hrm-calendar-feed-development-secret"


def _window(value: tuple[tuple[int, int], tuple[int, int]]) -> str:
    (m1, d1), (m2, d2) = value
    return f"{m1:02d}-{d1:02d}..{m2:02d}-{d2:02d}"


def season_window(value: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """``MM-DD..MM-DD``: the first and the last day of a season, within one year."""
    first, sep, last = value.partition("..")
    try:
        (m1, d1), (m2, d2) = (tuple(int(x) for x in part.split("-")) for part in (first, last))
        start, end = date(2001, m1, d1), date(2001, m2, d2)  # not a leap year: 02-29 is no season boundary
    except ValueError:
        raise ValueError("a season is MM-DD..MM-DD") from None
    if not sep or end < start:
        raise ValueError("a season is MM-DD..MM-DD, its last day after its first")
    return (m1, d1), (m2, d2)


class Settings(KitSettings):
    #: the calendar seals what members write (their requests): it reads their keys, wrapped by the kek
    PRODUCTION_REQUIRED: ClassVar[tuple[str, ...]] = ("token_public_key", "pii_kek", "feed_secret")
    #: derives each member's ICS link token (with their feed generation): no secret is kept in the log
    feed_secret: SecretStr = SecretStr(DEV_FEED_SECRET)
    #: the zone of a season's days when a moderator gives none
    community_time_zone: str = COMMUNITY_TIME_ZONE
    #: the default days of ``<year>-spring`` and ``<year>-autumn`` seasons
    spring_season: str = _window(SPRING_SEASON)
    autumn_season: str = _window(AUTUMN_SEASON)
    #: how long a game team has to take a place offered to it when another team left
    team_offer_hours: int = Field(default=48, ge=1, le=24 * 30)
    #: the largest season feed or personal feed, in events
    feed_max_events: int = Field(default=500, ge=1, le=5000)

    @field_validator("spring_season", "autumn_season")
    @classmethod
    def _window_ok(cls, value: str) -> str:
        season_window(value)
        return value

    @field_validator("community_time_zone")
    @classmethod
    def _zone_ok(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA time zone, e.g. Asia/Yekaterinburg") from None
        return value

    def default_dates(self, season_id: str) -> tuple[date, date] | None:
        """The configured days of ``<year>-spring`` / ``<year>-autumn``; None for any other name."""
        year, _, half = season_id.partition("-")
        window = {"spring": self.spring_season, "autumn": self.autumn_season}.get(half)
        if window is None or not (year.isdigit() and len(year) == 4):
            return None
        (m1, d1), (m2, d2) = season_window(window)
        return date(int(year), m1, d1), date(int(year), m2, d2)
