"""A started process's heap is frozen: the collector's passes no longer walk what starting built, and
what is built later is still collected. Checked in processes of their own (freezing the test process
would keep every later test's cycles forever): a service's bootstrap, and real ``python -m`` processes
of a service, the gateway and the web client, which say so in their logs once started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from libs.kit.natsserver import free_port

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json
from services.onboarding.app import bootstrap
from libs.kit.heap import freeze_what_startup_built
svc = bootstrap()
walked_before = len(gc.get_objects())
freeze_what_startup_built()
walked_after = len(gc.get_objects())
class Node:
    pass
gc.disable()  # so that the count below is all of them
for _ in range(1000):  # cycles made after the freeze
    a, b = Node(), Node()
    a.other, b.other = b, a
del a, b
print(json.dumps({"before": walked_before, "after": walked_after, "frozen": gc.get_freeze_count(),
                  "collected": gc.collect()}))
"""


def test_what_a_bootstrap_built_is_no_longer_walked_and_later_cycles_are_still_collected():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True).stdout
    got = json.loads(out.strip().splitlines()[-1])
    assert got["before"] > 50_000, got  # a service's bootstrap builds that much
    assert got["frozen"] >= got["before"] * 0.9, got
    assert got["after"] < 1_000, got  # what a full pass walks now
    assert got["collected"] >= 2_000, got  # the 1,000 cycles made after the freeze: two objects each


def _frozen_count(log: Path, deadline: float) -> int:
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if "heap_frozen" in line:
                return json.loads(line)["objects"]
        time.sleep(0.2)
    raise AssertionError(f"{log.name}: no heap_frozen line\n{log.read_text(errors='replace')[-2000:]}")


def test_each_kind_of_process_freezes_its_heap_once_started(nats_server, tmp_path):
    env = {**os.environ, "HRM_NATS_URL": nats_server.url, "HRM_DOCSTORE_URL": f"sqlite:///{tmp_path / 'data'}",
           "HRM_PORT": str(free_port()), "HRM_WEB_PORT": str(free_port()), "HRM_LOG_FORMAT": "json",
           "HRM_DOCSTORE_PREFIX": "heaptest_"}
    procs = {}
    try:
        for name in ("roles", "gateway", "web"):
            log = open(tmp_path / f"{name}.log", "wb")
            procs[name] = subprocess.Popen([sys.executable, "-m", f"services.{name}"], cwd=ROOT, env=env,
                                           stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        for name in procs:
            assert _frozen_count(tmp_path / f"{name}.log", deadline) > 10_000, name
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            p.wait(15)
