"""``python -m scripts.stallwatch DIR``: for each open-loop phase the bench ran with ``--stalls DIR``, its slow
requests gathered in bursts, and what each process did longer than the threshold during the phase."""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

SLOW_MS = 30.0


def steps(directory: Path) -> list[tuple[float, str, str, float, str]]:
    out = []
    for f in directory.glob("*.log"):
        process = f.stem.split("-", 1)[1]
        for line in f.read_text(errors="replace").splitlines():
            t, kind, ms, *rest = line.split(" ", 3)
            out.append((float(t), process, kind, float(ms), rest[0] if rest else ""))
    return sorted(out)


def who(kind: str, rest: str) -> str:
    if kind != "step":
        return kind
    parts = rest.split(" ")
    return parts[1] if parts[0] == "task" and not parts[1].startswith("Task-") else " ".join(parts[2:] or parts)[:60]


def report(directory: Path) -> None:
    seen = steps(directory)
    for line in (directory / "open_loop.jsonl").read_text().splitlines():
        phase = json.loads(line)
        lat, t0, rate = phase["lat"], phase["t0"], phase["rate"]
        t1 = t0 + len(lat) / rate
        ordered = sorted(lat)
        slow = [(t0 + i / rate, ms) for i, ms in enumerate(lat) if ms > SLOW_MS]
        print(f"\n{phase['phase']}: {rate:.0f}/s x {len(lat)}, p99 {ordered[int(len(lat) * 0.99) - 1]:.1f} ms, "
              f"{len(slow)} over {SLOW_MS:.0f} ms")
        bursts: list[list[float]] = []
        for t, ms in slow:
            if bursts and t - bursts[-1][1] < 0.2:
                bursts[-1][1], bursts[-1][2], bursts[-1][3] = t, max(bursts[-1][2], ms), bursts[-1][3] + 1
            else:
                bursts.append([t, t, ms, 1])
        for a, b, worst, n in bursts:
            print(f"  {a - t0:6.2f}–{b - t0:6.2f} s: {int(n)} slow, worst {worst:.0f} ms")
        per = collections.defaultdict(lambda: [0, 0.0, 0.0])
        for t, process, kind, ms, rest in seen:
            if t0 <= t <= t1 + 0.5:
                s = per[(process, who(kind, rest))]
                s[0], s[1], s[2] = s[0] + 1, s[1] + ms, max(s[2], ms)
        for (process, what), (n, total, worst) in sorted(per.items(), key=lambda kv: -kv[1][1])[:12]:
            print(f"    {process:14} {what:60} {n:4} times, {total:6.0f} ms in all, the longest {worst:5.1f} ms")


if __name__ == "__main__":
    report(Path(sys.argv[1]))
