"""Calendar deciders, issue 13 continued: the teams of one HR-ВЛИЯНИЕ game and a season's research
workload. Pure: what they cannot know (the game as the season has it, the applicant's role in their
group, the caller's membership of Main, the season's phase, the time) the handler passes in as facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Literal

from libs.contracts.base import Event
from libs.contracts.calendar import (
    GAME_EVENTS,
    LIVE_TEAM_STATUSES,
    MAX_EFFORT_HOURS,
    MAX_OFFER_HOURS,
    MAX_RESEARCH_TASKS,
    MAX_ROSTER,
    MIN_ROSTER,
    RESEARCH_EVENTS,
    SERVICE,
    DistributionReason,
    EventKind,
    Phase,
    ResearchAssigned,
    ResearchDistributed,
    ResearchDistributionReopened,
    ResearchHoursOffered,
    ResearchLeftUnassigned,
    ResearchOfferWithdrawn,
    ResearchTaskAdded,
    ResearchTaskRemoved,
    TeamApplied,
    TeamConfirmed,
    TeamDeclined,
    TeamOfferExpired,
    TeamPlaceDeclined,
    TeamPlaceOffered,
    TeamStatus,
    TeamWaitlisted,
    TeamWithdrawn,
)
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.kit.decider import Decider

# ---------------------------------------------------------------- game teams: state


@dataclass(frozen=True)
class Team:
    group_id: str
    roster: tuple[str, ...]
    status: TeamStatus = "pending"
    #: offered only: the offer holds until then (not at that moment)
    offer_expires_at: datetime | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE_TEAM_STATUSES


@dataclass(frozen=True)
class GameTeams:
    """Every team that ever applied, by group, and the order of the three lines a team can stand in.
    Each team has one status; the lines name exactly the teams of their status."""

    teams: dict[str, Team] = field(default_factory=dict)
    #: in the order they got their place
    confirmed: tuple[str, ...] = ()
    #: in the order a moderator confirmed them into the line
    waitlist: tuple[str, ...] = ()
    #: in the order the places were offered
    offered: tuple[str, ...] = ()

    def status(self, group_id: str) -> TeamStatus | None:
        team = self.teams.get(group_id)
        return team.status if team else None

    def position(self, group_id: str) -> int | None:
        """1 for the first team in line; None when not in line."""
        return self.waitlist.index(group_id) + 1 if group_id in self.waitlist else None

    def free_places(self, max_teams: int) -> int:
        """Places neither taken nor held by an offer (never below 0, if the game got smaller)."""
        return max(0, max_teams - len(self.confirmed) - len(self.offered))


# ---------------------------------------------------------------- game teams: commands


@dataclass(frozen=True)
class GameFacts:
    """The game as the season's read model has it (``status`` None: no such event); ``max_teams`` is
    its plan's capacity."""

    status: Literal["draft", "scheduled", "cancelled"] | None
    kind: EventKind | None
    season_phase: Phase | None
    max_teams: int


@dataclass(frozen=True)
class ApplyTeam:
    """A team applies with its roster. Facts: ``group_type`` of the group (None: no such active group),
    ``applicant_coordinates`` whether the caller coordinates it, ``strangers`` the roster's ids that are
    not members of the group."""

    actor: Actor
    event_id: str
    group_id: str
    roster: tuple[str, ...]
    game: GameFacts
    group_type: str | None
    applicant_coordinates: bool
    strangers: tuple[str, ...]


@dataclass(frozen=True)
class ConfirmTeam:
    actor: Actor
    event_id: str
    group_id: str
    game: GameFacts


@dataclass(frozen=True)
class DeclineTeam:
    actor: Actor
    event_id: str
    group_id: str
    game: GameFacts
    reason: str


@dataclass(frozen=True)
class _Passing:
    """A command that may free a place: the place is offered on for ``offer_hours`` from ``now``.
    ``actor_coordinates``: the caller coordinates the team."""

    actor: Actor
    event_id: str
    group_id: str
    game: GameFacts
    actor_coordinates: bool
    now: datetime
    offer_hours: int


class WithdrawTeam(_Passing):
    """The team leaves the game (its coordinator or a moderator)."""


class AcceptTeamPlace(_Passing):
    """The team's coordinator takes the offered place; once the offer expired, it lapses instead."""


