"""The teams of one HR-ВЛИЯНИЕ game: applications with a roster, the moderators' confirmations (a place
or the team waitlist) and declines, withdrawals whose place is offered down the line for a while, offers
taken, passed on or lapsed to the second (given events / when a command / then events or a refusal);
the contracts checked as the registered ones are; and one property over any sequence of commands."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given as for_all
from hypothesis import settings
from hypothesis import strategies as st
from pydantic import ValidationError

from libs.contracts import calendar as c
from libs.contracts import calendar as g
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from libs.contracts.registry import EVENT_TYPES
from libs.kit.decider import given
from services.calendar.games_domain import (
    GAME_TEAMS,
    AcceptTeamPlace,
    ApplyMaxTeams,
    ApplyTeam,
    ConfirmTeam,
    DeclineTeam,
    DeclineTeamPlace,
    ExpireTeamOffer,
    GameFacts,
    GameTeams,
    WithdrawTeam,
)
from tests.contracts.test_limits import unbounded

E = "game-1"
#: a published game of two teams in an open season
GAME = GameFacts("scheduled", "game", "open", 2)
MOD = Actor(id="mod", roles=("moderator",))
NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
HOURS = g.DEFAULT_OFFER_HOURS
LATER = NOW + timedelta(hours=HOURS)


def lead(group: str) -> Actor:
    return Actor(id=f"{group}-lead", roles=("member",))


def roster(group: str) -> tuple[str, ...]:
    return (f"{group}-lead", f"{group}-a", f"{group}-b")


# ---------------------------------------------------------------- commands


def apply(group: str, game: GameFacts = GAME, *, actor: Actor | None = None, members: tuple[str, ...] | None = None,
          group_type: str | None = "game_team", coordinates: bool = True,
          strangers: tuple[str, ...] = ()) -> ApplyTeam:
    return ApplyTeam(actor or lead(group), E, group, roster(group) if members is None else members, game, group_type,
                     coordinates, strangers)


def confirm(group: str, game: GameFacts = GAME, actor: Actor = MOD) -> ConfirmTeam:
    return ConfirmTeam(actor, E, group, game)


def decline(group: str, reason: str = "Состав не готов", game: GameFacts = GAME, actor: Actor = MOD) -> DeclineTeam:
    return DeclineTeam(actor, E, group, game, reason)


def _pair(group: str, actor: Actor | None, game: GameFacts, now: datetime) -> tuple:
    """The fields of a command that may free a place: by the team's coordinator unless ``actor`` says otherwise."""
    who = actor or lead(group)
    return who, E, group, game, who.id == f"{group}-lead", now, HOURS


def withdraw(group: str, now: datetime = NOW, game: GameFacts = GAME, actor: Actor | None = None) -> WithdrawTeam:
    return WithdrawTeam(*_pair(group, actor, game, now))


def accept(group: str, now: datetime = NOW, game: GameFacts = GAME, actor: Actor | None = None) -> AcceptTeamPlace:
    return AcceptTeamPlace(*_pair(group, actor, game, now))


def pass_on(group: str, now: datetime = NOW, game: GameFacts = GAME, actor: Actor | None = None) -> DeclineTeamPlace:
    return DeclineTeamPlace(*_pair(group, actor, game, now))


def expire(group: str, now: datetime = LATER, game: GameFacts = GAME) -> ExpireTeamOffer:
    return ExpireTeamOffer(E, group, game, now, HOURS)


# ---------------------------------------------------------------- events


def applied(group: str) -> g.TeamApplied:
    return g.TeamApplied(event_id=E, group_id=group, roster=roster(group), applied_by=f"{group}-lead")


def confirmed(group: str, by: str = "mod") -> g.TeamConfirmed:
    return g.TeamConfirmed(event_id=E, group_id=group, roster=roster(group), confirmed_by=by)


def waitlisted(group: str, position: int) -> g.TeamWaitlisted:
    return g.TeamWaitlisted(event_id=E, group_id=group, position=position, confirmed_by="mod")


def withdrawn(group: str, was: g.TeamStatus, by: str | None = None) -> g.TeamWithdrawn:
    return g.TeamWithdrawn(event_id=E, group_id=group, previous_status=was, withdrawn_by=by or f"{group}-lead")


