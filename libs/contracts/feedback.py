"""Feedback (issue 15): HR-ВЛИЯНИЕ games with their rounds, teams and observers; observers' developmental
feedback per round and team in the community's unified format; requests for expert help that meet the
four-part quality standard.

**A game** (aggregate ``game``, id = the calendar's event id) exists for each in-person game the calendar
schedules (a policy on ``EventScheduled`` of kind ``game``); its teams are the game-team working groups the
calendar confirmed (``TeamConfirmed`` carries the roster). Moderators assign observers (members with the
``observer`` role); the game's host opens and closes rounds, one at a time.

**Feedback** (aggregate ``feedback``, id = ``<game>:<round>:<team>:<observer>``): an assigned observer
writes, for one team in one round, the situation, the observed behaviour, its impact, a recommendation for
the next step and the quality of the matrix it develops (optionally the role). Every part is required and
must not be thin (shorter than the configured minimum of words, or the same as another part once
normalised, or nearly so): the check names the part. The words are the observer's personal data, sealed
with their key. The observer edits until the round closes; the round's closing publishes it to the team
(``FeedbackPublished``) and it changes no more. The team's members mark a piece as useful or not and say
what they will do with it (their words, sealed with their key), which the observer reads.

**A request for expert help** (aggregate ``help_request``): the need (motivated), the data (informative),
how the answer will close the need (conscious) and the readiness to work on it together with the times the
asker is available (dialogic). The same check refuses a request that misses a part or has one too thin,
naming it, and answers the web client's query as the asker types. A moderator routes an accepted request
to a working group or to an expert, or declines it with a reason; the asker and whoever it was routed to
talk in a thread on it; the asker closes it with the outcome and whether it helped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from libs.contracts.base import Command, Contract, Event, Query, ServiceContracts
from libs.contracts.calendar import ReportLine
from libs.contracts.my_data import MemberDataCollected
from libs.contracts.roles import Quality
from libs.contracts.types import MULTI_LINE, Id

SERVICE = "feedback"

#: the unified developmental format, in its order
FEEDBACK_PARTS = ("situation", "behaviour", "impact", "recommendation")
FeedbackPart = Literal["situation", "behaviour", "impact", "recommendation"]
#: the quality standard of a request: motivated, informative, conscious, dialogic
HELP_PARTS = ("need", "data", "closure", "dialogue")
HelpPart = Literal["need", "data", "closure", "dialogue"]

#: each part as the forms and the refusals name it (Russian, English)
PART_TITLES: dict[str, tuple[str, str]] = {
    "situation": ("Ситуация", "Situation"),
    "behaviour": ("Наблюдаемое поведение", "Observed behaviour"),
    "impact": ("Влияние", "Impact"),
    "recommendation": ("Рекомендация на следующий шаг", "Recommendation for the next step"),
    "need": ("Потребность (мотивированность)", "The need (motivated)"),
    "data": ("Данные (информативность)", "The data (informative)"),
    "closure": ("Как ответ закроет потребность (осознанность)", "How the answer closes the need (conscious)"),
    "dialogue": ("Готовность работать вместе и когда вы доступны (диалогичность)",
                 "Readiness to work on it together, and when (dialogic)"),
}
MAX_ROUNDS = 20
Words = Annotated[str, StringConstraints(max_length=4000), MULTI_LINE]
ShortWords = Annotated[str, StringConstraints(max_length=1000), MULTI_LINE]
RoundNo = Annotated[int, Field(ge=1, le=MAX_ROUNDS)]
RoleNo = Annotated[int, Field(ge=1, le=12)]
Helped = Literal["yes", "partly", "no"]


def feedback_id(game_id: str, round_no: int, group_id: str, observer_id: str) -> str:
    return f"{game_id}:{round_no}:{group_id}:{observer_id}"


# ---------------------------------------------------------------- events: the game


class GameScheduled(Event):
    game_id: str
    season_id: str
    title: str
    host_id: str
    starts_at: datetime
    place: str | None = None


class GameChanged(Event):
    game_id: str
    title: str
    host_id: str
    starts_at: datetime
    place: str | None = None


class GameCancelled(Event):
    game_id: str


class TeamJoinedGame(Event):
    game_id: str
    group_id: str
    roster: tuple[str, ...]


class TeamLeftGame(Event):
    game_id: str
    group_id: str


class ObserverAssigned(Event):
    game_id: str
    observer_id: str
    assigned_by: str


class ObserverUnassigned(Event):
    game_id: str
    observer_id: str
    unassigned_by: str


class RoundOpened(Event):
    game_id: str
    round_no: int
    opened_by: str


class RoundClosed(Event):
    game_id: str
    round_no: int
    closed_by: str


GAME_EVENTS = (GameScheduled, GameChanged, GameCancelled, TeamJoinedGame, TeamLeftGame, ObserverAssigned,
               ObserverUnassigned, RoundOpened, RoundClosed)


# ---------------------------------------------------------------- events: feedback


class FeedbackWords(Event):
    """A piece of feedback as its observer wrote it: the four parts are theirs, sealed with their key."""

    pii_fields: ClassVar[frozenset[str]] = frozenset({"situation", "behaviour", "impact", "recommendation"})
    pii_subject_field: ClassVar[str] = "observer_id"
    feedback_id: str
    game_id: str
    round_no: int
    group_id: str
    observer_id: str
    situation: str | None = None
    behaviour: str | None = None
    impact: str | None = None
    recommendation: str | None = None
    quality: Quality
    role: int | None = None


class FeedbackWritten(FeedbackWords):
    pass


class FeedbackEdited(FeedbackWords):
    pass


class FeedbackPublished(Event):
    """The round closed: the team reads it, and it changes no more."""

    feedback_id: str
    game_id: str
    round_no: int
    group_id: str
    observer_id: str
    quality: Quality
    role: int | None = None


class FeedbackMarked(Event):
    """A team member's answer to a piece of feedback (again: it replaces their earlier one); their words
    are theirs."""

    pii_fields: ClassVar[frozenset[str]] = frozenset({"intention"})
    pii_subject_field: ClassVar[str] = "member_id"
    feedback_id: str
    member_id: str
    useful: bool
    intention: str | None = None


FEEDBACK_EVENTS = (FeedbackWritten, FeedbackEdited, FeedbackPublished, FeedbackMarked)


# ---------------------------------------------------------------- events: requests for expert help


class HelpRequested(Event):
    pii_fields: ClassVar[frozenset[str]] = frozenset({"title", "need", "data", "closure", "dialogue"})
    pii_subject_field: ClassVar[str] = "asker_id"
    request_id: str
    asker_id: str
    title: str | None = None
    need: str | None = None
    data: str | None = None
    closure: str | None = None
    dialogue: str | None = None


class HelpRequestRouted(Event):
    request_id: str
    #: a working group, or an expert (a member), never both
    group_id: str | None = None
    expert_id: str | None = None
    routed_by: str


class HelpRequestDeclined(Event):
    pii_fields: ClassVar[frozenset[str]] = frozenset({"reason"})
    pii_subject_field: ClassVar[str] = "declined_by"
    request_id: str
    declined_by: str
    reason: str | None = None


class HelpMessagePosted(Event):
    pii_fields: ClassVar[frozenset[str]] = frozenset({"text"})
    pii_subject_field: ClassVar[str] = "author_id"
    request_id: str
    message_id: str
    author_id: str
    text: str | None = None


class HelpRequestClosed(Event):
    pii_fields: ClassVar[frozenset[str]] = frozenset({"outcome"})
    pii_subject_field: ClassVar[str] = "closed_by"
    request_id: str
    closed_by: str
    outcome: str | None = None
    helped: Helped


HELP_EVENTS = (HelpRequested, HelpRequestRouted, HelpRequestDeclined, HelpMessagePosted, HelpRequestClosed)


class FeedbackSeasonReported(Event):
    """A season's feedback once the calendar closed it: rounds commented, qualities addressed, marks."""

    season_id: str
    lines: tuple[ReportLine, ...]


