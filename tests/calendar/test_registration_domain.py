"""The registrations of one event: places up to the capacity, then a waitlist in the order of arrival,
promoted when a place frees (given events / when a command / then events or a refusal), and one
property over any sequence of registrations and cancellations."""

from __future__ import annotations

from hypothesis import given as for_all
from hypothesis import settings
from hypothesis import strategies as st

from libs.contracts import calendar as c
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.kit.decider import given
from services.calendar.domain import REGISTRATION, ApplyCapacity, EventFacts, Register, Registrations, Unregister

E = "e-1"
OPEN = EventFacts("scheduled", 10, "open")
MOD = Actor(id="mod", roles=("moderator",))


def member(i: int) -> str:
    return f"m{i:02d}"


def register(i: int | str, facts: EventFacts = OPEN, in_main: bool = True) -> Register:
    return Register(Actor(id=i if isinstance(i, str) else member(i)), E, facts, in_main)


def unregister(i: int, facts: EventFacts = OPEN, actor: Actor | None = None) -> Unregister:
    return Unregister(actor or Actor(id=member(i)), E, member(i), facts)


def registered(i: int) -> c.EventRegistered:
    return c.EventRegistered(event_id=E, member_id=member(i))


def waitlisted(i: int, position: int) -> c.RegistrationWaitlisted:
    return c.RegistrationWaitlisted(event_id=E, member_id=member(i), position=position)


def cancelled(i: int, waitlisted: bool = False, by: str | None = None) -> c.RegistrationCancelled:
    return c.RegistrationCancelled(event_id=E, member_id=member(i), waitlisted=waitlisted,
                                   cancelled_by=by or member(i))


def promoted(i: int) -> c.WaitlistPromoted:
    return c.WaitlistPromoted(event_id=E, member_id=member(i))


#: 10 places taken, 3 in line
FULL = (*(registered(i) for i in range(10)), waitlisted(10, 1), waitlisted(11, 2), waitlisted(12, 3))


def test_fifty_registrations_for_ten_places_fill_them_and_line_up_the_rest_in_order():
    history: list[c.Event] = []
    for i in range(50):
        expected = registered(i) if i < 10 else waitlisted(i, i - 9)
        given(REGISTRATION, *history).when(register(i)).then(expected)
        history.append(expected)
    state = REGISTRATION.fold(history)
    assert state.registered == tuple(member(i) for i in range(10))
    assert state.waitlist == tuple(member(i) for i in range(10, 50))
    assert state.position(member(10)) == 1 and state.position(member(49)) == 40 and state.position(member(0)) is None


def test_a_cancellation_promotes_exactly_the_first_in_line():
    state = given(REGISTRATION, *FULL).when(unregister(3)).then(cancelled(3), promoted(10))
    assert len(state.registered) == 10 and state.registered[-1] == member(10)
    assert state.waitlist == (member(11), member(12))
    assert member(3) not in state.registered


def test_leaving_the_line_frees_no_place_and_moves_the_others_up():
    state = given(REGISTRATION, *FULL).when(unregister(11)).then(cancelled(11, waitlisted=True))
    assert state.waitlist == (member(10), member(12)) and state.position(member(12)) == 2
    assert len(state.registered) == 10


def test_the_same_registration_twice_changes_nothing_and_so_does_a_second_cancellation():
    given(REGISTRATION, registered(1)).when(register(1)).then()
    given(REGISTRATION, *FULL).when(register(11)).then()
    given(REGISTRATION, *FULL, cancelled(3), promoted(10)).when(unregister(3)).then()
    given(REGISTRATION).when(unregister(5)).then()


def test_a_cancellation_with_nobody_in_line_just_frees_the_place():
    state = given(REGISTRATION, registered(1), registered(2)).when(unregister(1)).then(cancelled(1))
    assert state.registered == (member(2),)
    given(REGISTRATION, registered(2), cancelled(1)).when(register(1)).then(registered(1))


def test_registering_is_for_members_of_main_in_an_open_season_for_a_scheduled_event():
    given(REGISTRATION).when(register(1, in_main=False)).refused(Forbidden, "calendar_members_only")
    given(REGISTRATION).when(register(1, EventFacts(None, 0, "open"))).refused(NotFound, "event_not_found")
    given(REGISTRATION).when(register(1, EventFacts("draft", 10, "planning"))).refused(NotFound, "event_not_found")
    given(REGISTRATION).when(register(1, EventFacts("cancelled", 10, "open"))).refused(Conflict, "event_cancelled")
    for phase in ("closed", "results_published"):
        given(REGISTRATION, registered(2)).when(register(1, EventFacts("scheduled", 10, phase))).refused(
            Conflict, "season_not_open", phase=phase)
        given(REGISTRATION, registered(2)).when(unregister(2, EventFacts("scheduled", 10, phase))).refused(
            Conflict, "season_not_open", phase=phase)


def test_a_member_cancels_only_their_own_place_and_a_moderator_anyones():
    given(REGISTRATION, *FULL).when(unregister(3, actor=Actor(id=member(4)))).refused(
        Forbidden, "own_registration_only")
    given(REGISTRATION, *FULL).when(unregister(3, actor=MOD)).then(cancelled(3, by="mod"), promoted(10))


