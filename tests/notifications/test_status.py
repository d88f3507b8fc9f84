"""The service's status answers at once while its store is locked (a stuck backup holding the SQLite file): the
mail server's entry counts the e-mails waiting as last counted instead of waiting behind the store's writes,
so readiness names the consumers stalled on the store rather than losing the whole service to a time-out
(found by the chaos suite's locked-store scenario)."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import nats

from libs.contracts.subjects import control_subject
from tests.e2e.helpers import settle

NTF = "notifications"


async def test_the_status_answers_at_once_while_the_store_is_locked(platform):
    await settle(platform)
    svc = platform.services[NTF]
    store_file = platform.data_dir / f"hr_{NTF}.sqlite3"
    assert store_file.exists(), sorted(p.name for p in platform.data_dir.iterdir())
    lock = sqlite3.connect(store_file, timeout=10, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    writes = []
    nc = await nats.connect(platform.nats_url)
    try:
        # the store's one worker waits on the lock (5 s a write), a count would wait behind it
        writes = [asyncio.create_task(svc.store.put("status_probe", str(i), {"i": i})) for i in range(3)]
        await asyncio.sleep(0.3)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        status = json.loads((await nc.request(control_subject(NTF, "status"), b"{}", timeout=2.0)).data)
        took = loop.time() - t0
        assert took < 1.5, took
        [mail] = [c for c in status["consumers"] if c["name"] == "mail_server"]
        assert mail["kind"] == "channel" and isinstance(mail["lag"], int)
    finally:
        lock.rollback()
        lock.close()
        await nc.close()
        await asyncio.gather(*writes, return_exceptions=True)
    for i in range(3):
        await svc.store.delete("status_probe", str(i))
