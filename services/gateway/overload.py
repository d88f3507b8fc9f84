"""Overload answered, not queued: past a bound of requests in flight the gateway refuses at once.

Without a bound, a gateway past its capacity queues: every request waits behind the others, latency grows to
seconds and then requests time out, the ones it had accepted included. Refusing the excess at once (503 with
Retry-After) keeps the accepted ones fast and tells a client when to come back. One address may be given
only a share of the bound (a setting), so a flood from one place (a script, a bot) leaves room for the others.

The bound follows what the machine carries (docs/adr/0031): a fixed number fit for one machine lets another
queue — on two cores 64 requests in flight took half a second each. With a latency target, the bound shrinks
while the typical request it carries takes longer than the target with more than half the bound taken, and
grows back while requests are fast or none is in flight. The target is absolute, but a machine may be slow for a
while with nothing queued: past the target, a request is counted slow only when it takes well longer than the same
route took with the gateway to itself (docs/adr/0041).
"""

from __future__ import annotations

import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry.propagate import extract
from starlette.requests import Request

from libs.kit.logging import get_logger
from services.gateway import problems
from services.gateway.deps import client_address, correlation_id

log = get_logger(__name__)

#: never refused: probes must answer while the gateway is busy, and a live stream is long by design
#: (it holds no service work while it waits)
EXEMPT = frozenset({"/healthz", "/readyz", "/v1/stream"})
#: how often at most a "gateway_overloaded" line is written while refusing (with the count since the last)
LOG_EVERY_S = 1.0
#: how often the bound is reconsidered, from the requests completed since
WINDOW_S = 0.1
#: a slow window shrinks the bound by target / median, but never below half of it at once
MOST_SHRINK = 0.5
#: a window is quiet when at most this many requests were in flight in it at once: none waited for another
QUIET_PEAK = 1
#: what a route took in quiet windows is remembered this long, its last QUIET_KEPT times
QUIET_MEMORY_S = 60.0
QUIET_KEPT = 32
#: a queue is when the typical request takes this many times what its route takes quiet (waiting three
#: quarters of its time alone): at 2, an overloaded gateway whose commands take 8 ms alone held them to 16 ms
#: instead of the 15 ms target, and the accepted requests' tail grew with it (docs/adr/0041)
GRADIENT = 1.75
#: a median past this many times the target is slow whatever the routes take quiet: a machine this slow is
#: overloaded
MOST_RAISE = 2.0


