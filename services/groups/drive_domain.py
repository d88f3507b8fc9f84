"""The drive decider: one per group, so the group's quota is decided in one place. What it cannot know
(the group, its membership, the limits from settings, the staged object) the handler passes in."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from libs.contracts.base import Event
from libs.contracts.drive import (
    DRIVE_EVENTS,
    SERVICE,
    FileBinned,
    FilePurged,
    FileRenamed,
    FileRestored,
    FileStored,
    FileUploaded,
    FileVersionAdded,
)
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, NotFound, TooLarge
from libs.kit.decider import Decider
from services.groups.chat_domain import GroupFacts


@dataclass(frozen=True)
class Version:
    number: int
    version_id: str
    object_name: str
    seal_id: str
    size: int
    sha256: str
    media_type: str
    chunks: int
    uploaded_by: str
    #: None once the uploader is erased (the event's sealed fields no longer open)
    file_key: str | None
    name: str | None


@dataclass(frozen=True)
class File:
    file_id: str
    name: str | None
    versions: tuple[Version, ...] = ()
    binned: bool = False
    purged: bool = False

    @property
    def size(self) -> int:
        return sum(v.size for v in self.versions)


@dataclass(frozen=True)
class Drive:
    files: dict[str, File] = field(default_factory=dict)

    @property
    def used(self) -> int:
        return sum(f.size for f in self.files.values() if not f.purged)


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    quota_bytes: int
    bin_days: int


@dataclass(frozen=True)
class Staged:
    """The upload as the handler found it in the staging bucket."""

    upload_id: str
    size: int
    sha256: str
    media_type: str
    chunks: int
    file_key: str
    #: its chunks hold exactly ``size`` bytes sealed in ``chunks`` segments
    intact: bool


@dataclass(frozen=True)
class Store:
    actor: Actor
    group_id: str
    group: GroupFacts
    limits: Limits
    staged: Staged
    file_id: str
    version_id: str
    object_name: str
    #: None: a new version of ``file_id``
    name: str | None
    new: bool


@dataclass(frozen=True)
class Rename:
    actor: Actor
    group_id: str
    group: GroupFacts
    file_id: str
    name: str


@dataclass(frozen=True)
class Bin:
    actor: Actor
    group_id: str
    group: GroupFacts
    file_id: str
    now: datetime
    bin_days: int


@dataclass(frozen=True)
class Restore:
    actor: Actor
    group_id: str
    group: GroupFacts
    file_id: str


@dataclass(frozen=True)
class Purge:
    """By a coordinator or moderator (``actor``), or by the bin's timer (``actor`` None)."""

    actor: Actor | None
    group_id: str
    group: GroupFacts | None
    file_id: str


DriveCommand = Store | Rename | Bin | Restore | Purge


def members_only(group: GroupFacts, group_id: str) -> None:
    """Only the group's members see its drive at all; a group one may not see does not exist."""
    if not group.exists:
        raise NotFound("group_not_found", group_id=group_id)
    if not group.is_member:
        raise Forbidden("group_members_only")


def _writable(group: GroupFacts, group_id: str) -> None:
    members_only(group, group_id)
    if group.status == "archived":
        raise Conflict("group_archived", group_id=group_id)


def _file(state: Drive, file_id: str) -> File:
    file = state.files.get(file_id)
    if file is None or file.purged:
        raise NotFound("file_not_found", file_id=file_id)
    return file


def room_for(state: Drive, limits: Limits) -> tuple[int, str]:
    """How large the next version may be, and which limit that is."""
    left = max(0, limits.quota_bytes - state.used)
    return (left, "drive_quota_exceeded") if left < limits.max_file_bytes else (limits.max_file_bytes, "file_too_large")


