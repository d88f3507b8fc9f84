"""`hrm`: the operators' command line of the HR-mnenie platform.

    hrm status [--nats URL]                      every service's consumers: kind, checkpoint, lag, state,
                                                 dead letters; exit 1 if a service is down or a consumer stalled
    hrm rebuild SERVICE [PROJECTION] [--nats URL]  drop and replay projections, with a progress bar
    hrm deadletters [SERVICE] [--nats URL]       per consumer, the events it could never apply, and why
    hrm replay SERVICE [CONSUMER] [--nats URL]   after a fix, apply the dead letters again; exit 1 if some still fail
    hrm invite [--api URL] [--max-uses N] [--days D]   an invitation link (as an admin or moderator)
    hrm erase MEMBER_ID [--api URL]              erase a member (admin): crypto-shredding
    hrm export-log [--nats URL] [--out FILE|-]   the event log as JSON lines, as stored
    hrm provision [--nats URL] [--replicas N]    create or update the streams and key-value buckets

status, rebuild, deadletters, replay and export-log talk to NATS as the
``operator`` user of deploy/nats/nats-server.conf: the services' control
subjects hr.ctl.<service>.status / .rebuild / .replay, stream and consumer
info, and direct gets of HR_EVENTS and HR_DEADLETTER; replies come on
_INBOX_operator. They create no consumer and write nothing to JetStream.
provision needs the ``provisioner`` user (replies on _INBOX_provision) and
takes the key-encryption key from HRM_PII_KEK / HRM_PII_KEK_FILE, as
`python -m libs.kit.provision` does. invite and erase go through the
gateway's HTTP API like any client. Defaults come from HRM_NATS_URL,
HRM_API_URL, HRM_ADMIN_EMAIL, HRM_ADMIN_PASSWORD and HRM_STREAM_REPLICAS.

Each command is an async function taking URLs and output streams, so tests
call them in-process; ``main`` runs one with asyncio.run.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, TextIO
from urllib.parse import quote

import httpx
import nats
import nats.errors
from nats.js.errors import APIError, NotFoundError
from pydantic import ValidationError

from libs.contracts.subjects import (
    DEADLETTER_ROOT,
    DEADLETTER_STREAM,
    EVENTS_ROOT,
    EVENTS_STREAM,
    control_subject,
    deadletter_subject,
    inbox_prefix,
)
from libs.kit import provision as provisioning
from libs.kit.direct import DirectGetFailed, DirectReader
from services.registry import domain_services

#: the services that answer on hr.ctl.<service>.*
SERVICES = tuple(d.name for d in domain_services())
DEFAULT_NATS = "nats://127.0.0.1:4222"
DEFAULT_API = "http://127.0.0.1:8000"
#: the NATS user each command runs as in a deployment, which fixes its reply subjects (_INBOX_<client>.>)
OPERATOR = "operator"
PROVISIONER = "provision"
#: JetStream's error code for a stream that does not exist
STREAM_NOT_FOUND = 10059
#: headers a direct get adds to each message; not part of the message as stored
DIRECT_GET_HEADERS = frozenset({"Nats-Stream", "Nats-Subject", "Nats-Sequence", "Nats-Time-Stamp",
                                "Nats-Num-Pending", "Nats-Last-Sequence", "Nats-UpTo-Sequence"})


class CliError(Exception):
    """Something the operator must read: printed without a traceback, exit 1."""


# ---------------------------------------------------------------- NATS


def _servers(url: str) -> list[str]:
    return [u.strip() for u in url.split(",") if u.strip()]


def _redact(url: str) -> str:
    out = []
    for u in _servers(url):
        scheme, sep, rest = u.partition("://")
        host = rest.split("@", 1)[1] if sep and "@" in rest.split("/", 1)[0] else rest
        out.append(f"{scheme}{sep}{host}" if sep else u)
    return ",".join(out)


async def connect(nats_url: str, client: str = OPERATOR):
    """A connection whose replies come on _INBOX_<client>.>, the only inbox that user may read.
    The server's refusals (a permissions violation) are kept in ``nc.hrm_refusals``: a refused
    request only times out, and the operator should read why."""
    refusals: list[str] = []

    async def keep(e: Exception) -> None:  # a failed connect is reported once, below
        text = " ".join(str(e).split())
        if "permissions violation" in text.lower() and text not in refusals:
            refusals.append(text)

    try:
        # nats-py retries a failed first connect for ever unless attempts are bounded
        nc = await asyncio.wait_for(
            nats.connect(_servers(nats_url), name=f"hrm-{client}", connect_timeout=3, allow_reconnect=False,
                         max_reconnect_attempts=1, reconnect_time_wait=0.2, error_cb=keep,
                         inbox_prefix=inbox_prefix(client)),
            timeout=15,
        )
    except Exception as e:  # noqa: BLE001 - any failure means the bus is out of reach
        raise CliError(f"cannot reach NATS at {_redact(nats_url)}: {type(e).__name__}") from None
    nc.hrm_refusals = refusals  # type: ignore[attr-defined]  # read where a refusal is reported
    return nc


def _refused(nc) -> str:
    refusals = getattr(nc, "hrm_refusals", [])
    return f"; NATS refused: {'; '.join(refusals)}" if refusals else ""


@asynccontextmanager
async def bus(nats_url: str, client: str = OPERATOR) -> AsyncIterator[Any]:
    """A connection for one command; a request that gets no reply becomes one readable line."""
    nc = await connect(nats_url, client)
    try:
        yield nc
    except (TimeoutError, nats.errors.TimeoutError):
        raise CliError(f"NATS at {_redact(nats_url)} did not answer in time{_refused(nc)}") from None
    except DirectGetFailed as e:
        raise CliError(f"{e}{_refused(nc)}") from None
    finally:
        await nc.close()


async def subject_counts(nc, stream: str, subjects_filter: str) -> dict[str, int] | None:
    """How many messages each subject matching the filter holds in the stream ($JS.API.STREAM.INFO,
    every page of subjects); None when the stream does not exist."""
    counts: dict[str, int] = {}
    while True:
        request = json.dumps({"subjects_filter": subjects_filter, "offset": len(counts)}).encode()
        body = json.loads((await nc.request(f"$JS.API.STREAM.INFO.{stream}", request, timeout=5)).data)
        error = body.get("error")
        if error:
            if error.get("err_code") == STREAM_NOT_FOUND:
                return None
            raise CliError(f"stream info of {stream}: {error.get('description', error)}")
        page = (body.get("state") or {}).get("subjects") or {}
        counts.update(page)
        if not page or len(counts) >= int(body.get("total") or 0):
            return counts


# ---------------------------------------------------------------- a service's registrations


@cache
def registered_consumers(service: str) -> tuple[tuple[str, str], ...]:
    """(name, kind) of each projection and policy the service's code registers, so that its
    durables can be asked for by name while it is down (the operator may not list consumers).
    The bootstrap gets its settings unvalidated: the operator's environment is not the service's,
    and registering handlers reads none of them (nor connects to anything)."""
    try:
        app = importlib.import_module(f"services.{service}.app")
    except ImportError:
        return ()
    settings = app.Settings.model_construct()
    return tuple((c.name, c.kind) for c in app.bootstrap(settings).consumers)


# ---------------------------------------------------------------- status


@dataclass
class ServiceStatus:
    service: str
    up: bool
    #: as the service reports them (name, kind, state, checkpoint, lag, dead_letters, and stalled or
    #: rebuild when so), or, for a service that does not answer, read from JetStream with state "down"
    consumers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def stalled(self) -> list[dict[str, Any]]:
        return [c for c in self.consumers if c.get("state") == "stalled"]


async def deadletter_counts(nc, service: str) -> dict[str, int] | None:
    """Dead letters per consumer of the service, from the subjects of HR_DEADLETTER; None without the stream."""
    prefix = f"{DEADLETTER_ROOT}.{service}."
    counts = await subject_counts(nc, DEADLETTER_STREAM, f"{prefix}>")
    if counts is None:
        return None
    return {subject[len(prefix):]: n for subject, n in counts.items()}


async def durable_consumers(nc, service: str) -> list[dict[str, Any]]:
    """A down service's consumers as JetStream keeps them: each durable <service>_<consumer> of its
    registrations, asked for by name ($JS.API.CONSUMER.INFO), so its lag still shows."""
    js = nc.jetstream()
    letters = await deadletter_counts(nc, service) or {}
    out = []
    for name, kind in registered_consumers(service):
        row: dict[str, Any] = {"name": name, "kind": kind, "state": "down", "checkpoint": None, "lag": None,
                               "dead_letters": letters.get(name, 0)}
        try:
            info = await js.consumer_info(EVENTS_STREAM, f"{service}_{name}")
        except NotFoundError:
            row["missing"] = True  # never started, or the stream is new
        else:
            row["checkpoint"] = info.ack_floor.stream_seq if info.ack_floor else 0
            row["lag"] = (info.num_pending or 0) + (info.num_ack_pending or 0)
        out.append(row)
    known = {c["name"] for c in out}
    # dead letters of a consumer the code no longer registers are still the operator's
    out += [{"name": name, "kind": None, "state": "down", "checkpoint": None, "lag": None, "dead_letters": n,
             "missing": True} for name, n in letters.items() if name not in known]
    return sorted(out, key=lambda c: c["name"])


async def service_status(nc, service: str, timeout: float = 2.0) -> ServiceStatus:
    try:
        msg = await nc.request(control_subject(service, "status"), b"{}", timeout=timeout)
        body = json.loads(msg.data)
        return ServiceStatus(service, True, sorted(body.get("consumers", []), key=lambda c: c["name"]))
    except (nats.errors.NoRespondersError, nats.errors.TimeoutError, ValueError):
        return ServiceStatus(service, False, await durable_consumers(nc, service))


async def collect_status(nats_url: str, services: tuple[str, ...] = SERVICES,
                         timeout: float = 2.0) -> list[ServiceStatus]:
    async with bus(nats_url) as nc:
        return list(await asyncio.gather(*(service_status(nc, s, timeout) for s in services)))


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows)


def duration(seconds: float) -> str:
    """12.3 s, 4 min 5 s, 2 h 10 min, 3 d 4 h."""
    s = max(0.0, float(seconds))
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(int(s), 60)
    if m < 60:
        return f"{m} min {sec} s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h} h {m} min"
    d, h = divmod(h, 24)
    return f"{d} d {h} h"


def _stall_text(c: dict[str, Any]) -> str:
    st = c.get("stalled") or {}
    since = st.get("for_s")
    if since is None and st.get("since"):
        since = time.time() - float(st["since"])
    parts = ["stalled"]
    if since is not None:
        parts.append(f"for {duration(since)}")
    if st.get("seq"):
        parts.append(f"at seq {st['seq']}")
    if st.get("attempts"):
        parts.append(f"({st['attempts']} attempts)")
    return " ".join(parts) + f": {st.get('reason') or 'no reason given'}"


def _cell(value: Any) -> str:
    return "?" if value is None else str(value)


def format_status(statuses: list[ServiceStatus]) -> str:
    rows = [["SERVICE", "STATE", "CONSUMER", "KIND", "CHECKPOINT", "LAG", "CONSUMER-STATE", "DEAD-LETTERS", "NOTE"]]
    for s in statuses:
        state = "up" if s.up else "down"
        if not s.consumers:
            rows.append([s.service, state, "-", "-", "-", "-", "-", "-", ""])
        for c in s.consumers:
            notes = []
            if c.get("state") == "stalled":
                notes.append(_stall_text(c))
            if c.get("rebuild"):
                notes.append(f"rebuilding {c['rebuild'].get('progress', 0) * 100:.0f}%")
            if c.get("missing"):
                notes.append(f"no durable consumer {s.service}_{c['name']} in {EVENTS_STREAM}")
            rows.append([s.service, state, c["name"], c.get("kind") or "-", _cell(c.get("checkpoint")),
                         _cell(c.get("lag")), c.get("state") or "?", _cell(c.get("dead_letters")), "; ".join(notes)])
    lines = [_table(rows)]
    problems = []
    for s in statuses:
        if not s.up:
            lines.append(f"{s.service} is down: no answer on {control_subject(s.service, 'status')};"
                         f" its consumers' lag is read from JetStream ({EVENTS_STREAM})")
            problems.append(f"{s.service} is down")
        for c in s.stalled:
            lines.append(f"{s.service}.{c['name']} is {_stall_text(c)}")
    stalled = [f"{s.service}.{c['name']}" for s in statuses for c in s.stalled]
    if stalled:
        problems.append(f"{len(stalled)} consumer(s) stalled: {', '.join(stalled)}")
    if problems:
        lines.append("NOT OK: " + "; ".join(problems))
    else:
        lines.append("ok: every service is up and no consumer is stalled")
    return "\n".join(lines) + "\n"


async def status(nats_url: str, out: TextIO = sys.stdout, services: tuple[str, ...] = SERVICES,
                 timeout: float = 2.0) -> int:
    """Print the table; 1 when any service is down or any consumer is stalled."""
    statuses = await collect_status(nats_url, services, timeout)
    out.write(format_status(statuses))
    return 0 if all(s.up and not s.stalled for s in statuses) else 1


# ---------------------------------------------------------------- rebuild


class ProgressBar:
    """One line redrawn in place on a terminal; one line per change elsewhere."""

    def __init__(self, out: TextIO, width: int = 30):
        self.out = out
        self.width = width
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.last = ""

    def draw(self, progress: dict[str, float]) -> None:
        overall = sum(progress.values()) / len(progress) if progress else 1.0
        filled = round(overall * self.width)
        each = "  ".join(f"{name} {p * 100:.0f}%" for name, p in sorted(progress.items())) if len(progress) > 1 else ""
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {overall * 100:5.1f}%  {each}".rstrip()
        if line == self.last:
            return
        if self.tty:
            self.out.write("\r" + line.ljust(len(self.last)))
        else:
            self.out.write(line + "\n")
        self.out.flush()
        self.last = line

    def finish(self) -> None:
        if self.tty and self.last:
            self.out.write("\n")
            self.out.flush()


async def events_of_consumer(nc, durable: str) -> int:
    """How many events of the log a consumer's filter subject selects: what a rebuild
    replays. Counted from the stream's subjects ($JS.API.STREAM.INFO), so no message
    is read and no consumer created (the operator user may create none)."""
    info = await nc.jetstream().consumer_info(EVENTS_STREAM, durable)
    filters = info.config.filter_subjects or ([info.config.filter_subject] if info.config.filter_subject else None)
    total = 0
    for subjects in filters or [f"{EVENTS_ROOT}.>"]:
        total += sum((await subject_counts(nc, EVENTS_STREAM, subjects) or {}).values())
    return total


async def rebuild(nats_url: str, service: str, projection: str | None = None, out: TextIO = sys.stdout,
                  *, poll: float = 0.1, timeout: float = 3600.0) -> int:
    """Ask the service to rebuild, then follow its status until every rebuilt
    projection has caught up with the log (no ``rebuild`` key, lag 0)."""
    async with bus(nats_url) as nc:
        started = time.monotonic()
        request = json.dumps({"projection": projection} if projection else {}).encode()
        try:
            msg = await nc.request(control_subject(service, "rebuild"), request, timeout=60)
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
            subject = control_subject(service, "rebuild")
            raise CliError(f"{service} does not answer on {subject}: is it running?{_refused(nc)}") from None
        reply = json.loads(msg.data)
        if not reply.get("ok"):
            raise CliError(f"{service}: {reply.get('error', 'rebuild refused')}")
        targets = {r["projection"]: r["target_seq"] for r in reply["rebuilding"]}
        bar = ProgressBar(out)
        while True:
            try:
                s = await service_status(nc, service)
            except Exception:  # noqa: BLE001 - a hiccup: ask again
                s = ServiceStatus(service, False)
            consumers = {c["name"]: c for c in s.consumers} if s.up else {}
            progress: dict[str, float] = {}
            for name in targets:
                c = consumers.get(name)
                if c is not None and not c.get("rebuild") and c.get("lag") == 0:
                    progress[name] = 1.0
                else:
                    progress[name] = float(((c or {}).get("rebuild") or {}).get("progress", 0.0))
                    progress[name] = min(progress[name], 0.999)
            bar.draw(progress)
            if all(p == 1.0 for p in progress.values()):
                break
            if time.monotonic() - started > timeout:
                bar.finish()
                raise CliError(f"{service}: rebuild not over after {timeout:.0f} s")
            await asyncio.sleep(poll)
        elapsed = time.monotonic() - started
        bar.finish()
        total = 0
        for name in sorted(targets):
            replayed = await events_of_consumer(nc, f"{service}_{name}")
            total += replayed
            out.write(f"  {service}.{name}: {replayed} events replayed (log at seq {targets[name]})\n")
        out.write(f"rebuilt {len(targets)} projection(s) of {service}: {total} events replayed in {elapsed:.2f} s\n")
        return 0


# ---------------------------------------------------------------- dead letters, replay


@dataclass(frozen=True)
class DeadLetter:
    #: the event's sequence in HR_EVENTS, its subject there, and why it could not be applied
    seq: int
    subject: str
    reason: str
    #: when it was dead-lettered (the dead letter's time stamp in HR_DEADLETTER)
    at: str = ""


def _stamp(raw: str) -> str:
    """2026-01-31T12:00:00.123456789Z -> 2026-01-31 12:00:00Z"""
    try:
        return datetime.fromisoformat(raw[:19]).strftime("%Y-%m-%d %H:%M:%SZ")
    except ValueError:
        return raw


async def dead_letters(nc, service: str) -> dict[str, tuple[str | None, list[DeadLetter]]]:
    """consumer -> (kind, its dead letters in order): every consumer the service registers, and any
    other that has dead letters on hr.dlq.<service>.> (one the code no longer has)."""
    counts = await deadletter_counts(nc, service)
    if counts is None:
        raise CliError(f"no stream {DEADLETTER_STREAM}: the platform is not provisioned on this NATS")
    kinds: dict[str, str | None] = dict(registered_consumers(service))
    kinds.update({name: None for name in counts if name not in kinds})
    reader = DirectReader(nc)
    out = {}
    try:
        for name in sorted(kinds):
            letters = []
            if counts.get(name):
                for m in await reader.batch(DEADLETTER_STREAM, deadletter_subject(service, name)):
                    h = m.headers
                    letters.append(DeadLetter(int(h.get("Hr-Dlq-Seq", "0") or 0), h.get("Hr-Dlq-Subject", "?"),
                                              h.get("Hr-Dlq-Reason", "?"), _stamp(h.get("Nats-Time-Stamp", ""))))
            out[name] = (kinds[name], letters)
    finally:
        await reader.close()
    return out


async def deadletters(nats_url: str, service: str | None = None, out: TextIO = sys.stdout,
                      services: tuple[str, ...] = SERVICES) -> int:
    """Per consumer of each service (or one), the count and each dead letter: the event's
    sequence in the log, its subject and the reason. Returns the total."""
    total = 0
    async with bus(nats_url) as nc:
        for svc in (service,) if service else services:
            for name, (kind, letters) in (await dead_letters(nc, svc)).items():
                total += len(letters)
                what = f" ({kind})" if kind else " (no longer registered)"
                out.write(f"{svc}.{name}{what}: {len(letters) or 'no'} dead letter{'' if len(letters) == 1 else 's'}\n")
                if letters:
                    rows = [["  SEQ", "SUBJECT", "DEAD-LETTERED", "REASON"]]
                    rows += [[f"  {d.seq}", d.subject, d.at or "?", d.reason] for d in letters]
                    out.write(_table(rows) + "\n")
    if total:
        out.write(f"{total} dead letter(s): events that could never be applied; after a fix,"
                  f" `hrm replay SERVICE [CONSUMER]` applies them again\n")
    else:
        out.write("no dead letters\n")
    return total


def format_replay(service: str, replayed: list[dict[str, Any]]) -> tuple[str, bool]:
    """The reply of hr.ctl.<service>.replay as lines; and whether something still fails."""
    lines = []
    failing = False
    for r in replayed:
        name = f"{service}.{r.get('consumer')}"
        if r.get("rebuilding"):
            lines.append(f"{name} (projection): {r.get('cleared', 0)} dead letter(s) cleared; rebuilding from the log"
                         f" (follow with `hrm status`; then `hrm deadletters {service}` lists what still cannot"
                         f" be applied)")
            continue
        still = r.get("still_failing") or []
        failing = failing or bool(still)
        applied = r.get("applied", 0)
        if not applied and not still:
            lines.append(f"{name} (policy): no dead letters")
            continue
        lines.append(f"{name} (policy): {applied} applied, {len(still)} still failing")
        lines += [f"  seq {f.get('seq')}: {f.get('reason')}" for f in still]
    if failing:
        lines.append("NOT OK: some dead letters still fail; they stay in "
                     f"{DEADLETTER_STREAM} (`hrm deadletters {service}`)")
    return "\n".join(lines) + "\n", failing


async def replay(nats_url: str, service: str, consumer: str | None = None, out: TextIO = sys.stdout,
                 *, timeout: float = 120.0) -> int:
    """Ask the service to apply its dead letters again (a policy re-runs them, a projection is
    rebuilt); 1 when some still fail."""
    async with bus(nats_url) as nc:
        subject = control_subject(service, "replay")
        request = json.dumps({"consumer": consumer} if consumer else {}).encode()
        try:
            msg = await nc.request(subject, request, timeout=timeout)
        except nats.errors.NoRespondersError:
            raise CliError(f"{service} does not answer on {subject}: is it running?") from None
        except nats.errors.TimeoutError:
            raise CliError(f"{service} did not answer on {subject} within {timeout:.0f} s{_refused(nc)}") from None
    try:
        reply = json.loads(msg.data)
    except ValueError:
        raise CliError(f"{service}: unreadable answer on {subject}") from None
    if not reply.get("ok"):
        raise CliError(f"{service}: {reply.get('error', 'replay refused')}")
    text, failing = format_replay(service, reply.get("replayed", []))
    out.write(text)
    return 1 if failing else 0


# ---------------------------------------------------------------- HTTP: invite, erase


def _problem_text(r: httpx.Response) -> str:
    if r.headers.get("content-type", "").startswith("application/problem+json"):
        try:
            body = r.json()
        except ValueError:
            body = {}
        lines = [str(body.get("title") or f"HTTP {r.status_code}")]
        lines += [f"  {e.get('field')}: {e.get('message')}" for e in body.get("errors", []) if isinstance(e, dict)]
        return "\n".join(lines)
    return f"HTTP {r.status_code}: {r.text[:200]}"


def _check(r: httpx.Response) -> Any:
    if r.status_code >= 400:
        raise CliError(_problem_text(r))
    return r.json()


class Api:
    """The gateway as an admin sees it."""

    def __init__(self, api_url: str, lang: str | None = None):
        headers = {"Accept-Language": lang} if lang else {}
        self.url = api_url
        self.client = httpx.AsyncClient(base_url=api_url, timeout=30.0, headers=headers)

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.aclose()

    async def request(self, method: str, path: str, **kw) -> Any:
        try:
            return _check(await self.client.request(method, path, **kw))
        except httpx.TransportError as e:
            raise CliError(f"cannot reach the API at {self.url}: {type(e).__name__}") from None

    async def sign_in(self, email: str, password: str) -> None:
        tokens = await self.request("POST", "/v1/auth/token", json={"email": email, "password": password})
        self.client.headers["Authorization"] = f"Bearer {tokens['access_token']}"


async def invite(api_url: str, email: str, password: str, *, max_uses: int = 1, days: int = 14,
                 out: TextIO = sys.stdout, lang: str | None = None) -> int:
    """Print the invitation link, then its terms."""
    async with Api(api_url, lang) as api:
        await api.sign_in(email, password)
        inv = await api.request("POST", "/v1/invitations", json={"max_uses": max_uses, "expires_in_days": days})
    out.write(f"{inv['url']}\n")
    out.write(f"  token {inv['token']}, up to {inv['max_uses']} use(s), expires {inv['expires_at']}\n")
    return 0


async def erase(api_url: str, member_id: str, email: str, password: str, *, out: TextIO = sys.stdout,
                lang: str | None = None) -> int:
    async with Api(api_url, lang) as api:
        await api.sign_in(email, password)
        await api.request("DELETE", f"/v1/members/{quote(member_id, safe='')}")
    out.write(f"member {member_id} erased: their personal data is unreadable in the log and every read model\n")
    return 0


# ---------------------------------------------------------------- export-log


async def export_log(nats_url: str, out: TextIO, *, timeout: float = 10.0) -> int:
    """Write every message of HR_EVENTS, as stored, one JSON object a line:
    {seq, subject, headers, envelope}. Personal data stays encrypted (``pii``).
    Messages appended after the export began are left out. Returns the count.
    Read by direct gets (no consumer: the operator user may create none)."""
    async with bus(nats_url) as nc:
        try:
            info = await nc.jetstream().stream_info(EVENTS_STREAM)
        except NotFoundError:
            raise CliError(f"no stream {EVENTS_STREAM}: no service has started on this NATS yet") from None
        last = info.state.last_seq
        if not info.state.messages:
            return 0
        reader = DirectReader(nc, timeout=timeout)
        try:
            try:
                msgs = await reader.batch(EVENTS_STREAM, f"{EVENTS_ROOT}.>")
            except TimeoutError:
                raise CliError(f"the log stopped arriving (expected up to seq {last}){_refused(nc)}") from None
        finally:
            await reader.close()
    count = 0
    for msg in msgs:
        if msg.seq > last:
            break
        try:
            envelope: Any = json.loads(msg.data)
        except ValueError:
            envelope = msg.data.decode("utf-8", errors="replace")
        headers = {k: v for k, v in msg.headers.items() if k not in DIRECT_GET_HEADERS}
        line = {"seq": msg.seq, "subject": msg.subject, "headers": headers, "envelope": envelope}
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    out.flush()
    return count


# ---------------------------------------------------------------- provision


async def provision(nats_url: str, replicas: int | None = None, out: TextIO = sys.stdout) -> int:
    """Create or update the streams and buckets (libs.kit.provision), as the provisioner user
    (replies on _INBOX_provision); the key-encryption key and, without ``replicas``, the replica
    count come from the environment (HRM_PII_KEK or HRM_PII_KEK_FILE, HRM_STREAM_REPLICAS)."""
    try:
        settings = provisioning.ProvisionSettings()
        kek = settings.kek
    except ValidationError as e:
        raise CliError(f"configuration refused: {'; '.join(err['msg'] for err in e.errors())}") from None
    except (OSError, ValueError) as e:
        raise CliError(f"configuration refused: {e}") from None
    replicas = replicas or settings.stream_replicas
    try:
        async with bus(nats_url, PROVISIONER) as nc:
            try:
                report = await provisioning.provision(nc, replicas=replicas, kek=kek)
            except APIError as e:
                raise CliError(f"provisioning refused by JetStream: {e.description or e}{_refused(nc)}") from None
    except CliError as e:
        if "permissions violation" in str(e).lower():
            raise CliError(f"{e} (provisioning needs the provisioner user of deploy/nats/nats-server.conf)") from None
        raise
    width = max(len(name) for name in report)
    for name, what in report.items():
        out.write(f"{name.ljust(width)}  {what}\n")
    tally = {what: sum(1 for w in report.values() if w == what) for what in ("created", "updated", "ok")}
    out.write(f"provisioned with {replicas} replica(s): {tally['created']} created, {tally['updated']} updated"
              f" (given the configuration of this version), {tally['ok']} unchanged;"
              f" {report.get('legacy_keys_migrated', '0')} legacy key(s) migrated\n")
    return 0


# ---------------------------------------------------------------- command line


def _credentials(args: argparse.Namespace) -> tuple[str, str]:
    if not args.email:
        raise CliError("no admin e-mail: pass --email or set HRM_ADMIN_EMAIL")
    password = args.password
    if not password and sys.stdin.isatty():
        password = getpass.getpass(f"password of {args.email}: ")
    if not password:
        raise CliError("no password: set HRM_ADMIN_PASSWORD (or pass --password)")
    return args.email, password


async def _run(args: argparse.Namespace) -> int:
    match args.command:
        case "status":
            return await status(args.nats, sys.stdout, timeout=args.timeout)
        case "rebuild":
            return await rebuild(args.nats, args.service, args.projection, sys.stdout)
        case "deadletters":
            await deadletters(args.nats, args.service, sys.stdout)
            return 0
        case "replay":
            return await replay(args.nats, args.service, args.consumer, sys.stdout, timeout=args.timeout)
        case "provision":
            return await provision(args.nats, args.replicas, sys.stdout)
        case "invite":
            email, password = _credentials(args)
            return await invite(args.api, email, password, max_uses=args.max_uses, days=args.days, lang=args.lang)
        case "erase":
            email, password = _credentials(args)
            return await erase(args.api, args.member_id, email, password, lang=args.lang)
        case "export-log":
            if args.out == "-":
                await export_log(args.nats, sys.stdout)
                return 0
            with open(args.out, "w", encoding="utf-8") as f:  # noqa: ASYNC230 - the CLI writes one file, then exits
                n = await export_log(args.nats, f)
            print(f"exported {n} messages of {EVENTS_STREAM} to {args.out}", file=sys.stderr)
            return 0
    raise AssertionError(args.command)


def parser() -> argparse.ArgumentParser:
    env = os.environ
    p = argparse.ArgumentParser(prog="hrm", description="Operators' command line of the HR-mnenie platform.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_nats(s: argparse.ArgumentParser) -> None:
        s.add_argument("--nats", default=env.get("HRM_NATS_URL", DEFAULT_NATS),
                       help="NATS URL(s), comma-separated (default: HRM_NATS_URL or %(default)s)")

    def with_api(s: argparse.ArgumentParser) -> None:
        s.add_argument("--api", default=env.get("HRM_API_URL", DEFAULT_API),
                       help="the gateway (default: HRM_API_URL or %(default)s)")
        s.add_argument("--email", default=env.get("HRM_ADMIN_EMAIL"), help="sign in as (default: HRM_ADMIN_EMAIL)")
        s.add_argument("--password", default=env.get("HRM_ADMIN_PASSWORD"),
                       help="(default: HRM_ADMIN_PASSWORD; prefer the variable: arguments show in ps)")
        s.add_argument("--lang", default=env.get("HRM_LANG"), help="language of error messages: ru (default) or en")

    s = sub.add_parser("status", help="every service's consumers: kind, checkpoint, lag, state, dead letters;"
                                      " exit 1 if a service is down or a consumer is stalled")
    with_nats(s)
    s.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for each service (default 2)")

    s = sub.add_parser("rebuild", help="drop a service's projections (or one) and replay the log into them")
    s.add_argument("service", choices=SERVICES)
    s.add_argument("projection", nargs="?", help="one projection (default: all of the service's)")
    with_nats(s)

    s = sub.add_parser("deadletters", help="per consumer, the events it could never apply: sequence, subject, reason")
    s.add_argument("service", nargs="?", choices=SERVICES, help="one service (default: all)")
    with_nats(s)

    s = sub.add_parser("replay", help="after a fix, apply a service's dead letters again; exit 1 if some still fail",
                       description="A policy re-runs each dead letter and drops those that now apply; a projection"
                                   " is rebuilt from the log (its dead letters cleared first: what still cannot be"
                                   " applied is dead-lettered again).")
    s.add_argument("service", choices=SERVICES)
    s.add_argument("consumer", nargs="?", help="one projection or policy (default: all of the service's)")
    with_nats(s)
    s.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the service (default 120)")

    s = sub.add_parser("invite", help="create an invitation link and print it")
    with_api(s)
    s.add_argument("--max-uses", type=int, default=1, help="how many people may use it (default 1)")
    s.add_argument("--days", type=int, default=14, help="days until it expires (default 14)")

    s = sub.add_parser("erase", help="erase a member: their personal data becomes unreadable everywhere")
    s.add_argument("member_id")
    with_api(s)

    s = sub.add_parser("export-log", help="every message of HR_EVENTS as JSON lines, personal data still encrypted")
    with_nats(s)
    s.add_argument("--out", default="-", help="file to write, or - for standard output (default)")

    s = sub.add_parser("provision", help="create or update the streams and key-value buckets (as the provisioner user)",
                       description="What `python -m libs.kit.provision` does: safe to run again (what exists is"
                                   " updated to this version's configuration). The key-encryption key comes from"
                                   " HRM_PII_KEK or HRM_PII_KEK_FILE.")
    with_nats(s)
    s.add_argument("--replicas", type=int, choices=range(1, 6), metavar="N",
                   help="replicas of each stream and bucket, 1 to 5 (default: HRM_STREAM_REPLICAS or 1)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except CliError as e:
        print(f"hrm: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
