"""What follows a drive's events outside the log: a purged file's bytes erased from the bucket, the bin's
clock — a binned file is purged when its time there runs out (a durable timer, libs/kit/timers.py) — and
a sweep of objects no event names (a commit killed between its copy and its append)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from libs.contracts import drive as c
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Meta, Recorded
from libs.kit.service import Service
from libs.kit.timers import Due, Timer
from services.groups import drive_domain as d
from services.groups.drive_handlers import Buckets

#: an object younger than this may belong to a commit still under way
SWEEP_GRACE_S = 3600.0
SWEEP_EVERY_S = 3600.0


async def sweep_unnamed_objects(svc: Service, buckets: Buckets, grace_s: float = SWEEP_GRACE_S) -> int:
    """Erase the committed-files bucket's objects that no version in the log names. Decided on each
    group's aggregate (the log), never on a read model that may lag behind."""
    now = datetime.now(UTC)
    erased = 0
    for info in await buckets.files.described():
        try:
            age = (now - datetime.fromisoformat(info.mtime or "")).total_seconds()
        except ValueError:
            age = grace_s  # no readable time: old enough
        parts = info.name.split("/")
        if age < grace_s or len(parts) != 3:
            continue
        group_id, file_id, version_id = parts
        state, _ = await svc.load(d.DRIVE, group_id)
        file = state.files.get(file_id)
        if file is not None and any(v.version_id == version_id for v in file.versions):
            continue
        if await buckets.files.erase(info.name):
            erased += 1
    return erased


def register_drive_policies(svc: Service, buckets: Buckets) -> None:
    @svc.policy("drive_objects", [events_of("groups", "drive")], waits_for_views=True)
    async def when_file_purged_erase_its_bytes(rec: Recorded) -> None:
        """Erasing twice is harmless (an object already gone is skipped): a redelivery is safe."""
        if isinstance(rec.event, c.FilePurged):
            for name in rec.event.objects:
                await buckets.files.erase(name)

    def schedule(rec: Recorded) -> list[Due]:
        e = rec.event
        match e:
            case c.FileBinned():
                return [Due(f"{e.group_id}:{e.file_id}", e.purge_at)]
            case c.FileRestored() | c.FilePurged():
                return [Due(f"{e.group_id}:{e.file_id}", None)]
        return []

    async def when_bin_time_runs_out_purge(timer: Timer) -> None:
        group_id, file_id = timer.key.split(":", 1)
        meta = Meta(actor="system", correlation_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"hr-drive-bin:{timer.key}")))
        ids = [uuid.uuid5(uuid.NAMESPACE_URL, f"hr-drive-bin:{timer.key}:{timer.at.isoformat()}")]
        await svc.decide(d.DRIVE, group_id, d.Purge(None, group_id, None, file_id), meta, lambda n: ids[:n])

    svc.timer("drive_bin", [events_of("groups", "drive")], schedule, when_bin_time_runs_out_purge)

    @svc.every("drive_sweep", SWEEP_EVERY_S)
    async def sweep_objects_no_event_names() -> int:
        return await sweep_unnamed_objects(svc, buckets)
