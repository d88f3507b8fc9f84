"""Calendar: seasons and their phases, event requests, the season's grid and registrations (issue 13).

A season (aggregate ``season``, id such as ``2027-spring``) moves once through its phases: planning
(members ask for events, others support the requests, moderators accept, merge or decline them, and
the grid is drafted) → open (the grid is published: one ``EventScheduled`` per event; later changes
are ``EventChanged`` / ``EventCancelled``) → closed → results published. The season owns its grid, so
a host or a working group booked twice at once, or an event outside the season, is refused in one
place. Each event of the grid has its registrations (aggregate ``registration``, id = the event's id):
places up to the capacity, then a waitlist in the order of arrival, promoted automatically when a
place frees.

Times are UTC in every contract; the season's dates are days in its time zone (the community's,
Asia/Yekaterinburg, by default), and a client shows every time with that zone.

ICS feeds: every feed URL carries the member's id and a token derived from a server secret and the
member's feed generation (aggregate ``feed``, id = the member), so no secret is ever in the log, and
renewing the link (``FeedLinkRenewed``) makes every earlier URL answer 404.

**Game teams** (aggregate ``game_teams``, id = the game's event id). A game team (a working group of
type ``game_team``) applies for a game with its roster; a moderator confirms the team (a place, or a
place on the team waitlist when the game is full) or declines it with a reason. A team that leaves
(``TeamWithdrawn``) frees its place, and the place is offered to the first team in line for a while
(``TeamPlaceOffered`` until ``expires_at``): the team accepts it (``TeamConfirmed``), declines it
(``TeamPlaceDeclined``) or lets it lapse (``TeamOfferExpired``), and the place goes on down the line.
The game's maximum of teams is its plan's capacity. ``TeamConfirmed`` carries the roster: the
feedback service builds a game's teams from it.

**Research workload** (aggregate ``research``, id = the season's id). Moderators list the season's
research tasks with their estimated effort; members of Main offer the hours they can give; a
moderator distributes the tasks once (``ResearchAssigned`` / ``ResearchLeftUnassigned`` for each task,
each with the reason of the outcome, then ``ResearchDistributed``). A distribution is undone only
by reopening it (``ResearchDistributionReopened``), after which tasks and offers may change and the
moderator distributes again.

**Season results** (``SeasonResultsPublished.report``): computed when a moderator publishes them, from the
calendar's own records and from what other services reported about the season by event (``reports``): the
roles service's ``RolesSeasonReported`` (roles taken, vacancies left open) and the feedback service's
``FeedbackSeasonReported`` (games, rounds commented, qualities addressed, the teams' marks).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from libs.contracts.base import Command, Contract, Event, Query, ServiceContracts
from libs.contracts.my_data import MemberDataCollected
from libs.contracts.types import MULTI_LINE, ONE_LINE, Id, Place

SERVICE = "calendar"

#: the community's time zone: season dates are its days, and every time is shown in it
COMMUNITY_TIME_ZONE = "Asia/Yekaterinburg"
#: the default seasons, (month, day) of the first and of the last day (both included), in that zone
SPRING_SEASON = ((2, 15), (7, 1))
AUTUMN_SEASON = ((8, 15), (12, 15))
DEFAULT_SEASONS = {"spring": SPRING_SEASON, "autumn": AUTUMN_SEASON}


def default_dates(season_id: str) -> tuple[date, date] | None:
    """The default first and last day of a season named ``<year>-spring`` or ``<year>-autumn``."""
    year, _, half = season_id.partition("-")
    window = DEFAULT_SEASONS.get(half)
    if window is None or not (year.isdigit() and len(year) == 4):
        return None
    (m1, d1), (m2, d2) = window
    return date(int(year), m1, d1), date(int(year), m2, d2)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError("unknown time zone") from e
    return value


#: a moment given with its offset, kept in UTC
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_zone)]
CallLink = Annotated[str, StringConstraints(max_length=500, pattern=r"^https://[^\s]{1,492}$")]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
Reason = Annotated[str, StringConstraints(max_length=2000), MULTI_LINE]
#: a decline says why: not empty
GivenReason = Annotated[str, StringConstraints(min_length=1, max_length=2000), MULTI_LINE]
Capacity = Annotated[int, Field(ge=0, le=10_000)]
Phase = Literal["planning", "open", "closed", "results_published"]
EventFormat = Literal["online", "in_person"]
EventKind = Literal["online_meeting", "game", "research"]
RequestOutcome = Literal["pending", "accepted", "merged", "declined"]
#: at most this many preferred dates per request, and requests answered per event
MAX_PREFERRED_DATES = 20
MAX_ANSWERED = 50


class EventPlan(Contract):
    """One event of the grid as the moderators plan it."""

    kind: EventKind
    title: Title
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    #: where an in-person event happens (a game needs one)
    place: Place | None = None
    #: the room of an online event (an online meeting needs one)
    call_link: CallLink | None = None
    #: the places; the season refuses fewer than one
    capacity: Capacity
    host_id: Id
    group_id: Id | None = None
    #: the accepted requests this event answers
    answers: Annotated[tuple[Id, ...], Field(max_length=MAX_ANSWERED)] = ()


# ---------------------------------------------------------------- events (aggregate ``season``)


class SeasonPlanningStarted(Event):
    season_id: str
    title: str
    #: the first and the last day of the season (both included), days in ``time_zone``
    starts_on: date
    ends_on: date
    time_zone: str
    started_by: str


class SeasonOpened(Event):
    """The grid is published: the season's ``EventScheduled`` events follow in the same append."""

    season_id: str
    opened_by: str


