"""Groups, drive part: a working group's shared files, their versions and the bin.

A file's bytes live in a JetStream Object Store bucket (``hr_files``); its metadata are events of the
group's ``drive`` aggregate (one per group: the quota is the group's). A body larger than one bus
message never travels as a command: the gateway, once the service has said the caller may upload
(``PrepareUpload``), streams it into a staging bucket, sealed with a key of its own, and the service
commits it (``CommitUpload``: copied into the files' bucket, recorded) or removes it
(``DiscardUpload``). Each version is its uploader's personal data (DESIGN.md §2): its key and its name
are sealed with the uploader's key in the event, so the uploader's erasure leaves it unreadable.
See docs/adr/0019.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from libs.contracts.base import Command, Contract, Event, Query
from libs.contracts.types import ONE_LINE, Id

SERVICE = "groups"
#: the buckets (Object Store) of the drive: files, and uploads not yet committed
FILES_BUCKET = "hr_files"
STAGING_BUCKET = "hr_files_staging"
#: a file's name: one line, no path separators, not only blanks
FileName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^/\\]*[^/\\\s][^/\\]*$"),
                     ONE_LINE]
MediaType = Annotated[str, StringConstraints(
    max_length=127, pattern=r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}$")]
Sha256 = Annotated[str, StringConstraints(max_length=64, pattern=r"^[0-9a-f]{64}$")]
#: a 256-bit key, base64 (44 characters)
FileKey = Annotated[str, StringConstraints(max_length=44, pattern=r"^[A-Za-z0-9+/]{43}=$")]
Size = Annotated[int, Field(ge=0, le=2**50)]
Chunks = Annotated[int, Field(ge=0, le=2**32)]


def staging_name(group_id: str, member_id: str, upload_id: str) -> str:
    """An upload's object while it is staged: bound to its group and uploader, so a commit can only
    take the caller's own upload."""
    return f"{group_id}/{member_id}/{upload_id}"


def file_object_name(group_id: str, file_id: str, version_id: str) -> str:
    return f"{group_id}/{file_id}/{version_id}"


# ---------------------------------------------------------------- events (aggregate ``drive``: the group)


class FileStored(Event):
    """One version's bytes committed: where they are, and how to open them. The name and the key are
    the uploader's (sealed with their key)."""

    pii_fields: ClassVar[frozenset[str]] = frozenset({"name", "file_key"})
    pii_subject_field: ClassVar[str] = "uploaded_by"
    group_id: str
    file_id: str
    version: int
    version_id: str
    #: the file's name as this version gave it (None once the uploader is erased)
    name: str | None = None
    media_type: str
    size: int
    sha256: str
    #: the object in the files' bucket, and the id its segments were sealed under
    object_name: str
    seal_id: str
    chunks: int
    file_key: str | None = None
    uploaded_by: str


class FileUploaded(FileStored):
    pass


class FileVersionAdded(FileStored):
    pass


class FileRenamed(Event):
    pii_fields: ClassVar[frozenset[str]] = frozenset({"name"})
    pii_subject_field: ClassVar[str] = "renamed_by"
    group_id: str
    file_id: str
    name: str | None = None
    renamed_by: str


class FileBinned(Event):
    group_id: str
    file_id: str
    binned_by: str
    #: when the bin lets go of it
    purge_at: datetime


class FileRestored(Event):
    group_id: str
    file_id: str
    restored_by: str


class FilePurged(Event):
    """Gone for good: its versions' objects are erased (a policy), its bytes leave the quota."""

    group_id: str
    file_id: str
    #: None when the bin's time ran out
    purged_by: str | None = None
    objects: tuple[str, ...]
    freed: int


DRIVE_EVENTS = (FileUploaded, FileVersionAdded, FileRenamed, FileBinned, FileRestored, FilePurged)


# ---------------------------------------------------------------- replies


class UploadSlot(Contract):
    """Where the gateway may stream one upload, and how much it may take."""

    group_id: str
    upload_id: str
    bucket: str
    #: the body may be this long at most: the file-size limit or what the group's quota has left
    max_bytes: int
    #: which of the two ``max_bytes`` is: a body past it is refused with this code
    limit_code: str


