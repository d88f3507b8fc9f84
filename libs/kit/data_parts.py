"""The pure half of answering a member's request for their data (docs/adr/0024, libs/kit/data_requests.py):
one ``member_data`` aggregate per member in each service, which answers each request once. No I/O: a
``domain`` module may import it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from libs.contracts.base import Event
from libs.contracts.my_data import CHUNK_BYTES, DATA_AGGREGATE, MAX_CHUNKS, MemberDataCollected
from libs.kit.decider import Decider


@dataclass(frozen=True)
class Parts:
    #: the requests this service has answered for the member
    answered: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AnswerRequest:
    request_id: str
    member_id: str
    #: the service's part, JSON-ready
    data: dict[str, Any]


def chunks_of(data: dict[str, Any], limit: int = CHUNK_BYTES) -> list[str]:
    """The part's JSON text in pieces of at most ``limit`` UTF-8 bytes, cut between characters; joined in
    order they are the text again."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    out: list[str] = []
    piece: list[str] = []
    size = 0
    for ch in text:
        n = len(ch.encode())
        if size + n > limit:
            out.append("".join(piece))
            piece, size = [], 0
        piece.append(ch)
        size += n
    out.append("".join(piece))
    return out


def answer(cmd: AnswerRequest, answered: frozenset[str], event: type[MemberDataCollected]) -> list[Event]:
    """The chunks of the answer, or nothing when this request is answered already (a redelivered request)."""
    if cmd.request_id in answered:
        return []
    pieces = chunks_of(cmd.data)
    if len(pieces) > MAX_CHUNKS:
        pieces = chunks_of({"too_large": True, "size_bytes": sum(len(p.encode()) for p in pieces)})
    return [event(request_id=cmd.request_id, member_id=cmd.member_id, chunk=i, chunks=len(pieces), data=piece)
            for i, piece in enumerate(pieces)]


def part_decider(service: str, event: type[MemberDataCollected]) -> Decider:
    """The aggregate ``member_data`` (id = the member) of ``service``: one answer per request."""

    def evolve(state: Parts, e: Event) -> Parts:
        if isinstance(e, event):
            return Parts(state.answered | {e.request_id})
        return state

    def decide(cmd: AnswerRequest, state: Parts) -> list[Event]:
        if not isinstance(cmd, AnswerRequest):
            raise TypeError(f"not a data request command: {cmd!r}")
        return answer(cmd, state.answered, event)

    return Decider(service, DATA_AGGREGATE, Parts, evolve, decide, events=(event,))
