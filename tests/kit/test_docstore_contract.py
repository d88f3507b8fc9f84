"""The DocumentStore contract, run against every adapter that can be reached."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import sqlite3
import string
import unicodedata
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from libs.kit.docstore import DocumentStore, open_store
from libs.kit.docstore.port import Doc, Sort

MONGO_URL_ENV = "HRM_MONGO_URL"


@dataclass(frozen=True)
class Backend:
    url: str
    database: str
    durable: bool  # what was written survives close() and a new open_store()
    transactional: bool  # batch() rolls back on an exception

    async def open(self) -> DocumentStore:
        return await open_store(self.url, self.database)


class Boom(Exception):
    pass


@pytest_asyncio.fixture(
    loop_scope="session", params=["sqlite-file", "sqlite-memory", "mongodb"]
)
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Backend]:
    kind: str = request.param
    if kind == "sqlite-file":
        yield Backend(
            f"sqlite://{tmp_path / 'stores'}",
            "contract",
            durable=True,
            transactional=True,
        )
    elif kind == "sqlite-memory":
        yield Backend(
            "sqlite://:memory:", "contract", durable=False, transactional=True
        )
    else:
        url = os.environ.get(MONGO_URL_ENV)
        if not url:
            pytest.skip(
                f"{MONGO_URL_ENV} is not set: no MongoDB to run the contract against"
            )
        from pymongo import AsyncMongoClient

        database = f"contract_{uuid.uuid4().hex[:16]}"
        yield Backend(url, database, durable=True, transactional=False)
        client: AsyncMongoClient[Doc] = AsyncMongoClient(url)
        try:
            await client.drop_database(database)
        finally:
            await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def store(backend: Backend) -> AsyncIterator[DocumentStore]:
    opened = await backend.open()
    yield opened
    await opened.close()


PEOPLE: dict[str, Doc] = {
    "a": {
        "name": "Anna",
        "city": "Moscow",
        "age": 30,
        "active": True,
        "tags": ["hr", "it"],
    },
    "b": {"name": "Boris", "city": "Kazan", "age": 25, "active": False, "tags": ["it"]},
    "c": {"name": "Clara", "city": "Moscow", "age": 41, "active": True, "tags": []},
    "d": {"name": "Dmitry", "city": None, "age": 30.0, "active": 1, "tags": "hr"},
    "e": {"name": "Elena", "age": 19, "active": True},
}


@pytest_asyncio.fixture(loop_scope="session")
async def people(store: DocumentStore) -> DocumentStore:
    # Put out of id order, so that id order in results is the store's doing.
    for doc_id in ("d", "b", "e", "a", "c"):
        await store.put("people", doc_id, PEOPLE[doc_id])
    await store.put("other", "a", {"name": "Stranger", "city": "Moscow"})
    return store


async def names(
    store: DocumentStore,
    where: Doc | None = None,
    sort: Sort = (),
    limit: int | None = None,
) -> list[str]:
    return [doc["name"] for doc in await store.find("people", where, sort, limit)]


# --- put / get / delete ---------------------------------------------------


async def test_put_then_get_round_trips_every_json_type(store: DocumentStore) -> None:
    doc: Doc = {
        "s": "text",
        "i": 42,
        "big": 2**53 + 1,
        "f": 0.1,
        "neg": -3.5,
        "t": True,
        "fa": False,
        "n": None,
        "list": [1, "a", False, None, 2.5, {"k": [2]}],
        "obj": {"nested": {"deep": [1.5, True]}},
        "empty_list": [],
        "empty_obj": {},
    }
    await store.put("things", "x", doc)

    got = await store.get("things", "x")

    assert got == doc
    assert got is not None
    assert type(got["t"]) is bool and type(got["fa"]) is bool
    assert type(got["i"]) is int and type(got["big"]) is int
    assert type(got["f"]) is float
    assert type(got["list"][2]) is bool and type(got["list"][0]) is int
    assert "_id" not in got


async def test_put_replaces_the_whole_document(store: DocumentStore) -> None:
    await store.put("things", "x", {"a": 1, "b": 2})
    await store.put("things", "x", {"a": 3})

    assert await store.get("things", "x") == {"a": 3}
    assert await store.count("things") == 1


async def test_get_missing_returns_none(store: DocumentStore) -> None:
    await store.put("things", "x", {"a": 1})

    assert await store.get("things", "y") is None
    assert await store.get("elsewhere", "x") is None


async def test_delete_removes_only_that_document(store: DocumentStore) -> None:
    await store.put("things", "x", {"a": 1})
    await store.put("things", "y", {"a": 2})

    await store.delete("things", "x")
    await store.delete("things", "never-was")

    assert await store.get("things", "x") is None
    assert await store.get("things", "y") == {"a": 2}


TIMER = {"key": "t", "at": "2026-12-05T10:00:00+00:00", "tries": 1}
MOVED = {**TIMER, "at": "2026-12-05T10:05:00+00:00", "tries": 2}


async def test_delete_if_removes_a_document_only_while_it_meets_the_condition(store: DocumentStore) -> None:
    await store.put("timers", "t", TIMER)
    await store.put("timers", "u", TIMER)
    await store.put("other", "t", TIMER)

    assert await store.delete_if("timers", "t", {"at": MOVED["at"]}) is False
    assert await store.delete_if("timers", "t", {"at": TIMER["at"], "tries": 2}) is False
    assert await store.delete_if("timers", "t", {"at": {"$gt": TIMER["at"]}}) is False
    assert await store.delete_if("timers", "never-was", {"at": TIMER["at"]}) is False
    assert await store.get("timers", "t") == TIMER

    assert await store.delete_if("timers", "t", {"at": {"$lte": TIMER["at"]}, "tries": 1}) is True
    assert await store.get("timers", "t") is None
    assert await store.delete_if("timers", "t", {"at": TIMER["at"]}) is False
    # the same document under another id, or in another collection, is another document
    assert await store.get("timers", "u") == TIMER
    assert await store.get("other", "t") == TIMER


@pytest.mark.parametrize("where", [{"$or": [{"at": 1}]}, {"a.b": 1}, {"at": {"$where": "1"}}, {"at": {"$gt": 1, "x": 2}}])
async def test_delete_if_refuses_a_condition_it_cannot_read_and_deletes_nothing(store: DocumentStore, where) -> None:
    await store.put("timers", "t", TIMER)
    with pytest.raises(ValueError):
        await store.delete_if("timers", "t", where)
    assert await store.get("timers", "t") == TIMER


async def test_delete_if_inside_a_batch_sees_the_batchs_own_writes(store: DocumentStore) -> None:
    await store.put("timers", "t", TIMER)
    async with store.batch():
        await store.put("timers", "t", MOVED)
        assert await store.delete_if("timers", "t", {"at": TIMER["at"]}) is False
        assert await store.get("timers", "t") == MOVED
        assert await store.delete_if("timers", "t", {"at": MOVED["at"]}) is True
        assert await store.get("timers", "t") is None
        await store.put("timers", "t", TIMER)
    assert await store.get("timers", "t") == TIMER


async def test_a_document_moved_while_a_delete_if_waits_is_not_removed(backend: Backend, store: DocumentStore) -> None:
    """The ticker's race (libs/kit/timers.py): it read the timer as due, and the projection moves it while the
    delete is on its way. Whichever commits first, the moved timer stays; a read then a delete would remove it
    (the read sees the committed, unmoved timer while the projection's batch is open)."""
    for fails in (False, True):
        await store.put("timers", "t", TIMER)
        moved, release = asyncio.Event(), asyncio.Event()

        async def project() -> None:
            async with store.batch():
                await store.put("timers", "t", MOVED)
                moved.set()
                await release.wait()
                if fails:
                    raise Boom

        async def tick() -> bool:
            await moved.wait()
            deleting = asyncio.create_task(store.delete_if("timers", "t", {"at": TIMER["at"]}))
            for _ in range(20):
                await asyncio.sleep(0)
            release.set()
            return await deleting

        results = await asyncio.gather(project(), tick(), return_exceptions=True)
        assert isinstance(results[0], Boom) if fails else results[0] is None
        if fails and backend.transactional:
            # the move was rolled back: the timer was still due, and is removed
            assert results[1] is True
            assert await store.get("timers", "t") is None
        else:
            assert results[1] is False
            assert await store.get("timers", "t") == MOVED


async def test_collections_are_separate(people: DocumentStore) -> None:
    assert await people.get("other", "a") == {"name": "Stranger", "city": "Moscow"}
    assert await names(people, {"city": "Moscow"}) == ["Anna", "Clara"]
    assert await people.count("other") == 1


# --- find / count -------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (None, ["Anna", "Boris", "Clara", "Dmitry", "Elena"]),
        ({}, ["Anna", "Boris", "Clara", "Dmitry", "Elena"]),
        ({"city": "Moscow"}, ["Anna", "Clara"]),
        ({"city": "Tver"}, []),
        ({"name": "anna"}, []),
        ({"city": "Moscow", "active": True}, ["Anna", "Clara"]),
        ({"city": "Moscow", "age": 30}, ["Anna"]),
        ({"city": "Moscow", "age": 30, "name": "Clara"}, []),
        # a list field matches a value it holds; a scalar field still matches itself
        ({"tags": "hr"}, ["Anna", "Dmitry"]),
        ({"tags": "it"}, ["Anna", "Boris"]),
        ({"tags": "it", "active": False}, ["Boris"]),
        ({"tags": "ops"}, []),
        # a list value matches the whole list, in order
        ({"tags": ["it"]}, ["Boris"]),
        ({"tags": ["hr", "it"]}, ["Anna"]),
        ({"tags": ["it", "hr"]}, []),
        ({"tags": []}, ["Clara"]),
        # booleans are not numbers; ints equal floats
        ({"active": True}, ["Anna", "Clara", "Elena"]),
        ({"active": False}, ["Boris"]),
        ({"active": 1}, ["Dmitry"]),
        ({"age": 30}, ["Anna", "Dmitry"]),
        ({"age": 30.0}, ["Anna", "Dmitry"]),
        ({"age": 19}, ["Elena"]),
        ({"age": "30"}, []),
        # None matches null and missing
        ({"city": None}, ["Dmitry", "Elena"]),
        ({"nickname": None}, ["Anna", "Boris", "Clara", "Dmitry", "Elena"]),
        ({"nickname": "x"}, []),
    ],
)
async def test_find_and_count_by_equality(
    people: DocumentStore, where: Doc | None, expected: list[str]
) -> None:
    assert await names(people, where) == expected
    assert await people.count("people", where) == len(expected)