class SeasonClosed(Event):
    season_id: str
    closed_by: str
    #: the season's days (the roles service opens the pick window for the season after this one)
    starts_on: date | None = None
    ends_on: date | None = None
    time_zone: str | None = None


class CountByKind(Contract):
    online_meeting: int = 0
    game: int = 0
    research: int = 0


class ReportLine(Contract):
    """One figure another service reported about a season (roles taken, rounds commented, …)."""

    source: str
    key: str
    value: int


class SeasonReport(Contract):
    """A season's results as computed when a moderator publishes them, from the calendar's own read models
    and the season reports other services published by event (``reports``)."""

    #: events held (published, not cancelled) and cancelled, by kind
    events_held: CountByKind = CountByKind()
    events_cancelled: int = 0
    #: places offered and taken over the events held; distinct members with a place
    capacity: int = 0
    places_taken: int = 0
    participants: int = 0
    #: still in line when the season closed
    waitlisted: int = 0
    #: events whose attendance was recorded, and the members present at them (of those registered there)
    attendance_recorded: int = 0
    present: int = 0
    registered_where_recorded: int = 0
    #: requests for events and their outcomes
    requests: int = 0
    requests_accepted: int = 0
    requests_merged: int = 0
    requests_declined: int = 0
    #: games' teams
    teams_applied: int = 0
    teams_confirmed: int = 0
    teams_waitlisted: int = 0
    teams_declined: int = 0
    #: research
    research_tasks: int = 0
    research_assigned: int = 0
    research_hours: int = 0
    research_volunteers: int = 0
    #: what other services reported about the season by event, sorted by source then key: the roles
    #: service's figures (``RolesSeasonReported``, once the season's pick window closed) and the feedback
    #: service's (``FeedbackSeasonReported``, once the calendar closed the season)
    reports: tuple[ReportLine, ...] = ()


class SeasonResultsPublished(Event):
    season_id: str
    title: str = ""
    published_by: str
    report: SeasonReport = SeasonReport()


class EventRequested(Event):
    """A member asks for an event. What they wrote is their personal data (DESIGN.md §2)."""

    pii_fields: ClassVar[frozenset[str]] = frozenset({"topic", "experience"})
    season_id: str
    request_id: str
    member_id: str
    topic: str | None = None
    format: EventFormat
    #: the experience they want to gain
    experience: str | None = None
    group_size: int
    preferred_dates: tuple[date, ...] = ()


class EventRequestSupported(Event):
    season_id: str
    request_id: str
    member_id: str


class EventRequestAccepted(Event):
    season_id: str
    request_id: str
    accepted_by: str


class EventRequestMerged(Event):
    """The request goes on as part of another, accepted one."""

    season_id: str
    request_id: str
    into_request_id: str
    merged_by: str


class EventRequestDeclined(Event):
    #: the moderator's words are their personal data: sealed with their key
    pii_fields: ClassVar[frozenset[str]] = frozenset({"reason"})
    pii_subject_field: ClassVar[str] = "declined_by"
    season_id: str
    request_id: str
    declined_by: str
    reason: str | None = None