class FeedbackAuthorErased(Event):
    """The feedback service forgets an erased member's words in its read models (libs/kit/erasure.py)."""

    erases: ClassVar[bool] = True
    member_id: str


REPORT_EVENTS = (FeedbackSeasonReported,)
AUTHOR_EVENTS = (FeedbackAuthorErased,)


# ---------------------------------------------------------------- the quality check


class PartProblem(Contract):
    """What is wrong with one part: missing, too thin (fewer words than ``min_words``), or the same as
    another part (``same_as``) once normalised, or nearly so."""

    part: str
    code: Literal["missing", "too_thin", "same_as"]
    min_words: int | None = None
    same_as: str | None = None


class QualityCheck(Contract):
    ok: bool
    problems: tuple[PartProblem, ...] = ()


# ---------------------------------------------------------------- replies


class TeamView(Contract):
    group_id: str
    title: str | None = None
    roster: tuple[str, ...]


class RoundView(Contract):
    round_no: int
    status: Literal["open", "closed"]


class GameView(Contract):
    game_id: str
    season_id: str
    title: str
    host_id: str
    starts_at: datetime
    place: str | None = None
    status: Literal["scheduled", "cancelled"]
    teams: tuple[TeamView, ...]
    observers: tuple[str, ...]
    rounds: tuple[RoundView, ...]
    #: what the caller is here
    is_host: bool = False
    is_observer: bool = False
    my_team_ids: tuple[str, ...] = ()


