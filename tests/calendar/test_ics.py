"""ICS feeds: every feed parses with the ``icalendar`` library, events come back as they went in (text
with RFC 5545's special characters, long Russian text, times as instants in the community's zone), an
update keeps the UID with a higher SEQUENCE, a cancellation says STATUS:CANCELLED, and every physical
line is CRLF-ended UTF-8 of at most 75 octets."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta, timezone

import icalendar
from hypothesis import given as for_all
from hypothesis import settings
from hypothesis import strategies as st

from libs.contracts.calendar import EventPlan
from services.calendar.ics import FeedEvent, escape_text, fold, render_feed

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PLUS_5 = timedelta(hours=5)
RUSSIAN = ("Игра «Переговоры о зарплате»: кейсы, роли; разбор ошибок — и снова кейсы, "
           "потому что без практики навык не держится. Ведущая — Екатерина Смирнова, HRBP.")


def event(uid: str = "e-1", **changes: object) -> FeedEvent:
    fields: dict[str, object] = dict(
        uid_id=uid, summary="Встреча, план; итоги", description="Первая строка\nвторая строка",
        starts_at=datetime(2026, 3, 10, 14, 0, tzinfo=UTC), ends_at=datetime(2026, 3, 10, 15, 30, tzinfo=UTC),
        location="Екатеринбург, ул. Ленина, 1; ауд. 5", url="https://meet.example.org/room?a=1&b=2",
        sequence=0, cancelled=False, updated_at=datetime(2026, 2, 20, 8, 0, tzinfo=UTC))
    fields.update(changes)
    return FeedEvent(**fields)  # type: ignore[arg-type]


def parse(feed: bytes) -> icalendar.Calendar:
    """The feed as icalendar reads it; a line it could not read (kept in ``errors``, not raised) fails."""
    cal = icalendar.Calendar.from_ical(feed)
    assert [c.errors for c in cal.walk() if c.errors] == []
    return cal


def vevents(feed: bytes) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in parse(feed).walk("VEVENT")}


def calendar_name(feed: bytes) -> str:
    """X-WR-CALNAME, written as TEXT: icalendar keeps an X- property as it stands, escapes and all, and reads
    it as TEXT only when told so by VALUE=TEXT."""
    raw = parse(feed)["X-WR-CALNAME"].to_ical()
    return str(parse(b"BEGIN:VCALENDAR\r\nX-NAME;VALUE=TEXT:" + raw + b"\r\nEND:VCALENDAR\r\n")["X-NAME"])


def physical_lines(feed: bytes) -> list[bytes]:
    assert feed.endswith(b"\r\n")
    lines = feed[:-2].split(b"\r\n")
    assert all(b"\r" not in line and b"\n" not in line for line in lines), "a bare CR or LF"
    return lines


def test_the_calendar_names_itself_and_carries_the_zone() -> None:
    cal = parse(render_feed("Сезон: весна 2026", [event()], NOW))

    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == "-//HR-mnenie//Calendar//RU"
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert calendar_name(render_feed("Сезон: весна, 2026; «Основной»", [], NOW)) == "Сезон: весна, 2026; «Основной»"
    assert str(cal["X-WR-TIMEZONE"]) == "Asia/Yekaterinburg"
    (zone,) = cal.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Asia/Yekaterinburg"
    (standard,) = zone.walk("STANDARD")
    assert standard["TZOFFSETFROM"].td == PLUS_5
    assert standard["TZOFFSETTO"].td == PLUS_5
    assert str(standard["TZNAME"]) == "+05"
    assert zone.walk("DAYLIGHT") == []


def test_an_event_round_trips() -> None:
    sent = event(summary=RUSSIAN + "\nи вторая строка, с запятой; и точкой с запятой \\ и обратной чертой",
                 description=RUSSIAN * 3, sequence=4)
    (got,) = parse(render_feed("Сезон", [sent], NOW)).walk("VEVENT")

    assert str(got["UID"]) == "e-1@hr-mnenie.ru"
    assert str(got["SUMMARY"]) == sent.summary
    assert str(got["DESCRIPTION"]) == sent.description
    assert str(got["LOCATION"]) == sent.location
    assert str(got["URL"]) == sent.url
    assert int(got["SEQUENCE"]) == 4
    assert str(got["STATUS"]) == "CONFIRMED"
    assert got["DTSTAMP"].dt == NOW
    assert got["LAST-MODIFIED"].dt == sent.updated_at
    start, end = got["DTSTART"].dt, got["DTEND"].dt
    assert (start, end) == (sent.starts_at, sent.ends_at)  # the same instants
    assert start.utcoffset() == end.utcoffset() == PLUS_5  # the TZID resolves to +05:00
    assert (start.hour, start.minute) == (19, 0)


def test_times_are_written_in_the_zone_and_stamps_in_utc() -> None:
    feed = render_feed("Сезон", [event()], NOW)
    unfolded = feed.replace(b"\r\n ", b"")

    assert b"\r\nDTSTART;TZID=Asia/Yekaterinburg:20260310T190000\r\n" in unfolded
    assert b"\r\nDTEND;TZID=Asia/Yekaterinburg:20260310T203000\r\n" in unfolded
    assert b"\r\nDTSTAMP:20260301T093000Z\r\n" in unfolded
    assert b"\r\nLAST-MODIFIED:20260220T080000Z\r\n" in unfolded


def test_a_start_given_in_another_offset_is_the_same_instant() -> None:
    moscow = timezone(timedelta(hours=3))
    sent = event(starts_at=datetime(2026, 3, 10, 17, 0, tzinfo=moscow), ends_at=datetime(2026, 3, 10, 18, 0,
                                                                                          tzinfo=moscow))
    (got,) = parse(render_feed("Сезон", [sent], NOW)).walk("VEVENT")

    assert got["DTSTART"].dt == sent.starts_at
    assert got["DTSTART"].dt.utcoffset() == PLUS_5


def test_an_update_keeps_the_uid_with_a_higher_sequence() -> None:
    first = vevents(render_feed("Сезон", [event(), event("e-2")], NOW))
    moved = event(starts_at=datetime(2026, 3, 11, 14, 0, tzinfo=UTC), ends_at=datetime(2026, 3, 11, 15, 0, tzinfo=UTC),
                  summary="Перенесли", sequence=1, updated_at=NOW)
    second = vevents(render_feed("Сезон", [moved, event("e-2")], NOW + timedelta(hours=1)))

    assert first.keys() == second.keys() == {"e-1@hr-mnenie.ru", "e-2@hr-mnenie.ru"}
    before, after = first["e-1@hr-mnenie.ru"], second["e-1@hr-mnenie.ru"]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert str(after["SUMMARY"]) == "Перенесли"
    assert after["DTSTART"].dt == moved.starts_at
    assert after["LAST-MODIFIED"].dt > before["LAST-MODIFIED"].dt


def test_a_cancelled_event_says_so() -> None:
    got = vevents(render_feed("Сезон", [event(), event("e-2", cancelled=True, sequence=2)], NOW))

    assert str(got["e-1@hr-mnenie.ru"]["STATUS"]) == "CONFIRMED"
    assert str(got["e-2@hr-mnenie.ru"]["STATUS"]) == "CANCELLED"
    assert int(got["e-2@hr-mnenie.ru"]["SEQUENCE"]) == 2


def test_the_same_events_render_the_same_bytes() -> None:
    events = [event("e-2", starts_at=datetime(2026, 4, 1, 10, tzinfo=UTC), ends_at=datetime(2026, 4, 1, 11, tzinfo=UTC)),
              event("e-1")]

    assert render_feed("Сезон", events, NOW) == render_feed("Сезон", list(reversed(events)), NOW)
    assert [str(e["UID"]) for e in parse(render_feed("Сезон", events, NOW)).walk("VEVENT")] == [
        "e-1@hr-mnenie.ru", "e-2@hr-mnenie.ru"]


def test_an_empty_feed_parses() -> None:
    cal = parse(render_feed("Пусто", [], NOW))

    assert cal.walk("VEVENT") == []
    assert len(cal.walk("VTIMEZONE")) == 1


def test_optional_fields_are_left_out_when_empty() -> None:
    (got,) = parse(render_feed("Сезон", [event(description="", location=None, url=None)], NOW)).walk("VEVENT")

    assert "DESCRIPTION" not in got and "LOCATION" not in got and "URL" not in got


def test_every_physical_line_is_utf8_of_at_most_75_octets() -> None:
    long = event(summary=RUSSIAN * 4, description=("ж" * 37 + "\n") * 20, location="Ё" * 100,
                 url="https://meet.example.org/" + "x" * 300)
    feed = render_feed("Очень длинное название календаря сезона " * 5, [long, event("e-2")], NOW)

    lines = physical_lines(feed)
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")  # no character split across a fold
    assert sum(line.startswith(b" ") for line in lines) > 10
    (got,) = [e for e in parse(feed).walk("VEVENT") if str(e["UID"]) == "e-1@hr-mnenie.ru"]
    assert str(got["SUMMARY"]) == long.summary
    assert str(got["URL"]) == long.url


def test_folding_fills_lines_to_exactly_75_octets_around_multibyte_characters() -> None:
    assert fold("a" * 75) == b"a" * 75 + b"\r\n"
    assert fold("a" * 76) == b"a" * 75 + b"\r\n a\r\n"
    # 74 ASCII octets leave one: the two-octet letter goes to the next line whole
    assert fold("a" * 74 + "я") == b"a" * 74 + b"\r\n " + "я".encode() + b"\r\n"
    assert fold("😀" * 40).split(b"\r\n")[0] == "😀".encode() * 18  # 72 octets: a 19th would make 76


def test_control_characters_do_not_pass_through() -> None:
    sent = event(summary="a\x00b\x07c\x1bd\x7fe\tf", description="one\r\ntwo\rthree\nfour\x0bfive",
                 url="https://x.example/\r\nBEGIN:VEVENT")
    feed = render_feed("Сезон\x00\nвесна", [sent], NOW)

    assert not any(byte < 0x20 and byte not in (0x09, 0x0A, 0x0D) or byte == 0x7F for byte in feed)
    (got,) = parse(feed).walk("VEVENT")
    assert str(got["SUMMARY"]) == "abcde\tf"
    assert str(got["DESCRIPTION"]) == "one\ntwo\nthree\nfourfive"
    assert str(got["URL"]) == "https://x.example/BEGIN:VEVENT"
    assert calendar_name(feed) == "Сезон весна"


def test_text_escaping() -> None:
    assert escape_text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"
    assert escape_text("\\n") == "\\\\n"  # a backslash and an n, not a line break


def test_a_naive_time_is_refused() -> None:
    try:
        render_feed("Сезон", [event(starts_at=datetime(2026, 3, 10, 14, 0))], NOW)
    except ValueError as refused:
        assert "naive" in str(refused)
    else:
        raise AssertionError("a naive time was rendered")


def test_a_grid_event_becomes_a_feed_event() -> None:
    plan = EventPlan(kind="online_meeting", title="Разбор кейсов", starts_at=datetime(2026, 3, 10, 14, tzinfo=UTC),
                     ends_at=datetime(2026, 3, 10, 15, tzinfo=UTC), call_link="https://meet.example.org/r",
                     capacity=30, host_id="h-1")
    sent = FeedEvent.of_plan("e-9", plan, revision=3, cancelled=True, updated_at=NOW)
    (got,) = parse(render_feed("Сезон", [sent], NOW)).walk("VEVENT")

    assert str(got["UID"]) == "e-9@hr-mnenie.ru"
    assert str(got["SUMMARY"]) == "Разбор кейсов"
    assert str(got["URL"]) == "https://meet.example.org/r"
    assert "LOCATION" not in got
    assert (int(got["SEQUENCE"]), str(got["STATUS"])) == (3, "CANCELLED")


CYRILLIC = "".join(chr(c) for c in range(0x0400, 0x0460))
ALPHABET = string.ascii_letters + string.digits + string.punctuation + " \t\n" + CYRILLIC + "«»—–…№ё"
texts = st.text(alphabet=ALPHABET, max_size=500)


@settings(max_examples=200, deadline=None)
@for_all(summary=texts, description=texts)
def test_any_text_survives_the_feed(summary: str, description: str) -> None:
    feed = render_feed("Сезон", [event(summary=summary, description=description)], NOW)

    assert all(len(line) <= 75 for line in physical_lines(feed))
    (got,) = parse(feed).walk("VEVENT")
    assert str(got["SUMMARY"]) == summary
    assert str(got.get("DESCRIPTION", "")) == description