async def test_find_matches_nested_objects_whole_and_inside_lists(
    store: DocumentStore,
) -> None:
    await store.put(
        "orgs",
        "1",
        {"name": "one", "meta": {"lang": "ru", "v": 2}, "roles": [{"org": "x"}]},
    )
    await store.put(
        "orgs", "2", {"name": "two", "meta": {"lang": "ru"}, "roles": [{"org": "y"}, 7]}
    )

    assert [
        d["name"] for d in await store.find("orgs", {"meta": {"lang": "ru", "v": 2}})
    ] == ["one"]
    assert [d["name"] for d in await store.find("orgs", {"meta": {"lang": "ru"}})] == [
        "two"
    ]
    assert [d["name"] for d in await store.find("orgs", {"roles": {"org": "y"}})] == [
        "two"
    ]
    assert [d["name"] for d in await store.find("orgs", {"roles": 7})] == ["two"]
    assert await store.find("orgs", {"meta": "ru"}) == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ([("age", 1)], ["Elena", "Boris", "Anna", "Dmitry", "Clara"]),
        ([("age", -1)], ["Clara", "Anna", "Dmitry", "Boris", "Elena"]),
        ([("name", -1)], ["Elena", "Dmitry", "Clara", "Boris", "Anna"]),
        # null and missing first ascending, last descending; ties in id order
        ([("city", 1)], ["Dmitry", "Elena", "Boris", "Anna", "Clara"]),
        ([("city", -1)], ["Anna", "Clara", "Boris", "Dmitry", "Elena"]),
        ([("city", 1), ("age", -1)], ["Dmitry", "Elena", "Boris", "Clara", "Anna"]),
        ([("city", -1), ("age", 1)], ["Anna", "Clara", "Boris", "Elena", "Dmitry"]),
        # MongoDB's order across types: numbers before booleans, false before true
        ([("active", -1), ("name", 1)], ["Anna", "Clara", "Elena", "Boris", "Dmitry"]),
        ([("active", 1), ("name", -1)], ["Dmitry", "Boris", "Elena", "Clara", "Anna"]),
    ],
)
async def test_find_sorts(
    people: DocumentStore, sort: Sort, expected: list[str]
) -> None:
    assert await names(people, sort=sort) == expected


async def test_find_limits_after_filtering_and_sorting(people: DocumentStore) -> None:
    assert await names(people, sort=[("age", 1)], limit=2) == ["Elena", "Boris"]
    assert await names(people, {"active": True}, [("age", -1)], limit=2) == [
        "Clara",
        "Anna",
    ]
    assert await names(people, {"city": "Moscow"}, limit=10) == ["Anna", "Clara"]
    assert await names(people, limit=0) == []


async def test_find_refuses_paths_and_operators(people: DocumentStore) -> None:
    with pytest.raises(ValueError):
        await people.find("people", {"a.b": 1})
    with pytest.raises(ValueError):
        await people.count("people", {"$or": []})
    with pytest.raises(ValueError):
        await people.find("people", sort=[("$natural", 1)])
    with pytest.raises(ValueError):
        await people.find("people", sort=[("age", 0)])


async def test_count_of_an_empty_collection_is_zero(store: DocumentStore) -> None:
    assert await store.count("nothing") == 0
    assert await store.find("nothing") == []


