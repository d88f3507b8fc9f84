"""Calendar deciders: a season (its phases, the requests for events, its grid) and the registrations
of one event. Pure: what they cannot know (the caller's membership of the Main group, the event's
capacity and status, the season's phase) the handler passes in as facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from libs.contracts.base import Event
from libs.contracts.calendar import (
    COMMUNITY_TIME_ZONE,
    REGISTRATION_EVENTS,
    SEASON_EVENTS,
    SERVICE,
    AttendanceRecorded,
    CalendarAuthorErased,
    CalendarDataCollected,
    EventCancelled,
    EventChanged,
    EventFormat,
    EventPlan,
    EventRegistered,
    EventRequestAccepted,
    EventRequestDeclined,
    EventRequested,
    EventRequestMerged,
    EventRequestSupported,
    EventScheduled,
    FeedLinkRenewed,
    GridEventAdded,
    GridEventChanged,
    GridEventRemoved,
    Phase,
    RegistrationCancelled,
    RegistrationWaitlisted,
    RequestOutcome,
    SeasonClosed,
    SeasonOpened,
    SeasonPlanningStarted,
    SeasonReport,
    SeasonResultsPublished,
    WaitlistPromoted,
    default_dates,
)
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.kit.authors import author_decider
from libs.kit.data_parts import part_decider
from libs.kit.decider import Decider

# ---------------------------------------------------------------- the season: state

EventStatus = Literal["draft", "scheduled", "cancelled", "removed"]


@dataclass(frozen=True)
class Request:
    request_id: str
    member_id: str
    outcome: RequestOutcome = "pending"
    supporters: frozenset[str] = frozenset()
    into_request_id: str | None = None


@dataclass(frozen=True)
class GridEvent:
    event_id: str
    plan: EventPlan
    status: EventStatus = "draft"
    revision: int = 0

    @property
    def live(self) -> bool:
        return self.status in ("draft", "scheduled")


@dataclass(frozen=True)
class Season:
    phase: Phase | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    time_zone: str = COMMUNITY_TIME_ZONE
    requests: dict[str, Request] = field(default_factory=dict)
    events: dict[str, GridEvent] = field(default_factory=dict)
    title: str = ""

    def bounds(self) -> tuple[datetime, datetime]:
        """The season in UTC: from the start of its first day to the end of its last, in its zone."""
        assert self.starts_on is not None and self.ends_on is not None
        zone = ZoneInfo(self.time_zone)
        return (datetime.combine(self.starts_on, time(), zone).astimezone(UTC),
                datetime.combine(self.ends_on + timedelta(days=1), time(), zone).astimezone(UTC))


# ---------------------------------------------------------------- the season: commands


@dataclass(frozen=True)
class StartPlanning:
    actor: Actor
    season_id: str
    title: str
    #: None: the community's default for the season's name (``2027-spring``)
    starts_on: date | None = None
    ends_on: date | None = None
    time_zone: str = COMMUNITY_TIME_ZONE


@dataclass(frozen=True)
class _Step:
    """A moderator moves the season on by one phase."""

    actor: Actor
    season_id: str


class Open(_Step):
    """Publish the grid: planning → open."""


class Close(_Step):
    """Open → closed."""


@dataclass(frozen=True)
class PublishResults(_Step):
    """Closed → results published, with the report the handler computed."""

    report: SeasonReport = SeasonReport()


@dataclass(frozen=True)
class Ask:
    """A member's request for an event; ``in_main``: the asker is a member of the Main group."""

    actor: Actor
    season_id: str
    request_id: str
    in_main: bool
    topic: str
    format: EventFormat
    experience: str
    group_size: int
    preferred_dates: tuple[date, ...] = ()


@dataclass(frozen=True)
class _OnRequest:
    actor: Actor
    season_id: str
    request_id: str


@dataclass(frozen=True)
class Support(_OnRequest):
    in_main: bool


class Accept(_OnRequest):
    """A moderator's outcome: the grid may answer it."""


@dataclass(frozen=True)
class Merge(_OnRequest):
    into_request_id: str


@dataclass(frozen=True)
class Decline(_OnRequest):
    reason: str


@dataclass(frozen=True)
class _OnGrid:
    actor: Actor
    season_id: str
    event_id: str


@dataclass(frozen=True)
class AddEvent(_OnGrid):
    plan: EventPlan


@dataclass(frozen=True)
class ChangeEvent(_OnGrid):
    plan: EventPlan


class RemoveEvent(_OnGrid):
    """Take a draft out of the grid."""


@dataclass(frozen=True)
class CancelEvent(_OnGrid):
    reason: str | None = None


