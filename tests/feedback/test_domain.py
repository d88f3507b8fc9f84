"""The feedback deciders given/when/then: a game's rounds one at a time by its host, observers assigned by
moderators; feedback only by an assigned observer, every part required and not thin, editable until the
round closes, then published once and marked by the team; a request for expert help that meets the
standard, routed to one place, a thread for its people, closed by its asker. And the check on its own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given as for_all
from hypothesis import settings
from hypothesis import strategies as st

from libs.contracts import feedback as f
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.kit.decider import given
from services.feedback import domain as d
from services.feedback.domain import FEEDBACK, GAME, HELP
from services.feedback.quality import check, normalised

G = "game-1"
T = "team-1"
AT = datetime(2027, 3, 20, 9, tzinfo=UTC)
MOD = Actor(id="mod", roles=("member", "moderator"))
HOST = Actor(id="host", roles=("member",))
OBS = Actor(id="obs", roles=("member", "observer"))
ANNA = Actor(id="anna", roles=("member",))
GUEST = Actor(id="guest", roles=("guest",))

scheduled = f.GameScheduled(game_id=G, season_id="2027-spring", title="HR-ВЛИЯНИЕ", host_id="host", starts_at=AT,
                            place="Екатеринбург")
team = f.TeamJoinedGame(game_id=G, group_id=T, roster=("anna", "boris"))
observer = f.ObserverAssigned(game_id=G, observer_id="obs", assigned_by="mod")
round1 = f.RoundOpened(game_id=G, round_no=1, opened_by="host")
closed1 = f.RoundClosed(game_id=G, round_no=1, closed_by="host")

PARTS = {
    "situation": "Команда распределяла роли в первые десять минут раунда",
    "behaviour": "Капитан сам назначил всех, никого не спросив о предпочтениях",
    "impact": "Двое участников молчали до конца раунда и не предложили своих идей",
    "recommendation": "В следующем раунде спросите каждого, какую задачу он хочет взять",
}
HELP_PARTS = {
    "need": "Нужно выстроить адаптацию для линейного персонала на заводе",
    "data": "Текучесть в первые три месяца сорок процентов, наставников нет",
    "closure": "Получу план адаптации на первый месяц и запущу его в цехе",
    "dialogue": "Готов созвониться по вторникам и четвергам после шестнадцати часов",
}


def game_with(*events) -> d.Game:
    return GAME.fold([scheduled, team, observer, *events])


def write(actor: Actor = OBS, parts: dict | None = None, game: d.Game | None = None, round_no: int = 1,
          group_id: str = T, quality="awareness", role=None) -> d.WriteFeedback:
    return d.WriteFeedback(actor, f.feedback_id(G, round_no, group_id, actor.id), G, round_no, group_id,
                           parts or PARTS, quality, role, game or game_with(round1))


def written(event=f.FeedbackWritten, parts: dict | None = None, **extra):
    return event(feedback_id=f.feedback_id(G, 1, T, "obs"), game_id=G, round_no=1, group_id=T, observer_id="obs",
                 quality="awareness", role=None, **(parts or PARTS), **extra)


# ---------------------------------------------------------------- the game


def test_the_calendar_schedules_a_game_once_and_tells_its_changes():
    cmd = d.ScheduleGame(G, "2027-spring", "HR-ВЛИЯНИЕ", "host", AT, "Екатеринбург")
    given(GAME).when(cmd).then(scheduled)
    given(GAME, scheduled).when(cmd).then()
    moved = d.ScheduleGame(G, "2027-spring", "HR-ВЛИЯНИЕ", "anna", AT, "Екатеринбург")
    given(GAME, scheduled).when(moved).then(f.GameChanged(game_id=G, title="HR-ВЛИЯНИЕ", host_id="anna", starts_at=AT,
                                                          place="Екатеринбург"))
    given(GAME, scheduled, f.GameCancelled(game_id=G)).when(cmd).then()


def test_teams_come_and_go_with_the_calendars_confirmations():
    given(GAME, scheduled).when(d.JoinTeam(G, T, ("anna", "boris"))).then(team)
    given(GAME, scheduled, team).when(d.JoinTeam(G, T, ("anna", "boris"))).then()
    given(GAME, scheduled, team).when(d.LeaveTeam(G, T)).then(f.TeamLeftGame(game_id=G, group_id=T))
    given(GAME, scheduled).when(d.LeaveTeam(G, T)).then()


def test_a_team_that_left_the_game_keeps_its_roster_for_its_feedback_until_it_comes_back():
    left = GAME.fold([scheduled, team, f.TeamLeftGame(game_id=G, group_id=T)])
    assert (left.teams, left.roster_of(T)) == ({}, ("anna", "boris"))
    back = GAME.evolve(left, f.TeamJoinedGame(game_id=G, group_id=T, roster=("anna", "vera")))
    assert (back.former, back.roster_of(T)) == ({}, ("anna", "vera"))
    assert GAME.fold([scheduled]).roster_of(T) == ()


def test_moderators_assign_observers_who_hold_the_role():
    given(GAME, scheduled).when(d.AssignObserver(MOD, G, "obs", True)).then(observer)
    given(GAME, scheduled, observer).when(d.AssignObserver(MOD, G, "obs", True)).then()
    given(GAME, scheduled).when(d.AssignObserver(HOST, G, "obs", True)).refused(Forbidden, "moderator_only")
    given(GAME, scheduled).when(d.AssignObserver(MOD, G, "anna", False)).refused(Conflict, "not_an_observer")
    given(GAME).when(d.AssignObserver(MOD, G, "obs", True)).refused(NotFound, "game_not_found")


def test_the_host_opens_one_round_at_a_time_and_closes_it():
    given(GAME, scheduled).when(d.OpenRound(HOST, G)).then(round1)
    given(GAME, scheduled).when(d.OpenRound(ANNA, G)).refused(Forbidden, "host_or_moderator_only")
    given(GAME, scheduled, round1).when(d.OpenRound(HOST, G)).refused(Conflict, "round_already_open", round_no=1)
    given(GAME, scheduled, round1).when(d.CloseRound(MOD, G)).then(f.RoundClosed(game_id=G, round_no=1,
                                                                                 closed_by="mod"))
    given(GAME, scheduled).when(d.CloseRound(HOST, G)).refused(Conflict, "no_round_open")
    given(GAME, scheduled, round1, closed1).when(d.OpenRound(HOST, G)).then(
        f.RoundOpened(game_id=G, round_no=2, opened_by="host"))
    given(GAME, scheduled, f.GameCancelled(game_id=G)).when(d.OpenRound(HOST, G)).refused(Conflict, "game_cancelled")


# ---------------------------------------------------------------- feedback


def test_an_assigned_observer_writes_then_edits_until_the_round_closes():
    given(FEEDBACK).when(write()).then(written())
    edited = {**PARTS, "recommendation": "Начните следующий раунд с короткого опроса: кто какую задачу берёт"}
    given(FEEDBACK, written()).when(write(parts=edited)).then(written(f.FeedbackEdited, edited))
    given(FEEDBACK, written()).when(write()).then()
    game = game_with(round1, closed1)
    given(FEEDBACK, written()).when(write(parts=edited, game=game)).refused(Conflict, "round_closed")


@pytest.mark.parametrize("command, error, code", [
    (write(actor=ANNA), Forbidden, "assigned_observers_only"),
    (write(actor=Actor(id="obs2", roles=("observer",))), Forbidden, "assigned_observers_only"),
    (write(group_id="other"), NotFound, "team_not_in_game"),
    (write(round_no=2), NotFound, "round_not_found"),
    (write(game=game_with()), NotFound, "round_not_found"),
    (write(role=7), Invalid, "role_not_of_quality"),
])
def test_feedback_from_the_wrong_person_or_place_is_refused(command, error, code):
    given(FEEDBACK).when(command).refused(error, code)


@pytest.mark.parametrize("part", f.FEEDBACK_PARTS)
def test_feedback_missing_any_part_is_refused_naming_it(part):
    err = given(FEEDBACK).when(write(parts={**PARTS, part: "  "})).refused(Invalid, "feedback_incomplete")
    assert (err.params["part"], err.params["problem"]) == (part, "missing")
    err = given(FEEDBACK).when(write(parts={**PARTS, part: "Хорошо."})).refused(Invalid, "feedback_incomplete")
    assert (err.params["part"], err.params["problem"]) == (part, "too_thin")


def test_one_sentence_copied_into_every_part_is_not_four_parts():
    same = {p: PARTS["situation"] for p in f.FEEDBACK_PARTS}
    err = given(FEEDBACK).when(write(parts=same)).refused(Invalid, "feedback_incomplete")
    assert [(p["part"], p["same_as"]) for p in err.params["problems"]] == [
        ("behaviour", "situation"), ("impact", "situation"), ("recommendation", "situation")]
    nearly = {**PARTS, "impact": PARTS["behaviour"].upper() + "!!"}
    err = given(FEEDBACK).when(write(parts=nearly)).refused(Invalid, "feedback_incomplete")
    assert (err.params["part"], err.params["problem"]) == ("impact", "same_as")


def test_the_round_closing_publishes_once_and_the_team_answers():
    published = f.FeedbackPublished(feedback_id=f.feedback_id(G, 1, T, "obs"), game_id=G, round_no=1, group_id=T,
                                    observer_id="obs", quality="awareness")
    fid = published.feedback_id
    given(FEEDBACK, written()).when(d.PublishFeedback(fid)).then(published)
    given(FEEDBACK, written(), published).when(d.PublishFeedback(fid)).then()
    given(FEEDBACK).when(d.PublishFeedback(fid)).then()
    mark = d.MarkFeedback(ANNA, fid, True, "Спрошу каждого перед раундом", ("anna", "boris"))
    marked = f.FeedbackMarked(feedback_id=fid, member_id="anna", useful=True, intention="Спрошу каждого перед раундом")
    given(FEEDBACK, written(), published).when(mark).then(marked)
    given(FEEDBACK, written(), published, marked).when(mark).then()
    given(FEEDBACK, written()).when(mark).refused(NotFound, "feedback_not_found")
    outsider = d.MarkFeedback(Actor(id="vera"), fid, True, None, ("anna", "boris"))
    given(FEEDBACK, written(), published).when(outsider).refused(Forbidden, "team_members_only")


# ---------------------------------------------------------------- help requests


def ask(actor: Actor = ANNA, parts: dict | None = None) -> d.RequestHelp:
    return d.RequestHelp(actor, "r-1", "Адаптация на заводе", parts or HELP_PARTS)


requested = f.HelpRequested(request_id="r-1", asker_id="anna", title="Адаптация на заводе", **HELP_PARTS)
routed = f.HelpRequestRouted(request_id="r-1", expert_id="obs", routed_by="mod")


def test_a_request_meeting_the_standard_is_taken_one_missing_the_conscious_part_is_refused_naming_it():
    given(HELP).when(ask()).then(requested)
    err = given(HELP).when(ask(parts={**HELP_PARTS, "closure": ""})).refused(Invalid, "help_request_incomplete")
    assert (err.params["part"], err.params["problem"]) == ("closure", "missing")
    given(HELP).when(ask(actor=GUEST)).refused(Forbidden, "community_members_only")


def test_a_moderator_routes_to_one_place_and_its_people_talk():
    given(HELP, requested).when(d.RouteHelp(MOD, "r-1", None, "obs", True)).then(routed)
    given(HELP, requested).when(d.RouteHelp(ANNA, "r-1", None, "obs", True)).refused(Forbidden, "moderator_only")
    given(HELP, requested).when(d.RouteHelp(MOD, "r-1", "g", "obs", True)).refused(Invalid, "route_to_one")
    given(HELP, requested).when(d.RouteHelp(MOD, "r-1", "g", None, False)).refused(NotFound, "group_not_found")
    given(HELP, requested, routed).when(d.RouteHelp(MOD, "r-1", None, "obs", True)).then()
    post = d.PostHelpMessage(OBS, "r-1", "m-1", "Давайте начнём с карты первого дня", False)
    given(HELP, requested).when(post).refused(NotFound, "help_request_not_found")  # not routed to them yet
    early = d.PostHelpMessage(ANNA, "r-1", "m-0", "Жду ответа", False)
    given(HELP, requested).when(early).refused(Conflict, "help_request_not_routed")
    given(HELP, requested, routed).when(post).then(f.HelpMessagePosted(
        request_id="r-1", message_id="m-1", author_id="obs", text="Давайте начнём с карты первого дня"))
    stranger = d.PostHelpMessage(Actor(id="vera", roles=("member",)), "r-1", "m-2", "Привет", False)
    given(HELP, requested, routed).when(stranger).refused(NotFound, "help_request_not_found")  # not "forbidden": it
    # would tell an outsider that the request exists
    given(HELP).when(d.RouteHelp(ANNA, "r-9", None, "obs", True)).refused(Forbidden, "moderator_only")  # any id
    given(HELP).when(d.DeclineHelp(ANNA, "r-9", "—")).refused(Forbidden, "moderator_only")


def test_the_asker_closes_with_the_outcome_and_a_declined_request_stays_declined():
    close = d.CloseHelp(ANNA, "r-1", "План запущен", "yes")
    given(HELP, requested, routed).when(close).then(f.HelpRequestClosed(request_id="r-1", closed_by="anna",
                                                                        outcome="План запущен", helped="yes"))
    given(HELP, requested, routed).when(d.CloseHelp(OBS, "r-1", "—", "no")).refused(Forbidden, "asker_only")
    outsider = d.CloseHelp(Actor(id="vera", roles=("member",)), "r-1", "—", "no")
    given(HELP, requested, routed).when(outsider).refused(NotFound, "help_request_not_found")
    in_group = d.CloseHelp(Actor(id="vera", roles=("member",)), "r-1", "—", "no", in_group=True)
    given(HELP, requested, routed).when(in_group).refused(Forbidden, "asker_only")
    declined = f.HelpRequestDeclined(request_id="r-1", declined_by="mod", reason="Не по теме сообщества")
    given(HELP, requested).when(d.DeclineHelp(MOD, "r-1", "Не по теме сообщества")).then(declined)
    given(HELP, requested, declined).when(close).refused(Conflict, "help_request_not_open")
    given(HELP).when(close).refused(NotFound, "help_request_not_found")


# ---------------------------------------------------------------- the check on its own


def test_normalising_ignores_case_punctuation_yo_and_spacing():
    assert normalised("  Ёлка,   ЗЕЛЁНАЯ!! ") == normalised("елка зеленая")


@settings(max_examples=100, deadline=None)
@for_all(st.dictionaries(st.sampled_from(f.HELP_PARTS), st.text(max_size=80), max_size=4))
def test_the_check_names_every_part_that_fails_and_passes_only_four_distinct_parts(parts):
    result = check(parts, f.HELP_PARTS, 4, 0.85)
    named = {p.part for p in result.problems}
    assert result.ok == (not named)
    for part in f.HELP_PARTS:
        words = normalised(parts.get(part) or "").split()
        if len(words) < 4:
            assert part in named
