"""The pure half of forgetting an erased member (libs/kit/erasure.py): one ``author`` aggregate per
member in each service that keeps their words, erased once. No I/O: a ``domain`` module may import it."""

from __future__ import annotations

from dataclasses import dataclass

from libs.contracts.base import Event
from libs.kit.decider import Decider


@dataclass(frozen=True)
class Author:
    erased: bool = False


@dataclass(frozen=True)
class ForgetAuthor:
    member_id: str


def author_decider(service: str, erased: type[Event]) -> Decider:
    """The aggregate ``author`` (id = the member) of ``service``: ``erased(member_id=...)`` once."""

    def evolve(state: Author, event: Event) -> Author:
        return Author(True) if isinstance(event, erased) else state

    def decide(cmd: ForgetAuthor, state: Author) -> list[Event]:
        if not isinstance(cmd, ForgetAuthor):
            raise TypeError(f"not an author command: {cmd!r}")
        return [] if state.erased else [erased(member_id=cmd.member_id)]  # type: ignore[call-arg]

    return Decider(service, "author", Author, evolve, decide, events=(erased,))
