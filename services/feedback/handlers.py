"""Feedback commands. A piece of feedback is decided with the game as its aggregate has it now (assigned
observers, teams, which round is open), never a lagging read model; an answer to it, with the team's roster
in its game. The help thread's people include the members of the group a request went to."""

from __future__ import annotations

from uuid6 import uuid7

from libs.contracts import feedback as f
from libs.contracts.errors import NotFound
from libs.kit.rpc import Context, Done, community_member
from libs.kit.service import Executed, Service, meta_of
from services.feedback import domain as d
from services.feedback.domain import FEEDBACK, GAME, HELP
from services.feedback.projections import FEEDBACK_VIEW
from services.feedback.queries import Reads
from services.feedback.settings import Settings


def register_handlers(svc: Service, settings: Settings) -> None:  # noqa: C901 — one handler per command
    reads = Reads(svc)
    feedback_rules = d.CheckRules(settings.feedback_min_words, settings.same_part_ratio)
    help_rules = d.CheckRules(settings.help_min_words, settings.same_part_ratio)

    def member(ctx: Context) -> None:
        community_member(ctx, "community_members_only")

    async def on_game(game_id: str, command: d.GameCommand, ctx: Context) -> Done:
        """The answer is the game as the decision left it (its aggregate), not the read model, which may lag
        behind it (the chaos suite saw a round opened answered with no round)."""
        member(ctx)
        done = await svc.decide(GAME, game_id, command, meta_of(ctx))
        await svc.wait_read_back(done, [FEEDBACK_VIEW])  # the caller's next page reads it
        return Done(done.seq, await reads.game_view(game_doc_of(game_id, done.state), ctx.actor))

    @svc.command(f.AssignObserver)
    async def assign_observer(cmd: f.AssignObserver, ctx: Context) -> Done:
        member(ctx)
        observer = await svc.resolve_actor(cmd.observer_id) if svc.resolve_actor else None
        return await on_game(cmd.game_id, d.AssignObserver(ctx.actor, cmd.game_id, cmd.observer_id,
                                                           observer is not None and observer.has("observer")), ctx)

    @svc.command(f.UnassignObserver)
    async def unassign_observer(cmd: f.UnassignObserver, ctx: Context) -> Done:
        return await on_game(cmd.game_id, d.UnassignObserver(ctx.actor, cmd.game_id, cmd.observer_id), ctx)

    @svc.command(f.OpenRound)
    async def open_round(cmd: f.OpenRound, ctx: Context) -> Done:
        return await on_game(cmd.game_id, d.OpenRound(ctx.actor, cmd.game_id), ctx)

    @svc.command(f.CloseRound)
    async def close_round(cmd: f.CloseRound, ctx: Context) -> Done:
        return await on_game(cmd.game_id, d.CloseRound(ctx.actor, cmd.game_id), ctx)

    async def feedback_answer(done: Executed[d.Feedback], feedback_id: str, ctx: Context) -> Done:
        """The piece as the decision left it (its aggregate): a read model lagging behind would answer a first
        write "not found", or a rewrite with the words before it."""
        await svc.wait_read_back(done, [FEEDBACK_VIEW])  # the next page reads it
        piece, words = done.state, done.state.written
        if words is None:
            raise NotFound("feedback_not_found")
        sees_all = ctx.actor.id == words.observer_id or ctx.actor.is_moderator
        return Done(done.seq, f.FeedbackView(
            feedback_id=feedback_id, game_id=words.game_id, round_no=words.round_no, group_id=words.group_id,
            observer_id=words.observer_id, quality=words.quality, role=words.role,
            status="published" if piece.published else "draft",
            marks=tuple(f.MarkView(member_id=m, useful=useful, intention=intention)
                        for m, (useful, intention) in sorted(piece.marks.items()) if sees_all or m == ctx.actor.id),
            **{p: getattr(words, p) for p in f.FEEDBACK_PARTS}))

    @svc.command(f.WriteFeedback)
    async def write_feedback(cmd: f.WriteFeedback, ctx: Context) -> Done:
        member(ctx)
        game, _ = await svc.load(GAME, cmd.game_id)
        feedback_id = f.feedback_id(cmd.game_id, cmd.round_no, cmd.group_id, ctx.actor.id)
        parts = {p: getattr(cmd, p) for p in f.FEEDBACK_PARTS}
        done = await svc.decide(FEEDBACK, feedback_id, d.WriteFeedback(
            ctx.actor, feedback_id, cmd.game_id, cmd.round_no, cmd.group_id, parts, cmd.quality, cmd.role, game,
            feedback_rules), meta_of(ctx))
        return await feedback_answer(done, feedback_id, ctx)

    @svc.command(f.MarkFeedback)
    async def mark_feedback(cmd: f.MarkFeedback, ctx: Context) -> Done:
        member(ctx)
        game_id, _, rest = cmd.feedback_id.partition(":")
        group_id = rest.split(":")[1] if rest.count(":") == 2 else ""
        game, _ = await svc.load(GAME, game_id) if game_id else (d.Game(), None)
        done = await svc.decide(FEEDBACK, cmd.feedback_id, d.MarkFeedback(
            ctx.actor, cmd.feedback_id, cmd.useful, cmd.intention, game.roster_of(group_id)), meta_of(ctx))
        return await feedback_answer(done, cmd.feedback_id, ctx)

    async def on_help(request_id: str, command: d.HelpCommand, ctx: Context) -> Done:
        member(ctx)
        done = await svc.decide(HELP, request_id, command, meta_of(ctx))
        await svc.wait_read_back(done, [FEEDBACK_VIEW])
        return Done(done.seq, await reads.help_view(await reads.help_doc(request_id, ctx.actor)))

    @svc.command(f.RequestHelp)
    async def request_help(cmd: f.RequestHelp, ctx: Context) -> Done:
        parts = {p: getattr(cmd, p) for p in f.HELP_PARTS}
        request_id = str(uuid7())
        return await on_help(request_id, d.RequestHelp(ctx.actor, request_id, cmd.title, parts, help_rules), ctx)

    @svc.command(f.RouteHelpRequest)
    async def route_help_request(cmd: f.RouteHelpRequest, ctx: Context) -> Done:
        if cmd.group_id:
            group = await svc.store.get("wgroups", cmd.group_id)
            exists = group is not None and group["status"] == "active"
        else:
            expert = await svc.resolve_actor(cmd.expert_id) if cmd.expert_id and svc.resolve_actor else None
            exists = expert is not None and expert.has("member")
        return await on_help(cmd.request_id, d.RouteHelp(ctx.actor, cmd.request_id, cmd.group_id, cmd.expert_id,
                                                         exists), ctx)

    @svc.command(f.DeclineHelpRequest)
    async def decline_help_request(cmd: f.DeclineHelpRequest, ctx: Context) -> Done:
        return await on_help(cmd.request_id, d.DeclineHelp(ctx.actor, cmd.request_id, cmd.reason), ctx)

    @svc.command(f.PostHelpMessage)
    async def post_help_message(cmd: f.PostHelpMessage, ctx: Context) -> Done:
        state, _ = await svc.load(HELP, cmd.request_id)
        in_group = await reads.in_group(state.group_id, ctx.actor.id)
        return await on_help(cmd.request_id, d.PostHelpMessage(ctx.actor, cmd.request_id, str(uuid7()), cmd.text,
                                                               in_group), ctx)

    @svc.command(f.CloseHelpRequest)
    async def close_help_request(cmd: f.CloseHelpRequest, ctx: Context) -> Done:
        state, _ = await svc.load(HELP, cmd.request_id)
        in_group = await reads.in_group(state.group_id, ctx.actor.id)
        return await on_help(cmd.request_id, d.CloseHelp(ctx.actor, cmd.request_id, cmd.outcome, cmd.helped,
                                                         in_group), ctx)


def game_doc_of(game_id: str, game: d.Game) -> dict:
    """The game's aggregate in the read model's shape, for the answer to a command on it."""
    return {"game_id": game_id, "season_id": game.season_id, "title": game.title, "host_id": game.host_id,
            "starts_at": game.starts_at.isoformat() if game.starts_at else None, "place": game.place,
            "status": game.status, "teams": {g: list(roster) for g, roster in game.teams.items()},
            "observers": list(game.observers),
            "rounds": [{"round_no": n, "status": "open" if is_open else "closed"}
                       for n, is_open in sorted(game.rounds.items())]}