class DeclineTeamPlace(_Passing):
    """The team passes on the offered place (its coordinator or a moderator)."""


@dataclass(frozen=True)
class ExpireTeamOffer:
    """A durable timer fired at the offer's expiry: the offer lapses and the place goes on. Harmless
    when early or late (an offer not yet expired, or no longer open, is left as it is)."""

    event_id: str
    group_id: str
    game: GameFacts
    now: datetime
    offer_hours: int


@dataclass(frozen=True)
class ApplyMaxTeams:
    """The season changed the game's capacity (a policy on ``EventChanged``): offer the places that
    are free now to the line. A smaller game takes no place away."""

    event_id: str
    game: GameFacts
    now: datetime
    offer_hours: int


GameTeamsCommand = (ApplyTeam | ConfirmTeam | DeclineTeam | WithdrawTeam | AcceptTeamPlace | DeclineTeamPlace
                    | ExpireTeamOffer | ApplyMaxTeams)


# ---------------------------------------------------------------- game teams: rules


def _moderator(actor: Actor) -> None:
    if not actor.is_moderator:
        raise Forbidden("moderator_only")


def _visible_game(game: GameFacts, event_id: str) -> None:
    if game.status is None or game.status == "draft":
        raise NotFound("event_not_found", event_id=event_id)
    if game.kind != "game":
        raise Invalid("event_not_a_game", event_id=event_id, kind=game.kind)


def _season_open(game: GameFacts) -> None:
    if game.season_phase != "open":
        raise Conflict("season_not_open", phase=game.season_phase)


def _open_game(game: GameFacts, event_id: str) -> None:
    """A published game, not cancelled, in an open season: teams may apply, be confirmed, take places."""
    _visible_game(game, event_id)
    if game.status == "cancelled":
        raise Conflict("event_cancelled", event_id=event_id)
    _season_open(game)


def _live(game: GameFacts) -> bool:
    """Places go on down the line only in a game that still happens."""
    return game.status == "scheduled" and game.season_phase == "open"


def _team(state: GameTeams, group_id: str) -> Team:
    found = state.teams.get(group_id)
    if found is None:
        raise NotFound("team_not_found", group_id=group_id)
    return found


def _offer_free_places(state: GameTeams, event_id: str, game: GameFacts, now: datetime,
                       offer_hours: int) -> list[Event]:
    """The free places of ``state``, offered to the first teams in line."""
    if not _live(game):
        return []
    if offer_hours < 1:
        raise Invalid("offer_hours_too_small", offer_hours=offer_hours)
    expires_at = now + timedelta(hours=offer_hours)
    return [TeamPlaceOffered(event_id=event_id, group_id=g, expires_at=expires_at)
            for g in state.waitlist[:state.free_places(game.max_teams)]]


def _then_offer(state: GameTeams, first: Event, cmd: _Passing | ExpireTeamOffer) -> list[Event]:
    """``first``, and the places free after it offered on."""
    return [first, *_offer_free_places(evolve_game_teams(state, first), cmd.event_id, cmd.game, cmd.now,
                                       cmd.offer_hours)]


def _check_roster(cmd: ApplyTeam) -> None:
    size = len(cmd.roster)
    if not MIN_ROSTER <= size <= MAX_ROSTER:
        raise Invalid("team_roster_size", size=size, min=MIN_ROSTER, max=MAX_ROSTER)
    seen: set[str] = set()
    for member_id in cmd.roster:
        if member_id in seen:
            raise Invalid("team_roster_repeats_member", member_id=member_id)
        seen.add(member_id)
    if cmd.actor.id not in seen:
        raise Invalid("applicant_not_in_roster")
    if cmd.strangers:
        raise Invalid("roster_not_in_group", member_id=sorted(cmd.strangers)[0], group_id=cmd.group_id)