class GameList(Contract):
    items: tuple[GameView, ...]


class MarkView(Contract):
    member_id: str
    useful: bool
    intention: str | None = None


class FeedbackView(Contract):
    feedback_id: str
    game_id: str
    round_no: int
    group_id: str
    observer_id: str | None
    situation: str | None
    behaviour: str | None
    impact: str | None
    recommendation: str | None
    quality: Quality
    role: int | None = None
    status: Literal["draft", "published"]
    #: the team members' answers (the observer and moderators see everyone's; a member, their own)
    marks: tuple[MarkView, ...] = ()


class FeedbackList(Contract):
    items: tuple[FeedbackView, ...]


class Owed(Contract):
    game_id: str
    game_title: str
    round_no: int
    group_id: str
    group_title: str | None = None
    written: bool


class OwedList(Contract):
    items: tuple[Owed, ...]


class FeedbackByQuality(Contract):
    quality: Quality
    items: tuple[FeedbackView, ...]


class MyFeedback(Contract):
    qualities: tuple[FeedbackByQuality, ...]


class HelpMessageView(Contract):
    message_id: str
    author_id: str | None
    text: str | None
    posted_at: datetime


class HelpRequestView(Contract):
    request_id: str
    asker_id: str | None
    title: str | None
    need: str | None
    data: str | None
    closure: str | None
    dialogue: str | None
    status: Literal["submitted", "routed", "declined", "closed"]
    group_id: str | None = None
    expert_id: str | None = None
    reason: str | None = None
    outcome: str | None = None
    helped: Helped | None = None
    requested_at: datetime
    messages: tuple[HelpMessageView, ...] = ()


class HelpRequestList(Contract):
    items: tuple[HelpRequestView, ...]


# ---------------------------------------------------------------- commands


class _OnGame(Command):
    service = SERVICE
    reply_model = GameView
    game_id: Id


class AssignObserver(_OnGame):
    """A moderator assigns an expert observer (a member with the observer role) to the game."""

    observer_id: Id


class UnassignObserver(_OnGame):
    observer_id: Id


class OpenRound(_OnGame):
    """The game's host (or a moderator) opens the next round; one round is open at a time."""


class CloseRound(_OnGame):
    """The host closes the open round: its feedback is published to the teams and changes no more."""


class WriteFeedback(Command):
    """An assigned observer writes (or, while the round is open, rewrites) their feedback for a team."""

    service = SERVICE
    reply_model = FeedbackView
    game_id: Id
    round_no: RoundNo
    group_id: Id
    situation: Words
    behaviour: Words
    impact: Words
    recommendation: Words
    quality: Quality
    role: RoleNo | None = None


