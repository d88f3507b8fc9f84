"""The guard every projection write passes (libs/kit/projection.py): a document holding this event or a later
one is not written again, an old delete does not remove a later write. The view remembers the stamps it has
read or written; these random walks — events applied in order with redeliveries of earlier ones, each a
random program of reads, writes and deletes on a few documents, in store batches, on the real SQLite store —
hold every document equal, after every event, to what a view that reads the store again before each write
leaves. And a read-modify-write costs one read of the store, not two."""

from __future__ import annotations

import random

import pytest

from libs.kit.docstore.sqlite import SqliteStore
from libs.kit.projection import SEQ, View

KEYS = ("a", "b", "c")
COLLECTION = "docs"


class ReadsAgain(View):
    """The guard as it was: the store read again before each write."""

    async def _written_since(self, collection: str, doc_id: str, strictly: bool) -> bool:
        old = await self._store.get(collection, doc_id)
        if old is None:
            return False
        stamp = old.get(SEQ, 0)
        return stamp > self.seq if strictly else stamp >= self.seq


class Counting:
    def __init__(self, store: SqliteStore):
        self.store = store
        self.gets = 0

    async def get(self, collection: str, doc_id: str):
        self.gets += 1
        return await self.store.get(collection, doc_id)

    def __getattr__(self, name):
        return getattr(self.store, name)


@pytest.fixture
async def stores(tmp_path):
    ours = await SqliteStore.open(f"sqlite://{tmp_path}/ours", "view")
    theirs = await SqliteStore.open(f"sqlite://{tmp_path}/theirs", "view")
    yield ours, theirs
    await ours.close()
    await theirs.close()


def program(rnd: random.Random) -> list[tuple[str, str]]:
    return [(rnd.choice(("get", "put", "put", "delete")), rnd.choice(KEYS)) for _ in range(rnd.randint(1, 6))]


async def run(view: View, steps: list[tuple[str, str]], seq: int) -> list:
    seen = []
    for n, (op, key) in enumerate(steps):
        if op == "get":
            seen.append(await view.get(COLLECTION, key))
        elif op == "put":
            await view.put(COLLECTION, key, {"key": key, "by": seq, "step": n})
        else:
            await view.delete(COLLECTION, key)
    return seen


async def everything(store: SqliteStore) -> dict:
    return {key: await store.get(COLLECTION, key) for key in KEYS}


@pytest.mark.parametrize("seed", range(8))
async def test_remembered_stamps_guard_exactly_as_reading_the_store_again(stores, seed):
    rnd = random.Random(seed)
    ours, theirs = stores
    programs: dict[int, list] = {}
    skipped = 0
    for seq in range(1, 121):
        programs[seq] = program(rnd)
        # the event itself, sometimes after a redelivery of one before it (a rewind, a restart)
        deliveries = [seq] if rnd.random() < 0.6 else [rnd.randint(1, seq), seq]
        for at in deliveries:
            before = await everything(theirs)
            for store, cls in ((ours, View), (theirs, ReadsAgain)):
                async with store.batch():
                    seen = await run(cls(store, at), programs[at], at)
                if cls is View:
                    ours_seen = seen
            assert ours_seen == seen, (seed, at)
            after = await everything(ours)
            assert after == await everything(theirs), (seed, at, programs[at])
            if at < seq:
                skipped += after == before
    assert skipped > 10  # the walk did redeliver events that changed nothing


async def test_a_read_modify_write_reads_the_store_once(stores):
    ours, _ = stores
    counting = Counting(ours)
    async with ours.batch():
        view = View(counting, 5)
        doc = await view.get(COLLECTION, "a")
        await view.put(COLLECTION, "a", {"uses": (doc or {}).get("uses", 0) + 1})
        await view.delete(COLLECTION, "b")
    assert counting.gets == 2  # "a" once (the handler's read), "b" once (the guard's: never read before)
    async with ours.batch():
        view = View(counting, 4)  # an older event, redelivered
        doc = await view.get(COLLECTION, "a")
        await view.put(COLLECTION, "a", {"uses": doc["uses"] + 1})
    assert (await ours.get(COLLECTION, "a"))["uses"] == 1  # not counted twice
    assert counting.gets == 3
