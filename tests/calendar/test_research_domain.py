"""A season's research workload: tasks with their effort, the hours volunteers offer, one distribution
with a reason for each task's outcome, and reopening it (given events / when a command / then events or
a refusal); ``distribute`` on its own, by properties over any tasks and offers; and its balance against
a naive round-robin on random inputs."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import given as for_all
from hypothesis import settings
from hypothesis import strategies as st
from pydantic import ValidationError

from libs.contracts import calendar as g
from libs.contracts.calendar import Phase
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from libs.kit.decider import given
from services.calendar.games_domain import (
    RESEARCH,
    AddTask,
    Distribute,
    Offer,
    RemoveTask,
    ReopenDistribution,
    Research,
    WithdrawOffer,
    distribute,
)

S = "2027-spring"
MOD = Actor(id="mod", roles=("moderator",))
ANNA, BORIS, VERA = Actor(id="anna"), Actor(id="boris"), Actor(id="vera")


def add(task_id: str, effort: int, actor: Actor = MOD, phase: Phase | None = "open") -> AddTask:
    return AddTask(actor, S, phase, task_id, f"Задача {task_id}", effort)


def offer(actor: Actor, hours: int, in_main: bool = True, phase: Phase | None = "open") -> Offer:
    return Offer(actor, S, phase, hours, in_main)


def distribute_(actor: Actor = MOD, phase: Phase | None = "open") -> Distribute:
    return Distribute(actor, S, phase)


def added(task_id: str, effort: int) -> g.ResearchTaskAdded:
    return g.ResearchTaskAdded(season_id=S, task_id=task_id, title=f"Задача {task_id}", effort_hours=effort,
                               added_by="mod")


def offered(member_id: str, hours: int) -> g.ResearchHoursOffered:
    return g.ResearchHoursOffered(season_id=S, member_id=member_id, hours=hours)


def reason(code: str, **params: int) -> g.DistributionReason:
    return g.DistributionReason(code=code, params=params)


def assigned(task_id: str, member_id: str, effort: int, why: g.DistributionReason) -> g.ResearchAssigned:
    return g.ResearchAssigned(season_id=S, task_id=task_id, member_id=member_id, effort_hours=effort, reason=why)


def unassigned(task_id: str, effort: int, most_hours_left: int) -> g.ResearchLeftUnassigned:
    return g.ResearchLeftUnassigned(season_id=S, task_id=task_id, effort_hours=effort, reason=reason(
        "no_volunteer_has_hours", effort_hours=effort, most_hours_left=most_hours_left))


def shared(left: int, offered_hours: int, candidates: int) -> g.DistributionReason:
    return reason("largest_share_left", hours_left_before=left, offered_hours=offered_hours, candidates=candidates)


def only(left: int, offered_hours: int) -> g.DistributionReason:
    return reason("only_one_fits", hours_left_before=left, offered_hours=offered_hours, candidates=1)


#: six tasks (a 30-hour one nobody can take) and three offers: anna 12 hours, boris and vera 6 each
LISTED = (added("t-a", 6), added("t-b", 4), added("t-c", 3), added("t-d", 3), added("t-e", 2), added("t-z", 30),
          offered("anna", 12), offered("boris", 6), offered("vera", 6))
#: what the distribution of LISTED decides: the tasks given, largest first, then those left over
DISTRIBUTED = (
    # all three have their whole offer left: the most hours left wins
    assigned("t-a", "anna", 6, shared(12, 12, 3)),
    # boris and vera have all of theirs left, anna half: 6 hours each, boris comes first by name
    assigned("t-b", "boris", 4, shared(6, 6, 3)),
    # boris has 2 hours left, too few; vera has all of hers left, anna half
    assigned("t-c", "vera", 3, shared(6, 6, 2)),
    # anna and vera both have half left (boris still too few); anna has more hours left
    assigned("t-d", "anna", 3, shared(6, 12, 2)),
    # anna has a quarter left, boris a third, vera half
    assigned("t-e", "vera", 2, shared(3, 6, 3)),
    # taken first, as the largest: nobody had 30 hours
    unassigned("t-z", 30, most_hours_left=12),
)
DONE = g.ResearchDistributed(season_id=S, distributed_by="mod", assigned=5, unassigned=1)


# ---------------------------------------------------------------- tasks and offers


def test_moderators_list_tasks_and_the_same_task_again_changes_nothing():
    state = given(RESEARCH).when(add("t-a", 6)).then(added("t-a", 6))
    assert state.tasks["t-a"].effort_hours == 6 and state.tasks["t-a"].title == "Задача t-a"
    given(RESEARCH, added("t-a", 6)).when(add("t-a", 6)).then()
    given(RESEARCH).when(add("t-a", 6, actor=ANNA)).refused(Forbidden, "moderator_only")


def test_a_task_is_removed_once_and_may_be_listed_again():
    removed = g.ResearchTaskRemoved(season_id=S, task_id="t-a", removed_by="mod")
    state = given(RESEARCH, added("t-a", 6)).when(RemoveTask(MOD, S, "open", "t-a")).then(removed)
    assert not state.tasks
    given(RESEARCH, added("t-a", 6), removed).when(RemoveTask(MOD, S, "open", "t-a")).then()
    given(RESEARCH).when(RemoveTask(MOD, S, "open", "t-x")).refused(NotFound, "research_task_not_found")
    given(RESEARCH, added("t-a", 6)).when(RemoveTask(ANNA, S, "open", "t-a")).refused(Forbidden, "moderator_only")
    state = given(RESEARCH, added("t-a", 6), removed).when(add("t-a", 8)).then(added("t-a", 8))
    assert state.tasks["t-a"].effort_hours == 8


def test_a_task_takes_one_to_five_hundred_hours_and_a_season_two_hundred_tasks():
    given(RESEARCH).when(add("t-a", 0)).refused(Invalid, "research_effort_out_of_range", min=1, max=500)
    given(RESEARCH).when(add("t-a", 501)).refused(Invalid, "research_effort_out_of_range")
    given(RESEARCH).when(add("t-a", 500)).then(added("t-a", 500))
    full = [added(f"t-{i}", 1) for i in range(g.MAX_RESEARCH_TASKS)]
    given(RESEARCH, *full).when(add("t-more", 1)).refused(Conflict, "research_too_many_tasks", limit=200)


def test_members_of_main_offer_hours_and_a_new_offer_replaces_theirs():
    state = given(RESEARCH).when(offer(ANNA, 10)).then(offered("anna", 10))
    assert state.offers == {"anna": 10}
    state = given(RESEARCH, offered("anna", 10)).when(offer(ANNA, 4)).then(offered("anna", 4))
    assert state.offers == {"anna": 4}
    given(RESEARCH, offered("anna", 10)).when(offer(ANNA, 10)).then()
    given(RESEARCH).when(offer(ANNA, 10, in_main=False)).refused(Forbidden, "calendar_members_only")
    given(RESEARCH).when(offer(ANNA, 0)).refused(Invalid, "research_hours_out_of_range", min=1, max=500)
    given(RESEARCH).when(offer(ANNA, 501)).refused(Invalid, "research_hours_out_of_range")


def test_an_offer_is_withdrawn_by_its_member_or_a_moderator_once():
    gone = g.ResearchOfferWithdrawn(season_id=S, member_id="anna", withdrawn_by="anna")
    state = given(RESEARCH, offered("anna", 10)).when(WithdrawOffer(ANNA, S, "open", "anna")).then(gone)
    assert state.offers == {}
    given(RESEARCH, offered("anna", 10), gone).when(WithdrawOffer(ANNA, S, "open", "anna")).then()
    given(RESEARCH, offered("anna", 10)).when(WithdrawOffer(BORIS, S, "open", "anna")).refused(
        Forbidden, "own_offer_only")
    given(RESEARCH, offered("anna", 10)).when(WithdrawOffer(MOD, S, "open", "anna")).then(
        g.ResearchOfferWithdrawn(season_id=S, member_id="anna", withdrawn_by="mod"))


@pytest.mark.parametrize(("phase", "error", "code"), [
    (None, NotFound, "season_not_found"), ("closed", Conflict, "season_closed"),
    ("results_published", Conflict, "season_closed"),
])
def test_the_workload_changes_only_while_the_season_is_planned_or_open(phase, error, code):
    for command in (add("t-a", 6, phase=phase), offer(ANNA, 10, phase=phase), distribute_(phase=phase),
                    RemoveTask(MOD, S, phase, "t-a"), WithdrawOffer(ANNA, S, phase, "anna"),
                    ReopenDistribution(MOD, S, phase)):
        given(RESEARCH, *LISTED).when(command).refused(error, code)
    given(RESEARCH).when(add("t-a", 6, phase="planning")).then(added("t-a", 6))


# ---------------------------------------------------------------- the distribution


def test_a_distribution_gives_each_task_to_the_volunteer_with_the_largest_share_left_and_says_why():
    state = given(RESEARCH, *LISTED).when(distribute_()).then(*DISTRIBUTED, DONE)
    assert state.distributed and set(state.assignments) == {"t-a", "t-b", "t-c", "t-d", "t-e"}
    assert set(state.unassigned) == {"t-z"}
    hours: dict[str, int] = {}
    for a in state.assignments.values():
        hours[a.member_id] = hours.get(a.member_id, 0) + a.effort_hours
    assert hours == {"anna": 9, "boris": 4, "vera": 5}


def test_a_task_only_one_volunteer_has_the_hours_for_says_so():
    history = (added("t-a", 8), added("t-b", 5), offered("anna", 10), offered("boris", 6))
    given(RESEARCH, *history).when(distribute_()).then(
        assigned("t-a", "anna", 8, only(10, 10)), assigned("t-b", "boris", 5, only(6, 6)),
        g.ResearchDistributed(season_id=S, distributed_by="mod", assigned=2, unassigned=0))


def test_without_offers_every_task_is_left_unassigned_and_without_tasks_there_is_nothing_to_distribute():
    given(RESEARCH, added("t-a", 8), added("t-b", 5)).when(distribute_()).then(
        unassigned("t-a", 8, 0), unassigned("t-b", 5, 0),
        g.ResearchDistributed(season_id=S, distributed_by="mod", assigned=0, unassigned=2))
    given(RESEARCH, offered("anna", 10)).when(distribute_()).refused(Conflict, "research_no_tasks")
    given(RESEARCH, *LISTED).when(distribute_(ANNA)).refused(Forbidden, "moderator_only")


def test_a_distribution_is_closed_a_second_one_changes_nothing_and_nothing_changes_until_it_is_reopened():
    history = (*LISTED, *DISTRIBUTED, DONE)
    given(RESEARCH, *history).when(distribute_()).then()
    for command in (add("t-new", 3), RemoveTask(MOD, S, "open", "t-a"), offer(ANNA, 20), offer(Actor(id="gleb"), 5),
                    WithdrawOffer(ANNA, S, "open", "anna")):
        given(RESEARCH, *history).when(command).refused(Conflict, "research_distributed", season_id=S)
    reopened = g.ResearchDistributionReopened(season_id=S, reopened_by="mod")
    state = given(RESEARCH, *history).when(ReopenDistribution(MOD, S, "open")).then(reopened)
    assert not state.distributed and not state.assignments and not state.unassigned
    assert state.offers == {"anna": 12, "boris": 6, "vera": 6} and len(state.tasks) == 6
    given(RESEARCH, *history).when(ReopenDistribution(ANNA, S, "open")).refused(Forbidden, "moderator_only")
    given(RESEARCH, *LISTED).when(ReopenDistribution(MOD, S, "open")).then()  # nothing to reopen
    # reopened, the research changes and is distributed anew: t-z goes to gleb now
    again = given(RESEARCH, *history, reopened).when(offer(Actor(id="gleb"), 30)).then(offered("gleb", 30))
    events = RESEARCH.decide(distribute_(), again)
    assert events[0] == assigned("t-z", "gleb", 30, only(30, 30)) and len(events) == 7
    assert events[-1] == g.ResearchDistributed(season_id=S, distributed_by="mod", assigned=6, unassigned=0)


# ---------------------------------------------------------------- the contracts


@pytest.mark.parametrize("fields", [
    {"title": ""}, {"title": "x" * 201}, {"title": "a\nb"}, {"effort_hours": 0}, {"effort_hours": 501},
    {"season_id": "2027 spring"},
])
def test_a_task_is_refused_at_the_edge(fields):
    with pytest.raises(ValidationError):
        g.AddResearchTask(**{"season_id": S, "title": "Опрос", "effort_hours": 6, **fields})


def test_an_offer_is_refused_at_the_edge_and_an_assignment_keeps_its_reason():
    for hours in (0, -1, 501):
        with pytest.raises(ValidationError):
            g.OfferResearchHours(season_id=S, hours=hours)
    event = DISTRIBUTED[1]
    assert g.ResearchAssigned.model_validate_json(event.model_dump_json()) == event
    assert RESEARCH.events == g.RESEARCH_EVENTS and RESEARCH.subject(S) == f"hr.evt.calendar.research.{S}"


# ---------------------------------------------------------------- distribute: properties

TASKS = st.dictionaries(st.from_regex(r"t-[a-z0-9]{1,4}", fullmatch=True), st.integers(min_value=1, max_value=40),
                        max_size=25)
OFFERS = st.dictionaries(st.from_regex(r"m-[a-z0-9]{1,4}", fullmatch=True), st.integers(min_value=1, max_value=60),
                         max_size=10)


@settings(max_examples=200, deadline=None)
@for_all(tasks=TASKS, offers=OFFERS)
def test_nobody_gets_more_hours_than_offered_and_every_task_is_decided_once(tasks, offers):
    result = distribute(tasks, offers)
    loads = result.loads()
    assert all(loads[m] <= offers[m] for m in loads)
    decided = [a.task_id for a in result.assigned] + [u.task_id for u in result.unassigned]
    assert sorted(decided) == sorted(tasks)  # each task once: assigned or left unassigned
    for a in result.assigned:
        assert a.effort_hours == tasks[a.task_id]
        assert a.reason.code in g.ASSIGNED_REASONS
    for u in result.unassigned:
        # a task left over fits nobody's hours left, even at the end
        assert all(offers[m] - loads.get(m, 0) < u.effort_hours for m in offers)
        assert u.reason.code in g.UNASSIGNED_REASONS
        assert u.reason.params["most_hours_left"] < u.effort_hours
    # largest task first
    efforts = [a.effort_hours for a in result.assigned]
    assert efforts == sorted(efforts, reverse=True)


@settings(max_examples=200, deadline=None)
@for_all(tasks=TASKS, offers=OFFERS, order=st.randoms(use_true_random=False))
def test_the_same_tasks_and_offers_give_the_same_distribution_whatever_their_order(tasks, offers, order):
    shuffled_tasks, shuffled_offers = list(tasks.items()), list(offers.items())
    order.shuffle(shuffled_tasks)
    order.shuffle(shuffled_offers)
    assert distribute(dict(shuffled_tasks), dict(shuffled_offers)) == distribute(tasks, offers)


@settings(max_examples=200, deadline=None)
@for_all(tasks=TASKS, offers=OFFERS)
def test_each_reason_tells_the_truth_about_the_moment_the_task_was_given(tasks, offers):
    """Replayed in order: the hours the volunteer had left, their offer, how many could take the task, and
    that nobody who could had a larger share of their offer left."""
    load = dict.fromkeys(offers, 0)
    for a in distribute(tasks, offers).assigned:
        could = [m for m in offers if offers[m] - load[m] >= a.effort_hours]
        left = offers[a.member_id] - load[a.member_id]
        assert a.reason.params == {"hours_left_before": left, "offered_hours": offers[a.member_id],
                                   "candidates": len(could)}
        assert a.reason.code == ("only_one_fits" if len(could) == 1 else "largest_share_left")
        share = Fraction(left, offers[a.member_id])
        assert all(Fraction(offers[m] - load[m], offers[m]) <= share for m in could)
        load[a.member_id] += a.effort_hours


# ---------------------------------------------------------------- distribute against round-robin


def round_robin(tasks: dict[str, int], offers: dict[str, int]) -> dict[str, int]:
    """The naive way: the tasks by id, each to the next volunteer in turn (by id) who has the hours left;
    the loads it leaves."""
    load = dict.fromkeys(offers, 0)
    members, turn = sorted(offers), 0
    for _, effort in sorted(tasks.items()):
        for k in range(len(members)):
            m = members[(turn + k) % len(members)]
            if offers[m] - load[m] >= effort:
                load[m] += effort
                turn = (turn + k + 1) % len(members)
                break
    return load


def spread(loads: dict[str, int], offers: dict[str, int]) -> Fraction:
    """The most loaded volunteer's share of their offer, less the least loaded one's (0: perfectly even)."""
    shares = [Fraction(loads.get(m, 0), hours) for m, hours in offers.items()]
    return max(shares) - min(shares) if shares else Fraction(0)


def test_on_random_inputs_the_distribution_is_more_even_than_round_robin():
    """300 random seasons (seeded): the spread is no worse than round-robin's on nearly all of them and
    far better on the whole. Not on every one: largest-first is a heuristic (see the next test)."""
    rng = random.Random(13)
    ours, theirs, no_worse = [], [], 0
    for _ in range(300):
        offers = {f"m-{i:02d}": rng.randint(1, 40) for i in range(rng.randint(1, 8))}
        tasks = {f"t-{i:02d}": rng.randint(1, 20) for i in range(rng.randint(1, 15))}
        ours.append(spread(distribute(tasks, offers).loads(), offers))
        theirs.append(spread(round_robin(tasks, offers), offers))
        no_worse += ours[-1] <= theirs[-1]
    assert no_worse >= 0.85 * 300
    assert sum(ours) <= 0.75 * sum(theirs)


def test_largest_first_is_not_more_even_than_round_robin_on_every_input():
    """Where it loses: 20 hours first to boris (the most hours left), then 11 fill anna's offer, and 9 go to
    boris again (29 of 35); in turn, anna takes 9 of 11 and boris 31 of 35 — closer."""
    tasks, offers = {"t-1": 9, "t-2": 11, "t-3": 20}, {"anna": 11, "boris": 35}
    assert distribute(tasks, offers).loads() == {"anna": 11, "boris": 29}
    assert round_robin(tasks, offers) == {"anna": 9, "boris": 31}
    assert spread({"anna": 11, "boris": 29}, offers) > spread({"anna": 9, "boris": 31}, offers)


# ---------------------------------------------------------------- the decider: a property

MEMBERS = [Actor(id=f"m-{i}") for i in range(4)]
COMMAND = st.one_of(
    st.builds(lambda i, e: add(f"t-{i}", e), st.integers(0, 7), st.integers(1, 20)),
    st.builds(lambda i: RemoveTask(MOD, S, "open", f"t-{i}"), st.integers(0, 7)),
    st.builds(lambda m, h: offer(m, h), st.sampled_from(MEMBERS), st.integers(1, 30)),
    st.builds(lambda m: WithdrawOffer(m, S, "open", m.id), st.sampled_from(MEMBERS)),
    st.just(distribute_()),
    st.just(ReopenDistribution(MOD, S, "open")),
)


@settings(max_examples=200, deadline=None)
@for_all(commands=st.lists(COMMAND, min_size=5, max_size=40))
def test_no_sequence_of_commands_gives_anyone_more_than_they_offered_or_a_task_twice(commands):
    state = Research()
    for command in commands:
        try:
            events = RESEARCH.decide(command, state)
        except DomainError:
            continue
        given_tasks = [e.task_id for e in events if isinstance(e, g.ResearchAssigned | g.ResearchLeftUnassigned)]
        assert len(given_tasks) == len(set(given_tasks))
        state = RESEARCH.fold(events, state)
        if not state.distributed:
            assert not state.assignments and not state.unassigned
            continue
        # distributed: every task decided once, within the offers, as distribute decides it
        assert set(state.assignments) | set(state.unassigned) == set(state.tasks)
        assert not set(state.assignments) & set(state.unassigned)
        hours: dict[str, int] = {}
        for a in state.assignments.values():
            hours[a.member_id] = hours.get(a.member_id, 0) + a.effort_hours
        assert all(hours[m] <= state.offers[m] for m in hours)
        assert hours == distribute({t.task_id: t.effort_hours for t in state.tasks.values()}, state.offers).loads()
        assert RESEARCH.decide(distribute_(), state) == []
