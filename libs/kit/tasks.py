"""Stopping a background task for sure.

On Python 3.11, ``asyncio.wait_for`` (which nats-py's requests use) drops a cancellation that arrives
as the awaited reply does (cpython gh-86296, fixed in 3.12): the task carries on to its next sleep and
a single ``cancel()`` followed by ``await task`` waits for ever (a service's stop hung that way in the timer
test, one run in 5 to 20), and a lease keeper cancelled without a wait may go on renewing a lease its
runner gave up. So cancel again until the task is done.
"""

from __future__ import annotations

import asyncio
import contextlib

#: how long one cancellation is given before it is repeated
RECANCEL_S = 0.5


async def _cancelled(task: asyncio.Task) -> None:
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=RECANCEL_S)


async def cancel_and_wait(task: asyncio.Task | None) -> None:
    if task is None:
        return
    await _cancelled(task)
    with contextlib.suppress(asyncio.CancelledError):
        task.result()