@dataclass
class Bound:
    """How many requests the gateway carries at once. ``target_s`` None: ``ceiling``, always. Otherwise between
    ``floor`` and ``ceiling``, moved as each window of time closes, by the median time of the requests completed
    in it (a few slow ones — a sign-in's hashing — do not move a median):
    - slower than the target while more than half the bound was taken: requests queue; the bound shrinks in
      proportion (target / median, at most by half), so it reaches what the machine carries in a few windows;
    - as fast as the target: the bound grows by one; and by one for each window with nothing in flight at all,
      so it is back at the ceiling within seconds once the load has passed;
    - nothing completed while requests were in flight: nothing learnt.
    Slow requests under light load (the bound not half taken) never make it refuse anyone. Windows close at the
    first request admitted or completed after their end (or at ``tick``): no timer.

    "Slower than the target" asks one thing more when it can (docs/adr/0041): each request is compared with what
    its route (``key``) took in the quiet windows of the last minute — at most one request in flight, none waiting
    — and a median past the target counts only if the typical request took more than ``GRADIENT`` times that,
    or more than ``MOST_RAISE`` times the target. On a slow moment of the machine an unloaded command may take
    nearly the target itself, and an absolute target would take ordinary load for a queue and refuse it. Routes,
    not a median of all requests, because what is quiet (reads, sign-ins) is rarely what makes the load."""

    ceiling: int
    floor: int
    target_s: float | None
    limit: float = 0.0
    #: the last window's typical request against its route's quiet time (None: not known for most of them)
    slowdown: float | None = None
    _took: list[float] = field(default_factory=list)
    _keyed: list[tuple[object, float]] = field(default_factory=list)
    _peak: int = 0
    _window_ends: float | None = None
    #: route key -> (when, took) of its requests in quiet windows
    _quiet: dict[object, deque] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.floor = min(self.floor, self.ceiling)
        self.limit = float(self.ceiling)

    @property
    def current(self) -> int:
        return int(self.limit)

    def admitted(self, in_flight: int, now: float) -> None:
        self.tick(now, in_flight - 1)
        self._peak = max(self._peak, in_flight)

    def completed(self, took_s: float | None, in_flight: int, now: float, key: object = None) -> None:
        """``took_s`` None: a request whose time says nothing of the gateway's load (an upload's is the
        client's bandwidth). ``key``: its route, of a bounded set (None: not known)."""
        self.tick(now, in_flight + 1)
        if took_s is not None and self.target_s is not None:
            self._took.append(took_s)
            if key is not None:
                self._keyed.append((key, took_s))

    def _slowdown(self, now: float) -> float | None:
        """The median of this window's requests' times over their routes' quiet ones, when most are known."""
        since = now - QUIET_MEMORY_S
        usual: dict[object, float | None] = {}
        ratios = []
        for key, took in self._keyed:
            if key not in usual:
                seen = sorted(t for at, t in self._quiet.get(key, ()) if at >= since)
                usual[key] = seen[len(seen) // 2] if seen else None
            if (quiet := usual[key]) is not None:
                ratios.append(took / max(quiet, 1e-6))
        if not ratios or len(ratios) * 2 < len(self._took):
            return None
        ratios.sort()
        return ratios[len(ratios) // 2]

    def tick(self, now: float, in_flight: int) -> None:
        """Close the window if its time is over (``in_flight``: what has been in flight since nothing changed)."""
        if self.target_s is None or (self._window_ends is not None and now < self._window_ends):
            return
        if self._window_ends is not None:
            took = sorted(self._took)
            median = took[len(took) // 2] if took else None
            self.slowdown = self._slowdown(now) if median is not None and median > self.target_s else None
            if self._peak <= QUIET_PEAK:
                for key, t in self._keyed:
                    self._quiet.setdefault(key, deque(maxlen=QUIET_KEPT)).append((now, t))
            if median is not None and median > self.target_s and (
                    self.slowdown is None or self.slowdown > GRADIENT or median > self.target_s * MOST_RAISE):
                if self._peak * 2 > self.limit:
                    self.limit = max(float(self.floor), self.limit * max(MOST_SHRINK, self.target_s / median))
            elif median is not None or not self._peak:
                self.limit += 1
            if not in_flight:  # the windows since this one ended, with nothing in flight
                self.limit += int((now - self._window_ends) / WINDOW_S)
            self.limit = min(float(self.ceiling), self.limit)
        self._took.clear()
        self._keyed.clear()
        self._peak, self._window_ends = in_flight, now + WINDOW_S


@dataclass
class Load:
    """What the gateway is carrying now, and what it refused: read by /readyz and the bench."""

    in_flight: int = 0
    #: of them, files' bytes in transit (InFlightLimit's ``transfers``)
    transfers: int = 0
    refused: int = 0
    by_address: Counter = field(default_factory=Counter)
    bound: Bound | None = None
    _refused_logged: int = 0
    _logged_at: float = 0.0

    def note_refusal(self, why: str) -> None:
        self.refused += 1
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY_S:
            bound = self.bound
            log.warning("gateway_overloaded", why=why, in_flight=self.in_flight, bound=bound.current if bound else None,
                        slowdown=bound.slowdown if bound else None, refused=self.refused - self._refused_logged)
            self._refused_logged, self._logged_at = self.refused, now


def route_key(scope) -> tuple[str, str] | None:
    """The route the request was answered by, as the router left it in the scope: its template, never its ids,
    and only for a method it takes — so the keys are as many as the routes, whatever clients send."""
    route = scope.get("route")
    if route is None or scope["method"] not in (getattr(route, "methods", None) or ()):
        return None
    return scope["method"], route.path


def outermost(app, middleware, **options) -> None:
    """Wrap ``middleware`` around everything ``app`` builds — its error handling and the request's span
    included, which ``add_middleware`` cannot: OpenTelemetry's FastAPI instrumentation wraps the built stack
    the same way, so this must come after it."""
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: middleware(build(), **options)


class InFlightLimit:
    """Plain ASGI (no task per request). ``bound.current`` requests at once in all, ``per_address`` of them from one
    client address (the web client's forwarded one when it proves itself, as everywhere in the gateway).
    ``transfers``: the paths whose time is the client's bandwidth (a file's bytes): they count against the
    ceiling alone and are not measured — two long downloads must not hold a learnt bound of two.

    Meant to run first (``outermost``): a refusal then costs its parsing, this check and its answer, not the
    tracing middleware, the access log and the routing it would cost inside them (docs/adr/0039). It keeps what
    those gave every answer: a correlation id (the client's when it is a UUID), and a span of its own, under
    the caller's trace when one came, sampled like any other user action; the access log's line per request
    gives way to the ``gateway_overloaded`` warning, once a second with the count."""

    def __init__(self, app, load: Load, bound: Bound, per_address: int, retry_after_s: int,
                 transfers: re.Pattern | None = None, tracer: trace.Tracer | None = None):
        self.app = app
        self.transfers = transfers
        self.load = load
        load.bound = bound  # the bound lives with the load, where /readyz and the log read it
        self.per_address = per_address
        self.retry_after = str(retry_after_s)
        self.tracer = tracer or trace.get_tracer(__name__)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            return await self.app(scope, receive, send)
        load = self.load
        address = client_address(Request(scope)) or "-"
        bound = load.bound
        transfer = self.transfers is not None and self.transfers.match(scope["path"]) is not None
        full = load.in_flight >= bound.ceiling or (not transfer and load.in_flight - load.transfers >= bound.current)
        why = "in_flight" if full else "address" if load.by_address[address] >= self.per_address else None
        if why is not None:
            return await self.refuse(scope, receive, send, why)
        load.in_flight += 1
        load.transfers += transfer
        load.by_address[address] += 1
        began = time.monotonic()
        bound.admitted(load.in_flight - load.transfers, began)
        try:
            await self.app(scope, receive, send)
        finally:
            load.in_flight -= 1
            load.transfers -= transfer
            now = time.monotonic()
            bound.completed(None if transfer else now - began, load.in_flight - load.transfers, now, route_key(scope))
            load.by_address[address] -= 1
            if not load.by_address[address]:
                del load.by_address[address]

    async def refuse(self, scope, receive, send, why: str) -> None:
        self.load.note_refusal(why)
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]
                   if k in (b"traceparent", b"tracestate")}
        span = self.tracer.start_span(scope["method"], context=extract(carrier) if carrier else None,
                                      kind=trace.SpanKind.SERVER,
                                      attributes={"http.request.method": scope["method"], "url.path": scope["path"],
                                                  "http.response.status_code": 503, "error.type": "overloaded"})
        try:
            response = problems.problem_response(Request(scope), 503, "overloaded", headers={
                "Retry-After": self.retry_after, "X-Correlation-Id": correlation_id(scope)})
            await response(scope, receive, send)
        finally:
            span.set_status(trace.StatusCode.ERROR)
            span.end()
