"""The notifications deciders: a notification is raised once, in the channel the member chose (nothing at
all when it is off), its e-mail queued at once or at the end of quiet hours in the member's zone, sent once
and never after it was dropped; preferences keep only what differs from the defaults and an erased member's
are gone; a day's digest gathers its notifications and is sent once; unsubscribe links are signed per
member and kind; the letters say it in Russian or English, in plain text and HTML."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from libs.contracts import notifications as n
from libs.contracts.errors import NotFound
from libs.kit.decider import given
from services.notifications import domain as d
from services.notifications import texts
from services.notifications.domain import DIGEST, NOTIFICATION, PREFERENCES
from services.notifications.links import LinkInvalid, read_token, unsubscribe_token

NID = "0190b0a0-0000-7000-8000-000000000001"
ANNA = "anna"
YEKT = "Asia/Yekaterinburg"  # UTC+5
#: 12:00 in Yekaterinburg
NOON = datetime(2027, 3, 1, 7, tzinfo=UTC)
#: 23:00 in Yekaterinburg
NIGHT = datetime(2027, 3, 1, 18, tzinfo=UTC)
#: 08:00 the next morning in Yekaterinburg
MORNING = datetime(2027, 3, 2, 3, tzinfo=UTC)
PREFS = d.Preferences()


def raised(channel: n.Channel = "email_now", at: datetime = NOON) -> n.NotificationRaised:
    return n.NotificationRaised(notification_id=NID, member_id=ANNA, kind="access_granted", params={},
                                channel=channel, raised_at=at)


def raise_(prefs: d.Preferences = PREFS, now: datetime = NOON, possible: bool = True, kind: str = "access_granted"):
    return d.Raise(NID, ANNA, kind, {}, prefs, possible, now)


def queued(at: datetime = NOON) -> n.EmailQueued:
    return n.EmailQueued(notification_id=NID, member_id=ANNA, send_after=at)


# ---------------------------------------------------------------- a notification


def test_raised_with_its_email_queued_at_once_by_day():
    given(NOTIFICATION).when(raise_()).then(raised(), queued())


def test_raised_at_night_waits_until_the_quiet_hours_end():
    given(NOTIFICATION).when(raise_(now=NIGHT)).then(raised(at=NIGHT), queued(MORNING))


def test_raised_once_however_often_the_cause_arrives():
    given(NOTIFICATION, raised(), queued()).when(raise_()).then()


def test_a_kind_turned_off_raises_nothing():
    off = d.Preferences(channels={"access_granted": "off"})
    given(NOTIFICATION).when(raise_(off)).then()


def test_an_erased_member_is_told_nothing():
    given(NOTIFICATION).when(raise_(d.Preferences(erased=True))).then()


def test_in_the_app_only_queues_no_email():
    in_app = d.Preferences(channels={"access_granted": "in_app"})
    given(NOTIFICATION).when(raise_(in_app)).then(raised("in_app"))


def test_without_an_address_or_a_mail_server_it_stays_in_the_app():
    given(NOTIFICATION).when(raise_(possible=False)).then(raised("in_app"))
    given(NOTIFICATION).when(raise_(possible=False, kind="mention")).then(
        n.NotificationRaised(notification_id=NID, member_id=ANNA, kind="mention", params={}, channel="in_app",
                             raised_at=NOON))


def test_the_digest_kind_queues_no_email_of_its_own():
    given(NOTIFICATION).when(raise_(kind="mention")).then(
        n.NotificationRaised(notification_id=NID, member_id=ANNA, kind="mention", params={}, channel="digest",
                             raised_at=NOON))


def test_an_email_is_recorded_sent_once():
    sent = n.EmailSent(notification_id=NID, member_id=ANNA, message_id="<x@y>", language="en", sent_at=NOON)
    given(NOTIFICATION, raised(), queued()).when(d.RecordSent("<x@y>", "en", NOON)).then(sent)
    given(NOTIFICATION, raised(), queued(), sent).when(d.RecordSent("<x@y>", "en", NOON)).then()


def test_a_dropped_email_is_never_sent():
    dropped = n.EmailDropped(notification_id=NID, member_id=ANNA, reason="erased")
    given(NOTIFICATION, raised(), queued()).when(d.Drop("erased")).then(dropped)
    given(NOTIFICATION, raised(), queued(), dropped).when(d.RecordSent("<x@y>", "ru", NOON)).then()


def test_a_deferred_email_waits_again_only_when_its_time_moves():
    given(NOTIFICATION, raised(), queued()).when(d.Defer(MORNING)).then(
        n.EmailDeferred(notification_id=NID, member_id=ANNA, send_after=MORNING))
    given(NOTIFICATION, raised(), queued(MORNING)).when(d.Defer(MORNING)).then()


def test_read_by_its_member_only():
    given(NOTIFICATION, raised()).when(d.MarkRead(ANNA)).then(n.NotificationMarkedRead(notification_id=NID, member_id=ANNA))
    given(NOTIFICATION, raised(), n.NotificationMarkedRead(notification_id=NID, member_id=ANNA)).when(d.MarkRead(ANNA)).then()
    given(NOTIFICATION, raised()).when(d.MarkRead("boris")).refused(NotFound, "notification_not_found")
    given(NOTIFICATION).when(d.MarkRead(ANNA)).refused(NotFound, "notification_not_found")


def test_the_verdict_when_an_email_is_due():
    facts = lambda prefs=PREFS, known=True, now=NOON: d.EmailFacts(prefs, known, now)  # noqa: E731
    assert d.email_verdict("access_granted", facts()) is None
    assert d.email_verdict("access_granted", facts(now=NIGHT)) == d.Defer(MORNING)
    assert d.email_verdict("access_granted", facts(known=False)) == d.Drop("no_address")
    assert d.email_verdict("access_granted", facts(d.Preferences(erased=True))) == d.Drop("erased")
    off = d.Preferences(channels={"access_granted": "in_app"})
    assert d.email_verdict("access_granted", facts(off)) == d.Drop("turned_off")


# ---------------------------------------------------------------- quiet hours


@pytest.mark.parametrize("local, until", [
    ("21:59", None), ("22:00", "2027-03-02 08:00"), ("23:30", "2027-03-02 08:00"), ("03:00", "2027-03-01 08:00"),
    ("07:59", "2027-03-01 08:00"), ("08:00", None), ("12:00", None),
])
def test_quiet_hours_over_midnight_in_the_members_zone(local, until):
    h, m = map(int, local.split(":"))
    day = date(2027, 3, 1)
    now = datetime(day.year, day.month, day.day, h, m, tzinfo=d.zone_of(YEKT)).astimezone(UTC)
    got = d.quiet_until(now, n.QuietHours(starts="22:00", ends="08:00"), YEKT)
    assert (got.astimezone(d.zone_of(YEKT)).strftime("%Y-%m-%d %H:%M") if got else None) == until


def test_quiet_hours_within_a_day_and_none():
    afternoon = n.QuietHours(starts="13:00", ends="15:00")
    assert d.quiet_until(NOON, afternoon, YEKT) is None
    assert d.quiet_until(NOON + timedelta(hours=1, minutes=30), afternoon, YEKT) == NOON + timedelta(hours=3)
    assert d.quiet_until(NIGHT, None, YEKT) is None
    assert d.quiet_until(NIGHT, n.QuietHours(starts="10:00", ends="10:00"), YEKT) is None


def test_the_zone_is_the_members():
    # 23:00 in Yekaterinburg is 19:00 in Moscow: not quiet there
    assert d.quiet_until(NIGHT, n.QuietHours(), "Europe/Moscow") is None


# ---------------------------------------------------------------- preferences


def test_preferences_keep_what_differs_from_the_defaults():
    changed = given(PREFERENCES).when(d.SetPreferences(ANNA, {"mention": "email_now", "access_granted": "email_now"},
                                                       "en", None, None)).then(
        n.PreferencesChanged(member_id=ANNA, channels={"mention": "email_now"}, language="en"))
    assert changed.channel("mention") == "email_now" and changed.channel("join_request") == "email_now"


def test_preferences_unchanged_append_nothing():
    given(PREFERENCES).when(d.SetPreferences(ANNA, {"mention": "digest"}, "ru", YEKT)).then()


def test_quiet_hours_can_be_turned_off_and_zones_are_checked():
    given(PREFERENCES).when(d.SetPreferences(ANNA, {}, no_quiet_hours=True)).then(
        n.PreferencesChanged(member_id=ANNA, quiet_hours=None))
    given(PREFERENCES).when(d.SetPreferences(ANNA, {}, time_zone="Mars/Olympus")).refused(
        d.TimeZoneUnknown, "time_zone_unknown", time_zone="Mars/Olympus")


def test_unsubscribed_once_and_an_erased_member_keeps_nothing():
    state = given(PREFERENCES).when(d.Unsubscribe(ANNA, "pick_window_opened")).then(
        n.Unsubscribed(member_id=ANNA, kind="pick_window_opened"))
    assert state.channel("pick_window_opened") == "off"
    given(PREFERENCES, n.Unsubscribed(member_id=ANNA, kind="mention")).when(d.Unsubscribe(ANNA, "mention")).then()
    erased = given(PREFERENCES, n.PreferencesChanged(member_id=ANNA, language="en")).when(
        d.ErasePreferences(ANNA)).then(n.PreferencesErased(member_id=ANNA))
    assert erased.language == "ru" and all(erased.channel(k) == "off" for k in n.KINDS)
    given(PREFERENCES, n.PreferencesErased(member_id=ANNA)).when(d.SetPreferences(ANNA, {})).refused(
        NotFound, "member_not_found")


# ---------------------------------------------------------------- the digest


def test_a_day_gathers_into_one_digest_sent_once_the_next_morning():
    due = d.digest_due(date(2027, 3, 1), YEKT, 8, n.QuietHours())
    assert due == MORNING
    dig = n.digest_id(ANNA, "2027-03-01")
    add = lambda nid: d.AddToDigest(dig, ANNA, nid, date(2027, 3, 1), due)  # noqa: E731
    item = lambda nid: n.DigestItemAdded(digest_id=dig, member_id=ANNA, notification_id=nid, day="2027-03-01",  # noqa: E731
                                         send_after=due)
    given(DIGEST).when(add("a")).then(item("a"))
    given(DIGEST, item("a")).when(add("a")).then()
    state = given(DIGEST, item("a")).when(add("b")).then(item("b"))
    assert state.items == ("a", "b")
    sent = n.DigestSent(digest_id=dig, member_id=ANNA, notification_ids=("a", "b"), message_id="<m>", language="ru",
                        sent_at=MORNING)
    given(DIGEST, item("a"), item("b")).when(d.RecordDigestSent("<m>", "ru", MORNING)).then(sent)
    given(DIGEST, item("a"), item("b"), sent).when(d.RecordDigestSent("<m>", "ru", MORNING)).then()
    given(DIGEST, item("a"), sent).when(add("c")).then()  # it goes to the next day's


def test_a_digest_waits_when_quiet_hours_moved_over_its_time():
    dig = n.digest_id(ANNA, "2027-03-01")
    item = n.DigestItemAdded(digest_id=dig, member_id=ANNA, notification_id="a", day="2027-03-01",
                             send_after=MORNING)
    later = MORNING + timedelta(hours=2)
    given(DIGEST, item).when(d.DeferDigest(later)).then(
        n.DigestDeferred(digest_id=dig, member_id=ANNA, send_after=later))
    given(DIGEST, item).when(d.DeferDigest(MORNING)).then()
    given(DIGEST, item).when(d.DropDigest("erased")).then(n.DigestDropped(digest_id=dig, member_id=ANNA,
                                                                         reason="erased"))
    given(DIGEST).when(d.DropDigest("erased")).then()


def test_a_digest_due_in_quiet_hours_waits_for_their_end():
    late = n.QuietHours(starts="22:00", ends="09:30")
    assert d.digest_due(date(2027, 3, 1), YEKT, 8, late) == MORNING + timedelta(hours=1, minutes=30)


# ---------------------------------------------------------------- links and letters


def test_unsubscribe_links_are_signed_per_member_and_kind():
    token = unsubscribe_token("s3cret", ANNA, "mention")
    assert read_token("s3cret", token) == (ANNA, "mention")
    member, kind, sig = token.split(".")
    for forged in (f"boris.{kind}.{sig}", f"{member}.join_request.{sig}", f"{member}.{kind}.{sig[:-2]}xx",
                   "nonsense", f"{member}.{kind}."):
        with pytest.raises(LinkInvalid):
            read_token("s3cret", forged)
    with pytest.raises(LinkInvalid):
        read_token("another", token)


def test_letters_in_both_languages_with_text_and_html():
    ru = texts.letter([texts.Line("join_request", {"group_title": "<Игры>", "group_id": "g1"})], "ru",
                      "https://hr.example", "https://hr.example/notifications/unsubscribe?token=t", "join_request")
    assert ru.subject == "Заявка на вступление в группу «<Игры>»"
    assert "https://hr.example/groups/g1" in ru.text and "token=t" in ru.text
    assert "&lt;Игры&gt;" in ru.html and "<Игры>" not in ru.html
    en = texts.letter([texts.Line("access_granted", {}), texts.Line("mention", {"group_title": "G", "group_id": "g"})],
                      "en", "https://hr.example/", None, None, subject=texts.word("digest_subject", "en", day="x"))
    assert en.subject == "Your notifications of x"
    assert "You have been admitted" in en.text and "mentioned" in en.text and "Open: https://hr.example/" in en.text
    assert set(texts.TITLES) == set(texts.LINKS) == set(texts.KIND_NAMES) == set(n.KINDS)