def _apply(cmd: ApplyTeam, state: GameTeams) -> list[Event]:
    if cmd.group_type is None:
        raise NotFound("group_not_found", group_id=cmd.group_id)
    if cmd.group_type != "game_team":
        raise Invalid("group_not_a_game_team", group_id=cmd.group_id, group_type=cmd.group_type)
    if not cmd.applicant_coordinates:
        raise Forbidden("team_coordinator_only")
    _open_game(cmd.game, cmd.event_id)
    _check_roster(cmd)
    team = state.teams.get(cmd.group_id)
    if team is not None and team.live:
        if team.roster == cmd.roster:
            return []  # the same application again
        raise Conflict("team_already_applied", group_id=cmd.group_id, status=team.status)
    if team is not None and team.status == "declined":
        raise Conflict("team_declined", group_id=cmd.group_id)
    for other in state.teams.values():
        if other.group_id != cmd.group_id and other.live:
            for member_id in cmd.roster:
                if member_id in other.roster:
                    raise Conflict("member_in_another_team", member_id=member_id, group_id=other.group_id)
    return [TeamApplied(event_id=cmd.event_id, group_id=cmd.group_id, roster=cmd.roster, applied_by=cmd.actor.id)]


def _moderate(cmd: ConfirmTeam | DeclineTeam, state: GameTeams) -> list[Event]:
    _moderator(cmd.actor)
    _open_game(cmd.game, cmd.event_id)
    team = _team(state, cmd.group_id)
    by = cmd.actor.id
    match cmd:
        case ConfirmTeam():
            if team.status in ("confirmed", "waitlisted", "offered"):
                return []  # confirmed already
            if team.status != "pending":
                raise Conflict("team_not_pending", group_id=cmd.group_id, status=team.status)
            if state.free_places(cmd.game.max_teams) and not state.waitlist:
                return [TeamConfirmed(event_id=cmd.event_id, group_id=cmd.group_id, roster=team.roster,
                                      confirmed_by=by)]
            return [TeamWaitlisted(event_id=cmd.event_id, group_id=cmd.group_id, position=len(state.waitlist) + 1,
                                   confirmed_by=by)]
        case DeclineTeam():
            if team.status == "declined":
                return []
            if team.status != "pending":
                raise Conflict("team_not_pending", group_id=cmd.group_id, status=team.status)
            if not cmd.reason.strip():
                raise Invalid("decline_reason_required")
            return [TeamDeclined(event_id=cmd.event_id, group_id=cmd.group_id, declined_by=by, reason=cmd.reason)]
    raise TypeError(cmd)


def _withdraw(cmd: WithdrawTeam, state: GameTeams) -> list[Event]:
    if not (cmd.actor_coordinates or cmd.actor.is_moderator):
        raise Forbidden("coordinator_only")
    _visible_game(cmd.game, cmd.event_id)
    _season_open(cmd.game)
    team = _team(state, cmd.group_id)
    if not team.live:
        return []  # out of the game already
    return _then_offer(state, TeamWithdrawn(event_id=cmd.event_id, group_id=cmd.group_id,
                                            previous_status=team.status, withdrawn_by=cmd.actor.id), cmd)


def _lapse(cmd: _Passing | ExpireTeamOffer, state: GameTeams) -> list[Event]:
    return _then_offer(state, TeamOfferExpired(event_id=cmd.event_id, group_id=cmd.group_id), cmd)


def _answer_offer(cmd: AcceptTeamPlace | DeclineTeamPlace, state: GameTeams) -> list[Event]:
    accepting = isinstance(cmd, AcceptTeamPlace)
    if accepting and not cmd.actor_coordinates:
        raise Forbidden("team_coordinator_only")
    if not accepting and not (cmd.actor_coordinates or cmd.actor.is_moderator):
        raise Forbidden("coordinator_only")
    if accepting:
        _open_game(cmd.game, cmd.event_id)
    else:
        _visible_game(cmd.game, cmd.event_id)
        _season_open(cmd.game)
    team = _team(state, cmd.group_id)
    if team.status == ("confirmed" if accepting else "offer_declined"):
        return []  # answered already
    if team.status != "offered":
        raise Conflict("team_place_not_offered", group_id=cmd.group_id, status=team.status)
    assert team.offer_expires_at is not None
    if cmd.now >= team.offer_expires_at:
        return _lapse(cmd, state)  # too late: the answer finds the offer lapsed
    if accepting:
        return [TeamConfirmed(event_id=cmd.event_id, group_id=cmd.group_id, roster=team.roster,
                              confirmed_by=cmd.actor.id)]
    return _then_offer(state, TeamPlaceDeclined(event_id=cmd.event_id, group_id=cmd.group_id,
                                                declined_by=cmd.actor.id), cmd)


