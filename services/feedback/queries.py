"""Feedback queries: games, a team's feedback, what an observer owes, a member's feedback by quality, help
requests and their threads, and the quality check the web client asks as a member types.

Who reads what: games are the community's (members of Main, moderators); a team's feedback is its
members' once published (and still theirs after the team left the game: its roster as it left, kept by the
game's aggregate), the game's observers' and the moderators' always; the answers to a piece of
feedback are its observer's and the moderators' (a member reads their own); a help request is its asker's,
its expert's or group's, and the moderators' — to anyone else it does not exist."""

from __future__ import annotations

from datetime import datetime

from libs.contracts import feedback as f
from libs.contracts.envelope import Actor
from libs.contracts.errors import Forbidden, NotFound
from libs.contracts.roles import QUALITIES, Quality
from libs.kit.rpc import Context, community_member, signed_in
from libs.kit.service import Service
from libs.kit.working_groups import GROUPS_VIEW, WGROUPS, WMEMBERS, membership_key
from services.feedback.domain import GAME as GAME_AGGREGATE
from services.feedback.projections import FEEDBACK, FEEDBACK_VIEW, GAMES, HELP, MESSAGES
from services.feedback.quality import check
from services.feedback.settings import Settings

VIEWS = [FEEDBACK_VIEW, GROUPS_VIEW]
#: the most games, pieces of feedback and requests a list reads
LIMIT = 2000


def reader(ctx: Context) -> None:
    community_member(ctx, "community_members_only")


class Reads:
    def __init__(self, svc: Service):
        self.svc = svc

    async def game_doc(self, game_id: str) -> dict:
        doc = await self.svc.store.get(GAMES, game_id)
        if doc is None or doc["status"] == "none":
            raise NotFound("game_not_found", game_id=game_id)
        return doc

    async def title_of(self, group_id: str) -> str | None:
        doc = await self.svc.store.get(WGROUPS, group_id)
        return doc["title"] if doc else None

    async def game_view(self, doc: dict, actor: Actor) -> f.GameView:
        teams = tuple([f.TeamView(group_id=g, title=await self.title_of(g), roster=tuple(roster))
                       for g, roster in sorted(doc["teams"].items())])
        return f.GameView(
            game_id=doc["game_id"], season_id=doc["season_id"] or "", title=doc["title"], host_id=doc["host_id"] or "",
            starts_at=datetime.fromisoformat(doc["starts_at"]), place=doc["place"],
            status="cancelled" if doc["status"] == "cancelled" else "scheduled", teams=teams,
            observers=tuple(doc["observers"]),
            rounds=tuple(f.RoundView(round_no=r["round_no"], status=r["status"]) for r in doc["rounds"]),
            is_host=doc["host_id"] == actor.id, is_observer=actor.id in doc["observers"],
            my_team_ids=tuple(t.group_id for t in teams if actor.id in t.roster))

    @staticmethod
    def feedback_view(doc: dict, actor: Actor, sees_all_marks: bool) -> f.FeedbackView:
        marks = tuple(f.MarkView(member_id=m, useful=v["useful"], intention=v["intention"])
                      for m, v in sorted(doc["marks"].items()) if sees_all_marks or m == actor.id)
        return f.FeedbackView(
            feedback_id=doc["feedback_id"], game_id=doc["game_id"], round_no=doc["round_no"], group_id=doc["group_id"],
            observer_id=doc["observer_id"], quality=doc["quality"], role=doc["role"], status=doc["status"],
            marks=marks, **{p: doc[p] for p in f.FEEDBACK_PARTS})

    async def former_roster(self, game_id: str, group_id: str, game: dict) -> tuple[str, ...]:
        """The roster of a team that left the game, as it left it (the game's aggregate keeps it; the read model
        keeps the teams in the game): its feedback stays its members'."""
        if group_id in game["teams"]:
            return ()
        state, _ = await self.svc.load(GAME_AGGREGATE, game_id)
        return state.former.get(group_id, ())

    async def in_group(self, group_id: str | None, member_id: str) -> bool:
        if not group_id:
            return False
        return await self.svc.store.get(WMEMBERS, membership_key(group_id, member_id)) is not None

    async def help_doc(self, request_id: str, actor: Actor) -> dict:
        """The request, if the caller is one of its people; else it does not exist for them."""
        doc = await self.svc.store.get(HELP, request_id)
        if doc is None or not (actor.is_moderator or actor.id in (doc["asker_id"], doc["expert_id"])
                               or await self.in_group(doc["group_id"], actor.id)):
            raise NotFound("help_request_not_found", request_id=request_id)
        return doc

    async def help_view(self, doc: dict, with_thread: bool = True) -> f.HelpRequestView:
        messages = await self.svc.store.find(MESSAGES, {"request_id": doc["request_id"]},
                                             sort=[("posted_at", 1), ("message_id", 1)], limit=LIMIT) \
            if with_thread else []
        return f.HelpRequestView(
            request_id=doc["request_id"], asker_id=doc["asker_id"], title=doc["title"], status=doc["status"],
            group_id=doc["group_id"], expert_id=doc["expert_id"], reason=doc["reason"], outcome=doc["outcome"],
            helped=doc["helped"], requested_at=datetime.fromisoformat(doc["requested_at"]),
            messages=tuple(f.HelpMessageView(message_id=m["message_id"], author_id=m["author_id"], text=m["text"],
                                             posted_at=datetime.fromisoformat(m["posted_at"])) for m in messages),
            **{p: doc[p] for p in f.HELP_PARTS})