class GridEventAdded(Event):
    """Drafted while the season is planned: nobody sees it before the grid is published."""

    season_id: str
    event_id: str
    plan: EventPlan
    added_by: str


class GridEventChanged(Event):
    season_id: str
    event_id: str
    plan: EventPlan
    changed_by: str


class GridEventRemoved(Event):
    season_id: str
    event_id: str
    removed_by: str


class EventScheduled(Event):
    """Published with the grid (the groups service announces it in the Main group)."""

    season_id: str
    event_id: str
    plan: EventPlan
    #: 0 when scheduled, one more with each change (an ICS SEQUENCE)
    revision: int = 0
    #: the season's zone, in which the event's times are shown
    time_zone: str = COMMUNITY_TIME_ZONE


class EventChanged(Event):
    """A published event changed: its registered members are told."""

    season_id: str
    event_id: str
    plan: EventPlan
    revision: int
    changed_by: str


class EventCancelled(Event):
    pii_fields: ClassVar[frozenset[str]] = frozenset({"reason"})
    pii_subject_field: ClassVar[str] = "cancelled_by"
    season_id: str
    event_id: str
    revision: int
    cancelled_by: str
    reason: str | None = None


SEASON_EVENTS = (
    SeasonPlanningStarted, SeasonOpened, SeasonClosed, SeasonResultsPublished,
    EventRequested, EventRequestSupported, EventRequestAccepted, EventRequestMerged, EventRequestDeclined,
    GridEventAdded, GridEventChanged, GridEventRemoved, EventScheduled, EventChanged, EventCancelled,
)


# ---------------------------------------------------------------- events (aggregate ``registration``: one event)


class EventRegistered(Event):
    event_id: str
    member_id: str


class RegistrationWaitlisted(Event):
    event_id: str
    member_id: str
    #: 1 for the first in line, when they joined it
    position: int


class RegistrationCancelled(Event):
    event_id: str
    member_id: str
    #: they left the waitlist (no place freed)
    waitlisted: bool = False
    cancelled_by: str


class AttendanceRecorded(Event):
    """Who was there, among those registered (recording again replaces the list)."""

    event_id: str
    present: tuple[str, ...]
    recorded_by: str


class WaitlistPromoted(Event):
    """A place freed (a cancellation, a larger capacity): the first in line has it now and is told."""

    event_id: str
    member_id: str


REGISTRATION_EVENTS = (EventRegistered, RegistrationWaitlisted, RegistrationCancelled, WaitlistPromoted,
                       AttendanceRecorded)


class FeedLinkRenewed(Event):
    """The member's ICS links change: every earlier one answers 404 from now on."""

    member_id: str
    generation: int


class CalendarAuthorErased(Event):
    """The calendar forgets what an erased member wrote in its read models (libs/kit/erasure.py)."""

    erases: ClassVar[bool] = True
    member_id: str


CALENDAR_EVENTS = (*SEASON_EVENTS, *REGISTRATION_EVENTS, FeedLinkRenewed, CalendarAuthorErased)


# ---------------------------------------------------------------- replies


class SeasonView(Contract):
    season_id: str
    title: str
    phase: Phase
    starts_on: date
    ends_on: date
    time_zone: str
    events: int = 0
    requests: int = 0


class EventRequestView(Contract):
    season_id: str
    request_id: str
    #: None once the asker is erased
    member_id: str | None
    topic: str | None
    format: EventFormat
    experience: str | None
    group_size: int
    preferred_dates: tuple[date, ...] = ()
    supporters: int = 0
    #: the caller supports it
    supported: bool = False
    outcome: RequestOutcome = "pending"
    into_request_id: str | None = None
    reason: str | None = None
    #: the grid's events that answer it (directly or through the request it was merged into)
    event_ids: tuple[str, ...] = ()


class EventRequestList(Contract):
    season_id: str
    #: most supported first
    items: tuple[EventRequestView, ...]


