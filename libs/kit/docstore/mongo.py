"""The MongoDB DocumentStore: one database per ``database``, one collection per
collection, ``_id`` = the document id.

Prefix search reads folded copies the adapter writes on every ``put`` under the
reserved field ``_fold`` (never returned): a regex's ``i`` option folds neither
Cyrillic reliably nor ё into е, and a collation cannot match prefixes.
"""

from __future__ import annotations

import string
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from libs.kit.docstore.port import Doc, Fenced, Page, Prefix, Sort
from libs.kit.docstore.query import (
    RESERVED,
    Eq,
    In,
    Range,
    bracket,
    check_document,
    conditions,
    make_cursor,
    read_cursor,
    shadows,
    sort_spec,
)
from libs.kit.docstore.query import (
    Prefix as PrefixCondition,
)

CHECKPOINTS = "_checkpoints"
_HIDDEN = {"_id": False, RESERVED: False}
_PUNCTUATION = frozenset(string.punctuation)
#: query.bracket -> the $type aliases of that bracket (0, null and missing, is {field: None})
_TYPES = {1: "number", 2: "string", 3: "object", 4: "array", 5: "bool"}


def _literal(text: str) -> str:
    """A regex matching ``text`` literally: in PCRE a backslash before ASCII
    punctuation always means that character itself."""
    return "".join("\\" + c if c in _PUNCTUATION else c for c in text)


def _filter(where: Doc | None, prefix: Prefix | None = None) -> Doc:
    out: Doc = {}
    for cond in conditions(where, prefix):
        if isinstance(cond, Eq):
            out[cond.field] = cond.value
        elif isinstance(cond, In):
            out.setdefault(cond.field, {})["$in"] = list(cond.values)
        elif isinstance(cond, Range):
            out.setdefault(cond.field, {})[cond.op] = cond.bound
        elif isinstance(cond, PrefixCondition):
            # anchored and case-sensitive on folded text: an index on _fold.<field> can serve it
            out[f"{RESERVED}.{cond.field}"] = {"$regex": "^" + _literal(cond.folded)}
    return out


def _beyond(field: str, direction: int, key: Any) -> list[Doc]:
    """Alternatives for "strictly after ``key`` on ``field``" in sort order:
    a later type bracket, or the same bracket and beyond within it."""
    own = bracket(key)
    later = [b for b in range(6) if (b > own if direction == ASCENDING else b < own)]
    found: list[Doc] = []
    types = [_TYPES[b] for b in later if b]
    if types:
        found.append({field: {"$type": types}})
    if 0 in later:
        found.append({field: None})
    if own in (1, 2):  # comparison operators stay within their type bracket
        found.append({field: {"$gt" if direction == ASCENDING else "$lt": key}})
    elif own == 5 and key is (direction != ASCENDING):
        found.append({field: not key})  # false < true
    return found


def _after(sort: list[tuple[str, int]], keys: list[Any], last_id: str) -> Doc:
    """Documents strictly after (keys, id) in the order of ``sort`` then ``_id``."""
    alternatives: list[Doc] = []
    equal: list[Doc] = []
    for (field, direction), key in zip(sort, keys, strict=True):
        beyond = _beyond(field, direction, key)
        if beyond:
            alternatives.append({"$and": [*equal, {"$or": beyond}]})
        equal.append({field: key})  # None: null or missing, both sorted as null
    alternatives.append({"$and": [*equal, {"_id": {"$gt": last_id}}]})
    return {"$or": alternatives}


def _order(sort: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return [*sort, ("_id", ASCENDING)]


class MongoStore:
    def __init__(self, client: AsyncMongoClient[Doc], db: AsyncDatabase[Doc]) -> None:
        self._client = client
        self._db = db

    @classmethod
    async def open(cls, url: str, database: str) -> MongoStore:
        client: AsyncMongoClient[Doc] = AsyncMongoClient(url)
        try:
            # Fail at start-up, not at the first read, when the server is unreachable.
            await client.admin.command("ping")
        except BaseException:
            await client.close()
            raise
        return cls(client, client[database])

    async def get(self, collection: str, doc_id: str) -> Doc | None:
        return await self._db[collection].find_one({"_id": doc_id}, _HIDDEN)

    async def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        check_document(doc)
        folded = shadows(doc)
        stored = {**doc, RESERVED: folded} if folded else doc
        await self._db[collection].replace_one({"_id": doc_id}, stored, upsert=True)

    async def delete(self, collection: str, doc_id: str) -> None:
        await self._db[collection].delete_one({"_id": doc_id})

    async def delete_if(self, collection: str, doc_id: str, where: Doc) -> bool:
        # one delete_one: the server matches and removes the document atomically
        result = await self._db[collection].delete_one({**_filter(where), "_id": doc_id})
        return result.deleted_count == 1

    async def find(
        self,
        collection: str,
        where: Doc | None = None,
        sort: Sort = (),
        limit: int | None = None,
        *,
        prefix: Prefix | None = None,
    ) -> list[Doc]:
        if limit is not None and limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        query = _filter(where, prefix)
        order = _order(sort_spec(sort))
        if limit == 0:  # MongoDB reads limit 0 as "no limit"
            return []
        cursor = self._db[collection].find(query, _HIDDEN, sort=order, limit=limit or 0)
        return await cursor.to_list()

    async def find_page(
        self,
        collection: str,
        where: Doc | None = None,
        sort: Sort = (),
        *,
        limit: int,
        prefix: Prefix | None = None,
        after: str | None = None,
    ) -> Page:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"a page holds at least one document, got limit {limit!r}")
        spec = sort_spec(sort)
        query = _filter(where, prefix)
        if after is not None:
            keys, last_id = read_cursor(collection, spec, after)
            beyond = _after(spec, keys, last_id)
            query = {"$and": [query, beyond]} if query else beyond
        # one more than the page: whether a next page exists, without asking again
        cursor = self._db[collection].find(
            query, {RESERVED: False}, sort=_order(spec), limit=limit + 1
        )
        found = await cursor.to_list()
        ids = [doc.pop("_id") for doc in found]
        items = found[:limit]
        if len(found) <= limit:
            return Page(items, None)
        return Page(items, make_cursor(collection, spec, items[-1], ids[limit - 1]))

    async def count(
        self, collection: str, where: Doc | None = None, *, prefix: Prefix | None = None
    ) -> int:
        return await self._db[collection].count_documents(_filter(where, prefix))

    async def drop(self, collection: str) -> None:
        await self._db[collection].drop()

    async def get_checkpoint(self, name: str) -> int:
        found = await self._db[CHECKPOINTS].find_one({"_id": name})
        return int(found["seq"]) if found else 0

    async def set_checkpoint(self, name: str, seq: int, fence: int = 0) -> None:
        # a newer holder's fence makes the filter miss, and the upsert's insert then collides on _id
        try:
            await self._db[CHECKPOINTS].update_one(
                {"_id": name, "$or": [{"fence": {"$lte": fence}}, {"fence": {"$exists": False}}]},
                {"$set": {"seq": seq, "fence": fence}}, upsert=True,
            )
        except DuplicateKeyError:
            raise Fenced(f"checkpoint {name}: a newer holder (fence > {fence}) writes it now") from None

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Best effort: each write is applied as it is made, so a failure inside
        leaves the earlier ones in place (no rollback, unlike SQLite)."""
        yield

    async def scrub(self) -> None:
        """Nothing a client can do: WiredTiger reuses freed blocks in time, and the oplog keeps
        old versions for its window (docs/adr/0002 says how to run MongoDB for erasure)."""

    async def close(self) -> None:
        await self._client.close()
