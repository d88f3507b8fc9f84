"""Files in JetStream Object Store buckets, streamed both ways and sealed segment by segment.

nats-py's object store reads a whole object into memory (or hands a file-like object to a thread)
and can only write from a synchronous reader; a request body arrives as an asynchronous stream. This
module speaks the same wire format (chunks on ``$O.<bucket>.C.<nuid>``, the object's description on
``$O.<bucket>.M.<base64 name>``, rolled up), so the ``nats object`` tools still read the buckets,
but writes from and reads into asynchronous iterators, one chunk at a time: memory stays at a few
chunks whatever the file's size.

Each chunk is one segment of the file sealed with AES-256-GCM under the file's own key; its
associated data bind it to the object's seal id, its index and whether it is the last one, so chunks
cannot be reordered, swapped between files or cut off at the end without the reader noticing (the
STREAM construction). An empty file is one empty last segment.

Deletes erase: each chunk is deleted with the server's secure erase (its bytes overwritten in the
block file), not purged, so a deleted file leaves no ciphertext behind for a key that may survive.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nats.js import api
from nats.js.errors import NotFoundError

from libs.kit.direct import DirectReader

#: plaintext bytes per segment (a chunk is this plus the 16-byte tag): well under a bus message
SEGMENT = 128 * 1024
TAG = 16
#: chunks read ahead per request when streaming out
READ_AHEAD = 4
ROLLUP = {api.Header.ROLLUP: "sub"}


class Unreadable(Exception):
    """Stored bytes that do not open with their key: tampered with, cut off, or not this file."""


def stream_of(bucket: str) -> str:
    return f"OBJ_{bucket}"


def meta_subject(bucket: str, name: str) -> str:
    return f"$O.{bucket}.M.{base64.urlsafe_b64encode(name.encode()).decode()}"


def chunk_subject(bucket: str, nuid: str) -> str:
    return f"$O.{bucket}.C.{nuid}"


def new_key() -> str:
    return base64.b64encode(AESGCM.generate_key(256)).decode()


def _aad(seal_id: str, index: int, last: bool) -> bytes:
    return f"hr-file:{seal_id}:{index}:{int(last)}".encode()


def _nonce(index: int) -> bytes:
    # one key per file: a counter never repeats under it
    return index.to_bytes(12, "big")


def ciphertext_size(size: int) -> int:
    return size + TAG * segments(size)


def segments(size: int) -> int:
    return max(1, -(-size // SEGMENT))


@dataclass(frozen=True)
class Sealed:
    """What streaming a body in produced: the plaintext's length and digest, the chunks written."""

    size: int
    sha256: str
    chunks: int


class Sealer:
    """Cuts a body into segments and seals each; the last is only known when the body ends."""

    def __init__(self, key: str, seal_id: str):
        self._aead = AESGCM(base64.b64decode(key))
        self._seal_id = seal_id
        self._buffer = bytearray()
        self._index = 0
        self.size = 0
        self._digest = hashlib.sha256()

    def _seal(self, plain: bytes, last: bool) -> bytes:
        sealed = self._aead.encrypt(_nonce(self._index), plain, _aad(self._seal_id, self._index, last))
        self._index += 1
        return sealed

    def feed(self, piece: bytes) -> list[bytes]:
        """Chunks ready to store: every full segment that is surely not the last."""
        self.size += len(piece)
        self._digest.update(piece)
        self._buffer += piece
        out = []
        while len(self._buffer) > SEGMENT:
            out.append(self._seal(bytes(self._buffer[:SEGMENT]), False))
            del self._buffer[:SEGMENT]
        return out

    def finish(self) -> tuple[Sealed, bytes]:
        last = self._seal(bytes(self._buffer), True)
        self._buffer.clear()
        return Sealed(self.size, self._digest.hexdigest(), self._index), last