def check_fits(state: Drive, limits: Limits, size: int) -> None:
    if size > limits.max_file_bytes:
        raise TooLarge("file_too_large", limit_mb=limits.max_file_bytes // (1024 * 1024) or 1)
    if state.used + size > limits.quota_bytes:
        raise TooLarge("drive_quota_exceeded", quota_mb=limits.quota_bytes // (1024 * 1024) or 1,
                       free_mb=max(0, limits.quota_bytes - state.used) // (1024 * 1024))


def decide_drive(cmd: DriveCommand, state: Drive) -> list[Event]:  # noqa: C901 — one branch per command
    match cmd:
        case Store():
            _writable(cmd.group, cmd.group_id)
            staged = cmd.staged
            if not staged.intact:
                raise Conflict("upload_incomplete", upload_id=staged.upload_id)
            number = 1
            if not cmd.new:
                file = _file(state, cmd.file_id)
                if file.binned:
                    raise Conflict("file_in_bin", file_id=cmd.file_id)
                number = len(file.versions) + 1
            elif cmd.file_id in state.files:
                return []  # the same commit again
            check_fits(state, cmd.limits, staged.size)
            kind = FileUploaded if cmd.new else FileVersionAdded
            return [kind(group_id=cmd.group_id, file_id=cmd.file_id, version=number, version_id=cmd.version_id,
                         name=cmd.name, media_type=staged.media_type, size=staged.size, sha256=staged.sha256,
                         object_name=cmd.object_name, seal_id=staged.upload_id, chunks=staged.chunks,
                         file_key=staged.file_key, uploaded_by=cmd.actor.id)]
        case Rename():
            _writable(cmd.group, cmd.group_id)
            file = _file(state, cmd.file_id)
            if file.binned:
                raise Conflict("file_in_bin", file_id=cmd.file_id)
            if file.name == cmd.name:
                return []
            return [FileRenamed(group_id=cmd.group_id, file_id=cmd.file_id, name=cmd.name, renamed_by=cmd.actor.id)]
        case Bin():
            _writable(cmd.group, cmd.group_id)
            file = _file(state, cmd.file_id)
            if file.binned:
                return []
            return [FileBinned(group_id=cmd.group_id, file_id=cmd.file_id, binned_by=cmd.actor.id,
                               purge_at=cmd.now + timedelta(days=cmd.bin_days))]
        case Restore():
            _writable(cmd.group, cmd.group_id)
            file = _file(state, cmd.file_id)
            if not file.binned:
                return []
            return [FileRestored(group_id=cmd.group_id, file_id=cmd.file_id, restored_by=cmd.actor.id)]
        case Purge():
            if cmd.actor is not None:
                assert cmd.group is not None
                members_only(cmd.group, cmd.group_id)
                if not cmd.group.may_moderate:
                    raise Forbidden("coordinator_only")
            found = state.files.get(cmd.file_id)
            if found is None or found.purged:
                if cmd.actor is None or found is not None:
                    return []  # purged already (the timer after a purge by hand, or twice)
                raise NotFound("file_not_found", file_id=cmd.file_id)
            file = found
            if not file.binned:
                raise Conflict("file_not_in_bin", file_id=cmd.file_id)
            return [FilePurged(group_id=cmd.group_id, file_id=cmd.file_id,
                               purged_by=cmd.actor.id if cmd.actor else None,
                               objects=tuple(v.object_name for v in file.versions), freed=file.size)]
    raise TypeError(f"not a drive command: {cmd!r}")


def evolve_drive(state: Drive, event: Event) -> Drive:
    files = state.files
    match event:
        case FileStored():
            version = Version(event.version, event.version_id, event.object_name, event.seal_id, event.size,
                              event.sha256, event.media_type, event.chunks, event.uploaded_by, event.file_key,
                              event.name)
            old = files.get(event.file_id)
            file = replace(old, versions=(*old.versions, version)) if old and isinstance(event, FileVersionAdded) \
                else File(event.file_id, event.name, (version,))
            return Drive({**files, event.file_id: file})
        case FileRenamed():
            return Drive({**files, event.file_id: replace(files[event.file_id], name=event.name)})
        case FileBinned():
            return Drive({**files, event.file_id: replace(files[event.file_id], binned=True)})
        case FileRestored():
            return Drive({**files, event.file_id: replace(files[event.file_id], binned=False)})
        case FilePurged():
            return Drive({**files, event.file_id: replace(files[event.file_id], purged=True, versions=())})
    return state


DRIVE: Decider = Decider(SERVICE, "drive", Drive, evolve_drive, decide_drive, events=DRIVE_EVENTS)