async def test_drop_empties_only_that_collection(people: DocumentStore) -> None:
    await people.drop("people")
    await people.drop("never-was")

    assert await people.count("people") == 0
    assert await people.get("people", "a") is None
    assert await people.count("other") == 1

    await people.put("people", "z", {"name": "Zoya"})
    assert await names(people) == ["Zoya"]


async def test_concurrent_writes_all_land(store: DocumentStore) -> None:
    await asyncio.gather(*(store.put("many", f"{i:03}", {"i": i}) for i in range(50)))

    assert await store.count("many") == 50
    assert [d["i"] for d in await store.find("many")] == list(range(50))


# --- checkpoints --------------------------------------------------------------


async def test_checkpoint_defaults_to_zero_and_keeps_the_last_value(
    store: DocumentStore,
) -> None:
    assert await store.get_checkpoint("projection-a") == 0

    await store.set_checkpoint("projection-a", 5)
    await store.set_checkpoint("projection-a", 12)
    await store.set_checkpoint("projection-b", 3)

    assert await store.get_checkpoint("projection-a") == 12
    assert await store.get_checkpoint("projection-b") == 3
    assert await store.count("projection-a") == 0


# --- batch --------------------------------------------------------------------


async def test_batch_commits_its_writes(store: DocumentStore) -> None:
    await store.put("things", "gone", {"a": 0})

    async with store.batch():
        await store.put("things", "x", {"a": 1})
        async with store.batch():
            await store.put("things", "y", {"a": 2})
        await store.delete("things", "gone")
        await store.set_checkpoint("proj", 9)

    assert await store.get("things", "x") == {"a": 1}
    assert await store.get("things", "y") == {"a": 2}
    assert await store.get("things", "gone") is None
    assert await store.get_checkpoint("proj") == 9


async def test_a_batch_reads_its_own_writes_before_and_after_they_reach_the_database(
    store: DocumentStore,
) -> None:
    """Point reads inside a batch see what the batch wrote, whether its writes are still buffered or were
    handed to the database by a query (a find, a count, a drop), and what it did not write as committed;
    one collection dropped in the middle reads empty but for what was written after."""
    await store.put("things", "old", {"a": 0})
    await store.put("things", "untouched", {"a": 5})
    await store.put("other", "kept", {"b": 1})
    await store.set_checkpoint("proj", 3)
    async with store.batch():
        await store.put("things", "old", {"a": 1})
        await store.put("things", "new", {"a": 2})
        await store.delete("things", "untouched")
        await store.set_checkpoint("proj", 4)
        assert await store.count("things") == 2  # the writes reach the transaction here
        assert await store.get("things", "old") == {"a": 1}
        assert await store.get("things", "new") == {"a": 2}
        assert await store.get("things", "untouched") is None
        assert await store.get("other", "kept") == {"b": 1}
        assert await store.get_checkpoint("proj") == 4
        await store.put("things", "old", {"a": 3})  # buffered again, after the first hand-over
        assert await store.get("things", "old") == {"a": 3}
        await store.drop("things")
        assert await store.get("things", "old") is None and await store.get("things", "new") is None
        await store.put("things", "fresh", {"a": 4})
        assert await store.get("things", "fresh") == {"a": 4}
        assert await store.find("things") == [{"a": 4}]
        assert await store.get("other", "kept") == {"b": 1}
    assert await store.find("things") == [{"a": 4}]
    assert await store.get("other", "kept") == {"b": 1} and await store.get_checkpoint("proj") == 4


@pytest.mark.parametrize("seed", range(6))
async def test_a_batch_that_writes_the_same_documents_many_times_leaves_what_was_written_last(
    store: DocumentStore, seed: int
) -> None:
    """A rebuild puts most documents several times in one batch: whatever the order of puts, deletes,
    drops and the queries that hand the writes to the database half-way, each document is what was
    written to it last, and nothing of the other collections moves. Checked against a dict."""
    rng = random.Random(seed)
    keys = [("things", k) for k in "abcd"] + [("other", k) for k in "ab"]
    model: dict[tuple[str, str], Doc] = {}
    for coll, key in keys[::2]:  # some documents there before the batch
        model[(coll, key)] = {"v": -1, "k": key}
        await store.put(coll, key, model[(coll, key)])
    async with store.batch():
        for step in range(200):
            coll, key = rng.choice(keys)
            roll = rng.random()
            if roll < 0.55:
                model[(coll, key)] = {"v": step, "k": key, "pad": "ж" * rng.randrange(40)}
                await store.put(coll, key, model[(coll, key)])
            elif roll < 0.85:
                model.pop((coll, key), None)
                await store.delete(coll, key)
            elif roll < 0.9:
                assert await store.count(coll) == sum(1 for c, _ in model if c == coll)  # a hand-over
            elif roll < 0.92:
                await store.drop(coll)
                model = {k: v for k, v in model.items() if k[0] != coll}
            else:
                await store.set_checkpoint("proj", step)
            assert await store.get(coll, key) == model.get((coll, key))
    for coll, key in keys:
        assert await store.get(coll, key) == model.get((coll, key)), (coll, key)
    for coll in ("things", "other"):
        assert await store.count(coll) == sum(1 for c, _ in model if c == coll)


#: what JSON escapes or spells out, in names and in values: a batch hands its rows to SQLite as one JSON array
AWKWARD_NAMES = ['q"uote', "back\\slash", "tab\tnew\nline", "\x01\x1f\x7f", "\u2028\u2029", "эмодзи😀𝔘",
                 "\ufeff", " ", "", "[1,2]", '{"a":1}', "null", "a\\u0000b", "'; DROP TABLE docs; --"]
AWKWARD_VALUES: list[Any] = ["x\x00y", 'q"\\/\b\f', "\u2028", 2**63 - 1, -(2**63), 2**64 + 7, 1e300, 1.5e-300, -0.0,
                             0.1, [], {}, [[[]]], {"": {"": None}}, "я" * 5000, True, None]


@pytest.mark.parametrize("with_nul", [False, True], ids=["names-without-nul", "a-name-with-nul"])
async def test_a_batch_lands_awkward_names_and_values_as_written(store: DocumentStore, with_nul: bool) -> None:
    """Every name and value that JSON escapes or spells out lands as written, in a batch as outside one,
    whether a name in the batch holds a NUL (which ends SQLite's reading of a JSON string: such a batch goes
    row by row) or not. Read back by id and by query, and updated and deleted again in a second batch."""
    names = AWKWARD_NAMES + (["nul\x00inside"] if with_nul else [])
    docs = {name: {"name": name, "v": value, "i": i} for i, (name, value) in
            enumerate(zip(names, AWKWARD_VALUES * 2, strict=False))}
    async with store.batch():
        for name, doc in docs.items():
            await store.put("awk", name, doc)
            await store.put("awk/" + name, "same", {"coll": name})  # an awkward collection's name too
        await store.put("awk", "doomed", {"v": 1})
        await store.delete("awk", "doomed")
    for name, doc in docs.items():
        assert await store.get("awk", name) == doc, name
        assert await store.get("awk/" + name, "same") == {"coll": name}, name
        assert await store.find("awk", {"i": doc["i"]}) == [doc], name
    assert await store.get("awk", "doomed") is None
    assert await store.count("awk") == len(docs)
    gone = names[::2]
    async with store.batch():
        for name in gone:
            await store.delete("awk", name)
        for name in names[1::2]:
            await store.put("awk", name, {**docs[name], "v": "again"})
    for name in names:
        assert await store.get("awk", name) == (None if name in gone else {**docs[name], "v": "again"}), name
    assert await store.count("awk") == len(names) - len(gone)


