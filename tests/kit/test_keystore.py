"""The key store of crypto-shredding on a real nats-server: an erased key leaves no bytes on
disk (also after a restart), a shredded subject stays shredded however the writes race, keys
can be wrapped by a key-encryption key, and the keys of the earlier KV bucket are migrated."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid

import nats
import pytest
from nats.js.api import KeyValueConfig, StorageType

from libs.contracts.errors import NotFound
from libs.contracts.subjects import LEGACY_PII_KEYS_BUCKET
from libs.kit.natsserver import NatsServer
from libs.kit.pii import KeyUnavailable, PiiVault, Undecryptable
from libs.kit.provision import provision
from tests.disk_scan import files_holding


@pytest.fixture
async def server(tmp_path):
    s = NatsServer(tmp_path / "js").start()
    yield s
    s.stop()


async def open_vault(url: str, **kw):
    nc = await nats.connect(url)
    await provision(nc)
    return nc, await PiiVault.connect(nc, **kw)


async def test_a_shredded_key_leaves_no_bytes_in_the_servers_files_also_after_a_restart(server):
    nc, vault = await open_vault(server.url, writer=True)
    members = [uuid.uuid4().hex for _ in range(5)]
    keys = {m: await vault.key(m, create=True) for m in members}
    victim = members[2]
    assert files_holding(server.store_dir, keys[victim]), "the key must be on disk before (or the scan is blind)"

    await vault.shred(victim)

    assert files_holding(server.store_dir, keys[victim]) == []
    for m in members:
        if m != victim:
            assert files_holding(server.store_dir, keys[m]), "the other members' keys are still there"
    await vault.close()
    await nc.close()
    server.stop()
    assert files_holding(server.store_dir, keys[victim]) == []
    server.start()
    assert files_holding(server.store_dir, keys[victim]) == []
    nc, vault = await open_vault(server.url)
    try:
        assert await vault.is_shredded(victim)
        assert await vault.key(members[0]) == keys[members[0]]
    finally:
        await vault.close()
        await nc.close()


async def test_a_shredded_subject_never_gets_a_new_key(server):
    nc, vault = await open_vault(server.url, writer=True)
    other_nc, other = await open_vault(server.url, writer=True)  # a second process with a cold cache
    try:
        m = uuid.uuid4().hex
        await vault.seal(m, {"full_name": "Анна"}, "aad")
        await vault.shred(m)
        assert await other.key(m, create=True) == b""
        with pytest.raises(NotFound):
            await other.seal(m, {"full_name": "Анна"}, "aad")
        never = uuid.uuid4().hex
        await vault.shred(never)  # erased before any key existed: still a tombstone
        with pytest.raises(NotFound):
            await other.seal(never, {"x": 1}, "aad")
    finally:
        await vault.close()
        await other.close()
        await nc.close()
        await other_nc.close()


async def test_seals_racing_a_shred_end_shredded_every_time(server):
    """The UpdateProfile/EraseMember race: many processes seal for a member while it is erased."""
    conns = [await open_vault(server.url, writer=True) for _ in range(4)]
    try:
        for _ in range(10):
            m = uuid.uuid4().hex
            sealed = []

            async def seal(v):
                for _ in range(5):
                    try:
                        sealed.append(await v.seal(m, {"phone": "+7 900"}, "aad"))
                    except NotFound:
                        return
                    await asyncio.sleep(0)

            await asyncio.gather(*(seal(v) for _, v in conns[1:]), conns[0][1].shred(m))
            await asyncio.sleep(0.05)  # let the broadcast reach every cache
            fresh_nc, fresh = await open_vault(server.url)
            try:
                assert await fresh.is_shredded(m)
                for blob in sealed:
                    assert await fresh.open(m, blob, "aad") == {}
            finally:
                await fresh.close()
                await fresh_nc.close()
    finally:
        for nc, v in conns:
            await v.close()
            await nc.close()


async def test_shreds_racing_each_other_all_succeed(server):
    """The erasure command and the policy that finishes erasures shred the same key at once."""
    conns = [await open_vault(server.url, writer=True) for _ in range(3)]
    try:
        for _ in range(5):
            m = uuid.uuid4().hex
            key = await conns[0][1].key(m, create=True)
            await asyncio.gather(*(v.shred(m) for _, v in conns))
            assert files_holding(server.store_dir, key) == []
            assert all([await v.is_shredded(m) for _, v in conns])
    finally:
        for nc, v in conns:
            await v.close()
            await nc.close()


async def test_only_the_writer_creates_or_shreds(server):
    nc, reader = await open_vault(server.url)
    try:
        with pytest.raises(PermissionError):
            await reader.key(uuid.uuid4().hex, create=True)
        with pytest.raises(PermissionError):
            await reader.shred(uuid.uuid4().hex)
        with pytest.raises(KeyUnavailable):  # no key yet: a passing cause for a reader, never a silent erase
            await reader.seal(uuid.uuid4().hex, {"x": 1}, "aad")
    finally:
        await reader.close()
        await nc.close()


@pytest.mark.parametrize("subject", ["*", ">", "a.b", "", "x" * 300, "a b"])
async def test_a_wildcard_or_junk_subject_is_refused(server, subject):
    nc, vault = await open_vault(server.url, writer=True)
    try:
        with pytest.raises(ValueError):
            await vault.shred(subject)
        with pytest.raises(ValueError):
            await vault.key(subject, create=True)
    finally:
        await vault.close()
        await nc.close()


async def test_wrapped_keys_are_useless_without_the_key_encryption_key(server):
    kek = os.urandom(32)
    nc, vault = await open_vault(server.url, writer=True, kek=kek)
    m = uuid.uuid4().hex
    try:
        key = await vault.key(m, create=True)
        blob = await vault.seal(m, {"full_name": "Анна"}, "aad")
        assert files_holding(server.store_dir, key) == [], "a wrapped key is not on disk in clear"
        for kw in ({}, {"kek": os.urandom(32)}):
            nc2, without = await open_vault(server.url, **kw)
            try:
                with pytest.raises(KeyUnavailable):
                    await without.open(m, blob, "aad")
            finally:
                await without.close()
                await nc2.close()
        nc3, with_kek = await open_vault(server.url, kek=kek)
        try:
            assert await with_kek.open(m, blob, "aad") == {"full_name": "Анна"}
        finally:
            await with_kek.close()
            await nc3.close()
    finally:
        await vault.close()
        await nc.close()


async def test_garbage_ciphertext_is_undecryptable_not_a_passing_cause(server):
    nc, vault = await open_vault(server.url, writer=True)
    m = uuid.uuid4().hex
    try:
        blob = await vault.seal(m, {"x": 1}, "aad")
        for bad in ("not base64!", base64.b64encode(os.urandom(40)).decode(), blob[:-4] + "AAAA"):
            with pytest.raises(Undecryptable):
                await vault.open(m, bad, "aad")
        with pytest.raises(Undecryptable):
            await vault.open(m, blob, "another event")  # the event id is the associated data
    finally:
        await vault.close()
        await nc.close()


async def test_the_keys_of_the_earlier_bucket_are_migrated_and_its_files_deleted(server):
    nc = await nats.connect(server.url)
    js = nc.jetstream()
    legacy = await js.create_key_value(KeyValueConfig(bucket=LEGACY_PII_KEYS_BUCKET, history=1,
                                                      storage=StorageType.FILE))
    alive, erased = uuid.uuid4().hex, uuid.uuid4().hex
    alive_key, erased_key = os.urandom(32), os.urandom(32)
    await legacy.create(alive, alive_key)
    await legacy.create(erased, erased_key)
    await legacy.purge(erased)  # the old erasure: the bytes stayed in the block file
    assert files_holding(server.store_dir, erased_key)
    try:
        await provision(nc)
        vault = await PiiVault.connect(nc)
        try:
            assert await vault.key(alive) == alive_key
            assert await vault.is_shredded(erased)
        finally:
            await vault.close()
        with pytest.raises(nats.js.errors.NotFoundError):
            await js.stream_info(f"KV_{LEGACY_PII_KEYS_BUCKET}")
        assert files_holding(server.store_dir, erased_key) == []
        await provision(nc)  # again: nothing left to migrate, nothing breaks
    finally:
        await nc.close()


async def test_the_key_cache_is_bounded(server):
    nc, vault = await open_vault(server.url, writer=True, cache_size=10)
    try:
        for _ in range(50):
            await vault.key(uuid.uuid4().hex, create=True)
        for _ in range(20):
            await vault.shred(uuid.uuid4().hex)
        assert len(vault._cache) <= 10
    finally:
        await vault.close()
        await nc.close()
