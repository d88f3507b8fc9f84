"""Reading the drive: its files and bin, one file with its versions, and — for the gateway, which
streams the bytes — where a version is and its key. Reading follows the chat's rule (its members, the
moderators, and the Main group when the group opens its content to it); writing is for members."""

from __future__ import annotations

from uuid6 import uuid7

from libs.contracts import drive as c
from libs.contracts.drive import FILES_BUCKET, STAGING_BUCKET
from libs.contracts.errors import Conflict, NotFound
from libs.kit.rpc import Context
from libs.kit.service import Service
from services.groups import drive_domain as d
from services.groups.chat_handlers import group_facts
from services.groups.chat_queries import content_readable
from services.groups.drive_handlers import limits_of
from services.groups.drive_projections import DRIVE_VIEW, FILES, file_view, read_file
from services.groups.handlers import signed_in
from services.groups.settings import Settings

VIEWS = [DRIVE_VIEW, "directory"]


def register_drive_queries(svc: Service, settings: Settings) -> None:
    limits = limits_of(settings)

    @svc.query(c.PrepareUpload, reads=[])
    async def prepare_upload(q: c.PrepareUpload, ctx: Context) -> c.UploadSlot:
        signed_in(ctx)
        group = await group_facts(svc, q.group_id, ctx)
        d.members_only(group, q.group_id)
        if group.status == "archived":
            raise Conflict("group_archived", group_id=q.group_id)
        state, _ = await svc.load(d.DRIVE, q.group_id)
        if q.file_id is not None:
            file = state.files.get(q.file_id)
            if file is None or file.purged:
                raise NotFound("file_not_found", file_id=q.file_id)
            if file.binned:
                raise Conflict("file_in_bin", file_id=q.file_id)
        if q.size is not None:
            d.check_fits(state, limits, q.size)
        room, code = d.room_for(state, limits)
        return c.UploadSlot(group_id=q.group_id, upload_id=str(uuid7()), bucket=STAGING_BUCKET, max_bytes=room,
                            limit_code=code)

    @svc.query(c.ListFiles, reads=VIEWS)
    async def list_files(q: c.ListFiles, ctx: Context) -> c.FileList:
        await content_readable(svc, q.group_id, ctx)
        rows = await svc.store.find(FILES, {"group_id": q.group_id, "purged": False}, sort=[("updated_at", -1)],
                                    limit=10_000)
        used = sum(r["total_size"] for r in rows)
        items = [await file_view(svc.store, r) for r in rows if r["binned"] == q.binned]
        return c.FileList(group_id=q.group_id, items=tuple(items), used_bytes=used, quota_bytes=limits.quota_bytes,
                          max_file_bytes=limits.max_file_bytes)

    @svc.query(c.GetFile, reads=VIEWS)
    async def get_file(q: c.GetFile, ctx: Context) -> c.FileView:
        await content_readable(svc, q.group_id, ctx)
        found = await read_file(svc.store, q.group_id, q.file_id, with_versions=True)
        if found is None or found.purged:
            raise NotFound("file_not_found", file_id=q.file_id)
        return found

    @svc.query(c.OpenFile, reads=[])
    async def open_file(q: c.OpenFile, ctx: Context) -> c.FileContent:
        await content_readable(svc, q.group_id, ctx)
        state, _ = await svc.load(d.DRIVE, q.group_id)
        file = state.files.get(q.file_id)
        if file is None or file.purged:
            raise NotFound("file_not_found", file_id=q.file_id)
        if file.binned:
            raise Conflict("file_in_bin", file_id=q.file_id)
        number = q.version or len(file.versions)
        if not 1 <= number <= len(file.versions):
            raise NotFound("version_not_found", file_id=q.file_id, version=number)
        v = file.versions[number - 1]
        # the state may have been folded before the uploader's erasure: ask the key store, not the cache
        if v.file_key is None or await svc.vault.is_shredded(v.uploaded_by):
            raise NotFound("file_erased", file_id=q.file_id, version=number)
        return c.FileContent(group_id=q.group_id, file_id=q.file_id, version=number, name=file.name or "file",
                             media_type=v.media_type, size=v.size, sha256=v.sha256, bucket=FILES_BUCKET,
                             object_name=v.object_name, seal_id=v.seal_id, chunks=v.chunks, file_key=v.file_key)