async def test_batch_rolls_back_on_exception(
    backend: Backend, store: DocumentStore
) -> None:
    if not backend.transactional:
        pytest.skip(
            "not applicable: MongoDB batches are best effort, nothing is rolled back"
        )
    await store.put("things", "kept", {"a": 0})
    await store.set_checkpoint("proj", 4)

    with pytest.raises(Boom):
        async with store.batch():
            await store.put("things", "x", {"a": 1})
            await store.put("things", "kept", {"a": 99})
            async with store.batch():
                await store.put("things", "y", {"a": 2})
            await store.delete("things", "kept")
            await store.set_checkpoint("proj", 9)
            raise Boom

    assert await store.get("things", "x") is None
    assert await store.get("things", "y") is None
    assert await store.get("things", "kept") == {"a": 0}
    assert await store.get_checkpoint("proj") == 4

    await store.put("things", "after", {"a": 3})  # the store is usable again
    assert await store.get("things", "after") == {"a": 3}


async def test_inner_batch_failure_undoes_the_outer_batch(
    backend: Backend, store: DocumentStore
) -> None:
    if not backend.transactional:
        pytest.skip(
            "not applicable: MongoDB batches are best effort, nothing is rolled back"
        )

    with pytest.raises(Boom):
        async with store.batch():
            await store.put("things", "outer", {"a": 1})
            async with store.batch():
                await store.put("things", "inner", {"a": 2})
                raise Boom

    assert await store.count("things") == 0


async def test_write_from_another_task_is_not_part_of_a_batch(
    backend: Backend, store: DocumentStore
) -> None:
    inside = asyncio.Event()

    async def outsider() -> None:
        await inside.wait()
        await store.put("things", "outside", {"by": "other task"})

    other = asyncio.create_task(outsider())  # created outside the batch on purpose
    with pytest.raises(Boom):
        async with store.batch():
            await store.put("things", "inside", {"by": "batch"})
            inside.set()
            await asyncio.sleep(0.05)
            raise Boom
    await asyncio.wait_for(other, timeout=5)

    assert await store.get("things", "outside") == {"by": "other task"}
    if backend.transactional:
        assert await store.get("things", "inside") is None


# --- durability and text ------------------------------------------------------


async def test_data_survives_close_and_reopen(backend: Backend) -> None:
    if not backend.durable:
        pytest.skip("not applicable: an in-memory store ends with close()")
    first = await backend.open()
    await first.put("things", "x", {"a": 1, "tags": ["t"]})
    async with first.batch():
        await first.put("things", "y", {"a": 2})
    await first.set_checkpoint("proj", 77)
    await first.close()

    second = await backend.open()
    try:
        assert await second.get("things", "x") == {"a": 1, "tags": ["t"]}
        assert await second.find("things", {"tags": "t"}) == [{"a": 1, "tags": ["t"]}]
        assert await second.get("things", "y") == {"a": 2}
        assert await second.get_checkpoint("proj") == 77
    finally:
        await second.close()


async def test_russian_text_round_trips_and_is_searchable(store: DocumentStore) -> None:
    doc: Doc = {
        "title": "Ведущий специалист по подбору персонала",
        "город": "Санкт-Петербург",
        "tags": ["найм", "ёлка"],
        "note": "Ё и й — не «е» и «и» 🙂",
    }
    await store.put("вакансии", "вакансия-1", doc)
    for i, name in enumerate(["Яков", "Анна", "Ёжик", "Борис", "анна"]):
        await store.put("люди", str(i), {"name": name})

    assert await store.get("вакансии", "вакансия-1") == doc
    assert await store.find("вакансии", {"город": "Санкт-Петербург"}) == [doc]
    assert await store.find("вакансии", {"tags": "ёлка"}) == [doc]
    assert await store.find("вакансии", {"tags": "елка"}) == []
    found = [d["name"] for d in await store.find("люди", sort=[("name", 1)])]
    assert found == [
        "Ёжик",
        "Анна",
        "Борис",
        "Яков",
        "анна",
    ]  # binary (code point) order


# --- SQLite specifics ---------------------------------------------------------


async def test_sqlite_keeps_one_file_per_database(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'nested' / 'dir'}"
    hr = await open_store(url, "hr")
    auth = await open_store(url, "auth")
    try:
        await hr.put("things", "x", {"db": "hr"})
        assert await auth.get("things", "x") is None
    finally:
        await hr.close()
        await auth.close()

    assert (tmp_path / "nested" / "dir" / "hr.sqlite3").is_file()
    assert (tmp_path / "nested" / "dir" / "auth.sqlite3").is_file()


async def test_sqlite_in_memory_stores_are_separate() -> None:
    one = await open_store("sqlite://:memory:", "same")
    two = await open_store("sqlite://:memory:", "same")
    try:
        await one.put("things", "x", {"a": 1})
        assert await two.get("things", "x") is None
    finally:
        await one.close()
        await two.close()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
async def test_sqlite_refuses_a_document_that_is_not_json_and_writes_nothing(tmp_path: Path, bad: float) -> None:
    """NaN and infinity are not JSON: stored, they would make SQLite's json functions fail every query that
    touches the row — the whole collection's finds."""
    store = await open_store(f"sqlite://{tmp_path}", "nan")
    try:
        await store.put("things", "ok", {"v": 1})
        with pytest.raises(ValueError):
            await store.put("things", "bad", {"v": 1, "deep": [{"x": bad}]})
        with pytest.raises(ValueError):
            async with store.batch():
                await store.put("things", "ok", {"v": 2})
                await store.put("things", "bad", {"v": bad})
        assert await store.find("things") == [{"v": 1}]
        assert await store.get("things", "bad") is None
    finally:
        await store.close()


