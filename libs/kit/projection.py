"""The read-model store as one event's projection sees it.

Each document a projection writes carries the stream sequence of the event
that wrote it (``_seq``); a document that already holds this event or a later
one is not written again. The runner applies this guard for every projection,
so a handler is plain read-modify-write code: a redelivered event (after a
crash between a MongoDB write and its checkpoint, which a MongoDB batch cannot
make atomic) changes nothing, and a read-modify-write (uses + 1) is not
counted twice.
"""

from __future__ import annotations

from typing import Any

from libs.kit.docstore.port import Doc, DocumentStore, Sort

SEQ = "_seq"


class View:
    """One event's view: it remembers the stamp of each document it has read or written, so the guard does not
    read again what the handler has just read (read-modify-write is every handler's shape). Nothing else writes
    a projection's documents while one of its events is applied (one runner holds the projection, fenced), so
    what this view saw is what the store holds."""

    def __init__(self, store: DocumentStore, seq: int):
        self._store = store
        self.seq = seq
        #: (collection, id) -> the document's stamp (0: unstamped), or None: no such document
        self._stamps: dict[tuple[str, str], int | None] = {}

    async def get(self, collection: str, doc_id: str) -> Doc | None:
        doc = await self._store.get(collection, doc_id)
        self._stamps[(collection, doc_id)] = None if doc is None else doc.get(SEQ, 0)
        return doc

    async def _stamp(self, collection: str, doc_id: str) -> int | None:
        key = (collection, doc_id)
        if key not in self._stamps:
            old = await self._store.get(collection, doc_id)
            self._stamps[key] = None if old is None else old.get(SEQ, 0)
        return self._stamps[key]

    async def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        stamp = await self._stamp(collection, doc_id)
        if stamp is not None and stamp >= self.seq:
            return  # this event, or a later one, is in the document already
        await self._store.put(collection, doc_id, {**doc, SEQ: self.seq})
        self._stamps[(collection, doc_id)] = self.seq

    async def delete(self, collection: str, doc_id: str) -> None:
        stamp = await self._stamp(collection, doc_id)
        if stamp is None or stamp > self.seq:
            # nothing to delete (a member's every event out of the directory deletes their entry); or a later
            # event wrote it again, and an old delete must not remove that
            return
        await self._store.delete(collection, doc_id)
        self._stamps[(collection, doc_id)] = None

    async def find(self, collection: str, where: Doc | None = None, sort: Sort = (), limit: int | None = None,
                   **kw: Any) -> list[Doc]:
        return await self._store.find(collection, where, sort, limit, **kw)

    async def count(self, collection: str, where: Doc | None = None) -> int:
        return await self._store.count(collection, where)


def plain(doc: Doc) -> Doc:
    """A stored document without the fields the store and the guard add (``_seq``, ``_id``)."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


async def change(view: View, collection: str, key: str, **changes: Any) -> None:
    """These fields of a document changed (a document not there stays absent: the event that makes it
    comes first in the log)."""
    doc = await view.get(collection, key)
    if doc is not None:
        await view.put(collection, key, {**plain(doc), **changes})
