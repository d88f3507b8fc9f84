"""Sampling keeps a user action whole or drops it whole, and records nothing when nothing is exported —
while the trace id is still made and carried (log lines and the next process keep it)."""

from __future__ import annotations

import pytest
from opentelemetry import context, trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from libs.kit.settings import KitSettings
from libs.kit.tracing import setup_tracing

PROPAGATOR = TraceContextTextMapPropagator()


def one_action(gateway: trace.Tracer, service: trace.Tracer, carrier: dict | None = None) -> tuple[int, bool]:
    """A request in the gateway and the command it sends to a service, the context carried in headers as over
    NATS: (the trace id the service saw, whether the service's span was recorded)."""
    parent = PROPAGATOR.extract(carrier) if carrier else context.Context()
    with gateway.start_as_current_span("PUT /v1/me/profile", context=parent):
        headers: dict[str, str] = {}
        PROPAGATOR.inject(headers)
    with service.start_as_current_span("handle UpdateProfile", context=PROPAGATOR.extract(headers)) as span:
        return span.get_span_context().trace_id, span.is_recording()


def test_with_nothing_to_export_nothing_is_recorded_and_the_trace_id_still_travels():
    gateway = setup_tracing("gateway").get_tracer("t")
    service = setup_tracing("onboarding").get_tracer("t")
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    trace_id, recorded = one_action(gateway, service, {"traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01"})
    assert not recorded
    assert format(trace_id, "032x") == caller_trace  # the caller's trace id reaches the service
    trace_id, recorded = one_action(gateway, service)
    assert trace_id != 0 and not recorded  # a root made here has an id too: log lines carry it


@pytest.mark.parametrize("ratio", [0.0, 0.3, 1.0])
def test_a_user_action_is_kept_whole_or_dropped_whole(ratio):
    exported = InMemorySpanExporter()
    gateway_provider = setup_tracing("gateway", sample_ratio=ratio, exporter=exported)
    service_provider = setup_tracing("onboarding", sample_ratio=ratio, exporter=exported)
    actions = 300
    for _ in range(actions):
        one_action(gateway_provider.get_tracer("t"), service_provider.get_tracer("t"))
    for provider in (gateway_provider, service_provider):
        provider.force_flush()
    by_trace: dict[int, set[str]] = {}
    for span in exported.get_finished_spans():
        by_trace.setdefault(span.context.trace_id, set()).add(span.resource.attributes["service.name"])
    assert all(services == {"gateway", "onboarding"} for services in by_trace.values()), by_trace
    kept = len(by_trace)
    if ratio == 0.0:
        assert kept == 0
    elif ratio == 1.0:
        assert kept == actions
    else:
        assert 0.15 * actions < kept < 0.45 * actions, kept  # binomial(300, 0.3): 90 ± 8 — ±5 sd


def test_the_ratio_is_a_setting_within_bounds():
    assert KitSettings().trace_sample_ratio == 1.0
    assert KitSettings(trace_sample_ratio=0.1).trace_sample_ratio == 0.1
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError):
            KitSettings(trace_sample_ratio=bad)
