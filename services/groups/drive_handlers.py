"""The drive's commands. A commit is decided before any byte moves (a refusal erases the staged upload
and records nothing), then the staged chunks are copied into the files' bucket — each segment opened
on the way, so what is recorded is what was sent — and only then recorded; if recording fails, the
copy is erased too. The staging bucket drops whatever nobody commits or discards (its age limit)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from uuid6 import uuid7

from libs.contracts import drive as c
from libs.contracts.drive import FILES_BUCKET, STAGING_BUCKET, file_object_name, staging_name
from libs.contracts.errors import Conflict, DomainError, Invalid
from libs.kit.objects import ObjectBucket, Opener, Unreadable, ciphertext_size, segments
from libs.kit.rpc import Context, Done
from libs.kit.service import Service, meta_of
from services.groups import drive_domain as d
from services.groups.chat_handlers import group_facts
from services.groups.drive_projections import DRIVE_VIEW, read_file
from services.groups.handlers import signed_in
from services.groups.settings import Settings


class Buckets:
    """The drive's two buckets, opened when the service starts."""

    files: ObjectBucket
    staging: ObjectBucket


def limits_of(settings: Settings) -> d.Limits:
    return d.Limits(settings.drive_max_file_bytes, settings.drive_quota_bytes, settings.drive_bin_days)


async def _verified(bucket: ObjectBucket, info, cmd: c.CommitUpload) -> AsyncIterator[bytes]:
    """The staged chunks as they are, each opened on the way with the upload's key (the plaintext is
    hashed and dropped); the whole checked against the declared length and digest at the end."""
    opener = Opener(cmd.file_key, cmd.upload_id, cmd.chunks)
    digest, size = hashlib.sha256(), 0
    async for chunk in bucket.chunks(info):
        plain = opener.open(chunk)
        digest.update(plain)
        size += len(plain)
        yield chunk
    opener.finish()
    if size != cmd.size or digest.hexdigest() != cmd.sha256:
        raise Unreadable("the staged bytes are not what the commit declares")


def register_drive_handlers(svc: Service, settings: Settings, buckets: Buckets) -> None:
    limits = limits_of(settings)

    @svc.on_start
    async def open_buckets() -> None:
        buckets.files = ObjectBucket(svc.nc, FILES_BUCKET)
        buckets.staging = ObjectBucket(svc.nc, STAGING_BUCKET)

    async def after(done, group_id: str, file_id: str) -> Done:
        """The file as the drive's read model shows it once it has this change (read-your-writes)."""
        await svc.wait_read_back(done, [DRIVE_VIEW])
        view = await read_file(svc.store, group_id, file_id, with_versions=True)
        if view is None:  # the read model is behind its bounded wait: answer from the decision itself
            file = done.state.files[file_id]
            latest = file.versions[-1] if file.versions else None
            now = datetime.now(UTC)
            view = c.FileView(group_id=group_id, file_id=file_id, name=file.name,
                              media_type=latest.media_type if latest else "application/octet-stream",
                              size=latest.size if latest else 0, version=len(file.versions),
                              versions_count=len(file.versions), uploaded_by=latest.uploaded_by if latest else None,
                              created_at=now, updated_at=now, binned=file.binned, purged=file.purged)
        return Done(done.seq, view)

    @svc.command(c.CommitUpload)
    async def commit_upload(cmd: c.CommitUpload, ctx: Context) -> Done:
        signed_in(ctx)
        staged_as = staging_name(cmd.group_id, ctx.actor.id, cmd.upload_id)
        try:
            group = await group_facts(svc, cmd.group_id, ctx)
            d.members_only(group, cmd.group_id)
            if cmd.file_id is None and cmd.name is None:
                raise Invalid("file_name_required")
            info = await buckets.staging.info(staged_as)
            intact = (info is not None and info.chunks == cmd.chunks == segments(cmd.size)
                      and info.size == ciphertext_size(cmd.size))
            staged = d.Staged(cmd.upload_id, cmd.size, cmd.sha256, cmd.media_type, cmd.chunks, cmd.file_key, intact)
            file_id = cmd.file_id or str(uuid7())
            version_id = str(uuid7())
            command = d.Store(ctx.actor, cmd.group_id, group, limits, staged, file_id, version_id,
                              file_object_name(cmd.group_id, file_id, version_id), cmd.name, cmd.file_id is None)
            state, _ = await svc.load(d.DRIVE, cmd.group_id)
            d.DRIVE.decide(command, state)  # refused here: no byte is copied
        except DomainError:
            await buckets.staging.erase(staged_as)
            raise
        try:
            await buckets.files.write(command.object_name, _verified(buckets.staging, info, cmd))
        except Unreadable:
            await buckets.files.erase(command.object_name)
            await buckets.staging.erase(staged_as)
            raise Conflict("upload_incomplete", upload_id=cmd.upload_id) from None
        try:
            done = await svc.decide(d.DRIVE, cmd.group_id, command, meta_of(ctx))
        except BaseException:
            await buckets.files.erase(command.object_name)
            await buckets.staging.erase(staged_as)
            raise
        await buckets.staging.erase(staged_as)
        return await after(done, cmd.group_id, file_id)

    @svc.command(c.DiscardUpload)
    async def discard_upload(cmd: c.DiscardUpload, ctx: Context) -> Done:
        signed_in(ctx)
        # only the caller's own staged upload can be named (staging_name binds it)
        gone = await buckets.staging.erase(staging_name(cmd.group_id, ctx.actor.id, cmd.upload_id))
        return Done(None, c.DiscardReply(upload_id=cmd.upload_id, discarded=gone))

    async def change(group_id: str, file_id: str, ctx: Context, make) -> Done:
        signed_in(ctx)
        group = await group_facts(svc, group_id, ctx)
        done = await svc.decide(d.DRIVE, group_id, make(group), meta_of(ctx))
        return await after(done, group_id, file_id)

    @svc.command(c.RenameFile)
    async def rename_file(cmd: c.RenameFile, ctx: Context) -> Done:
        return await change(cmd.group_id, cmd.file_id, ctx,
                            lambda group: d.Rename(ctx.actor, cmd.group_id, group, cmd.file_id, cmd.name))

    @svc.command(c.BinFile)
    async def bin_file(cmd: c.BinFile, ctx: Context) -> Done:
        return await change(cmd.group_id, cmd.file_id, ctx, lambda group: d.Bin(
            ctx.actor, cmd.group_id, group, cmd.file_id, datetime.now(UTC), limits.bin_days))

    @svc.command(c.RestoreFile)
    async def restore_file(cmd: c.RestoreFile, ctx: Context) -> Done:
        return await change(cmd.group_id, cmd.file_id, ctx,
                            lambda group: d.Restore(ctx.actor, cmd.group_id, group, cmd.file_id))

    @svc.command(c.PurgeFile)
    async def purge_file(cmd: c.PurgeFile, ctx: Context) -> Done:
        return await change(cmd.group_id, cmd.file_id, ctx,
                            lambda group: d.Purge(ctx.actor, cmd.group_id, group, cmd.file_id))
