"""Crypto-shredding of personal data (DESIGN.md §2, 152-FZ, GDPR).

Each data subject has a random AES-256 key in a JetStream key-value bucket
that keeps one revision. Personal fields of an event are sealed with it
before the event is appended; erasing the person purges the key, after
which every copy of those fields — in the log, in a rebuilt projection —
is unreadable ciphertext. Keys never live in a read model: a rebuild would
otherwise resurrect the person.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError

from libs.contracts.subjects import PII_KEYS_BUCKET


class PiiVault:
    def __init__(self, kv):
        self._kv = kv
        self._cache: dict[str, bytes] = {}
        #: subjects seen shredded: never cached again, so a read racing the
        #: purge cannot put a dead key back into the cache
        self._shredded: set[str] = set()
        self._watcher = None
        self._task: asyncio.Task | None = None

    @classmethod
    async def connect(cls, js, *, replicas: int = 1) -> "PiiVault":
        try:
            kv = await js.key_value(PII_KEYS_BUCKET)
        except BucketNotFoundError:
            kv = await js.create_key_value(
                KeyValueConfig(bucket=PII_KEYS_BUCKET, history=1, storage=StorageType.FILE, replicas=replicas)
            )
        vault = cls(kv)
        vault._watcher = await kv.watchall(meta_only=True)
        vault._task = asyncio.create_task(vault._forget_shredded())
        return vault

    async def _forget_shredded(self) -> None:
        """Keys are cached; a purge by any process must evict them everywhere."""
        async for entry in self._watcher:
            if entry is not None and entry.operation in ("DEL", "PURGE"):
                self._shredded.add(entry.key)
                self._cache.pop(entry.key, None)

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
        if self._watcher:
            try:
                await self._watcher.stop()
            except Exception:  # noqa: BLE001 - the connection may be gone already
                pass

    async def _key(self, subject: str, create: bool) -> bytes | None:
        key = self._cache.get(subject)
        if key is not None:
            return key
        try:
            entry = await self._kv.get(subject)
            key = entry.value if entry.value else None
        except KeyNotFoundError:  # also KeyDeletedError: a shredded subject
            key = None
        if key is None and create:
            fresh = AESGCM.generate_key(bit_length=256)
            try:
                await self._kv.create(subject, fresh)
                key = fresh
            except KeyWrongLastSequenceError:
                # another writer created it first: use theirs. (A shredded
                # subject gets a fresh key; the deciders refuse new personal
                # data for an erased member, so nothing old becomes readable.)
                entry = await self._kv.get(subject)
                key = entry.value or None
        if key is not None and subject not in self._shredded:
            self._cache[subject] = key
        return key

    async def seal(self, subject: str, fields: dict[str, Any], aad: str) -> str:
        key = await self._key(subject, create=True)
        nonce = os.urandom(12)
        ct = AESGCM(key).encrypt(nonce, json.dumps(fields, ensure_ascii=False).encode(), aad.encode())
        return base64.b64encode(nonce + ct).decode()

    async def open(self, subject: str | None, blob: str, aad: str) -> dict[str, Any]:
        """The sealed fields, or {} once the subject's key is shredded."""
        key = await self._key(subject, create=False) if subject else None
        if key is None:
            return {}
        raw = base64.b64decode(blob)
        return json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode()))

    async def shred(self, subject: str) -> None:
        """Erase the key for good: purge keeps no earlier revision."""
        self._shredded.add(subject)
        self._cache.pop(subject, None)
        await self._kv.purge(subject)