SeasonCommand = (StartPlanning | Open | Close | PublishResults | Ask | Support | Accept | Merge | Decline
                 | AddEvent | ChangeEvent | RemoveEvent | CancelEvent)

#: each transition, from the one phase it may leave
_TRANSITIONS: dict[type, tuple[Phase, Phase]] = {
    Open: ("planning", "open"),
    Close: ("open", "closed"),
    PublishResults: ("closed", "results_published"),
}


# ---------------------------------------------------------------- the season: rules


def _moderator(actor: Actor) -> None:
    if not actor.is_moderator:
        raise Forbidden("moderator_only")


def _in_phase(state: Season, season_id: str, *phases: Phase) -> None:
    """The season exists and is in one of ``phases``; the refusal names the one expected first."""
    if state.phase is None:
        raise NotFound("season_not_found", season_id=season_id)
    if state.phase not in phases:
        raise Conflict(f"season_not_{phases[0]}", season_id=season_id, phase=state.phase)


def _request(state: Season, request_id: str) -> Request:
    found = state.requests.get(request_id)
    if found is None:
        raise NotFound("request_not_found", request_id=request_id)
    return found


def _undecided(request: Request) -> None:
    if request.outcome != "pending":
        raise Conflict("request_already_decided", request_id=request.request_id, outcome=request.outcome)


def _grid_event(state: Season, event_id: str) -> GridEvent:
    found = state.events.get(event_id)
    if found is None:
        raise NotFound("event_not_found", event_id=event_id)
    return found


def _overlap(a: EventPlan, b: EventPlan) -> bool:
    """They share a moment: one ending as the other starts does not."""
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def check_plan(state: Season, event_id: str, plan: EventPlan) -> None:
    """An event the grid can hold: a place or a room as its kind needs, inside the season, answering
    accepted requests, its host and its working group not booked elsewhere at the same time."""
    if plan.capacity < 1:
        raise Invalid("event_capacity_too_small", capacity=plan.capacity)
    if plan.ends_at <= plan.starts_at:
        raise Invalid("event_ends_before_start")
    if plan.kind == "game" and not plan.place:
        raise Invalid("game_needs_place")
    if plan.kind == "online_meeting" and not plan.call_link:
        raise Invalid("online_meeting_needs_call_link")
    opens, closes = state.bounds()
    if plan.starts_at < opens or plan.ends_at > closes:
        raise Invalid("event_outside_season", starts_on=str(state.starts_on), ends_on=str(state.ends_on),
                      time_zone=state.time_zone)
    for request_id in plan.answers:
        request = state.requests.get(request_id)
        if request is None or request.outcome != "accepted":
            raise Invalid("request_not_accepted", request_id=request_id)
    for other in state.events.values():
        if other.event_id == event_id or not other.live or not _overlap(plan, other.plan):
            continue
        if other.plan.host_id == plan.host_id:
            raise Conflict("host_double_booked", host_id=plan.host_id, event_id=other.event_id)
        if plan.group_id is not None and other.plan.group_id == plan.group_id:
            raise Conflict("group_double_booked", group_id=plan.group_id, event_id=other.event_id)


def _start(cmd: StartPlanning, state: Season) -> list[Event]:
    _moderator(cmd.actor)
    if state.phase is not None:
        raise Conflict("season_exists", season_id=cmd.season_id, phase=state.phase)
    starts_on, ends_on = cmd.starts_on, cmd.ends_on
    if starts_on is None or ends_on is None:
        defaults = default_dates(cmd.season_id)
        if defaults is None:
            raise Invalid("season_dates_required", season_id=cmd.season_id)
        starts_on, ends_on = starts_on or defaults[0], ends_on or defaults[1]
    if ends_on < starts_on:
        raise Invalid("season_ends_before_start")
    return [SeasonPlanningStarted(season_id=cmd.season_id, title=cmd.title, starts_on=starts_on, ends_on=ends_on,
                                  time_zone=cmd.time_zone, started_by=cmd.actor.id)]


