"""The narrow port every read model goes through (DESIGN.md §4).

A document is a JSON-able dict addressed by (collection, id). Adapters:
SQLite (embedded default) and MongoDB (PyMongo async). Both pass the same
contract tests in tests/kit/test_docstore_contract.py.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, Sequence

Doc = dict[str, Any]
#: (field, 1 for ascending | -1 for descending)
Sort = Sequence[tuple[str, int]]


class DocumentStore(Protocol):
    async def get(self, collection: str, doc_id: str) -> Doc | None: ...

    async def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        """Insert or replace the whole document."""

    async def delete(self, collection: str, doc_id: str) -> None: ...

    async def find(
        self,
        collection: str,
        where: Doc | None = None,
        sort: Sort = (),
        limit: int | None = None,
    ) -> list[Doc]:
        """Documents whose top-level fields equal ``where``'s values.

        As in MongoDB: a document field holding a list matches a value it
        contains; ``None`` also matches a missing field; booleans never equal
        numbers, while 1 equals 1.0. Sorting on a missing field puts the
        document first when ascending, last when descending; ties, and all
        documents when there is no sort, come back in id order.
        """

    async def count(self, collection: str, where: Doc | None = None) -> int: ...

    async def drop(self, collection: str) -> None: ...

    async def get_checkpoint(self, name: str) -> int:
        """Last stream sequence a projection applied; 0 when none."""

    async def set_checkpoint(self, name: str, seq: int) -> None: ...

    async def scrub(self) -> None:
        """Make deleted documents unrecoverable from the store's own files (after an erasure).
        SQLite: zeroed free space and a truncated WAL; MongoDB: see docs/adr/0002."""

    def batch(self) -> AbstractAsyncContextManager[None]:
        """Group writes; on SQLite one transaction, on MongoDB best effort.

        A batch opened inside another joins it.
        """

    async def close(self) -> None: ...


async def open_store(url: str, database: str) -> DocumentStore:
    """``sqlite:///path/dir`` (one file per database) or ``mongodb://...``."""
    if url.startswith("sqlite"):
        from libs.kit.docstore.sqlite import SqliteStore

        return await SqliteStore.open(url, database)
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from libs.kit.docstore.mongo import MongoStore

        return await MongoStore.open(url, database)
    raise ValueError(f"unsupported document store url: {url}")
