"""The gateway names a request's span after its route (``METHOD /route``, ``http.route``) exactly as
OpenTelemetry's FastAPI instrumentation does — for every route of the gateway, with its own method, another
one, and paths no route takes — while trying only the routes the path could be taken by
(services/gateway/route_names.py). And the running app's middleware really names spans that way."""

from __future__ import annotations

import random
import re

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.fastapi import _get_default_span_details

from services.gateway.app import create_app
from services.gateway.route_names import RouteNames
from services.gateway.settings import Settings

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "BREW", "")
HOSTILE = ["/", "", "//", "/v1", "/v1/", "/v1/seasons", "/v1/seasons/", "/v1/seasons//requests",
           "/v1/seasons/x/requests/extra", "/v1/me/profile/", "/V1/ME/PROFILE", "/v1/%2e%2e/me", "/v1/me/../me",
           "/v1/groups/\x00/messages", "/v1/groups/группа/messages", "/v1/" + "a/" * 2000, "/v1/*", "/v1/{group_id}",
           "/docs", "/openapi.json", "/healthz", "/v1/me/profile?x=1", "/v1/groups/a b/messages", "no-slash"]


@pytest.fixture(scope="module")
def app():
    return create_app(Settings(log_level="WARNING"))


def concrete(template: str, rnd: random.Random) -> str:
    """A path the route takes: every parameter filled with a value of its kind."""
    def value(m: re.Match) -> str:
        kind = m.group(2) or "str"
        return {"path": "a/b.txt", "int": str(rnd.randint(0, 10**6)), "float": "1.5",
                "uuid": "0190b6a4-6f1e-7c3a-9a4e-0123456789ab"}.get(kind, rnd.choice(["x", "2031-spring", "ид-1"]))
    return re.sub(r"{(\w+)(?::(\w+))?}", value, template)


def scope_of(app, method: str, path: str, root_path: str = "") -> dict:
    return {"type": "http", "app": app, "method": method, "path": path, "root_path": root_path, "headers": [],
            "query_string": b""}


def test_a_span_is_named_as_the_instrumentation_names_it_for_every_route_and_any_path(app):
    rnd = random.Random(7)
    names = RouteNames(app)
    routes = list(iter_route_contexts(app.routes))
    assert len(routes) > 100
    paths = [concrete(r.path, rnd) for r in routes if getattr(r, "path", None)] + HOSTILE
    compared = 0
    for path in paths:
        for method in METHODS:
            for root_path in ("", "/prefix"):
                scope = scope_of(app, method, root_path + path if root_path else path, root_path)
                assert names.span_details(scope) == _get_default_span_details(scope), (method, path, root_path)
                compared += 1
    assert compared > 3000
    # the names are the templates, not the paths (no member id in a span's name)
    assert names.span_details(scope_of(app, "POST", "/v1/seasons/2031-spring/requests"))[0] == \
        "POST /v1/seasons/{season_id}/requests"
    assert names.span_details(scope_of(app, "GET", "/v1/nothing/here")) == ("GET", {})


async def test_the_running_gateway_names_spans_with_it(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        await c.get("/v1/nothing/here")  # the first request builds the middleware stack
    inner = app.middleware_stack
    while inner is not None and not isinstance(inner, OpenTelemetryMiddleware):
        inner = getattr(inner, "app", None)
    assert inner is not None
    assert getattr(inner.default_span_details, "__self__", None).__class__ is RouteNames
    assert inner.default_span_details(scope_of(app, "PUT", "/v1/me/profile"))[0] == "PUT /v1/me/profile"
