"""What follows a drive's events outside the log: a purged file's bytes erased from the bucket, and the
bin's clock — a binned file is purged when its time there runs out (a durable timer, libs/kit/timers.py)."""

from __future__ import annotations

import uuid

from libs.contracts import drive as c
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Meta, Recorded
from libs.kit.service import Service
from libs.kit.timers import Due, Timer
from services.groups import drive_domain as d
from services.groups.drive_handlers import Buckets


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
