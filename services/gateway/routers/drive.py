"""A working group's shared drive: files, versions, the bin; uploads and downloads streamed.

An upload is asked about first (``PrepareUpload``: may the caller, how much may it take), before a
byte of the body is read; the body is then sealed segment by segment with a fresh key and streamed
into the staging bucket, never held whole; the groups service commits it. A body past its limit, a
client gone half-way or a bus that fails stops the stream and has the service erase what was staged.
A download streams the chunks back, each opened as it passes."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict
from starlette.requests import ClientDisconnect

from libs.contracts import drive as c
from libs.contracts.drive import SERVICE, FileName, staging_name
from libs.contracts.errors import ErrorBody
from libs.contracts.types import ID_PATTERN
from libs.kit.logging import get_logger
from libs.kit.objects import Sealer, Unreadable, new_key, open_chunks
from services.gateway.deps import AuthBus, AuthCommandBus, Bus
from services.gateway.problems import PROBLEM_RESPONSES, Problem

log = get_logger(__name__)

PathId = Annotated[str, Path(pattern=ID_PATTERN)]
#: the routes whose bodies are streamed (the body-size limit leaves them to the route)
UPLOAD_PATHS = re.compile(r"^/v1/groups/[A-Za-z0-9_-]{1,64}/files(/[A-Za-z0-9_-]{1,64}/versions)?$")
#: the routes whose time is the client's bandwidth (a file's bytes, either way): the gateway's bound on requests
#: in flight counts them against its ceiling only, not against the bound it learns from the load (ADR 0031)
TRANSFER_PATHS = re.compile(UPLOAD_PATHS.pattern + r"|^/v1/groups/[A-Za-z0-9_-]{1,64}/files/[A-Za-z0-9_-]{1,64}"
                            r"(/versions/[0-9]{1,9})?/content$")
MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}$")
MB = 1024 * 1024
BINARY_BODY = {"requestBody": {"required": True, "description": "the file's bytes, as they are (not a form); its "
               "Content-Type is kept as the file's type", "content": {"application/octet-stream": {
                   "schema": {"type": "string", "format": "binary"}}}}}
BINARY_REPLY = {200: {"description": "the file's bytes, as an attachment", "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}

router = APIRouter(tags=["drive"], responses=PROBLEM_RESPONSES)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RenameIn(Body):
    name: FileName


class _PastLimit(Exception):
    pass


def _declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 16:
        raise Problem(ErrorBody(kind="validation", code="bad_content_length"))
    return int(raw)


def _media_type(request: Request) -> str:
    raw = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    return raw if MEDIA_TYPE.match(raw) else "application/octet-stream"


async def _discard(bus: Bus, group_id: str, upload_id: str) -> None:
    """Have the service erase what was staged; a failure here must not hide why the upload stopped
    (the staging bucket's age limit drops it anyway)."""
    try:
        await bus.command(SERVICE, c.DiscardUpload(group_id=group_id, upload_id=upload_id))
    except Exception as e:  # noqa: BLE001 — logged; the upload's own error is what the client hears
        log.warning("upload_not_discarded", upload_id=upload_id, error=type(e).__name__)


async def _upload(request: Request, bus: Bus, group_id: str, file_id: str | None, name: str | None) -> c.FileView:
    declared = _declared_length(request)
    # rights, the file, the size limit and the quota: all before a byte of the body is read
    slot = c.UploadSlot.model_validate(
        await bus.query(SERVICE, c.PrepareUpload(group_id=group_id, file_id=file_id, size=declared)))
    key = new_key()
    sealer = Sealer(key, slot.upload_id)
    staged_as = staging_name(group_id, bus.member_id, slot.upload_id)
    results = []

    async def chunks():
        async for piece in request.stream():
            if sealer.size + len(piece) > slot.max_bytes:
                raise _PastLimit
            for chunk in sealer.feed(piece):
                yield chunk
        sealed, last = sealer.finish()
        results.append(sealed)
        yield last

    try:
        await request.app.state.staging.write(staged_as, chunks())
    except _PastLimit:
        await _discard(bus, group_id, slot.upload_id)
        mb = slot.max_bytes // MB
        raise Problem(ErrorBody(kind="too_large", code=slot.limit_code,
                                params={"limit_mb": mb, "free_mb": mb})) from None
    except ClientDisconnect:
        await _discard(bus, group_id, slot.upload_id)
        # nobody hears it: said for the access log, not raised as a failure of ours
        raise Problem(ErrorBody(kind="validation", code="upload_interrupted")) from None
    except Exception as e:  # noqa: BLE001 — whatever stopped the stream, nothing staged may stay
        await _discard(bus, group_id, slot.upload_id)
        log.warning("upload_failed", upload_id=slot.upload_id, error=type(e).__name__)
        raise Problem(ErrorBody(kind="unavailable", code="upload_failed")) from None
    sealed = results[0]
    return await bus.command(SERVICE, c.CommitUpload(
        group_id=group_id, upload_id=slot.upload_id, file_id=file_id, name=name, media_type=_media_type(request),
        size=sealed.size, sha256=sealed.sha256, chunks=sealed.chunks, file_key=key))


@router.post("/v1/groups/{group_id}/files", response_model=c.FileView, status_code=status.HTTP_201_CREATED,
             openapi_extra=BINARY_BODY,
             summary="Upload a new file into the group's drive: the body is the file (streamed; members only; "
                     "413 past the size limit or the group's quota)")
async def upload_file(request: Request, bus: AuthBus, group_id: PathId, name: Annotated[FileName, Query()]):
    return await _upload(request, bus, group_id, None, name)


@router.post("/v1/groups/{group_id}/files/{file_id}/versions", response_model=c.FileView,
             status_code=status.HTTP_201_CREATED, openapi_extra=BINARY_BODY,
             summary="Upload a new version of a file: the earlier ones stay downloadable")
async def upload_version(request: Request, bus: AuthBus, group_id: PathId, file_id: PathId):
    return await _upload(request, bus, group_id, file_id, None)


@router.get("/v1/groups/{group_id}/files", response_model=c.ListFiles.reply_model,
            summary="The group's files, newest change first; the bin with bin=true; the space used and left")
async def list_files(bus: AuthBus, group_id: PathId, bin: bool = False):
    return await bus.query(SERVICE, c.ListFiles(group_id=group_id, binned=bin))


@router.get("/v1/groups/{group_id}/files/{file_id}", response_model=c.GetFile.reply_model,
            summary="One file with its versions")
async def get_file(bus: AuthBus, group_id: PathId, file_id: PathId):
    return await bus.query(SERVICE, c.GetFile(group_id=group_id, file_id=file_id))


def _disposition(name: str) -> str:
    ascii_name = re.sub(r'[^A-Za-z0-9._ -]', "_", name)[:150] or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


async def _download(request: Request, bus: Bus, group_id: str, file_id: str, version: int | None):
    content = c.FileContent.model_validate(
        await bus.query(SERVICE, c.OpenFile(group_id=group_id, file_id=file_id, version=version)))
    files = request.app.state.files
    info = await files.info(content.object_name)
    if info is None:
        log.error("file_object_missing", file_id=file_id, version=content.version)
        raise Problem(ErrorBody(kind="unavailable", code="file_unavailable"))

    async def body():
        try:
            async for plain in open_chunks(files.chunks(info), content.file_key, content.seal_id, content.chunks):
                yield plain
        except Unreadable as e:
            # the client sees a cut-off body (shorter than Content-Length), never altered bytes
            log.error("file_unreadable", file_id=file_id, version=content.version, error=str(e))
            raise

    return StreamingResponse(body(), media_type=content.media_type, headers={
        "Content-Length": str(content.size), "Content-Disposition": _disposition(content.name),
        "ETag": f"\"{content.sha256}\"", "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
        "Content-Security-Policy": "sandbox; default-src 'none'", "X-File-Version": str(content.version)})


@router.get("/v1/groups/{group_id}/files/{file_id}/content", response_class=StreamingResponse, responses=BINARY_REPLY,
            summary="Download a file's newest version (streamed)")
async def download_file(request: Request, bus: AuthBus, group_id: PathId, file_id: PathId):
    return await _download(request, bus, group_id, file_id, None)


@router.get("/v1/groups/{group_id}/files/{file_id}/versions/{version}/content", response_class=StreamingResponse,
            responses=BINARY_REPLY, summary="Download one version of a file (streamed)")
async def download_version(request: Request, bus: AuthBus, group_id: PathId, file_id: PathId,
                           version: Annotated[int, Path(ge=1, le=2**31)]):
    return await _download(request, bus, group_id, file_id, version)


@router.patch("/v1/groups/{group_id}/files/{file_id}", response_model=c.RenameFile.reply_model,
              summary="Rename a file (members)")
async def rename_file(bus: AuthCommandBus, group_id: PathId, file_id: PathId, body: RenameIn):
    return await bus.command(SERVICE, c.RenameFile(group_id=group_id, file_id=file_id, name=body.name))


@router.delete("/v1/groups/{group_id}/files/{file_id}", response_model=c.BinFile.reply_model,
               summary="Move a file to the bin: its members may restore it until it is purged")
async def bin_file(bus: AuthCommandBus, group_id: PathId, file_id: PathId):
    return await bus.command(SERVICE, c.BinFile(group_id=group_id, file_id=file_id))


@router.post("/v1/groups/{group_id}/files/{file_id}/restore", response_model=c.RestoreFile.reply_model,
             summary="Take a file back out of the bin")
async def restore_file(bus: AuthCommandBus, group_id: PathId, file_id: PathId):
    return await bus.command(SERVICE, c.RestoreFile(group_id=group_id, file_id=file_id))


@router.delete("/v1/groups/{group_id}/bin/{file_id}", response_model=c.PurgeFile.reply_model,
               summary="Erase a binned file for good, every version (the group's coordinators and moderators)")
async def purge_file(bus: AuthCommandBus, group_id: PathId, file_id: PathId):
    return await bus.command(SERVICE, c.PurgeFile(group_id=group_id, file_id=file_id))
