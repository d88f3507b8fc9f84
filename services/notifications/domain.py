"""The notifications deciders (pure): a notification and its e-mail, a member's preferences, a member's
daily digest; and the clock arithmetic of quiet hours and digests in the member's own time zone.

What the deciders cannot know (the member's preferences when a notification is raised, whether a mail
server is configured and an address known, the time) arrives in their commands: a policy gathers it,
the decider only decides."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from libs.contracts.base import Event
from libs.contracts.errors import DomainError, NotFound
from libs.contracts.notifications import (
    DEFAULT_CHANNELS,
    DEFAULT_TIME_ZONE,
    DIGEST_EVENTS,
    KINDS,
    NOTIFICATION_EVENTS,
    PREFERENCE_EVENTS,
    SERVICE,
    Channel,
    DigestDeferred,
    DigestDropped,
    DigestItemAdded,
    DigestSent,
    DropReason,
    EmailDeferred,
    EmailDropped,
    EmailQueued,
    EmailSent,
    Language,
    NotificationMarkedRead,
    NotificationRaised,
    NotificationsDataCollected,
    PreferencesChanged,
    PreferencesErased,
    QuietHours,
    Unsubscribed,
)
from libs.kit.data_parts import part_decider
from libs.kit.decider import Decider


class TimeZoneUnknown(DomainError):
    kind = "validation"


# ---------------------------------------------------------------- the clock in the member's zone


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones ("Europe") is no zone
        raise TimeZoneUnknown("time_zone_unknown", time_zone=name) from None


def _clock(value: str) -> time:
    h, m = value.split(":")
    return time(int(h), int(m))


def quiet_until(now: datetime, quiet: QuietHours | None, zone: str) -> datetime | None:
    """When the member's quiet hours end, if ``now`` falls in them (else None). Over midnight when they
    end earlier than they start; equal times: none."""
    if quiet is None or quiet.starts == quiet.ends:
        return None
    tz = zone_of(zone)
    local = now.astimezone(tz)
    starts, ends = _clock(quiet.starts), _clock(quiet.ends)
    t = local.time()
    if starts < ends:
        inside = starts <= t < ends
        end_day = local.date()
    else:  # over midnight
        inside = t >= starts or t < ends
        end_day = local.date() + timedelta(days=1) if t >= starts else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, ends, tzinfo=tz).astimezone(now.tzinfo)


def local_day(at: datetime, zone: str) -> date:
    return at.astimezone(zone_of(zone)).date()


def digest_due(day: date, zone: str, hour: int, quiet: QuietHours | None) -> datetime:
    """A day's digest leaves the next morning at ``hour`` (the member's time), or when their quiet hours
    end if it falls in them."""
    at = datetime.combine(day + timedelta(days=1), time(hour), tzinfo=zone_of(zone))
    return quiet_until(at, quiet, zone) or at


# ---------------------------------------------------------------- preferences (aggregate ``preferences``)


@dataclass(frozen=True)
class Preferences:
    channels: dict[str, Channel] = field(default_factory=dict)
    language: Language = "ru"
    time_zone: str = DEFAULT_TIME_ZONE
    quiet_hours: QuietHours | None = QuietHours()
    erased: bool = False

    def channel(self, kind: str) -> Channel:
        if self.erased:
            return "off"
        return self.channels.get(kind) or DEFAULT_CHANNELS[kind]  # type: ignore[index]


@dataclass(frozen=True)
class SetPreferences:
    member_id: str
    channels: dict[str, Channel]
    language: Language | None = None
    time_zone: str | None = None
    quiet_hours: QuietHours | None = None
    no_quiet_hours: bool = False


@dataclass(frozen=True)
class Unsubscribe:
    member_id: str
    kind: str


@dataclass(frozen=True)
class ErasePreferences:
    member_id: str


def decide_preferences(cmd: Any, state: Preferences) -> list[Event]:
    match cmd:
        case SetPreferences():
            if state.erased:
                raise NotFound("member_not_found")
            zone = cmd.time_zone or state.time_zone
            zone_of(zone)
            merged = {**state.channels, **cmd.channels}
            # only what differs from the defaults is kept: a later change of a default reaches everyone else
            channels: dict[str, Channel] = {k: merged[k] for k in KINDS
                                            if k in merged and merged[k] != DEFAULT_CHANNELS[k]}
            quiet = None if cmd.no_quiet_hours else (cmd.quiet_hours or state.quiet_hours)
            after = PreferencesChanged(member_id=cmd.member_id, channels=channels,
                                       language=cmd.language or state.language, time_zone=zone, quiet_hours=quiet)
            before = PreferencesChanged(member_id=cmd.member_id, channels=state.channels, language=state.language,
                                        time_zone=state.time_zone, quiet_hours=state.quiet_hours)
            return [] if after == before else [after]
        case Unsubscribe():
            if state.erased or state.channel(cmd.kind) == "off":
                return []
            return [Unsubscribed(member_id=cmd.member_id, kind=cmd.kind)]  # type: ignore[arg-type]
        case ErasePreferences():
            return [] if state.erased else [PreferencesErased(member_id=cmd.member_id)]
    raise TypeError(cmd)


def evolve_preferences(state: Preferences, event: Event) -> Preferences:
    match event:
        case PreferencesChanged():
            return replace(state, channels=dict(event.channels), language=event.language,
                           time_zone=event.time_zone, quiet_hours=event.quiet_hours)
        case Unsubscribed():
            return replace(state, channels={**state.channels, event.kind: "off"})
        case PreferencesErased():
            return Preferences(erased=True)
    return state


PREFERENCES: Decider = Decider(SERVICE, "preferences", Preferences, evolve_preferences, decide_preferences,
                               events=PREFERENCE_EVENTS)


# ---------------------------------------------------------------- a notification and its e-mail


@dataclass(frozen=True)
class Notification:
    notification_id: str = ""
    raised: bool = False
    member_id: str | None = None
    kind: str | None = None
    channel: Channel | None = None
    read: bool = False
    #: None (no e-mail of its own), queued, sent, dropped
    email: str | None = None
    send_after: datetime | None = None


@dataclass(frozen=True)
class Raise:
    notification_id: str
    member_id: str
    kind: str
    params: dict[str, str]
    preferences: Preferences
    #: a mail server is configured and the member's address known
    email_possible: bool
    now: datetime


@dataclass(frozen=True)
class MarkRead:
    member_id: str


@dataclass(frozen=True)
class Defer:
    until: datetime


@dataclass(frozen=True)
class Drop:
    reason: DropReason


@dataclass(frozen=True)
class RecordSent:
    message_id: str
    language: Language
    now: datetime


def decide_notification(cmd: Any, state: Notification) -> list[Event]:
    match cmd:
        case Raise():
            channel = cmd.preferences.channel(cmd.kind)
            if state.raised or channel == "off":
                return []
            if channel in ("email_now", "digest") and not cmd.email_possible:
                channel = "in_app"  # no mail server, or no address: the app is the one way left
            events: list[Event] = [NotificationRaised(
                notification_id=cmd.notification_id, member_id=cmd.member_id, kind=cmd.kind,  # type: ignore[arg-type]
                params=cmd.params, channel=channel, raised_at=cmd.now)]
            if channel == "email_now" and cmd.email_possible:
                prefs = cmd.preferences
                send_after = quiet_until(cmd.now, prefs.quiet_hours, prefs.time_zone) or cmd.now
                events.append(EmailQueued(notification_id=cmd.notification_id, member_id=cmd.member_id,
                                          send_after=send_after))
            return events
        case MarkRead():
            if not state.raised or state.member_id != cmd.member_id:
                raise NotFound("notification_not_found")
            return [] if state.read else [NotificationMarkedRead(notification_id=state.notification_id,
                                                           member_id=cmd.member_id)]
        case Defer():
            if state.email != "queued" or state.send_after == cmd.until:
                return []
            return [EmailDeferred(notification_id=state.notification_id, member_id=state.member_id or "",
                                  send_after=cmd.until)]
        case Drop():
            if state.email != "queued":
                return []
            return [EmailDropped(notification_id=state.notification_id, member_id=state.member_id or "",
                                 reason=cmd.reason)]
        case RecordSent():
            if state.email != "queued":
                return []
            return [EmailSent(notification_id=state.notification_id, member_id=state.member_id or "",
                              message_id=cmd.message_id, language=cmd.language, sent_at=cmd.now)]
    raise TypeError(cmd)


def evolve_notification(state: Notification, event: Event) -> Notification:
    match event:
        case NotificationRaised():
            return Notification(raised=True, member_id=event.member_id, kind=event.kind, channel=event.channel,
                           notification_id=event.notification_id)
        case NotificationMarkedRead():
            return replace(state, read=True)
        case EmailQueued() | EmailDeferred():
            return replace(state, email="queued", send_after=event.send_after)
        case EmailSent():
            return replace(state, email="sent")
        case EmailDropped():
            return replace(state, email="dropped")
    return state


NOTIFICATION: Decider = Decider(SERVICE, "notification", Notification, evolve_notification, decide_notification,
                                events=NOTIFICATION_EVENTS)


@dataclass(frozen=True)
class EmailFacts:
    """What the outbox knows when an e-mail is due: the member's preferences now, whether their address is
    known, the time."""

    preferences: Preferences
    address_known: bool
    now: datetime


def email_verdict(kind: str, facts: EmailFacts) -> Defer | Drop | None:
    """None: send it now. Otherwise why it waits or never goes: the member erased or without an address,
    the kind turned off since it was queued, or quiet hours begun meanwhile."""
    prefs = facts.preferences
    if prefs.erased:
        return Drop("erased")
    if not facts.address_known:
        return Drop("no_address")
    if prefs.channel(kind) != "email_now":
        return Drop("turned_off")
    until = quiet_until(facts.now, prefs.quiet_hours, prefs.time_zone)
    return Defer(until) if until else None


# ---------------------------------------------------------------- a member's daily digest


@dataclass(frozen=True)
class Digest:
    digest_id: str | None = None
    member_id: str | None = None
    items: tuple[str, ...] = ()
    send_after: datetime | None = None
    #: None while it gathers; sent or dropped once it is over (a later notification goes to the next day's)
    done: str | None = None


@dataclass(frozen=True)
class AddToDigest:
    digest_id: str
    member_id: str
    notification_id: str
    day: date
    send_after: datetime


@dataclass(frozen=True)
class RecordDigestSent:
    message_id: str
    language: Language
    now: datetime


@dataclass(frozen=True)
class DropDigest:
    reason: DropReason


@dataclass(frozen=True)
class DeferDigest:
    until: datetime


def decide_digest(cmd: Any, state: Digest) -> list[Event]:
    match cmd:
        case AddToDigest():
            if state.done or cmd.notification_id in state.items:
                return []
            return [DigestItemAdded(digest_id=cmd.digest_id, member_id=cmd.member_id,
                                    notification_id=cmd.notification_id, day=cmd.day.isoformat(),
                                    send_after=state.send_after or cmd.send_after)]
        case RecordDigestSent():
            if state.done or not state.items:
                return []
            return [DigestSent(digest_id=state.digest_id or "", member_id=state.member_id or "",
                               notification_ids=state.items, message_id=cmd.message_id, language=cmd.language,
                               sent_at=cmd.now)]
        case DeferDigest():
            if state.done or not state.items or state.send_after == cmd.until:
                return []
            return [DigestDeferred(digest_id=state.digest_id or "", member_id=state.member_id or "",
                                   send_after=cmd.until)]
        case DropDigest():
            if state.done or not state.items:
                return []
            return [DigestDropped(digest_id=state.digest_id or "", member_id=state.member_id or "",
                                  reason=cmd.reason)]
    raise TypeError(cmd)


def evolve_digest(state: Digest, event: Event) -> Digest:
    match event:
        case DigestItemAdded():
            return replace(state, digest_id=event.digest_id, member_id=event.member_id,
                           items=(*state.items, event.notification_id), send_after=event.send_after)
        case DigestDeferred():
            return replace(state, send_after=event.send_after)
        case DigestSent():
            return replace(state, done="sent")
        case DigestDropped():
            return replace(state, done="dropped")
    return state


DIGEST: Decider = Decider(SERVICE, "digest", Digest, evolve_digest, decide_digest, events=DIGEST_EVENTS)


def digest_verdict(facts: EmailFacts) -> Defer | Drop | None:
    prefs = facts.preferences
    if prefs.erased:
        return Drop("erased")
    if not facts.address_known:
        return Drop("no_address")
    until = quiet_until(facts.now, prefs.quiet_hours, prefs.time_zone)
    return Defer(until) if until else None
#: its answer to a member's request for their data, once per request (docs/adr/0024)
DATA: Decider = part_decider(SERVICE, NotificationsDataCollected)
