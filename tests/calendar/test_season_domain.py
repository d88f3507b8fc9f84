"""The season decider, as someone trying to break it would: every transition in the wrong phase and by
the wrong role, requests and their support, the moderators' outcomes, and the grid's conflicts to the
minute (given events / when a command / then events or a refusal)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from libs.contracts import calendar as c
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.kit.decider import given
from services.calendar.domain import (
    SEASON,
    Accept,
    AddEvent,
    Ask,
    CancelEvent,
    ChangeEvent,
    Close,
    Decline,
    Merge,
    Open,
    PublishResults,
    RemoveEvent,
    StartPlanning,
    Support,
)

S = "2027-spring"
YEKT = ZoneInfo("Asia/Yekaterinburg")
MOD, ADMIN = Actor(id="mod", roles=("moderator",)), Actor(id="root", roles=("admin",))
ANNA, BORIS, VERA = Actor(id="anna", roles=("member",)), Actor(id="boris", roles=("member",)), Actor(id="vera")
ONE_MINUTE = timedelta(minutes=1)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment of 2027 on the community's clock, in UTC."""
    return datetime(2027, month, day, hour, minute, tzinfo=YEKT).astimezone(UTC)


def plan(start: datetime | None = None, minutes: int = 90, **kw) -> c.EventPlan:
    start = start or at(3, 10, 18)
    fields = {"kind": "online_meeting", "title": "Обратная связь без оценок", "starts_at": start,
              "ends_at": start + timedelta(minutes=minutes), "call_link": "https://meet.example/r-1",
              "capacity": 10, "host_id": "boris", **kw}
    return c.EventPlan(**fields)


started = c.SeasonPlanningStarted(season_id=S, title="Весна 2027", starts_on=date(2027, 2, 15),
                                  ends_on=date(2027, 7, 1), time_zone="Asia/Yekaterinburg", started_by="mod")


def added(event_id: str = "e-1", p: c.EventPlan | None = None) -> c.GridEventAdded:
    return c.GridEventAdded(season_id=S, event_id=event_id, plan=p or plan(), added_by="mod")


def scheduled(event_id: str = "e-1", p: c.EventPlan | None = None) -> c.EventScheduled:
    return c.EventScheduled(season_id=S, event_id=event_id, plan=p or plan())


opened = c.SeasonOpened(season_id=S, opened_by="mod")
closed = c.SeasonClosed(season_id=S, closed_by="mod", starts_on=date(2027, 2, 15), ends_on=date(2027, 7, 1),
                        time_zone="Asia/Yekaterinburg")
results = c.SeasonResultsPublished(season_id=S, title="Весна 2027", published_by="mod")
requested = c.EventRequested(season_id=S, request_id="r-1", member_id="anna", topic="Игра про найм", format="online",
                             experience="Провести интервью", group_size=6, preferred_dates=(date(2027, 3, 10),))
accepted = c.EventRequestAccepted(season_id=S, request_id="r-1", accepted_by="mod")

#: the history of a season in each phase
HISTORY: dict[str, tuple[c.Event, ...]] = {
    "none": (),
    "planning": (started,),
    "open": (started, added(), opened, scheduled()),
    "closed": (started, added(), opened, scheduled(), closed),
    "results_published": (started, added(), opened, scheduled(), closed, results),
}


def ask(actor: Actor = ANNA, in_main: bool = True, request_id: str = "r-1") -> Ask:
    return Ask(actor, S, request_id, in_main, "Игра про найм", "online", "Провести интервью", 6,
               (date(2027, 3, 10),))


def add(p: c.EventPlan | None = None, event_id: str = "e-2", actor: Actor = MOD) -> AddEvent:
    return AddEvent(actor, S, event_id, p or plan())


# ---------------------------------------------------------------- phases


def test_a_season_goes_through_every_phase_once_and_in_order():
    state = given(SEASON).when(StartPlanning(ADMIN, S, "Весна 2027")).then(
        c.SeasonPlanningStarted(season_id=S, title="Весна 2027", starts_on=date(2027, 2, 15),
                                ends_on=date(2027, 7, 1), time_zone="Asia/Yekaterinburg", started_by="root"))
    assert state.phase == "planning"
    state = given(SEASON, started, added()).when(Open(MOD, S)).then(opened, scheduled())
    assert state.phase == "open" and state.events["e-1"].status == "scheduled"
    assert given(SEASON, *HISTORY["open"]).when(Close(MOD, S)).then(closed).phase == "closed"
    report = c.SeasonReport(places_taken=7, participants=5)
    assert given(SEASON, *HISTORY["closed"]).when(PublishResults(ADMIN, S, report)).then(
        c.SeasonResultsPublished(season_id=S, title="Весна 2027", published_by="root",
                                 report=report)).phase == "results_published"


