"""Crypto-shredding of personal data (DESIGN.md §2, 152-FZ, GDPR).

Each data subject has a random AES-256 key, one message on its own subject
``hr.pii.key.<id>`` of the stream HR_PII_KEYS. Personal fields of an event
are sealed with it before the event is appended; erasing the person writes
a tombstone on that subject and deletes the key's message *with erase*, so
the key's bytes are overwritten in the stream's block file — a KV purge or
overwrite would leave them there until a compaction, and the earlier KV
bucket's ``deny_delete`` forbade erasing at all (docs/adr/0002).

- The tombstone is permanent: a shredded subject never gets a new key, so
  a profile update racing an erasure cannot seal with a fresh key.
- Keys are created with an expected last subject sequence of 0: two racing
  writers agree on one key.
- With a key-encryption key (``HRM_PII_KEK``, kept outside the data volume)
  keys are stored wrapped: the stream's files alone decrypt nothing.
- Only onboarding (``writer=True``) creates and shreds keys; the other
  services read them. Keys never live in a read model: a rebuild would
  otherwise resurrect the person.
- Each process caches keys (bounded, with a time-to-live); a shred is
  broadcast on ``hr.pii.shredded`` so every process drops the key at once,
  and the time-to-live bounds a missed broadcast.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
from collections import OrderedDict
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nats.js.errors import APIError, NotFoundError

from libs.contracts.errors import NotFound
from libs.contracts.subjects import PII_KEYS_STREAM, PII_SHREDDED_SUBJECT, pii_key_subject, token
from libs.kit.direct import DirectReader, unsubscribe

TOMBSTONE_HEADER = "Hr-Pii-Shredded"
KEK_HEADER = "Hr-Pii-Kek"
WRONG_LAST_SEQUENCE = 10071
#: what deleting a message another shred has just deleted answers (sequence not found, no message found)
GONE = (10043, 10057)
_SHREDDED = b""


class Undecryptable(ValueError):
    """Sealed data that no key will ever open: the event can never be applied."""


class KeyUnavailable(RuntimeError):
    """The key exists but cannot be used here now (no or another key-encryption key, a lagging
    replica): a passing cause, retried, never a reason to drop an event."""


def kek_id(kek: bytes) -> str:
    return hashlib.sha256(kek).hexdigest()[:16]


class Vault(Protocol):
    """What the event store and the erasure path ask of a key store (the port both the key store on
    JetStream and the in-memory one of libs/kit/memory_eventstore.py keep; their common contract is
    tests/kit/test_vault_contract.py)."""

    async def seal(self, subject: str, fields: dict[str, Any], aad: str, stable: bool = False) -> str: ...

    async def open(self, subject: str | None, blob: str, aad: str) -> dict[str, Any]: ...

    async def is_shredded(self, subject: str) -> bool: ...

    async def shred(self, subject: str) -> None: ...

    async def close(self) -> None: ...


class Sealing:
    """Sealing and opening with a subject's key, whatever keeps the keys: one implementation, so
    a vault in memory seals and refuses exactly as the key store on JetStream does. A subclass
    provides ``key(subject, create)`` (the key; _SHREDDED once shredded; None when there is none)
    and ``_writer``."""

    _writer: bool

    async def key(self, subject: str, create: bool = False) -> bytes | None:
        raise NotImplementedError

    async def is_shredded(self, subject: str) -> bool:
        return await self.key(subject) == _SHREDDED

    async def seal(self, subject: str, fields: dict[str, Any], aad: str, stable: bool = False) -> str:
        """``stable``: the nonce derived from the key, the aad and the fields (synthetic, as in AES-GCM-SIV's
        idea) rather than drawn, so sealing the same fields again gives the same bytes — for a read model a
        rebuild must reproduce exactly. It tells only that a subject's same fields under the same aad are equal
        (never across subjects or aads); a drawn nonce stays the default, for events."""
        key = await self.key(subject, create=self._writer)
        if key == _SHREDDED:
            raise NotFound("member_not_found")  # erased: nothing new is ever sealed for them
        if key is None:
            raise KeyUnavailable(f"no key for {subject}: keys are created by onboarding at registration")
        plain = json.dumps(fields, ensure_ascii=False, sort_keys=stable).encode()
        nonce = hmac.new(key, b"hr-seal-nonce\0" + aad.encode() + b"\0" + plain, hashlib.sha256).digest()[:12] \
            if stable else os.urandom(12)
        ct = AESGCM(key).encrypt(nonce, plain, aad.encode())
        return base64.b64encode(nonce + ct).decode()

    async def open(self, subject: str | None, blob: str, aad: str) -> dict[str, Any]:
        """The sealed fields, or {} once the subject's key is shredded."""
        if not subject:
            raise Undecryptable("sealed data without a data subject")
        try:
            token(subject)
        except ValueError:
            raise Undecryptable("sealed data with an invalid data subject") from None
        key = await self.key(subject)
        if key == _SHREDDED:
            return {}
        if key is None:
            raise KeyUnavailable(f"no key for {subject} (yet): a replica behind, or the keys not migrated")
        try:
            raw = base64.b64decode(blob, validate=True)
            plain = AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode())
            fields = json.loads(plain)
        except (binascii.Error, ValueError, InvalidTag) as e:
            raise Undecryptable(f"sealed data does not decrypt ({type(e).__name__})") from None
        if not isinstance(fields, dict):
            raise Undecryptable("sealed data is not an object")
        return fields