class EventView(Contract):
    """One event of the grid, and where the caller stands: "19 of 50" is ``registered`` of ``capacity``."""

    season_id: str
    event_id: str
    status: Literal["draft", "scheduled", "cancelled"]
    revision: int = 0
    plan: EventPlan
    #: the season's zone, in which a client shows the times
    time_zone: str
    registered: int = 0
    capacity: int
    waitlisted: int = 0
    my_status: Literal["registered", "waitlisted"] | None = None
    #: 1 for the first in line
    my_position: int | None = None
    #: for its host and moderators only (others: empty): who holds a place, in order, and who was recorded present
    registered_ids: tuple[str, ...] = ()
    present_ids: tuple[str, ...] = ()


class SeasonEventList(Contract):
    season_id: str
    #: by start time
    items: tuple[EventView, ...]


class SeasonList(Contract):
    #: the latest first
    items: tuple[SeasonView, ...]


class MyEventList(Contract):
    """The events the caller holds a place or a place in line for, by start time."""

    items: tuple[EventView, ...]


class FeedLinks(Contract):
    """The caller's ICS links (paths under the API's root): secret, renewable."""

    personal: str
    #: ``{season_id}`` / ``{group_id}`` become the season's or group's id
    season: str
    group: str
    generation: int


class IcsFeed(Contract):
    """A feed as RFC 5545 text (``text/calendar``)."""

    name: str
    text: str


# ---------------------------------------------------------------- commands


class _SeasonStep(Command):
    """A moderator's step of a season: its answer is the season."""

    service = SERVICE
    reply_model = SeasonView
    season_id: Id


class StartSeasonPlanning(_SeasonStep):
    """Open a season for requests (moderators). Without dates, the community's defaults for
    ``<year>-spring`` / ``<year>-autumn``."""

    title: Title
    starts_on: date | None = None
    ends_on: date | None = None
    time_zone: TimeZone = COMMUNITY_TIME_ZONE


class OpenSeason(_SeasonStep):
    """Publish the grid: planning → open."""


class CloseSeason(_SeasonStep):
    """Open → closed."""


class PublishSeasonResults(_SeasonStep):
    """Closed → results published."""


class RequestEvent(Command):
    service = SERVICE
    reply_model = EventRequestView
    season_id: Id
    topic: Title
    format: EventFormat
    experience: Reason
    group_size: Annotated[int, Field(ge=1, le=500)]
    preferred_dates: Annotated[tuple[date, ...], Field(max_length=MAX_PREFERRED_DATES)] = ()


class _OnRequest(Command):
    service = SERVICE
    reply_model = EventRequestView
    season_id: Id
    request_id: Id


class SupportEventRequest(_OnRequest):
    """One vote of a member of Main, not the asker's."""


class AcceptEventRequest(_OnRequest):
    """A moderator's outcome: the grid may answer it."""


class MergeEventRequest(_OnRequest):
    """A moderator's outcome: it goes on as part of another, accepted request."""

    into_request_id: Id


class DeclineEventRequest(_OnRequest):
    """A moderator's outcome, with the reason the asker reads."""

    reason: GivenReason


class _OnGrid(Command):
    service = SERVICE
    reply_model = EventView
    season_id: Id


class AddGridEvent(_OnGrid):
    """Draft an event of the grid (planning only)."""

    plan: EventPlan


class ChangeGridEvent(_OnGrid):
    """Replace an event's plan: a draft while planning, ``EventChanged`` once published."""

    event_id: Id
    plan: EventPlan


class RemoveGridEvent(_OnGrid):
    """Take a draft out of the grid (planning only; a published event is cancelled)."""

    event_id: Id


class CancelGridEvent(_OnGrid):
    """Cancel a published event; its registered members are told."""

    event_id: Id
    reason: Reason | None = None


class _OnEvent(Command):
    service = SERVICE
    reply_model = EventView
    season_id: Id
    event_id: Id


class RecordAttendance(_OnEvent):
    """Who came, among those registered (moderators, or the event's host), once the event has begun."""

    present: Annotated[tuple[Id, ...], Field(max_length=10_000)]


class RenewFeedLink(Command):
    """Every earlier ICS link of the caller stops working; the answer holds the new ones."""

    service = SERVICE
    reply_model = FeedLinks


class RegisterForEvent(_OnEvent):
    """Take a place, or a place in line when the event is full."""


class CancelRegistration(_OnEvent):
    """Give up one's place or place in line (a moderator may name another member)."""

    member_id: Id | None = None


# ---------------------------------------------------------------- queries


