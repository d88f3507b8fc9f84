from __future__ import annotations

import asyncio

from tests.platform_harness import Platform


async def settle(p: Platform, timeout: float = 10.0) -> None:
    """Wait until every projection and policy has applied everything in the log."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        statuses = [await r.status() for svc in p.services.values() for r in svc.runners]
        if all(s["lag"] == 0 for s in statuses):
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"consumers did not settle: {statuses}")


async def log_position(p: Platform) -> int:
    return await p.services["onboarding"].events.last_seq()