def offered(group: str, at: datetime = NOW) -> g.TeamPlaceOffered:
    return g.TeamPlaceOffered(event_id=E, group_id=group, expires_at=at + timedelta(hours=HOURS))


def expired(group: str) -> g.TeamOfferExpired:
    return g.TeamOfferExpired(event_id=E, group_id=group)


def passed(group: str, by: str | None = None) -> g.TeamPlaceDeclined:
    return g.TeamPlaceDeclined(event_id=E, group_id=group, declined_by=by or f"{group}-lead")


#: both places taken (a, b), two teams in line (c, d), one pending (e)
FULL = (applied("a"), applied("b"), applied("c"), applied("d"), applied("e"),
        confirmed("a"), confirmed("b"), waitlisted("c", 1), waitlisted("d", 2))
#: a left: its place is offered to c until LATER
OFFERED = (*FULL, withdrawn("a", "confirmed"), offered("c"))


# ---------------------------------------------------------------- applying


def test_a_coordinator_applies_with_the_teams_roster_and_the_same_application_again_changes_nothing():
    state = given(GAME_TEAMS).when(apply("a")).then(applied("a"))
    assert state.status("a") == "pending" and state.teams["a"].roster == roster("a")
    given(GAME_TEAMS, applied("a")).when(apply("a")).then()
    given(GAME_TEAMS, applied("a")).when(apply("a", members=("a-lead",))).refused(
        Conflict, "team_already_applied", status="pending")
    given(GAME_TEAMS, *FULL).when(apply("c", members=("c-lead",))).refused(
        Conflict, "team_already_applied", status="waitlisted")


def test_a_roster_names_one_to_thirty_members_once_each_the_applicant_among_them_all_of_the_group():
    thirty = ("a-lead", *(f"a-{i}" for i in range(29)))
    given(GAME_TEAMS).when(apply("a", members=thirty)).then(
        g.TeamApplied(event_id=E, group_id="a", roster=thirty, applied_by="a-lead"))
    given(GAME_TEAMS).when(apply("a", members=(*thirty, "a-29"))).refused(Invalid, "team_roster_size", size=31)
    given(GAME_TEAMS).when(apply("a", members=())).refused(Invalid, "team_roster_size", size=0)
    given(GAME_TEAMS).when(apply("a", members=("a-lead", "a-x", "a-x"))).refused(
        Invalid, "team_roster_repeats_member", member_id="a-x")
    given(GAME_TEAMS).when(apply("a", members=("a-x", "a-y"))).refused(Invalid, "applicant_not_in_roster")
    given(GAME_TEAMS).when(apply("a", strangers=("zed", "a-b"))).refused(
        Invalid, "roster_not_in_group", member_id="a-b", group_id="a")


def test_only_a_coordinator_of_an_existing_game_team_applies():
    given(GAME_TEAMS).when(apply("a", coordinates=False)).refused(Forbidden, "team_coordinator_only")
    given(GAME_TEAMS).when(apply("a", actor=MOD, coordinates=False, members=("mod",))).refused(
        Forbidden, "team_coordinator_only")
    given(GAME_TEAMS).when(apply("a", group_type=None)).refused(NotFound, "group_not_found", group_id="a")
    given(GAME_TEAMS).when(apply("a", group_type="research")).refused(
        Invalid, "group_not_a_game_team", group_type="research")


def test_a_member_plays_in_one_team_of_a_game_until_that_team_is_out():
    theirs = ("b-lead", "a-b")  # a-b is on team a's roster
    given(GAME_TEAMS, applied("a")).when(apply("b", members=theirs)).refused(
        Conflict, "member_in_another_team", member_id="a-b", group_id="a")
    given(GAME_TEAMS, applied("a"), withdrawn("a", "pending")).when(apply("b", members=theirs)).then(
        g.TeamApplied(event_id=E, group_id="b", roster=theirs, applied_by="b-lead"))