def test_the_autumn_defaults_and_dates_of_ones_own():
    given(SEASON).when(StartPlanning(MOD, "2027-autumn", "Осень")).then(
        c.SeasonPlanningStarted(season_id="2027-autumn", title="Осень", starts_on=date(2027, 8, 15),
                                ends_on=date(2027, 12, 15), time_zone="Asia/Yekaterinburg", started_by="mod"))
    given(SEASON).when(StartPlanning(MOD, "club", "Клуб", date(2027, 1, 10), date(2027, 1, 20), "Europe/Moscow")).then(
        c.SeasonPlanningStarted(season_id="club", title="Клуб", starts_on=date(2027, 1, 10),
                                ends_on=date(2027, 1, 20), time_zone="Europe/Moscow", started_by="mod"))


def test_dates_are_needed_when_the_name_gives_none_and_may_not_run_backwards():
    given(SEASON).when(StartPlanning(MOD, "club", "Клуб")).refused(Invalid, "season_dates_required")
    given(SEASON).when(StartPlanning(MOD, "club", "Клуб", date(2027, 3, 1), date(2027, 2, 1))).refused(
        Invalid, "season_ends_before_start")


#: each transition and the one phase it leaves: every other phase refuses it, naming itself
TRANSITIONS = [(Open(MOD, S), "planning"), (Close(MOD, S), "open"), (PublishResults(MOD, S), "closed")]
WRONG_PHASE = [
    ("planning", StartPlanning(MOD, S, "again"), Conflict, "season_exists"),
    ("open", StartPlanning(MOD, S, "again"), Conflict, "season_exists"),
    *((phase, command, NotFound, "season_not_found") if phase == "none"
      else (phase, command, Conflict, f"season_not_{leaves}")
      for command, leaves in TRANSITIONS for phase in HISTORY if phase != leaves),
]


@pytest.mark.parametrize("phase,command,error,code", WRONG_PHASE,
                         ids=[f"{type(w[1]).__name__}-in-{w[0]}" for w in WRONG_PHASE])
def test_every_transition_in_the_wrong_phase_is_refused_naming_the_phase(phase, command, error, code):
    refusal = given(SEASON, *HISTORY[phase]).when(command).refused(error, code)
    if error is Conflict:
        assert refusal.params["phase"] == phase


MODERATORS_ONLY = [
    ("none", StartPlanning(ANNA, S, "Весна")),
    ("planning", Open(ANNA, S)),
    ("open", Close(ANNA, S)),
    ("closed", PublishResults(ANNA, S)),
    ("planning", add(actor=ANNA)),
    ("planning", ChangeEvent(ANNA, S, "e-1", plan(capacity=20))),
    ("planning", RemoveEvent(ANNA, S, "e-1")),
    ("open", CancelEvent(ANNA, S, "e-1")),
]


@pytest.mark.parametrize("phase,command", MODERATORS_ONLY, ids=[type(m[1]).__name__ for m in MODERATORS_ONLY])
def test_only_moderators_and_admins_move_a_season_and_build_its_grid(phase, command):
    given(SEASON, *HISTORY[phase], requested).when(command).refused(Forbidden, "moderator_only")


@pytest.mark.parametrize("command", [Accept(ANNA, S, "r-1"), Merge(BORIS, S, "r-1", "r-2"),
                                     Decline(VERA, S, "r-1", "нет")], ids=lambda c: type(c).__name__)
def test_members_do_not_decide_requests(command):
    given(SEASON, started, requested).when(command).refused(Forbidden, "moderator_only")


def test_publishing_an_empty_grid_is_refused():
    given(SEASON, started).when(Open(MOD, S)).refused(Conflict, "season_grid_empty")
    given(SEASON, started, added(), c.GridEventRemoved(season_id=S, event_id="e-1", removed_by="mod")).when(
        Open(MOD, S)).refused(Conflict, "season_grid_empty")


# ---------------------------------------------------------------- requests


def test_a_member_of_main_asks_for_an_event_while_the_season_is_planned():
    state = given(SEASON, started).when(ask()).then(requested)
    assert state.requests["r-1"].outcome == "pending"
    given(SEASON, started, requested).when(ask()).then()  # the same request again


