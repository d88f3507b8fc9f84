"""Feedback deciders: a game (its teams, observers and rounds), one observer's feedback for one team in one
round, and a request for expert help. Pure: what they cannot know (the game as its aggregate has it for a
piece of feedback, whether a member holds the observer role or belongs to a group, the check's settings)
the handler passes in as facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from libs.contracts.base import Event
from libs.contracts.calendar import ReportLine
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.contracts.feedback import (
    FEEDBACK_EVENTS,
    FEEDBACK_PARTS,
    GAME_EVENTS,
    HELP_EVENTS,
    HELP_PARTS,
    MAX_ROUNDS,
    PART_TITLES,
    REPORT_EVENTS,
    SERVICE,
    FeedbackAuthorErased,
    FeedbackDataCollected,
    FeedbackEdited,
    FeedbackMarked,
    FeedbackPublished,
    FeedbackSeasonReported,
    FeedbackWritten,
    GameCancelled,
    GameChanged,
    GameScheduled,
    Helped,
    HelpMessagePosted,
    HelpRequestClosed,
    HelpRequestDeclined,
    HelpRequested,
    HelpRequestRouted,
    ObserverAssigned,
    ObserverUnassigned,
    QualityCheck,
    RoundClosed,
    RoundOpened,
    TeamJoinedGame,
    TeamLeftGame,
)
from libs.contracts.roles import Quality, quality_of
from libs.kit.authors import author_decider
from libs.kit.data_parts import part_decider
from libs.kit.decider import Decider
from services.feedback.quality import check


@dataclass(frozen=True)
class CheckRules:
    min_words: int = 4
    same_ratio: float = 0.85


def refuse_unless(result: QualityCheck, code: str) -> None:
    """The first problem names the part; every problem goes along for the form."""
    if not result.ok:
        first = result.problems[0]
        ru, en = PART_TITLES[first.part]
        twin_ru, twin_en = PART_TITLES.get(first.same_as or "", ("", ""))
        says = {"missing": ("часть не заполнена", "the part is missing"),
                "too_thin": (f"слишком коротко, минимум слов: {first.min_words}",
                             f"too thin, at least {first.min_words} words"),
                "same_as": (f"повторяет «{twin_ru}»", f"repeats \"{twin_en}\"")}[first.code]
        raise Invalid(code, part=first.part, problem=first.code, part_ru=ru, part_en=en, problem_ru=says[0],
                      problem_en=says[1], problems=[p.model_dump(exclude_none=True) for p in result.problems])


# ---------------------------------------------------------------- the game


@dataclass(frozen=True)
class Game:
    status: str = "none"  # none → scheduled → cancelled
    season_id: str = ""
    title: str = ""
    host_id: str = ""
    starts_at: datetime | None = None
    place: str | None = None
    teams: dict[str, tuple[str, ...]] = field(default_factory=dict)
    observers: tuple[str, ...] = ()
    #: round number → open?
    rounds: dict[int, bool] = field(default_factory=dict)
    #: the rosters of the teams that left the game, as they left it: their feedback stays their members'
    former: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def open_round(self) -> int | None:
        return next((n for n, is_open in self.rounds.items() if is_open), None)

    def roster_of(self, group_id: str) -> tuple[str, ...]:
        """Who reads and answers a team's feedback: its roster in the game, or as it left the game."""
        return self.teams.get(group_id, self.former.get(group_id, ()))


@dataclass(frozen=True)
class ScheduleGame:
    game_id: str
    season_id: str
    title: str
    host_id: str
    starts_at: datetime
    place: str | None


@dataclass(frozen=True)
class CancelGame:
    game_id: str


@dataclass(frozen=True)
class JoinTeam:
    game_id: str
    group_id: str
    roster: tuple[str, ...]


@dataclass(frozen=True)
class LeaveTeam:
    game_id: str
    group_id: str


@dataclass(frozen=True)
class AssignObserver:
    actor: Actor
    game_id: str
    observer_id: str
    #: the member holds the observer role now
    is_observer: bool


@dataclass(frozen=True)
class UnassignObserver:
    actor: Actor
    game_id: str
    observer_id: str


@dataclass(frozen=True)
class OpenRound:
    actor: Actor
    game_id: str


@dataclass(frozen=True)
class CloseRound:
    actor: Actor
    game_id: str


GameCommand = ScheduleGame | CancelGame | JoinTeam | LeaveTeam | AssignObserver | UnassignObserver | OpenRound | \
    CloseRound


def _scheduled(state: Game, game_id: str) -> None:
    if state.status == "none":
        raise NotFound("game_not_found", game_id=game_id)
    if state.status == "cancelled":
        raise Conflict("game_cancelled", game_id=game_id)


