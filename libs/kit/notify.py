"""Members' streams: what each member is told live, one subject per member on the stream HR_NOTIFY.

A writer (a service's policy) appends an item with a message id derived from the event that caused it,
so a redelivered event adds nothing within the stream's duplicate window, then nudges whoever serves
that member's stream on a core subject. A reader pages through one member's subject from a position
(the stream sequence, which is what SSE's Last-Event-ID carries): a reconnect resumes exactly after
the last item it was sent, with nothing lost and nothing twice. Personal words in an item stay sealed
with their author's key (the writer seals them), so an erased author's words read as nothing here too.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nats.js.errors import NotFoundError

from libs.contracts.subjects import NOTIFY_STREAM, notify_subject, notify_wake_subject
from libs.kit.direct import DirectReader

#: appends of one ``tell_many`` in flight at once
TOLD_AT_ONCE = 64


@dataclass(frozen=True)
class Item:
    id: int
    data: dict[str, Any]


class MemberStreams:
    def __init__(self, nc, timeout: float = 5.0):
        self._nc = nc
        self._js = nc.jetstream()
        self._reader = DirectReader(nc, timeout)

    async def tell(self, member_id: str, data: dict[str, Any], msg_id: str) -> int:
        """Append one item to the member's stream (once per ``msg_id``) and nudge its readers."""
        ack = await self._js.publish(notify_subject(member_id), json.dumps(data, ensure_ascii=False).encode(),
                                     stream=NOTIFY_STREAM, headers={"Nats-Msg-Id": msg_id})
        await self._nc.publish(notify_wake_subject(member_id), b"")
        return ack.seq

    async def tell_many(self, items: Sequence[tuple[str, dict[str, Any], str]]) -> None:
        """Several members told one thing each, ``TOLD_AT_ONCE`` appends in flight at a time: a group's
        message is one item for each of its members, and one awaited append after another made a message's
        cost its members × one round trip to the server. Every append is awaited (each member's items stay
        in the order of the events told); the first that failed is raised once those in flight with it have
        ended, and no more are begun — those appended are not appended again when the event is retried
        (their message ids)."""
        for start in range(0, len(items), TOLD_AT_ONCE):
            chunk = items[start:start + TOLD_AT_ONCE]
            done = await asyncio.gather(*(self.tell(*item) for item in chunk), return_exceptions=True)
            failed = [d for d in done if isinstance(d, BaseException)]
            if failed:
                raise failed[0]

    async def read(self, member_id: str, after: int, limit: int) -> list[Item]:
        raw = await self._reader.batch(NOTIFY_STREAM, notify_subject(member_id), start=after + 1, batch=limit,
                                       limit=limit)
        return [Item(m.seq, json.loads(m.data)) for m in raw]

    async def bounds(self) -> tuple[int, int]:
        """(first, last) sequence the stream holds: a reader behind ``first`` has lost items to the
        stream's age limit and must reload."""
        info = await self._js.stream_info(NOTIFY_STREAM)
        return info.state.first_seq, info.state.last_seq

    async def forget(self, member_id: str) -> None:
        """Everything told to a member, gone (their erasure)."""
        try:
            await self._js.purge_stream(NOTIFY_STREAM, subject=notify_subject(member_id))
        except NotFoundError:
            pass

    async def close(self) -> None:
        await self._reader.close()
