"""Deciders: the pure half of every aggregate (DESIGN.md §1, fmodel-style).

A decider is declared in its service's ``domain`` module: the initial state,
``evolve(state, event) -> state`` and ``decide(command, state) -> [events]``,
where a command is an object carrying everything the decision needs (who
asks, when, any value the handler chose beforehand). Nothing here does I/O,
so ``domain`` may import it; the runtime (libs/kit/service.py) loads, decides
and appends with it, and ``given(...).when(...).then(...)`` drives every
decider test, refusals included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from libs.contracts.base import Event
from libs.contracts.errors import DomainError
from libs.contracts.subjects import event_subject

C = TypeVar("C")
S = TypeVar("S")


@dataclass(frozen=True)
class Decider(Generic[C, S]):
    service: str
    #: the aggregate's name, the third token of its subjects: hr.evt.<service>.<name>.<id>
    name: str
    initial: Callable[[], S]
    evolve: Callable[[S, Event], S]
    decide: Callable[[C, S], list[Event]]
    #: the event types its stream carries (documented per channel in docs/asyncapi.json)
    events: tuple[type[Event], ...] = ()

    def subject(self, aggregate_id: str) -> str:
        return event_subject(self.service, self.name, aggregate_id)

    def fold(self, events: Sequence[Event], state: S | None = None) -> S:
        state = self.initial() if state is None else state
        for e in events:
            state = self.evolve(state, e)
        return state


# ------------------------------------------------------------------ given / when / then


class Scenario(Generic[C, S]):
    """``given(decider, *events).when(command).then(*events)`` — or ``.refused(Error, "code")``."""

    def __init__(self, decider: Decider[C, S], events: Sequence[Event]):
        self.decider = decider
        self.state = decider.fold(events)

    def when(self, command: C) -> Outcome[C, S]:
        try:
            return Outcome(self.decider, self.state, self.decider.decide(command, self.state), None)
        except DomainError as e:
            return Outcome(self.decider, self.state, None, e)


@dataclass
class Outcome(Generic[C, S]):
    decider: Decider[C, S]
    before: S
    events: list[Event] | None
    error: DomainError | None

    def then(self, *expected: Event) -> S:
        """The decision is exactly these events (none: a no-op); returns the state after them."""
        if self.error is not None:
            raise AssertionError(f"refused with {type(self.error).__name__}({self.error.code!r}), "
                                 f"expected {list(expected)}")
        assert self.events == list(expected), f"decided {self.events}, expected {list(expected)}"
        return self.decider.fold(self.events, self.before)

    def refused(self, error: type[DomainError], code: str, **params: Any) -> DomainError:
        """The decision is a refusal of this kind and code (and these params, if given); no events."""
        if self.error is None:
            raise AssertionError(f"decided {self.events}, expected a refusal {error.__name__}({code!r})")
        assert isinstance(self.error, error), f"refused with {type(self.error).__name__}, expected {error.__name__}"
        assert self.error.code == code, f"refused with {self.error.code!r}, expected {code!r}"
        for k, v in params.items():
            assert self.error.params.get(k) == v, f"param {k}: {self.error.params.get(k)!r} != {v!r}"
        return self.error


def given(decider: Decider[C, S], *events: Event) -> Scenario[C, S]:
    return Scenario(decider, events)
