"""The drive's read model: each group's files (one document per file) and their versions (one per
version). Where a file's bytes are is not here — only the aggregate knows its key, and a key never
lives in a read model — so downloads are answered from the aggregate.

An erased member's names and versions read as gone (``AuthorErased``): the names they gave are
forgotten, their versions marked unreadable. A purged file keeps a document without its name, uploader,
size or versions, so that the answer to a purge can say what became of it."""

from __future__ import annotations

from datetime import datetime

from libs.contracts import drive as c
from libs.contracts import groups as g
from libs.contracts.subjects import events_of
from libs.kit.docstore.port import DocumentStore
from libs.kit.eventstore import Recorded
from libs.kit.projection import View
from libs.kit.service import Service
from services.groups.projections import DIRECTORY

FILES = "drive_files"
VERSIONS = "drive_versions"
DRIVE_VIEW = "drive"


def _plain(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _time(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


async def _name_of(store: DocumentStore, member_id: str | None) -> str | None:
    doc = await store.get(DIRECTORY, member_id) if member_id else None
    return doc["display_name"] if doc else None


async def version_views(store: DocumentStore, file_id: str) -> tuple[c.FileVersionView, ...]:
    rows = await store.find(VERSIONS, {"file_id": file_id}, sort=[("version", 1)], limit=10_000)
    return tuple([c.FileVersionView(
        version=r["version"], uploaded_by=r["uploaded_by"], uploaded_by_name=await _name_of(store, r["uploaded_by"]),
        uploaded_at=_time(r["uploaded_at"]), size=r["size"], sha256=r["sha256"], media_type=r["media_type"],
        erased=r["erased"]) for r in rows])


async def file_view(store: DocumentStore, doc: dict, with_versions: bool = False) -> c.FileView:
    return c.FileView(
        group_id=doc["group_id"], file_id=doc["file_id"], name=doc["name"], media_type=doc["media_type"],
        size=doc["size"], version=doc["version"], versions_count=doc["version"], uploaded_by=doc["uploaded_by"],
        uploaded_by_name=await _name_of(store, doc["uploaded_by"]), created_at=_time(doc["created_at"]),
        updated_at=_time(doc["updated_at"]), binned=doc["binned"],
        binned_at=_time(doc["binned_at"]) if doc["binned_at"] else None,
        purge_at=_time(doc["purge_at"]) if doc["purge_at"] else None, purged=doc["purged"], erased=doc["erased"],
        versions=await version_views(store, doc["file_id"]) if with_versions else ())


async def read_file(store: DocumentStore, group_id: str, file_id: str,
                    with_versions: bool = False) -> c.FileView | None:
    doc = await store.get(FILES, file_id)
    if doc is None or doc["group_id"] != group_id:
        return None
    return await file_view(store, doc, with_versions)


def register_drive_projections(svc: Service) -> None:
    @svc.projection(DRIVE_VIEW, [events_of("groups")], [FILES, VERSIONS], version=1, types=(
        c.FileStored, c.FileRenamed, c.FileBinned, c.FileRestored, c.FilePurged, g.AuthorErased))
    async def when_drive_changed_update_files(rec: Recorded, view: View) -> None:  # noqa: C901 — one case per event
        e = rec.event
        at = rec.envelope.occurred_at.isoformat()
        match e:
            case c.FileStored():
                await view.put(VERSIONS, e.version_id, {
                    "key": e.version_id, "group_id": e.group_id, "file_id": e.file_id, "version": e.version,
                    "uploaded_by": e.uploaded_by, "uploaded_at": at, "size": e.size, "sha256": e.sha256,
                    "media_type": e.media_type, "erased": False})
                old = await view.get(FILES, e.file_id) if isinstance(e, c.FileVersionAdded) else None
                await view.put(FILES, e.file_id, {
                    "key": e.file_id, "group_id": e.group_id, "file_id": e.file_id,
                    "name": old["name"] if old else e.name, "name_by": old["name_by"] if old else e.uploaded_by,
                    "media_type": e.media_type, "size": e.size, "version": e.version,
                    "total_size": (old["total_size"] if old else 0) + e.size,
                    "uploaded_by": e.uploaded_by, "created_at": old["created_at"] if old else at, "updated_at": at,
                    "binned": False, "binned_at": None, "purge_at": None, "purged": False, "erased": False})
            case c.FileRenamed():
                old = await view.get(FILES, e.file_id)
                if old is not None:
                    await view.put(FILES, e.file_id, {**_plain(old), "name": e.name, "name_by": e.renamed_by,
                                                      "updated_at": at})
            case c.FileBinned():
                old = await view.get(FILES, e.file_id)
                if old is not None:
                    await view.put(FILES, e.file_id, {**_plain(old), "binned": True, "binned_at": at,
                                                      "purge_at": e.purge_at.isoformat()})
            case c.FileRestored():
                old = await view.get(FILES, e.file_id)
                if old is not None:
                    await view.put(FILES, e.file_id, {**_plain(old), "binned": False, "binned_at": None,
                                                      "purge_at": None, "updated_at": at})
            case c.FilePurged():
                old = await view.get(FILES, e.file_id)
                if old is not None:
                    await view.put(FILES, e.file_id, {
                        **_plain(old), "name": None, "name_by": None, "uploaded_by": None, "size": 0, "total_size": 0,
                        "binned": False, "binned_at": None, "purge_at": None, "purged": True, "updated_at": at})
                for row in await view.find(VERSIONS, {"file_id": e.file_id}, limit=10_000):
                    await view.delete(VERSIONS, row["key"])
            case g.AuthorErased():
                member = e.member_id
                # one put per document per event: gather what changes in each file first
                changes: dict[str, dict] = {}
                for row in await view.find(VERSIONS, {"uploaded_by": member}, limit=100_000):
                    await view.put(VERSIONS, row["key"], {**_plain(row), "uploaded_by": None, "erased": True})
                    doc = await view.get(FILES, row["file_id"])
                    if doc is not None and doc["version"] == row["version"]:
                        changes.setdefault(row["file_id"], {}).update(uploaded_by=None, erased=True)
                for doc in await view.find(FILES, {"name_by": member}, limit=100_000):
                    changes.setdefault(doc["key"], {}).update(name=None, name_by=None)
                for file_id, change in sorted(changes.items()):
                    doc = await view.get(FILES, file_id)
                    if doc is not None:
                        await view.put(FILES, file_id, {**_plain(doc), **change})