@pytest.mark.parametrize(("facts", "error", "code"), [
    (GameFacts(None, None, None, 0), NotFound, "event_not_found"),
    (GameFacts("draft", "game", "planning", 2), NotFound, "event_not_found"),
    (GameFacts("scheduled", "research", "open", 2), Invalid, "event_not_a_game"),
    (GameFacts("scheduled", "online_meeting", "open", 2), Invalid, "event_not_a_game"),
    (GameFacts("cancelled", "game", "open", 2), Conflict, "event_cancelled"),
    (GameFacts("scheduled", "game", "planning", 2), Conflict, "season_not_open"),
    (GameFacts("scheduled", "game", "closed", 2), Conflict, "season_not_open"),
    (GameFacts("scheduled", "game", "results_published", 2), Conflict, "season_not_open"),
])
def test_teams_apply_are_confirmed_and_take_places_only_for_a_published_game_in_an_open_season(facts, error, code):
    given(GAME_TEAMS).when(apply("a", facts)).refused(error, code)
    given(GAME_TEAMS, applied("a")).when(confirm("a", facts)).refused(error, code)
    given(GAME_TEAMS, applied("a")).when(decline("a", game=facts)).refused(error, code)
    given(GAME_TEAMS, *OFFERED).when(accept("c", game=facts)).refused(error, code)


# ---------------------------------------------------------------- confirming and declining


def test_a_confirmed_team_is_announced_with_its_roster_for_the_feedback_service():
    state = given(GAME_TEAMS, applied("a")).when(confirm("a")).then(confirmed("a"))
    assert state.confirmed == ("a",) and state.status("a") == "confirmed"
    event = confirmed("a")
    assert (event.event_id, event.group_id, event.roster) == (E, "a", roster("a"))
    assert g.TeamConfirmed.model_validate_json(event.model_dump_json()) == event
    given(GAME_TEAMS, applied("a"), confirmed("a")).when(confirm("a")).then()


def test_a_full_game_lines_teams_up_in_the_order_the_moderators_confirm_them():
    history: list[c.Event] = [applied(x) for x in "abcde"]
    for position, group in enumerate("edbca", start=-1):  # e and d get the places, then b, c, a wait
        expected = confirmed(group) if position < 1 else waitlisted(group, position)
        given(GAME_TEAMS, *history).when(confirm(group)).then(expected)
        history.append(expected)
    state = GAME_TEAMS.fold(history)
    assert state.confirmed == ("e", "d") and state.waitlist == ("b", "c", "a")
    assert state.position("b") == 1 and state.position("a") == 3 and state.position("e") is None
    for group in "bca":  # confirming a team in line again changes nothing
        given(GAME_TEAMS, *history).when(confirm(group)).then()


def test_a_confirmation_does_not_jump_the_line_even_when_a_place_is_free():
    bigger = GameFacts("scheduled", "game", "open", 3)  # the game grew, the policy has not run yet
    given(GAME_TEAMS, *FULL).when(confirm("e", bigger)).then(waitlisted("e", 3))


def test_only_moderators_confirm_or_decline_and_a_decline_says_why():
    given(GAME_TEAMS, applied("a")).when(confirm("a", actor=lead("a"))).refused(Forbidden, "moderator_only")
    given(GAME_TEAMS, applied("a")).when(decline("a", actor=lead("a"))).refused(Forbidden, "moderator_only")
    given(GAME_TEAMS, applied("a")).when(decline("a", "  \n")).refused(Invalid, "decline_reason_required")
    state = given(GAME_TEAMS, applied("a")).when(decline("a")).then(
        g.TeamDeclined(event_id=E, group_id="a", declined_by="mod", reason="Состав не готов"))
    assert state.status("a") == "declined" and not state.confirmed
    assert g.TeamDeclined.pii_fields == {"reason"} and g.TeamDeclined.pii_subject_field == "declined_by"


