"""A small process supervisor for the chaos suite: the real platform as separate
OS processes (nats-server, onboarding, groups, gateway), so that kill -9 is real; and the mail server the
notifications service sends to (``sup.mail``, an SMTP server in the test process).

    sup = Supervisor(tmp_path)
    sup.add_nats("nats")                      # or sup.add_nats_cluster(3)
    sup.add_service("onboarding"); sup.add_service("groups"); sup.add_service("gateway")
    sup.start_all(); await sup.wait_ready()
    sup.kill9("onboarding"); sup.start("onboarding"); await sup.wait_ready()
    sup.stop_all()

Each process writes its output to ``<dir>/logs/<name>.log``; ``tail(name)``
shows the end of it when an assertion fails.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats
from aiosmtpd.controller import Controller

from libs.contracts.subjects import EVENTS_STREAM
from libs.kit.natsserver import NatsServer, free_port
from services.registry import domain_services, edge_services

ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "admin@chaos.example.ru"
ADMIN_PASSWORD = "chaos-admin-password"
SERVICES = tuple(d.name for d in domain_services())
EDGE = tuple(d.name for d in edge_services())


class ManagedProcess:
    """One named OS process that can be started, killed with SIGKILL, stopped and restarted."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_file: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_file = log_file
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        assert not self.alive, f"{self.name} is already running"
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as out:
            out.write(f"\n===== start #{self.starts + 1} of {self.name} at {time.strftime('%X')} =====\n".encode())
            out.flush()
            self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.starts += 1

    def kill9(self) -> None:
        if self.alive:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def pause(self) -> None:
        """SIGSTOP: the process is frozen (a swap storm, a stuck VM) but its connections stay open."""
        if self.alive:
            os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.alive:
            os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self, timeout: float = 10.0) -> None:
        if self.alive:
            self.proc.send_signal(signal.SIGCONT)  # a paused process cannot handle SIGTERM
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()


class NatsNode:
    """A nats-server under the supervisor: same interface as ManagedProcess,
    restarted on the same store directory and port."""

    def __init__(self, name: str, server: NatsServer):
        self.name = name
        self.server = server
        self.starts = 0
        self.log_file = server.log_file

    @property
    def pid(self) -> int | None:
        return self.server.proc.pid if self.server.proc else None

    @property
    def alive(self) -> bool:
        return self.server.proc is not None and self.server.proc.poll() is None

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()
        self.starts += 1

    def kill9(self) -> None:
        self.server.kill()

    def stop(self, timeout: float = 10.0) -> None:
        self.server.stop(timeout)


@dataclass(frozen=True)
class Received:
    message_id: str
    recipients: tuple[str, ...]
    t: float
    language: str = ""