async def test_sqlite_hands_a_batch_over_in_a_statement_or_a_few_not_one_per_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python on the store's thread waits for the event loop's thread: a statement per document (executemany
    gives the interpreter up around each row) made a rebuild's commit of 2,048 documents take seconds while the
    loop was busy. A batch's documents go in one statement per kind of write, in a few when they are large
    (more than ``ROWS_PER_STATEMENT_BYTES``), and all land."""
    from libs.kit.docstore import sqlite as adapter

    store = await open_store(f"sqlite://{tmp_path}", "rows")
    statements: list[str] = []
    # on the store's own thread, where its writing connection lives
    await store._run(store._conn.set_trace_callback, statements.append)  # type: ignore[attr-defined]
    try:
        async with store.batch():
            for n in range(500):
                await store.put("things", f"d{n}", {"n": n, "pad": "ж" * 100})
            for n in range(0, 500, 5):
                await store.delete("things", f"d{n}")
            await store.set_checkpoint("proj", 7)
        writes = [s for s in statements if s.startswith(("INSERT INTO docs", "DELETE FROM docs"))]
        assert len(writes) == 2, writes[:3]
        assert await store.count("things") == 400 and await store.get_checkpoint("proj") == 7

        monkeypatch.setattr(adapter, "ROWS_PER_STATEMENT_BYTES", 2_000)  # rows of ~130 characters: ~15 a statement
        statements.clear()
        async with store.batch():
            for n in range(500):
                await store.put("things", f"d{n}", {"n": -n, "pad": "ж" * 100})
        writes = [s for s in statements if s.startswith("INSERT INTO docs")]
        assert 25 < len(writes) < 50
        assert await store.count("things") == 500
        assert all(doc["n"] <= 0 for doc in await store.find("things"))
    finally:
        await store.close()


@pytest.mark.parametrize("limit", [None, 6_000], ids=["one-value", "past-sqlite-length-limit"])
async def test_sqlite_reads_many_documents_in_their_order_as_one_value_or_row_by_row(
    tmp_path: Path, limit: int | None
) -> None:
    """A find's documents come out of SQLite as one value (one row, not one per document: see ``_fetch_array``),
    in the query's order; a result too long for one SQLite value (here the limit lowered to 6,000 bytes) is read
    row by row, and both give the same documents, pages and cursors."""
    store = await open_store(f"sqlite://{tmp_path}", "many")
    try:
        docs = {f"d{n:03d}": {"n": (n * 37) % 101, "name": "ж" * (n % 7), "id": n} for n in range(300)}
        awkward = {name: {"n": -1, "name": name, "id": 1000 + i} for i, name in enumerate(AWKWARD_NAMES)}
        async with store.batch():
            for doc_id, doc in {**docs, **awkward}.items():
                await store.put("things", doc_id, doc)
        if limit is not None:
            await store._run(store._conn.setlimit, sqlite3.SQLITE_LIMIT_LENGTH, limit)  # type: ignore[attr-defined]
        every = {**docs, **awkward}
        by_n = sorted(every, key=lambda k: (every[k]["n"], k))
        assert [d["id"] for d in await store.find("things", sort=[("n", 1)])] == [every[k]["id"] for k in by_n]
        assert [d["id"] for d in await store.find("things", {"n": {"$gte": 50}}, [("n", -1)], limit=40)] == [
            every[k]["id"] for k in sorted((k for k in docs if docs[k]["n"] >= 50), key=lambda k: (-docs[k]["n"], k))
        ][:40]
        assert await store.find("things", {"n": 1000}) == []
        seen: list[str] = []
        after = None
        while True:
            page = await store.find_page("things", sort=[("n", 1)], limit=7, after=after)
            seen += [next(k for k in every if every[k]["id"] == d["id"]) for d in page.items]
            if page.next_cursor is None:
                break
            after = page.next_cursor
        assert seen == by_n  # every cursor held the right id, awkward ones included
    finally:
        await store.close()


async def test_sqlite_file_uses_wal(tmp_path: Path) -> None:
    store = await open_store(f"sqlite://{tmp_path}", "wal")
    await store.close()

    conn = sqlite3.connect(tmp_path / "wal.sqlite3")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


async def test_replicas_opening_a_new_file_together_all_open_it(tmp_path: Path) -> None:
    """Two replicas of a service start together on one new file: both read it, both ask to switch it to WAL, and
    SQLite refuses one at once ("database is locked", no waiting: it would deadlock). The chaos suite saw the
    standby crash at start that way, leaving no replica to take over. Three at once, over many new files."""
    for n in range(150):
        url = f"sqlite://{tmp_path / str(n)}"
        stores = await asyncio.gather(*(open_store(url, "shared") for _ in range(3)))
        for store in stores:
            await store.close()


async def test_unsupported_url_is_refused() -> None:
    with pytest.raises(ValueError):
        await open_store("postgres://localhost/db", "x")


# --- queries beyond equality: the Python reference ----------------------------
#
# A straightforward model of MongoDB's semantics, written apart from the
# adapters: every generated query is asked of the store and of this model.

_MISSING = object()


def ref_fold(text: str) -> str:
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    return folded.replace("ё", "е")


def ref_bracket(value: Any) -> int:
    if value is None or value is _MISSING:
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, int | float):
        return 1
    if isinstance(value, str):
        return 2
    return 3 if isinstance(value, dict) else 4


def ref_equal(stored: Any, wanted: Any) -> bool:
    if ref_bracket(stored) != ref_bracket(wanted) or stored is _MISSING:
        return False
    if isinstance(wanted, list | dict):
        return json.dumps(stored) == json.dumps(wanted)
    return bool(stored == wanted)


def ref_values(doc: Doc, field: str) -> list[Any]:
    """What a condition is tried on: the value, and a list's elements."""
    value = doc.get(field, _MISSING)
    if value is _MISSING:
        return []
    return [value, *value] if isinstance(value, list) else [value]


def ref_test(doc: Doc, field: str, op: str, arg: Any) -> bool:
    values = ref_values(doc, field)
    if op == "eq":
        return (arg is None and doc.get(field) is None) or any(ref_equal(v, arg) for v in values)
    if op == "$in":
        return any(ref_test(doc, field, "eq", a) for a in arg)
    if op == "prefix":
        return any(isinstance(v, str) and ref_fold(v).startswith(ref_fold(arg)) for v in values)
    compare = {
        "$gt": lambda a, b: a > b,
        "$gte": lambda a, b: a >= b,
        "$lt": lambda a, b: a < b,
        "$lte": lambda a, b: a <= b,
    }[op]
    return any(
        ref_bracket(v) == ref_bracket(arg) and compare(v, arg)
        for v in values
        if ref_bracket(v) in (1, 2)
    )


def ref_find(docs: dict[str, Doc], where: Doc, prefix: dict[str, str], sort: Sort) -> list[str]:
    def keep(doc: Doc) -> bool:
        for field, value in where.items():
            if isinstance(value, dict) and value and all(k.startswith("$") for k in value):
                if not all(ref_test(doc, field, op, arg) for op, arg in value.items()):
                    return False
            elif not ref_test(doc, field, "eq", value):
                return False
        return all(ref_test(doc, field, "prefix", p) for field, p in prefix.items())

    ids = sorted(i for i, d in docs.items() if keep(d))
    for field, direction in reversed(list(sort)):  # stable sorts, last key first

        def key(i: str, field: str = field) -> tuple[int, Any]:
            value = docs[i].get(field)
            return ref_bracket(value), (0 if value is None else value)

        ids.sort(key=key, reverse=direction == -1)
    return ids