def test_only_a_pending_team_is_decided_and_a_declined_team_does_not_apply_again():
    given(GAME_TEAMS).when(confirm("a")).refused(NotFound, "team_not_found", group_id="a")
    gone = (applied("a"), withdrawn("a", "pending"))
    given(GAME_TEAMS, *gone).when(confirm("a")).refused(Conflict, "team_not_pending", status="withdrawn")
    given(GAME_TEAMS, *FULL).when(decline("a")).refused(Conflict, "team_not_pending", status="confirmed")
    given(GAME_TEAMS, *FULL).when(decline("c")).refused(Conflict, "team_not_pending", status="waitlisted")
    no = g.TeamDeclined(event_id=E, group_id="a", declined_by="mod", reason="Нет")
    given(GAME_TEAMS, applied("a"), no).when(decline("a")).then()
    given(GAME_TEAMS, applied("a"), no).when(confirm("a")).refused(Conflict, "team_not_pending", status="declined")
    given(GAME_TEAMS, applied("a"), no).when(apply("a")).refused(Conflict, "team_declined")
    # a team that left may come back: pending again, out of every line
    state = given(GAME_TEAMS, *gone).when(apply("a")).then(applied("a"))
    assert state.status("a") == "pending"


# ---------------------------------------------------------------- withdrawing and offers


def test_a_team_leaving_its_place_offers_it_to_the_first_team_in_line_for_48_hours():
    state = given(GAME_TEAMS, *FULL).when(withdraw("a")).then(withdrawn("a", "confirmed"), offered("c"))
    assert state.confirmed == ("b",) and state.offered == ("c",) and state.waitlist == ("d",)
    assert state.teams["c"].offer_expires_at == NOW + timedelta(hours=48) and state.position("d") == 1
    # the held place counts: no confirmation gets it, the next team lines up
    given(GAME_TEAMS, *OFFERED).when(confirm("e")).then(waitlisted("e", 2))


def test_a_moderator_withdraws_any_team_and_nobody_else_does():
    given(GAME_TEAMS, *FULL).when(withdraw("a", actor=MOD)).then(withdrawn("a", "confirmed", by="mod"), offered("c"))
    given(GAME_TEAMS, *FULL).when(withdraw("a", actor=lead("b"))).refused(Forbidden, "coordinator_only")
    given(GAME_TEAMS).when(withdraw("a")).refused(NotFound, "team_not_found")


def test_leaving_the_line_or_a_pending_application_frees_no_place_and_leaving_twice_changes_nothing():
    state = given(GAME_TEAMS, *FULL).when(withdraw("c")).then(withdrawn("c", "waitlisted"))
    assert state.waitlist == ("d",) and state.position("d") == 1 and state.confirmed == ("a", "b")
    given(GAME_TEAMS, *FULL).when(withdraw("e")).then(withdrawn("e", "pending"))
    given(GAME_TEAMS, *FULL, withdrawn("e", "pending")).when(withdraw("e")).then()


def test_the_offered_team_takes_the_place_before_the_offer_expires():
    state = given(GAME_TEAMS, *OFFERED).when(accept("c", LATER - timedelta(seconds=1))).then(
        confirmed("c", by="c-lead"))
    assert state.confirmed == ("b", "c") and not state.offered and state.waitlist == ("d",)
    assert state.teams["c"].offer_expires_at is None
    given(GAME_TEAMS, *OFFERED, confirmed("c", by="c-lead")).when(accept("c")).then()


def test_only_the_teams_coordinator_accepts_a_place_and_only_an_offered_one():
    given(GAME_TEAMS, *OFFERED).when(accept("c", actor=MOD)).refused(Forbidden, "team_coordinator_only")
    given(GAME_TEAMS, *OFFERED).when(accept("c", actor=lead("d"))).refused(Forbidden, "team_coordinator_only")
    given(GAME_TEAMS, *OFFERED).when(accept("d")).refused(Conflict, "team_place_not_offered", status="waitlisted")
    given(GAME_TEAMS, *OFFERED).when(accept("e")).refused(Conflict, "team_place_not_offered", status="pending")
    given(GAME_TEAMS, *OFFERED).when(accept("x")).refused(NotFound, "team_not_found")


def test_an_answer_at_the_moment_the_offer_expires_finds_it_lapsed_and_the_place_goes_on():
    state = given(GAME_TEAMS, *OFFERED).when(accept("c", LATER)).then(expired("c"), offered("d", LATER))
    assert state.status("c") == "offer_expired" and state.offered == ("d",) and not state.waitlist
    given(GAME_TEAMS, *OFFERED).when(pass_on("c", LATER + timedelta(days=3))).then(
        expired("c"), offered("d", LATER + timedelta(days=3)))