def test_leaving_a_cancelled_event_promotes_nobody():
    given(REGISTRATION, *FULL).when(unregister(3, EventFacts("cancelled", 10, "open"))).then(cancelled(3))


def test_a_larger_capacity_promotes_as_many_as_now_fit_in_order():
    state = given(REGISTRATION, *FULL).when(ApplyCapacity(E, 12)).then(promoted(10), promoted(11))
    assert state.waitlist == (member(12),)
    given(REGISTRATION, *FULL).when(ApplyCapacity(E, 50)).then(promoted(10), promoted(11), promoted(12))
    given(REGISTRATION, *FULL).when(ApplyCapacity(E, 10)).then()


def test_a_smaller_capacity_takes_no_place_away_and_a_cancellation_then_promotes_nobody():
    given(REGISTRATION, *FULL).when(ApplyCapacity(E, 5)).then()
    smaller = EventFacts("scheduled", 8, "open")
    given(REGISTRATION, *FULL).when(unregister(3, smaller)).then(cancelled(3))
    given(REGISTRATION, *FULL).when(register(20, smaller)).then(waitlisted(20, 4))


# ---------------------------------------------------------------- the property

MEMBERS = [member(i) for i in range(8)]
STEPS = st.lists(st.tuples(st.sampled_from(["register", "cancel"]), st.sampled_from(MEMBERS)), max_size=60)


@settings(max_examples=300, deadline=None)
@for_all(capacity=st.integers(min_value=1, max_value=5), steps=STEPS)
def test_no_sequence_of_registrations_and_cancellations_overfills_an_event_or_jumps_the_line(capacity, steps):
    facts = EventFacts("scheduled", capacity, "open")
    state = Registrations()
    arrivals: list[str] = []  # when each member last joined the line
    places: list[str] = []  # a model of the rule, in plain lists
    line: list[str] = []
    for op, who in steps:
        command = Register(Actor(id=who), E, facts, True) if op == "register" else Unregister(
            Actor(id=who), E, who, facts)
        if op == "register" and who not in places + line:
            (places if len(places) < capacity else line).append(who)
        elif op == "cancel" and who in line:
            line.remove(who)
        elif op == "cancel" and who in places:
            places.remove(who)
            places.extend(line[:1])
            del line[:1]
        events = REGISTRATION.decide(command, state)
        for e in events:
            if isinstance(e, c.RegistrationWaitlisted):
                arrivals.append(e.member_id)
        state = REGISTRATION.fold(events, state)
        assert len(state.registered) <= capacity
        assert not set(state.registered) & set(state.waitlist)
        assert len(set(state.registered)) == len(state.registered)
        assert len(set(state.waitlist)) == len(state.waitlist)
        # nobody waits while a place is free, and the line keeps the order of arrival
        assert not state.waitlist or len(state.registered) == capacity
        in_line = [m for i, m in enumerate(arrivals) if m in state.waitlist and m not in arrivals[i + 1:]]
        assert list(state.waitlist) == in_line
        # and the first in line, no one else, has the place that freed
        assert (list(state.registered), list(state.waitlist)) == (places, line)


def attend(present: tuple[str, ...], actor: Actor = MOD, facts: EventFacts = OPEN, host: bool = False,
           begun: bool = True):
    from services.calendar.domain import Attend
    return Attend(actor, E, present, facts, host, begun)


def test_attendance_is_recorded_among_the_registered_by_a_moderator_or_the_host_once_the_event_began():
    history = (registered(1), registered(2), waitlisted(3, 1))
    state = given(REGISTRATION, *history).when(attend((member(2), member(1), member(1)))).then(
        c.AttendanceRecorded(event_id=E, present=(member(1), member(2)), recorded_by="mod"))
    assert state.present == (member(1), member(2))
    # the same list again changes nothing; a new list replaces it
    given(REGISTRATION, *history, c.AttendanceRecorded(event_id=E, present=(member(1),), recorded_by="mod")).when(
        attend((member(1),))).then()
    given(REGISTRATION, *history).when(attend((member(2),), actor=Actor(id="host"), host=True)).then(
        c.AttendanceRecorded(event_id=E, present=(member(2),), recorded_by="host"))
    given(REGISTRATION, *history).when(attend((member(1),), actor=Actor(id=member(1)))).refused(
        Forbidden, "host_or_moderator_only")
    given(REGISTRATION, *history).when(attend((member(3),))).refused(Invalid, "attendee_not_registered")
    given(REGISTRATION, *history).when(attend((member(1),), begun=False)).refused(Conflict, "event_not_begun")
    given(REGISTRATION, *history).when(attend((member(1),), facts=EventFacts("cancelled", 10, "open"))).refused(
        Conflict, "event_cancelled")
    given(REGISTRATION, *history).when(attend((member(1),), facts=EventFacts(None, 0, "open"))).refused(
        NotFound, "event_not_found")
