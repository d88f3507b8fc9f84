"""Provisioning: the streams and key-value buckets of the platform, created and updated by one
step run with its own NATS user, before any service starts (docs/adr/0008).

Services may not create, update or delete streams: a service that could
update HR_EVENTS could give it a subject transform (its own publish stored
as another service's event) or truncate it with ``max_msgs``. They bind to
what this step made. In development (``HRM_ENV=development``) each service
runs this step itself at start, so `make run` and the tests need nothing
else; in production it is `python -m libs.kit.provision`, run by compose's
`provision` service and by an init container in the manifests.

It also migrates the personal-data keys of earlier versions out of the KV
bucket ``hr_pii_keys`` (whose ``deny_delete`` made erasure impossible) into
HR_PII_KEYS, then deletes that bucket's stream and files.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import ClassVar

import nats
from nats.js.api import DiscardPolicy, KeyValueConfig, StorageType, StreamConfig
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError
from pydantic import ValidationError

from libs.contracts.drive import FILES_BUCKET, STAGING_BUCKET
from libs.contracts.subjects import (
    DEADLETTER_ROOT,
    DEADLETTER_STREAM,
    EVENTS_ROOT,
    EVENTS_STREAM,
    LEGACY_PII_KEYS_BUCKET,
    NOTIFY_ROOT,
    NOTIFY_STREAM,
    PII_KEYS_ROOT,
    PII_KEYS_STREAM,
    inbox_prefix,
)
from libs.kit.lease import LEASE_TTL_S, LEASES_BUCKET
from libs.kit.logging import get_logger
from libs.kit.settings import KitSettings

log = get_logger(__name__)

#: the stream refuses anything larger; appends are checked against a smaller limit first (eventstore)
MAX_STREAM_MSG_BYTES = 256 * 1024
STREAM_EXISTS = 10058
DAY = 24 * 3600.0


@dataclass(frozen=True)
class Bucket:
    name: str
    #: how long an entry lives at most; the code that uses it keeps its own, shorter, clock
    ttl_s: float | None = None
    history: int = 1


#: every key-value bucket of the platform (the service registry will own this list)
BUCKETS: tuple[Bucket, ...] = (
    Bucket("hr_onboarding_emails"),
    Bucket("hr_onboarding_refresh", ttl_s=90 * DAY),
    Bucket("hr_onboarding_login_failures", ttl_s=7 * DAY),
    Bucket("hr_onboarding_requests", ttl_s=DAY),
    Bucket("hr_groups_requests", ttl_s=DAY),
    # single-active consumers: an entry lapses LEASE_TTL_S after its holder's last renewal
    Bucket(LEASES_BUCKET, ttl_s=LEASE_TTL_S),
)


def events_stream(replicas: int) -> StreamConfig:
    """The log: immutable (no delete, no purge)."""
    return StreamConfig(
        name=EVENTS_STREAM,
        subjects=[f"{EVENTS_ROOT}.>"],
        storage=StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=120.0,
        deny_delete=True,
        deny_purge=True,
        allow_direct=True,
        allow_atomic=True,
        max_msg_size=MAX_STREAM_MSG_BYTES,
    )


def deadletter_stream(replicas: int) -> StreamConfig:
    return StreamConfig(
        name=DEADLETTER_STREAM,
        subjects=[f"{DEADLETTER_ROOT}.>"],
        storage=StorageType.FILE,
        num_replicas=replicas,
        allow_direct=True,
        max_msg_size=2 * MAX_STREAM_MSG_BYTES,
    )


def pii_keys_stream(replicas: int) -> StreamConfig:
    """One subject per data subject; deletes allowed (with erase, the default of the API), purges
    not (a purge leaves the bytes in the block file)."""
    return StreamConfig(
        name=PII_KEYS_STREAM,
        subjects=[f"{PII_KEYS_ROOT}.>"],
        storage=StorageType.FILE,
        num_replicas=replicas,
        deny_delete=False,
        deny_purge=True,
        allow_direct=True,
        discard=DiscardPolicy.NEW,
        max_msg_size=4096,
    )


#: how long a member's stream keeps what it told: a reader further behind reloads its page
NOTIFY_MAX_AGE_S = 30 * DAY
#: a redelivered event's items are recognised this long (a policy stalled longer may tell twice: the
#: items carry the event's id, and the web client drops one it has shown)
NOTIFY_DUPLICATE_WINDOW_S = 3600.0


def notify_stream(replicas: int) -> StreamConfig:
    """Members' live streams: one subject per member; limited by age; purged per member on erasure."""
    return StreamConfig(
        name=NOTIFY_STREAM,
        subjects=[f"{NOTIFY_ROOT}.>"],
        storage=StorageType.FILE,
        num_replicas=replicas,
        max_age=NOTIFY_MAX_AGE_S,
        duplicate_window=NOTIFY_DUPLICATE_WINDOW_S,
        allow_direct=True,
        deny_delete=True,
        deny_purge=False,
        max_msg_size=MAX_STREAM_MSG_BYTES,
    )