# --- queries beyond equality: generated data and queries ---------------------

TEXTS = [
    "Иванова", "ИВАНОВ", "иванов", "Иволгин", "Семёнов", "СЕМЕНОВ", "семён",
    "Ёжиков", "ежиков", "Йорк", "Иолка", "Anna", "ANNA", "anatoly", "Straße",
    "STRASSE", "Ivan-Иван", "a.*b", ".*star", "(скобка", "\\back", "[x]",
    "^caret", "$dollar", "a+b", "", " space", "2024-03-01", "2024-11-30",
]
NUMBERS = [-3, 0, 1, 1.0, 2, 2.5, 7, 10, 10.0, 41]
DATES = ["2024-01-15", "2024-02-01", "2024-02-29", "2025-01-01", "2023-12-31T23:59:59Z"]
SCALARS: list[Any] = [None, True, False, "7", "b", "a", "", *NUMBERS]


def generated_docs(rng: random.Random, count: int) -> dict[str, Doc]:
    docs: dict[str, Doc] = {}
    for i in range(count):
        doc_id = f"d{rng.randrange(10**6):06}-{i}"
        doc: Doc = {"id": doc_id}
        if rng.random() < 0.9:
            doc["k"] = rng.choice(SCALARS[:8] + [0, 1, 1.0, 2, 2.5])  # many ties, every type
        if rng.random() < 0.85:
            doc["d"] = rng.choice([*DATES, None])
        r = rng.random()
        if r < 0.75:
            doc["s"] = rng.choice(TEXTS)
        elif r < 0.85:
            doc["s"] = rng.choice([None, 7, True])
        r = rng.random()
        if r < 0.5:
            doc["tags"] = rng.sample(TEXTS, rng.randrange(4)) + rng.sample([3, None, True], rng.randrange(2))
        elif r < 0.7:
            doc["tags"] = rng.choice(TEXTS)
        r = rng.random()
        if r < 0.5:
            doc["n"] = rng.choice(NUMBERS)
        elif r < 0.75:
            doc["n"] = rng.sample(NUMBERS + ["7", "x", None, False], rng.randrange(5))
        elif r < 0.9:
            doc["n"] = rng.choice([None, True, False, "7", "10", "", {"x": 1}])
        if rng.random() < 0.7:
            doc["b"] = rng.random() < 0.5
        docs[doc_id] = doc
    return docs


def random_prefix(rng: random.Random) -> str:
    text = rng.choice([t for t in TEXTS if t])
    cut = text[: rng.randrange(1, len(text) + 1)]
    cut = "".join(c.upper() if rng.random() < 0.4 else c.lower() for c in cut)
    return cut.replace("е", "ё") if rng.random() < 0.3 else cut


def present(docs: dict[str, Doc], field: str) -> list[Any]:
    """The scalars a field holds, itself or in its lists."""
    return [
        v for d in docs.values() for v in ref_values(d, field) if not isinstance(v, list | dict)
    ]


def random_bound(rng: random.Random, docs: dict[str, Doc], field: str) -> Any:
    """Mostly a value the field holds (so ranges select something), else any."""
    held = [v for v in present(docs, field) if ref_bracket(v) in (1, 2)]
    if held and rng.random() < 0.7:
        return rng.choice(held)
    return rng.choice([*DATES, *TEXTS, "2024-02", "И", "a", "Z", *NUMBERS, -0.5, 1.5, 100])


def random_values(rng: random.Random, docs: dict[str, Doc], field: str) -> list[Any]:
    pool = present(docs, field) + SCALARS + TEXTS[:6] + DATES[:2]
    return [rng.choice(pool) for _ in range(rng.randrange(0, 6))]


def random_where(rng: random.Random, docs: dict[str, Doc]) -> Doc:
    where: Doc = {}
    for field in rng.sample(["k", "d", "s", "tags", "n", "b"], rng.choice([1, 1, 2])):
        kind = rng.choice(["eq", "range", "range", "in", "mixed"])
        if kind == "eq":
            existing = rng.choice(list(docs.values())).get(field)
            if isinstance(existing, list) and any(isinstance(v, float) for v in existing):
                existing = None  # MongoDB compares [1] and [1.0] equal, JSON text does not
            where[field] = rng.choice([existing, existing, rng.choice(SCALARS)])
        elif kind == "in":
            where[field] = {"$in": random_values(rng, docs, field)}
        else:
            ops = rng.sample(["$gt", "$gte", "$lt", "$lte"], rng.randrange(1, 3))
            where[field] = {op: random_bound(rng, docs, field) for op in ops}
            if kind == "mixed":
                where[field]["$in"] = random_values(rng, docs, field)
    return where


SCALAR_SORTS: list[Sort] = [
    [],
    [("k", 1)],
    [("k", -1)],
    [("d", 1), ("k", -1)],
    [("b", -1), ("s", 1)],
    [("s", -1), ("d", 1)],
    [("k", 1), ("d", -1), ("b", 1)],
]


async def put_all(store: DocumentStore, collection: str, docs: dict[str, Doc]) -> None:
    async with store.batch():
        for doc_id, doc in docs.items():
            await store.put(collection, doc_id, doc)


async def test_queries_agree_with_the_reference(store: DocumentStore) -> None:
    rng = random.Random(20240601)
    docs = generated_docs(rng, 300)
    await put_all(store, "gen", docs)

    nonempty = 0
    for _ in range(250):
        where = random_where(rng, docs)
        prefix = {rng.choice(["s", "tags"]): random_prefix(rng)} if rng.random() < 0.3 else {}
        sort = rng.choice(SCALAR_SORTS)
        expected = ref_find(docs, where, prefix, sort)
        got = [d["id"] for d in await store.find("gen", where, sort, prefix=prefix)]
        assert got == expected, (where, prefix, sort)
        assert await store.count("gen", where, prefix=prefix) == len(expected), (where, prefix)
        nonempty += bool(expected)
    assert nonempty >= 80  # the generated queries do select something


async def test_prefix_search_agrees_with_the_reference(store: DocumentStore) -> None:
    rng = random.Random(7)
    docs = generated_docs(rng, 300)
    await put_all(store, "gen", docs)

    prefixes = [random_prefix(rng) for _ in range(120)]
    prefixes += [".*", "(", "\\", "[", "^", "$", "a.", "+", " ", "Ё", "е", "SS", "ß"]
    for text in prefixes:
        for field in ("s", "tags"):
            expected = ref_find(docs, {}, {field: text}, [])
            got = [d["id"] for d in await store.find("gen", prefix={field: text})]
            assert got == expected, (field, text)
            assert await store.count("gen", prefix={field: text}) == len(expected)


# --- queries beyond equality: the semantics, pinned by example ----------------