def test_a_request_is_refused_outside_main_and_outside_planning():
    given(SEASON, started).when(ask(in_main=False)).refused(Forbidden, "calendar_members_only")
    given(SEASON).when(ask()).refused(NotFound, "season_not_found")
    for phase in ("open", "closed", "results_published"):
        given(SEASON, *HISTORY[phase]).when(ask()).refused(Conflict, "season_not_planning", phase=phase)


def test_one_vote_each_and_never_for_ones_own_request():
    supported = c.EventRequestSupported(season_id=S, request_id="r-1", member_id="boris")
    state = given(SEASON, started, requested).when(Support(BORIS, S, "r-1", True)).then(supported)
    assert state.requests["r-1"].supporters == {"boris"}
    state = given(SEASON, started, requested, supported).when(Support(BORIS, S, "r-1", True)).then()
    assert state.requests["r-1"].supporters == {"boris"}
    given(SEASON, started, requested).when(Support(ANNA, S, "r-1", True)).refused(Forbidden, "own_request_support")
    given(SEASON, started, requested).when(Support(VERA, S, "r-1", False)).refused(Forbidden, "calendar_members_only")
    given(SEASON, started, requested).when(Support(BORIS, S, "r-9", True)).refused(NotFound, "request_not_found")


def test_support_ends_with_planning_and_with_a_decline_or_a_merge():
    declined = c.EventRequestDeclined(season_id=S, request_id="r-1", declined_by="mod", reason="Уже было")
    given(SEASON, started, requested, declined).when(Support(BORIS, S, "r-1", True)).refused(
        Conflict, "request_closed", outcome="declined")
    given(SEASON, started, requested, accepted).when(Support(BORIS, S, "r-1", True)).then(
        c.EventRequestSupported(season_id=S, request_id="r-1", member_id="boris"))
    given(SEASON, *HISTORY["open"], requested).when(Support(BORIS, S, "r-1", True)).refused(
        Conflict, "season_not_planning", phase="open")


def test_moderators_accept_merge_or_decline_each_request_once():
    other = requested.model_copy(update={"request_id": "r-2", "member_id": "boris"})
    given(SEASON, started, requested).when(Accept(MOD, S, "r-1")).then(accepted)
    merged = c.EventRequestMerged(season_id=S, request_id="r-2", into_request_id="r-1", merged_by="mod")
    state = given(SEASON, started, requested, accepted, other).when(Merge(MOD, S, "r-2", "r-1")).then(merged)
    assert state.requests["r-2"].into_request_id == "r-1"
    declined = c.EventRequestDeclined(season_id=S, request_id="r-1", declined_by="mod", reason="Уже было")
    given(SEASON, started, requested).when(Decline(MOD, S, "r-1", "Уже было")).then(declined)
    for history, decided in ((accepted,), "accepted"), ((declined,), "declined"), ((accepted, other, merged), "merged"):
        request_id = "r-2" if decided == "merged" else "r-1"
        for again in (Accept(MOD, S, request_id), Decline(MOD, S, request_id, "нет"),
                      Merge(MOD, S, request_id, "r-3")):
            given(SEASON, started, requested, *history).when(again).refused(
                Conflict, "request_already_decided", outcome=decided)


def test_a_merge_goes_only_into_another_accepted_request():
    other = requested.model_copy(update={"request_id": "r-2", "member_id": "boris"})
    given(SEASON, started, requested, other).when(Merge(MOD, S, "r-2", "r-1")).refused(
        Conflict, "merge_target_not_accepted", outcome="pending")
    given(SEASON, started, requested).when(Merge(MOD, S, "r-1", "r-1")).refused(Invalid, "request_merged_into_itself")
    given(SEASON, started, requested).when(Merge(MOD, S, "r-1", "r-9")).refused(NotFound, "request_not_found")


def test_a_decline_says_why_and_decisions_end_with_planning():
    given(SEASON, started, requested).when(Decline(MOD, S, "r-1", "  ")).refused(Invalid, "decline_reason_required")
    given(SEASON, *HISTORY["open"], requested).when(Accept(MOD, S, "r-1")).refused(Conflict, "season_not_planning")
    with pytest.raises(ValidationError):
        c.DeclineEventRequest(season_id=S, request_id="r-1", reason="")


# ---------------------------------------------------------------- the grid


