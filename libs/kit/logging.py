"""structlog set-up: console in development, JSON lines in deployments.

Every line carries service, trace_id, span_id and correlation_id.

No line may carry a secret or personal data, on error paths too: tracebacks
are plain frames without local variables (rich's show_locals once printed the
JWT secret and phone numbers), an exception's message is shown only for types
known not to carry user data (``describe``), and a last pass redacts known
secret values, URL credentials and tokens. The stdlib loggers (FastStream,
uvicorn, nats-py) go through the same processors.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import sys
import traceback
from collections.abc import Iterable
from typing import Any, TextIO
from urllib.parse import quote

import structlog
from opentelemetry import trace
from pydantic import ValidationError

from libs.kit.settings import redact_url

#: exceptions whose message is about the machine (a socket, a file, the bus), not about a user
_SAFE_TYPES: tuple[type[BaseException], ...] = (OSError, sqlite3.Error, asyncio.TimeoutError, TimeoutError,
                                                ConnectionError)
_SAFE_MODULES = ("nats", "libs")
#: stdlib loggers that bring their own handlers: they are made to propagate to the sanitized root handler
_ADOPTED_LOGGERS = ("faststream", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
_MAX_CHAIN = 16
_MAX_MESSAGE = 500
_MIN_SECRET = 8
_LOC_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_=-]*\.[A-Za-z0-9_=-]*\.[A-Za-z0-9_=-]*")
_BEARER = re.compile(r"\b(Bearer)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def _add_trace(_, __, event_dict):
    span = trace.get_current_span()
    ctx = span.get_span_context()
    if ctx.is_valid:
        event_dict["trace_id"] = format(ctx.trace_id, "032x")
        event_dict["span_id"] = format(ctx.span_id, "016x")
    return event_dict


# ------------------------------------------------------------------ exceptions


def _type_name(t: type) -> str:
    module = getattr(t, "__module__", "") or ""
    if module in ("builtins", "__main__"):
        return t.__qualname__
    # pydantic_core._pydantic_core.ValidationError -> pydantic_core.ValidationError
    parts = [p for i, p in enumerate(module.split(".")) if i == 0 or not p.startswith("_")]
    return ".".join([*parts, t.__qualname__])


def _message_is_safe(t: type) -> bool:
    if issubclass(t, _SAFE_TYPES):
        return True
    module = getattr(t, "__module__", "") or ""
    return any(module == m or module.startswith(m + ".") for m in _SAFE_MODULES)


def _loc(loc: tuple) -> str:
    # dict keys and extra fields of the input show up in locations: keep only name-like parts
    return ".".join(str(p) if isinstance(p, int) or _LOC_PART.match(str(p)) else "<key>" for p in loc) or "<root>"


def describe(exc: BaseException) -> str:
    """One line naming what failed, safe for a log line or a stored reason:
    messages often quote their input (a ValidationError, a KeyError's key)."""
    name = _type_name(type(exc))
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_input=False, include_url=False, include_context=False)
        where = "; ".join(f"{_loc(e['loc'])} ({e['type']})" for e in errors[:10])
        more = f"; and {len(errors) - 10} more" if len(errors) > 10 else ""
        return f"{name}: {exc.error_count()} validation error(s) for {exc.title}: {where}{more}"
    try:
        message = " ".join(str(exc).split())
    except Exception:  # noqa: BLE001 - a broken __str__ must not break the log line
        message = "<unprintable>"
    if message and not _message_is_safe(type(exc)):
        return f"{name}: <message withheld>"
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "…"
    return f"{name}: {message}" if message else name


def _format_chain(exc: BaseException, seen: set[int], depth: int = 0) -> list[str]:
    seen.add(id(exc))
    out: list[str] = []
    if depth < _MAX_CHAIN:
        cause, context = exc.__cause__, exc.__context__
        if cause is not None and id(cause) not in seen:
            out += _format_chain(cause, seen, depth + 1)
            out.append("\nThe above exception was the direct cause of the following exception:\n\n")
        elif context is not None and not exc.__suppress_context__ and id(context) not in seen:
            out += _format_chain(context, seen, depth + 1)
            out.append("\nDuring handling of the above exception, another exception occurred:\n\n")
    if exc.__traceback__ is not None:
        out.append("Traceback (most recent call last):\n")
        frames = traceback.StackSummary.extract(traceback.walk_tb(exc.__traceback__), capture_locals=False)
        out += frames.format()
    out.append(describe(exc) + "\n")
    if isinstance(exc, BaseExceptionGroup) and depth < _MAX_CHAIN:
        subs = exc.exceptions
        for i, sub in enumerate(subs[:_MAX_CHAIN], 1):
            out.append(f"+---------------- {i} of {len(subs)} ----------------\n")
            out += ["    " + line for text in _format_chain(sub, seen, depth + 1) for line in text.splitlines(True)]
    return out