def _advance(cmd: Open | Close | PublishResults, state: Season) -> list[Event]:
    _moderator(cmd.actor)
    before, _ = _TRANSITIONS[type(cmd)]
    _in_phase(state, cmd.season_id, before)
    by = cmd.actor.id
    match cmd:
        case Open():
            grid = sorted((e for e in state.events.values() if e.status == "draft"),
                          key=lambda e: (e.plan.starts_at, e.event_id))
            if not grid:
                raise Conflict("season_grid_empty", season_id=cmd.season_id)
            return [SeasonOpened(season_id=cmd.season_id, opened_by=by),
                    *(EventScheduled(season_id=cmd.season_id, event_id=e.event_id, plan=e.plan,
                                   time_zone=state.time_zone) for e in grid)]
        case Close():
            return [SeasonClosed(season_id=cmd.season_id, closed_by=by, starts_on=state.starts_on,
                                 ends_on=state.ends_on, time_zone=state.time_zone)]
        case PublishResults():
            return [SeasonResultsPublished(season_id=cmd.season_id, title=state.title, published_by=by,
                                           report=cmd.report)]
    raise TypeError(cmd)


def _decide_request(cmd: Ask | Support | Accept | Merge | Decline, state: Season) -> list[Event]:
    if isinstance(cmd, Ask | Support):
        if not cmd.in_main:
            raise Forbidden("calendar_members_only")
    else:
        _moderator(cmd.actor)
    _in_phase(state, cmd.season_id, "planning")
    if isinstance(cmd, Ask):
        if cmd.request_id in state.requests:
            return []  # the same request again
        return [EventRequested(season_id=cmd.season_id, request_id=cmd.request_id, member_id=cmd.actor.id,
                               topic=cmd.topic, format=cmd.format, experience=cmd.experience,
                               group_size=cmd.group_size, preferred_dates=cmd.preferred_dates)]
    request = _request(state, cmd.request_id)
    by = cmd.actor.id
    match cmd:
        case Support():
            if request.member_id == by:
                raise Forbidden("own_request_support")
            if request.outcome not in ("pending", "accepted"):
                raise Conflict("request_closed", request_id=cmd.request_id, outcome=request.outcome)
            if by in request.supporters:
                return []  # one vote each: the second changes nothing
            return [EventRequestSupported(season_id=cmd.season_id, request_id=cmd.request_id, member_id=by)]
        case Accept():
            _undecided(request)
            return [EventRequestAccepted(season_id=cmd.season_id, request_id=cmd.request_id, accepted_by=by)]
        case Merge():
            _undecided(request)
            if cmd.into_request_id == cmd.request_id:
                raise Invalid("request_merged_into_itself")
            target = _request(state, cmd.into_request_id)
            if target.outcome != "accepted":
                raise Conflict("merge_target_not_accepted", request_id=cmd.into_request_id, outcome=target.outcome)
            return [EventRequestMerged(season_id=cmd.season_id, request_id=cmd.request_id,
                                       into_request_id=cmd.into_request_id, merged_by=by)]
        case Decline():
            _undecided(request)
            if not cmd.reason.strip():
                raise Invalid("decline_reason_required")
            return [EventRequestDeclined(season_id=cmd.season_id, request_id=cmd.request_id, declined_by=by,
                                         reason=cmd.reason)]
    raise TypeError(cmd)


def _decide_grid(cmd: AddEvent | ChangeEvent | RemoveEvent | CancelEvent, state: Season) -> list[Event]:
    _moderator(cmd.actor)
    by, season_id, event_id = cmd.actor.id, cmd.season_id, cmd.event_id
    match cmd:
        case AddEvent():
            _in_phase(state, season_id, "planning")
            if event_id in state.events:
                return []  # the same addition again
            check_plan(state, event_id, cmd.plan)
            return [GridEventAdded(season_id=season_id, event_id=event_id, plan=cmd.plan, added_by=by)]
        case ChangeEvent():
            _in_phase(state, season_id, "open", "planning")
            event = _grid_event(state, event_id)
            if not event.live:
                raise Conflict(f"event_{event.status}", event_id=event_id)
            if event.plan == cmd.plan:
                return []
            check_plan(state, event_id, cmd.plan)
            if event.status == "draft":
                return [GridEventChanged(season_id=season_id, event_id=event_id, plan=cmd.plan, changed_by=by)]
            return [EventChanged(season_id=season_id, event_id=event_id, plan=cmd.plan,
                                 revision=event.revision + 1, changed_by=by)]
        case RemoveEvent():
            _in_phase(state, season_id, "planning")
            if _grid_event(state, event_id).status == "removed":
                return []
            return [GridEventRemoved(season_id=season_id, event_id=event_id, removed_by=by)]
        case CancelEvent():
            _in_phase(state, season_id, "open")
            event = _grid_event(state, event_id)
            if event.status == "cancelled":
                return []
            return [EventCancelled(season_id=season_id, event_id=event_id, revision=event.revision + 1,
                                   cancelled_by=by, reason=cmd.reason)]
    raise TypeError(cmd)