class GetSeason(Query):
    service = SERVICE
    reply_model = SeasonView
    season_id: Id


class ListSeasonEvents(Query):
    service = SERVICE
    reply_model = SeasonEventList
    season_id: Id


class GetEvent(Query):
    service = SERVICE
    reply_model = EventView
    season_id: Id
    event_id: Id


class GetSeasonResults(Query):
    """The report published with the season's results (404 until they are)."""

    service = SERVICE
    reply_model = SeasonReport
    season_id: Id


class ListSeasons(Query):
    service = SERVICE
    reply_model = SeasonList


class ListMyEvents(Query):
    service = SERVICE
    reply_model = MyEventList


class GetFeedLinks(Query):
    service = SERVICE
    reply_model = FeedLinks


FeedScope = Literal["personal", "season", "group"]


class GetFeed(Query):
    """Asked without a signed-in caller (a calendar app): the token is the key."""

    service = SERVICE
    reply_model = IcsFeed
    member_id: Id
    token: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    scope: FeedScope
    #: the season's or the group's id (none for the personal feed)
    ref_id: Id | None = None


class ListEventRequests(Query):
    service = SERVICE
    reply_model = EventRequestList
    season_id: Id


CALENDAR_COMMANDS = (
    StartSeasonPlanning, OpenSeason, CloseSeason, PublishSeasonResults,
    RequestEvent, SupportEventRequest, AcceptEventRequest, MergeEventRequest, DeclineEventRequest,
    AddGridEvent, ChangeGridEvent, RemoveGridEvent, CancelGridEvent,
    RegisterForEvent, CancelRegistration, RecordAttendance, RenewFeedLink,
)
CALENDAR_QUERIES = (GetSeason, GetSeasonResults, ListSeasons, ListSeasonEvents, GetEvent, ListEventRequests,
                    ListMyEvents, GetFeedLinks, GetFeed)
CALENDAR_REPLIES = (EventPlan, CountByKind, ReportLine, SeasonReport, SeasonView, SeasonList, EventRequestView,
                    EventRequestList, EventView,
                    SeasonEventList, MyEventList, FeedLinks, IcsFeed)


# ================================================================ games' teams and research (issue 13 continued)

#: the members a team's roster names, at least and at most
MIN_ROSTER = 1
MAX_ROSTER = 30
Roster = Annotated[tuple[Id, ...], Field(min_length=MIN_ROSTER, max_length=MAX_ROSTER)]
#: how long a team has to accept a place offered to it, unless the settings say otherwise
DEFAULT_OFFER_HOURS = 48

#: where a team of a game stands. Out of the game: declined by a moderator, withdrawn by the team,
#: an offered place declined or let lapse (a team out may apply again, except a declined one)
TeamStatus = Literal["pending", "confirmed", "waitlisted", "offered",
                     "declined", "withdrawn", "offer_declined", "offer_expired"]
#: the statuses of a team still in the game
LIVE_TEAM_STATUSES: tuple[TeamStatus, ...] = ("pending", "confirmed", "waitlisted", "offered")

#: a research task's estimated effort, and the hours one volunteer may offer, in whole hours
MAX_EFFORT_HOURS = 500
MAX_OFFER_HOURS = 500
EffortHours = Annotated[int, Field(ge=1, le=MAX_EFFORT_HOURS)]
OfferHours = Annotated[int, Field(ge=1, le=MAX_OFFER_HOURS)]
#: the research tasks of one season at most (a distribution appends one event per task)
MAX_RESEARCH_TASKS = 200

#: why a task went to its volunteer, or to nobody (``DistributionReason.code``)
ASSIGNED_REASONS = ("largest_share_left", "only_one_fits")
UNASSIGNED_REASONS = ("no_volunteer_has_hours",)


# ---------------------------------------------------------------- events (aggregate ``game_teams``: one game)


class TeamApplied(Event):
    """A team's coordinator applied for the game with the team's roster: pending a moderator."""

    event_id: str
    group_id: str
    roster: tuple[str, ...]
    applied_by: str


class TeamConfirmed(Event):
    """The team has a place in the game: confirmed by a moderator, or an offered place accepted.
    The feedback service builds the game's teams from these."""

    event_id: str
    group_id: str
    roster: tuple[str, ...]
    confirmed_by: str


