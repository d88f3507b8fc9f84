"""The feedback service's read models: games (teams, observers, rounds), every piece of feedback with the
team's answers, requests for expert help with their threads; and, from the groups service, the working
groups and their members (a team's title, whom a request was routed to).

An erased member's words leave them (``FeedbackAuthorErased``, in log order, so a rebuild writes what
the live run wrote): an observer's four parts, a member's answer, an asker's request and outcome, a
message of a thread."""

from __future__ import annotations

from typing import Any

from libs.contracts import feedback as f
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Recorded
from libs.kit.projection import View
from libs.kit.service import Service
from libs.kit.working_groups import keep_working_groups

GAMES = "games"
FEEDBACK = "feedback"
HELP = "help_requests"
MESSAGES = "help_messages"
FEEDBACK_VIEW = "feedback"
COLLECTIONS = [GAMES, FEEDBACK, HELP, MESSAGES]


def plain(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


async def _change(view: View, collection: str, key: str, **changes: Any) -> None:
    doc = await view.get(collection, key)
    if doc is not None:
        await view.put(collection, key, {**plain(doc), **changes})


async def _game_event(e: Any, view: View) -> None:  # noqa: C901 — one case per event
    match e:
        case f.GameScheduled():
            await view.put(GAMES, e.game_id, {
                "key": e.game_id, "game_id": e.game_id, "season_id": e.season_id, "title": e.title,
                "host_id": e.host_id, "starts_at": e.starts_at.isoformat(), "place": e.place, "status": "scheduled",
                "teams": {}, "observers": [], "rounds": []})
        case f.GameChanged():
            await _change(view, GAMES, e.game_id, title=e.title, host_id=e.host_id,
                          starts_at=e.starts_at.isoformat(), place=e.place)
        case f.GameCancelled():
            await _change(view, GAMES, e.game_id, status="cancelled")
        case f.TeamJoinedGame() | f.TeamLeftGame():
            doc: dict[str, Any] = await view.get(GAMES, e.game_id) or {
                "key": e.game_id, "game_id": e.game_id, "season_id": None, "title": "", "host_id": None,
                "starts_at": None, "place": None, "status": "none", "teams": {}, "observers": [], "rounds": []}
            teams = {k: v for k, v in doc["teams"].items() if k != e.group_id}
            if isinstance(e, f.TeamJoinedGame):
                teams[e.group_id] = list(e.roster)
            await view.put(GAMES, e.game_id, {**plain(doc), "teams": teams})
        case f.ObserverAssigned() | f.ObserverUnassigned():
            found = await view.get(GAMES, e.game_id)
            if found is not None:
                doc = found
                others = [o for o in doc["observers"] if o != e.observer_id]
                now = [*others, e.observer_id] if isinstance(e, f.ObserverAssigned) else others
                await view.put(GAMES, e.game_id, {**plain(doc), "observers": now})
        case f.RoundOpened() | f.RoundClosed():
            found = await view.get(GAMES, e.game_id)
            if found is not None:
                doc = found
                rounds = [r for r in doc["rounds"] if r["round_no"] != e.round_no]
                status = "open" if isinstance(e, f.RoundOpened) else "closed"
                rounds = sorted([*rounds, {"round_no": e.round_no, "status": status}], key=lambda r: r["round_no"])
                await view.put(GAMES, e.game_id, {**plain(doc), "rounds": rounds})


async def _feedback_event(e: Any, view: View, at: str) -> None:
    match e:
        case f.FeedbackWritten() | f.FeedbackEdited():
            found = await view.get(FEEDBACK, e.feedback_id)
            doc: dict[str, Any] = plain(found) if found else {"key": e.feedback_id, "status": "draft", "marks": {},
                                              "written_at": at}
            await view.put(FEEDBACK, e.feedback_id, {
                **doc, "feedback_id": e.feedback_id, "game_id": e.game_id, "round_no": e.round_no,
                "group_id": e.group_id, "observer_id": e.observer_id, "quality": e.quality, "role": e.role,
                **{p: getattr(e, p) for p in f.FEEDBACK_PARTS}, "edited_at": at})
        case f.FeedbackPublished():
            await _change(view, FEEDBACK, e.feedback_id, status="published", published_at=at)
        case f.FeedbackMarked():
            marked = await view.get(FEEDBACK, e.feedback_id)
            if marked is not None:
                doc = marked
                marks = {**doc["marks"], e.member_id: {"useful": e.useful, "intention": e.intention}}
                await view.put(FEEDBACK, e.feedback_id, {**plain(doc), "marks": marks})


async def _help_event(e: Any, view: View, at: str) -> None:
    match e:
        case f.HelpRequested():
            await view.put(HELP, e.request_id, {
                "key": e.request_id, "request_id": e.request_id, "asker_id": e.asker_id, "title": e.title,
                **{p: getattr(e, p) for p in f.HELP_PARTS}, "status": "submitted", "group_id": None,
                "expert_id": None, "reason": None, "declined_by": None, "outcome": None, "helped": None,
                "requested_at": at})
        case f.HelpRequestRouted():
            await _change(view, HELP, e.request_id, status="routed", group_id=e.group_id, expert_id=e.expert_id)
        case f.HelpRequestDeclined():
            await _change(view, HELP, e.request_id, status="declined", reason=e.reason, declined_by=e.declined_by)
        case f.HelpRequestClosed():
            await _change(view, HELP, e.request_id, status="closed", outcome=e.outcome, helped=e.helped)
        case f.HelpMessagePosted():
            await view.put(MESSAGES, e.message_id, {"key": e.message_id, "message_id": e.message_id,
                                                    "request_id": e.request_id, "author_id": e.author_id,
                                                    "text": e.text, "posted_at": at})


async def _forget_author(view: View, member_id: str) -> None:
    for doc in await view.find(FEEDBACK, {"observer_id": member_id}):
        await view.put(FEEDBACK, doc["key"], {**plain(doc), "observer_id": None,
                                              **dict.fromkeys(f.FEEDBACK_PARTS)})
    for doc in await view.find(FEEDBACK, {}):
        if member_id in doc["marks"]:
            marks = {**doc["marks"], member_id: {**doc["marks"][member_id], "intention": None}}
            await view.put(FEEDBACK, doc["key"], {**plain(doc), "marks": marks})
    for doc in await view.find(HELP, {"asker_id": member_id}):
        await view.put(HELP, doc["key"], {**plain(doc), "asker_id": None, "title": None, "outcome": None,
                                          **dict.fromkeys(f.HELP_PARTS)})
    for doc in await view.find(HELP, {"declined_by": member_id}):
        await view.put(HELP, doc["key"], {**plain(doc), "declined_by": None, "reason": None})
    for doc in await view.find(MESSAGES, {"author_id": member_id}):
        await view.put(MESSAGES, doc["key"], {**plain(doc), "author_id": None, "text": None})


def register_projections(svc: Service) -> None:
    @svc.projection(FEEDBACK_VIEW, [events_of(f.SERVICE)], COLLECTIONS)
    async def when_feedback_changed_update_games_feedback_and_requests(rec: Recorded, view: View) -> None:
        e = rec.event
        at = rec.envelope.occurred_at.isoformat()
        if isinstance(e, f.GAME_EVENTS):
            await _game_event(e, view)
        elif isinstance(e, f.FEEDBACK_EVENTS):
            await _feedback_event(e, view, at)
        elif isinstance(e, f.HELP_EVENTS):
            await _help_event(e, view, at)
        elif isinstance(e, f.FeedbackAuthorErased):
            await _forget_author(view, e.member_id)

    keep_working_groups(svc)
