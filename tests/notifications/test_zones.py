"""A time zone is a zone: a name the zone database holds as a folder of zones ("Europe", "America") is refused
as unknown (422 time_zone_unknown), not a server error (zoneinfo raised IsADirectoryError for it)."""

from __future__ import annotations

import pytest

from services.notifications.domain import TimeZoneUnknown, zone_of
from tests.e2e.helpers import log_position, settle
from tests.e2e.test_chat import people

__all__ = ["people"]


@pytest.mark.parametrize("name", ["Europe", "America", "Etc", "Europe/", "Nowhere/City"])
def test_a_folder_of_zones_is_no_zone(name):
    with pytest.raises(TimeZoneUnknown):
        zone_of(name)


async def test_preferences_with_a_folder_of_zones_are_refused_and_change_nothing(platform, people):
    _, anna = people["anna"]
    await settle(platform)
    before = await log_position(platform)
    async with platform.client(anna) as c:
        r = await c.put("/v1/me/notification-preferences", json={"time_zone": "Europe"})
        assert r.status_code == 422 and r.json()["code"] == "time_zone_unknown", r.text
        assert (await c.get("/v1/me/notification-preferences")).json()["time_zone"] == "Asia/Yekaterinburg"
    await settle(platform)
    assert await log_position(platform) == before
