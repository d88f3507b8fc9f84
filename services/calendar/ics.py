"""ICS feeds (RFC 5545): a season's, a group's or a member's events as one iCalendar object. Pure: the
caller reads the events and the clock; this renders the bytes a calendar client subscribes to.

Each event keeps its UID across renders (``<event id>@hr-mnenie.ru``) and carries its revision as
SEQUENCE, so a client replaces an updated or cancelled event instead of adding a second one. Times
are written in the community's zone (Asia/Yekaterinburg, with its VTIMEZONE), stamps in UTC.

Drafted here before the calendar service is wired; it moves to ``services/calendar/ics.py`` then.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from libs.contracts.calendar import COMMUNITY_TIME_ZONE, EventPlan

UID_DOMAIN = "hr-mnenie.ru"
PRODID = "-//HR-mnenie//Calendar//RU"
#: Asia/Yekaterinburg: UTC+05:00 without daylight saving since 26 October 2014; the VTIMEZONE below
#: and the local times written say the same, from this one offset
ZONE_OFFSET = timedelta(hours=5)
_ZONE = timezone(ZONE_OFFSET)
#: octets of one physical line, its CRLF not counted (RFC 5545, 3.1)
LINE_OCTETS = 75


@dataclass(frozen=True)
class FeedEvent:
    """One event as a feed shows it. Times are aware (any offset; written in the community's zone)."""

    uid_id: str
    summary: str
    description: str
    starts_at: datetime
    ends_at: datetime
    location: str | None
    url: str | None
    #: the event's revision: higher on each change, so the client takes the newer one
    sequence: int
    cancelled: bool
    updated_at: datetime

    @classmethod
    def of_plan(cls, event_id: str, plan: EventPlan, *, revision: int, cancelled: bool, updated_at: datetime,
                description: str = "") -> FeedEvent:
        """A grid event (its plan, revision and status) as a feed event."""
        return cls(event_id, plan.title, description, plan.starts_at, plan.ends_at, plan.place, plan.call_link,
                   revision, cancelled, updated_at)


def render_feed(name: str, events: Iterable[FeedEvent], now: datetime) -> bytes:
    """The feed ``name`` holding ``events`` (by start time), stamped at ``now``: UTF-8, CRLF, folded lines."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        # one line, escaped as TEXT (as the clients that read it take it)
        f"X-WR-CALNAME:{escape_text(' '.join(name.splitlines()))}",
        f"X-WR-TIMEZONE:{COMMUNITY_TIME_ZONE}",
        *_vtimezone(),
    ]
    stamp = _utc(now)
    for event in sorted(events, key=lambda e: (_utc(e.starts_at), e.uid_id)):
        lines.extend(_vevent(event, stamp))
    lines.append("END:VCALENDAR")
    return b"".join(fold(line) for line in lines)


def _vtimezone() -> list[str]:
    offset = _offset(ZONE_OFFSET)
    return [
        "BEGIN:VTIMEZONE",
        f"TZID:{COMMUNITY_TIME_ZONE}",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        f"TZOFFSETFROM:{offset}",
        f"TZOFFSETTO:{offset}",
        f"TZNAME:{offset[:3]}",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]


def _vevent(event: FeedEvent, stamp: str) -> Iterator[str]:
    yield "BEGIN:VEVENT"
    yield f"UID:{escape_text(event.uid_id)}@{UID_DOMAIN}"
    yield f"DTSTAMP:{stamp}"
    yield f"DTSTART;TZID={COMMUNITY_TIME_ZONE}:{_local(event.starts_at)}"
    yield f"DTEND;TZID={COMMUNITY_TIME_ZONE}:{_local(event.ends_at)}"
    yield f"SUMMARY:{escape_text(event.summary)}"
    if event.description:
        yield f"DESCRIPTION:{escape_text(event.description)}"
    if event.location:
        yield f"LOCATION:{escape_text(event.location)}"
    if event.url:
        # a URI, not text: nothing is escaped, but nothing that would break the line gets through
        yield f"URL:{_without_controls(event.url)}"
    yield f"SEQUENCE:{max(event.sequence, 0)}"
    yield f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}"
    yield f"LAST-MODIFIED:{_utc(event.updated_at)}"
    yield "END:VEVENT"


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545, 3.3.11): backslash, semicolon and comma escaped, any line break as ``\\n``,
    other control characters dropped (a tab stays)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _without_controls(value, keep="\t\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _without_controls(value: str, keep: str = "") -> str:
    return "".join(ch for ch in value if ch in keep or unicodedata.category(ch) not in ("Cc", "Cs"))


def fold(line: str) -> bytes:
    """One content line as UTF-8 with its CRLF, folded so that no physical line passes 75 octets and no
    character is split across two."""
    out = bytearray()
    width = 0
    for ch in line:
        octets = ch.encode("utf-8")
        if width + len(octets) > LINE_OCTETS:
            out += b"\r\n "
            width = 1
        out += octets
        width += len(octets)
    out += b"\r\n"
    return bytes(out)


def _utc(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(moment: datetime) -> str:
    return _aware(moment).astimezone(_ZONE).strftime("%Y%m%dT%H%M%S")


def _aware(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"a naive time has no place in a feed: {moment.isoformat()}")
    return moment


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
