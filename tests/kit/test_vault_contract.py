"""The vault's contract (libs.kit.pii.Vault), run against the key store on JetStream and the
in-memory vault the in-memory event store seals with: the same seals open, the same refusals,
shredding for good. What only the key store on JetStream has (erased bytes on disk, key-encryption
keys, migration, racing processes) stays in tests/kit/test_keystore.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import nats
import pytest

from libs.contracts.errors import NotFound
from libs.kit.memory_eventstore import MemoryVault
from libs.kit.pii import KeyUnavailable, PiiVault, Undecryptable
from libs.kit.provision import provision


@dataclass
class Vaults:
    writer: Any
    #: a reader vault in another process (or sharing the memory vault's keys)
    reader: Callable[[], Awaitable[Any]]
    close: Callable[[], Awaitable[None]]


@pytest.fixture(params=["jetstream", "memory"])
async def vaults(request) -> AsyncIterator[Vaults]:
    if request.param == "memory":
        writer = MemoryVault(writer=True)

        async def reader():
            return writer.reader()

        async def close():
            return None

        yield Vaults(writer, reader, close)
        return
    url = request.getfixturevalue("nats_server").url
    opened: list[Any] = []

    async def open_vault(writer: bool):
        nc = await nats.connect(url)
        await provision(nc)
        vault = await PiiVault.connect(nc, writer=writer)
        opened.append((nc, vault))
        return vault

    async def reader():
        return await open_vault(False)

    async def close():
        for nc, vault in opened:
            await vault.close()
            await nc.close()

    v = Vaults(await open_vault(True), reader, close)
    yield v
    await v.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 3.0) -> None:
    """A shred reaches other processes by a broadcast: they see it soon, not at once."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not seen in time"
        await asyncio.sleep(0.05)


def subject() -> str:
    return uuid.uuid4().hex


async def test_a_seal_opens_with_its_aad_here_and_in_another_process(vaults):
    s = subject()
    fields = {"full_name": "Анна Петровна", "phone": "+7 900 000-00-00", "tags": ["hr", 1]}
    blob = await vaults.writer.seal(s, fields, "event-1")
    assert "Анна" not in blob and "+7 900" not in blob
    assert await vaults.writer.open(s, blob, "event-1") == fields
    reader = await vaults.reader()
    assert await reader.open(s, blob, "event-1") == fields
    assert not await reader.is_shredded(s)


async def test_a_seal_is_bound_to_its_aad_its_subject_and_its_bytes(vaults):
    w = vaults.writer
    s, t = subject(), subject()
    blob = await w.seal(s, {"x": 1}, "event-1")
    await w.seal(t, {"y": 2}, "event-2")  # t has a key of its own
    with pytest.raises(Undecryptable):
        await w.open(s, blob, "event-2")  # moved to another event
    with pytest.raises(Undecryptable):
        await w.open(t, blob, "event-1")  # another subject's key
    with pytest.raises(Undecryptable):
        await w.open(s, blob[:-4] + ("AAAA" if not blob.endswith("AAAA") else "BBBB"), "event-1")
    with pytest.raises(Undecryptable):
        await w.open(s, "not base64!", "event-1")
    with pytest.raises(Undecryptable):
        await w.open(None, blob, "event-1")
    with pytest.raises(Undecryptable):
        await w.open("no.dots allowed", blob, "event-1")


async def test_two_seals_of_the_same_fields_differ(vaults):
    s = subject()
    a = await vaults.writer.seal(s, {"x": 1}, "aad")
    b = await vaults.writer.seal(s, {"x": 1}, "aad")
    assert a != b  # a fresh nonce each time


async def test_a_stable_seal_is_the_same_bytes_for_the_same_fields_subject_and_aad_only(vaults):
    """What a read model seals is rebuilt byte for byte; equal bytes tell nothing across subjects or aads."""
    w = vaults.writer
    s, t = subject(), subject()
    await w.seal(t, {"x": 1}, "aad")  # t has a key of its own
    fields = {"email": "anna@example.ru", "lang": "ru"}
    a = await w.seal(s, fields, "aad", stable=True)
    assert await w.seal(s, dict(reversed(fields.items())), "aad", stable=True) == a  # key order aside
    reader = await vaults.reader()
    assert await reader.open(s, a, "aad") == fields
    assert await w.seal(s, {**fields, "lang": "en"}, "aad", stable=True) != a
    assert await w.seal(s, fields, "other", stable=True) != a
    assert await w.seal(t, fields, "aad", stable=True) != a
    assert await w.seal(s, fields, "aad") != a  # drawn, as by default
    with pytest.raises(Undecryptable):
        await w.open(s, a, "other")
    await w.shred(s)
    with pytest.raises(NotFound):
        await w.seal(s, fields, "aad", stable=True)


async def test_a_shredded_subject_opens_empty_and_is_never_sealed_for_again(vaults):
    w = vaults.writer
    s, other = subject(), subject()
    blob = await w.seal(s, {"full_name": "Анна"}, "aad")
    kept = await w.seal(other, {"full_name": "Борис"}, "aad")
    reader = await vaults.reader()
    assert await reader.open(s, blob, "aad") == {"full_name": "Анна"}  # the reader holds the key now

    await w.shred(s)
    await w.shred(s)  # safe to repeat

    assert await w.is_shredded(s)
    assert await w.open(s, blob, "aad") == {}
    with pytest.raises(NotFound):
        await w.seal(s, {"full_name": "Анна"}, "aad")
    await eventually(lambda: reader.is_shredded(s))
    assert await reader.open(s, blob, "aad") == {}
    # the others are untouched
    assert await reader.open(other, kept, "aad") == {"full_name": "Борис"}

    never = subject()
    await w.shred(never)  # erased before any key existed: still for good
    with pytest.raises(NotFound):
        await w.seal(never, {"x": 1}, "aad")


async def test_a_reader_neither_creates_nor_shreds_keys(vaults):
    reader = await vaults.reader()
    s = subject()
    with pytest.raises(KeyUnavailable):
        await reader.seal(s, {"x": 1}, "aad")
    with pytest.raises(PermissionError):
        await reader.shred(s)
    # once the writer made the key, a reader seals with it too (the other services' own data)
    await vaults.writer.seal(s, {"x": 1}, "aad")
    blob = await reader.seal(s, {"y": 2}, "aad")
    assert await vaults.writer.open(s, blob, "aad") == {"y": 2}


async def test_each_subject_has_its_own_key(vaults):
    a, b = subject(), subject()
    await vaults.writer.seal(a, {"x": 1}, "aad")
    await vaults.writer.seal(b, {"x": 1}, "aad")
    key_a, key_b = await vaults.writer.key(a), await vaults.writer.key(b)
    assert len(key_a) == len(key_b) == 32
    assert key_a != key_b
