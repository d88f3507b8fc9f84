"""A group's shared drive end to end: real HTTP, NATS JetStream (Object Store buckets) and SQLite.

What a member would notice: what one uploads another downloads byte for byte; a new version keeps the
old one; the bin gives a file back until it is purged, and a purge leaves no chunk behind; outsiders
see nothing of a members-only group's drive; an upload past the size limit or the quota is refused
and leaves neither an object nor an event; a file passes through the gateway without filling its
memory; an erased uploader's files cannot be opened by anyone."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from libs.contracts.drive import FILES_BUCKET, STAGING_BUCKET
from libs.kit.objects import stream_of
from services.groups.drive_domain import DRIVE
from tests.e2e import test_chat
from tests.e2e.helpers import settle
from tests.e2e.test_chat import chat_group
from tests.e2e.test_working_groups import call, ok
from tests.platform_harness import DRIVE_QUOTA, Platform, free_port

MB = 1024 * 1024
#: the chat tests' people: the admin, a moderator, a coordinator, two members, an outsider
people = test_chat.people
REPO = Path(__file__).resolve().parents[2]


async def req(p: Platform, token: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    r = await call(p, token, method, path, body)
    return r.status_code, r.json()


def pieces(data: bytes, size: int = 64 * 1024):
    async def gen():
        for i in range(0, len(data), size):
            yield data[i:i + size]
    return gen()


async def upload(p: Platform, token: str, group_id: str, data: bytes, name: str = "файл.bin",
                 file_id: str | None = None, declared: bool = True, media_type: str = "application/pdf"):
    path = f"/v1/groups/{group_id}/files" + (f"/{file_id}/versions" if file_id else "")
    headers = {"Content-Type": media_type}
    async with p.client(token) as c:
        if declared:
            return await c.post(path, params=None if file_id else {"name": name}, content=data, headers=headers)
        return await c.post(path, params=None if file_id else {"name": name}, content=pieces(data), headers=headers)


async def download(p: Platform, token: str, group_id: str, file_id: str, version: int | None = None) -> httpx.Response:
    path = f"/v1/groups/{group_id}/files/{file_id}" + (f"/versions/{version}" if version else "") + "/content"
    async with p.client(token) as c:
        return await c.get(path)


async def chunk_subjects(p: Platform, bucket: str) -> dict[str, int]:
    """The chunk subjects a bucket holds messages on (an erased object leaves none)."""
    js = p.services["groups"].js
    info = await js.stream_info(stream_of(bucket), subjects_filter=f"$O.{bucket}.C.>")
    return dict(info.state.subjects or {})


async def drive_events(p: Platform, group_id: str) -> int:
    _, stream = await p.services["groups"].load(DRIVE, group_id)
    return stream.version


async def test_a_members_file_comes_back_to_another_member_with_its_versions_the_bin_and_the_purge(platform, people):
    _, anna = people["anna"]
    _, boris = people["boris"]
    coordinator = people["coordinator"][1]
    group_id = await chat_group(platform, people, members=("anna", "boris"))
    first, second = os.urandom(300_000), os.urandom(131_072)  # the second: exactly one segment
    r = await upload(platform, anna, group_id, first, name="Отчёт «весна».pdf")
    assert r.status_code == 201, r.text
    made = r.json()
    file_id = made["file_id"]
    assert made["name"] == "Отчёт «весна».pdf" and made["size"] == len(first) and made["version"] == 1
    assert made["media_type"] == "application/pdf"

    listed = await ok(platform, boris, "GET", f"/v1/groups/{group_id}/files")
    assert [f["file_id"] for f in listed["items"]] == [file_id]
    assert listed["used_bytes"] == len(first) and listed["quota_bytes"] == DRIVE_QUOTA
    got = await download(platform, boris, group_id, file_id)
    assert got.status_code == 200 and got.content == first
    assert "attachment" in got.headers["content-disposition"] and got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["etag"] == f"\"{hashlib.sha256(first).hexdigest()}\""

    r = await upload(platform, boris, group_id, second, file_id=file_id, media_type="text/html")
    assert r.status_code == 201 and r.json()["version"] == 2, r.text
    assert (await download(platform, anna, group_id, file_id)).content == second
    assert (await download(platform, anna, group_id, file_id, 1)).content == first
    assert (await download(platform, anna, group_id, file_id, 2)).content == second
    assert (await download(platform, anna, group_id, file_id, 3)).status_code == 404
    one = await ok(platform, anna, "GET", f"/v1/groups/{group_id}/files/{file_id}")
    assert [v["version"] for v in one["versions"]] == [1, 2] and one["size"] == len(second)
    assert (await ok(platform, anna, "GET", f"/v1/groups/{group_id}/files"))["used_bytes"] == len(first) + len(second)

    renamed = await ok(platform, boris, "PATCH", f"/v1/groups/{group_id}/files/{file_id}", {"name": "Итог.pdf"})
    assert renamed["name"] == "Итог.pdf"
    for bad in ("", "   ", "a/b", "x" * 256, "a\u202eb"):
        status, body = await req(platform, boris, "PATCH", f"/v1/groups/{group_id}/files/{file_id}", {"name": bad})
        assert status == 422, (bad, body)

    binned = await ok(platform, boris, "DELETE", f"/v1/groups/{group_id}/files/{file_id}")
    assert binned["binned"] and binned["purge_at"]
    assert (await ok(platform, anna, "GET", f"/v1/groups/{group_id}/files"))["items"] == []
    in_bin = await ok(platform, anna, "GET", f"/v1/groups/{group_id}/files?bin=true")
    assert [f["file_id"] for f in in_bin["items"]] == [file_id]
    assert (await download(platform, anna, group_id, file_id)).status_code == 409
    status, body = await req(platform, anna, "DELETE", f"/v1/groups/{group_id}/bin/{file_id}")
    assert status == 403, body  # members restore; coordinators and moderators purge
    restored = await ok(platform, anna, "POST", f"/v1/groups/{group_id}/files/{file_id}/restore", {})
    assert not restored["binned"]
    assert (await download(platform, boris, group_id, file_id, 1)).content == first

    before = await chunk_subjects(platform, FILES_BUCKET)
    await ok(platform, anna, "DELETE", f"/v1/groups/{group_id}/files/{file_id}")
    purged = await ok(platform, coordinator, "DELETE", f"/v1/groups/{group_id}/bin/{file_id}")
    assert purged["purged"] and purged["name"] is None
    await settle(platform)
    status, body = await req(platform, anna, "POST", f"/v1/groups/{group_id}/files/{file_id}/restore", {})
    assert status == 404 and body["code"] == "file_not_found"
    assert (await ok(platform, anna, "GET", f"/v1/groups/{group_id}/files?bin=true"))["items"] == []
    assert (await ok(platform, anna, "GET", f"/v1/groups/{group_id}/files"))["used_bytes"] == 0
    after = await chunk_subjects(platform, FILES_BUCKET)
    assert len(before) - len(after) == 2 and set(after) < set(before)  # both versions' chunks erased
    # the same purge again changes nothing
    status, _ = await req(platform, coordinator, "DELETE", f"/v1/groups/{group_id}/bin/{file_id}")
    assert status == 200


async def test_outsiders_see_nothing_of_a_members_only_drive_and_only_read_an_open_one(platform, people):
    _, anna = people["anna"]
    _, outsider = people["outsider"]
    closed = await chat_group(platform, people, members=("anna",))
    file_id = (await upload(platform, anna, closed, b"secret")).json()["file_id"]
    staged = await chunk_subjects(platform, STAGING_BUCKET)
    events = await drive_events(platform, closed)
    base = f"/v1/groups/{closed}/files"
    for method, path, body in (("GET", base, None), ("GET", f"{base}?bin=true", None), ("GET", f"{base}/{file_id}", None),
                               ("GET", f"{base}/{file_id}/content", None),
                               ("GET", f"{base}/{file_id}/versions/1/content", None),
                               ("PATCH", f"{base}/{file_id}", {"name": "x"}), ("DELETE", f"{base}/{file_id}", None),
                               ("POST", f"{base}/{file_id}/restore", {}), ("DELETE", f"/v1/groups/{closed}/bin/{file_id}", None)):
        status, reply = await req(platform, outsider, method, path, body)
        assert status == 403, (method, path, reply)
    for r in (await upload(platform, outsider, closed, os.urandom(1000)),
              await upload(platform, outsider, closed, os.urandom(1000), file_id=file_id),
              await upload(platform, outsider, closed, os.urandom(200_000), declared=False)):
        assert r.status_code == 403, r.text
    assert await chunk_subjects(platform, STAGING_BUCKET) == staged and await drive_events(platform, closed) == events
    async with platform.client() as c:  # nobody signed in
        assert (await c.get(f"{base}/{file_id}/content")).status_code == 401
        assert (await c.post(base, params={"name": "x"}, content=b"x")).status_code == 401

    opened = await chat_group(platform, people, content="main", members=("anna",))
    shared = (await upload(platform, anna, opened, b"for everyone")).json()["file_id"]
    assert (await download(platform, outsider, opened, shared)).content == b"for everyone"
    assert (await upload(platform, outsider, opened, b"mine")).status_code == 403
    status, _ = await req(platform, outsider, "DELETE", f"/v1/groups/{opened}/files/{shared}")
    assert status == 403
    # a group that does not exist, or a file of another group, is not found
    assert (await download(platform, anna, "no-such-group", shared)).status_code == 404
    assert (await download(platform, anna, closed, shared)).status_code == 404


async def test_uploads_past_the_limit_or_the_quota_are_refused_and_leave_nothing(platform, people):
    _, anna = people["anna"]
    _, boris = people["boris"]
    group_id = await chat_group(platform, people, members=("anna", "boris"))
    staged = await chunk_subjects(platform, STAGING_BUCKET)
    files = await chunk_subjects(platform, FILES_BUCKET)
    events = await drive_events(platform, group_id)
    big = os.urandom(50 * MB + 1)
    for declared in (True, False):  # said up front, or only found out while it streams
        r = await upload(platform, anna, group_id, big, declared=declared)
        assert r.status_code == 413, r.text
        assert r.json()["code"] == "file_too_large" and "50 МБ" in r.json()["detail"]
    assert await chunk_subjects(platform, STAGING_BUCKET) == staged
    assert await chunk_subjects(platform, FILES_BUCKET) == files and await drive_events(platform, group_id) == events

    # 64 MB quota: 40 MB used, 24 MB left; two 20 MB uploads at once both fit alone, not together
    for _ in range(2):
        assert (await upload(platform, anna, group_id, big[:20 * MB])).status_code == 201
    r = await upload(platform, boris, group_id, big[:30 * MB], declared=False)
    assert r.status_code == 413 and r.json()["code"] == "drive_quota_exceeded", r.text
    r = await upload(platform, boris, group_id, big[:30 * MB], declared=True)
    assert r.status_code == 413 and r.json()["code"] == "drive_quota_exceeded", r.text
    events = await drive_events(platform, group_id)
    files = await chunk_subjects(platform, FILES_BUCKET)
    racing = await asyncio.gather(upload(platform, anna, group_id, big[:20 * MB], declared=False),
                                  upload(platform, boris, group_id, big[1:20 * MB + 1], declared=False))
    assert sorted(r.status_code for r in racing) == [201, 413], [r.text for r in racing]
    assert next(r for r in racing if r.status_code == 413).json()["code"] == "drive_quota_exceeded"
    assert await drive_events(platform, group_id) == events + 1
    assert len(await chunk_subjects(platform, FILES_BUCKET)) == len(files) + 1
    assert await chunk_subjects(platform, STAGING_BUCKET) == staged
    listed = await ok(platform, anna, "GET", f"/v1/groups/{group_id}/files")
    assert listed["used_bytes"] == 60 * MB and len(listed["items"]) == 3
    # Russian by default, English on request
    async with platform.client(anna, lang="en") as c:
        r = await c.post(f"/v1/groups/{group_id}/files", params={"name": "x"}, content=big[:10 * MB])
    assert r.status_code == 413 and "Not enough room" in r.json()["title"] and "at most 4 MB" in r.json()["detail"]


async def test_a_commit_of_anything_but_ones_own_intact_upload_is_refused(platform, people):
    anna_id, anna = people["anna"]
    group_id = await chat_group(platform, people, members=("anna",))
    events = await drive_events(platform, group_id)
    from libs.contracts.drive import CommitUpload, staging_name
    from libs.kit.objects import ObjectBucket, Sealer, new_key

    client = platform.app_client

    async def commit(upload_id: str, key: str, size: int = 10, sha256: str = "0" * 64):
        bogus = CommitUpload(group_id=group_id, upload_id=upload_id, name="x.bin", size=size, sha256=sha256,
                             chunks=1, file_key=key)
        return await client.command("groups", bogus, token=anna,
                                    correlation_id="00000000-0000-4000-8000-000000000001")

    reply = await commit("no-such-upload", "A" * 43 + "=")
    assert not reply.ok and reply.error.code == "upload_incomplete"
    # another member's staged upload, named by its id and key: the commit looks under the caller's name only,
    # and leaves the other's upload alone
    boris_id = people["boris"][0]
    key = new_key()
    sealer = Sealer(key, "borises-upload")
    sealer.feed(b"boris's file")
    sealed, last = sealer.finish()
    staging = ObjectBucket(platform.services["groups"].nc, STAGING_BUCKET)

    async def one():
        yield last

    theirs = staging_name(group_id, boris_id, "borises-upload")
    await staging.write(theirs, one())
    reply = await commit("borises-upload", key, sealed.size, sealed.sha256)
    assert not reply.ok and reply.error.code == "upload_incomplete"
    assert await staging.info(theirs) is not None
    await staging.erase(theirs)
    await staging.close()
    assert await drive_events(platform, group_id) == events


async def test_an_erased_uploaders_files_cannot_be_opened_and_their_names_are_gone(platform, people):
    admin = people["admin"][1]
    _, boris = people["boris"]
    from tests.e2e.journey import make_member
    doomed_id, _, doomed = await make_member(platform, admin)
    await settle(platform)
    group_id = await chat_group(platform, people, members=("boris",))
    await ok(platform, doomed, "POST", f"/v1/groups/{group_id}/join", {})
    file_id = (await upload(platform, doomed, group_id, b"personal", name="Моё резюме.pdf")).json()["file_id"]
    kept = (await upload(platform, boris, group_id, b"v2 by boris", file_id=file_id)).json()
    assert kept["version"] == 2
    assert (await download(platform, boris, group_id, file_id, 1)).content == b"personal"
    await ok(platform, admin, "DELETE", f"/v1/members/{doomed_id}")
    await settle(platform)

    async def check() -> None:
        one = await ok(platform, boris, "GET", f"/v1/groups/{group_id}/files/{file_id}")
        assert one["name"] is None and one["versions"][0]["erased"] and one["versions"][0]["uploaded_by"] is None
        assert not one["versions"][1]["erased"] and not one["erased"]
        r = await download(platform, boris, group_id, file_id, 1)
        assert r.status_code == 404 and r.json()["code"] == "file_erased"
        assert (await download(platform, boris, group_id, file_id, 2)).content == b"v2 by boris"

    await check()
    runner = next(r for r in platform.services["groups"].runners if r.c.name == "drive")
    await runner.rebuild()
    await settle(platform)
    await check()


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        lines = f.read().splitlines()
    for line in lines:
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads a process's memory from /proc")
async def test_20_mb_pass_a_gateway_process_both_ways_byte_identical_in_bounded_memory(platform, people):
    """A gateway of its own (as `make run` starts it) so that its memory is its alone."""
    _, anna = people["anna"]
    _, boris = people["boris"]
    group_id = await chat_group(platform, people, members=("anna", "boris"))
    port = free_port()
    env = {**os.environ, "HRM_NATS_URL": platform.nats_url, "HRM_PORT": str(port), "HRM_LOG_LEVEL": "WARNING",
           "HRM_ENV": "development"}
    proc = subprocess.Popen([sys.executable, "-m", "services.gateway"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=60.0,
                                     headers={"Authorization": f"Bearer {anna}"}) as c:
            for _ in range(200):
                try:
                    if (await c.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            # warm up: every code path once, so what is measured next is what a file costs
            warm = os.urandom(300_000)
            r = await c.post(f"/v1/groups/{group_id}/files", params={"name": "warm"}, content=pieces(warm))
            assert r.status_code == 201, r.text
            assert (await c.get(f"/v1/groups/{group_id}/files/{r.json()['file_id']}/content")).content == warm
            baseline = _rss_kib(proc.pid)
            peak = baseline
            stop = asyncio.Event()

            async def sample() -> None:
                nonlocal peak
                while not stop.is_set():
                    peak = max(peak, _rss_kib(proc.pid))
                    await asyncio.sleep(0.01)

            sampler = asyncio.create_task(sample())
            data = os.urandom(20 * MB)
            r = await c.post(f"/v1/groups/{group_id}/files", params={"name": "big.bin"}, content=pieces(data))
            assert r.status_code == 201, r.text
            file_id = r.json()["file_id"]
            digest, size = hashlib.sha256(), 0
            async with httpx.AsyncClient(base_url=base, timeout=60.0,
                                         headers={"Authorization": f"Bearer {boris}"}) as other:
                async with other.stream("GET", f"/v1/groups/{group_id}/files/{file_id}/content") as got:
                    assert got.status_code == 200 and int(got.headers["content-length"]) == len(data)
                    async for piece in got.aiter_bytes():
                        digest.update(piece)
                        size += len(piece)
            stop.set()
            await sampler
        assert size == len(data) and digest.hexdigest() == hashlib.sha256(data).hexdigest()
        grown_mb = (peak - baseline) / 1024
        # the whole file held once would be 20 MB (and its sealed copy 20 more)
        assert grown_mb < 8, f"the gateway grew by {grown_mb:.1f} MB while 20 MB passed"
    finally:
        proc.terminate()
        proc.wait(10)


async def test_an_object_no_event_names_is_swept_and_committed_files_stay(platform, people):
    """What a commit killed between its copy and its append leaves (an object no version names) goes at the
    next sweep; every committed version stays."""
    from libs.kit.objects import ObjectBucket
    from services.groups.drive_handlers import Buckets
    from services.groups.drive_policies import sweep_unnamed_objects

    _, anna = people["anna"]
    group_id = await chat_group(platform, people, members=("anna",))
    kept = (await upload(platform, anna, group_id, b"committed")).json()["file_id"]
    svc = platform.services["groups"]
    buckets = Buckets()
    buckets.files = ObjectBucket(svc.nc, FILES_BUCKET)

    async def one(data: bytes):
        yield data

    orphan = f"{group_id}/{kept}/no-such-version"
    await buckets.files.write(orphan, one(b"sealed bytes nobody can open"))
    before = await chunk_subjects(platform, FILES_BUCKET)
    assert await sweep_unnamed_objects(svc, buckets) == 0  # young: it may be a commit under way
    assert await sweep_unnamed_objects(svc, buckets, grace_s=0) == 1
    assert await buckets.files.info(orphan) is None and len(await chunk_subjects(platform, FILES_BUCKET)) == len(
        before) - 1
    assert (await download(platform, anna, group_id, kept)).content == b"committed"
    assert await sweep_unnamed_objects(svc, buckets, grace_s=0) == 0  # nothing else is unnamed
    await buckets.files.close()


async def test_an_upload_cut_off_half_way_leaves_nothing(platform, people):
    """The client goes away after 3 MB of a declared 10: the gateway has what it staged erased, and nothing
    is recorded."""
    _, anna = people["anna"]
    group_id = await chat_group(platform, people, members=("anna",))
    staged = await chunk_subjects(platform, STAGING_BUCKET)
    last_seq = (await platform.services["groups"].js.stream_info(stream_of(STAGING_BUCKET))).state.last_seq
    events = await drive_events(platform, group_id)

    class Gone(Exception):
        pass

    async def then_gone():
        for _ in range(48):
            yield os.urandom(64 * 1024)
        raise Gone

    async with platform.client(anna) as c:
        with pytest.raises((Gone, httpx.HTTPError)):
            await c.post(f"/v1/groups/{group_id}/files", params={"name": "обрыв.bin"}, content=then_gone(),
                         headers={"Content-Length": str(10 * MB)})
    # the gateway still takes what was sent before the connection went: wait until it has staged something
    # and then stopped (the stream unchanged for a while), whatever it did
    js = platform.services["groups"].js
    previous = None
    for _ in range(60):
        info = await js.stream_info(stream_of(STAGING_BUCKET))
        now = (info.state.last_seq, await chunk_subjects(platform, STAGING_BUCKET))
        if now == previous and now[0] > last_seq:
            break
        previous = now
        await asyncio.sleep(0.25)
    assert await chunk_subjects(platform, STAGING_BUCKET) == staged
    assert await drive_events(platform, group_id) == events
    assert (await ok(platform, anna, "GET", f"/v1/groups/{group_id}/files"))["items"] == []
