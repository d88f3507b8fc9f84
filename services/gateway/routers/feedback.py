"""Feedback: HR-ВЛИЯНИЕ games with their rounds, teams and observers; observers' developmental feedback per
round and team, and the team's answers; requests for expert help with the four-part check the form asks
as the member types, their routing and their thread."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from libs.contracts import feedback as f
from libs.contracts.feedback import SERVICE
from libs.contracts.types import ID_PATTERN
from services.gateway.deps import AuthBus, AuthCommandBus
from services.gateway.problems import PROBLEM_RESPONSES

PathId = Annotated[str, Path(pattern=ID_PATTERN)]
FeedbackId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_:-]{1,200}$")]
Round = Annotated[int, Path(ge=1, le=f.MAX_ROUNDS)]

router = APIRouter(tags=["feedback"], responses=PROBLEM_RESPONSES)
GAME = "/v1/games/{game_id}"
HELP = "/v1/help-requests"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeedbackIn(Body):
    situation: f.Words
    behaviour: f.Words
    impact: f.Words
    recommendation: f.Words
    quality: f.Quality
    role: f.RoleNo | None = None


class MarkIn(Body):
    useful: bool
    intention: f.ShortWords | None = None


class FeedbackCheckIn(Body):
    situation: f.Words = ""
    behaviour: f.Words = ""
    impact: f.Words = ""
    recommendation: f.Words = ""


class HelpIn(Body):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    need: f.Words
    data: f.Words
    closure: f.Words
    dialogue: f.Words


class HelpCheckIn(Body):
    need: f.Words = ""
    data: f.Words = ""
    closure: f.Words = ""
    dialogue: f.Words = ""


class RouteIn(Body):
    group_id: Annotated[str | None, Field(pattern=ID_PATTERN)] = None
    expert_id: Annotated[str | None, Field(pattern=ID_PATTERN)] = None


class DeclineIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class MessageIn(Body):
    text: Annotated[str, Field(min_length=1, max_length=4000)]


class CloseIn(Body):
    outcome: f.ShortWords
    helped: f.Helped


@router.get("/v1/games", response_model=f.ListGames.reply_model,
            summary="The games the calendar scheduled, with their teams, observers and rounds")
async def list_games(bus: AuthBus, season_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None):
    return await bus.query(SERVICE, f.ListGames(season_id=season_id))


@router.get(GAME, response_model=f.GetGame.reply_model, summary="A game: its teams, observers and rounds")
async def get_game(bus: AuthBus, game_id: PathId):
    return await bus.query(SERVICE, f.GetGame(game_id=game_id))


@router.put(GAME + "/observers/{observer_id}", response_model=f.AssignObserver.reply_model,
            summary="Assign an expert observer (a member with the observer role) (moderators)")
async def assign_observer(bus: AuthCommandBus, game_id: PathId, observer_id: PathId):
    return await bus.command(SERVICE, f.AssignObserver(game_id=game_id, observer_id=observer_id))


@router.delete(GAME + "/observers/{observer_id}", response_model=f.UnassignObserver.reply_model,
               summary="Take an observer off the game (moderators)")
async def unassign_observer(bus: AuthCommandBus, game_id: PathId, observer_id: PathId):
    return await bus.command(SERVICE, f.UnassignObserver(game_id=game_id, observer_id=observer_id))


@router.post(GAME + "/rounds", response_model=f.OpenRound.reply_model, status_code=status.HTTP_201_CREATED,
             summary="Open the next round (the game's host, moderators); one round is open at a time")
async def open_round(bus: AuthCommandBus, game_id: PathId):
    return await bus.command(SERVICE, f.OpenRound(game_id=game_id))


@router.post(GAME + "/rounds/close", response_model=f.CloseRound.reply_model,
             summary="Close the open round: its feedback is published to the teams and changes no more")
async def close_round(bus: AuthCommandBus, game_id: PathId):
    return await bus.command(SERVICE, f.CloseRound(game_id=game_id))


@router.put(GAME + "/rounds/{round_no}/teams/{group_id}/feedback", response_model=f.WriteFeedback.reply_model,
            summary="Write or rewrite one's feedback for a team in an open round (assigned observers); every "
                    "part is required and must say something of its own")
async def write_feedback(body: FeedbackIn, bus: AuthCommandBus, game_id: PathId, round_no: Round, group_id: PathId):
    return await bus.command(SERVICE, f.WriteFeedback(
        game_id=game_id, round_no=round_no, group_id=group_id, situation=body.situation, behaviour=body.behaviour,
        impact=body.impact, recommendation=body.recommendation, quality=body.quality, role=body.role))


@router.get(GAME + "/teams/{group_id}/feedback", response_model=f.GetTeamFeedback.reply_model,
            summary="A team's feedback by round (its members: once published; observers and moderators: all)")
async def team_feedback(bus: AuthBus, game_id: PathId, group_id: PathId):
    return await bus.query(SERVICE, f.GetTeamFeedback(game_id=game_id, group_id=group_id))


@router.put("/v1/feedback/{feedback_id}/mark", response_model=f.MarkFeedback.reply_model,
            summary="Answer a published piece of feedback: useful or not, and what one will do (the team's members)")
async def mark_feedback(body: MarkIn, bus: AuthCommandBus, feedback_id: FeedbackId):
    return await bus.command(SERVICE, f.MarkFeedback(feedback_id=feedback_id, useful=body.useful,
                                                     intention=body.intention))


@router.post("/v1/feedback/check", response_model=f.CheckFeedback.reply_model,
             summary="The unified format's check on a draft: the parts missing, too thin or repeated (nothing stored)")
async def check_feedback(body: FeedbackCheckIn, bus: AuthBus):
    return await bus.query(SERVICE, f.CheckFeedback(**body.model_dump()))


@router.get("/v1/me/feedback", response_model=f.GetMyFeedback.reply_model,
            summary="The feedback addressed to my teams across games and seasons, by quality of the matrix")
async def my_feedback(bus: AuthBus):
    return await bus.query(SERVICE, f.GetMyFeedback())


@router.get("/v1/me/feedback/owed", response_model=f.ListOwedFeedback.reply_model,
            summary="What I still owe as an observer: the teams of open rounds, and whether I wrote for each")
async def owed_feedback(bus: AuthBus):
    return await bus.query(SERVICE, f.ListOwedFeedback())


@router.post(HELP + "/check", response_model=f.CheckHelpRequest.reply_model,
             summary="The quality standard on a draft request: the parts missing, too thin or repeated (nothing "
                     "stored)")
async def check_help_request(body: HelpCheckIn, bus: AuthBus):
    return await bus.query(SERVICE, f.CheckHelpRequest(**body.model_dump()))


@router.post(HELP, response_model=f.RequestHelp.reply_model, status_code=status.HTTP_201_CREATED,
             summary="Ask for expert help: the need, the data, how the answer closes the need, readiness to work "
                     "together (members of Main)")
async def request_help(body: HelpIn, bus: AuthCommandBus):
    return await bus.command(SERVICE, f.RequestHelp(**body.model_dump()))


@router.get(HELP, response_model=f.ListHelpRequests.reply_model,
            summary="My requests; those routed to me or my groups (to_me); the moderators' queue (queue)")
async def list_help_requests(bus: AuthBus, scope: Literal["mine", "queue", "to_me"] = "mine"):
    return await bus.query(SERVICE, f.ListHelpRequests(scope=scope))


@router.get(HELP + "/{request_id}", response_model=f.GetHelpRequest.reply_model,
            summary="A request and its thread (its asker, its expert or group, moderators)")
async def get_help_request(bus: AuthBus, request_id: PathId):
    return await bus.query(SERVICE, f.GetHelpRequest(request_id=request_id))


@router.post(HELP + "/{request_id}/route", response_model=f.RouteHelpRequest.reply_model,
             summary="Route a request to a working group or to an expert (moderators)")
async def route_help_request(body: RouteIn, bus: AuthCommandBus, request_id: PathId):
    return await bus.command(SERVICE, f.RouteHelpRequest(request_id=request_id, group_id=body.group_id,
                                                         expert_id=body.expert_id))


@router.post(HELP + "/{request_id}/decline", response_model=f.DeclineHelpRequest.reply_model,
             summary="Decline a request with the reason its asker reads (moderators)")
async def decline_help_request(body: DeclineIn, bus: AuthCommandBus, request_id: PathId):
    return await bus.command(SERVICE, f.DeclineHelpRequest(request_id=request_id, reason=body.reason))


@router.post(HELP + "/{request_id}/messages", response_model=f.PostHelpMessage.reply_model,
             status_code=status.HTTP_201_CREATED, summary="Write in a routed request's thread (its people)")
async def post_help_message(body: MessageIn, bus: AuthCommandBus, request_id: PathId):
    return await bus.command(SERVICE, f.PostHelpMessage(request_id=request_id, text=body.text))


@router.post(HELP + "/{request_id}/close", response_model=f.CloseHelpRequest.reply_model,
             summary="Close one's request with the outcome and whether it helped")
async def close_help_request(body: CloseIn, bus: AuthCommandBus, request_id: PathId):
    return await bus.command(SERVICE, f.CloseHelpRequest(request_id=request_id, outcome=body.outcome,
                                                         helped=body.helped))
