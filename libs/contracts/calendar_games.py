"""Calendar, issue 13 continued: team applications for HR-ВЛИЯНИЕ games and the research workload.

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

Times are UTC. Pure so far: these are not in the calendar's ``CONTRACTS`` until the service handles
them.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from libs.contracts.base import Command, Contract, Event, Query
from libs.contracts.calendar import SERVICE, GivenReason, Title, UtcDatetime
from libs.contracts.types import Id

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
