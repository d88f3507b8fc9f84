"""`make run`: the whole platform on the embedded default.

Starts nats-server with JetStream (data in ./var/nats), each service as its
own process the gateway on http://127.0.0.1:8000 and the web client on
http://127.0.0.1:8080 (the address a person opens); prints every process's
output in one stream, prefixed by its name; Ctrl-C stops all of them.
Data in ./var survives a restart.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from libs.kit.natsserver import NatsServer
from services.registry import domain_services, edge_services

ROOT = Path(__file__).resolve().parent.parent
#: domain services first (in development they provision the streams), then the edge
SERVICES = tuple(d.name for d in (*domain_services(), *edge_services()))
DEV_ADMIN_EMAIL = "admin@hr-mnenie.ru"
DEV_ADMIN_PASSWORD = "admin-dev-password"
COLORS = {"nats": "\033[90m", **{d.name: d.colour for d in (*domain_services(), *edge_services())}}
EDGE = {d.name for d in edge_services()}


def main() -> int:
    var = Path(os.environ.get("HRM_VAR_DIR", ROOT / "var"))
    (var / "data").mkdir(parents=True, exist_ok=True)
    port = int(os.environ.get("HRM_NATS_PORT", "4222"))
    nats = NatsServer(var / "nats", port, log_file=var / "nats.log").start()
    env = {
        **os.environ,
        "HRM_NATS_URL": nats.url,
        "HRM_DOCSTORE_URL": os.environ.get("HRM_DOCSTORE_URL", f"sqlite:///{var / 'data'}"),
        "PYTHONUNBUFFERED": "1",
    }
    env.setdefault("HRM_ADMIN_EMAIL", DEV_ADMIN_EMAIL)
    env.setdefault("HRM_ADMIN_PASSWORD", DEV_ADMIN_PASSWORD)
    color = sys.stdout.isatty()

    procs: dict[str, subprocess.Popen] = {}
    sel = selectors.DefaultSelector()
    for name in SERVICES:
        p = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        procs[name] = p
        sel.register(p.stdout, selectors.EVENT_READ, name)
        if name not in EDGE:
            time.sleep(0.5)  # services create the streams; the edge needs none

    print(f"nats-server on {nats.url} (JetStream data in {var / 'nats'}, log in {var / 'nats.log'})")
    web_port = os.environ.get("HRM_WEB_PORT", "8080")
    print("gateway on http://127.0.0.1:8000  (OpenAPI: http://127.0.0.1:8000/docs)")
    print(f"web client — open this one: http://127.0.0.1:{web_port}/")
    if env["HRM_ADMIN_PASSWORD"] == DEV_ADMIN_PASSWORD:
        print(f"first admin (dev default): {env['HRM_ADMIN_EMAIL']} / {DEV_ADMIN_PASSWORD}"
              " — set HRM_ADMIN_EMAIL and HRM_ADMIN_PASSWORD to change")
    print("Ctrl-C stops everything", flush=True)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        while not stopping:
            for key, _ in sel.select(timeout=0.5):
                line = key.fileobj.readline()
                if line:
                    name = key.data
                    prefix = f"{COLORS[name]}{name:>10}\033[0m" if color else f"{name:>10}"
                    sys.stdout.write(f"{prefix} | {line.decode(errors='replace')}")
                    sys.stdout.flush()
                else:
                    sel.unregister(key.fileobj)
            dead = [n for n, p in procs.items() if p.poll() is not None]
            if dead and not stopping:
                print(f"process exited: {', '.join(dead)} — stopping the platform", flush=True)
                code = 1
                break
    finally:
        for name in reversed(SERVICES):
            p = procs[name]
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        nats.stop()
        print("stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
