"""The guard every projection write passes (libs/kit/projection.py): a document holding this event or a later
one is not written again, an old delete does not remove a later write. The view remembers the stamps it has
read or written; these random walks — events applied in order with redeliveries of earlier ones, each a
random program of reads, writes and deletes on a few documents, in store batches, on the real SQLite store —
hold every document equal, after every event, to what a view that reads the store again before each write
leaves. And a read-modify-write costs one read of the store, not two. A replay after a drop (a rebuild) does
not ask the store for what it has not written since, and leaves the same documents."""

from __future__ import annotations

import random

import pytest

from libs.kit.docstore.sqlite import SqliteStore
from libs.kit.projection import SEQ, View, Written

KEYS = ("a", "b", "c")
COLLECTION = "docs"


class ReadsAgain(View):
    """The guard as it was: the store read again before each write."""

    async def _stamp(self, collection: str, doc_id: str) -> int | None:
        old = await self._store.get(collection, doc_id)
        return None if old is None else old.get(SEQ, 0)


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


class Rollback(Exception):
    pass


@pytest.mark.parametrize(("seed", "most"), [(s, m) for s in range(6) for m in (100_000, 1)])
async def test_a_replay_after_a_drop_reads_only_what_it_wrote_and_leaves_the_same_documents(stores, seed, most):
    """The rebuild's shortcut (``Written``): after the drop, a document it has not written is not there. Random
    programs replayed in random batches, some rolled back half-way and applied again (a batch that failed),
    against a replay that reads the store every time: the same answers and the same documents after every batch;
    the store is never asked for a document the replay has not written since the drop — unless past its bound
    (``most``), where it asks for everything again."""
    rnd = random.Random(seed)
    ours, theirs = stores
    counting = Counting(ours)
    written_ids: set[str] = set()
    asked_unwritten = 0

    async def get(collection: str, doc_id: str):
        nonlocal asked_unwritten
        counting.gets += 1
        asked_unwritten += doc_id not in written_ids
        return await ours.get(collection, doc_id)

    async def put(collection: str, doc_id: str, doc: dict):
        written_ids.add(doc_id)  # a rolled-back write stays counted: the replay's knowledge does not roll back
        await ours.put(collection, doc_id, doc)

    counting.get, counting.put = get, put
    # what the log held before the drop is written once, then dropped (the replay must not see any of it)
    for store in (ours, theirs):
        async with store.batch():
            for key in KEYS:
                await store.put(COLLECTION, key, {"key": key, "stale": True, SEQ: 999})
            await store.drop(COLLECTION)
    written = Written([COLLECTION], most=most)
    programs = [program(rnd) for _ in range(90)]
    seq = 1
    while seq <= len(programs):
        size = rnd.randint(1, 7)
        batch = range(seq, min(seq + size, len(programs) + 1))
        fail_at = rnd.choice(list(batch)) if rnd.random() < 0.3 else None
        try:
            async with ours.batch():
                ours_seen = []
                for at in batch:
                    if at == fail_at:
                        raise Rollback
                    view = View(counting, at, written)
                    ours_seen.append(await run(view, programs[at - 1], at))
        except Rollback:
            continue  # rolled back: the same batch again (its writes stay counted in ``written``: only a read more)
        async with theirs.batch():
            theirs_seen = [await run(ReadsAgain(theirs, at), programs[at - 1], at) for at in batch]
        assert ours_seen == theirs_seen, (seed, seq)
        assert await everything(ours) == await everything(theirs), (seed, seq)
        seq += size
    if most >= len(KEYS):
        assert asked_unwritten == 0, "asked the store for a document the replay had not written"
    else:
        assert asked_unwritten > 0  # past its bound it knows nothing, and reads
    assert counting.gets > 0  # what it did write, it read


def test_what_a_replay_wrote_is_bounded_and_only_for_its_own_collections():
    written = Written(["a"], most=2)
    assert written.absent("a", "x") and not written.absent("b", "x")  # another collection: not dropped, unknown
    written.wrote("a", "x")
    written.wrote("a", "x")  # the same document twice counts once
    written.wrote("b", "y")
    assert not written.absent("a", "x") and written.absent("a", "y")
    written.wrote("a", "y")
    assert not written.absent("a", "y") and written.absent("a", "z")
    written.wrote("a", "z")  # the third: past the bound, nothing is known any more
    assert not written.absent("a", "z") and not written.absent("a", "never")
