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
#: how many documents a rebuild remembers having written (about 200 bytes each); past it, it reads them all
WRITTEN_AT_MOST = 100_000


class Written:
    """What a rebuild has written to its collections since it dropped them: a document it has not written is
    not there, and reading it from the store (a third of what applying an event cost a rebuild, most of them
    misses: a member's first event, a directory entry never made) is skipped. Held by the runner that dropped
    the collections, and only while it holds the projection: nothing else creates a projection's documents
    (only its events, through its View; a timer's firing deletes). A write that was rolled back stays
    counted, which only costs a read. Past ``most`` documents it forgets them all and says nothing is known."""

    def __init__(self, collections: list[str], most: int = WRITTEN_AT_MOST):
        self._ids: dict[str, set[str]] | None = {c: set() for c in collections}
        self._most = most
        self._n = 0

    def absent(self, collection: str, doc_id: str) -> bool:
        ids = self._ids.get(collection) if self._ids is not None else None
        return ids is not None and doc_id not in ids

    def wrote(self, collection: str, doc_id: str) -> None:
        ids = self._ids.get(collection) if self._ids is not None else None
        if ids is None or doc_id in ids:
            return
        self._n += 1
        if self._n > self._most:
            self._ids = None  # memory bounded: from here on every read asks the store
            return
        ids.add(doc_id)


class View:
    """One event's view: it remembers the stamp of each document it has read or written, so the guard does not
    read again what the handler has just read (read-modify-write is every handler's shape). Nothing else writes
    a projection's documents while one of its events is applied (one runner holds the projection, fenced), so
    what this view saw is what the store holds."""

    def __init__(self, store: DocumentStore, seq: int, written: Written | None = None):
        self._store = store
        self.seq = seq
        self._written = written
        #: (collection, id) -> the document's stamp (0: unstamped), or None: no such document
        self._stamps: dict[tuple[str, str], int | None] = {}

    async def _read(self, collection: str, doc_id: str) -> Doc | None:
        if self._written is not None and self._written.absent(collection, doc_id):
            return None
        return await self._store.get(collection, doc_id)

    async def get(self, collection: str, doc_id: str) -> Doc | None:
        doc = await self._read(collection, doc_id)
        self._stamps[(collection, doc_id)] = None if doc is None else doc.get(SEQ, 0)
        return doc

    async def _stamp(self, collection: str, doc_id: str) -> int | None:
        key = (collection, doc_id)
        if key not in self._stamps:
            old = await self._read(collection, doc_id)
            self._stamps[key] = None if old is None else old.get(SEQ, 0)
        return self._stamps[key]

    async def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        stamp = await self._stamp(collection, doc_id)
        if stamp is not None and stamp >= self.seq:
            return  # this event, or a later one, is in the document already
        if self._written is not None:
            self._written.wrote(collection, doc_id)  # first: a put that fails may still have landed
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
