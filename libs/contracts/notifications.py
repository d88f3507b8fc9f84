"""Notifications (issue 17): who is told what, in the app and by e-mail, as each member prefers.

**A notification** (aggregate ``notification``, id = a UUID derived from the event that caused it and the
member told, so a redelivered cause raises nothing new) is raised for one member, of one ``Kind``, with
the few ids and titles its words need (``params``: never another member's personal data, never anyone's
words). It is read or not (``NotificationMarkedRead``), and it carries its e-mail's outbox state: queued with a
time it may leave (``EmailQueued``: at once, or when the member's quiet hours end), then sent once the mail
server accepted it (``EmailSent``) or dropped with the reason (``EmailDropped``: the member was erased, has
no address, turned the kind off meanwhile).

**Preferences** (aggregate ``preferences``, id = the member): a channel per kind — in the app only, by
e-mail at once, in a daily digest, or not at all — the member's language and time zone, and quiet hours
during which e-mails wait. ``Unsubscribed`` records a kind turned off by a signed link from an e-mail.

**A digest** (aggregate ``digest``, id = ``<member>:<local day>``) gathers the notifications of a member's
day whose kind goes to the digest, and is sent as one e-mail after the day ends (``DigestSent``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal, get_args

from pydantic import AwareDatetime, Field, StringConstraints, field_validator

from libs.contracts.base import Command, Contract, Event, Query, ServiceContracts
from libs.contracts.my_data import MemberDataCollected
from libs.contracts.types import Id

SERVICE = "notifications"

Kind = Literal[
    "access_granted",  # to the newcomer: the moderators let them into the Main group
    "access_declined",  # to the newcomer: declined
    "changes_requested",  # to the newcomer: the profile needs changes
    "new_applicant",  # to moderators: a profile waits for their decision
    "join_request",  # to a working group's coordinators: someone asks to join
    "mention",  # to a member named in a group's message
    "personal_message",  # to the recipient of a personal message
    "task_assigned",  # to a task's new assignees
    "task_overdue",  # to a task's assignees, the day after its due date while it is not done
    "waitlist_promoted",  # to a member who got a place from an event's waitlist
    "event_changed",  # to an event's registered and waitlisted members
    "event_cancelled",  # idem
    "event_reminder",  # to a registered member, before the event (the configured offsets)
    "round_waiting",  # to a game's observers: a round opened and waits for their feedback
    "help_request_routed",  # to the expert a request for help was routed to
    "help_request_answered",  # to the asker: someone wrote in their request's thread
    "pick_window_opened",  # to every member: roles for the next season can be picked
]
KINDS: tuple[Kind, ...] = get_args(Kind)
Channel = Literal["in_app", "email_now", "digest", "off"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)
Language = Literal["ru", "en"]
#: why an e-mail was not sent: the member erased, no address known, the kind turned off meanwhile, the mail
#: server refusing the address for good, no mail server configured any more when it was due
#: address_unreadable: the member's address did not open (their key missing past every retry, or the sealed
#: copy corrupt) — dropped so that it holds no later e-mail behind it
DropReason = Literal["erased", "no_address", "turned_off", "refused", "no_mail_server", "address_unreadable"]

#: what a member who never chose gets: e-mail at once for what they must act on or would miss, the
#: digest for the rest, in the app only for what happens while they are in it
DEFAULT_CHANNELS: dict[Kind, Channel] = {
    "access_granted": "email_now", "access_declined": "email_now", "changes_requested": "email_now",
    "new_applicant": "email_now", "join_request": "email_now", "mention": "digest", "personal_message": "digest",
    "task_assigned": "email_now", "task_overdue": "email_now", "waitlist_promoted": "email_now",
    "event_changed": "email_now", "event_cancelled": "email_now", "event_reminder": "email_now",
    "round_waiting": "email_now",
    "help_request_routed": "email_now", "help_request_answered": "email_now", "pick_window_opened": "digest",
}
DEFAULT_TIME_ZONE = "Asia/Yekaterinburg"
ClockTime = Annotated[str, StringConstraints(max_length=5, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
#: an IANA zone's name (Asia/Yekaterinburg); whether the zone exists is the decider's to say
ZoneName = Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")]


def notification_id_of(cause_event_id: str, kind: str, member_id: str) -> str:
    """One notification per cause, kind and member, whoever raises it and however often."""
    return str(uuid.uuid5(uuid.UUID(cause_event_id), f"notifications:{kind}:{member_id}"))


def digest_id(member_id: str, day: str) -> str:
    return f"{member_id}_{day}"


class QuietHours(Contract):
    """E-mails wait from ``starts`` to ``ends`` (the member's local time; over midnight when ``ends`` is
    earlier). Equal times: no quiet hours."""

    starts: ClockTime = "22:00"
    ends: ClockTime = "08:00"


# ---------------------------------------------------------------- events (aggregate ``notification``)


class NotificationRaised(Event):
    notification_id: str
    member_id: str
    kind: Kind
    params: dict[str, str] = {}
    #: the channel it goes by: the member's choice when it was raised, or in_app when no e-mail can reach them
    channel: Channel
    raised_at: datetime


class NotificationMarkedRead(Event):
    notification_id: str
    member_id: str


class EmailQueued(Event):
    notification_id: str
    member_id: str
    #: not before this (the end of the member's quiet hours, or the moment it was raised)
    send_after: datetime


class EmailDeferred(Event):
    """Quiet hours began (or were changed) before the e-mail left: it waits until they end."""

    notification_id: str
    member_id: str
    send_after: datetime


class EmailSent(Event):
    notification_id: str
    member_id: str
    #: the Message-ID header, derived from the notification id: a receiver sees a re-sent copy as the same
    message_id: str
    language: Language
    sent_at: datetime


class EmailDropped(Event):
    notification_id: str
    member_id: str
    reason: DropReason


NOTIFICATION_EVENTS = (NotificationRaised, NotificationMarkedRead, EmailQueued, EmailDeferred, EmailSent, EmailDropped)


# ---------------------------------------------------------------- events (aggregate ``preferences``: member)


class PreferencesChanged(Event):
    member_id: str
    #: the kinds whose channel differs from DEFAULT_CHANNELS
    channels: dict[str, Channel] = {}
    language: Language = "ru"
    time_zone: str = DEFAULT_TIME_ZONE
    quiet_hours: QuietHours | None = QuietHours()


class Unsubscribed(Event):
    """A kind turned off from a signed link in an e-mail, without signing in."""

    member_id: str
    kind: Kind


class PreferencesErased(Event):
    """The member was erased: whatever they chose is gone with them, and nothing is sent any more."""

    member_id: str


PREFERENCE_EVENTS = (PreferencesChanged, Unsubscribed, PreferencesErased)


# ---------------------------------------------------------------- events (aggregate ``digest``: member_day)


class DigestItemAdded(Event):
    digest_id: str
    member_id: str
    notification_id: str
    #: the member's local day it gathers
    day: str
    send_after: datetime


class DigestDeferred(Event):
    """The member's quiet hours were changed to cover the digest's time: it waits until they end."""

    digest_id: str
    member_id: str
    send_after: datetime


class DigestSent(Event):
    digest_id: str
    member_id: str
    notification_ids: tuple[str, ...]
    message_id: str
    language: Language
    sent_at: datetime


class DigestDropped(Event):
    digest_id: str
    member_id: str
    reason: DropReason


DIGEST_EVENTS = (DigestItemAdded, DigestDeferred, DigestSent, DigestDropped)


# ---------------------------------------------------------------- replies


class NotificationView(Contract):
    notification_id: str
    kind: Kind
    params: dict[str, str]
    raised_at: datetime
    read: bool
    #: where the web client shows what it is about (a path of its own)
    link: str | None = None
    #: the notification in the caller's language
    title: str
    #: queued / sent / dropped / digest / None (no e-mail for this one)
    email: str | None = None


class NotificationPage(Contract):
    items: tuple[NotificationView, ...]
    unread: int
    next_before: datetime | None = None


class MarkedRead(Contract):
    marked: int
    unread: int


class KindPreference(Contract):
    kind: Kind
    #: what the kind is, in the language asked for
    name: str
    channel: Channel
    default: Channel


class PreferencesView(Contract):
    member_id: str
    kinds: tuple[KindPreference, ...]
    language: Language
    time_zone: str
    quiet_hours: QuietHours | None
    #: False: no mail server is configured here, so no e-mail is sent whatever is chosen
    email_available: bool
    #: False: the platform knows no address of the member (never given, or erased)
    address_known: bool


class UnsubscribeCheck(Contract):
    kind: Kind
    #: what the kind is, in the language asked for
    name: str
    #: the kind's channel now (``off`` once unsubscribed)
    channel: Channel


# ---------------------------------------------------------------- commands


class MarkNotificationsRead(Command):
    """The caller's notifications named here (or all of them) are read."""

    service: ClassVar[str] = SERVICE
    reply_model: ClassVar = MarkedRead
    notification_ids: tuple[Id, ...] | None = Field(default=None, max_length=200)

    @field_validator("notification_ids")
    @classmethod
    def _no_repeats(cls, v):
        return tuple(dict.fromkeys(v)) if v is not None else v


