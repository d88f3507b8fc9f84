from __future__ import annotations

import asyncio

from tests.platform_harness import Platform


async def settle(p: Platform, timeout: float = 10.0) -> None:
    """Wait until every projection and policy has applied everything in the log."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    runners = [r for svc in p.services.values() for r in svc.runners]
    while loop.time() < deadline:
        # asked all at once: one round trip's wait, not one per consumer (the fuzzer settles around every
        # refused request)
        lags = await asyncio.gather(*(r.lag() for r in runners))
        if all(lag == 0 for lag in lags):
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"consumers did not settle: {[await r.status() for r in runners]}")


async def log_position(p: Platform) -> int:
    return await p.services["onboarding"].events.last_seq()
