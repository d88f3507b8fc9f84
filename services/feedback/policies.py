"""Reactions to events: the calendar's games become games here (scheduled, changed, cancelled) with the
teams it confirmed; a round's closing publishes its feedback — also a piece written an instant before the
close and appended after it; a season the calendar closes is reported (rounds commented, qualities
addressed, the teams' answers); an erased member's words leave the read models.

Every decision is idempotent on its aggregate's state and its event ids derive from the cause: a
redelivered event appends nothing new."""

from __future__ import annotations

from collections import Counter

from libs.contracts import calendar as cal
from libs.contracts import feedback as f
from libs.contracts.calendar import ReportLine
from libs.contracts.subjects import events_of
from libs.kit.erasure import caused_ids, caused_meta, consumer_at, forget_erased_authors, view_at
from libs.kit.eventstore import Recorded
from libs.kit.service import Service
from services.feedback import domain as d
from services.feedback.domain import AUTHOR, FEEDBACK, GAME, REPORT
from services.feedback.my_data import register_my_data
from services.feedback.projections import FEEDBACK as FEEDBACK_DOCS
from services.feedback.projections import FEEDBACK_VIEW, GAMES
from services.feedback.settings import Settings

#: the most games and pieces of feedback a season's report reads
LIMIT = 100_000


def register_policies(svc: Service, settings: Settings) -> None:
    register_my_data(svc)
    forget_erased_authors(svc, AUTHOR)

    async def on_game(rec: Recorded, game_id: str, command: d.GameCommand, step: str) -> None:
        await svc.decide(GAME, game_id, command, caused_meta(rec), caused_ids(rec, f"feedback:{step}"))

    @svc.policy("feedback_games", [events_of(cal.SERVICE)], types=(
        cal.EventScheduled, cal.EventChanged, cal.EventCancelled, cal.TeamConfirmed, cal.TeamWithdrawn))
    async def when_the_calendar_schedules_a_game_keep_it_with_its_teams(rec: Recorded) -> None:
        e = rec.event
        match e:
            case cal.EventScheduled() | cal.EventChanged() if e.plan.kind == "game":
                p = e.plan
                await on_game(rec, e.event_id, d.ScheduleGame(e.event_id, e.season_id, p.title, p.host_id,
                                                              p.starts_at, p.place), "schedule")
            case cal.EventCancelled():
                await on_game(rec, e.event_id, d.CancelGame(e.event_id), "cancel")
            case cal.TeamConfirmed():
                await on_game(rec, e.event_id, d.JoinTeam(e.event_id, e.group_id, e.roster), "team")
            case cal.TeamWithdrawn():
                await on_game(rec, e.event_id, d.LeaveTeam(e.event_id, e.group_id), "team")

    @svc.policy("feedback_publishing", [events_of(f.SERVICE)], waits_for_views=True)
    async def when_a_round_closes_publish_its_feedback(rec: Recorded) -> None:
        """Every piece of the round, from the read model as of the closing; and a piece that landed after
        the closing (decided on the round still open) as soon as it lands."""
        e = rec.event
        match e:
            case f.RoundClosed():
                await view_at(svc, FEEDBACK_VIEW, rec)
                for doc in await svc.store.find(FEEDBACK_DOCS, {"game_id": e.game_id, "round_no": e.round_no},
                                                limit=LIMIT):
                    await svc.decide(FEEDBACK, doc["feedback_id"], d.PublishFeedback(doc["feedback_id"]),
                                     caused_meta(rec), caused_ids(rec, f"feedback:publish:{doc['feedback_id']}"))
            case f.FeedbackWritten() | f.FeedbackEdited():
                game, _ = await svc.load(GAME, e.game_id)
                if game.rounds.get(e.round_no) is False:
                    await svc.decide(FEEDBACK, e.feedback_id, d.PublishFeedback(e.feedback_id), caused_meta(rec),
                                     caused_ids(rec, "feedback:publish-late"))

    @svc.policy("feedback_reports", [events_of(cal.SERVICE, "season")], waits_for_views=True,
                types=(cal.SeasonClosed,))
    async def when_the_calendar_closes_a_season_report_its_feedback(rec: Recorded) -> None:
        e = rec.event
        if not isinstance(e, cal.SeasonClosed):
            return
        # the games and the publications of the season are appended by the two other policies, which may run
        # behind this one (after a restart all three catch up at once): both must have reacted to everything
        # up to the close, and the read model must hold what they appended by then
        await consumer_at(svc, "feedback_games", rec.seq, rec.subject)
        await consumer_at(svc, "feedback_publishing", rec.seq, rec.subject)
        await consumer_at(svc, FEEDBACK_VIEW, await svc.events.last_seq(), kind="projection")
        lines = await season_lines(e.season_id)
        if lines is None:  # a season without games: nothing of feedback to report (its results say nothing)
            return
        await svc.decide(REPORT, e.season_id, d.ReportSeason(e.season_id, lines), caused_meta(rec),
                         caused_ids(rec, "feedback:report"))

    async def season_lines(season_id: str) -> tuple[ReportLine, ...] | None:
        """What the season's games gave: from the read model (it holds every game the calendar scheduled
        before it closed the season)."""
        games = await svc.store.find(GAMES, {"season_id": season_id}, limit=LIMIT)
        if not games:
            return None
        published = []
        for game in games:
            published += await svc.store.find(FEEDBACK_DOCS, {"game_id": game["game_id"], "status": "published"},
                                              limit=LIMIT)
        qualities = Counter(doc["quality"] for doc in published)
        marks = [m for doc in published for m in doc["marks"].values()]
        figures = {
            "games": sum(1 for g in games if g["status"] == "scheduled"),
            "rounds": sum(len(g["rounds"]) for g in games),
            "rounds_commented": len({(doc["game_id"], doc["round_no"]) for doc in published}),
            "feedback_published": len(published),
            "observers": len({doc["observer_id"] for doc in published if doc["observer_id"]}),
            "teams_commented": len({(doc["game_id"], doc["group_id"]) for doc in published}),
            "marked_useful": sum(1 for m in marks if m["useful"]),
            "marked_not_useful": sum(1 for m in marks if not m["useful"]),
            **{f"quality_{q}": qualities.get(q, 0) for q in ("awareness", "expertise", "systemic", "vision")},
        }
        return tuple(ReportLine(source=f.SERVICE, key=k, value=v) for k, v in figures.items())
