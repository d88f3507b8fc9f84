from __future__ import annotations

import asyncio

from tests.platform_harness import Platform


async def settle(p: Platform, timeout: float = 30.0) -> None:
    """Wait until every projection and policy has applied everything in the log. The bound is generous: a test
    may rebuild every projection over the shared platform's whole log (12,000 events late in a run)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    runners = [r for svc in p.services.values() for r in svc.runners]
    while loop.time() < deadline:
        # asked all at once: one round trip's wait, not one per consumer (the fuzzer settles around every
        # refused request)
        try:
            lags = await asyncio.gather(*(r.lag() for r in runners))
        except TimeoutError:  # nats-py's is one too
            # the server's JetStream API left one of the 60 questions unanswered for its 5 s (once in a full
            # make test, 18:09 on 2026-12-06): waiting is this helper's whole job, so it asks again
            await asyncio.sleep(0.02)
            continue
        if all(lag == 0 for lag in lags):
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"consumers did not settle: {[await r.status() for r in runners]}")


async def log_position(p: Platform) -> int:
    return await p.services["onboarding"].events.last_seq()


async def settled_position(p: Platform) -> int:
    """The log's position once every consumer has applied it, settling only when the log moved since it was
    last found quiet. Settling asks each of the services' consumers (about 60) for its lag: around every
    request of the fuzzer and the permission matrix, that was most of their time, while a refused request
    appends nothing and leaves nothing to wait for. Quiet: the position read before the wait is the one read
    after it, so every event up to it was applied and none came meanwhile (a policy appends before it
    acknowledges, so a cascade shows as a moved position). Not for a test that resets a consumer: that changes
    no position."""
    seen = await log_position(p)
    if p.quiet_at == seen:
        return seen
    await settle(p)
    after = await log_position(p)
    p.quiet_at = after if after == seen else None
    return after