def decide_season(cmd: SeasonCommand, state: Season) -> list[Event]:
    match cmd:
        case StartPlanning():
            return _start(cmd, state)
        case Open() | Close() | PublishResults():
            return _advance(cmd, state)
        case Ask() | Support() | Accept() | Merge() | Decline():
            return _decide_request(cmd, state)
        case AddEvent() | ChangeEvent() | RemoveEvent() | CancelEvent():
            return _decide_grid(cmd, state)
    raise TypeError(f"not a season command: {cmd!r}")


# ---------------------------------------------------------------- the season: evolve


def _with_request(state: Season, request_id: str, **changes) -> Season:
    return replace(state, requests={**state.requests, request_id: replace(state.requests[request_id], **changes)})


def _with_event(state: Season, event: GridEvent) -> Season:
    return replace(state, events={**state.events, event.event_id: event})


def evolve_season(state: Season, event: Event) -> Season:  # noqa: C901 — one branch per event
    match event:
        case SeasonPlanningStarted():
            return Season("planning", event.starts_on, event.ends_on, event.time_zone, title=event.title)
        case SeasonOpened():
            return replace(state, phase="open")
        case SeasonClosed():
            return replace(state, phase="closed")
        case SeasonResultsPublished():
            return replace(state, phase="results_published")
        case EventRequested():
            return replace(state, requests={**state.requests,
                                            event.request_id: Request(event.request_id, event.member_id)})
        case EventRequestSupported():
            supporters = state.requests[event.request_id].supporters | {event.member_id}
            return _with_request(state, event.request_id, supporters=supporters)
        case EventRequestAccepted():
            return _with_request(state, event.request_id, outcome="accepted")
        case EventRequestMerged():
            return _with_request(state, event.request_id, outcome="merged", into_request_id=event.into_request_id)
        case EventRequestDeclined():
            return _with_request(state, event.request_id, outcome="declined")
        case GridEventAdded():
            return _with_event(state, GridEvent(event.event_id, event.plan))
        case GridEventChanged():
            return _with_event(state, replace(state.events[event.event_id], plan=event.plan))
        case GridEventRemoved():
            return _with_event(state, replace(state.events[event.event_id], status="removed"))
        case EventScheduled():
            return _with_event(state, GridEvent(event.event_id, event.plan, "scheduled", event.revision))
        case EventChanged():
            return _with_event(state, replace(state.events[event.event_id], plan=event.plan,
                                              revision=event.revision))
        case EventCancelled():
            return _with_event(state, replace(state.events[event.event_id], status="cancelled",
                                              revision=event.revision))
    return state


SEASON: Decider = Decider(SERVICE, "season", Season, evolve_season, decide_season, events=SEASON_EVENTS)


# ---------------------------------------------------------------- registrations of one event


@dataclass(frozen=True)
class Registrations:
    #: in the order they got their place
    registered: tuple[str, ...] = ()
    #: in the order they joined the line
    waitlist: tuple[str, ...] = ()
    #: who was there, as last recorded
    present: tuple[str, ...] = ()

    def position(self, member_id: str) -> int | None:
        """1 for the first in line; None when not in line."""
        return self.waitlist.index(member_id) + 1 if member_id in self.waitlist else None


@dataclass(frozen=True)
class EventFacts:
    """The event as the season's read model has it (``status`` None: no such event)."""

    status: Literal["draft", "scheduled", "cancelled"] | None
    capacity: int
    season_phase: Phase | None


@dataclass(frozen=True)
class Register:
    """``in_main``: the caller is a member of the Main group."""

    actor: Actor
    event_id: str
    event: EventFacts
    in_main: bool


@dataclass(frozen=True)
class Unregister:
    """Leave a place or the line: one's own, or anyone's by a moderator."""

    actor: Actor
    event_id: str
    member_id: str
    event: EventFacts


@dataclass(frozen=True)
class ApplyCapacity:
    """The season changed the event's capacity (a policy on ``EventChanged``): promote as many as fit."""

    event_id: str
    capacity: int


@dataclass(frozen=True)
class Attend:
    """Who was there: moderators, or the event's host (``host``: the caller hosts it), once it began
    (``begun``)."""

    actor: Actor
    event_id: str
    present: tuple[str, ...]
    event: EventFacts
    host: bool
    begun: bool


RegistrationCommand = Register | Unregister | ApplyCapacity | Attend


def _promote(state: Registrations, event_id: str, capacity: int) -> list[Event]:
    free = max(0, capacity - len(state.registered))
    return [WaitlistPromoted(event_id=event_id, member_id=m) for m in state.waitlist[:free]]


