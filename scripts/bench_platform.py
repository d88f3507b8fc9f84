"""`make bench`'s platform: its own nats-server and every service as a
separate OS process (so resident memory is per process), in a temporary
directory, on free ports. Nothing of `./var` is touched."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nats

from libs.kit.natsserver import NatsServer, free_port
from services.registry import domain_services, edge_services

ROOT = Path(__file__).resolve().parent.parent
SERVICES = tuple(d.name for d in (*domain_services(), *edge_services()))
ADMIN_EMAIL = "bench-admin@hr-mnenie.ru"
ADMIN_PASSWORD = "bench-admin-password"


def rss_mib(pid: int) -> float | None:
    """Resident set size of one process, from /proc/<pid>/status (VmRSS)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far, from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Samples every service's RSS in the background; keeps the maximum seen."""

    def __init__(self, pids: dict[str, int], every_s: float = 0.1):
        self.pids = pids
        self.every_s = every_s
        self.max: dict[str, float] = {}
        self._task: asyncio.Task | None = None

    def sample(self) -> dict[str, float]:
        now = {}
        for name, pid in self.pids.items():
            v = rss_mib(pid)
            if v is not None:
                now[name] = v
                self.max[name] = max(self.max.get(name, 0.0), v)
        return now

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.every_s)

    def start(self) -> RssSampler:
        self.max = {}
        self.sample()
        self._task = asyncio.create_task(self._run())
        return self

    async def stop(self) -> dict[str, float]:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.sample()
        return dict(self.max)


class _Processes:
    """OS processes of one side of a measurement, each logging to ``<tmp>/<name>.log``: their pids, a check that
    none has died (with its log's tail), and a stop that asks them (in ``stop_order``) before it kills."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.procs: dict[str, subprocess.Popen] = {}

    @property
    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.procs.items()}

    def log_of(self, name: str) -> Path:
        return self.tmp / f"{name.replace(' ', '-')}.log"

    def _check_alive(self) -> None:
        for name, p in self.procs.items():
            if p.poll() is not None:
                log = self.log_of(name).read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {p.returncode}:\n{log}")

    async def _answering(self, nats_url: str, subject: str, payload: bytes, timeout: float, why: str) -> None:
        """Until a request on ``subject`` is answered (a process up), every process still alive."""
        nc = await nats.connect(nats_url, name="bench-wait")
        try:
            deadline = time.monotonic() + timeout
            while True:
                self._check_alive()
                try:
                    await nc.request(subject, payload, timeout=1.0)
                    return
                except Exception:  # noqa: BLE001 - not up yet
                    if time.monotonic() > deadline:
                        raise TimeoutError(why) from None
                    await asyncio.sleep(0.1)
        finally:
            await nc.close()

    def _stop_processes(self, stop_order: list[str] | None = None) -> None:
        for name in stop_order or list(self.procs):
            p = self.procs.get(name)
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs.clear()


class BenchPlatform(_Processes):
    def __init__(self, keep: bool = False, stalls: str | None = None):
        """``stalls``: a directory where every service process writes its long event-loop steps and garbage
        collections (scripts/stallwatch)."""
        super().__init__(Path(tempfile.mkdtemp(prefix="hrm-bench-")))
        self.keep = keep
        self.stalls = stalls
        self.nats: NatsServer | None = None
        self.port = free_port()
        self.web_port = free_port()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def nats_url(self) -> str:
        return self.nats.url

    def env(self) -> dict[str, str]:
        data = self.tmp / "data"
        data.mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "HRM_NATS_URL": self.nats.url,
            "HRM_DOCSTORE_URL": f"sqlite:///{data}",
            "HRM_PORT": str(self.port),
            # the web client (an edge service too) on a port of its own, in front of this gateway
            "HRM_WEB_PORT": str(self.web_port),
            "HRM_GATEWAY_URL": f"http://127.0.0.1:{self.port}",
            "HRM_ADMIN_EMAIL": ADMIN_EMAIL,
            "HRM_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "HRM_ARGON2_TIME_COST": "1",
            "HRM_ARGON2_MEMORY_KIB": "1024",
            "HRM_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            **self._stallwatch_env(),
        }

    def _stallwatch_env(self) -> dict[str, str]:
        if not self.stalls:
            return {}
        watch = str(ROOT / "scripts" / "stallwatch")
        path = os.environ.get("PYTHONPATH")
        return {"HRM_STALLWATCH_DIR": self.stalls, "PYTHONPATH": f"{watch}:{path}" if path else watch}

    async def start(self, timeout: float = 60.0) -> BenchPlatform:
        self.nats = NatsServer(self.tmp / "nats", log_file=self.tmp / "nats.log").start()
        env = self.env()
        for name in SERVICES:
            log = open(self.log_of(name), "ab")
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
            log.close()
            if name == "onboarding":
                # onboarding creates the streams and the first admin: let it get there first
                await self._wait_status(name, timeout)
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5.0) as c:
            while True:
                self._check_alive()
                try:
                    r = await c.get("/readyz")
                    if r.status_code == 200:
                        r = await c.post("/v1/auth/token", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
                        if r.status_code == 200:
                            return self
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"platform not ready after {timeout}s; logs in {self.tmp}")
                await asyncio.sleep(0.1)

    async def _wait_status(self, service: str, timeout: float) -> None:
        await self._answering(self.nats.url, f"hr.ctl.{service}.status", b"{}", timeout,
                              f"{service} did not answer; log in {self.log_of(service)}")

    def stop(self) -> None:
        self._stop_processes(list(reversed(SERVICES)))
        if self.nats:
            self.nats.stop()
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


class RawPlatform(_Processes):
    """The raw command path (scripts/bench_raw.py): a bare FastAPI app and a bare JetStream responder, two
    OS processes on the platform's nats-server, logs in its temporary directory."""

    ROLES = ("raw app", "raw responder")

    def __init__(self, nats_url: str, tmp: Path):
        super().__init__(tmp)
        self.nats_url = nats_url
        self.port = free_port()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, name: str, *args: str) -> None:
        log = open(self.log_of(name), "ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "scripts.bench_raw", *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
        )
        log.close()

    async def start(self, timeout: float = 60.0) -> RawPlatform:
        from scripts.bench_raw import RAW_PING

        self._spawn("raw responder", "responder", "--nats", self.nats_url)
        self._spawn("raw app", "app", "--nats", self.nats_url, "--port", str(self.port))
        deadline = time.monotonic() + timeout
        await self._answering(self.nats_url, RAW_PING, b"", timeout, f"the raw responder did not answer; logs in {self.tmp}")
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5.0) as c:
            while True:
                self._check_alive()
                try:
                    if (await c.get("/healthz")).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the raw app did not answer; logs in {self.tmp}")
                await asyncio.sleep(0.1)

    def stop(self) -> None:
        self._stop_processes()