class ObjectBucket:
    """One Object Store bucket, read and written a chunk at a time."""

    def __init__(self, nc, bucket: str, timeout: float = 10.0):
        self._nc = nc
        self._js = nc.jetstream(timeout=timeout)
        self._reader = DirectReader(nc, timeout)
        self.bucket = bucket
        self.stream = stream_of(bucket)

    async def close(self) -> None:
        await self._reader.close()

    async def info(self, name: str) -> api.ObjectInfo | None:
        """The object's description, or None when there is none (or it is deleted)."""
        raw = await self._reader.last(self.stream, meta_subject(self.bucket, name))
        if raw is None:
            return None
        info = api.ObjectInfo.from_response(json.loads(raw.data))
        return None if info.deleted else info

    async def write(self, name: str, chunks: AsyncIterator[bytes]) -> api.ObjectInfo:
        """Store each chunk as it comes (each publish awaited), then describe the object. On any
        failure the chunks written so far stay, described as deleted: the caller has them erased
        (erasing needs rights the gateway does not have, so the gateway asks the service)."""
        nuid = self._nc._nuid.next().decode()
        subject = chunk_subject(self.bucket, nuid)
        digest = hashlib.sha256()
        count = total = 0
        try:
            async for chunk in chunks:
                await self._js.publish(subject, chunk, stream=self.stream)
                digest.update(chunk)
                count += 1
                total += len(chunk)
        except BaseException:
            # a description marked deleted, so that ``erase`` finds the chunks written so far
            unfinished = api.ObjectInfo(name=name, bucket=self.bucket, nuid=nuid, size=0, chunks=0, mtime="",
                                        digest="", deleted=True)
            try:
                await self._js.publish(meta_subject(self.bucket, name), json.dumps(unfinished.as_dict()).encode(),
                                       stream=self.stream, headers=dict(ROLLUP))
            except Exception:  # noqa: BLE001 — the bucket's age limit drops the chunks; the first error is raised
                pass
            raise
        info = api.ObjectInfo(
            name=name, bucket=self.bucket, nuid=nuid, size=total, chunks=count,
            mtime=datetime.now(UTC).isoformat(),
            digest="SHA-256=" + base64.urlsafe_b64encode(digest.digest()).decode(),
            options=api.ObjectMetaOptions(max_chunk_size=SEGMENT + TAG))
        await self._js.publish(meta_subject(self.bucket, name), json.dumps(info.as_dict()).encode(),
                               stream=self.stream, headers=dict(ROLLUP))
        return info

    async def chunks(self, info: api.ObjectInfo) -> AsyncIterator[bytes]:
        """The object's chunks in order, READ_AHEAD at a time."""
        subject = chunk_subject(self.bucket, info.nuid)
        start, seen = 1, 0
        while seen < (info.chunks or 0):
            batch = await self._reader.batch(self.stream, subject, start=start, batch=READ_AHEAD, limit=READ_AHEAD)
            if not batch:
                raise Unreadable(f"{info.name}: {seen} of {info.chunks} chunks found")
            for msg in batch:
                yield msg.data
            seen += len(batch)
            start = batch[-1].seq + 1

    async def described(self) -> list[api.ObjectInfo]:
        """Every object the bucket describes (deleted ones left out)."""
        raws = await self._reader.batch(self.stream, f"$O.{self.bucket}.M.>", start=1, batch=1000)
        infos = [api.ObjectInfo.from_response(json.loads(raw.data)) for raw in raws]
        return [info for info in infos if not info.deleted]

    async def erase(self, name: str) -> bool:
        """Delete an object, its chunks erased on disk; False when there was none."""
        raw = await self._reader.last(self.stream, meta_subject(self.bucket, name))
        if raw is None:
            return False
        info = api.ObjectInfo.from_response(json.loads(raw.data))
        if info.nuid:
            await self.erase_chunks(info.nuid)
        if not info.deleted:
            gone = api.ObjectInfo(name=name, bucket=self.bucket, nuid=info.nuid, size=0, chunks=0, mtime="",
                                  digest="", deleted=True)
            await self._js.publish(meta_subject(self.bucket, name), json.dumps(gone.as_dict()).encode(),
                                   stream=self.stream, headers=dict(ROLLUP))
        return True

    async def erase_chunks(self, nuid: str) -> int:
        subject = chunk_subject(self.bucket, nuid)
        erased = 0
        while True:
            batch = await self._reader.batch(self.stream, subject, start=1, batch=64, limit=64)
            if not batch:
                return erased
            for msg in batch:
                try:
                    await self._js.delete_msg(self.stream, msg.seq)
                except NotFoundError:
                    pass  # another eraser was first
                erased += 1


class Opener:
    """Opens one file's chunks in order, checking each (a wrong key, a swapped, reordered or missing
    chunk raises Unreadable)."""

    def __init__(self, key: str, seal_id: str, count: int):
        self._aead = AESGCM(base64.b64decode(key))
        self._seal_id = seal_id
        self._count = count
        self.index = 0

    def open(self, chunk: bytes) -> bytes:
        if self.index >= self._count:
            raise Unreadable("more segments than recorded")
        try:
            plain = self._aead.decrypt(_nonce(self.index), chunk,
                                       _aad(self._seal_id, self.index, self.index == self._count - 1))
        except InvalidTag:
            raise Unreadable(f"segment {self.index} does not open") from None
        self.index += 1
        return plain

    def finish(self) -> None:
        if self.index != self._count:
            raise Unreadable(f"{self.index} of {self._count} segments")


async def open_chunks(chunks: AsyncIterator[bytes], key: str, seal_id: str, count: int) -> AsyncIterator[bytes]:
    """The plaintext of sealed chunks, each checked."""
    opener = Opener(key, seal_id, count)
    async for chunk in chunks:
        yield opener.open(chunk)
    opener.finish()