class SetPreferences(Command):
    service: ClassVar[str] = SERVICE
    reply_model: ClassVar = PreferencesView
    #: the kinds to change (the others keep their channel)
    channels: dict[Kind, Channel] = {}
    language: Language | None = None
    time_zone: ZoneName | None = None
    quiet_hours: QuietHours | None = None
    #: True: no quiet hours at all (quiet_hours is then ignored)
    no_quiet_hours: bool = False
    #: the language of the reply's words (the gateway sets it from Accept-Language)
    lang: Language = "ru"


UnsubscribeToken = Annotated[str, StringConstraints(min_length=10, max_length=300, pattern=r"^[A-Za-z0-9_.\-]+$")]


class UnsubscribeByLink(Command):
    """Anonymous: the signed token names the member and the kind (from an e-mail's link)."""

    service: ClassVar[str] = SERVICE
    reply_model: ClassVar = UnsubscribeCheck
    token: UnsubscribeToken
    lang: Language = "ru"


# ---------------------------------------------------------------- queries


class ListNotifications(Query):
    service: ClassVar[str] = SERVICE
    reply_model: ClassVar = NotificationPage
    unread_only: bool = False
    before: AwareDatetime | None = None
    limit: int = Field(default=50, ge=1, le=200)
    lang: Language = "ru"


class GetPreferences(Query):
    service: ClassVar[str] = SERVICE
    reply_model: ClassVar = PreferencesView
    lang: Language = "ru"


class CheckUnsubscribeLink(Query):
    """Anonymous: what the link would turn off (the web page asks before the member confirms)."""

    service: ClassVar[str] = SERVICE
    reply_model: ClassVar = UnsubscribeCheck
    token: UnsubscribeToken
    lang: Language = "ru"

class NotificationsDataCollected(MemberDataCollected):
    """Notifications' part of a member's data: their preferences, the address e-mails go to, and their notifications."""

EVENTS = (*NOTIFICATION_EVENTS, *PREFERENCE_EVENTS, *DIGEST_EVENTS, NotificationsDataCollected)
COMMANDS = (MarkNotificationsRead, SetPreferences, UnsubscribeByLink)
QUERIES = (ListNotifications, GetPreferences, CheckUnsubscribeLink)
REPLIES = (QuietHours, NotificationView, NotificationPage, MarkedRead, KindPreference, PreferencesView,
           UnsubscribeCheck)
CONTRACTS = ServiceContracts(SERVICE, EVENTS, COMMANDS, QUERIES, REPLIES, member_data=NotificationsDataCollected)
