"""A durable pull consumer's messages as they come, with one pull request outstanding at a time.

Why not nats-py's ``fetch``: under a steady trickle of events each fetch sent a pull request of its
own and waited for each message with a task of its own (``next_msg``: a uuid, a ``wait_for``, a
task); the request's write woke nats-server too. For the many consumers that only pass an event
over, that was most of what the event cost them (docs/adr/0029). Here a request asks for a whole
batch and lives for ``EXPIRES_S``; it is renewed when it is fulfilled, when the server ends it
(408 expired, 409 leadership change), or when nothing ended it in time (lost with a restarted
server): so a consumer idles at one request a second, as before, and under load sends one request
per batch or per second instead of one per message.

The messages wait in a buffer of at most one request's batch (the bound of a consumer's
``max_ack_pending`` holds it too), in the order the consumer delivered them.

A consumer may linger (``linger_s``, docs/adr/0038): then a request that waits asks for one message only,
and after a delivery the next request is sent ``linger_s`` later and takes at once what has gathered
meanwhile (``no_wait``), so that under load the events come in bursts — one wake-up of the server, of the
socket and of the runner for many events instead of one each. A full burst asks again at once (a backlog,
a catch-up); an empty one goes back to waiting for the next event; and ``hurry`` — someone waits for this
consumer to reach an event — ends the pause at once.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque

from libs.kit.direct import unsubscribe

#: a request's lifetime: how soon an idle consumer notices a request lost (and how often it asks)
EXPIRES_S = 1.0
#: past its lifetime, how long a request may stay silent before it is taken for lost
LOST_AFTER_S = EXPIRES_S + 1.0


_N = r"([0-9]{1,19})"
_T = r"[^.]+"
#: a JetStream delivery's reply subject as nats-server writes it: ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream
#: seq>.<consumer seq>.<ns>.<pending>`` (9 tokens), or with a domain and an account hash before the stream and
#: anything after the pending count (11 or more)
_NUMBERS = rf"{_N}\.{_N}\.{_N}\.{_N}\.{_N}"
_ACK = re.compile(rf"\$JS\.ACK\.(?:{_T}\.{_T}\.{_NUMBERS}|{_T}\.{_T}\.{_T}\.{_T}\.{_NUMBERS}(?:\..*)?)", re.S)


def stream_seq(msg) -> int:
    """The delivery's sequence in the stream, as ``msg.metadata.sequence.stream`` has it, in a fifth of the time:
    nats-py builds the whole metadata (two objects, a datetime) to give it, 5.6 µs a delivery, and every consumer
    reads it on each (a profile save reaches 18 of them; a rebuild reads it on each event). A reply this does not
    know (numbers of more than 19 digits, empty tokens, anything nats-server does not send) is nats-py's to read,
    errors included (tests/kit/test_pull.py compares both on random and hostile replies)."""
    m = _ACK.fullmatch(msg.reply) if msg.reply else None
    if m is None:
        return msg.metadata.sequence.stream
    return int(m[2] or m[7])


class ConsumerGone(Exception):
    """The server ended the consumer (deleted by a successor, or a request it cannot serve): the
    runner starts over from its checkpoint, as after any failure to read."""


class Deliveries:
    def __init__(self, nc, stream: str, durable: str, batch: int, linger_s: float = 0.0):
        self._nc = nc
        self._api = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._batch = batch
        self._linger_s = linger_s
        #: lingering: when the next request may be sent (0: at once), and what the current one brought
        self._ask_at = 0.0
        self._brought = 0
        #: the next request takes what has gathered at once: first of all what waited before it opened
        self._burst = bool(linger_s)
        self._sub = None
        self._inbox = ""
        self._buffer: deque = deque()
        #: what ``next`` waits on, when it waits: a future and a timer, not ``wait_for`` on an event, whose task per
        #: wait cost every consumer 8–11 µs on each delivery under load (each delivery is a wait; measured)
        self._waiter: asyncio.Future | None = None
        #: messages the outstanding request may still bring (0: ended, ask again)
        self._owed = 0
        self._asked_at = 0.0
        self._gone: str | None = None

    async def open(self) -> Deliveries:
        self._inbox = self._nc.new_inbox()
        self._sub = await self._nc.subscribe(self._inbox, cb=self._on_msg)
        await self._ask()
        return self

    async def close(self) -> None:
        sub, self._sub = self._sub, None
        await unsubscribe(sub)
        self._buffer.clear()

    async def _ask(self) -> None:
        if not self._linger_s:
            request = {"batch": self._batch, "expires": int(EXPIRES_S * 1e9)}
        elif self._burst:  # what gathered while lingering, at once
            request = {"batch": self._batch, "no_wait": True}
        else:  # waiting for the next event: one, then linger
            request = {"batch": 1, "expires": int(EXPIRES_S * 1e9)}
        self._owed = request["batch"]
        self._brought = 0
        self._asked_at = asyncio.get_running_loop().time()
        await self._nc.publish(self._api, json.dumps(request).encode(), reply=self._inbox)

    def hurry(self) -> None:
        """Someone waits for what may be gathering: ask for it now rather than after the pause."""
        if self._owed <= 0:
            self._ask_at = 0.0
            self._wake()

    def _ended(self) -> None:
        """The outstanding request is over: when to send the next, and which."""
        self._owed = 0
        if self._linger_s:
            now = asyncio.get_running_loop().time()
            full = self._burst and self._brought >= self._batch
            self._ask_at = now + self._linger_s if self._brought and not full else now
            self._burst = bool(self._brought)

    async def _on_msg(self, msg) -> None:
        status = msg.headers.get("Status") if msg.headers else None
        if status is None:
            self._buffer.append(msg)
            self._owed -= 1
            self._brought += 1
            if self._owed <= 0:
                self._ended()
        elif status == "100":  # an idle heartbeat (none is asked for): nothing ended
            return
        elif status in ("404", "408") or (status == "409" and "Consumer Deleted" not in msg.headers.get(
                "Description", "")):
            self._ended()  # this request is over (expired, or the consumer's leader changed): ask again
        else:
            self._gone = f"{status} {msg.headers.get('Description', '')}".strip()
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _wait(self, timeout: float) -> None:
        """Until a delivery or a status arrives, or ``timeout`` seconds pass."""
        if self._waiter is not None:
            # one waiter is woken per delivery: a second reader would wait out its timeout with messages buffered
            raise RuntimeError("a consumer's deliveries have one reader at a time")
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        timer = loop.call_later(timeout, self._wake)
        try:
            await self._waiter
        finally:
            timer.cancel()
            self._waiter = None

    async def next(self, most: int, timeout: float) -> list:
        """The next (at most ``most``) messages, waiting at most ``timeout`` seconds for the first;
        TimeoutError when none came."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._gone:
                raise ConsumerGone(self._gone)
            now = loop.time()
            if self._owed > 0 and now - self._asked_at > LOST_AFTER_S:  # lost with a restarted server
                self._owed, self._burst, self._ask_at = 0, False, now
            if self._owed <= 0 and now >= self._ask_at:
                await self._ask()  # before taking: the next batch is on its way while this one is applied
            if self._buffer:
                return [self._buffer.popleft() for _ in range(min(most, len(self._buffer)))]
            if now >= deadline:
                raise TimeoutError
            until = self._asked_at + LOST_AFTER_S if self._owed > 0 else self._ask_at
            await self._wait(max(min(deadline, until) - now, 0.001))