NAMES = {
    "1": {"name": "Иванова"},
    "2": {"name": "ИВАНОВ"},
    "3": {"name": "иван"},
    "4": {"name": "Иволгин"},
    "5": {"name": "Семёнов"},
    "6": {"name": "СЕМЕНОВ"},
    "7": {"name": "семён"},
    "8": {"name": "Йорк"},
    "9": {"name": "Ivanov"},
    "10": {"name": "IVANOVA"},
    "11": {"name": "Straße"},
    "12": {"name": "a.*b"},
    "13": {"name": ".*x"},
    "14": {"name": "(скобка)"},
    "15": {"name": "\\путь"},
    "16": {"name": ["Ёлка", "Hr", 7]},
    "17": {"name": 42},
    "18": {"nick": "Иванова"},
    "19": {"name": "Баи\u0306кал"},  # a decomposed й is still й
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ива", {"Иванова", "ИВАНОВ", "иван"}),
        ("ИВ", {"Иванова", "ИВАНОВ", "иван", "Иволгин"}),
        ("иван", {"Иванова", "ИВАНОВ", "иван"}),
        ("байк", {"Баи\u0306кал"}),
        ("БАЙ", {"Баи\u0306кал"}),
        ("баи", set()),
        # ё and е are one letter to the search
        ("семе", {"Семёнов", "СЕМЕНОВ", "семён"}),
        ("СЕМЁ", {"Семёнов", "СЕМЕНОВ", "семён"}),
        ("ел", {"Ёлка"}),
        # й is not и
        ("й", {"Йорк"}),
        ("ио", set()),
        ("iv", {"Ivanov", "IVANOVA"}),
        ("strass", {"Straße"}),
        ("h", {"Hr"}),
        # regex metacharacters are plain text
        (".*", {".*x"}),
        (".", {".*x"}),
        ("a.*", {"a.*b"}),
        ("(", {"(скобка)"}),
        ("\\", {"\\путь"}),
        ("4", set()),
    ],
)
async def test_prefix_folds_case_and_yo(store: DocumentStore, text: str, expected: set[str]) -> None:
    await put_all(store, "names", NAMES)

    found = await store.find("names", prefix={"name": text})

    def names_of(doc: Doc) -> list[Any]:
        return doc["name"] if isinstance(doc.get("name"), list) else [doc.get("name")]

    assert {n for d in found for n in names_of(d) if n in expected} == expected
    assert [NAMES[i] for i in sorted(NAMES) if NAMES[i] in found] == found  # id order, nothing else
    assert all(any(n in expected for n in names_of(d)) for d in found)
    assert await store.count("names", prefix={"name": text}) == len(found)


async def test_prefix_combines_with_where_and_sort(store: DocumentStore) -> None:
    await put_all(
        store,
        "people2",
        {
            "a": {"name": "Ёлкина", "city": "Kazan", "age": 30},
            "b": {"name": "елкин", "city": "Moscow", "age": 25},
            "c": {"name": "ЕЛКИН", "city": "Kazan", "age": 41},
        },
    )

    found = await store.find(
        "people2", {"city": "Kazan"}, [("age", -1)], prefix={"name": "ёлк"}
    )

    assert [d["name"] for d in found] == ["ЕЛКИН", "Ёлкина"]
    assert await store.count("people2", {"age": {"$lt": 35}}, prefix={"name": "ЕЛ"}) == 2


async def test_ranges_follow_mongodb_brackets_and_lists(store: DocumentStore) -> None:
    values: dict[str, Any] = {
        "list": [1, 10], "num": 7, "float": 7.0, "text": "9", "true": True,
        "null": None, "date": "2024-02-29",
    }
    docs = {k: {"id": k, "v": v} for k, v in values.items()} | {"none": {"id": "none"}}
    await put_all(store, "vals", docs)

    async def ids(where: Doc) -> set[str]:
        found = [d["id"] for d in await store.find("vals", where)]
        assert await store.count("vals", where) == len(found)
        assert sorted(found) == ref_find(docs, where, {}, [])  # the reference agrees too
        return set(found)

    # each operator on its own: 10 > 5 and 1 < 5, so [1, 10] is "between 5 and 5"
    assert await ids({"v": {"$gt": 5, "$lt": 5}}) == {"list"}
    assert await ids({"v": {"$gte": 7, "$lte": 7}}) == {"list", "num", "float"}  # 10 >= 7, 1 <= 7
    assert await ids({"v": {"$gt": 7.0, "$lte": 9}}) == {"list"}
    # $gt: 5 matches no string, no boolean, no null
    assert await ids({"v": {"$gt": 5}}) == {"list", "num", "float"}
    assert await ids({"v": {"$gt": ""}}) == {"text", "date"}
    assert await ids({"v": {"$gte": "2024-01-01", "$lt": "2024-03-01"}}) == {"date"}
    assert await ids({"v": {"$in": [None, 10]}}) == {"list", "null", "none"}
    assert await ids({"v": {"$in": [True, "9"]}}) == {"true", "text"}
    assert await ids({"v": {"$in": [1.0]}}) == {"list"}
    assert await ids({"v": {"$in": []}}) == set()
    assert await ids({"v": {"$in": list(range(1000))}}) == {"list", "num", "float"}


@pytest.mark.parametrize(
    ("where", "prefix"),
    [
        ({"v": {"$ne": 1}}, None),
        ({"v": {"$regex": "^a"}}, None),
        ({"v": {"$where": "1"}}, None),
        ({"v": {"$exists": True}}, None),
        ({"v": {"$elemMatch": {"$gt": 1}}}, None),
        ({"v": {"$gt": 1, "x": 2}}, None),  # operators mixed with fields
        ({"v": {"x": {"$gt": 1}}}, None),  # an operator hidden inside a value
        ({"v": [{"$gt": 1}]}, None),
        ({"v": {"$in": [{"$gt": 1}]}}, None),
        ({"v": {"$in": "abc"}}, None),
        ({"v": {"$in": 3}}, None),
        ({"v": {"$in": list(range(1001))}}, None),
        ({"v": {"$gt": True}}, None),
        ({"v": {"$gt": None}}, None),
        ({"v": {"$lt": [1]}}, None),
        ({"v": {"$lte": {"a": 1}}}, None),
        ({"v": {"$gt": float("nan")}}, None),
        ({"v": float("inf")}, None),
        ({"v": 2**63}, None),
        ({"$or": [{"v": 1}]}, None),
        ({"$and": []}, None),
        ({"a.b": {"$gt": 1}}, None),
        ({"_fold": 1}, None),
        (None, {"v": ""}),
        (None, {"v": 5}),
        (None, {"v": None}),
        (None, {"v": "x" * 65}),
        (None, {"v": "a\0"}),
        (None, {"$v": "a"}),
        (None, {"a.b": "a"}),
        (None, {"_fold": "a"}),
    ],
)
async def test_bad_conditions_are_refused(
    people: DocumentStore, where: Doc | None, prefix: dict[str, Any] | None
) -> None:
    with pytest.raises(ValueError):
        await people.find("people", where, prefix=prefix)
    with pytest.raises(ValueError):
        await people.count("people", where, prefix=prefix)
    with pytest.raises(ValueError):
        await people.find_page("people", where, limit=2, prefix=prefix)


