"""Raw scans of what sits on disk, for the erasure tests.

nats-server removes a deleted stream in the background: it renames the stream's directory to a
hidden one (``streams/.NAME``) and then deletes it. A scan racing that removal would either fail
on a vanished path or report bytes that are about to go, so the scan first waits (bounded) for
every pending removal to end and tolerates files that vanish while it reads."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path


def pending_removals(root: Path) -> list[Path]:
    """The hidden directories nats-server is still removing under ``root``."""
    pending = []
    for streams in root.glob("**/streams"):
        try:
            pending += [p for p in streams.iterdir() if p.name.startswith(".") and p.is_dir()]
        except FileNotFoundError:
            continue
    return pending


def traces(roots: list[Path], needles: dict[str, bytes], settle_s: float = 10.0) -> dict[str, list[str]]:
    """Which needle (also base64-encoded) sits in which raw file under ``roots``."""
    deadline = time.monotonic() + settle_s
    for root in roots:
        while pending_removals(root) and time.monotonic() < deadline:
            time.sleep(0.05)
    found: dict[str, list[str]] = {}
    for root in roots:
        for folder, _dirs, files in os.walk(root):  # os.walk skips a directory that vanished
            for name in files:
                path = Path(folder) / name
                try:
                    data = path.read_bytes()
                except (FileNotFoundError, IsADirectoryError):
                    continue
                for label, needle in needles.items():
                    if needle in data or base64.b64encode(needle) in data:
                        found.setdefault(label, []).append(str(path))
    return found


def files_holding(root: Path, needle: bytes) -> list[str]:
    """Every file under ``root`` whose raw bytes contain ``needle`` (also base64-encoded)."""
    return [str(Path(p).relative_to(root)) for p in traces([root], {"needle": needle}).get("needle", [])]