def _expire(cmd: ExpireTeamOffer, state: GameTeams) -> list[Event]:
    team = state.teams.get(cmd.group_id)
    if team is None or team.status != "offered":
        return []  # answered, withdrawn or expired already
    assert team.offer_expires_at is not None
    if cmd.now < team.offer_expires_at:
        return []  # early: the offer still holds
    return _lapse(cmd, state)


def decide_game_teams(cmd: GameTeamsCommand, state: GameTeams) -> list[Event]:
    match cmd:
        case ApplyTeam():
            return _apply(cmd, state)
        case ConfirmTeam() | DeclineTeam():
            return _moderate(cmd, state)
        case WithdrawTeam():
            return _withdraw(cmd, state)
        case AcceptTeamPlace() | DeclineTeamPlace():
            return _answer_offer(cmd, state)
        case ExpireTeamOffer():
            return _expire(cmd, state)
        case ApplyMaxTeams():
            return _offer_free_places(state, cmd.event_id, cmd.game, cmd.now, cmd.offer_hours)
    raise TypeError(f"not a game teams command: {cmd!r}")


# ---------------------------------------------------------------- game teams: evolve


def _without(line: tuple[str, ...], group_id: str) -> tuple[str, ...]:
    return tuple(g for g in line if g != group_id)


def _moved(state: GameTeams, group_id: str, status: TeamStatus, expires_at: datetime | None = None) -> GameTeams:
    """The team takes ``status`` and leaves whichever line it stood in (joining its new one is the caller's)."""
    team = replace(state.teams[group_id], status=status, offer_expires_at=expires_at)
    return GameTeams({**state.teams, group_id: team}, _without(state.confirmed, group_id),
                     _without(state.waitlist, group_id), _without(state.offered, group_id))


def evolve_game_teams(state: GameTeams, event: Event) -> GameTeams:
    match event:
        case TeamApplied():
            teams = {**state.teams, event.group_id: Team(event.group_id, tuple(event.roster))}
            return _moved(replace(state, teams=teams), event.group_id, "pending")
        case TeamConfirmed():
            moved = _moved(state, event.group_id, "confirmed")
            return replace(moved, confirmed=(*moved.confirmed, event.group_id))
        case TeamWaitlisted():
            moved = _moved(state, event.group_id, "waitlisted")
            return replace(moved, waitlist=(*moved.waitlist, event.group_id))
        case TeamPlaceOffered():
            moved = _moved(state, event.group_id, "offered", event.expires_at)
            return replace(moved, offered=(*moved.offered, event.group_id))
        case TeamDeclined():
            return _moved(state, event.group_id, "declined")
        case TeamWithdrawn():
            return _moved(state, event.group_id, "withdrawn")
        case TeamOfferExpired():
            return _moved(state, event.group_id, "offer_expired")
        case TeamPlaceDeclined():
            return _moved(state, event.group_id, "offer_declined")
    return state


GAME_TEAMS: Decider = Decider(SERVICE, "game_teams", GameTeams, evolve_game_teams, decide_game_teams,
                              events=GAME_EVENTS)


# ---------------------------------------------------------------- research: the distribution


@dataclass(frozen=True)
class Assignment:
    task_id: str
    member_id: str
    effort_hours: int
    reason: DistributionReason


@dataclass(frozen=True)
class Unassigned:
    task_id: str
    effort_hours: int
    reason: DistributionReason


@dataclass(frozen=True)
class Distribution:
    """Both in the order the tasks were taken: largest first, then by task id."""

    assigned: tuple[Assignment, ...] = ()
    unassigned: tuple[Unassigned, ...] = ()

    def loads(self) -> dict[str, int]:
        """The hours each volunteer was given (only those given any)."""
        out: dict[str, int] = {}
        for a in self.assigned:
            out[a.member_id] = out.get(a.member_id, 0) + a.effort_hours
        return out