class TeamWaitlisted(Event):
    """A moderator confirmed the team while the game was full: it waits in line for a place."""

    event_id: str
    group_id: str
    #: 1 for the first in line, when it joined the line
    position: int
    confirmed_by: str


class TeamDeclined(Event):
    #: the moderator's words are their personal data: sealed with their key
    pii_fields: ClassVar[frozenset[str]] = frozenset({"reason"})
    pii_subject_field: ClassVar[str] = "declined_by"
    event_id: str
    group_id: str
    declined_by: str
    reason: str | None = None


class TeamWithdrawn(Event):
    """The team left the game (its coordinator or a moderator); a place it held is offered on."""

    event_id: str
    group_id: str
    #: where it stood: "confirmed" and "offered" held a place
    previous_status: TeamStatus
    withdrawn_by: str


class TeamPlaceOffered(Event):
    """A place freed: the first team in line may take it until ``expires_at``."""

    event_id: str
    group_id: str
    expires_at: UtcDatetime


class TeamOfferExpired(Event):
    """The team let the offered place lapse: it is out of the game, and the place goes on."""

    event_id: str
    group_id: str


class TeamPlaceDeclined(Event):
    """The team did not want the offered place: it is out of the game, and the place goes on."""

    event_id: str
    group_id: str
    declined_by: str


GAME_EVENTS = (TeamApplied, TeamConfirmed, TeamWaitlisted, TeamDeclined, TeamWithdrawn, TeamPlaceOffered,
               TeamOfferExpired, TeamPlaceDeclined)


# ---------------------------------------------------------------- events (aggregate ``research``: one season)


class DistributionReason(Contract):
    """Why a task went to its volunteer or to nobody: a code a client words (``ASSIGNED_REASONS``,
    ``UNASSIGNED_REASONS``) and its numbers, e.g. ``largest_share_left`` with ``hours_left_before``,
    ``offered_hours`` and ``candidates``; ``no_volunteer_has_hours`` with ``effort_hours`` and
    ``most_hours_left``."""

    code: str
    params: dict[str, int] = {}


class ResearchTaskAdded(Event):
    season_id: str
    task_id: str
    title: str
    effort_hours: int
    added_by: str


class ResearchTaskRemoved(Event):
    season_id: str
    task_id: str
    removed_by: str


class ResearchHoursOffered(Event):
    """A member of Main offers this many hours for the season's research (a new offer replaces theirs)."""

    season_id: str
    member_id: str
    hours: int


class ResearchOfferWithdrawn(Event):
    season_id: str
    member_id: str
    withdrawn_by: str


class ResearchAssigned(Event):
    season_id: str
    task_id: str
    member_id: str
    effort_hours: int
    reason: DistributionReason


class ResearchLeftUnassigned(Event):
    season_id: str
    task_id: str
    effort_hours: int
    reason: DistributionReason


class ResearchDistributed(Event):
    """Closes a distribution: the season's ``ResearchAssigned`` / ``ResearchLeftUnassigned`` precede it
    in the same append."""

    season_id: str
    distributed_by: str
    assigned: int
    unassigned: int


class ResearchDistributionReopened(Event):
    """The distribution is undone (every assignment with it): tasks and offers may change again."""

    season_id: str
    reopened_by: str


RESEARCH_EVENTS = (ResearchTaskAdded, ResearchTaskRemoved, ResearchHoursOffered, ResearchOfferWithdrawn,
                   ResearchAssigned, ResearchLeftUnassigned, ResearchDistributed, ResearchDistributionReopened)


# ---------------------------------------------------------------- replies


class GameTeamView(Contract):
    group_id: str
    roster: tuple[str, ...]
    status: TeamStatus
    #: 1 for the first team in line (waitlisted only)
    position: int | None = None
    #: until when an offered place may be accepted (offered only)
    offer_expires_at: UtcDatetime | None = None


class GameTeamsView(Contract):
    """The teams of one game: "3 of 8" is ``len(confirmed)`` of ``max_teams``."""

    event_id: str
    max_teams: int
    #: in the order they got their place
    confirmed: tuple[GameTeamView, ...] = ()
    #: in line, first first
    waitlisted: tuple[GameTeamView, ...] = ()
    #: a place is held for them until their offer expires
    offered: tuple[GameTeamView, ...] = ()
    #: waiting for a moderator, in the order they applied
    pending: tuple[GameTeamView, ...] = ()


