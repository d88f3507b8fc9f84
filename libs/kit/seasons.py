"""The community's seasons as settings: their days each year and the community's time zone.

The calendar names its seasons ``<year>-spring`` and ``<year>-autumn`` with these days by default; the
roles service opens a pick window for the season after the one the calendar closed, until its first
day. Both read the same variables (HRM_SPRING_SEASON, HRM_AUTUMN_SEASON, HRM_COMMUNITY_TIME_ZONE).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from libs.contracts.calendar import AUTUMN_SEASON, COMMUNITY_TIME_ZONE, SPRING_SEASON
from libs.kit.settings import KitSettings

HALVES = ("spring", "autumn")


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


class SeasonSettings(KitSettings):
    #: the zone of a season's days when a moderator gives none
    community_time_zone: str = COMMUNITY_TIME_ZONE
    #: the default days of ``<year>-spring`` and ``<year>-autumn`` seasons
    spring_season: str = _window(SPRING_SEASON)
    autumn_season: str = _window(AUTUMN_SEASON)

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

    def next_season(self, after: date) -> tuple[str, date]:
        """The first configured season that starts after the day ``after`` (a season's last day)."""
        starts = sorted((d[0], f"{year}-{half}") for year in (after.year, after.year + 1) for half in HALVES
                        if (d := self.default_dates(f"{year}-{half}")) is not None and d[0] > after)
        first, season_id = starts[0]
        return season_id, first

    def day_starts_at(self, day: date, zone: str | None = None) -> datetime:
        """The first moment of ``day`` in the zone (the community's by default), in UTC."""
        return datetime.combine(day, time(), ZoneInfo(zone or self.community_time_zone)).astimezone(UTC)
