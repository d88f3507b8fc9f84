"""Loaded by every Python process started with this directory on PYTHONPATH (the bench's platform, with
``--stalls``): with ``HRM_STALLWATCH_DIR`` set, it writes each event-loop step longer than
``HRM_STALLWATCH_MS`` (8) and each garbage collection longer than 3 ms to ``<dir>/<pid>-<name>.log`` as
``<monotonic s> step|gc<generation> <ms> <what>``. Timing a step is two clock reads; nothing is written for the
rest. A diagnostic of the bench, never of the platform itself (docs/adr/0042)."""

from __future__ import annotations

import asyncio
import asyncio.events
import gc
import os
import time

_GC_MS = 3.0


def _process_name() -> str:
    try:
        with open("/proc/self/cmdline", "rb") as f:
            argv = f.read().decode(errors="replace").split("\0")
    except OSError:
        return "python"
    for a in argv:
        if a.startswith(("services.", "scripts.")):
            return a.split(".")[1]
    return os.path.basename(argv[0]) if argv and argv[0] else "python"


def install(directory: str, threshold_ms: float = 8.0, name: str | None = None) -> None:
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{os.getpid()}-{name or _process_name()}.log")
    out = open(path, "a", buffering=1)  # noqa: SIM115 - open for the process's life
    clock = time.monotonic
    limit = threshold_ms / 1000
    step = asyncio.events.Handle._run

    def what(handle) -> str:
        owner = getattr(handle._callback, "__self__", None)
        if isinstance(owner, asyncio.Task):
            coro = owner.get_coro()
            return f"task {owner.get_name()} {getattr(coro, '__qualname__', coro)}"
        return repr(handle._callback)[:160]

    def timed(self) -> None:
        t = clock()
        step(self)
        took = clock() - t
        if took > limit:
            out.write(f"{t:.4f} step {took * 1000:.1f} {what(self)}\n")

    asyncio.events.Handle._run = timed
    started = [0.0]

    def collected(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = clock()
            return
        took = (clock() - started[0]) * 1000
        if took > _GC_MS:
            out.write(f"{started[0]:.4f} gc{info['generation']} {took:.1f} collected={info['collected']}\n")

    gc.callbacks.append(collected)


if os.environ.get("HRM_STALLWATCH_DIR"):
    install(os.environ["HRM_STALLWATCH_DIR"], float(os.environ.get("HRM_STALLWATCH_MS", "8")))