def format_exception(exc_info) -> str:
    """A plain traceback: file, line, function and source line of each frame,
    no local variables, the exception lines as ``describe`` has them."""
    exc = exc_info[1] if isinstance(exc_info, tuple) else exc_info
    if exc is None:
        return ""
    return "".join(_format_chain(exc, set())).rstrip("\n")


def _console_exception(sio: TextIO, exc_info) -> None:
    sio.write("\n" + format_exception(exc_info))


def _withhold_exception_messages(_, __, event_dict):
    """Foreign (stdlib) records put the exception's text into the message itself
    (FastStream: ``f"{type}: {exc}"``); cut it out as ``describe`` would."""
    exc_info = event_dict.get("exc_info")
    exc = exc_info[1] if isinstance(exc_info, tuple) else exc_info
    event = event_dict.get("event")
    if not isinstance(exc, BaseException) or not isinstance(event, str):
        return event_dict
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(seen) < _MAX_CHAIN:
        seen.add(id(exc))
        if not _message_is_safe(type(exc)):
            for text in (repr(exc), str(exc)):
                if text and len(text) >= 3:
                    event = event.replace(text, "<message withheld>")
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    event_dict["event"] = event
    return event_dict


# ------------------------------------------------------------------ redaction


def _variants(secret: str) -> set[str]:
    """The spellings a value takes in a rendered line: as is, JSON-escaped, repr'd, URL-quoted."""
    return {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], repr(secret)[1:-1],
            quote(secret, safe="")}


class Redactor:
    """Replaces known secret values, URL credentials, JWTs and bearer tokens
    with ``***``: in every string of an event dict, and in the rendered line."""

    def __init__(self, secrets: Iterable[str] = ()):
        variants = {v for s in secrets if s and len(s) >= _MIN_SECRET for v in _variants(s)}
        values = sorted((v for v in variants if len(v) >= _MIN_SECRET), key=len, reverse=True)
        self._secrets = re.compile("|".join(map(re.escape, values))) if values else None

    def text(self, s: str) -> str:
        if self._secrets is not None:
            s = self._secrets.sub("***", s)
        if "://" in s:
            s = _URL.sub(lambda m: redact_url(m.group()), s)
        if "eyJ" in s:
            s = _JWT.sub("***", s)
        return _BEARER.sub(r"\1 ***", s)

    def _walk(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if depth > 8:
            return value
        if isinstance(value, dict):
            return {self._walk(k, depth + 1): self._walk(v, depth + 1) for k, v in value.items()}
        if type(value) in (list, tuple, set, frozenset):  # exact types: a namedtuple would not rebuild
            return type(value)(self._walk(v, depth + 1) for v in value)
        return value

    def __call__(self, _, __, event):
        if isinstance(event, str):
            return self.text(event)
        return self._walk(event)


# ------------------------------------------------------------------ set-up


def setup_logging(
    service: str,
    fmt: str = "console",
    level: str = "INFO",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Configure structlog and the stdlib root handler alike.

    ``secrets``: values that must never appear in a line (see
    ``libs.kit.settings.secret_values``). ``stream``: where lines go (stderr).
    """
    stream = sys.stderr if stream is None else stream

    def add_service(_, __, event_dict):
        # not a context variable: tasks started outside this call's context must carry it too
        event_dict.setdefault("service", service)
        return event_dict

    shared = [
        add_service,
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace,
    ]
    redact = Redactor(secrets)
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        isatty = getattr(stream, "isatty", None)
        renderer = structlog.dev.ConsoleRenderer(colors=bool(isatty and isatty()),
                                                 exception_formatter=_console_exception)
    # redacted before rendering (values as they are) and after (whatever rendering made of objects)
    tail = [structlog.processors.ExceptionRenderer(format_exception), redact, renderer, redact]
    structlog.configure(
        processors=[*shared, *tail],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )

    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, _withhold_exception_messages, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail],
    ))
    handler._hrm_logging = True
    root = logging.getLogger()
    for h in list(root.handlers):
        # ours from an earlier call, or a plain one (basicConfig); test runners' capture handlers stay
        if getattr(h, "_hrm_logging", False) or type(h) is logging.StreamHandler:
            root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in _ADOPTED_LOGGERS:
        adopted = logging.getLogger(name)
        for h in list(adopted.handlers):
            adopted.removeHandler(h)
        adopted.propagate = True
    sys.excepthook = _log_uncaught


def _log_uncaught(exc_type, exc, tb) -> None:
    """A crash is an error path too: Python's own hook prints the messages."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    structlog.get_logger(__name__).critical("uncaught_exception", exc_info=(exc_type, exc, tb))


def get_logger(name: str | None = None):
    return structlog.get_logger(name)
