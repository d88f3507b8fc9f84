"""Overload answered, not queued: past a bound of requests in flight the gateway refuses at once.

Without a bound, a gateway past its capacity queues: every request waits behind the others, latency grows to
seconds and then requests time out, the ones it had accepted included. Refusing the excess at once (503 with
Retry-After) keeps the accepted ones fast and tells a client when to come back. One address may be given
only a share of the bound (a setting), so a flood from one place (a script, a bot) leaves room for the others.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from starlette.requests import Request

from libs.kit.logging import get_logger
from services.gateway import problems
from services.gateway.deps import client_address

log = get_logger(__name__)

#: never refused: probes must answer while the gateway is busy, and a live stream is long by design
#: (it holds no service work while it waits)
EXEMPT = frozenset({"/healthz", "/readyz", "/v1/stream"})
#: how often at most a "gateway_overloaded" line is written while refusing (with the count since the last)
LOG_EVERY_S = 1.0


@dataclass
class Load:
    """What the gateway is carrying now, and what it refused: read by /readyz and the bench."""

    in_flight: int = 0
    refused: int = 0
    by_address: Counter = field(default_factory=Counter)
    _refused_logged: int = 0
    _logged_at: float = 0.0

    def note_refusal(self, why: str) -> None:
        self.refused += 1
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY_S:
            log.warning("gateway_overloaded", why=why, in_flight=self.in_flight,
                        refused=self.refused - self._refused_logged)
            self._refused_logged, self._logged_at = self.refused, now


class InFlightLimit:
    """Plain ASGI (no task per request). ``limit`` requests at once in all, ``per_address`` of them from one
    client address (the web client's forwarded one when it proves itself, as everywhere in the gateway)."""

    def __init__(self, app, load: Load, limit: int, per_address: int, retry_after_s: int):
        self.app = app
        self.load = load
        self.limit = limit
        self.per_address = per_address
        self.retry_after = str(retry_after_s)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            return await self.app(scope, receive, send)
        load = self.load
        address = client_address(Request(scope)) or "-"
        why = "in_flight" if load.in_flight >= self.limit else \
            "address" if load.by_address[address] >= self.per_address else None
        if why is not None:
            load.note_refusal(why)
            response = problems.problem_response(Request(scope), 503, "overloaded",
                                                 headers={"Retry-After": self.retry_after})
            return await response(scope, receive, send)
        load.in_flight += 1
        load.by_address[address] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            load.in_flight -= 1
            load.by_address[address] -= 1
            if not load.by_address[address]:
                del load.by_address[address]
