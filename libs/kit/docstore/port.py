"""The narrow port every read model goes through (DESIGN.md §4).

A document is a JSON-able dict addressed by (collection, id). Adapters:
SQLite (embedded default) and MongoDB (PyMongo async). Both pass the same
contract tests in tests/kit/test_docstore_contract.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

Doc = dict[str, Any]
#: (field, 1 for ascending | -1 for descending)
Sort = Sequence[tuple[str, int]]
#: field -> text its value (or an element of its list) starts with, ignoring case
Prefix = Mapping[str, str]


@dataclass(frozen=True)
class Page:
    items: list[Doc]
    #: where the next page starts; None when nothing followed this page when it was read
    next_cursor: str | None


class Fenced(Exception):
    """A writer that lost its lease tried to move a checkpoint its successor now owns."""


class DocumentStore(Protocol):
    async def get(self, collection: str, doc_id: str) -> Doc | None: ...

    async def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        """Insert or replace the whole document. The top-level field ``_fold``
        is reserved (MongoDB keeps folded text there) and raises ValueError."""

    async def delete(self, collection: str, doc_id: str) -> None: ...

    async def delete_if(self, collection: str, doc_id: str, where: Doc) -> bool:
        """Delete the document only if it still meets ``where`` (``find``'s conditions), in one step
        that no other write can come between: whether it was deleted. A reader that decided to delete
        what it read (a fired timer) must not remove what was written since (the timer moved)."""

    async def find(
        self,
        collection: str,
        where: Doc | None = None,
        sort: Sort = (),
        limit: int | None = None,
        *,
        prefix: Prefix | None = None,
    ) -> list[Doc]:
        """Documents whose top-level fields meet ``where`` and ``prefix``.

        A ``where`` value is either compared for equality or is a dict of
        operators, ``$gt``/``$gte``/``$lt``/``$lte`` (a number or a string;
        ISO dates are strings) and ``$in`` (at most 1,000 values), with
        MongoDB's semantics in both stores: a field holding a list matches when
        any element does, each operator on its own; ``None`` also matches a
        missing field; booleans never equal numbers, while 1 equals 1.0; a
        range never crosses types (``$gt: 5`` matches no string). Unknown
        operators, ``$`` or dotted field names and operators mixed with fields
        raise ValueError.

        ``prefix`` matches a string, or any string of a list, that starts with
        the given text once both are folded (``query.fold``: case, ё = е).

        Sorting on a missing field puts the document first when ascending,
        last when descending; ties, and all documents when there is no sort,
        come back in id order.
        """

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
        """One page of ``find``, resumed after the cursor of the page before.

        Keyset paging: the cursor holds the last document's sort values and id,
        so documents inserted or deleted between pages cause neither
        duplicates nor skips of documents that were there all along. Sort
        fields must hold scalars (a boundary document holding a list or an
        object there raises ValueError). A cursor is opaque, bounded, and
        refused (ValueError) when malformed or minted for another collection
        or sort.
        """

    async def count(
        self, collection: str, where: Doc | None = None, *, prefix: Prefix | None = None
    ) -> int:
        """How many documents ``find`` would return, on the same conditions."""

    async def drop(self, collection: str) -> None: ...

    async def get_checkpoint(self, name: str) -> int:
        """Last stream sequence a projection applied; 0 when none."""

    async def set_checkpoint(self, name: str, seq: int, fence: int = 0) -> None:
        """Record ``seq`` unless the checkpoint was written with a newer ``fence`` (the lease revision of
        a newer single-active holder): then raise Fenced and, inside a batch, roll the batch back."""

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