def register_queries(svc: Service, settings: Settings) -> None:
    reads = Reads(svc)

    @svc.query(f.CheckHelpRequest)
    async def check_help_request(q: f.CheckHelpRequest, ctx: Context) -> f.QualityCheck:
        signed_in(ctx)
        return check(q.model_dump(), f.HELP_PARTS, settings.help_min_words, settings.same_part_ratio)

    @svc.query(f.CheckFeedback)
    async def check_feedback(q: f.CheckFeedback, ctx: Context) -> f.QualityCheck:
        signed_in(ctx)
        return check(q.model_dump(), f.FEEDBACK_PARTS, settings.feedback_min_words, settings.same_part_ratio)

    @svc.query(f.ListGames, reads=VIEWS)
    async def list_games(q: f.ListGames, ctx: Context) -> f.GameList:
        reader(ctx)
        where = {"season_id": q.season_id} if q.season_id else {}
        docs = [d for d in await svc.store.find(GAMES, where, sort=[("starts_at", 1), ("game_id", 1)], limit=LIMIT)
                if d["status"] != "none"]
        return f.GameList(items=tuple([await reads.game_view(d, ctx.actor) for d in docs]))

    @svc.query(f.GetGame, reads=VIEWS)
    async def get_game(q: f.GetGame, ctx: Context) -> f.GameView:
        reader(ctx)
        return await reads.game_view(await reads.game_doc(q.game_id), ctx.actor)

    @svc.query(f.GetTeamFeedback, reads=VIEWS)
    async def get_team_feedback(q: f.GetTeamFeedback, ctx: Context) -> f.FeedbackList:
        reader(ctx)
        game = await reads.game_doc(q.game_id)
        me = ctx.actor
        sees_drafts = me.is_moderator or me.id in game["observers"]
        if not sees_drafts and me.id not in game["teams"].get(q.group_id, []) \
                and me.id not in await reads.former_roster(q.game_id, q.group_id, game):
            raise Forbidden("team_members_only")
        docs = await svc.store.find(FEEDBACK, {"game_id": q.game_id, "group_id": q.group_id},
                                    sort=[("round_no", 1), ("written_at", 1)], limit=LIMIT)
        return f.FeedbackList(items=tuple(
            reads.feedback_view(d, me, me.is_moderator or d["observer_id"] == me.id) for d in docs
            if d["status"] == "published" or (sees_drafts and (me.is_moderator or d["observer_id"] == me.id))))

    @svc.query(f.ListOwedFeedback, reads=VIEWS)
    async def list_owed_feedback(q: f.ListOwedFeedback, ctx: Context) -> f.OwedList:
        reader(ctx)
        owed = []
        for game in await svc.store.find(GAMES, {"status": "scheduled"}, sort=[("starts_at", 1)], limit=LIMIT):
            if ctx.actor.id not in game["observers"]:
                continue
            for r in game["rounds"]:
                if r["status"] != "open":
                    continue
                for group_id in sorted(game["teams"]):
                    doc = await svc.store.get(FEEDBACK, f.feedback_id(game["game_id"], r["round_no"], group_id,
                                                                      ctx.actor.id))
                    owed.append(f.Owed(game_id=game["game_id"], game_title=game["title"], round_no=r["round_no"],
                                       group_id=group_id, group_title=await reads.title_of(group_id),
                                       written=doc is not None))
        return f.OwedList(items=tuple(owed))

    @svc.query(f.GetMyFeedback, reads=VIEWS)
    async def get_my_feedback(q: f.GetMyFeedback, ctx: Context) -> f.MyFeedback:
        reader(ctx)
        by_quality: dict[Quality, list[f.FeedbackView]] = {}
        me = ctx.actor.id
        for game in await svc.store.find(GAMES, {}, sort=[("starts_at", 1)], limit=LIMIT):
            docs = await svc.store.find(FEEDBACK, {"game_id": game["game_id"], "status": "published"},
                                        sort=[("round_no", 1)], limit=LIMIT)
            rosters = dict(game["teams"])  # and a team that left the game: its roster as it left it
            for d in sorted(docs, key=lambda d: d["group_id"]):  # by team, each by round
                if d["group_id"] not in rosters:
                    rosters[d["group_id"]] = await reads.former_roster(game["game_id"], d["group_id"], game)
                if me in rosters[d["group_id"]]:
                    by_quality.setdefault(d["quality"], []).append(reads.feedback_view(d, ctx.actor, False))
        return f.MyFeedback(qualities=tuple(f.FeedbackByQuality(quality=q_, items=tuple(by_quality[q_]))
                                            for q_ in QUALITIES if q_ in by_quality))

    @svc.query(f.ListHelpRequests, reads=VIEWS)
    async def list_help_requests(q: f.ListHelpRequests, ctx: Context) -> f.HelpRequestList:
        reader(ctx)
        me = ctx.actor
        if q.scope == "queue":
            if not me.is_moderator:
                raise Forbidden("moderator_only")
            docs = await svc.store.find(HELP, {"status": "submitted"}, sort=[("requested_at", 1)], limit=LIMIT)
        elif q.scope == "to_me":
            mine = {r["group_id"] for r in await svc.store.find(WMEMBERS, {"member_id": me.id}, limit=LIMIT)}
            docs = [d for status in ("routed", "closed")
                    for d in await svc.store.find(HELP, {"status": status}, sort=[("requested_at", -1)], limit=LIMIT)
                    if d["expert_id"] == me.id or d["group_id"] in mine]
            docs.sort(key=lambda d: d["requested_at"], reverse=True)
        else:
            docs = await svc.store.find(HELP, {"asker_id": me.id}, sort=[("requested_at", -1)], limit=LIMIT)
        return f.HelpRequestList(items=tuple([await reads.help_view(d, with_thread=False) for d in docs]))

    @svc.query(f.GetHelpRequest, reads=VIEWS)
    async def get_help_request(q: f.GetHelpRequest, ctx: Context) -> f.HelpRequestView:
        reader(ctx)
        return await reads.help_view(await reads.help_doc(q.request_id, ctx.actor))