#: an upload not committed within this long is dropped by the server itself (a gateway killed half-way
#: leaves nothing behind for longer)
STAGING_MAX_AGE_S = 6 * 3600.0


def object_bucket_stream(bucket: str, replicas: int, max_age: float | None = None) -> StreamConfig:
    """An Object Store bucket (the layout nats-py and the ``nats object`` tools use), made here like
    every stream. Deletes erase chunks one by one (libs/kit/objects.py); purges only replace an
    object's description."""
    return StreamConfig(
        name=f"OBJ_{bucket}",
        subjects=[f"$O.{bucket}.C.>", f"$O.{bucket}.M.>"],
        storage=StorageType.FILE,
        num_replicas=replicas,
        max_age=max_age,
        allow_rollup_hdrs=True,
        allow_direct=True,
        discard=DiscardPolicy.NEW,
        deny_delete=False,
        max_msg_size=2 * MAX_STREAM_MSG_BYTES,
    )


def object_streams(replicas: int) -> tuple[StreamConfig, ...]:
    return (object_bucket_stream(FILES_BUCKET, replicas),
            object_bucket_stream(STAGING_BUCKET, replicas, STAGING_MAX_AGE_S))


async def ensure_stream(js, config: StreamConfig) -> str:
    """"created", or "ok" for a stream that was there (its configuration is applied again)."""
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        try:
            await js.add_stream(config)
            return "created"
        except BadRequestError as e:
            if e.err_code != STREAM_EXISTS:  # another provisioning run was first
                raise
    await js.update_stream(config)
    return "ok"


async def ensure_bucket(js, bucket: Bucket, replicas: int) -> str:
    try:
        await js.key_value(bucket.name)
    except BucketNotFoundError:
        await js.create_key_value(KeyValueConfig(bucket=bucket.name, history=bucket.history, storage=StorageType.FILE,
                                                 replicas=replicas, ttl=bucket.ttl_s))
        return "created"
    info = await js.stream_info(f"KV_{bucket.name}")
    config = info.config
    if (config.max_age or None) != (bucket.ttl_s or None) or config.num_replicas != replicas:
        config.max_age = bucket.ttl_s
        config.num_replicas = replicas
        await js.update_stream(config)
        return "updated"
    return "ok"


async def migrate_legacy_keys(nc, kek: bytes | None) -> int:
    """Copy every key (and every purge, as a tombstone) of the old KV bucket into HR_PII_KEYS,
    then delete the old bucket's stream, files and all."""
    from libs.kit.pii import PiiVault

    js = nc.jetstream()
    legacy = f"KV_{LEGACY_PII_KEYS_BUCKET}"
    try:
        await js.stream_info(legacy)
    except NotFoundError:
        return 0
    vault = PiiVault(nc, kek=kek, writer=True)
    latest = {}
    seq = 1
    while True:  # the old buckets were made without direct gets: read through the API, one by one
        try:
            msg = await js.get_msg(legacy, seq=seq, subject=f"$KV.{LEGACY_PII_KEYS_BUCKET}.>", next=True)
        except NotFoundError:
            break
        latest[msg.subject.split(".", 2)[2]] = msg
        seq = msg.seq + 1
    try:
        for subject, msg in latest.items():
            erased = (msg.headers or {}).get("KV-Operation") in ("DEL", "PURGE") or not msg.data
            await vault.import_key(subject, None if erased else msg.data)
    finally:
        await vault.close()
    await js.delete_stream(legacy)
    log.info("legacy_keys_migrated", keys=len(latest))
    return len(latest)


async def provision(nc, *, replicas: int = 1, kek: bytes | None = None) -> dict[str, str]:
    js = nc.jetstream()
    report: dict[str, str] = {}
    for config in (events_stream(replicas), deadletter_stream(replicas), pii_keys_stream(replicas),
                   notify_stream(replicas), *object_streams(replicas)):
        report[str(config.name)] = await ensure_stream(js, config)
    for bucket in BUCKETS:
        report[bucket.name] = await ensure_bucket(js, bucket, replicas)
    report["legacy_keys_migrated"] = str(await migrate_legacy_keys(nc, kek))
    return report


class ProvisionSettings(KitSettings):
    PRODUCTION_REQUIRED: ClassVar[tuple[str, ...]] = ("pii_kek",)


async def _main() -> int:
    try:
        settings = ProvisionSettings()
    except ValidationError as e:
        print(f"provision: configuration refused: {e.errors()[0]['msg']}", file=sys.stderr)
        return 2
    nc = await nats.connect(settings.nats_servers, name="hr-provision", inbox_prefix=inbox_prefix("provision"),
                            connect_timeout=5, max_reconnect_attempts=5)
    try:
        report = await provision(nc, replicas=settings.stream_replicas, kek=settings.kek)
    finally:
        await nc.close()
    for name, what in report.items():
        print(f"{name}: {what}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