class _Handler:
    def __init__(self, sink: MailSink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        got = Received(str(message["Message-ID"] or ""), tuple(envelope.rcpt_tos), time.time(),
                       str(message["Content-Language"] or ""))
        self.sink.received.append(got)
        then, self.sink.on_next = self.sink.on_next, None
        if then is not None:
            then(got)  # e.g. kill -9 the sender: the message is taken, its answer never reaches it
        return "250 OK"


class MailSink:
    """The platform's mail server: an SMTP server in the test process (aiosmtpd, a thread of its own) that
    keeps every message's Message-ID and recipients; taken down and brought back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self._controller: Controller | None = None
        #: when it was last taken down and brought back (wall clock)
        self.downs: list[tuple[float, float | None]] = []
        #: called once (in the server's thread) with the next message taken, before the server answers it
        self.on_next: Callable[[Received], None] | None = None

    @property
    def up(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
            self._controller.start()
            if self.downs and self.downs[-1][1] is None:
                self.downs[-1] = (self.downs[-1][0], time.time())

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
            self.downs.append((time.time(), None))


class Supervisor:
    def __init__(self, base: Path, *, replicas: int = 1):
        self.base = Path(base)
        self.logs = self.base / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.base / "data"
        self.replicas = replicas
        self.port = free_port()
        self.web_port = free_port()
        self.nodes: dict[str, NatsNode] = {}
        self.procs: dict[str, ManagedProcess] = {}
        self.mail = MailSink()

    # ------------------------------------------------------------ set-up

    def add_nats(self, name: str = "nats") -> NatsNode:
        node = NatsNode(name, NatsServer(self.base / name, log_file=self.logs / f"{name}.log"))
        self.nodes[name] = node
        return node

    def add_nats_cluster(self, size: int = 3, cluster: str = "hrm-chaos") -> list[NatsNode]:
        """``size`` nats-servers routed to each other on loopback, each with its own store
        (JetStream and its store directory come from NatsServer's -js -sd)."""
        client_ports = [free_port() for _ in range(size)]
        route_ports = [free_port() for _ in range(size)]
        routes = ", ".join(f"nats://127.0.0.1:{p}" for p in route_ports)
        nodes = []
        for i in range(size):
            name = f"n{i + 1}"
            store = self.base / name
            conf = self.base / f"{name}.conf"
            conf.write_text(
                f'server_name: "{name}"\n'
                f"cluster {{\n  name: {cluster}\n  listen: 127.0.0.1:{route_ports[i]}\n  routes: [{routes}]\n}}\n"
            )
            node = NatsNode(name, NatsServer(store, client_ports[i], config=conf, log_file=self.logs / f"{name}.log"))
            self.nodes[name] = node
            nodes.append(node)
        return nodes

    @property
    def nats_url(self) -> str:
        return ",".join(n.url for n in self.nodes.values())

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "HRM_NATS_URL": self.nats_url,
            "HRM_DOCSTORE_URL": f"sqlite:///{self.data_dir}",
            "HRM_PORT": str(self.port),
            # the web client (an edge service too) on a port of its own, in front of this gateway
            "HRM_WEB_PORT": str(self.web_port),
            "HRM_GATEWAY_URL": f"http://127.0.0.1:{self.port}",
            "HRM_STREAM_REPLICAS": str(self.replicas),
            "HRM_ARGON2_TIME_COST": "1",
            "HRM_ARGON2_MEMORY_KIB": "1024",
            "HRM_ADMIN_EMAIL": ADMIN_EMAIL,
            "HRM_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "HRM_LOG_LEVEL": "INFO",
            "HRM_REQUEST_TIMEOUT_S": "8",
            "OTEL_SDK_DISABLED": "true",
            # the notifications service sends its e-mails to the test's mail server, retrying soon after a failure
            "HRM_SMTP_HOST": "127.0.0.1",
            "HRM_SMTP_PORT": str(self.mail.port),
            "HRM_SMTP_TLS": "none",
            "HRM_SMTP_TIMEOUT_S": "5",
            "HRM_MAIL_FIRST_BACKOFF_S": "0.2",
            "HRM_MAIL_MAX_BACKOFF_S": "2",
        }

    def add_service(self, name: str, replica: int = 1) -> ManagedProcess:
        """The process ``name`` (a service), or ``name-r<replica>`` for a further replica of it."""
        key = name if replica == 1 else f"{name}-r{replica}"
        p = ManagedProcess(key, [sys.executable, "-m", f"services.{name}"], self.env(), self.logs / f"{key}.log")
        p.service = name
        self.procs[key] = p
        return p

    def add_platform(self, replicas: int = 1) -> None:
        for name in SERVICES:
            for replica in range(1, replicas + 1):
                self.add_service(name, replica)
        for name in EDGE:
            self.add_service(name)

    def replicas_of(self, service: str) -> list[ManagedProcess]:
        return [p for p in self.procs.values() if getattr(p, "service", p.name) == service]

    async def lease_holders(self, service: str) -> dict[str, str | None]:
        """Consumer name -> the process (its key in procs) that holds its lease, by the holder's pid."""
        from libs.kit.lease import LEASES_BUCKET

        by_pid = {str(p.pid): key for key, p in self.procs.items() if p.alive}
        nc = await nats.connect(self.nats_url.split(","), connect_timeout=2)
        try:
            kv = await nc.jetstream(timeout=5).key_value(LEASES_BUCKET)
            out = {}
            for key in await kv.keys():
                if key.startswith(f"{service}."):
                    entry = await kv.get(key)
                    pid = entry.value.decode().rsplit(":", 1)[-1] if entry.value else ""
                    out[key.split(".", 1)[1]] = by_pid.get(pid)
            return out
        except Exception:  # noqa: BLE001 - no leases yet (nats-py raises when the bucket is empty)
            return {}
        finally:
            await nc.close()

    # ------------------------------------------------------------ control

    def get(self, name: str) -> ManagedProcess | NatsNode:
        return self.nodes.get(name) or self.procs[name]

    def start(self, name: str) -> None:
        self.get(name).start()

    def kill9(self, name: str) -> None:
        self.get(name).kill9()

    def stop(self, name: str) -> None:
        self.get(name).stop()

    def pause(self, name: str) -> None:
        self.procs[name].pause()

    def resume(self, name: str) -> None:
        self.procs[name].resume()

    def checkpoint(self, service: str, name: str) -> int:
        """A consumer's checkpoint as its service last committed it (``projection:members``, ``policy:base_groups``)."""
        f = self.data_dir / f"hr_{service}.sqlite3"
        conn = sqlite3.connect(f"file:{f}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT seq FROM checkpoints WHERE name = ?", (name,)).fetchone()
        finally:
            conn.close()
        return row[0] if row else 0

    async def kill9_mid_batch(self, service: str, consumer: str, kind: str = "projection", timeout: float = 5.0) -> bool:
        """kill -9 ``service`` while its consumer holds events it was delivered but has not yet
        recorded as applied (delivered stream sequence > committed checkpoint). Returns whether
        that moment was caught before ``timeout`` (if not, the kill happens anyway)."""
        durable = f"{service}_{consumer}"
        deadline = time.monotonic() + timeout
        caught = False
        nc = await nats.connect(self.nats_url.split(","), connect_timeout=2)
        try:
            js = nc.jetstream(timeout=2)
            while time.monotonic() < deadline and not caught:
                try:
                    info = await js.consumer_info(EVENTS_STREAM, durable)
                    caught = info.delivered.stream_seq > self.checkpoint(service, f"{kind}:{consumer}")
                except Exception:  # noqa: BLE001 - the consumer is being re-created (rebuild)
                    pass
                if not caught:
                    await asyncio.sleep(0.003)
        finally:
            self.kill9(service)
            await nc.close()
        return caught

    def restart(self, name: str, *, hard: bool = True) -> None:
        """kill -9 (or SIGTERM when ``hard`` is false) and start again, same store and port."""
        p = self.get(name)
        p.kill9() if hard else p.stop()
        p.start()

    async def start_all(self) -> None:
        self.mail.start()
        for node in self.nodes.values():
            node.start()
        await self.wait_jetstream()
        for name in SERVICES:
            for p in self.replicas_of(name):
                p.start()
            if self.replicas_of(name):
                await self.wait_service(name)
        for name in EDGE:
            if name in self.procs:
                self.procs[name].start()
        await self.wait_ready()

    def stop_all(self) -> None:
        for p in reversed(list(self.procs.values())):
            p.stop()
        for node in self.nodes.values():
            node.stop()
        if self.mail.up:
            self.mail.stop()

    def dead(self) -> list[str]:
        """Processes that should run and do not (crashed by themselves)."""
        return [n for n, p in {**self.nodes, **self.procs}.items() if p.starts and not p.alive]

    # ------------------------------------------------------------ waiting

    async def wait_jetstream(self, timeout: float = 30.0) -> None:
        """JetStream answers its API (in a cluster: once the meta leader is elected)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                nc = await nats.connect(self.nats_url.split(","), connect_timeout=1, allow_reconnect=False)
                try:
                    info = json.loads((await nc.request("$JS.API.INFO", b"", timeout=1)).data)
                    if "error" not in info:
                        return
                    last = info["error"]
                finally:
                    await nc.close()
            except Exception as e:  # noqa: BLE001 - not up yet
                last = e
            await asyncio.sleep(0.2)
        raise TimeoutError(f"JetStream not available: {last!r}")

    async def wait_service(self, name: str, timeout: float = 30.0) -> None:
        """The service answers its status request (it has created its streams and consumers)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            proc = self.replicas_of(name)[0]
            if not proc.alive:
                raise RuntimeError(f"{name} exited with {proc.proc.returncode}:\n{self.tail(name)}")
            try:
                nc = await nats.connect(self.nats_url.split(","), connect_timeout=1, allow_reconnect=False)
                try:
                    await nc.request(f"hr.ctl.{name}.status", b"{}", timeout=1)
                    return
                finally:
                    await nc.close()
            except Exception as e:  # noqa: BLE001
                last = e
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{name} did not answer: {last!r}\n{self.tail(name)}")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_ready(self, timeout: float = 60.0) -> float:
        """Poll the gateway's /readyz until 200; return the seconds it took."""
        t0 = time.monotonic()
        last = None
        async with httpx.AsyncClient(base_url=self.base_url, timeout=3.0) as c:
            while time.monotonic() - t0 < timeout:
                try:
                    r = await c.get("/readyz")
                    if r.status_code == 200:
                        return time.monotonic() - t0
                    last = r.text
                except httpx.HTTPError as e:
                    last = repr(e)
                await asyncio.sleep(0.1)
        raise TimeoutError(f"/readyz not 200 after {timeout}s: {last}\n" + "\n".join(self.tail(n) for n in self.procs))

    def tail(self, name: str, lines: int = 40) -> str:
        f = self.get(name).log_file
        if not f or not Path(f).exists():
            return f"--- {name}: no log"
        text = Path(f).read_text(errors="replace").splitlines()[-lines:]
        return f"--- {name} ({f}):\n" + "\n".join(text)
