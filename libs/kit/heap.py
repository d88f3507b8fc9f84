"""What a process builds to start — modules, models, routes, schemas, about 100,000 objects — lives as long
as the process, and the collector's full passes walked all of it again and again: one pass took 58 ms in
the onboarding service, ten of them 0.58 s of a 4.8-second rebuild of the members projection, and a pause
in the gateway is a pause of every request in flight (docs/adr/0035)."""

from __future__ import annotations

import gc

from libs.kit.logging import get_logger

log = get_logger(__name__)


def freeze_what_startup_built() -> None:
    """Collect what starting left behind, then move everything alive into the collector's permanent
    generation, which its passes skip. For a process's entry point once it has started, never for a
    process that starts platforms over and over (the test suite): a cycle frozen there is never collected."""
    gc.collect()
    gc.freeze()
    log.info("heap_frozen", objects=gc.get_freeze_count())
