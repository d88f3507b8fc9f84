"""A member's ICS links: a token derived from the server's secret and the member's feed generation, so no
secret is ever stored, and renewing the links (the next generation) makes every earlier one answer 404."""

from __future__ import annotations

import base64
import hashlib
import hmac

from libs.contracts import calendar as c
from libs.contracts.envelope import Actor
from services.calendar.settings import Settings

#: a link token's length in characters (base64url of the HMAC's first 24 bytes: 192 bits)
TOKEN_CHARS = 32
FEED_ROOT = "/v1/calendar/feeds"


def in_main(actor: Actor) -> bool:
    return actor.has("member")


def feed_token(settings: Settings, member_id: str, generation: int) -> str:
    mac = hmac.new(settings.feed_secret.get_secret_value().encode(), f"{member_id}:{generation}".encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode()


def feed_links(settings: Settings, member_id: str, generation: int) -> c.FeedLinks:
    root = f"{FEED_ROOT}/{member_id}/{feed_token(settings, member_id, generation)}"
    return c.FeedLinks(personal=f"{root}/personal.ics", season=f"{root}/seasons/{{season_id}}.ics",
                       group=f"{root}/groups/{{group_id}}.ics", generation=generation)
