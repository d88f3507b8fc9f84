"""What the request being served asks of everything it calls: its deadline, and the key that
makes a repeat of it a repeat (event ids derived from it), carried in a context variable so the
event store sees it without every handler passing it on."""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    #: Unix time after which nothing more may be carried out
    deadline: float | None = None
    #: a namespace for event ids: the same request appends the same ids (dedup on a repeat)
    request_key: uuid.UUID | None = None
    #: the aggregates this request has read, subject -> the stream sequence it read them at (None: not a
    #: request): a second load in the same request reads nothing again when the process's state is as it
    #: was then (``Service.load``). The dict is the request's own; the scope itself never changes
    read: dict[str, int] | None = None

    def expired(self) -> bool:
        return self.deadline is not None and time.time() >= self.deadline

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.time()


_scope: ContextVar[Scope] = ContextVar("hr_request_scope", default=Scope())  # noqa: B039 - frozen: never mutated


def current() -> Scope:
    return _scope.get()


@contextmanager
def scoped(scope: Scope):
    reset = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(reset)
