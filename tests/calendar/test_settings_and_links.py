"""The calendar's settings (configurable seasons and zone, refused when wrong) and its feed links (a token
per member and generation, unguessable from another's, different after renewal)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import SecretStr, ValidationError

from services.calendar.links import feed_links, feed_token
from services.calendar.settings import Settings


def test_default_seasons_are_the_communitys_and_configurable():
    s = Settings()
    assert s.default_dates("2027-spring") == (date(2027, 2, 15), date(2027, 7, 1))
    assert s.default_dates("2027-autumn") == (date(2027, 8, 15), date(2027, 12, 15))
    assert s.default_dates("2027-summer") is None and s.default_dates("27-spring") is None
    assert s.community_time_zone == "Asia/Yekaterinburg"
    moved = Settings(spring_season="03-01..06-30")
    assert moved.default_dates("2028-spring") == (date(2028, 3, 1), date(2028, 6, 30))


@pytest.mark.parametrize("field,value", [("spring_season", "07-01..02-15"), ("spring_season", "13-01..14-01"),
                                         ("autumn_season", "08-15"), ("autumn_season", "*"), ("spring_season", "02-29..07-01"),
                                         ("community_time_zone", "Mars/Olympus"), ("community_time_zone", "")])
def test_a_wrong_season_or_zone_is_refused_at_start(field, value):
    with pytest.raises(ValidationError):
        Settings(**{field: value})


def test_production_refuses_the_development_feed_secret():
    with pytest.raises(ValidationError, match="HRM_FEED_SECRET"):
        Settings(env="production", token_public_key="x" * 40, pii_kek="A" * 43 + "=")


def test_a_link_token_is_the_members_and_the_generations_own():
    s = Settings(feed_secret=SecretStr("s" * 32))
    tokens = {feed_token(s, m, g) for m in ("anna", "boris") for g in range(3)}
    assert len(tokens) == 6 and all(len(t) == 32 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)
    assert feed_token(s, "anna", 0) != feed_token(Settings(feed_secret=SecretStr("t" * 32)), "anna", 0)
    links = feed_links(s, "anna", 2)
    assert links.personal == f"/v1/calendar/feeds/anna/{feed_token(s, 'anna', 2)}/personal.ics"
    assert links.season.endswith("/seasons/{season_id}.ics") and links.generation == 2