class MarkFeedback(Command):
    """A member of the team answers a published piece of feedback: useful or not, and what they will do."""

    service = SERVICE
    reply_model = FeedbackView
    feedback_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_:-]{1,200}$")]
    useful: bool
    intention: ShortWords | None = None


class RequestHelp(Command):
    service = SERVICE
    reply_model = HelpRequestView
    title: Annotated[str, StringConstraints(max_length=200), MULTI_LINE]
    need: Words
    data: Words
    closure: Words
    dialogue: Words


class _OnHelp(Command):
    service = SERVICE
    reply_model = HelpRequestView
    request_id: Id


class RouteHelpRequest(_OnHelp):
    """A moderator routes the request to a working group or to an expert (one of them)."""

    group_id: Id | None = None
    expert_id: Id | None = None


class DeclineHelpRequest(_OnHelp):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000), MULTI_LINE]


class PostHelpMessage(_OnHelp):
    """The asker, the expert (or the group's members) and moderators talk on a routed request."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=4000), MULTI_LINE]


class CloseHelpRequest(_OnHelp):
    """The asker closes their request with the outcome and whether it helped."""

    outcome: ShortWords
    helped: Helped


# ---------------------------------------------------------------- queries


class CheckHelpRequest(Query):
    """The quality standard applied to a draft, as the asker types: nothing is stored."""

    service = SERVICE
    reply_model = QualityCheck
    need: Words = ""
    data: Words = ""
    closure: Words = ""
    dialogue: Words = ""


class CheckFeedback(Query):
    service = SERVICE
    reply_model = QualityCheck
    situation: Words = ""
    behaviour: Words = ""
    impact: Words = ""
    recommendation: Words = ""


class ListGames(Query):
    service = SERVICE
    reply_model = GameList
    season_id: Id | None = None


class GetGame(Query):
    service = SERVICE
    reply_model = GameView
    game_id: Id


class GetTeamFeedback(Query):
    """A team's feedback by round (its members: published only; the observers and moderators: all)."""

    service = SERVICE
    reply_model = FeedbackList
    game_id: Id
    group_id: Id


class ListOwedFeedback(Query):
    """What the calling observer still owes: the teams of open rounds without their feedback."""

    service = SERVICE
    reply_model = OwedList


class GetMyFeedback(Query):
    """The feedback addressed to the caller's teams across games and seasons, by quality of the matrix."""

    service = SERVICE
    reply_model = MyFeedback


class ListHelpRequests(Query):
    """``mine``: the caller's; ``queue``: waiting for a moderator (moderators); ``to_me``: routed to the
    caller or to a group they are in."""

    service = SERVICE
    reply_model = HelpRequestList
    scope: Literal["mine", "queue", "to_me"] = "mine"


class GetHelpRequest(Query):
    service = SERVICE
    reply_model = HelpRequestView
    request_id: Id

class FeedbackDataCollected(MemberDataCollected):
    """Feedback's part of a member's data: their help requests and threads, the feedback addressed to
    their teams (without who wrote it) and their marks."""

EVENTS = (*GAME_EVENTS, *FEEDBACK_EVENTS, *HELP_EVENTS, *REPORT_EVENTS, *AUTHOR_EVENTS, FeedbackDataCollected)
COMMANDS = (AssignObserver, UnassignObserver, OpenRound, CloseRound, WriteFeedback, MarkFeedback, RequestHelp,
            RouteHelpRequest, DeclineHelpRequest, PostHelpMessage, CloseHelpRequest)
QUERIES = (CheckHelpRequest, CheckFeedback, ListGames, GetGame, GetTeamFeedback, ListOwedFeedback, GetMyFeedback,
           ListHelpRequests, GetHelpRequest)
REPLIES = (PartProblem, QualityCheck, TeamView, RoundView, GameView, GameList, MarkView, FeedbackView, FeedbackList,
           Owed, OwedList, FeedbackByQuality, MyFeedback, HelpMessageView, HelpRequestView, HelpRequestList)
CONTRACTS = ServiceContracts(SERVICE, EVENTS, COMMANDS, QUERIES, REPLIES, member_data=FeedbackDataCollected)
