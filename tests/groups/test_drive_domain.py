"""The drive decider (given events / when a command / then events or a refusal), and the sealed
segments a file is stored in (a chunk swapped, reordered, cut off or opened with another key is
noticed)."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime, timedelta

import pytest

from libs.contracts import drive as c
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, NotFound, TooLarge
from libs.kit.decider import given
from libs.kit.objects import SEGMENT, Opener, Sealer, Unreadable, ciphertext_size, new_key, segments
from services.groups.chat_domain import GroupFacts
from services.groups.drive_domain import DRIVE, Bin, Limits, Purge, Rename, Restore, Staged, Store

G = "g-1"
ANNA, BORIS = Actor(id="anna"), Actor(id="boris")
MEMBERS = frozenset({"anna", "boris"})
ACTIVE = GroupFacts(True, "active", True, MEMBERS)
COORDINATING = GroupFacts(True, "active", True, MEMBERS, may_moderate=True)
OUTSIDE = GroupFacts(True, "active", False, MEMBERS)
LIMITS = Limits(max_file_bytes=100, quota_bytes=250, bin_days=30)
NOW = datetime(2026, 12, 2, tzinfo=UTC)
KEY = "A" * 43 + "="


def staged(size: int = 10, intact: bool = True, upload_id: str = "u-1") -> Staged:
    return Staged(upload_id, size, "0" * 64, "text/plain", 1, KEY, intact)


def store(size: int = 10, *, file_id: str = "f-1", new: bool = True, group: GroupFacts = ACTIVE,
          actor: Actor = ANNA, version_id: str = "v-1", intact: bool = True) -> Store:
    return Store(actor, G, group, LIMITS, staged(size, intact), file_id, version_id, f"{G}/{file_id}/{version_id}",
                 "план.txt" if new else None, new)


def uploaded(size: int = 10, file_id: str = "f-1", version_id: str = "v-1") -> c.FileUploaded:
    return c.FileUploaded(group_id=G, file_id=file_id, version=1, version_id=version_id, name="план.txt",
                          media_type="text/plain", size=size, sha256="0" * 64, object_name=f"{G}/{file_id}/{version_id}",
                          seal_id="u-1", chunks=1, file_key=KEY, uploaded_by="anna")


def binned(file_id: str = "f-1") -> c.FileBinned:
    return c.FileBinned(group_id=G, file_id=file_id, binned_by="boris", purge_at=NOW + timedelta(days=30))


def test_a_member_uploads_a_file_and_the_same_commit_again_changes_nothing():
    state = given(DRIVE).when(store()).then(uploaded())
    assert state.used == 10 and state.files["f-1"].versions[0].file_key == KEY
    given(DRIVE, uploaded()).when(store()).then()


def test_a_new_version_keeps_the_old_and_counts_against_the_quota():
    added = c.FileVersionAdded(**{**uploaded(20, version_id="v-2").model_dump(), "version": 2, "name": None,
                                  "uploaded_by": "boris"})
    state = given(DRIVE, uploaded()).when(store(20, new=False, actor=BORIS, version_id="v-2")).then(added)
    assert [v.number for v in state.files["f-1"].versions] == [1, 2] and state.used == 30


@pytest.mark.parametrize("command,error,code", [
    (store(group=GroupFacts(False, None, False)), NotFound, "group_not_found"),
    (store(group=OUTSIDE), Forbidden, "group_members_only"),
    (store(group=GroupFacts(True, "archived", True, MEMBERS)), Conflict, "group_archived"),
    (store(intact=False), Conflict, "upload_incomplete"),
    (store(101), TooLarge, "file_too_large"),
    (store(new=False, file_id="nope"), NotFound, "file_not_found"),
])
def test_an_upload_is_refused_for_what_it_is(command, error, code):
    given(DRIVE).when(command).refused(error, code)


def test_the_quota_counts_every_version_and_the_bin_until_a_purge():
    full = [uploaded(100, "f-1", "v-1"), uploaded(100, "f-2", "v-2")]
    given(DRIVE, *full).when(store(60, file_id="f-3", version_id="v-3")).refused(TooLarge, "drive_quota_exceeded",
                                                                               free_mb=0)
    given(DRIVE, *full, binned("f-2")).when(store(60, file_id="f-3")).refused(TooLarge, "drive_quota_exceeded")
    purged = c.FilePurged(group_id=G, file_id="f-2", purged_by="anna", objects=(f"{G}/f-2/v-2",), freed=100)
    given(DRIVE, *full, binned("f-2"), purged).when(store(60, file_id="f-3", version_id="v-3")).then(
        uploaded(60, "f-3", "v-3"))


def test_the_bin_gives_a_file_back_until_it_is_purged():
    given(DRIVE, uploaded()).when(Bin(BORIS, G, ACTIVE, "f-1", NOW, 30)).then(binned())
    given(DRIVE, uploaded(), binned()).when(Bin(BORIS, G, ACTIVE, "f-1", NOW, 30)).then()  # twice: once
    given(DRIVE, uploaded(), binned()).when(store(new=False)).refused(Conflict, "file_in_bin")
    given(DRIVE, uploaded(), binned()).when(Rename(ANNA, G, ACTIVE, "f-1", "x")).refused(Conflict, "file_in_bin")
    given(DRIVE, uploaded(), binned()).when(Restore(ANNA, G, ACTIVE, "f-1")).then(
        c.FileRestored(group_id=G, file_id="f-1", restored_by="anna"))
    given(DRIVE, uploaded(), binned()).when(Restore(ANNA, G, OUTSIDE, "f-1")).refused(Forbidden, "group_members_only")
    purged = c.FilePurged(group_id=G, file_id="f-1", purged_by="anna", objects=(f"{G}/f-1/v-1",), freed=10)
    given(DRIVE, uploaded(), binned()).when(Purge(ANNA, G, ACTIVE, "f-1")).refused(Forbidden, "coordinator_only")
    given(DRIVE, uploaded()).when(Purge(ANNA, G, COORDINATING, "f-1")).refused(Conflict, "file_not_in_bin")
    state = given(DRIVE, uploaded(), binned()).when(Purge(ANNA, G, COORDINATING, "f-1")).then(purged)
    assert state.used == 0
    given(DRIVE, uploaded(), binned(), purged).when(Restore(ANNA, G, ACTIVE, "f-1")).refused(NotFound,
                                                                                            "file_not_found")
    given(DRIVE, uploaded(), binned(), purged).when(Purge(ANNA, G, COORDINATING, "f-1")).then()


def test_the_bins_clock_purges_a_binned_file_and_nothing_else():
    timer = Purge(None, G, None, "f-1")
    given(DRIVE, uploaded(), binned()).when(timer).then(
        c.FilePurged(group_id=G, file_id="f-1", purged_by=None, objects=(f"{G}/f-1/v-1",), freed=10))
    restored = c.FileRestored(group_id=G, file_id="f-1", restored_by="anna")
    given(DRIVE, uploaded(), binned(), restored).when(timer).refused(Conflict, "file_not_in_bin")
    given(DRIVE).when(timer).then()  # a timer for a file this drive never had: nothing


def test_a_rename_to_the_same_name_is_nothing():
    given(DRIVE, uploaded()).when(Rename(ANNA, G, ACTIVE, "f-1", "план.txt")).then()
    given(DRIVE, uploaded()).when(Rename(BORIS, G, ACTIVE, "f-1", "итог.txt")).then(
        c.FileRenamed(group_id=G, file_id="f-1", name="итог.txt", renamed_by="boris"))


# ---------------------------------------------------------------- sealed segments


def seal(data: bytes, key: str, seal_id: str = "s-1", piece: int = 7_000) -> list[bytes]:
    sealer = Sealer(key, seal_id)
    out = []
    for i in range(0, len(data), piece):
        out += sealer.feed(data[i:i + piece])
    sealed, last = sealer.finish()
    out.append(last)
    assert sealed.size == len(data) and sealed.chunks == len(out) == segments(len(data))
    assert sum(map(len, out)) == ciphertext_size(len(data))
    return out


def opened(chunks: list[bytes], key: str, seal_id: str = "s-1", count: int | None = None) -> bytes:
    opener = Opener(key, seal_id, len(chunks) if count is None else count)
    plain = b"".join(opener.open(chunk) for chunk in chunks)
    opener.finish()
    return plain


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 3 * SEGMENT + 5])
def test_a_file_of_any_length_comes_back_whole(size):
    key = new_key()
    data = os.urandom(size)
    assert opened(seal(data, key), key) == data


def test_a_changed_swapped_cut_or_foreign_chunk_is_noticed():
    key = new_key()
    chunks = seal(os.urandom(3 * SEGMENT + 10), key)
    with pytest.raises(Unreadable):
        opened(chunks, new_key())  # another key
    with pytest.raises(Unreadable):
        opened(chunks, key, seal_id="s-2")  # another file's seal id
    with pytest.raises(Unreadable):
        opened([chunks[1], chunks[0], *chunks[2:]], key)  # reordered
    with pytest.raises(Unreadable):
        opened(chunks[:-1], key)  # the last one cut off, recorded as one fewer
    with pytest.raises(Unreadable):
        opened(chunks[:-1], key, count=len(chunks))  # cut off, the count kept
    flipped = bytearray(chunks[2])
    flipped[100] ^= 1
    with pytest.raises(Unreadable):
        opened([*chunks[:2], bytes(flipped), *chunks[3:]], key)
    assert base64.b64decode(key) != base64.b64decode(new_key())