def distribute(tasks: Mapping[str, int], offers: Mapping[str, int]) -> Distribution:
    """Share the tasks (task id → effort in hours) among the volunteers (member id → hours offered),
    largest task first (longest processing time first): each goes to the volunteer, among those with
    enough hours left, who has the largest share of their offer left — the least loaded relative to
    what they offered — then the one with the most hours left, then by member id. A task no volunteer
    has the hours left for stays unassigned.

    Deterministic: the same tasks and offers give the same distribution, whatever their order. Nobody
    gets more hours than they offered, and a task left unassigned fits nobody's hours left at the end
    either (hours left only shrink). Offers of no hours take nothing.
    """
    offered = {m: h for m, h in offers.items() if h > 0}
    load = dict.fromkeys(offered, 0)
    assigned: list[Assignment] = []
    unassigned: list[Unassigned] = []
    for task_id, effort in sorted(tasks.items(), key=lambda t: (-t[1], t[0])):
        candidates = [m for m in offered if offered[m] - load[m] >= effort]
        if not candidates:
            most_left = max((offered[m] - load[m] for m in offered), default=0)
            unassigned.append(Unassigned(task_id, effort, DistributionReason(
                code="no_volunteer_has_hours", params={"effort_hours": effort, "most_hours_left": most_left})))
            continue
        chosen = min(candidates, key=lambda m: (Fraction(load[m], offered[m]), load[m] - offered[m], m))
        left = offered[chosen] - load[chosen]
        params = {"hours_left_before": left, "offered_hours": offered[chosen], "candidates": len(candidates)}
        code = "only_one_fits" if len(candidates) == 1 else "largest_share_left"
        assigned.append(Assignment(task_id, chosen, effort, DistributionReason(code=code, params=params)))
        load[chosen] += effort
    return Distribution(tuple(assigned), tuple(unassigned))


# ---------------------------------------------------------------- research: state


@dataclass(frozen=True)
class ResearchTask:
    task_id: str
    title: str
    effort_hours: int


@dataclass(frozen=True)
class Research:
    """The research workload of one season.

    The aggregate is the season, not one research event: volunteers offer hours for the season's
    research as a whole, and one distribution balances every research task of the season across
    them — per event, the same hours could be promised to two events at once and the balance would
    stop at each event's edge. One stream per season keeps "nobody gets more than they offered"
    a rule decided in one place.
    """

    tasks: dict[str, ResearchTask] = field(default_factory=dict)
    #: tasks taken off the list (removing one again changes nothing)
    removed: frozenset[str] = frozenset()
    #: member id → the hours they offer
    offers: dict[str, int] = field(default_factory=dict)
    distributed: bool = False
    #: once distributed: task id → what became of it
    assignments: dict[str, ResearchAssigned] = field(default_factory=dict)
    unassigned: dict[str, ResearchLeftUnassigned] = field(default_factory=dict)


# ---------------------------------------------------------------- research: commands


@dataclass(frozen=True)
class _OnResearch:
    """``season_phase``: the season's phase as its read model has it (None: no such season)."""

    actor: Actor
    season_id: str
    season_phase: Phase | None


@dataclass(frozen=True)
class AddTask(_OnResearch):
    task_id: str
    title: str
    effort_hours: int


@dataclass(frozen=True)
class RemoveTask(_OnResearch):
    task_id: str


@dataclass(frozen=True)
class Offer(_OnResearch):
    """``in_main``: the caller is a member of the Main group."""

    hours: int
    in_main: bool


@dataclass(frozen=True)
class WithdrawOffer(_OnResearch):
    """One's own offer, or anyone's by a moderator."""

    member_id: str


class Distribute(_OnResearch):
    """A moderator distributes the tasks, once: a second time changes nothing."""


class ReopenDistribution(_OnResearch):
    """A moderator undoes the distribution (``ResearchDistributionReopened``), so that tasks and offers may
    change; ``Distribute`` then distributes anew. Two steps rather than one "redistribute": nothing can
    change while the research is distributed, so redistributing at once would only repeat the result."""


ResearchCommand = AddTask | RemoveTask | Offer | WithdrawOffer | Distribute | ReopenDistribution


# ---------------------------------------------------------------- research: rules


def _season_live(cmd: _OnResearch) -> None:
    if cmd.season_phase is None:
        raise NotFound("season_not_found", season_id=cmd.season_id)
    if cmd.season_phase not in ("planning", "open"):
        raise Conflict("season_closed", season_id=cmd.season_id, phase=cmd.season_phase)


def _not_distributed(state: Research, season_id: str) -> None:
    if state.distributed:
        raise Conflict("research_distributed", season_id=season_id)


