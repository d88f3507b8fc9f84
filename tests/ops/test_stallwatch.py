"""The bench's stall watch (scripts/stallwatch, docs/adr/0042) names the step that held a process's event loop,
and only such steps: what the README says of the open loop's tail rests on its reading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import asyncio, time

async def holds_the_loop():
    time.sleep(0.06)

async def waits_politely():
    for _ in range(50):
        await asyncio.sleep(0.001)

async def main():
    await asyncio.gather(asyncio.create_task(holds_the_loop(), name="the_culprit"), waits_politely())

asyncio.run(main())
"""


def test_a_step_past_the_threshold_is_logged_with_its_task_and_a_short_one_is_not(tmp_path):
    env = {**os.environ, "HRM_STALLWATCH_DIR": str(tmp_path), "PYTHONPATH": str(ROOT / "scripts" / "stallwatch")}
    subprocess.run([sys.executable, "-c", PROGRAM], env=env, check=True, timeout=60)
    (log,) = tmp_path.glob("*.log")
    steps = [line.split(" ", 3) for line in log.read_text().splitlines() if " step " in line]
    assert len(steps) == 1, steps
    _, _, ms, what = steps[0]
    assert float(ms) >= 60 and "the_culprit" in what and "holds_the_loop" in what


def test_without_its_directory_it_does_nothing(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts" / "stallwatch")}
    env.pop("HRM_STALLWATCH_DIR", None)
    subprocess.run([sys.executable, "-c", PROGRAM], env=env, check=True, timeout=60, cwd=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_report_gathers_slow_requests_in_bursts_beside_what_ran_long_meanwhile(tmp_path):
    lat = [5.0] * 400
    lat[100:110] = [80.0] * 10  # one burst of ten
    lat[300] = 45.0  # one alone, far from it
    (tmp_path / "open_loop.jsonl").write_text(json.dumps({"phase": "probe", "rate": 100.0, "t0": 1000.0,
                                                          "lat": lat}) + "\n")
    (tmp_path / "7-onboarding.log").write_text("1001.0100 step 40.0 task onboarding_members Runner._supervised\n"
                                               "1001.5000 gc2 12.0 collected=3\n"
                                               "2000.0000 step 99.0 task outside the phase\n")
    out = subprocess.run([sys.executable, "-m", "scripts.stallwatch", str(tmp_path)], cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=60).stdout
    assert "probe: 100/s x 400" in out and "11 over 30 ms" in out
    assert "1.00–  1.09 s: 10 slow, worst 80 ms" in out and "3.00–  3.00 s: 1 slow, worst 45 ms" in out
    assert "onboarding_members" in out and "gc2" in out and "outside" not in out
