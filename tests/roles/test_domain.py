"""The roles deciders: a window opens once and closes once; a pick is refused naming the rule it breaks
(window, group, maximum, Vision, capacity); by properties over any sequence of picks and releases, no
vacancy ever holds more than its capacity and no member more than their maximum; the seasons' dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given as for_all
from hypothesis import settings
from hypothesis import strategies as st
from pydantic import ValidationError

from libs.contracts import roles as c
from libs.contracts.envelope import SYSTEM_ACTOR, Actor
from libs.contracts.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from libs.kit.decider import given
from services.roles import domain as d
from services.roles.domain import PICKS, VACANCY, WINDOW
from services.roles.settings import Settings

S = "2027-autumn"
G = "group-1"
NOW = datetime(2027, 7, 2, 10, tzinfo=UTC)
ANNA, BORIS = Actor(id="anna", roles=("member",)), Actor(id="boris", roles=("member",))
MOD = Actor(id="mod", roles=("moderator",))


def facts(season: str | None = S, member: bool = True, capacity: int = 1, max_picks: int = 2,
          may_set: bool = False, vision=c.GROUP_QUALITIES) -> d.PickFacts:
    return d.PickFacts(season_id=season, default_capacity=capacity, max_picks=max_picks, member_of_group=member,
                       may_set_capacity=may_set, vision_requires=vision, opens_after="2027-spring")


def taken(member: str, role: int, group: str | None = G, season: str = S) -> c.RoleTaken:
    return c.RoleTaken(member_id=member, season_id=season, group_id=group, role=role, quality=c.quality_of(role))


def run(command: d.PickCommand, picks: list | None = None, vacancy: list | None = None):
    """-> (picks events, vacancy events), or the refusal."""
    try:
        return d.decide_pick(command, PICKS.fold(picks or []), VACANCY.fold(vacancy or []))
    except DomainError as e:
        return e


# ---------------------------------------------------------------- the window


opened = c.PickWindowOpened(season_id=S, after_season_id="2027-spring", opened_at=NOW,
                            closes_at=NOW + timedelta(days=40), group_capacity=1, coordination_capacity=1,
                            max_picks=2)


def test_a_window_opens_once_closes_once_and_reports_once_after_closing():
    open_ = d.OpenPickWindow(S, "2027-spring", NOW, NOW + timedelta(days=40), 1, 1, 2)
    given(WINDOW).when(open_).then(opened)
    given(WINDOW, opened).when(open_).then()
    close = d.ClosePickWindow(S, NOW + timedelta(days=40), "time")
    closed = c.PickWindowClosed(season_id=S, closed_at=NOW + timedelta(days=40), reason="time")
    given(WINDOW).when(close).then()
    given(WINDOW, opened).when(close).then(closed)
    given(WINDOW, opened, closed).when(close).then()
    report = d.ReportSeason(S, ())
    given(WINDOW, opened).when(report).then()  # not before it closed: the picks are not final
    given(WINDOW, opened, closed).when(report).then(c.RolesSeasonReported(season_id=S, lines=()))
    given(WINDOW, opened, closed, c.RolesSeasonReported(season_id=S, lines=())).when(report).then()


def test_a_window_opened_after_its_time_closes_at_its_opening_not_before():
    late = d.OpenPickWindow(S, "2027-spring", NOW, NOW - timedelta(days=3), 1, 1, 2)
    (event,) = WINDOW.decide(late, WINDOW.initial())
    assert event.closes_at == NOW
    state = WINDOW.fold([event])
    assert not state.open_at(NOW) and not state.open_at(NOW + timedelta(seconds=1))


# ---------------------------------------------------------------- picks


def test_a_pick_takes_the_vacancy_and_the_members_place_together():
    picks, vacancy = run(d.TakeRole(ANNA, "anna", G, 4, facts()))
    assert picks == [taken("anna", 4)]
    assert vacancy == [c.VacancyOccupied(season_id=S, group_id=G, role=4, member_id="anna", holders=("anna",),
                                         capacity=1)]


@pytest.mark.parametrize("command, history, error, code", [
    (d.TakeRole(ANNA, "anna", G, 1, facts(season=None)), [], Conflict, "pick_window_closed"),
    (d.TakeRole(ANNA, "anna", G, 1, facts(member=False)), [], Forbidden, "not_in_group"),
    (d.TakeRole(ANNA, "anna", None, 11, facts(member=False)), [], Forbidden, "community_members_only"),
    (d.TakeRole(ANNA, "anna", G, 3, facts()), [taken("anna", 1), taken("anna", 5)], Conflict, "picks_max_reached"),
    (d.TakeRole(ANNA, "anna", G, 10, facts()), [], Invalid, "role_of_coordination"),
    (d.TakeRole(ANNA, "anna", None, 2, facts()), [], Invalid, "role_in_a_group"),
    (d.TakeRole(ANNA, "anna", G, 13, facts()), [], Invalid, "role_unknown"),
    (d.ReleaseRole(ANNA, "anna", G, 2, facts()), [], NotFound, "role_not_held"),
    (d.ReleaseRole(BORIS, "anna", G, 1, facts()), [taken("anna", 1)], Forbidden, "own_picks_only"),
    (d.ReleaseRole(ANNA, "anna", G, 1, facts(season=None)), [taken("anna", 1)], Conflict, "pick_window_closed"),
    (d.SetCapacity(ANNA, G, 1, 3, facts()), [], Forbidden, "coordinator_only"),
    (d.SetCapacity(ANNA, None, 10, 3, facts()), [], Forbidden, "moderator_only"),
])
def test_a_pick_is_refused_naming_the_rule_it_breaks(command, history, error, code):
    got = run(command, history)
    assert isinstance(got, error) and got.code == code, got


def test_the_window_closed_says_which_season_opens_the_next():
    got = run(d.TakeRole(ANNA, "anna", G, 1, facts(season=None)))
    assert isinstance(got, Conflict) and got.params == {"opens_after": "2027-spring"}


def test_a_filled_vacancy_is_refused_with_its_capacity_and_a_larger_one_takes_one_more():
    full = [c.VacancyOccupied(season_id=S, group_id=G, role=5, member_id="boris", holders=("boris",), capacity=1)]
    got = run(d.TakeRole(ANNA, "anna", G, 5, facts()), vacancy=full)
    assert isinstance(got, Conflict) and (got.code, got.params) == ("vacancy_filled", {"role": 5, "capacity": 1})
    _, wider = run(d.SetCapacity(MOD, G, 5, 2, facts(may_set=True)), vacancy=full)
    assert wider == [c.VacancyCapacitySet(season_id=S, group_id=G, role=5, capacity=2, holders=("boris",),
                                          set_by="mod")]
    _, vacancy = run(d.TakeRole(ANNA, "anna", G, 5, facts()), vacancy=full + wider)
    assert vacancy[0].holders == ("boris", "anna") and vacancy[0].capacity == 2
    below = run(d.SetCapacity(MOD, G, 5, 1, facts(may_set=True)), vacancy=full + wider + vacancy)
    assert isinstance(below, Conflict) and below.code == "capacity_below_holders"


def test_the_same_pick_twice_and_the_same_capacity_twice_change_nothing():
    assert run(d.TakeRole(ANNA, "anna", G, 4, facts()), [taken("anna", 4)]) == ([], [])
    set_ = [c.VacancyCapacitySet(season_id=S, group_id=G, role=4, capacity=3, holders=(), set_by="mod")]
    assert run(d.SetCapacity(MOD, G, 4, 3, facts(may_set=True)), vacancy=set_) == ([], [])


def test_picks_of_other_seasons_do_not_count_against_this_seasons_maximum():
    history = [taken("anna", 1, season="2027-spring"), taken("anna", 4, season="2027-spring")]
    picks, _ = run(d.TakeRole(ANNA, "anna", G, 7, facts()), history)
    assert picks == [taken("anna", 7)]


def test_vision_needs_every_configured_quality_in_earlier_seasons_and_names_the_missing():
    history = [taken("anna", 2, season="2026-autumn"), taken("anna", 5, season="2026-autumn"),
               taken("anna", 8)]  # Systemic thinking this season: not history yet
    got = run(d.TakeRole(ANNA, "anna", None, 10, facts()), history)
    assert isinstance(got, Conflict) and got.code == "vision_not_yet"
    assert (got.params["missing"], got.params["missing_ru"], got.params["missing_en"]) == (
        ["systemic"], "Системность", "Systemic thinking")
    # released picks never counted
    released = c.RoleReleased(member_id="anna", season_id="2026-spring", group_id=G, role=9, quality="systemic")
    got = run(d.TakeRole(ANNA, "anna", None, 10, facts()), [*history, taken("anna", 9, season="2026-spring"), released])
    assert isinstance(got, Conflict) and got.code == "vision_not_yet"
    picks, _ = run(d.TakeRole(ANNA, "anna", None, 10, facts(max_picks=3)),
                   [*history, taken("anna", 9, season="2026-spring")])
    assert picks == [taken("anna", 10, group=None)]
    # the rule is configurable: with nothing required, Vision is open to anyone
    picks, _ = run(d.TakeRole(ANNA, "anna", None, 12, facts(vision=())))
    assert picks == [taken("anna", 12, group=None)]


def test_a_leaver_releases_by_the_system_and_a_moderator_for_a_member_with_the_reason_said():
    picks, vacancy = run(d.ReleaseRole(SYSTEM_ACTOR, "anna", G, 1, facts(), "left_group"), [taken("anna", 1)],
                         [c.VacancyOccupied(season_id=S, group_id=G, role=1, member_id="anna", holders=("anna",),
                                            capacity=1)])
    assert picks[0].reason == "left_group" and vacancy[0].holders == ()
    picks, _ = run(d.ReleaseRole(MOD, "anna", G, 1, facts()), [taken("anna", 1)])
    assert picks[0].reason == "released_by_moderator"
    picks, _ = run(d.ReleaseRole(ANNA, "anna", G, 1, facts()), [taken("anna", 1)])
    assert picks[0].reason == "released"


# ---------------------------------------------------------------- properties

members = st.sampled_from(["anna", "boris", "vera", "gleb"])
steps = st.lists(st.tuples(st.sampled_from(["take", "release", "capacity"]), members, st.integers(1, 3),
                           st.integers(1, 3)), max_size=40)


@settings(max_examples=150, deadline=None)
@for_all(steps)
def test_no_vacancy_over_its_capacity_and_no_member_over_the_maximum_whatever_the_order(seq):
    """The two aggregates, each folded from only its own events, as the log would hold them."""
    picks: dict[str, list] = {}
    vacancies: dict[int, list] = {}
    for kind, member, role, capacity in seq:
        actor = Actor(id=member, roles=("member",))
        command: d.PickCommand = {
            "take": d.TakeRole(actor, member, G, role, facts(max_picks=2)),
            "release": d.ReleaseRole(actor, member, G, role, facts()),
            "capacity": d.SetCapacity(MOD, G, role, capacity, facts(may_set=True)),
        }[kind]
        got = run(command, picks.get(member, []), vacancies.get(role, []))
        if isinstance(got, DomainError):
            continue
        p, v = got
        if kind != "capacity":
            picks.setdefault(member, []).extend(p)
        vacancies.setdefault(role, []).extend(v)
        for r, events in vacancies.items():
            state = VACANCY.fold(events)
            assert len(state.holders) <= (state.capacity or 1) and len(set(state.holders)) == len(state.holders)
        for m, events in picks.items():
            assert len(PICKS.fold(events).of(S)) <= 2
            held_here = {h.role for h in PICKS.fold(events).of(S)}
            assert held_here == {r for r, ev in vacancies.items() if m in VACANCY.fold(ev).holders}


# ---------------------------------------------------------------- the seasons' dates


@pytest.mark.parametrize("ends_on, expected", [
    (date(2027, 7, 1), ("2027-autumn", date(2027, 8, 15))),
    (date(2027, 12, 15), ("2028-spring", date(2028, 2, 15))),
    (date(2027, 8, 20), ("2028-spring", date(2028, 2, 15))),  # a season of its own dates inside the autumn
    (date(2027, 1, 1), ("2027-spring", date(2027, 2, 15))),
])
def test_the_next_season_is_the_first_configured_one_that_starts_after(ends_on, expected):
    assert Settings().next_season(ends_on) == expected


def test_the_first_day_begins_at_midnight_in_the_community_zone_and_the_rule_cannot_require_vision():
    assert Settings().day_starts_at(date(2027, 8, 15)) == datetime(2027, 8, 14, 19, tzinfo=UTC)
    assert Settings(spring_season="03-01..06-30").next_season(date(2027, 1, 1)) == ("2027-spring", date(2027, 3, 1))
    with pytest.raises(ValidationError):
        Settings(vision_requires=("vision",))
    with pytest.raises(ValidationError):
        Settings(max_picks=0)
    assert Settings(vision_requires=("systemic", "systemic")).vision_requires == ("systemic",)