def test_the_timer_lapses_an_offer_and_the_place_goes_to_the_next_team_or_stays_free():
    given(GAME_TEAMS, *OFFERED).when(expire("c", LATER - timedelta(seconds=1))).then()  # early: nothing
    after = given(GAME_TEAMS, *OFFERED).when(expire("c")).then(expired("c"), offered("d", LATER))
    given(GAME_TEAMS, *OFFERED).when(expire("c")).then(expired("c"), offered("d", LATER))
    last = LATER + timedelta(hours=HOURS)
    state = given(GAME_TEAMS, *OFFERED, expired("c"), offered("d", LATER)).when(expire("d", last)).then(expired("d"))
    assert after.offered == ("d",) and state.free_places(2) == 1 and not state.waitlist
    # a free place and nobody in line: the next confirmation takes it at once
    given(GAME_TEAMS, *OFFERED, expired("c"), offered("d", LATER), expired("d")).when(confirm("e")).then(
        confirmed("e"))
    # a timer for an offer answered already, or for no offer at all, changes nothing
    given(GAME_TEAMS, *OFFERED, confirmed("c", by="c-lead")).when(expire("c")).then()
    given(GAME_TEAMS, *OFFERED).when(expire("d")).then()
    given(GAME_TEAMS).when(expire("x")).then()


def test_a_team_passing_on_its_offer_hands_the_place_to_the_next_team():
    state = given(GAME_TEAMS, *OFFERED).when(pass_on("c")).then(passed("c"), offered("d"))
    assert state.status("c") == "offer_declined" and state.offered == ("d",)
    given(GAME_TEAMS, *OFFERED).when(pass_on("c", actor=MOD)).then(passed("c", by="mod"), offered("d"))
    given(GAME_TEAMS, *OFFERED).when(pass_on("c", actor=lead("d"))).refused(Forbidden, "coordinator_only")
    given(GAME_TEAMS, *OFFERED, passed("c"), offered("d")).when(pass_on("c")).then()
    given(GAME_TEAMS, *OFFERED).when(pass_on("d")).refused(Conflict, "team_place_not_offered", status="waitlisted")
    # and a team out of the game may apply again, at the end of every line
    given(GAME_TEAMS, *OFFERED, passed("c"), offered("d")).when(apply("c")).then(applied("c"))


def test_an_offered_team_that_withdraws_passes_the_place_on():
    state = given(GAME_TEAMS, *OFFERED).when(withdraw("c")).then(withdrawn("c", "offered"), offered("d"))
    assert state.offered == ("d",) and state.confirmed == ("b",)


def test_in_a_cancelled_game_teams_may_still_leave_but_no_place_is_offered():
    cancelled = GameFacts("cancelled", "game", "open", 2)
    given(GAME_TEAMS, *FULL).when(withdraw("a", game=cancelled)).then(withdrawn("a", "confirmed"))
    given(GAME_TEAMS, *OFFERED).when(pass_on("c", game=cancelled)).then(passed("c"))
    given(GAME_TEAMS, *OFFERED).when(expire("c", game=cancelled)).then(expired("c"))
    closed = GameFacts("scheduled", "game", "closed", 2)
    given(GAME_TEAMS, *FULL).when(withdraw("a", game=closed)).refused(Conflict, "season_not_open")
    given(GAME_TEAMS, *OFFERED).when(expire("c", game=closed)).then(expired("c"))


def test_a_larger_game_offers_its_new_places_down_the_line_and_a_smaller_takes_none_away():
    bigger = GameFacts("scheduled", "game", "open", 4)
    state = given(GAME_TEAMS, *FULL).when(ApplyMaxTeams(E, bigger, NOW, HOURS)).then(offered("c"), offered("d"))
    assert state.offered == ("c", "d") and not state.waitlist
    given(GAME_TEAMS, *FULL).when(ApplyMaxTeams(E, GameFacts("scheduled", "game", "open", 1), NOW, HOURS)).then()
    smaller = GameFacts("scheduled", "game", "open", 1)
    given(GAME_TEAMS, *FULL).when(withdraw("a", game=smaller)).then(withdrawn("a", "confirmed"))
    # an offer made before the game got smaller still holds
    given(GAME_TEAMS, *OFFERED).when(accept("c", game=smaller)).then(confirmed("c", by="c-lead"))