def _distribute(cmd: Distribute, state: Research) -> list[Event]:
    if not state.tasks:
        raise Conflict("research_no_tasks", season_id=cmd.season_id)
    result = distribute({t.task_id: t.effort_hours for t in state.tasks.values()}, state.offers)
    season_id = cmd.season_id
    return [
        *(ResearchAssigned(season_id=season_id, task_id=a.task_id, member_id=a.member_id,
                           effort_hours=a.effort_hours, reason=a.reason) for a in result.assigned),
        *(ResearchLeftUnassigned(season_id=season_id, task_id=u.task_id, effort_hours=u.effort_hours,
                                 reason=u.reason) for u in result.unassigned),
        ResearchDistributed(season_id=season_id, distributed_by=cmd.actor.id, assigned=len(result.assigned),
                            unassigned=len(result.unassigned)),
    ]


def decide_research(cmd: ResearchCommand, state: Research) -> list[Event]:  # noqa: C901 — one branch per command
    by, season_id = cmd.actor.id, cmd.season_id
    match cmd:
        case Offer():
            if not cmd.in_main:
                raise Forbidden("calendar_members_only")
        case WithdrawOffer():
            if cmd.member_id != by and not cmd.actor.is_moderator:
                raise Forbidden("own_offer_only")
        case _:
            _moderator(cmd.actor)
    _season_live(cmd)
    match cmd:
        case Distribute():
            return [] if state.distributed else _distribute(cmd, state)
        case ReopenDistribution():
            return [ResearchDistributionReopened(season_id=season_id, reopened_by=by)] if state.distributed else []
    _not_distributed(state, season_id)
    match cmd:
        case AddTask():
            if cmd.task_id in state.tasks:
                return []  # the same addition again
            if not 1 <= cmd.effort_hours <= MAX_EFFORT_HOURS:
                raise Invalid("research_effort_out_of_range", effort_hours=cmd.effort_hours, min=1,
                              max=MAX_EFFORT_HOURS)
            if len(state.tasks) >= MAX_RESEARCH_TASKS:
                raise Conflict("research_too_many_tasks", limit=MAX_RESEARCH_TASKS)
            return [ResearchTaskAdded(season_id=season_id, task_id=cmd.task_id, title=cmd.title,
                                      effort_hours=cmd.effort_hours, added_by=by)]
        case RemoveTask():
            if cmd.task_id not in state.tasks:
                if cmd.task_id in state.removed:
                    return []  # removed already
                raise NotFound("research_task_not_found", task_id=cmd.task_id)
            return [ResearchTaskRemoved(season_id=season_id, task_id=cmd.task_id, removed_by=by)]
        case Offer():
            if not 1 <= cmd.hours <= MAX_OFFER_HOURS:
                raise Invalid("research_hours_out_of_range", hours=cmd.hours, min=1, max=MAX_OFFER_HOURS)
            if state.offers.get(by) == cmd.hours:
                return []  # the same offer again
            return [ResearchHoursOffered(season_id=season_id, member_id=by, hours=cmd.hours)]
        case WithdrawOffer():
            if cmd.member_id not in state.offers:
                return []  # no offer (or withdrawn already)
            return [ResearchOfferWithdrawn(season_id=season_id, member_id=cmd.member_id, withdrawn_by=by)]
    raise TypeError(f"not a research command: {cmd!r}")


# ---------------------------------------------------------------- research: evolve


def evolve_research(state: Research, event: Event) -> Research:
    match event:
        case ResearchTaskAdded():
            task = ResearchTask(event.task_id, event.title, event.effort_hours)
            return replace(state, tasks={**state.tasks, event.task_id: task}, removed=state.removed - {event.task_id})
        case ResearchTaskRemoved():
            tasks = {k: v for k, v in state.tasks.items() if k != event.task_id}
            return replace(state, tasks=tasks, removed=state.removed | {event.task_id})
        case ResearchHoursOffered():
            return replace(state, offers={**state.offers, event.member_id: event.hours})
        case ResearchOfferWithdrawn():
            return replace(state, offers={k: v for k, v in state.offers.items() if k != event.member_id})
        case ResearchAssigned():
            return replace(state, assignments={**state.assignments, event.task_id: event})
        case ResearchLeftUnassigned():
            return replace(state, unassigned={**state.unassigned, event.task_id: event})
        case ResearchDistributed():
            return replace(state, distributed=True)
        case ResearchDistributionReopened():
            return replace(state, distributed=False, assignments={}, unassigned={})
    return state


RESEARCH: Decider = Decider(SERVICE, "research", Research, evolve_research, decide_research, events=RESEARCH_EVENTS)
