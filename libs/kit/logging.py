"""structlog set-up: console in development, JSON lines in deployments.

Every line carries service, trace_id, span_id and correlation_id.
"""

from __future__ import annotations

import logging
import sys

import structlog
from opentelemetry import trace


def _add_trace(_, __, event_dict):
    span = trace.get_current_span()
    ctx = span.get_span_context()
    if ctx.is_valid:
        event_dict["trace_id"] = format(ctx.trace_id, "032x")
        event_dict["span_id"] = format(ctx.span_id, "016x")
    return event_dict


def setup_logging(service: str, fmt: str = "console", level: str = "INFO") -> None:
    def add_service(_, __, event_dict):
        # not a context variable: tasks started outside this call's context must carry it too
        event_dict.setdefault("service", service)
        return event_dict

    processors = [
        add_service,
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace,
    ]
    if fmt == "json":
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer(ensure_ascii=False)]
    else:
        processors += [structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format=f"{service} %(levelname)s %(name)s: %(message)s")


def get_logger(name: str | None = None):
    return structlog.get_logger(name)


def describe(exc: BaseException) -> str:
    """A one-line description of an error that is safe to log and to store: the type, without a
    message that could carry user data (superseded by the sanitizing renderer's rules)."""
    return type(exc).__qualname__
