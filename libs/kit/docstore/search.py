"""Word search over a read model: every word of a query the beginning of some word of a document.

The port matches one prefix per field, so a document keeps its searchable words, folded
(``query.fold``), in one list field; a search takes the longest word of the query to the store as
that field's prefix (the most selective one, cut to what the store compares) and checks the rest,
and the word itself in full, here. Paging stays keyset paging: a page that fills up part-way
through what the store returned resumes right after its last document, so no document is shown
twice or skipped between pages; and a search that must examine many documents to find few stops
after ``scan`` of them, answering what it found with the place to go on from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from libs.kit.docstore.port import Doc, DocumentStore, Page, Sort
from libs.kit.docstore.query import MAX_PREFIX, fold, make_cursor, read_cursor, sort_spec

_WORD = re.compile(r"\w+")
#: documents one request examines at most beyond what it returns
SCAN = 2000


def words(*texts: str | None) -> list[str]:
    """The folded words of some texts, each once, in order: what a document is found by, and what a
    query asks for. Punctuation separates words and never matches (``%``, ``*`` or quotes are no
    wildcards, they are not words at all)."""
    found: dict[str, None] = {}
    for text in texts:
        if text:
            found.update(dict.fromkeys(_WORD.findall(fold(text))))
    return list(found)


def matches(query: Iterable[str], document_words: Iterable[str] | None) -> bool:
    """Every query word begins some word of the document."""
    have = list(document_words or ())
    return all(any(w.startswith(q) for w in have) for q in query)


def check_cursor(collection: str, sort: Sort, cursor: str | None) -> None:
    """ValueError unless ``cursor`` is one the store minted for this collection and order: for a query
    to refuse it as the client's mistake before anything is read."""
    if cursor is not None:
        read_cursor(collection, sort_spec(sort), cursor)


def _anchor(query: list[str], field: str) -> dict[str, str]:
    return {field: max(query, key=len)[:MAX_PREFIX]}


async def find_words_page(
    store: DocumentStore,
    collection: str,
    field: str,
    query: list[str],
    *,
    id_field: str,
    where: Doc | None = None,
    sort: Sort = (),
    limit: int,
    after: str | None = None,
    scan: int = SCAN,
) -> Page:
    """One page of the documents whose ``field`` words match every word of ``query`` (all documents
    when it is empty), resumed after ``after``. ``id_field`` names the field holding each document's
    id (a cursor is minted from it when a page ends inside what the store returned)."""
    if not query:
        return await store.find_page(collection, where, sort, limit=limit, after=after)
    spec = sort_spec(sort)
    prefix = _anchor(query, field)
    found: list[Doc] = []
    examined = 0
    while True:
        page = await store.find_page(collection, where, sort, limit=max(limit, 50), prefix=prefix, after=after)
        for i, doc in enumerate(page.items):
            examined += 1
            if not matches(query, doc.get(field)):
                continue
            found.append(doc)
            if len(found) == limit:
                last = i == len(page.items) - 1 and page.next_cursor is None
                return Page(found, None if last else make_cursor(collection, spec, doc, doc[id_field]))
        if page.next_cursor is None:
            return Page(found, None)
        after = page.next_cursor
        if examined >= scan:
            return Page(found, after)  # bounded work: the client goes on from here


async def count_words(store: DocumentStore, collection: str, field: str, query: list[str],
                      where: Doc | None = None) -> int:
    """How many documents ``find_words_page`` pages through. One word the store counts itself; more are
    checked here, over the documents matching the longest one."""
    if not query:
        return await store.count(collection, where)
    prefix = _anchor(query, field)
    if len(query) == 1 and len(query[0]) <= MAX_PREFIX:
        return await store.count(collection, where, prefix=prefix)
    return sum(matches(query, d.get(field)) for d in await store.find(collection, where, prefix=prefix))