def test_an_offer_lasts_at_least_an_hour():
    command = WithdrawTeam(lead("a"), E, "a", GAME, True, NOW, 0)
    given(GAME_TEAMS, *FULL).when(command).refused(Invalid, "offer_hours_too_small", offer_hours=0)


def test_every_command_decides_only_its_own_kind():
    with pytest.raises(TypeError):
        GAME_TEAMS.decide("not a command", GameTeams())


# ---------------------------------------------------------------- the contracts


@pytest.mark.parametrize("model", [*g.GAMES_COMMANDS, *g.GAMES_QUERIES], ids=lambda m: m.__name__)
def test_every_string_and_list_a_client_sends_has_a_limit(model):
    assert unbounded(model) == []


def test_names_and_replies():
    events = (*g.GAME_EVENTS, *g.RESEARCH_EVENTS)
    for e in events:
        assert re.search(r"(ed|Given|Left|Withdrawn|Sent|Set)(?=[A-Z]|$)", e.type_name), e
        assert EVENT_TYPES.get(e.type_name, e) is e, f"{e.type_name} is taken"
        assert e.pii_fields <= set(e.model_fields), e
    for model in (*g.GAMES_COMMANDS, *g.GAMES_QUERIES):
        assert model.service == c.SERVICE and model.reply_model in g.GAMES_REPLIES, model
        assert not model.type_name.endswith("ed"), model
    ours = [m.type_name for m in (*events, *g.GAMES_COMMANDS, *g.GAMES_QUERIES)]
    theirs = {m.type_name for m in (*c.CALENDAR_EVENTS, *c.CALENDAR_COMMANDS, *c.CALENDAR_QUERIES)}
    assert len(set(ours)) == len(ours) and not set(ours) & theirs
    assert GAME_TEAMS.events == g.GAME_EVENTS and GAME_TEAMS.subject(E) == f"hr.evt.calendar.game_teams.{E}"


@pytest.mark.parametrize("fields", [
    {"roster": ()}, {"roster": tuple(f"m-{i}" for i in range(31))}, {"roster": ("a.b",)}, {"group_id": "a b"},
    {"event_id": ""},
])
def test_an_application_is_refused_at_the_edge(fields):
    with pytest.raises(ValidationError):
        g.ApplyGameTeam(**{"event_id": E, "group_id": "a", "roster": ("a-lead",), **fields})


def test_a_decline_needs_a_reason_at_the_edge_and_offers_keep_their_time_in_utc():
    with pytest.raises(ValidationError):
        g.DeclineGameTeam(event_id=E, group_id="a", reason="")
    with pytest.raises(ValidationError):
        g.DeclineGameTeam(event_id=E, group_id="a", reason="x" * 2001)
    yekt = timezone(timedelta(hours=5))
    offer = g.TeamPlaceOffered(event_id=E, group_id="a", expires_at=datetime(2027, 3, 3, 14, tzinfo=yekt))
    assert offer.expires_at == datetime(2027, 3, 3, 9, tzinfo=UTC) and offer.expires_at.tzinfo == UTC
    with pytest.raises(ValidationError):
        g.TeamPlaceOffered(event_id=E, group_id="a", expires_at=datetime(2027, 3, 3, 14))
    with pytest.raises(ValidationError):
        confirmed("a").roster = ()


# ---------------------------------------------------------------- the property

GROUPS = ["a", "b", "c", "d", "e", "f"]
#: confirmations and answers to offers more often than the rest, so that lines form and move; a wait
#: lets time pass
OPS = ["confirm"] * 4 + ["accept"] * 3 + ["apply"] * 3 + ["withdraw"] * 3 + ["wait"] * 4 + ["expire"] * 2 + [
    "decline", "pass"]