class PiiVault(Sealing):
    def __init__(self, nc, *, kek: bytes | None = None, writer: bool = False, timeout: float = 5.0,
                 cache_size: int = 10_000, cache_ttl_s: float = 300.0):
        self._nc = nc
        self._reader = DirectReader(nc, timeout)
        self._kek = kek
        self._writer = writer
        self._timeout = timeout
        self._cache: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._cache_size = cache_size
        self._cache_ttl_s = cache_ttl_s
        self._sub = None

    @classmethod
    async def connect(cls, nc, *, kek: bytes | None = None, writer: bool = False, **kw) -> PiiVault:
        vault = cls(nc, kek=kek, writer=writer, **kw)
        vault._sub = await nc.subscribe(PII_SHREDDED_SUBJECT, cb=vault._on_shredded)
        return vault

    async def _on_shredded(self, msg) -> None:
        self._remember(msg.data.decode(errors="replace"), _SHREDDED)

    async def close(self) -> None:
        await unsubscribe(self._sub)
        self._sub = None
        await self._reader.close()

    # ------------------------------------------------------------ cache

    def _cached(self, subject: str) -> bytes | None:
        hit = self._cache.get(subject)
        if hit is None:
            return None
        key, expires = hit
        if key is not _SHREDDED and time.monotonic() > expires:
            del self._cache[subject]
            return None
        self._cache.move_to_end(subject)
        return key

    def _remember(self, subject: str, key: bytes) -> None:
        # a tombstone is forever: shredded entries never expire, only fall out of the LRU
        self._cache[subject] = (key, time.monotonic() + self._cache_ttl_s)
        self._cache.move_to_end(subject)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    # ------------------------------------------------------------ keys

    def _unwrap(self, subject: str, headers: dict[str, str], data: bytes) -> bytes:
        wrapped_by = headers.get(KEK_HEADER)
        if not wrapped_by:
            return data
        if self._kek is None or kek_id(self._kek) != wrapped_by:
            raise KeyUnavailable(f"the key of {subject} is wrapped by key-encryption key {wrapped_by}, "
                                 "which this process does not have (HRM_PII_KEK)")
        try:
            return AESGCM(self._kek).decrypt(data[:12], data[12:], subject.encode())
        except InvalidTag:
            raise KeyUnavailable(f"the key of {subject} does not unwrap with HRM_PII_KEK") from None

    def _wrap(self, subject: str, key: bytes) -> tuple[dict[str, str], bytes]:
        if self._kek is None:
            return {}, key
        nonce = os.urandom(12)
        return {KEK_HEADER: kek_id(self._kek)}, nonce + AESGCM(self._kek).encrypt(nonce, key, subject.encode())

    async def _read(self, subject: str) -> tuple[bytes | None, int]:
        """(key, or _SHREDDED, or None when there is none yet; the subject's last sequence)."""
        msg = await self._reader.last(PII_KEYS_STREAM, pii_key_subject(subject))
        if msg is None:
            return None, 0
        if msg.headers.get(TOMBSTONE_HEADER):
            return _SHREDDED, msg.seq
        return self._unwrap(subject, msg.headers, msg.data), msg.seq

    async def _publish(self, subject: str, data: bytes, headers: dict[str, str], expected: int) -> dict[str, Any]:
        reply = await self._nc.request(pii_key_subject(subject), data, timeout=self._timeout,
                                       headers={**headers, "Nats-Expected-Last-Subject-Sequence": str(expected)})
        return json.loads(reply.data)

    async def key(self, subject: str, create: bool = False) -> bytes | None:
        """The subject's key; _SHREDDED (b"") once shredded; None when there is none (and not ``create``)."""
        token(subject)
        cached = self._cached(subject)
        if cached is not None:
            return cached
        key, seq = await self._read(subject)
        if key is None and create:
            if not self._writer:
                raise PermissionError("only the key store's writer (onboarding) creates keys")
            fresh = AESGCM.generate_key(bit_length=256)
            headers, data = self._wrap(subject, fresh)
            ack = await self._publish(subject, data, headers, expected=0)
            if "error" not in ack:
                key = fresh
            elif ack["error"].get("err_code") == WRONG_LAST_SEQUENCE:
                key, seq = await self._read(subject)  # another writer was first, or it is shredded: theirs counts
            else:
                raise RuntimeError(f"key store refused a key: {ack['error'].get('description')}")
        if key is not None:
            self._remember(subject, key)
        return key

    async def import_key(self, subject: str, key: bytes | None) -> None:
        """Migration: keep a key of the earlier store, or shred the subject when it had been shredded there."""
        if key is None:
            await self.shred(subject)
            return
        headers, data = self._wrap(subject, key)
        ack = await self._publish(subject, data, headers, expected=0)
        if "error" in ack and ack["error"].get("err_code") != WRONG_LAST_SEQUENCE:  # 10071: migrated already
            raise RuntimeError(f"key store refused a key: {ack['error'].get('description')}")

    async def shred(self, subject: str) -> None:
        """Erase the key for good: a tombstone first (so no one creates a new key), then the
        key's message deleted with erase (its bytes overwritten on disk). Safe to repeat."""
        if not self._writer:
            raise PermissionError("only the key store's writer (onboarding) shreds keys")
        token(subject)
        js = self._nc.jetstream(timeout=self._timeout)
        for _ in range(20):
            history = await self._reader.batch(PII_KEYS_STREAM, pii_key_subject(subject))
            last = history[-1] if history else None
            if last is None or not last.headers.get(TOMBSTONE_HEADER):
                ack = await self._publish(subject, b"", {TOMBSTONE_HEADER: "1"}, expected=last.seq if last else 0)
                if "error" in ack:
                    if ack["error"].get("err_code") == WRONG_LAST_SEQUENCE:
                        continue  # a key was created meanwhile: read again, it is erased below
                    raise RuntimeError(f"key store refused a tombstone: {ack['error'].get('description')}")
            for msg in history:
                if not msg.headers.get(TOMBSTONE_HEADER):
                    try:
                        await js.delete_msg(PII_KEYS_STREAM, msg.seq)  # erase: the bytes are overwritten
                    except NotFoundError:
                        pass  # erased by an earlier attempt
                    except APIError as e:
                        # gone: a racing shred (the policy that finishes erasures) erased it first
                        if e.err_code not in GONE:
                            raise
            break
        else:
            raise RuntimeError(f"could not shred the key of {subject}: the subject kept changing")
        self._remember(subject, _SHREDDED)
        await self._nc.publish(PII_SHREDDED_SUBJECT, subject.encode())
