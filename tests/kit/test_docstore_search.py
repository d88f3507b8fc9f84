"""Word search over the document store (libs/kit/docstore/search.py): every word of a query begins a
word of the document; pages resume exactly where the last one ended, whatever the page size, also when
a page fills up part-way through what the store returned; punctuation is no wildcard."""

from __future__ import annotations

import random

import pytest

from libs.kit.docstore import open_store
from libs.kit.docstore.query import fold
from libs.kit.docstore.search import check_cursor, count_words, find_words_page, matches, words

SORT = [("sort_name", 1)]
NAMES = ["Анна Смирнова", "Алёна Семёнова", "Иван Петров", "Пётр Иванов", "Семён Алексеев", "Ольга Ли",
         "Анастасия Смирнова-Ли", "Ivan O'Brien", "Straße Groß", "Ёлка Зелёная"]
CITIES = ["Екатеринбург", "Пермь", "Москва", "Ekaterinburg"]


@pytest.fixture
async def store():
    s = await open_store("sqlite://:memory:", "search")
    rnd = random.Random(7)
    for i in range(120):
        name = f"{rnd.choice(NAMES)} {i}"
        city = rnd.choice(CITIES)
        await s.put("people", f"p{i:03d}", {"id": f"p{i:03d}", "name": name, "sort_name": fold(name),
                                            "search": words(name, city)})
    yield s
    await s.close()


async def everyone(s) -> list[dict]:
    return await s.find("people", sort=SORT + [("id", 1)])


def test_words_are_folded_split_on_punctuation_and_listed_once():
    assert words("Алёна СЕМЁНОВА-Ли", None, "ли") == ["алена", "семенова", "ли"]
    assert words("%", "_*", ".*", "' OR 1=1 --") == ["_", "or", "1"]
    assert matches(["сем", "ал"], words("Алёна Семёнова")) and not matches(["сем", "иван"], words("Алёна Семёнова"))


@pytest.mark.parametrize("q", ["", "ан", "СМИР", "алена", "смирнова ли", "екатеринбург ан", "ivan", "strasse",
                               "елка", "ан ан", "x", "1", "_"])
@pytest.mark.parametrize("limit", [1, 2, 3, 7, 50, 200])
async def test_pages_rebuild_the_whole_sorted_answer_exactly_once(store, q, limit):
    query = words(q)
    expected = [d["id"] for d in await everyone(store) if matches(query, d["search"])]
    got, cursor, pages = [], None, 0
    while True:
        check_cursor("people", SORT, cursor)
        page = await find_words_page(store, "people", "search", query, id_field="id", sort=SORT, limit=limit,
                                     after=cursor)
        assert len(page.items) <= limit
        got += [d["id"] for d in page.items]
        pages += 1
        assert pages <= len(expected) + 2, "paging does not end"
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert got == expected
    assert await count_words(store, "people", "search", query) == len(expected)


async def test_a_search_examining_many_documents_stops_and_tells_where_to_go_on(store):
    query = words("ан 119")  # "ан" is common, "119" one document
    page = await find_words_page(store, "people", "search", query, id_field="id", sort=SORT, limit=5, scan=10)
    got = [d["id"] for d in page.items]
    while page.next_cursor is not None:
        page = await find_words_page(store, "people", "search", query, id_field="id", sort=SORT, limit=5,
                                     after=page.next_cursor, scan=10)
        got += [d["id"] for d in page.items]
    assert got == [d["id"] for d in await everyone(store) if matches(query, d["search"])]


async def test_a_word_longer_than_the_store_compares_is_matched_in_full(store):
    long = "а" * 70
    await store.put("people", "long", {"id": "long", "name": long, "sort_name": long, "search": [long + "б"]})
    await store.put("people", "short", {"id": "short", "name": "x", "sort_name": "x", "search": ["а" * 65]})
    page = await find_words_page(store, "people", "search", [long], id_field="id", sort=SORT, limit=10)
    assert [d["id"] for d in page.items] == ["long"]
    assert await count_words(store, "people", "search", [long]) == 1


@pytest.mark.parametrize("cursor", ["x", "%%%", "e30", "A" * 5000])
def test_a_cursor_the_store_did_not_mint_is_refused(cursor):
    with pytest.raises(ValueError):
        check_cursor("people", SORT, cursor)
