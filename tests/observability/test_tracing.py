"""One user action is one trace: the HTTP request in the gateway, the command
in onboarding, the policy and projections it triggers in groups — each a
separate process exporting over OTLP — and the trace id in their log lines."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path

import httpx
import pytest

from tests.observability.otlp_sink import OtlpSink
from tests.observability.processes import platform_processes, sign_up, wait_ready

ADMIN = ("admin@hr-mnenie.ru", "trace-admin-password")
PROFILE = {"full_name": "Трасса Тестовая", "city": "Екатеринбург", "company": "УГМК", "position": "HRD",
           "years_in_hr": 3, "professional_interests": ["обучение"], "phone": "+7 900 000-00-01"}


@pytest.fixture
def processes(tmp_path):
    with OtlpSink() as sink:
        env = {"HRM_ADMIN_EMAIL": ADMIN[0], "HRM_ADMIN_PASSWORD": ADMIN[1],
               "HRM_LOG_FORMAT": "json", "HRM_LOG_LEVEL": "DEBUG",
               "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        with platform_processes(tmp_path, env) as (base, logs):
            yield sink, base, logs


def json_lines(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


async def test_one_request_is_one_trace_across_gateway_and_two_services(processes):
    sink, base, logs = processes
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        await wait_ready(c)
        member_id, auth, me = await sign_up(c, ADMIN, "trace@example.ru", "s3cret-pass", PROFILE["full_name"])
        await c.put("/v1/me/profile", json=PROFILE, headers=me)

        # the user action under test: a moderator grants access
        trace_id = secrets.token_hex(16)
        r = await c.post(f"/v1/moderation/{member_id}/decision", json={"decision": "grant"},
                         headers={**auth, "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"})
        assert r.status_code == 200, r.text

    def roots_of(spans: list[dict]) -> list[dict]:
        ids = {s["span_id"] for s in spans}
        return [s for s in spans if s["parent_id"] not in ids]

    services = set()
    for _ in range(150):
        spans = sink.trace(trace_id)
        services = {s["service"] for s in spans}
        names = " | ".join(sorted(s["name"] for s in spans))
        # groups: the policy that puts the member into Main, and the projection of its event; and every span's
        # parent exported too — a span is exported when it ends, and a policy's ends after the projections
        # of what it appended may have ended (and been exported) in another batch or process
        if {"gateway", "onboarding", "groups"} <= services and "policy groups.base_groups" in names \
                and "projection groups.groups MemberJoinedGroup" in names \
                and "projection onboarding.members AccessGranted" in names \
                and len({s["parent_id"] for s in roots_of(spans)}) == 1:
            break
        await asyncio.sleep(0.1)
    assert {"gateway", "onboarding", "groups"} <= services, sink.trace(trace_id)
    assert "projection onboarding.members AccessGranted" in names
    # the gateway's one span for the request, and none for the ASGI messages it sent and received
    gateway = [s["name"] for s in spans if s["service"] == "gateway"]
    # named after the route, not the path (services/gateway/route_names.py): no member id in a span's name
    assert "POST /v1/moderation/{member_id}/decision" in gateway, gateway
    assert not [n for n in gateway if n.endswith((" send", " receive"))], gateway
    # every span hangs on the one tree: each parent is in the trace (or is the caller's)
    roots = roots_of(spans)
    assert len({s["parent_id"] for s in roots}) == 1, roots

    await asyncio.sleep(0.3)
    lines = {name: [l for l in json_lines(path) if l.get("trace_id") == trace_id] for name, path in logs.items()}
    for name in ("gateway", "onboarding", "groups"):
        assert lines[name], f"no log line of {name} carries the trace id"
        for line in lines[name]:
            assert line["service"] == name and line["span_id"] and line["correlation_id"]
    # one correlation id runs through the whole action
    assert len({l["correlation_id"] for ls in lines.values() for l in ls}) == 1
    # and no log line anywhere holds the newcomer's personal data
    everything = "".join(p.read_text(errors="replace") for p in logs.values())
    assert "trace@example.ru" not in everything and "Трасса" not in everything and "900 000-00-01" not in everything