def test_a_moderator_drafts_an_event_of_the_grid_and_the_same_addition_again_changes_nothing():
    state = given(SEASON, started).when(add(event_id="e-1")).then(added())
    assert state.events["e-1"].status == "draft"
    given(SEASON, started, added()).when(add(event_id="e-1")).then()


def test_a_host_booked_twice_is_refused_to_the_minute_and_touching_events_are_not():
    first = plan(at(3, 10, 18), 90)  # 18:00–19:30
    later = at(3, 10, 19, 30)
    given(SEASON, started, added("e-1", first)).when(add(plan(later - ONE_MINUTE))).refused(
        Conflict, "host_double_booked", host_id="boris", event_id="e-1")
    given(SEASON, started, added("e-1", first)).when(add(plan(later))).then(added("e-2", plan(later)))
    given(SEASON, started, added("e-1", first)).when(add(plan(at(3, 10, 16, 31), 90))).refused(
        Conflict, "host_double_booked")
    given(SEASON, started, added("e-1", first)).when(add(plan(at(3, 10, 16, 30), 90))).then(
        added("e-2", plan(at(3, 10, 16, 30), 90)))
    inside = plan(at(3, 10, 18, 30), 10)
    given(SEASON, started, added("e-1", first)).when(add(inside)).refused(Conflict, "host_double_booked")


def test_a_working_group_booked_twice_is_refused_and_other_hosts_and_groups_may_overlap():
    first = plan(at(3, 10, 18), 90, group_id="g-1")
    overlapping = plan(at(3, 10, 19, 29), host_id="vera", group_id="g-1")
    given(SEASON, started, added("e-1", first)).when(add(overlapping)).refused(
        Conflict, "group_double_booked", group_id="g-1", event_id="e-1")
    elsewhere = plan(at(3, 10, 19, 29), host_id="vera", group_id="g-2")
    given(SEASON, started, added("e-1", first)).when(add(elsewhere)).then(added("e-2", elsewhere))
    no_group = plan(at(3, 10, 19, 29), host_id="vera")
    given(SEASON, started, added("e-1", plan(at(3, 10, 18), 90))).when(add(no_group)).then(added("e-2", no_group))


def test_an_event_one_minute_outside_its_season_is_refused_and_its_edges_are_inside():
    first_moment, last_moment = at(2, 15), at(7, 2)  # 15 February 00:00 – 1 July 24:00 in Yekaterinburg
    assert first_moment == datetime(2027, 2, 14, 19, tzinfo=UTC)
    for p in (plan(first_moment - ONE_MINUTE, 60), plan(last_moment - timedelta(minutes=59), 60)):
        given(SEASON, started).when(add(p)).refused(Invalid, "event_outside_season", starts_on="2027-02-15",
                                                    ends_on="2027-07-01", time_zone="Asia/Yekaterinburg")
    for p in (plan(first_moment, 60), plan(last_moment - timedelta(minutes=60), 60)):
        given(SEASON, started).when(add(p)).then(added("e-2", p))


@pytest.mark.parametrize("p,error,code", [
    (plan(capacity=0), Invalid, "event_capacity_too_small"),
    (plan(minutes=0), Invalid, "event_ends_before_start"),
    (plan(minutes=-30), Invalid, "event_ends_before_start"),
    (plan(kind="game", call_link=None), Invalid, "game_needs_place"),
    (plan(kind="online_meeting", call_link=None, place="Офис на Ленина, 5"), Invalid, "online_meeting_needs_call_link"),
    (plan(answers=("r-1",)), Invalid, "request_not_accepted"),
    (plan(answers=("r-9",)), Invalid, "request_not_accepted"),
], ids=["capacity-0", "zero-length", "backwards", "game-without-place", "meeting-without-link", "pending-request",
        "unknown-request"])
def test_an_event_the_grid_cannot_hold_is_refused(p, error, code):
    given(SEASON, started, requested).when(add(p)).refused(error, code)


def test_a_game_with_a_place_research_with_neither_and_an_event_answering_an_accepted_request():
    for p in (plan(kind="game", call_link=None, place="Офис на Ленина, 5", capacity=40),
              plan(kind="research", call_link=None), plan(answers=("r-1",))):
        given(SEASON, started, requested, accepted).when(add(p)).then(added("e-2", p))


