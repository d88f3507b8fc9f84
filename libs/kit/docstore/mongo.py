"""The MongoDB DocumentStore: one database per ``database``, one collection per
collection, ``_id`` = the document id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from libs.kit.docstore.port import Doc, Sort

CHECKPOINTS = "_checkpoints"
_NO_ID = {"_id": False}


def _field(field: str) -> str:
    """Refuse what MongoDB would read as a path or an operator, which the
    SQLite adapter could not follow."""
    if not field or "." in field or '"' in field or field.startswith("$"):
        raise ValueError(f"not a top-level field name: {field!r}")
    return field


def _filter(where: Doc | None) -> Doc:
    return {_field(field): value for field, value in (where or {}).items()}


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
        return await self._db[collection].find_one({"_id": doc_id}, _NO_ID)

    async def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        await self._db[collection].replace_one({"_id": doc_id}, doc, upsert=True)

    async def delete(self, collection: str, doc_id: str) -> None:
        await self._db[collection].delete_one({"_id": doc_id})

    async def find(
        self,
        collection: str,
        where: Doc | None = None,
        sort: Sort = (),
        limit: int | None = None,
    ) -> list[Doc]:
        if limit is not None and limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        if limit == 0:  # MongoDB reads limit 0 as "no limit"
            return []
        order: list[tuple[str, int]] = []
        for field, direction in sort:
            if direction not in (ASCENDING, DESCENDING):
                raise ValueError(f"sort direction must be 1 or -1, got {direction!r}")
            order.append((_field(field), direction))
        order.append(("_id", ASCENDING))
        cursor = self._db[collection].find(
            _filter(where), _NO_ID, sort=order, limit=limit or 0
        )
        return await cursor.to_list()

    async def count(self, collection: str, where: Doc | None = None) -> int:
        return await self._db[collection].count_documents(_filter(where))

    async def drop(self, collection: str) -> None:
        await self._db[collection].drop()

    async def get_checkpoint(self, name: str) -> int:
        found = await self._db[CHECKPOINTS].find_one({"_id": name})
        return int(found["seq"]) if found else 0

    async def set_checkpoint(self, name: str, seq: int) -> None:
        await self._db[CHECKPOINTS].update_one(
            {"_id": name}, {"$set": {"seq": seq}}, upsert=True
        )

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
