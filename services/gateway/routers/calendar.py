"""The community's calendar: seasons and their phases, requests for events during planning, the season's
grid, registrations with a waitlist, the caller's own events and their ICS links, and the feeds a
calendar app reads with no sign-in (the link's token is the key)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from libs.contracts import calendar as c
from libs.contracts.calendar import SERVICE
from libs.contracts.types import ID_PATTERN
from services.gateway.deps import AnonBus, AuthBus, AuthCommandBus
from services.gateway.problems import PROBLEM_RESPONSES

PathId = Annotated[str, Path(pattern=ID_PATTERN)]
Token = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]

router = APIRouter(tags=["calendar"], responses=PROBLEM_RESPONSES)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeasonIn(Body):
    #: ``2027-spring`` / ``2027-autumn`` take the community's default days when none are given
    season_id: Annotated[str, Field(pattern=ID_PATTERN)]
    title: c.Title
    starts_on: date | None = None
    ends_on: date | None = None
    time_zone: c.TimeZone = c.COMMUNITY_TIME_ZONE


class RequestIn(Body):
    topic: c.Title
    format: c.EventFormat
    experience: c.Reason
    group_size: Annotated[int, Field(ge=1, le=500)]
    preferred_dates: Annotated[tuple[date, ...], Field(max_length=c.MAX_PREFERRED_DATES)] = ()


class MergeIn(Body):
    into_request_id: Annotated[str, Field(pattern=ID_PATTERN)]


class DeclineIn(Body):
    reason: c.GivenReason


class CancelIn(Body):
    reason: c.Reason | None = None


class AttendanceIn(Body):
    #: the registered members who came (the list replaces the one recorded before)
    present: Annotated[tuple[Annotated[str, Field(pattern=ID_PATTERN)], ...], Field(max_length=10_000)]


class TeamIn(Body):
    group_id: Annotated[str, Field(pattern=ID_PATTERN)]
    #: the team's members who play (its coordinator, who applies, among them)
    roster: c.Roster


class TaskIn(Body):
    title: c.Title
    effort_hours: c.EffortHours


class HoursIn(Body):
    hours: c.OfferHours


SEASON = "/v1/seasons/{season_id}"
REQUEST = SEASON + "/requests/{request_id}"
EVENT = SEASON + "/events/{event_id}"
FEED = "/v1/calendar/feeds/{member_id}/{token}"
ICS = {200: {"content": {"text/calendar": {}}, "description": "An RFC 5545 calendar"}}


@router.get("/v1/seasons", response_model=c.ListSeasons.reply_model,
            summary="The seasons, the latest first (members of the Main group)")
async def list_seasons(bus: AuthBus):
    return await bus.query(SERVICE, c.ListSeasons())


@router.post("/v1/seasons", response_model=c.StartSeasonPlanning.reply_model, status_code=status.HTTP_201_CREATED,
             summary="Start planning a season: requests open (moderators)")
async def start_season(body: SeasonIn, bus: AuthCommandBus):
    return await bus.command(SERVICE, c.StartSeasonPlanning(
        season_id=body.season_id, title=body.title, starts_on=body.starts_on, ends_on=body.ends_on,
        time_zone=body.time_zone))


@router.get(SEASON, response_model=c.GetSeason.reply_model, summary="A season: its phase, days and zone")
async def get_season(bus: AuthBus, season_id: PathId):
    return await bus.query(SERVICE, c.GetSeason(season_id=season_id))


@router.post(SEASON + "/open", response_model=c.OpenSeason.reply_model,
             summary="Publish the grid: planning → open; each event is announced in the Main group (moderators)")
async def open_season(bus: AuthCommandBus, season_id: PathId):
    return await bus.command(SERVICE, c.OpenSeason(season_id=season_id))


@router.post(SEASON + "/close", response_model=c.CloseSeason.reply_model,
             summary="Close the season: open → closed (moderators)")
async def close_season(bus: AuthCommandBus, season_id: PathId):
    return await bus.command(SERVICE, c.CloseSeason(season_id=season_id))


@router.post(SEASON + "/results", response_model=c.PublishSeasonResults.reply_model,
             summary="Publish the season's results: closed → results published (moderators)")
async def publish_results(bus: AuthCommandBus, season_id: PathId):
    return await bus.command(SERVICE, c.PublishSeasonResults(season_id=season_id))


@router.get(SEASON + "/results", response_model=c.GetSeasonResults.reply_model,
            summary="The report published with the season's results: events, places, attendance, requests, teams, "
                    "research (404 until published)")
async def season_results(bus: AuthBus, season_id: PathId):
    return await bus.query(SERVICE, c.GetSeasonResults(season_id=season_id))


@router.get(SEASON + "/requests", response_model=c.ListEventRequests.reply_model,
            summary="The season's requests for events, the most supported first, with their outcome")
async def list_requests(bus: AuthBus, season_id: PathId):
    return await bus.query(SERVICE, c.ListEventRequests(season_id=season_id))


@router.post(SEASON + "/requests", response_model=c.RequestEvent.reply_model, status_code=status.HTTP_201_CREATED,
             summary="Ask for an event while the season is planned (members of the Main group)")
async def request_event(body: RequestIn, bus: AuthCommandBus, season_id: PathId):
    return await bus.command(SERVICE, c.RequestEvent(
        season_id=season_id, topic=body.topic, format=body.format, experience=body.experience,
        group_size=body.group_size, preferred_dates=body.preferred_dates))


@router.post(REQUEST + "/support", response_model=c.SupportEventRequest.reply_model,
             summary="Support another member's request (one vote each; again changes nothing)")
async def support_request(bus: AuthCommandBus, season_id: PathId, request_id: PathId):
    return await bus.command(SERVICE, c.SupportEventRequest(season_id=season_id, request_id=request_id))


@router.post(REQUEST + "/accept", response_model=c.AcceptEventRequest.reply_model,
             summary="Accept a request: the grid may answer it (moderators)")
async def accept_request(bus: AuthCommandBus, season_id: PathId, request_id: PathId):
    return await bus.command(SERVICE, c.AcceptEventRequest(season_id=season_id, request_id=request_id))


@router.post(REQUEST + "/merge", response_model=c.MergeEventRequest.reply_model,
             summary="Merge a request into an accepted one (moderators)")
async def merge_request(body: MergeIn, bus: AuthCommandBus, season_id: PathId, request_id: PathId):
    return await bus.command(SERVICE, c.MergeEventRequest(season_id=season_id, request_id=request_id,
                                                          into_request_id=body.into_request_id))


@router.post(REQUEST + "/decline", response_model=c.DeclineEventRequest.reply_model,
             summary="Decline a request with the reason its asker reads (moderators)")
async def decline_request(body: DeclineIn, bus: AuthCommandBus, season_id: PathId, request_id: PathId):
    return await bus.command(SERVICE, c.DeclineEventRequest(season_id=season_id, request_id=request_id,
                                                            reason=body.reason))


@router.get(SEASON + "/events", response_model=c.ListSeasonEvents.reply_model,
            summary="The season's grid by start time, with places taken and the caller's place (drafts: "
                    "moderators only)")
async def list_events(bus: AuthBus, season_id: PathId):
    return await bus.query(SERVICE, c.ListSeasonEvents(season_id=season_id))


@router.post(SEASON + "/events", response_model=c.AddGridEvent.reply_model, status_code=status.HTTP_201_CREATED,
             summary="Draft an event of the grid while planning; conflicts are refused (moderators)")
async def add_event(body: c.EventPlan, bus: AuthCommandBus, season_id: PathId):
    return await bus.command(SERVICE, c.AddGridEvent(season_id=season_id, plan=body))


@router.get(EVENT, response_model=c.GetEvent.reply_model,
            summary="One event: \"19 of 50\", the waitlist, the caller's place or place in line")
async def get_event(bus: AuthBus, season_id: PathId, event_id: PathId):
    return await bus.query(SERVICE, c.GetEvent(season_id=season_id, event_id=event_id))


@router.put(EVENT, response_model=c.ChangeGridEvent.reply_model,
            summary="Change an event: a draft, or a published event (its people are told) (moderators)")
async def change_event(body: c.EventPlan, bus: AuthCommandBus, season_id: PathId, event_id: PathId):
    return await bus.command(SERVICE, c.ChangeGridEvent(season_id=season_id, event_id=event_id, plan=body))


@router.delete(EVENT, response_model=c.RemoveGridEvent.reply_model,
               summary="Take a draft out of the grid while planning (moderators)")
async def remove_event(bus: AuthCommandBus, season_id: PathId, event_id: PathId):
    return await bus.command(SERVICE, c.RemoveGridEvent(season_id=season_id, event_id=event_id))


@router.post(EVENT + "/cancel", response_model=c.CancelGridEvent.reply_model,
             summary="Cancel a published event; its people are told (moderators)")
async def cancel_event(body: CancelIn, bus: AuthCommandBus, season_id: PathId, event_id: PathId):
    return await bus.command(SERVICE, c.CancelGridEvent(season_id=season_id, event_id=event_id, reason=body.reason))


@router.put(EVENT + "/registration", response_model=c.RegisterForEvent.reply_model,
            summary="Take a place, or a place in line when the event is full (again changes nothing)")
async def register(bus: AuthCommandBus, season_id: PathId, event_id: PathId):
    return await bus.command(SERVICE, c.RegisterForEvent(season_id=season_id, event_id=event_id))


@router.delete(EVENT + "/registration", response_model=c.CancelRegistration.reply_model,
               summary="Give up one's place or place in line; the first in line moves up")
async def unregister(bus: AuthCommandBus, season_id: PathId, event_id: PathId):
    return await bus.command(SERVICE, c.CancelRegistration(season_id=season_id, event_id=event_id))


@router.delete(EVENT + "/registrations/{member_id}", response_model=c.CancelRegistration.reply_model,
               summary="Take a member's place or place in line away (moderators)")
async def unregister_member(bus: AuthCommandBus, season_id: PathId, event_id: PathId, member_id: PathId):
    return await bus.command(SERVICE, c.CancelRegistration(season_id=season_id, event_id=event_id,
                                                           member_id=member_id))


TEAMS = EVENT + "/teams"
TEAM = TEAMS + "/{group_id}"
RESEARCH = SEASON + "/research"


@router.get(TEAMS, response_model=c.GetGameTeams.reply_model,
            summary="A game's teams: \"3 of 8\" confirmed of max_teams, the line, offers and who waits for a decision")
async def game_teams(bus: AuthBus, season_id: PathId, event_id: PathId):
    return await bus.query(SERVICE, c.GetGameTeams(season_id=season_id, event_id=event_id))


@router.post(TEAMS, response_model=c.ApplyGameTeam.reply_model, status_code=status.HTTP_201_CREATED,
             summary="A game team applies with its roster (the team's coordinator)")
async def apply_team(body: TeamIn, bus: AuthCommandBus, season_id: PathId, event_id: PathId):
    return await bus.command(SERVICE, c.ApplyGameTeam(season_id=season_id, event_id=event_id, group_id=body.group_id,
                                                      roster=body.roster))


@router.post(TEAM + "/confirm", response_model=c.ConfirmGameTeam.reply_model,
             summary="Confirm a team: a place, or a place in the teams' line when the game is full (moderators)")
async def confirm_team(bus: AuthCommandBus, season_id: PathId, event_id: PathId, group_id: PathId):
    return await bus.command(SERVICE, c.ConfirmGameTeam(season_id=season_id, event_id=event_id, group_id=group_id))


@router.post(TEAM + "/decline", response_model=c.DeclineGameTeam.reply_model,
             summary="Decline a team's application, with the reason its coordinator reads (moderators)")
async def decline_team(body: DeclineIn, bus: AuthCommandBus, season_id: PathId, event_id: PathId, group_id: PathId):
    return await bus.command(SERVICE, c.DeclineGameTeam(season_id=season_id, event_id=event_id, group_id=group_id,
                                                        reason=body.reason))


@router.post(TEAM + "/withdraw", response_model=c.WithdrawGameTeam.reply_model,
             summary="The team leaves the game; its place is offered to the next team in line (its coordinator, "
                     "moderators)")
async def withdraw_team(bus: AuthCommandBus, season_id: PathId, event_id: PathId, group_id: PathId):
    return await bus.command(SERVICE, c.WithdrawGameTeam(season_id=season_id, event_id=event_id, group_id=group_id))


@router.post(TEAM + "/accept", response_model=c.AcceptGameTeamPlace.reply_model,
             summary="Take the place offered to the team before the offer expires (its coordinator)")
async def accept_place(bus: AuthCommandBus, season_id: PathId, event_id: PathId, group_id: PathId):
    return await bus.command(SERVICE, c.AcceptGameTeamPlace(season_id=season_id, event_id=event_id,
                                                            group_id=group_id))


@router.post(TEAM + "/pass", response_model=c.DeclineGameTeamPlace.reply_model,
             summary="Pass on the place offered to the team: it goes to the next in line (its coordinator, moderators)")
async def pass_place(bus: AuthCommandBus, season_id: PathId, event_id: PathId, group_id: PathId):
    return await bus.command(SERVICE, c.DeclineGameTeamPlace(season_id=season_id, event_id=event_id,
                                                             group_id=group_id))


@router.get(RESEARCH, response_model=c.GetResearch.reply_model,
            summary="The season's research: tasks with their effort, offers of hours, and who got what and why")
async def research(bus: AuthBus, season_id: PathId):
    return await bus.query(SERVICE, c.GetResearch(season_id=season_id))


@router.post(RESEARCH + "/tasks", response_model=c.AddResearchTask.reply_model, status_code=status.HTTP_201_CREATED,
             summary="List a research task with its estimated effort (moderators; until distributed)")
async def add_research_task(body: TaskIn, bus: AuthCommandBus, season_id: PathId):
    return await bus.command(SERVICE, c.AddResearchTask(season_id=season_id, title=body.title,
                                                        effort_hours=body.effort_hours))


@router.delete(RESEARCH + "/tasks/{task_id}", response_model=c.RemoveResearchTask.reply_model,
               summary="Take a research task off the list (moderators; until distributed)")
async def remove_research_task(bus: AuthCommandBus, season_id: PathId, task_id: PathId):
    return await bus.command(SERVICE, c.RemoveResearchTask(season_id=season_id, task_id=task_id))


@router.put(RESEARCH + "/offer", response_model=c.OfferResearchHours.reply_model,
            summary="Offer the hours one can give to the season's research (members of Main; until distributed)")
async def offer_hours(body: HoursIn, bus: AuthCommandBus, season_id: PathId):
    return await bus.command(SERVICE, c.OfferResearchHours(season_id=season_id, hours=body.hours))


@router.delete(RESEARCH + "/offer", response_model=c.WithdrawResearchOffer.reply_model,
               summary="Take back one's offer of hours (until distributed)")
async def withdraw_offer(bus: AuthCommandBus, season_id: PathId):
    return await bus.command(SERVICE, c.WithdrawResearchOffer(season_id=season_id))


@router.delete(RESEARCH + "/offers/{member_id}", response_model=c.WithdrawResearchOffer.reply_model,
               summary="Take back a member's offer of hours (moderators; until distributed)")
async def withdraw_members_offer(bus: AuthCommandBus, season_id: PathId, member_id: PathId):
    return await bus.command(SERVICE, c.WithdrawResearchOffer(season_id=season_id, member_id=member_id))


@router.post(RESEARCH + "/distribute", response_model=c.DistributeResearch.reply_model,
             summary="Distribute the tasks among the offers, balancing the effort within each one's hours "
                     "(moderators; once)")
async def distribute(bus: AuthCommandBus, season_id: PathId):
    return await bus.command(SERVICE, c.DistributeResearch(season_id=season_id))


@router.post(RESEARCH + "/reopen", response_model=c.ReopenResearchDistribution.reply_model,
             summary="Undo the distribution so tasks and offers may change (moderators)")
async def reopen(bus: AuthCommandBus, season_id: PathId):
    return await bus.command(SERVICE, c.ReopenResearchDistribution(season_id=season_id))


@router.put(EVENT + "/attendance", response_model=c.RecordAttendance.reply_model,
            summary="Record who came, among those registered, once the event has begun (its host, moderators)")
async def record_attendance(body: AttendanceIn, bus: AuthCommandBus, season_id: PathId, event_id: PathId):
    return await bus.command(SERVICE, c.RecordAttendance(season_id=season_id, event_id=event_id, present=body.present))


@router.get("/v1/me/calendar", response_model=c.ListMyEvents.reply_model,
            summary="The events the caller holds a place or a place in line for, by start time")
async def my_events(bus: AuthBus):
    return await bus.query(SERVICE, c.ListMyEvents())


@router.get("/v1/me/calendar/links", response_model=c.GetFeedLinks.reply_model,
            summary="The caller's secret ICS links: personal, a season's, a group's")
async def my_links(bus: AuthBus):
    return await bus.query(SERVICE, c.GetFeedLinks())


@router.post("/v1/me/calendar/links", response_model=c.RenewFeedLink.reply_model,
             summary="Renew the caller's ICS links: every earlier one answers 404 from now on")
async def renew_links(bus: AuthCommandBus):
    return await bus.command(SERVICE, c.RenewFeedLink())


async def _feed(bus: AnonBus, member_id: str, token: str, scope: c.FeedScope, ref_id: str | None) -> Response:
    feed = await bus.query(SERVICE, c.GetFeed(member_id=member_id, token=token, scope=scope, ref_id=ref_id))
    return Response(feed["text"].encode(), media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"})


@router.get(FEED + "/personal.ics", response_class=Response, responses=ICS,
            summary="A member's feed: their registrations and their groups' events (no sign-in: the link is the key)")
async def personal_feed(bus: AnonBus, member_id: PathId, token: Token):
    return await _feed(bus, member_id, token, "personal", None)


@router.get(FEED + "/seasons/{season_id}.ics", response_class=Response, responses=ICS,
            summary="A season's published grid as a feed (no sign-in: the link is the key)")
async def season_feed(bus: AnonBus, member_id: PathId, token: Token, season_id: PathId):
    return await _feed(bus, member_id, token, "season", season_id)


@router.get(FEED + "/groups/{group_id}.ics", response_class=Response, responses=ICS,
            summary="A working group's events as a feed, for its members (no sign-in: the link is the key)")
async def group_feed(bus: AnonBus, member_id: PathId, token: Token, group_id: PathId):
    return await _feed(bus, member_id, token, "group", group_id)