def _host_or_moderator(actor: Actor, state: Game) -> None:
    if actor.id != state.host_id and not actor.is_moderator:
        raise Forbidden("host_or_moderator_only")


def decide_game(cmd: GameCommand, state: Game) -> list[Event]:  # noqa: C901 — one branch per command
    match cmd:
        case ScheduleGame():
            if state.status == "cancelled":
                return []
            facts = (cmd.title, cmd.host_id, cmd.starts_at, cmd.place)
            if state.status == "none":
                return [GameScheduled(game_id=cmd.game_id, season_id=cmd.season_id, title=cmd.title,
                                      host_id=cmd.host_id, starts_at=cmd.starts_at, place=cmd.place)]
            if facts == (state.title, state.host_id, state.starts_at, state.place):
                return []
            return [GameChanged(game_id=cmd.game_id, title=cmd.title, host_id=cmd.host_id, starts_at=cmd.starts_at,
                                place=cmd.place)]
        case CancelGame():
            return [GameCancelled(game_id=cmd.game_id)] if state.status == "scheduled" else []
        case JoinTeam():
            if state.teams.get(cmd.group_id) == cmd.roster:
                return []
            return [TeamJoinedGame(game_id=cmd.game_id, group_id=cmd.group_id, roster=cmd.roster)]
        case LeaveTeam():
            return [TeamLeftGame(game_id=cmd.game_id, group_id=cmd.group_id)] if cmd.group_id in state.teams else []
        case AssignObserver():
            if not cmd.actor.is_moderator:
                raise Forbidden("moderator_only")
            _scheduled(state, cmd.game_id)
            if not cmd.is_observer:
                raise Conflict("not_an_observer", member_id=cmd.observer_id)
            if cmd.observer_id in state.observers:
                return []
            return [ObserverAssigned(game_id=cmd.game_id, observer_id=cmd.observer_id, assigned_by=cmd.actor.id)]
        case UnassignObserver():
            if not cmd.actor.is_moderator:
                raise Forbidden("moderator_only")
            _scheduled(state, cmd.game_id)
            if cmd.observer_id not in state.observers:
                return []
            return [ObserverUnassigned(game_id=cmd.game_id, observer_id=cmd.observer_id,
                                       unassigned_by=cmd.actor.id)]
        case OpenRound():
            _scheduled(state, cmd.game_id)
            _host_or_moderator(cmd.actor, state)
            if state.open_round is not None:
                raise Conflict("round_already_open", round_no=state.open_round)
            if len(state.rounds) >= MAX_ROUNDS:
                raise Conflict("too_many_rounds", max=MAX_ROUNDS)
            return [RoundOpened(game_id=cmd.game_id, round_no=len(state.rounds) + 1, opened_by=cmd.actor.id)]
        case CloseRound():
            _scheduled(state, cmd.game_id)
            _host_or_moderator(cmd.actor, state)
            if state.open_round is None:
                raise Conflict("no_round_open")
            return [RoundClosed(game_id=cmd.game_id, round_no=state.open_round, closed_by=cmd.actor.id)]
    raise TypeError(cmd)


def evolve_game(state: Game, event: Event) -> Game:  # noqa: C901 — one branch per event
    match event:
        case GameScheduled():
            return replace(state, status="scheduled", season_id=event.season_id, title=event.title,
                           host_id=event.host_id, starts_at=event.starts_at, place=event.place)
        case GameChanged():
            return replace(state, title=event.title, host_id=event.host_id, starts_at=event.starts_at,
                           place=event.place)
        case GameCancelled():
            return replace(state, status="cancelled")
        case TeamJoinedGame():
            return replace(state, teams={**state.teams, event.group_id: event.roster},
                           former={k: v for k, v in state.former.items() if k != event.group_id})
        case TeamLeftGame():
            return replace(state, teams={k: v for k, v in state.teams.items() if k != event.group_id},
                           former={**state.former, event.group_id: state.teams.get(event.group_id, ())})
        case ObserverAssigned():
            return replace(state, observers=(*state.observers, event.observer_id))
        case ObserverUnassigned():
            return replace(state, observers=tuple(o for o in state.observers if o != event.observer_id))
        case RoundOpened():
            return replace(state, rounds={**state.rounds, event.round_no: True})
        case RoundClosed():
            return replace(state, rounds={**state.rounds, event.round_no: False})
    return state


GAME: Decider = Decider(SERVICE, "game", Game, evolve_game, decide_game, events=GAME_EVENTS)


# ---------------------------------------------------------------- a piece of feedback


