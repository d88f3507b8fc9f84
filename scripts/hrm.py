"""`hrm`: the operators' command line of the HR-mnenie platform.

    hrm status [--nats URL]                      every service's consumers: kind, checkpoint, lag
    hrm rebuild SERVICE [PROJECTION] [--nats URL]  drop and replay projections, with a progress bar
    hrm invite [--api URL] [--max-uses N] [--days D]   an invitation link (as an admin or moderator)
    hrm erase MEMBER_ID [--api URL]              erase a member (admin): crypto-shredding
    hrm export-log [--nats URL] [--out FILE|-]   the event log as JSON lines, as stored

status, rebuild and export-log talk to NATS (the services' control subjects
hr.ctl.<service>.status / .rebuild and the stream HR_EVENTS); invite and
erase go through the gateway's HTTP API like any client. Defaults come from
HRM_NATS_URL, HRM_API_URL, HRM_ADMIN_EMAIL and HRM_ADMIN_PASSWORD.

Each command is an async function taking URLs and output streams, so tests
call them in-process; ``main`` runs one with asyncio.run.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import quote

import httpx
import nats
import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from libs.contracts.subjects import EVENTS_ROOT, EVENTS_STREAM, control_subject

#: the services that answer on hr.ctl.<service>.*
SERVICES = ("onboarding", "groups")
DEFAULT_NATS = "nats://127.0.0.1:4222"
DEFAULT_API = "http://127.0.0.1:8000"
#: the server's page size of $JS.API.CONSUMER.LIST
CONSUMER_PAGE = 256


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


async def connect(nats_url: str):
    async def quiet(_e: Exception) -> None:  # a failed connect is reported once, below
        return None

    try:
        # nats-py retries a failed first connect for ever unless attempts are bounded
        return await asyncio.wait_for(
            nats.connect(_servers(nats_url), name="hrm", connect_timeout=3, allow_reconnect=False,
                         max_reconnect_attempts=1, reconnect_time_wait=0.2, error_cb=quiet),
            timeout=15,
        )
    except Exception as e:  # noqa: BLE001 - any failure means the bus is out of reach
        raise CliError(f"cannot reach NATS at {_redact(nats_url)}: {type(e).__name__}") from None


# ---------------------------------------------------------------- status


@dataclass
class ServiceStatus:
    service: str
    up: bool
    #: name, kind (None when read from JetStream), checkpoint, lag, and rebuild while one runs
    consumers: list[dict[str, Any]] = field(default_factory=list)


async def durable_consumers(js, service: str) -> list[dict[str, Any]]:
    """A service's durable consumers as JetStream sees them ($JS.API.CONSUMER.LIST),
    so the lag of a stopped service still shows. Durables are named <service>_<consumer>."""
    infos = []
    offset = 0
    while True:
        try:
            page = await js.consumers_info(EVENTS_STREAM, offset=offset)
        except NotFoundError:
            return []
        infos.extend(page)
        offset += len(page)
        if len(page) < CONSUMER_PAGE:
            break
    prefix = f"{service}_"
    return sorted(
        ({"name": i.name[len(prefix):], "kind": None, "checkpoint": i.ack_floor.stream_seq if i.ack_floor else 0,
          "lag": (i.num_pending or 0) + (i.num_ack_pending or 0)}
         for i in infos if i.name.startswith(prefix)),
        key=lambda c: c["name"],
    )


async def service_status(nc, service: str, timeout: float = 2.0) -> ServiceStatus:
    try:
        msg = await nc.request(control_subject(service, "status"), b"{}", timeout=timeout)
        body = json.loads(msg.data)
        return ServiceStatus(service, True, sorted(body.get("consumers", []), key=lambda c: c["name"]))
    except (nats.errors.NoRespondersError, nats.errors.TimeoutError, ValueError):
        return ServiceStatus(service, False, await durable_consumers(nc.jetstream(), service))


async def collect_status(nats_url: str, services: tuple[str, ...] = SERVICES,
                         timeout: float = 2.0) -> list[ServiceStatus]:
    nc = await connect(nats_url)
    try:
        return list(await asyncio.gather(*(service_status(nc, s, timeout) for s in services)))
    finally:
        await nc.close()


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def format_status(statuses: list[ServiceStatus]) -> str:
    rows = [["SERVICE", "STATE", "CONSUMER", "KIND", "CHECKPOINT", "LAG", ""]]
    for s in statuses:
        state = "up" if s.up else "down"
        if not s.consumers:
            rows.append([s.service, state, "-", "-", "-", "-", ""])
        for c in s.consumers:
            note = f"rebuilding {c['rebuild'].get('progress', 0) * 100:.0f}%" if c.get("rebuild") else ""
            lag = c.get("lag")
            rows.append([s.service, state, c["name"], c.get("kind") or "-", str(c.get("checkpoint", "-")),
                         "?" if lag is None else str(lag), note])
    lines = [_table(rows)]
    for s in statuses:
        if not s.up:
            lines.append(f"{s.service} is down: no answer on {control_subject(s.service, 'status')};"
                         f" its consumers' lag is read from JetStream ({EVENTS_STREAM})")
    return "\n".join(lines) + "\n"


async def status(nats_url: str, out: TextIO = sys.stdout, services: tuple[str, ...] = SERVICES,
                 timeout: float = 2.0) -> int:
    """Print the table; 1 when any service is down."""
    statuses = await collect_status(nats_url, services, timeout)
    out.write(format_status(statuses))
    return 0 if all(s.up for s in statuses) else 1


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


async def events_of_consumer(js, durable: str) -> int:
    """How many events of the log a consumer's filter subjects select: what a
    rebuild replays. Counted by a short-lived consumer with the same filters
    (its pending count at birth), so no message is read."""
    info = await js.consumer_info(EVENTS_STREAM, durable)
    filters = info.config.filter_subjects or ([info.config.filter_subject] if info.config.filter_subject else None)
    counter = await js.add_consumer(EVENTS_STREAM, ConsumerConfig(
        filter_subjects=filters, ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL,
        inactive_threshold=10.0, mem_storage=True,
    ))
    try:
        return counter.num_pending or 0
    finally:
        try:
            await js.delete_consumer(EVENTS_STREAM, counter.name)
        except NotFoundError:
            pass


async def rebuild(nats_url: str, service: str, projection: str | None = None, out: TextIO = sys.stdout,
                  *, poll: float = 0.1, timeout: float = 3600.0) -> int:
    """Ask the service to rebuild, then follow its status until every rebuilt
    projection has caught up with the log (no ``rebuild`` key, lag 0)."""
    nc = await connect(nats_url)
    try:
        started = time.monotonic()
        request = json.dumps({"projection": projection} if projection else {}).encode()
        try:
            msg = await nc.request(control_subject(service, "rebuild"), request, timeout=60)
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
            subject = control_subject(service, "rebuild")
            raise CliError(f"{service} does not answer on {subject}: is it running?") from None
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
        js = nc.jetstream()
        total = 0
        for name in sorted(targets):
            replayed = await events_of_consumer(js, f"{service}_{name}")
            total += replayed
            out.write(f"  {service}.{name}: {replayed} events replayed (log at seq {targets[name]})\n")
        out.write(f"rebuilt {len(targets)} projection(s) of {service}: {total} events replayed in {elapsed:.2f} s\n")
        return 0
    finally:
        await nc.close()


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

    async def __aenter__(self) -> "Api":
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
    Messages appended after the export began are left out. Returns the count."""
    nc = await connect(nats_url)
    try:
        js = nc.jetstream()
        try:
            info = await js.stream_info(EVENTS_STREAM)
        except NotFoundError:
            raise CliError(f"no stream {EVENTS_STREAM}: no service has started on this NATS yet") from None
        last = info.state.last_seq
        if not info.state.messages:
            return 0
        sub = await js.subscribe(f"{EVENTS_ROOT}.>", stream=EVENTS_STREAM, ordered_consumer=True)
        count = 0
        try:
            while True:
                try:
                    msg = await sub.next_msg(timeout=timeout)
                except nats.errors.TimeoutError:
                    raise CliError(f"the log stopped arriving after {count} messages"
                                   f" (expected up to seq {last})") from None
                seq = msg.metadata.sequence.stream
                if seq > last:
                    break
                try:
                    envelope: Any = json.loads(msg.data)
                except ValueError:
                    envelope = msg.data.decode("utf-8", errors="replace")
                line = {"seq": seq, "subject": msg.subject, "headers": dict(msg.headers or {}), "envelope": envelope}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                count += 1
                if seq >= last:
                    break
        finally:
            await sub.unsubscribe()
        out.flush()
        return count
    finally:
        await nc.close()


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
            with open(args.out, "w", encoding="utf-8") as f:
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

    s = sub.add_parser("status", help="every service's consumers: kind, checkpoint, lag; exit 1 if one is down")
    with_nats(s)
    s.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for each service (default 2)")

    s = sub.add_parser("rebuild", help="drop a service's projections (or one) and replay the log into them")
    s.add_argument("service", choices=SERVICES)
    s.add_argument("projection", nargs="?", help="one projection (default: all of the service's)")
    with_nats(s)

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
