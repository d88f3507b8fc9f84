"""The DocumentStore contract, run against every adapter that can be reached."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

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


async def test_sqlite_file_uses_wal(tmp_path: Path) -> None:
    store = await open_store(f"sqlite://{tmp_path}", "wal")
    await store.close()

    conn = sqlite3.connect(tmp_path / "wal.sqlite3")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


async def test_unsupported_url_is_refused() -> None:
    with pytest.raises(ValueError):
        await open_store("postgres://localhost/db", "x")