class ResearchTaskView(Contract):
    task_id: str
    title: str
    effort_hours: int
    #: once distributed: the volunteer (None: left unassigned) and why
    member_id: str | None = None
    reason: DistributionReason | None = None


class ResearchOfferView(Contract):
    member_id: str
    hours: int
    #: the hours of the tasks they were given (0 before a distribution)
    assigned_hours: int = 0


class ResearchView(Contract):
    season_id: str
    distributed: bool = False
    #: largest first, as the distribution takes them
    tasks: tuple[ResearchTaskView, ...] = ()
    offers: tuple[ResearchOfferView, ...] = ()


# ---------------------------------------------------------------- commands: game teams


class _OnGameTeam(Command):
    service = SERVICE
    reply_model = GameTeamsView
    season_id: Id
    event_id: Id
    group_id: Id


class ApplyGameTeam(_OnGameTeam):
    """A team's coordinator applies for a game with the team's roster (the coordinator on it)."""

    roster: Roster


class ConfirmGameTeam(_OnGameTeam):
    """A moderator confirms a pending team: a place, or a place in line when the game is full."""


class DeclineGameTeam(_OnGameTeam):
    """A moderator declines a pending team, with the reason its coordinator reads."""

    reason: GivenReason


class WithdrawGameTeam(_OnGameTeam):
    """The team leaves the game (its coordinator, or a moderator); a place it held goes on down the line."""


class AcceptGameTeamPlace(_OnGameTeam):
    """The team's coordinator takes the place offered to the team, before the offer expires."""


class DeclineGameTeamPlace(_OnGameTeam):
    """The team passes on the place offered to it (its coordinator, or a moderator)."""


# ---------------------------------------------------------------- commands: research


class _OnResearch(Command):
    service = SERVICE
    reply_model = ResearchView
    season_id: Id


class AddResearchTask(_OnResearch):
    """A moderator lists a research task of the season with its estimated effort (until distributed)."""

    title: Title
    effort_hours: EffortHours


class RemoveResearchTask(_OnResearch):
    """A moderator takes a task off the list (until distributed)."""

    task_id: Id


class OfferResearchHours(_OnResearch):
    """A member of Main offers the hours they can give (replacing their offer; until distributed)."""

    hours: OfferHours


class WithdrawResearchOffer(_OnResearch):
    """Take back one's offer (a moderator may name another member; until distributed)."""

    member_id: Id | None = None


class DistributeResearch(_OnResearch):
    """A moderator distributes the tasks among the offers, once (again: nothing happens)."""


class ReopenResearchDistribution(_OnResearch):
    """A moderator undoes the distribution, so that tasks and offers may change before distributing again."""


# ---------------------------------------------------------------- queries


class GetGameTeams(Query):
    service = SERVICE
    reply_model = GameTeamsView
    season_id: Id
    event_id: Id


class GetResearch(Query):
    service = SERVICE
    reply_model = ResearchView
    season_id: Id


GAMES_COMMANDS = (
    ApplyGameTeam, ConfirmGameTeam, DeclineGameTeam, WithdrawGameTeam, AcceptGameTeamPlace, DeclineGameTeamPlace,
    AddResearchTask, RemoveResearchTask, OfferResearchHours, WithdrawResearchOffer, DistributeResearch,
    ReopenResearchDistribution,
)
GAMES_QUERIES = (GetGameTeams, GetResearch)
GAMES_REPLIES = (GameTeamView, GameTeamsView, DistributionReason, ResearchTaskView, ResearchOfferView, ResearchView)

class CalendarDataCollected(MemberDataCollected):
    """The calendar's part of a member's data: their registrations, event requests, research offers and ICS feed."""

EVENTS = (*CALENDAR_EVENTS, *GAME_EVENTS, *RESEARCH_EVENTS, CalendarDataCollected)
COMMANDS = (*CALENDAR_COMMANDS, *GAMES_COMMANDS)
QUERIES = (*CALENDAR_QUERIES, *GAMES_QUERIES)
REPLIES = (*CALENDAR_REPLIES, *GAMES_REPLIES)
CONTRACTS = ServiceContracts(SERVICE, EVENTS, COMMANDS, QUERIES, REPLIES, member_data=CalendarDataCollected)