class DiscardReply(Contract):
    upload_id: str
    discarded: bool


class FileVersionView(Contract):
    version: int
    #: None once its uploader is erased: then it cannot be downloaded
    uploaded_by: str | None
    uploaded_by_name: str | None = None
    uploaded_at: datetime
    size: int
    sha256: str
    media_type: str
    erased: bool = False


class FileView(Contract):
    group_id: str
    file_id: str
    #: None when whoever gave the name is erased
    name: str | None
    media_type: str
    size: int
    version: int
    versions_count: int
    uploaded_by: str | None
    uploaded_by_name: str | None = None
    created_at: datetime
    updated_at: datetime
    binned: bool = False
    binned_at: datetime | None = None
    purge_at: datetime | None = None
    #: erased for good (only the answer to a purge says so: a purged file is listed nowhere)
    purged: bool = False
    #: the newest version is unreadable (its uploader erased)
    erased: bool = False
    #: oldest first, in the answer for one file only
    versions: tuple[FileVersionView, ...] = ()


class FileList(Contract):
    group_id: str
    #: newest change first
    items: tuple[FileView, ...]
    used_bytes: int
    quota_bytes: int
    max_file_bytes: int


class FileContent(Contract):
    """What the gateway needs to stream one version out: answered to the group's members only."""

    group_id: str
    file_id: str
    version: int
    name: str
    media_type: str
    size: int
    sha256: str
    bucket: str
    object_name: str
    seal_id: str
    chunks: int
    file_key: str


# ---------------------------------------------------------------- commands


class CommitUpload(Command):
    """Record a streamed upload as a new file (``file_id`` None) or a new version of one."""

    service = SERVICE
    reply_model = FileView
    #: its body was streamed once; a second attempt is another upload
    replayable: ClassVar[bool] = False
    group_id: Id
    upload_id: Id
    file_id: Id | None = None
    name: FileName | None = None
    media_type: MediaType = "application/octet-stream"
    size: Size
    sha256: Sha256
    chunks: Chunks
    file_key: FileKey


class DiscardUpload(Command):
    service = SERVICE
    reply_model = DiscardReply
    group_id: Id
    upload_id: Id


class RenameFile(Command):
    service = SERVICE
    reply_model = FileView
    group_id: Id
    file_id: Id
    name: FileName


class BinFile(Command):
    """Move a file to the group's bin, whence its members may restore it until it is purged."""

    service = SERVICE
    reply_model = FileView
    group_id: Id
    file_id: Id


class RestoreFile(Command):
    service = SERVICE
    reply_model = FileView
    group_id: Id
    file_id: Id


class PurgeFile(Command):
    """Delete a binned file for good (the group's coordinators and moderators)."""

    service = SERVICE
    reply_model = FileView
    group_id: Id
    file_id: Id


# ---------------------------------------------------------------- queries


class PrepareUpload(Query):
    """May the caller upload here, and how much: asked before a byte of the body is read."""

    service = SERVICE
    reply_model = UploadSlot
    group_id: Id
    file_id: Id | None = None
    #: the declared length, when there is one: refused at once when it cannot fit
    size: Size | None = None


class ListFiles(Query):
    service = SERVICE
    reply_model = FileList
    group_id: Id
    #: the bin instead of the drive
    binned: bool = False


class GetFile(Query):
    service = SERVICE
    reply_model = FileView
    group_id: Id
    file_id: Id


class OpenFile(Query):
    service = SERVICE
    reply_model = FileContent
    group_id: Id
    file_id: Id
    #: the newest when None
    version: Annotated[int, Field(ge=1, le=2**31)] | None = None


DRIVE_COMMANDS = (CommitUpload, DiscardUpload, RenameFile, BinFile, RestoreFile, PurgeFile)
DRIVE_QUERIES = (PrepareUpload, ListFiles, GetFile, OpenFile)
DRIVE_REPLIES = (UploadSlot, DiscardReply, FileVersionView, FileView, FileList, FileContent)
