"""JetStream direct gets: read messages of a stream by subject without a consumer.

One long-lived wildcard inbox subscription per reader takes every reply and
hands it to the request waiting for it: no SUB/UNSUB per read, and the
waiter wakes once per batch, not once per message (a wait per message cost
more than decoding the message).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nats.errors


class DirectGetFailed(Exception):
    pass


@dataclass(frozen=True)
class RawMsg:
    seq: int
    subject: str
    headers: dict[str, str]
    data: bytes


class DirectReader:
    def __init__(self, nc, timeout: float = 5.0):
        self._nc = nc
        self._timeout = timeout
        self._sub = None
        self._prefix = ""
        self._n = 0
        self._lock = asyncio.Lock()
        self._replies: dict[str, Callable[[Any], None]] = {}

    async def _inbox(self, on_reply: Callable[[Any], None]) -> str:
        if self._sub is None:
            async with self._lock:
                if self._sub is None:
                    prefix = self._nc.new_inbox()

                    async def dispatch(msg) -> None:
                        handler = self._replies.get(msg.subject)
                        if handler is not None:
                            handler(msg)

                    self._sub = await self._nc.subscribe(f"{prefix}.*", cb=dispatch)
                    self._prefix = prefix
        self._n += 1
        inbox = f"{self._prefix}.{self._n}"
        self._replies[inbox] = on_reply
        return inbox

    async def batch(self, stream: str, subject: str, start: int = 1, batch: int = 1000,
                    limit: int | None = None) -> list[RawMsg]:
        """Every message of ``subject`` (a filter; wildcards allowed) from sequence ``start`` on (the first
        ``limit`` of them, when given)."""
        out: list[RawMsg] = []
        while True:
            done: asyncio.Future = asyncio.get_running_loop().create_future()
            got = 0

            def on_reply(msg, done: asyncio.Future = done) -> None:
                nonlocal got
                if done.done():
                    return
                headers = msg.headers or {}
                status = headers.get("Status")
                if status in ("404", "408"):
                    done.set_result(True)  # nothing (more) on this subject
                elif status == "204":  # end of batch
                    done.set_result(False)
                elif status:
                    done.set_exception(DirectGetFailed(f"direct get failed: {status} {headers.get('Description')}"))
                else:
                    out.append(RawMsg(int(headers["Nats-Sequence"]), headers["Nats-Subject"], headers, msg.data))
                    got += 1

            inbox = await self._inbox(on_reply)
            try:
                req = json.dumps({"seq": start, "next_by_subj": subject, "batch": batch}).encode()
                await self._nc.publish(f"$JS.API.DIRECT.GET.{stream}", req, reply=inbox)
                ended = await asyncio.wait_for(done, self._timeout)
            finally:
                self._replies.pop(inbox, None)
            if ended or got < batch or (limit is not None and len(out) >= limit):
                return out[:limit] if limit is not None else out
            start = out[-1].seq + 1

    async def last(self, stream: str, subject: str) -> RawMsg | None:
        """The last message on ``subject`` (a literal subject), or None."""
        msg = await self._nc.request(f"$JS.API.DIRECT.GET.{stream}.{subject}", b"", timeout=self._timeout)
        headers = msg.headers or {}
        status = headers.get("Status")
        if status == "404":
            return None
        if status:
            raise DirectGetFailed(f"direct get failed: {status} {headers.get('Description')}")
        return RawMsg(int(headers["Nats-Sequence"]), headers["Nats-Subject"], headers, msg.data)

    async def close(self) -> None:
        await unsubscribe(self._sub)
        self._sub = None


async def unsubscribe(sub) -> None:
    """Drop a core subscription at shutdown; on a connection already closed there is none left to drop."""
    if sub is None:
        return
    try:
        await sub.unsubscribe()
    except (nats.errors.ConnectionClosedError, nats.errors.BadSubscriptionError):
        pass