@dataclass(frozen=True)
class Feedback:
    written: FeedbackWritten | FeedbackEdited | None = None
    published: bool = False
    #: member → (useful, intention)
    marks: dict[str, tuple[bool, str | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteFeedback:
    actor: Actor
    feedback_id: str
    game_id: str
    round_no: int
    group_id: str
    parts: dict[str, str]
    quality: Quality
    role: int | None
    #: the game as its aggregate has it now
    game: Game
    rules: CheckRules = CheckRules()


@dataclass(frozen=True)
class PublishFeedback:
    feedback_id: str


@dataclass(frozen=True)
class MarkFeedback:
    actor: Actor
    feedback_id: str
    useful: bool
    intention: str | None
    #: the team's roster in its game (as it left it, if it did)
    roster: tuple[str, ...]


FeedbackCommand = WriteFeedback | PublishFeedback | MarkFeedback


def decide_feedback(cmd: FeedbackCommand, state: Feedback) -> list[Event]:
    match cmd:
        case WriteFeedback():
            game = cmd.game
            _scheduled(game, cmd.game_id)
            if cmd.actor.id not in game.observers:
                raise Forbidden("assigned_observers_only")
            if cmd.group_id not in game.teams:
                raise NotFound("team_not_in_game", group_id=cmd.group_id)
            if cmd.round_no not in game.rounds:
                raise NotFound("round_not_found", round_no=cmd.round_no)
            if state.published or not game.rounds[cmd.round_no]:
                raise Conflict("round_closed", round_no=cmd.round_no)
            if cmd.role is not None and quality_of(cmd.role) != cmd.quality:
                raise Invalid("role_not_of_quality", role=cmd.role, quality=cmd.quality)
            refuse_unless(check(cmd.parts, FEEDBACK_PARTS, cmd.rules.min_words, cmd.rules.same_ratio),
                          "feedback_incomplete")
            words: dict[str, Any] = dict(feedback_id=cmd.feedback_id, game_id=cmd.game_id, round_no=cmd.round_no,
                         group_id=cmd.group_id, observer_id=cmd.actor.id, quality=cmd.quality, role=cmd.role,
                         **{p: cmd.parts[p] for p in FEEDBACK_PARTS})
            if state.written is None:
                return [FeedbackWritten(**words)]
            if all(getattr(state.written, k) == v for k, v in words.items()):
                return []
            return [FeedbackEdited(**words)]
        case PublishFeedback():
            if state.written is None or state.published:
                return []
            w = state.written
            return [FeedbackPublished(feedback_id=w.feedback_id, game_id=w.game_id, round_no=w.round_no,
                                      group_id=w.group_id, observer_id=w.observer_id, quality=w.quality, role=w.role)]
        case MarkFeedback():
            if not state.published:
                raise NotFound("feedback_not_found")
            if cmd.actor.id not in cmd.roster:
                raise Forbidden("team_members_only")
            if state.marks.get(cmd.actor.id) == (cmd.useful, cmd.intention):
                return []
            return [FeedbackMarked(feedback_id=cmd.feedback_id, member_id=cmd.actor.id, useful=cmd.useful,
                                   intention=cmd.intention)]
    raise TypeError(cmd)


def evolve_feedback(state: Feedback, event: Event) -> Feedback:
    match event:
        case FeedbackWritten() | FeedbackEdited():
            return replace(state, written=event)
        case FeedbackPublished():
            return replace(state, published=True)
        case FeedbackMarked():
            return replace(state, marks={**state.marks, event.member_id: (event.useful, event.intention)})
    return state


FEEDBACK: Decider = Decider(SERVICE, "feedback", Feedback, evolve_feedback, decide_feedback, events=FEEDBACK_EVENTS)


# ---------------------------------------------------------------- a request for expert help


@dataclass(frozen=True)
class HelpRequest:
    status: str = "none"  # none → submitted → routed | declined → closed
    asker_id: str = ""
    group_id: str | None = None
    expert_id: str | None = None


@dataclass(frozen=True)
class RequestHelp:
    actor: Actor
    request_id: str
    title: str
    parts: dict[str, str]
    rules: CheckRules = CheckRules()


@dataclass(frozen=True)
class RouteHelp:
    actor: Actor
    request_id: str
    group_id: str | None
    expert_id: str | None
    #: the group is an active working group; the expert a member of the community
    target_exists: bool


@dataclass(frozen=True)
class DeclineHelp:
    actor: Actor
    request_id: str
    reason: str


@dataclass(frozen=True)
class PostHelpMessage:
    actor: Actor
    request_id: str
    message_id: str
    text: str
    #: the caller is in the group the request went to
    in_group: bool


@dataclass(frozen=True)
class CloseHelp:
    actor: Actor
    request_id: str
    outcome: str
    helped: Helped
    #: the caller is in the group the request went to
    in_group: bool = False


HelpCommand = RequestHelp | RouteHelp | DeclineHelp | PostHelpMessage | CloseHelp


def _exists(state: HelpRequest, request_id: str) -> None:
    if state.status == "none":
        raise NotFound("help_request_not_found", request_id=request_id)


def _for_its_people(state: HelpRequest, cmd: PostHelpMessage | CloseHelp) -> None:
    """A request exists only for its people (ADR 0022): to anyone else, writing or closing it answers as
    reading it does, not found, so that no answer tells an outsider it exists."""
    _exists(state, cmd.request_id)
    if not (cmd.actor.id in (state.asker_id, state.expert_id) or cmd.in_group or cmd.actor.is_moderator):
        raise NotFound("help_request_not_found", request_id=cmd.request_id)


def decide_help(cmd: HelpCommand, state: HelpRequest) -> list[Event]:  # noqa: C901 — one branch per command
    match cmd:
        case RequestHelp():
            if state.status != "none":
                return []
            if not (cmd.actor.has("member") or cmd.actor.is_moderator):
                raise Forbidden("community_members_only")
            refuse_unless(check(cmd.parts, HELP_PARTS, cmd.rules.min_words, cmd.rules.same_ratio),
                          "help_request_incomplete")
            return [HelpRequested(request_id=cmd.request_id, asker_id=cmd.actor.id, title=cmd.title,
                                  **{p: cmd.parts[p] for p in HELP_PARTS})]
        case RouteHelp():
            if not cmd.actor.is_moderator:  # before its existence: a refusal tells nobody whether it exists
                raise Forbidden("moderator_only")
            _exists(state, cmd.request_id)
            if (cmd.group_id is None) == (cmd.expert_id is None):
                raise Invalid("route_to_one")
            if not cmd.target_exists:
                raise NotFound("group_not_found" if cmd.group_id else "member_not_found")
            if state.status == "routed" and (state.group_id, state.expert_id) == (cmd.group_id, cmd.expert_id):
                return []
            if state.status not in ("submitted", "routed"):
                raise Conflict("help_request_not_open")
            return [HelpRequestRouted(request_id=cmd.request_id, group_id=cmd.group_id, expert_id=cmd.expert_id,
                                      routed_by=cmd.actor.id)]
        case DeclineHelp():
            if not cmd.actor.is_moderator:
                raise Forbidden("moderator_only")
            _exists(state, cmd.request_id)
            if state.status != "submitted":
                raise Conflict("help_request_not_open")
            return [HelpRequestDeclined(request_id=cmd.request_id, declined_by=cmd.actor.id, reason=cmd.reason)]
        case PostHelpMessage():
            _for_its_people(state, cmd)
            if state.status != "routed":
                raise Conflict("help_request_not_routed")
            return [HelpMessagePosted(request_id=cmd.request_id, message_id=cmd.message_id, author_id=cmd.actor.id,
                                      text=cmd.text)]
        case CloseHelp():
            _for_its_people(state, cmd)
            if cmd.actor.id != state.asker_id:
                raise Forbidden("asker_only")
            if state.status == "closed":
                return []
            if state.status == "declined":
                raise Conflict("help_request_not_open")
            return [HelpRequestClosed(request_id=cmd.request_id, closed_by=cmd.actor.id, outcome=cmd.outcome,
                                      helped=cmd.helped)]
    raise TypeError(cmd)


def evolve_help(state: HelpRequest, event: Event) -> HelpRequest:
    match event:
        case HelpRequested():
            return HelpRequest(status="submitted", asker_id=event.asker_id)
        case HelpRequestRouted():
            return replace(state, status="routed", group_id=event.group_id, expert_id=event.expert_id)
        case HelpRequestDeclined():
            return replace(state, status="declined")
        case HelpRequestClosed():
            return replace(state, status="closed")
    return state


HELP: Decider = Decider(SERVICE, "help_request", HelpRequest, evolve_help, decide_help, events=HELP_EVENTS)


# ---------------------------------------------------------------- a season's report, and erased authors


@dataclass(frozen=True)
class SeasonReport:
    reported: bool = False


@dataclass(frozen=True)
class ReportSeason:
    season_id: str
    lines: tuple[ReportLine, ...]


def decide_report(cmd: ReportSeason, state: SeasonReport) -> list[Event]:
    """Once per season: the calendar closes a season once."""
    return [] if state.reported else [FeedbackSeasonReported(season_id=cmd.season_id, lines=cmd.lines)]


def evolve_report(state: SeasonReport, event: Event) -> SeasonReport:
    return SeasonReport(True) if isinstance(event, FeedbackSeasonReported) else state


REPORT: Decider = Decider(SERVICE, "season_report", SeasonReport, evolve_report, decide_report,
                          events=REPORT_EVENTS)
AUTHOR: Decider = author_decider(SERVICE, FeedbackAuthorErased)
#: its answer to a member's request for their data, once per request (docs/adr/0024)
DATA: Decider = part_decider(SERVICE, FeedbackDataCollected)
