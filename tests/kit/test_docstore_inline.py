"""The embedded store commits a small batch on the event loop's thread (docs/adr/0036): what that must not cost.

The loop never waits on a replica's write lock, a commit never runs beside a job of the worker on the one
connection (no reader sees half a batch), the WAL is still written back while every batch is small, and a
batch that fails there leaves nothing, as on the worker.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from libs.kit.docstore import open_store
from libs.kit.docstore import sqlite as adapter
from libs.kit.docstore.port import Fenced


async def test_a_small_batch_commits_without_a_hop_to_the_worker(tmp_path: Path) -> None:
    """The point of it: 300 small batches hand the worker a job only every INLINE_RUN-th time."""
    store = await open_store(f"sqlite://{tmp_path}", "hops")
    submitted = 0
    submit = store._worker.submit  # type: ignore[attr-defined]

    def counting(*args, **kwargs):
        nonlocal submitted
        submitted += 1
        return submit(*args, **kwargs)

    store._worker.submit = counting  # type: ignore[attr-defined]
    try:
        for n in range(300):
            async with store.batch():
                await store.put("things", f"d{n}", {"n": n})
                await store.set_checkpoint("proj", n + 1)
        assert submitted <= 300 // adapter.INLINE_RUN + 1, submitted
        assert await store.count("things") == 300 and await store.get_checkpoint("proj") == 300
    finally:
        await store.close()


async def test_a_replica_holding_the_write_lock_does_not_stop_the_loop(tmp_path: Path) -> None:
    """Another connection (a replica) holds the write lock: the batch waits for it on the worker, as before,
    while the loop goes on serving; once the lock is free the batch lands."""
    store = await open_store(f"sqlite://{tmp_path}", "locked")
    await store.put("things", "warm", {"n": 0})
    replica = sqlite3.connect(tmp_path / "locked.sqlite3", isolation_level=None, check_same_thread=False)
    replica.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write() -> None:
        async with store.batch():
            await store.put("things", "a", {"n": 1})

    beat = asyncio.create_task(ticker())
    try:
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.6)
        assert not writing.done()  # waiting for the lock, not failed, not landed
        assert ticks >= 20, ticks  # a loop blocked on the lock would not have ticked at all
        replica.execute("ROLLBACK")
        await asyncio.wait_for(writing, 10)
        assert await store.get("things", "a") == {"n": 1}
    finally:
        beat.cancel()
        replica.close()
        await store.close()


async def test_a_batch_never_commits_beside_a_job_of_the_worker(tmp_path: Path) -> None:
    """Finds and counts run on the worker with the writing connection: a batch committed on the loop's thread
    while one ran would share the connection with it mid-way (its statements, its transaction). With the
    worker busy (held here on purpose), a small batch waits its turn behind it, and lands once it is done;
    a batch's writes are all there or none, whoever read in between."""
    store = await open_store(f"sqlite://{tmp_path}", "turns")
    release = threading.Event()
    try:
        held = asyncio.ensure_future(store._run(release.wait, 10))  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)

        async def write() -> None:
            async with store.batch():
                await store.put("pairs", "a", {"n": 1})
                await store.put("pairs", "b", {"n": 1})

        writing = asyncio.create_task(write())
        await asyncio.sleep(0.3)
        assert not writing.done()  # behind the worker's job, not beside it
        assert await store.get("pairs", "a") is None  # the loop's reader: nothing of it yet
        release.set()
        await asyncio.wait_for(asyncio.gather(held, writing), 10)
        assert [d["n"] for d in await store.find("pairs")] == [1, 1]
    finally:
        release.set()
        await store.close()


async def test_the_wal_is_written_back_while_every_batch_is_small(tmp_path: Path) -> None:
    """The loop's commits leave the WAL alone; every INLINE_RUN-th commit goes to the worker, whose commit writes
    it back once it is past SQLite's threshold. 3,000 commits of a 2 KB document, never written back, would leave
    a WAL of tens of megabytes."""
    store = await open_store(f"sqlite://{tmp_path}", "walled")
    try:
        for n in range(3000):
            async with store.batch():
                await store.put("things", f"d{n % 500}", {"n": n, "pad": "x" * 2000})
        wal = tmp_path / "walled.sqlite3-wal"
        frames = (adapter.WAL_AUTOCHECKPOINT + adapter.INLINE_RUN * 4) * 4096 * 1.1
        assert wal.stat().st_size < frames, wal.stat().st_size
        assert await store.count("things") == 500
    finally:
        await store.close()


async def test_the_loops_commits_never_write_the_wal_back(tmp_path: Path) -> None:
    """Writing the WAL back into the file (and syncing it) takes milliseconds: it is the worker's, never the
    loop's. Fewer than INLINE_RUN small commits, past SQLite's threshold in frames, leave every frame in the WAL."""
    store = await open_store(f"sqlite://{tmp_path}", "frames")
    try:
        for n in range(adapter.INLINE_RUN - 1):
            async with store.batch():
                for k in range(6):
                    await store.put("things", f"d{n}-{k}", {"pad": "x" * 8000})
        frames = (tmp_path / "frames.sqlite3-wal").stat().st_size // (4096 + 24)
        assert frames > adapter.WAL_AUTOCHECKPOINT * 1.2, frames
    finally:
        await store.close()


@pytest.mark.parametrize("failure", ["fenced", "disk-full"])
async def test_a_batch_refused_on_the_loops_thread_leaves_nothing(tmp_path: Path, failure: str) -> None:
    """A fenced checkpoint (a newer holder of the projection) or a full disk fails the whole small batch, as
    on the worker: nothing of it is there after, and the store takes the next batch once it can."""
    store = await open_store(f"sqlite://{tmp_path}", "refused")
    conn = store._conn  # type: ignore[attr-defined]
    try:
        await store.set_checkpoint("proj", 5, fence=2)
        await store.put("things", "old", {"n": 0})
        if failure == "disk-full":  # no page more than the file has now (the worker is idle: the loop may ask)
            conn.execute(f"PRAGMA max_page_count={conn.execute('PRAGMA page_count').fetchone()[0]}")
        with pytest.raises(Fenced if failure == "fenced" else sqlite3.OperationalError):
            async with store.batch():
                for n in range(8):
                    await store.put("things", f"a{n}", {"n": n, "pad": "ж" * 3000})
                await store.delete("things", "old")
                await store.set_checkpoint("proj", 9, fence=1 if failure == "fenced" else 2)
        assert await store.get("things", "a0") is None and await store.get("things", "old") == {"n": 0}
        assert await store.get_checkpoint("proj") == 5
        conn.execute("PRAGMA max_page_count=1073741823")
        async with store.batch():
            await store.put("things", "b", {"n": 2})
        assert await store.get("things", "b") == {"n": 2}
    finally:
        await store.close()