async def test_the_longest_prefix_and_in_list_are_accepted(people: DocumentStore) -> None:
    assert await people.count("people", {"age": {"$in": [*range(1000, 1999), 30]}}) == 2
    assert await people.count("people", prefix={"name": "a" * 64}) == 0


async def test_the_fold_field_is_reserved(store: DocumentStore) -> None:
    with pytest.raises(ValueError):
        await store.put("things", "x", {"_fold": {"a": "b"}})
    assert await store.get("things", "x") is None


async def test_folded_copies_are_never_returned(store: DocumentStore) -> None:
    doc: Doc = {"name": "Ёжик", "tags": ["Ёлка", 1], "n": 1}
    await store.put("things", "x", doc)

    assert await store.get("things", "x") == doc
    assert await store.find("things", prefix={"name": "еж"}) == [doc]
    assert (await store.find_page("things", limit=5)).items == [doc]


# --- keyset pagination --------------------------------------------------------


async def all_pages(
    store: DocumentStore, collection: str, sort: Sort, size: int, where: Doc | None = None,
    prefix: dict[str, str] | None = None,
) -> list[list[str]]:
    pages: list[list[str]] = []
    after: str | None = None
    while True:
        page = await store.find_page(collection, where, sort, limit=size, prefix=prefix, after=after)
        pages.append([d["id"] for d in page.items])
        assert len(page.items) <= size
        if page.next_cursor is None:
            return pages
        assert len(page.items) == size
        assert len(page.next_cursor) <= 4096
        after = page.next_cursor
        assert len(pages) <= 1000, "paging does not end"


async def test_paging_reconstructs_the_sorted_list(store: DocumentStore) -> None:
    rng = random.Random(99)
    docs = generated_docs(rng, 70)
    await put_all(store, "paged", docs)

    for sort in SCALAR_SORTS:
        expected = ref_find(docs, {}, {}, sort)
        for size in range(1, 8):
            pages = await all_pages(store, "paged", sort, size)
            assert [i for page in pages for i in page] == expected, (sort, size)
            # the last page says so itself: no empty page to fetch after it
            assert len(pages) == max(1, -(-len(expected) // size)), (sort, size)


async def test_paging_honours_conditions(store: DocumentStore) -> None:
    rng = random.Random(5)
    docs = generated_docs(rng, 120)
    await put_all(store, "paged", docs)

    for _ in range(12):
        where = random_where(rng, docs)
        prefix = {"s": random_prefix(rng)} if rng.random() < 0.3 else {}
        sort = rng.choice(SCALAR_SORTS)
        size = rng.randrange(1, 8)
        pages = await all_pages(store, "paged", sort, size, where, prefix)
        assert [i for page in pages for i in page] == ref_find(docs, where, prefix, sort)


async def test_paging_survives_inserts_and_deletes_between_pages(store: DocumentStore) -> None:
    rng = random.Random(31)
    docs = generated_docs(rng, 60)
    made = 0

    for sort in SCALAR_SORTS[1:]:
        await store.drop("paged")
        await put_all(store, "paged", docs)
        live = dict(docs)
        ever = dict(docs)  # everything put at some point, for the order
        throughout = set(docs)
        seen: list[str] = []
        after: str | None = None
        while True:
            page = await store.find_page("paged", None, sort, limit=rng.randrange(1, 6), after=after)
            seen += [d["id"] for d in page.items]
            if page.next_cursor is None:
                break
            after = page.next_cursor
            for new in generated_docs(rng, 2).values():  # land anywhere in the order
                made += 1
                new["id"] = new_id = f"new-{made:04}"
                live[new_id] = ever[new_id] = new
                await store.put("paged", new_id, new)
            gone = rng.choice(sorted(live))  # seen or still ahead
            throughout.discard(gone)
            del live[gone]
            await store.delete("paged", gone)

        order = ref_find(ever, {}, {}, sort)
        assert len(seen) == len(set(seen)), "a document came twice"
        assert seen == [i for i in order if i in set(seen)], "pages went back in the order"
        assert throughout <= set(seen), "a document that was there throughout was skipped"


async def test_a_page_boundary_on_a_list_is_refused(store: DocumentStore) -> None:
    await store.put("things", "a", {"v": [1, 2]})
    await store.put("things", "b", {"v": 3})

    await store.put("things", "c", {"v": [4]})

    with pytest.raises(ValueError):  # whichever list comes first, the boundary is a list
        await store.find_page("things", {"v": {"$in": [1, 4]}}, [("v", 1)], limit=1)
    page = await store.find_page("things", sort=[("v", 1)], limit=3)
    assert page.next_cursor is None and len(page.items) == 3  # no boundary, no cursor


async def test_bad_cursors_are_refused(store: DocumentStore) -> None:
    for i in range(6):
        await store.put("things", f"x{i}", {"n": i, "s": "'); DROP TABLE docs; --"})
    page = await store.find_page("things", sort=[("n", 1)], limit=2)
    cursor = page.next_cursor
    assert cursor is not None

    forged = base64.urlsafe_b64encode(json.dumps({"k": [{"$gt": 1}], "id": "x"}).encode()).decode()
    for bad in ["", "!!!", "a", "x" * 5000, cursor + "@", forged, cursor[:-3]]:
        with pytest.raises(ValueError):
            await store.find_page("things", sort=[("n", 1)], limit=2, after=bad)
    with pytest.raises(ValueError):  # minted for another sort
        await store.find_page("things", sort=[("n", -1)], limit=2, after=cursor)
    with pytest.raises(ValueError):  # minted for another collection
        await store.find_page("others", sort=[("n", 1)], limit=2, after=cursor)
    with pytest.raises(ValueError):
        await store.find_page("things", sort=[("n", 1)], limit=0)

    rng = random.Random(3)
    alphabet = string.ascii_letters + string.digits + "-_"
    for _ in range(200):  # a tampered cursor is refused or reads a page, nothing else
        chars = list(cursor)
        for _ in range(rng.randrange(1, 4)):
            chars[rng.randrange(len(chars))] = rng.choice(alphabet)
        try:
            await store.find_page("things", sort=[("n", 1)], limit=2, after="".join(chars))
        except ValueError:
            pass
    assert await store.count("things") == 6


async def test_sort_values_that_look_like_sql_are_only_values(store: DocumentStore) -> None:
    sneaky = ["'", "' OR 1=1 --", "\"); DROP TABLE docs; --", "$gt", "\\", "%", "_"]
    for i, text in enumerate(sneaky):
        await store.put("things", f"'{i}\"", {"id": f"'{i}\"", "s": text})

    pages = await all_pages(store, "things", [("s", -1)], 1)

    assert [i for p in pages for i in p] == ref_find(
        {f"'{i}\"": {"s": t} for i, t in enumerate(sneaky)}, {}, {}, [("s", -1)]
    )
    assert await store.count("things") == len(sneaky)
