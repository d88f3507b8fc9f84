"""Roles deciders: the pick window of a season, a member's picks over the seasons, and one vacancy.

A pick is one decision over two aggregates (``decide_pick``): the member's picks (their maximum per
season, their history for Vision) and the vacancy (its capacity). The service appends both parts in one
batch or neither (``Service.decide_across``), so a vacancy is never held over its capacity and a member
never over their maximum, whatever runs at the same time. Pure: what they cannot know (whether the
window is open at this moment, the caller's membership of the group, the defaults from settings) the
handler passes in as facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from libs.contracts.base import Event
from libs.contracts.calendar import ReportLine
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.contracts.roles import (
    COORDINATION,
    MATRIX,
    PICK_EVENTS,
    SERVICE,
    VACANCY_EVENTS,
    WINDOW_EVENTS,
    PickWindowClosed,
    PickWindowOpened,
    Quality,
    RoleReleased,
    RolesDataCollected,
    RolesSeasonReported,
    RoleTaken,
    VacancyCapacitySet,
    VacancyFreed,
    VacancyOccupied,
    quality_of,
)
from libs.kit.data_parts import part_decider
from libs.kit.decider import Decider

# ---------------------------------------------------------------- the pick window


@dataclass(frozen=True)
class Window:
    status: str = "none"  # none → open → closed
    opened: PickWindowOpened | None = None
    reported: bool = False

    def open_at(self, now: datetime) -> bool:
        return self.status == "open" and self.opened is not None and now < self.opened.closes_at


@dataclass(frozen=True)
class OpenPickWindow:
    season_id: str
    after_season_id: str
    now: datetime
    closes_at: datetime
    group_capacity: int
    coordination_capacity: int
    max_picks: int


@dataclass(frozen=True)
class ClosePickWindow:
    season_id: str
    now: datetime
    reason: str


@dataclass(frozen=True)
class ReportSeason:
    season_id: str
    lines: tuple[ReportLine, ...]


WindowCommand = OpenPickWindow | ClosePickWindow | ReportSeason


def decide_window(cmd: WindowCommand, state: Window) -> list[Event]:
    """A season has one window, opened once and closed once; its report is published once, after it closed.
    Anything else is a repetition (a redelivered cause, a timer fired twice): nothing happens."""
    match cmd:
        case OpenPickWindow():
            if state.status != "none":
                return []
            return [PickWindowOpened(season_id=cmd.season_id, after_season_id=cmd.after_season_id,
                                     opened_at=cmd.now, closes_at=max(cmd.closes_at, cmd.now),
                                     group_capacity=cmd.group_capacity,
                                     coordination_capacity=cmd.coordination_capacity, max_picks=cmd.max_picks)]
        case ClosePickWindow():
            if state.status != "open":
                return []
            reason = cmd.reason if cmd.reason in ("time", "season_closed", "next_window") else "time"
            return [PickWindowClosed(season_id=cmd.season_id, closed_at=cmd.now, reason=reason)]  # type: ignore[arg-type]
        case ReportSeason():
            if state.status != "closed" or state.reported:
                return []
            return [RolesSeasonReported(season_id=cmd.season_id, lines=cmd.lines)]
    raise TypeError(cmd)


def evolve_window(state: Window, event: Event) -> Window:
    match event:
        case PickWindowOpened():
            return replace(state, status="open", opened=event)
        case PickWindowClosed():
            return replace(state, status="closed")
        case RolesSeasonReported():
            return replace(state, reported=True)
    return state


WINDOW: Decider = Decider(SERVICE, "window", Window, evolve_window, decide_window, events=WINDOW_EVENTS)

# ---------------------------------------------------------------- a member's picks


@dataclass(frozen=True)
class Held:
    group_id: str | None
    role: int


@dataclass(frozen=True)
class Picks:
    """What the member holds, by season (released picks are gone: they never counted)."""

    seasons: dict[str, frozenset[Held]] = field(default_factory=dict)

    def of(self, season_id: str) -> frozenset[Held]:
        return self.seasons.get(season_id, frozenset())

    def qualities_before(self, season_id: str) -> set[Quality]:
        """Qualities of the roles held in every other season: the member's history as of this one (one
        window is open at a time, so every other season's picks are final)."""
        return {quality_of(h.role) for s, held in self.seasons.items() if s != season_id for h in held}


def evolve_picks(state: Picks, event: Event) -> Picks:
    match event:
        case RoleTaken():
            held = state.of(event.season_id) | {Held(event.group_id, event.role)}
            return Picks({**state.seasons, event.season_id: held})
        case RoleReleased():
            held = state.of(event.season_id) - {Held(event.group_id, event.role)}
            return Picks({**state.seasons, event.season_id: held})
    return state


def _never(cmd: object, state: object) -> list[Event]:
    raise TypeError(f"{type(cmd).__name__}: picks and vacancies are decided together (decide_pick)")


PICKS: Decider = Decider(SERVICE, "picks", Picks, evolve_picks, _never, events=PICK_EVENTS)

# ---------------------------------------------------------------- a vacancy


@dataclass(frozen=True)
class Vacancy:
    #: None until a coordinator set it: the window's default then
    capacity: int | None = None
    holders: tuple[str, ...] = ()


def evolve_vacancy(state: Vacancy, event: Event) -> Vacancy:
    match event:
        case VacancyOccupied() | VacancyFreed():
            return Vacancy(capacity=event.capacity, holders=event.holders)
        case VacancyCapacitySet():
            return Vacancy(capacity=event.capacity, holders=event.holders)
    return state