#: an operation, which team (an index into the teams it may concern, mostly), and the hours of a wait
STEP = st.tuples(st.sampled_from(OPS), st.integers(min_value=0, max_value=len(GROUPS) - 1),
                 st.integers(min_value=1, max_value=100))


def _pick(op: str, index: int, state: GameTeams) -> str:
    """Mostly a team the operation concerns (an offered one for an answer, one with a place for a withdrawal,
    a pending one to confirm), now and then any team, so that the refusals are tried too."""
    concerned = {"accept": state.offered, "pass": state.offered, "expire": state.offered,
                 "withdraw": state.confirmed + state.offered,
                 "confirm": tuple(t for t in GROUPS if state.status(t) == "pending")}.get(op, ())
    return concerned[index % len(concerned)] if concerned and index < len(GROUPS) - 1 else GROUPS[index]


def _command(op: str, arg: str, game: GameFacts, now: datetime):
    actor = MOD if op in ("confirm", "decline") else lead(arg)
    return {"apply": lambda: apply(arg, game), "confirm": lambda: confirm(arg, game),
            "decline": lambda: decline(arg, game=game), "withdraw": lambda: withdraw(arg, now, game, actor),
            "accept": lambda: accept(arg, now, game, actor), "pass": lambda: pass_on(arg, now, game, actor),
            "expire": lambda: ExpireTeamOffer(E, arg, game, now, HOURS)}[op]()


def _check(state: GameTeams, max_teams: int) -> None:
    lines = (state.confirmed, state.waitlist, state.offered)
    # confirmed teams never exceed the game, and offers hold only the places that are left
    assert len(state.confirmed) <= max_teams
    assert len(state.offered) <= max_teams - len(state.confirmed)
    # nobody waits while a place is free
    assert not state.waitlist or state.free_places(max_teams) == 0
    # each team stands in one place: one status, the line of its status and no other
    assert sum(len(line) for line in lines) == len(set().union(*lines))
    for status, line in zip(("confirmed", "waitlisted", "offered"), lines, strict=True):
        assert {t.group_id for t in state.teams.values() if t.status == status} == set(line)
    for team in state.teams.values():
        assert (team.offer_expires_at is not None) == (team.status == "offered")


@settings(max_examples=200, deadline=None)
@for_all(max_teams=st.integers(min_value=1, max_value=3), steps=st.lists(STEP, min_size=10, max_size=80))
def test_no_sequence_of_commands_overfills_a_game_holds_too_many_offers_or_jumps_the_line(max_teams, steps):
    game = GameFacts("scheduled", "game", "open", max_teams)
    state, now = GAME_TEAMS.fold([applied(t) for t in GROUPS]), NOW
    lined_up: list[str] = []  # each team, when it last joined the line
    for op, index, hours in steps:
        if op == "wait":
            now += timedelta(hours=hours)
            continue
        try:
            events = GAME_TEAMS.decide(_command(op, _pick(op, index, state), game, now), state)
        except DomainError:
            continue  # a refusal changes nothing
        lined_up += [e.group_id for e in events if isinstance(e, g.TeamWaitlisted)]
        # a freed place goes to the teams first in line, each for offer_hours from now
        offers = [e for e in events if isinstance(e, g.TeamPlaceOffered)]
        leaving = {e.group_id for e in events if not isinstance(e, g.TeamPlaceOffered)}
        assert [e.group_id for e in offers] == [t for t in state.waitlist if t not in leaving][:len(offers)]
        assert all(e.expires_at == now + timedelta(hours=HOURS) for e in offers)
        for e in events:
            if isinstance(e, g.TeamConfirmed):
                team = state.teams[e.group_id]
                assert e.roster == team.roster  # the roster the team applied with
                # an offered place is taken only while the offer holds
                assert team.offer_expires_at is None or now < team.offer_expires_at
        state = GAME_TEAMS.fold(events, state)
        _check(state, max_teams)
        # the line keeps the order of confirmation
        assert list(state.waitlist) == [t for i, t in enumerate(lined_up)
                                        if t in state.waitlist and t not in lined_up[i + 1:]]
        assert [state.position(t) for t in state.waitlist] == list(range(1, len(state.waitlist) + 1))