def test_a_change_is_checked_like_an_addition_against_the_others_but_not_against_itself():
    history = (started, added("e-1", plan(at(3, 10, 18))), added("e-2", plan(at(3, 11, 18))))
    moved = plan(at(3, 10, 18, 30))
    given(SEASON, *history).when(ChangeEvent(MOD, S, "e-2", moved)).refused(Conflict, "host_double_booked",
                                                                           event_id="e-1")
    later = plan(at(3, 10, 18, 30))
    given(SEASON, *history).when(ChangeEvent(MOD, S, "e-1", later)).then(
        c.GridEventChanged(season_id=S, event_id="e-1", plan=later, changed_by="mod"))
    given(SEASON, *history).when(ChangeEvent(MOD, S, "e-1", plan(at(3, 10, 18)))).then()
    given(SEASON, *history).when(ChangeEvent(MOD, S, "e-9", later)).refused(NotFound, "event_not_found")


def test_a_removed_draft_frees_its_time_and_is_not_published():
    removed = c.GridEventRemoved(season_id=S, event_id="e-1", removed_by="mod")
    given(SEASON, started, added()).when(RemoveEvent(MOD, S, "e-1")).then(removed)
    given(SEASON, started, added(), removed).when(RemoveEvent(MOD, S, "e-1")).then()
    given(SEASON, started, added(), removed).when(add()).then(added("e-2"))
    given(SEASON, started, added(), removed).when(ChangeEvent(MOD, S, "e-1", plan(capacity=5))).refused(
        Conflict, "event_removed")
    p2 = plan(at(3, 12, 18))
    given(SEASON, started, added(), removed, added("e-2", p2)).when(Open(MOD, S)).then(opened, scheduled("e-2", p2))


def test_publishing_the_grid_schedules_every_event_in_the_order_of_their_times():
    early, late = plan(at(2, 20, 10)), plan(at(6, 1, 10), host_id="vera")
    given(SEASON, started, added("e-late", late), added("e-early", early)).when(Open(MOD, S)).then(
        opened, scheduled("e-early", early), scheduled("e-late", late))


def test_after_publishing_a_change_or_a_cancellation_is_an_event_of_its_own():
    bigger = plan(capacity=20)
    changed = c.EventChanged(season_id=S, event_id="e-1", plan=bigger, revision=1, changed_by="mod")
    state = given(SEASON, *HISTORY["open"]).when(ChangeEvent(MOD, S, "e-1", bigger)).then(changed)
    assert state.events["e-1"].revision == 1
    cancelled = c.EventCancelled(season_id=S, event_id="e-1", revision=2, cancelled_by="mod", reason="Болезнь")
    state = given(SEASON, *HISTORY["open"], changed).when(CancelEvent(MOD, S, "e-1", "Болезнь")).then(cancelled)
    assert state.events["e-1"].status == "cancelled"
    given(SEASON, *HISTORY["open"], changed, cancelled).when(CancelEvent(MOD, S, "e-1")).then()
    given(SEASON, *HISTORY["open"], cancelled).when(ChangeEvent(MOD, S, "e-1", bigger)).refused(
        Conflict, "event_cancelled")


def test_a_cancelled_event_no_longer_books_its_host():
    cancelled = c.EventCancelled(season_id=S, event_id="e-1", revision=1, cancelled_by="mod")
    history = (started, added("e-1"), added("e-2", plan(at(3, 11, 18))), opened, scheduled("e-1"),
               scheduled("e-2", plan(at(3, 11, 18))))
    given(SEASON, *history).when(ChangeEvent(MOD, S, "e-2", plan())).refused(Conflict, "host_double_booked")
    given(SEASON, *history, cancelled).when(ChangeEvent(MOD, S, "e-2", plan())).then(
        c.EventChanged(season_id=S, event_id="e-2", plan=plan(), revision=1, changed_by="mod"))


@pytest.mark.parametrize("phase,command,code", [
    ("open", add(), "season_not_planning"),
    ("closed", add(), "season_not_planning"),
    ("open", RemoveEvent(MOD, S, "e-1"), "season_not_planning"),
    ("planning", CancelEvent(MOD, S, "e-1"), "season_not_open"),
    ("closed", CancelEvent(MOD, S, "e-1"), "season_not_open"),
    ("closed", ChangeEvent(MOD, S, "e-1", plan(capacity=20)), "season_not_open"),
    ("results_published", ChangeEvent(MOD, S, "e-1", plan(capacity=20)), "season_not_open"),
], ids=lambda v: v if isinstance(v, str) else type(v).__name__)
def test_the_grid_changes_only_in_its_phases(phase, command, code):
    history = HISTORY[phase] if phase != "planning" else (started, added())
    given(SEASON, *history).when(command).refused(Conflict, code, phase=phase)