VACANCY: Decider = Decider(SERVICE, "vacancy", Vacancy, evolve_vacancy, _never, events=VACANCY_EVENTS)

# ---------------------------------------------------------------- deciding over both


@dataclass(frozen=True)
class PickFacts:
    """What the handler knows at the moment of the command."""

    #: the season of the window open now (None: no window is open)
    season_id: str | None
    #: the vacancy's capacity when no coordinator set one (the window's default for its level)
    default_capacity: int
    max_picks: int
    #: the caller (or the named member) belongs to the group; for coordination: to the community
    member_of_group: bool
    #: the caller may set the capacity (a coordinator of the group, or a moderator)
    may_set_capacity: bool = False
    #: the qualities a Vision role needs held in earlier seasons (the configured rule)
    vision_requires: tuple[Quality, ...] = ()
    #: when closed: the season whose closing opens the next window (for the message)
    opens_after: str | None = None


@dataclass(frozen=True)
class TakeRole:
    actor: Actor
    member_id: str
    group_id: str | None
    role: int
    facts: PickFacts


@dataclass(frozen=True)
class ReleaseRole:
    actor: Actor
    member_id: str
    group_id: str | None
    role: int
    facts: PickFacts
    reason: str = "released"


@dataclass(frozen=True)
class SetCapacity:
    actor: Actor
    group_id: str | None
    role: int
    capacity: int
    facts: PickFacts


PickCommand = TakeRole | ReleaseRole | SetCapacity


def _level(group_id: str | None, role: int) -> None:
    if role < 1 or role > 12:
        raise Invalid("role_unknown", role=role)
    if group_id is None and role <= 9:
        raise Invalid("role_in_a_group", role=role)
    if group_id is not None and role >= 10:
        raise Invalid("role_of_coordination", role=role)


def _open(facts: PickFacts) -> str:
    if facts.season_id is None:
        raise Conflict("pick_window_closed", **({"opens_after": facts.opens_after} if facts.opens_after else {}))
    return facts.season_id


def decide_pick(cmd: PickCommand, picks: Picks, vacancy: Vacancy) -> tuple[list[Event], list[Event]]:
    """-> (events of the member's picks, events of the vacancy): both appended together, or neither."""
    _level(cmd.group_id, cmd.role)
    season = _open(cmd.facts)
    capacity = vacancy.capacity or cmd.facts.default_capacity
    quality = quality_of(cmd.role)
    match cmd:
        case TakeRole():
            if not cmd.facts.member_of_group:
                raise Forbidden("not_in_group" if cmd.group_id else "community_members_only")
            if Held(cmd.group_id, cmd.role) in picks.of(season):
                return [], []  # the same pick again
            if len(picks.of(season)) >= cmd.facts.max_picks:
                raise Conflict("picks_max_reached", max=cmd.facts.max_picks)
            if quality == "vision":
                missing = [q for q in cmd.facts.vision_requires if q not in picks.qualities_before(season)]
                if missing:
                    names = {q.quality: q for q in MATRIX.qualities}
                    raise Conflict("vision_not_yet", missing=list(missing),
                                   missing_ru=", ".join(names[q].title_ru for q in missing),
                                   missing_en=", ".join(names[q].title_en for q in missing))
            if len(vacancy.holders) >= capacity:
                raise Conflict("vacancy_filled", role=cmd.role, capacity=capacity)
            holders = (*vacancy.holders, cmd.member_id)
            return ([RoleTaken(member_id=cmd.member_id, season_id=season, group_id=cmd.group_id, role=cmd.role,
                               quality=quality)],
                    [VacancyOccupied(season_id=season, group_id=cmd.group_id, role=cmd.role, member_id=cmd.member_id,
                                     holders=holders, capacity=capacity)])
        case ReleaseRole():
            if cmd.member_id != cmd.actor.id and not cmd.actor.is_moderator and cmd.actor.id != "system":
                raise Forbidden("own_picks_only")
            if Held(cmd.group_id, cmd.role) not in picks.of(season):
                raise NotFound("role_not_held", role=cmd.role)
            holders = tuple(m for m in vacancy.holders if m != cmd.member_id)
            reason = cmd.reason if cmd.member_id == cmd.actor.id or cmd.reason != "released" \
                else "released_by_moderator"
            return ([RoleReleased(member_id=cmd.member_id, season_id=season, group_id=cmd.group_id, role=cmd.role,
                                  quality=quality, reason=reason)],  # type: ignore[arg-type]
                    [VacancyFreed(season_id=season, group_id=cmd.group_id, role=cmd.role, member_id=cmd.member_id,
                                  holders=holders, capacity=capacity)])
        case SetCapacity():
            if not cmd.facts.may_set_capacity:
                raise Forbidden("coordinator_only" if cmd.group_id else "moderator_only")
            if cmd.capacity < len(vacancy.holders):
                raise Conflict("capacity_below_holders", holders=len(vacancy.holders))
            if vacancy.capacity == cmd.capacity:
                return [], []
            return [], [VacancyCapacitySet(season_id=season, group_id=cmd.group_id, role=cmd.role,
                                           capacity=cmd.capacity, holders=vacancy.holders, set_by=cmd.actor.id)]
    raise TypeError(cmd)


def board_id(group_id: str | None) -> str:
    return group_id or COORDINATION
#: its answer to a member's request for their data, once per request (docs/adr/0024)
DATA: Decider = part_decider(SERVICE, RolesDataCollected)
