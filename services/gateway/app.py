"""The HTTP API: authentication, validation at the edge, localised problems.
No domain logic and no database of its own."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import asynccontextmanager

import nats
import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as StarletteRequest

from libs.contracts.drive import FILES_BUCKET, STAGING_BUCKET
from libs.contracts.subjects import inbox_prefix
from libs.kit.bodylimit import BodyLimitMiddleware
from libs.kit.logging import get_logger, setup_logging
from libs.kit.natsheaders import read_headers_faster
from libs.kit.objects import ObjectBucket
from libs.kit.rpc import ServiceClient
from libs.kit.settings import redact_url, secret_values
from libs.kit.tracing import setup_tracing
from services.gateway import problems
from services.gateway.deps import correlation_id
from services.gateway.overload import Bound, InFlightLimit, Load, outermost
from services.gateway.problems import Problem
from services.gateway.route_names import name_spans_by_routes_found_once
from services.gateway.routers import (
    announcements,
    auth,
    calendar,
    chat,
    colleagues,
    docs,
    drive,
    feedback,
    groups,
    health,
    invitations,
    me,
    members,
    moderation,
    my_data,
    notifications,
    registrations,
    roles,
    tasks,
)
from services.gateway.settings import Settings

log = get_logger(__name__)

DESCRIPTION = """HR-mnenie platform API.

Errors are RFC 9457 problem details (`application/problem+json`), in Russian
by default and in English with `Accept-Language: en`.

After a command the response carries `X-Consistency-Token`; send it back on
your next request and the read sees your write.

POST, PUT and DELETE accept `Idempotency-Key`: the same key with the same
body gets the first answer (with `Idempotent-Replayed: true`) and changes
nothing more; another body with the same key is refused. When the outcome of
a command is not known (504 `outcome_unknown`), send it again with the same
key to learn it: it is never carried out twice. Sign-in and refresh answers
hold tokens and are never stored, so they are not replayed.

Request bodies are limited to 64 KiB (413), except a file uploaded to a group's drive: its body is
the file itself, streamed, limited by the drive's settings (50 MB a file by default) and the group's quota.
"""


def create_app(settings: Settings | None = None, *, started: Callable[[], None] | None = None) -> FastAPI:
    """``started``: called once the app has started (the entry point freezes the heap then)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        setup_logging("gateway", settings.log_format, settings.log_level, secrets=secret_values(settings))
        read_headers_faster()
        app.state.nc = await nats.connect(settings.nats_servers, name="hr-gateway", max_reconnect_attempts=-1,
                                          inbox_prefix=inbox_prefix("gateway"))
        app.state.client = ServiceClient(app.state.nc, timeout=settings.request_timeout_s)
        app.state.staging = ObjectBucket(app.state.nc, STAGING_BUCKET, timeout=settings.request_timeout_s)
        app.state.files = ObjectBucket(app.state.nc, FILES_BUCKET, timeout=settings.request_timeout_s)
        log.info("gateway_started", nats=redact_url(settings.nats_url))
        if started is not None:
            started()
        yield
        await app.state.nc.drain()
        provider.shutdown()  # flush spans still in the batch

    public_docs = settings.docs_served  # not public in production
    app = FastAPI(title="HR-mnenie", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json" if public_docs else None)
    app.state.settings = settings
    app.state.nc = None
    for router in (auth, invitations, registrations, me, moderation, groups, chat, announcements, members, colleagues,
                   tasks, drive, calendar, roles, feedback, notifications, my_data, health, docs):
        app.include_router(router.router)
    app.add_exception_handler(Problem, problems.on_problem)
    app.add_exception_handler(RequestValidationError, problems.on_validation_error)
    app.add_exception_handler(ValidationError, problems.on_contract_error)
    app.add_exception_handler(StarletteHTTPException, problems.on_http_error)
    app.add_exception_handler(Exception, problems.on_unexpected)

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, refuse=refuse_body,
                       streamed=drive.UPLOAD_PATHS)
    app.state.load = Load()
    bound = Bound(settings.max_in_flight, settings.min_in_flight,
                  settings.overload_target_ms / 1000 if settings.overload_target_ms else None)
    app.add_middleware(CorrelationMiddleware)
    # added last, so outermost: the access log above runs inside the request's span
    provider = setup_tracing("gateway", settings.otel_service_namespace,
                             sample_ratio=settings.trace_sample_ratio)
    # one span per request: the ASGI instrumentation's inner spans for each receive and send (three more per
    # command) say nothing an operator reads, and cost each request their context switches (issue 18)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="healthz,readyz",
                                       exclude_spans=["receive", "send"])
    name_spans_by_routes_found_once(app)
    # outside everything, the request's span and the access log included: past the bound a refusal must cost
    # least when the gateway has least to spare; it makes its own span (docs/adr/0039)
    outermost(app, InFlightLimit, load=app.state.load, bound=bound,
              per_address=min(settings.max_in_flight_per_address or settings.max_in_flight, settings.max_in_flight),
              retry_after_s=settings.overload_retry_after_s, transfers=drive.TRANSFER_PATHS,
              tracer=provider.get_tracer("hr-mnenie.gateway"))
    return app


class CorrelationMiddleware:
    """One correlation id per request, in every log line and in the reply.

    Plain ASGI rather than ``@app.middleware``: Starlette's BaseHTTPMiddleware
    costs a task and a stream per request, on every command's hot path.
    """

    QUIET = ("/healthz", "/readyz")

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        # a client's correlation id is kept only when it is a UUID: it is copied into every event
        cid = correlation_id(scope)
        scope.setdefault("state", {})["correlation_id"] = cid
        started = time.perf_counter()
        status = 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-correlation-id", cid.encode("latin-1"))]
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=cid):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                if scope["path"] not in self.QUIET:
                    route = getattr(scope.get("route"), "path", "unmatched")  # the template: no ids or tokens
                    log.info("http_request", method=scope["method"], route=route, status=status,
                             ms=round((time.perf_counter() - started) * 1000, 1))


def refuse_body(scope, limit: int, close: bool):
    return problems.problem_response(StarletteRequest(scope), 413, "payload_too_large", {"params": {"limit": limit}},
                                     headers={"Connection": "close"} if close else {})