def _visible(facts: EventFacts, event_id: str) -> None:
    if facts.status is None or facts.status == "draft":
        raise NotFound("event_not_found", event_id=event_id)


def decide_registration(cmd: RegistrationCommand, state: Registrations) -> list[Event]:
    match cmd:
        case Register():
            if not cmd.in_main:
                raise Forbidden("calendar_members_only")
            _visible(cmd.event, cmd.event_id)
            if cmd.event.status == "cancelled":
                raise Conflict("event_cancelled", event_id=cmd.event_id)
            if cmd.event.season_phase != "open":
                raise Conflict("season_not_open", phase=cmd.event.season_phase)
            member = cmd.actor.id
            if member in state.registered or member in state.waitlist:
                return []
            if len(state.registered) < cmd.event.capacity:
                return [EventRegistered(event_id=cmd.event_id, member_id=member)]
            return [RegistrationWaitlisted(event_id=cmd.event_id, member_id=member,
                                           position=len(state.waitlist) + 1)]
        case Unregister():
            if cmd.actor.id != cmd.member_id and not (cmd.actor.is_moderator or cmd.actor.has("system")):
                raise Forbidden("own_registration_only")
            _visible(cmd.event, cmd.event_id)
            if cmd.event.season_phase != "open":
                raise Conflict("season_not_open", phase=cmd.event.season_phase)
            waitlisted = cmd.member_id in state.waitlist
            if not waitlisted and cmd.member_id not in state.registered:
                return []  # not there (or gone already)
            left = RegistrationCancelled(event_id=cmd.event_id, member_id=cmd.member_id, waitlisted=waitlisted,
                                         cancelled_by=cmd.actor.id)
            if waitlisted or cmd.event.status == "cancelled":
                return [left]
            return [left, *_promote(evolve_registration(state, left), cmd.event_id, cmd.event.capacity)]
        case ApplyCapacity():
            return _promote(state, cmd.event_id, cmd.capacity)
        case Attend():
            if not (cmd.actor.is_moderator or cmd.host):
                raise Forbidden("host_or_moderator_only")
            _visible(cmd.event, cmd.event_id)
            if cmd.event.status == "cancelled":
                raise Conflict("event_cancelled", event_id=cmd.event_id)
            if not cmd.begun:
                raise Conflict("event_not_begun", event_id=cmd.event_id)
            strangers = sorted(set(cmd.present) - set(state.registered))
            if strangers:
                raise Invalid("attendee_not_registered", member_id=strangers[0])
            present = tuple(sorted(set(cmd.present)))
            if present == state.present:
                return []
            return [AttendanceRecorded(event_id=cmd.event_id, present=present, recorded_by=cmd.actor.id)]
    raise TypeError(f"not a registration command: {cmd!r}")


def evolve_registration(state: Registrations, event: Event) -> Registrations:
    match event:
        case EventRegistered():
            return replace(state, registered=(*state.registered, event.member_id))
        case RegistrationWaitlisted():
            return replace(state, waitlist=(*state.waitlist, event.member_id))
        case RegistrationCancelled():
            return replace(state, registered=tuple(m for m in state.registered if m != event.member_id),
                           waitlist=tuple(m for m in state.waitlist if m != event.member_id))
        case WaitlistPromoted():
            return replace(state, registered=(*state.registered, event.member_id),
                           waitlist=tuple(m for m in state.waitlist if m != event.member_id))
        case AttendanceRecorded():
            return replace(state, present=event.present)
    return state


REGISTRATION: Decider = Decider(SERVICE, "registration", Registrations, evolve_registration, decide_registration,
                                events=REGISTRATION_EVENTS)


# ---------------------------------------------------------------- a member's feed links and erased authors


@dataclass(frozen=True)
class Feed:
    generation: int = 0


@dataclass(frozen=True)
class RenewFeed:
    member_id: str


def decide_feed(cmd: RenewFeed, state: Feed) -> list[Event]:
    if not isinstance(cmd, RenewFeed):
        raise TypeError(f"not a feed command: {cmd!r}")
    return [FeedLinkRenewed(member_id=cmd.member_id, generation=state.generation + 1)]


def evolve_feed(state: Feed, event: Event) -> Feed:
    return Feed(event.generation) if isinstance(event, FeedLinkRenewed) else state


FEED: Decider = Decider(SERVICE, "feed", Feed, evolve_feed, decide_feed, events=(FeedLinkRenewed,))
AUTHOR: Decider = author_decider(SERVICE, CalendarAuthorErased)
#: its answer to a member's request for their data, once per request (docs/adr/0024)
DATA: Decider = part_decider(SERVICE, CalendarDataCollected)
