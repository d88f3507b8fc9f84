"""`make bench`: measure our path against a raw baseline, in the same run.

Starts its own nats-server (temporary directory, free port) and every service
as a separate OS process, then measures:

1. append: EventStore.append (one PII-free event per new aggregate, expected
   sequence 0, sequential awaits) vs bare nats-py ``js.publish`` of the same
   bytes to the same kind of subjects; rounds alternate, median taken.
2. gateway commands: an open-loop offered rate (default 200/s) of
   PUT /v1/me/profile (appends ProfileUpdated each time) vs GET /healthz of
   the same gateway; latency from the *scheduled* start (no coordinated
   omission).
3. command to visible: PUT /v1/me/profile, then GET /v1/me with the
   X-Consistency-Token; also, for information, polling GET /v1/me every 2 ms
   without the token.
4. rawcmd: the raw command path as the baseline — a bare FastAPI app
   (scripts/bench_raw.py, one uvicorn process, no middleware) whose
   PUT /v1/me/profile sends a NATS request to a bare responder that does one
   awaited js.publish (Nats-Msg-Id, expected last subject sequence) to a
   stream of its own on the same nats-server — vs our gateway's
   PUT /v1/me/profile, both under the same closed loop (32 connections, 10 s,
   one member per connection). Throughput, p50/p99, the ratio ours/raw, and
   CPU per command summed over every process of each side (ours: every
   service + gateway + nats-server, until the consumers have caught up;
   raw: app + responder + nats-server).
5. overload: an open loop offering twice our measured closed-loop capacity
   for the duration; accepted (200) and refused (503 "overloaded") counts,
   their p99 (from the scheduled start), and a loss check: ProfileUpdated
   events appended during the phase (message count of those members'
   subjects, before and after) == the 200 answers.
6. projection rebuild: the onboarding "members" projection rebuilt over a log
   of 20,000+ member events vs bare JetStream readers of the same filter to
   the end: an ephemeral pull consumer that acks each message (nats-py fetch 256, read as
   the runner did before ADR 0029), one without acks (ack policy none), and an ordered push
   consumer; ours is compared with the fastest of them.
7. resident memory (VmRSS) of each service process, idle and under load.

Prints a table (measured, baseline, ratio, target, PASS/MISS) and writes
bench-results.json at the repository root. ``--quick`` for a short run.
Exit status 0 unless the harness itself fails (``--strict``: 1 on any MISS).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import httpx
import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from libs.contracts.envelope import CORRELATION_HEADER, EVENT_TYPE_HEADER, SCHEMA_VERSION_HEADER
from libs.contracts.onboarding import ProfileCompleted, RulesAcknowledged
from libs.contracts.subjects import EVENTS_STREAM, event_subject, events_of
from libs.kit.eventstore import EventStore, Meta, Stream
from libs.kit.pii import PiiVault
from libs.kit.provision import provision
from libs.kit.pull import stream_seq
from scripts.bench_http import RawHttp
from scripts.bench_platform import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ROOT,
    BenchPlatform,
    RawPlatform,
    RssSampler,
    cpu_seconds,
    rss_mib,
)
from services.registry import domain_services, edge_services

DOMAIN = tuple(d.name for d in domain_services())
RESULTS = ROOT / "bench-results.json"
PROFILE = {
    "full_name": "Bench Newcomer",
    "city": "Екатеринбург",
    "company": "Уралмаш",
    "position": "HR-бизнес-партнёр",
    "years_in_hr": 5,
    "professional_interests": ["оценка персонала"],
    "phone": "+7 912 000-00-00",
    "about": "setup",
}

TARGETS = {
    "append_ratio": 0.7,
    "gateway_p99_ms": 50.0,
    "visible_p99_ms": 50.0,  # issue 18: command → visible p99 ≤ 50 ms
    "rawcmd_ratio": 0.6,
    "rawcmd_cpu_ms": 3.0,
    "overload_accepted_p99_ms": 50.0,
    "rebuild_ratio": 0.8,  # of the fastest bare reader
    "rebuild_eps": 20_000.0,
    "rss_mib": 150.0,
}


def pct(values: list[float], p: float) -> float:
    """Percentile with linear interpolation (p in 0..100)."""
    if not values:
        return float("nan")
    xs = sorted(values)
    k = (len(xs) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- 1. append


async def bench_append(nats_url: str, n: int, rounds: int) -> dict:
    nc = await nats.connect(nats_url, name="bench-append")
    js = nc.jetstream(timeout=5.0)
    await provision(nc)
    vault = await PiiVault.connect(nc)
    es = EventStore(nc, vault)
    meta = Meta(actor="bench", correlation_id="bench-append")
    run = uuid.uuid4().hex[:8]

    # the very bytes our path writes, for the raw publisher
    sample = Stream(event_subject("bench", "append", "sample"), [], 0)
    body = (await es.seal(sample, [RulesAcknowledged(member_id="sample")], meta))[0][1]

    async def ours(count: int, tag: str) -> float:
        t0 = time.perf_counter()
        for i in range(count):
            aid = f"{run}-{tag}-{i}"
            stream = Stream(event_subject("bench", "append", aid), [], 0)
            await es.append(stream, [RulesAcknowledged(member_id=aid)], meta)
        return count / (time.perf_counter() - t0)

    async def raw(count: int, tag: str) -> float:
        t0 = time.perf_counter()
        for i in range(count):
            aid = f"{run}-{tag}-{i}"
            await js.publish(event_subject("bench", "append", aid), body)
        return count / (time.perf_counter() - t0)

    async def raw_headers(count: int, tag: str) -> float:
        """Information: bare js.publish carrying the headers our append sends
        (dedup id, expected sequence, type, version, correlation): what the
        server's checks cost, apart from our client code."""
        t0 = time.perf_counter()
        for i in range(count):
            aid = f"{run}-{tag}-{i}"
            headers = {"Nats-Msg-Id": str(uuid.uuid4()), EVENT_TYPE_HEADER: "RulesAcknowledged",
                       SCHEMA_VERSION_HEADER: "1", CORRELATION_HEADER: "bench-append",
                       "Nats-Expected-Last-Subject-Sequence": "0"}
            await js.publish(event_subject("bench", "append", aid), body, headers=headers)
        return count / (time.perf_counter() - t0)

    variants = {"raw": raw, "ours": ours, "raw+headers": raw_headers}
    rates: dict[str, list[float]] = {k: [] for k in variants}
    try:
        for name, fn in variants.items():
            await fn(min(500, n), f"warm-{name.replace('+', '-')}")  # a subject token: no '+'
        for r in range(rounds):
            names = list(variants)
            names = names[r % len(names):] + names[:r % len(names)]  # rotate the order each round
            for name in names:
                rate = await variants[name](n, f"{name.replace('+', '-')}{r}")
                rates[name].append(rate)
                log(f"append round {r + 1}: {name} {rate:,.0f} events/s")
    finally:
        await vault.close()
        await nc.close()
    our_rates, raw_rates = rates["ours"], rates["raw"]
    ours_med, raw_med = statistics.median(our_rates), statistics.median(raw_rates)
    hdr_med = statistics.median(rates["raw+headers"])
    return {
        "events_per_round": n,
        "rounds": rounds,
        "ours_rates": our_rates,
        "raw_rates": raw_rates,
        "raw_with_headers_rates": rates["raw+headers"],
        "ours_median": ours_med,
        "raw_median": raw_med,
        "raw_with_headers_median": hdr_med,
        "ratio_to_raw_with_headers": ours_med / hdr_med,
        "ratio": ours_med / raw_med,
        "ratio_best": max(our_rates) / max(raw_rates),
    }


# ---------------------------------------------------------------- set-up of newcomers


async def newcomers(base_url: str, count: int) -> list[dict]:
    """Registered newcomers with a complete profile: [{member_id, token}]."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as c:
        r = await c.post("/v1/auth/token", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        r.raise_for_status()
        admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = await c.post("/v1/invitations", json={"max_uses": count, "expires_in_days": 1}, headers=admin)
        assert r.status_code == 201, r.text
        invitation = r.json()["token"]
        sem = asyncio.Semaphore(4)
        run = uuid.uuid4().hex[:8]

        async def one(i: int) -> dict:
            async with sem:
                email = f"bench-{run}-{i}@example.ru"
                r = await c.post("/v1/registrations", json={
                    "invitation_token": invitation, "email": email, "password": "bench-pass-1",
                    "full_name": "Bench Newcomer", "consent_personal_data": True,
                })
                assert r.status_code == 201, r.text
                member_id = r.json()["member_id"]
                r = await c.post("/v1/auth/token", json={"email": email, "password": "bench-pass-1"})
                assert r.status_code == 200, r.text
                token = r.json()["access_token"]
                r = await c.put("/v1/me/profile", json=PROFILE, headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 200, r.text
                return {"member_id": member_id, "token": token}

        return list(await asyncio.gather(*(one(i) for i in range(count))))


# ---------------------------------------------------------------- 2. open loop


def outcome(r) -> str:
    """"200", "503 overloaded" (a problem's code after the status), ... for the tallies."""
    if r.status_code < 400:
        return str(r.status_code)
    try:
        code = r.json().get("code")
    except (ValueError, AttributeError):
        code = None
    return f"{r.status_code} {code}" if code else str(r.status_code)


#: with ``--stalls DIR``: each open loop's latencies go to DIR/open_loop.jsonl, beside what the processes logged
STALLS: dict[str, str | None] = {"dir": None}


async def open_loop(client: httpx.AsyncClient, rate: float, duration: float, request, detail: bool = False,
                    name: str = "open loop") -> dict:
    """Offer ``rate`` requests/s for ``duration`` s on a fixed grid, never
    waiting for a response before the next start; latency from the scheduled
    start, so a stall is charged to every request it delays. ``detail``: also
    each request's latency and outcome (``_lat``, ``_outcome``)."""
    loop = asyncio.get_running_loop()
    n = max(1, int(rate * duration))
    t0 = loop.time() + 0.05
    lat: list[float] = [0.0] * n
    good: list[bool] = [False] * n
    outcomes: list[str] = ["none"] * n
    errors: list[str] = []
    late: list[float] = []
    done_at = [t0]

    async def one(i: int, scheduled: float) -> None:
        try:
            r = await request(client, i)
            ok = r.status_code < 400
            outcomes[i] = outcome(r) if detail else ""
            if not ok:
                errors.append(f"{r.status_code} {r.text[:200]}")
        except Exception as e:  # noqa: BLE001 - counted, reported
            ok = False
            outcomes[i] = type(e).__name__
            errors.append(repr(e)[:200])
        end = loop.time()
        done_at[0] = max(done_at[0], end)
        lat[i] = (end - scheduled) * 1000
        good[i] = ok

    tasks = []
    for i in range(n):
        scheduled = t0 + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        late.append(max(0.0, loop.time() - scheduled) * 1000)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    if STALLS["dir"]:
        with open(os.path.join(STALLS["dir"], "open_loop.jsonl"), "a") as f:
            f.write(json.dumps({"phase": name, "rate": rate, "t0": t0, "lat": lat}) + "\n")
    ok = sum(good)
    elapsed = done_at[0] - t0
    codes: dict[str, int] = {}
    for e in errors:
        codes[e.split(" ", 1)[0]] = codes.get(e.split(" ", 1)[0], 0) + 1
    extra = {"_lat": lat, "_outcome": outcomes} if detail else {}
    return {
        **extra,
        "offered_rate": rate,
        "requests": n,
        "ok": ok,
        "errors": len(errors),
        "errors_by_status": codes,
        "error_samples": errors[:5],
        "achieved_rate": ok / elapsed if elapsed > 0 else 0.0,
        # every request counts, a failed one at the moment it failed
        "p50_ms": pct(lat, 50),
        "p90_ms": pct(lat, 90),
        "p99_ms": pct(lat, 99),
        "max_ms": max(lat),
        "client_start_lag_p99_ms": pct(late, 99),
    }


async def quiet(plat: BenchPlatform, threshold: float = 0.1, quiet_s: float = 1.0, timeout: float = 180.0) -> float:
    """Until every consumer is idle and every platform process (services and
    nats-server) has used under ``threshold`` of a core for ``quiet_s``: an
    overloaded phase leaves queued requests behind that would spoil the next."""
    t0 = time.perf_counter()
    nc = await nats.connect(plat.nats_url, name="bench-quiet")
    try:
        await wait_idle(nc, DOMAIN, timeout=timeout)
    finally:
        await nc.close()
    pids = {**plat.pids, "nats-server": plat.nats.proc.pid}
    calm = 0.0
    while calm < quiet_s:
        before = {k: cpu_seconds(p) or 0.0 for k, p in pids.items()}
        await asyncio.sleep(0.25)
        busiest = max((cpu_seconds(p) or 0.0) - before[k] for k, p in pids.items()) / 0.25
        calm = calm + 0.25 if busiest < threshold else 0.0
        if time.perf_counter() - t0 > timeout:
            log(f"platform still busy after {timeout:.0f}s; going on")
            break
    return time.perf_counter() - t0


async def bound_now(base_url: str) -> dict:
    """The gateway's bound as the load left it (docs/adr/0031, 0041): what it carries at once, how many it
    refused since it started."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as c:
        body = (await c.get("/readyz")).json()
    return {k: body.get(k) for k in ("in_flight_bound", "refused_overloaded")}


async def bench_gateway(plat: BenchPlatform, people: list[dict], sweep_people: list[dict], rate: float, duration: float,
                        sweep: list[float], sweep_s: float, sampler: RssSampler, client: str) -> dict:
    pids = {**plat.pids, "nats-server": plat.nats.proc.pid, "bench client": os.getpid()}

    def new_client():
        if client == "httpx":
            limits = httpx.Limits(max_connections=1024, max_keepalive_connections=1024)
            return httpx.AsyncClient(base_url=plat.base_url, timeout=30.0, limits=limits)
        return RawHttp(plat.base_url)

    async def healthz(c, i: int):
        return await c.get("/healthz")

    def put_profile(who: list[dict]):
        headers = [{"Authorization": f"Bearer {p['token']}"} for p in who]

        async def put(c, i: int):
            return await c.put("/v1/me/profile", json={**PROFILE, "about": f"load {i}"}, headers=headers[i % len(headers)])

        return put

    async def phase(request, at: float, secs: float, measure_cpu: bool = False, name: str = "open loop") -> dict:
        # a fresh client per phase: connections opened by an earlier, slower phase do not linger
        async with new_client() as c:
            before = {k: cpu_seconds(p) for k, p in pids.items()}
            out = await open_loop(c, at, secs, request, name=name)
            after = {k: cpu_seconds(p) for k, p in pids.items()}
        if measure_cpu:
            out["cpu_ms_per_request"] = {k: (after[k] - before[k]) * 1000 / out["requests"]
                                         for k in pids if before[k] is not None and after[k] is not None}
        return out

    # warm-up (connections, first calls), at a rate every machine sustains
    await phase(healthz, rate, 1.0)
    await phase(put_profile(people), 25, 2.0)
    await quiet(plat)
    log(f"gateway: GET /healthz at {rate:.0f}/s for {duration:.0f}s")
    base = await phase(healthz, rate, duration, measure_cpu=True, name="gateway GET /healthz")
    await quiet(plat)
    log(f"gateway: PUT /v1/me/profile at {rate:.0f}/s for {duration:.0f}s")
    sampler.start()
    ours = await phase(put_profile(people), rate, duration, measure_cpu=True, name="gateway PUT /v1/me/profile")
    rss_load = await sampler.stop()
    ours["bound_after"] = await bound_now(plat.base_url)
    log(f"gateway: p99 {ours['p99_ms']:.1f} ms (healthz {base['p99_ms']:.1f} ms), "
        f"{ours['achieved_rate']:.0f} ok/s, {ours['errors']} errors; CPU ms per command: "
        + ", ".join(f"{k} {v:.2f}" for k, v in ours["cpu_ms_per_request"].items())
        + f"; the bound after it {ours['bound_after']}")
    drained = await quiet(plat)
    log(f"gateway: platform quiet again {drained:.1f}s after the load")

    # information: up to which offered rate does the target hold here? (fresh members: short histories)
    steps = []
    for at in sweep:
        r = await phase(put_profile(sweep_people), at, sweep_s, measure_cpu=True, name=f"sweep {at:.0f}/s")
        ok = r["errors"] == 0 and r["p99_ms"] <= TARGETS["gateway_p99_ms"]
        steps.append({"rate": at, "ok": ok, **{k: r[k] for k in ("achieved_rate", "p50_ms", "p99_ms", "errors")},
                      "cpu_ms_per_request": sum(r["cpu_ms_per_request"].values())})
        log(f"gateway sweep: {at:.0f}/s -> p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, {r['errors']} errors")
        await quiet(plat)
        if not ok:
            break
    return {"client": client, "ours": ours, "baseline_healthz": base, "ratio_p99": ours["p99_ms"] / base["p99_ms"],
            "rss_load_mib": rss_load, "sweep": steps,
            "highest_rate_meeting_p99": max((st["rate"] for st in steps if st["ok"]), default=None)}


# ---------------------------------------------------------------- rawcmd: our command path vs the raw one


async def closed_loop(client, conns: int, duration: float, request) -> dict:
    """``conns`` workers, each sending its next request as soon as the previous
    one is answered, for ``duration`` s: the throughput a side sustains with
    that many commands in flight. ``request(client, worker, i)``."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    stop_at = t0 + duration
    lat_ok: list[float] = []
    tally: dict[str, int] = {}
    samples: list[str] = []
    done_at = [t0]

    async def worker(k: int) -> None:
        i = 0
        while loop.time() < stop_at:
            start = loop.time()
            try:
                r = await request(client, k, i)
                what = outcome(r)
                if r.status_code >= 400 and len(samples) < 5:
                    samples.append(f"{r.status_code} {r.text[:200]}")
            except Exception as e:  # noqa: BLE001 - counted, reported
                what = type(e).__name__
                if len(samples) < 5:
                    samples.append(repr(e)[:200])
            end = loop.time()
            done_at[0] = max(done_at[0], end)
            tally[what] = tally.get(what, 0) + 1
            if what in ("200", "201"):
                lat_ok.append((end - start) * 1000)
            i += 1

    await asyncio.gather(*(worker(k) for k in range(conns)))
    elapsed = done_at[0] - t0
    ok = len(lat_ok)
    return {
        "connections": conns,
        "duration_s": duration,
        "elapsed_s": elapsed,
        "ok": ok,
        "errors": sum(tally.values()) - ok,
        "outcomes": tally,
        "error_samples": samples,
        "throughput": ok / elapsed if elapsed > 0 else 0.0,
        "p50_ms": pct(lat_ok, 50),
        "p90_ms": pct(lat_ok, 90),
        "p99_ms": pct(lat_ok, 99),
        "max_ms": max(lat_ok, default=float("nan")),
    }


def profile_put(headers: list[dict]):
    """PUT /v1/me/profile, one member per closed-loop worker (no two commands
    of one aggregate in flight at once, on either side)."""

    async def put(c, k: int, i: int):
        return await c.put("/v1/me/profile", json={**PROFILE, "about": f"load {k} {i}"},
                           headers=headers[k % len(headers)])

    return put


async def measure_closed(url: str, conns: int, duration: float, request, pids: dict[str, int],
                         drain=None) -> dict:
    """A closed loop with a fresh client; CPU of ``pids`` from its start until
    ``drain()`` (the asynchronous work the commands caused) has returned."""
    async with RawHttp(url) as c:
        before = {k: cpu_seconds(p) for k, p in pids.items()}
        out = await closed_loop(c, conns, duration, request)
        if drain is not None:
            try:
                out["drain_s"] = await drain()
            except TimeoutError as e:  # reported as it is: the CPU counted so far, the work still queued
                out["drain_s"] = None
                out["drain_timeout"] = str(e)[:300]
        after = {k: cpu_seconds(p) for k, p in pids.items()}
    n = max(out["ok"], 1)
    out["cpu_ms_per_command"] = {k: (after[k] - before[k]) * 1000 / n
                                 for k in pids if before[k] is not None and after[k] is not None}
    return out


async def bench_rawcmd(plat: BenchPlatform, people: list[dict], conns: int, duration: float) -> dict:
    raw = RawPlatform(plat.nats_url, plat.tmp)
    nats_pid = {"nats-server": plat.nats.proc.pid}
    client = {"bench client": os.getpid()}
    nc = await nats.connect(plat.nats_url, name="bench-rawcmd")
    try:
        await raw.start()
        our_put = profile_put([{"Authorization": f"Bearer {p['token']}"} for p in people])
        raw_put = profile_put([{"Authorization": f"Bearer {p['member_id']}"} for p in people])
        ours_pids = {**plat.pids, **nats_pid, **client}
        raw_pids = {**raw.pids, **nats_pid, **client}

        async def drain() -> float:
            return await wait_idle(nc, DOMAIN, timeout=300)

        # warm-up: connections, first calls, caches
        for url, put in ((raw.base_url, raw_put), (plat.base_url, our_put)):
            async with RawHttp(url) as c:
                await closed_loop(c, conns, 1.0, put)
        await quiet(plat)
        log(f"rawcmd: raw path, closed loop of {conns} for {duration:.0f}s")
        base = await measure_closed(raw.base_url, conns, duration, raw_put, raw_pids)
        await quiet(plat)
        log(f"rawcmd: ours, closed loop of {conns} for {duration:.0f}s")
        ours = await measure_closed(plat.base_url, conns, duration, our_put, ours_pids, drain)
        await quiet(plat)
    finally:
        raw.stop()
        await nc.close()
    for o in (base, ours):
        cpu = o["cpu_ms_per_command"]
        o["cpu_ms_per_command_sum"] = sum(v for k, v in cpu.items() if k != "bench client")
    log(f"rawcmd: ours {ours['throughput']:.0f}/s p50 {ours['p50_ms']:.1f} p99 {ours['p99_ms']:.1f} ms "
        f"cpu {ours['cpu_ms_per_command_sum']:.2f} ms ({ours['errors']} err); raw {base['throughput']:.0f}/s "
        f"p50 {base['p50_ms']:.1f} p99 {base['p99_ms']:.1f} ms cpu {base['cpu_ms_per_command_sum']:.2f} ms "
        f"({base['errors']} err)")
    return {"ours": ours, "raw": base, "ratio": ours["throughput"] / max(base["throughput"], 1e-9),
            "cpu_ratio": ours["cpu_ms_per_command_sum"] / max(base["cpu_ms_per_command_sum"], 1e-9)}


# ---------------------------------------------------------------- one command of each domain service


async def members_of_main(base_url: str, people: list[dict]) -> str:
    """The admin grants the newcomers access (the domain services' commands are for the Main group's members),
    starts a season's planning and opens a working group they all join; its id."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as c:
        r = await c.post("/v1/auth/token", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        r.raise_for_status()
        admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        for p in people:
            r = await c.post("/v1/me/rules-acknowledgement", headers={"Authorization": f"Bearer {p['token']}"})
            assert r.status_code == 200, r.text
            r = await c.post(f"/v1/moderation/{p['member_id']}/decision", json={"decision": "grant"}, headers=admin)
            assert r.status_code == 200, r.text
        r = await c.post("/v1/seasons", json={"season_id": "2031-spring", "title": "Bench season"}, headers=admin)
        assert r.status_code in (201, 409), r.text
        # a working group of them all (the Main and Introduction groups have no chat)
        r = await c.post("/v1/groups", json={"title": f"Bench {uuid.uuid4().hex[:6]}", "description": "",
                                              "group_type": "game_team"}, headers=admin)
        assert r.status_code == 201, r.text
        group_id = r.json()["group_id"]
        r = await c.post(f"/v1/groups/{group_id}/decision", json={"decision": "approve"}, headers=admin)
        assert r.status_code == 200, r.text
        r = await c.put(f"/v1/groups/{group_id}/settings", json={"visibility": "main", "content": "members",
                                                                 "joining": "open"}, headers=admin)
        assert r.status_code == 200, r.text
        for p in people:
            r = await c.post(f"/v1/groups/{group_id}/join", json={}, headers={"Authorization": f"Bearer {p['token']}"})
            assert r.status_code == 200, r.text
        return group_id


def domain_commands(people: list[dict], group_id: str) -> dict[str, tuple[str, object]]:
    """One everyday command of each domain service a member repeats at will (no other member's turn needed):
    {service: (what, request)}. Roles (a pick needs an open window and a free place) and feedback (a game
    and its roster first) have none such: not measured here."""
    headers = [{"Authorization": f"Bearer {p['token']}"} for p in people]

    async def chat(c, k: int, i: int):
        return await c.post(f"/v1/groups/{group_id}/messages", json={"text": f"bench {k} {i}"},
                            headers=headers[k % len(headers)])

    async def preferences(c, k: int, i: int):
        return await c.put("/v1/me/notification-preferences", json={"language": "ru" if i % 2 else "en"},
                           headers=headers[k % len(headers)])

    async def event_request(c, k: int, i: int):
        return await c.post("/v1/seasons/2031-spring/requests", json={
            "topic": f"Bench topic {k} {i}", "format": "online", "experience": "A bench of the platform",
            "group_size": 10}, headers=headers[k % len(headers)])

    return {
        "notifications": ("PUT /v1/me/notification-preferences", preferences),
        "calendar": ("POST /v1/seasons/{id}/requests", event_request),
        # last: each message is told to every member of the group with their unread counts (kept in the read
        # model, docs/adr/0028), the longest work after an answer
        "groups": ("POST /v1/groups/{id}/messages", chat),
    }


#: how long the domains phase waits for the consumers after each command's load
DOMAIN_DRAIN_S = 180.0


async def bench_domains(plat: BenchPlatform, people: list[dict], conns: int, duration: float) -> dict:
    pids = {**plat.pids, "nats-server": plat.nats.proc.pid, "bench client": os.getpid()}
    nc = await nats.connect(plat.nats_url, name="bench-domains")
    out = {}
    try:
        group_id = await members_of_main(plat.base_url, people)
        await quiet(plat)
        for service, (what, request) in domain_commands(people, group_id).items():
            async with RawHttp(plat.base_url) as c:  # warm-up
                await closed_loop(c, conns, 1.0, request)
            await quiet(plat)

            async def drain() -> float:
                return await wait_idle(nc, DOMAIN, timeout=DOMAIN_DRAIN_S)

            r = await measure_closed(plat.base_url, conns, duration, request, pids, drain)
            r["cpu_ms_per_command_sum"] = sum(v for k, v in r["cpu_ms_per_command"].items() if k != "bench client")
            r["command"] = what
            out[service] = r
            log(f"domains: {service} {what}: {r['throughput']:.0f}/s p50 {r['p50_ms']:.1f} p99 {r['p99_ms']:.1f} ms "
                f"cpu {r['cpu_ms_per_command_sum']:.2f} ms ({r['errors']} err), consumers caught up "
                + (f"{r['drain_s']:.1f}s after the load" if r["drain_s"] is not None
                   else f"NOT within {DOMAIN_DRAIN_S:.0f}s: {r['drain_timeout']}"))
            if r["drain_s"] is None:
                break  # the next command's numbers would carry this one's backlog
    finally:
        await nc.close()
    return out


# ---------------------------------------------------------------- overload


async def member_event_counts(js, members: list[str]) -> int:
    """Messages in the log on these members' subjects."""
    info = await js.stream_info(EVENTS_STREAM, subjects_filter=events_of("onboarding", "member"))
    subjects = info.state.subjects or {}
    return sum(subjects.get(event_subject("onboarding", "member", m), 0) for m in members)


async def bench_overload(plat: BenchPlatform, people: list[dict], capacity: float, duration: float) -> dict:
    """Offer twice the measured capacity on an open loop: the gateway should
    refuse the excess at once (503 overloaded) and keep the accepted fast —
    and every accepted command must be in the log, no more, no less."""
    rate = 2 * capacity
    headers = [{"Authorization": f"Bearer {p['token']}"} for p in people]

    async def put(c, i: int):
        return await c.put("/v1/me/profile", json={**PROFILE, "about": f"overload {i}"}, headers=headers[i % len(headers)])

    nc = await nats.connect(plat.nats_url, name="bench-overload")
    js = nc.jetstream(timeout=30.0)
    try:
        members = [p["member_id"] for p in people]
        before = await member_event_counts(js, members)
        log(f"overload: open loop at {rate:.0f}/s (2 x {capacity:.0f}/s) for {duration:.0f}s")
        async with RawHttp(plat.base_url) as c:
            out = await open_loop(c, rate, duration, put, detail=True, name="overload")
            opened = c.opened
        bound_after = await bound_now(plat.base_url)
        await quiet(plat)  # a command the client gave up on might still land: count after the platform is calm
        after = await member_event_counts(js, members)
    finally:
        await nc.close()
    lat, outcomes = out.pop("_lat"), out.pop("_outcome")
    tally: dict[str, int] = {}
    for o in outcomes:
        tally[o] = tally.get(o, 0) + 1
    accepted = [t for t, o in zip(lat, outcomes) if o == "200"]
    # requests scheduled after the first second: the gateway's bound has learnt the load by then
    settled = [t for i, (t, o) in enumerate(zip(lat, outcomes)) if o == "200" and i >= rate]
    refused = [t for t, o in zip(lat, outcomes) if o == "503 overloaded"]
    appended = after - before
    res = {
        "capacity": capacity,
        "offered_rate": rate,
        "requests": out["requests"],
        "outcomes": tally,
        "accepted": len(accepted),
        "refused": len(refused),
        "other": out["requests"] - len(accepted) - len(refused),
        "accepted_rate": out["achieved_rate"],
        "accepted_p50_ms": pct(accepted, 50),
        "accepted_p99_ms": pct(accepted, 99),
        "accepted_p99_after_1s_ms": pct(settled, 99),
        "refused_p50_ms": pct(refused, 50),
        "refused_p99_ms": pct(refused, 99),
        "events_appended": appended,
        "lost_or_extra": appended - len(accepted),
        "connections_opened": opened,
        "client_start_lag_p99_ms": out["client_start_lag_p99_ms"],
        "error_samples": [e for e in out["error_samples"] if "overloaded" not in e],
        "bound_after": bound_after,
    }
    log(f"overload: {res['accepted']} accepted (p99 {res['accepted_p99_ms']:.1f} ms, "
        f"after the first second {res['accepted_p99_after_1s_ms']:.1f} ms), {res['refused']} refused "
        f"(p99 {res['refused_p99_ms']:.1f} ms), {res['other']} other {tally}; {appended} events appended; "
        f"the bound after it {bound_after}")
    return res


# ---------------------------------------------------------------- 3. command to visible


async def bench_visible(base_url: str, people: list[dict], samples: int) -> dict:
    with_token: list[float] = []
    without: list[float] = []
    polls: list[int] = []
    run = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as c:
        for i in range(samples):
            person = people[i % len(people)]
            auth = {"Authorization": f"Bearer {person['token']}"}
            # with the consistency token
            value = f"ryw {run} {i}"
            t0 = time.perf_counter()
            r = await c.put("/v1/me/profile", json={**PROFILE, "about": value}, headers=auth)
            assert r.status_code == 200, r.text
            token = r.headers["X-Consistency-Token"]
            r = await c.get("/v1/me", headers={**auth, "X-Consistency-Token": token})
            elapsed = (time.perf_counter() - t0) * 1000
            assert r.status_code == 200, r.text
            assert r.json()["profile"]["about"] == value, "read-your-writes broken: GET /v1/me did not see the write"
            with_token.append(elapsed)
            # without it: poll every 2 ms until the value shows up
            value = f"poll {run} {i}"
            t0 = time.perf_counter()
            r = await c.put("/v1/me/profile", json={**PROFILE, "about": value}, headers=auth)
            assert r.status_code == 200, r.text
            n = 0
            while True:
                n += 1
                r = await c.get("/v1/me", headers=auth)
                assert r.status_code == 200, r.text
                if r.json()["profile"]["about"] == value:
                    break
                if time.perf_counter() - t0 > 10:
                    raise TimeoutError("the write never became visible")
                await asyncio.sleep(0.002)
            without.append((time.perf_counter() - t0) * 1000)
            polls.append(n)
    return {
        "samples": samples,
        "with_token": {"p50_ms": pct(with_token, 50), "p90_ms": pct(with_token, 90), "p99_ms": pct(with_token, 99),
                       "max_ms": max(with_token), "slowest_ms": sorted(with_token)[-5:]},
        "without_token_polling_2ms": {"p50_ms": pct(without, 50), "p99_ms": pct(without, 99), "max_ms": max(without),
                                      "gets_per_sample_mean": statistics.mean(polls)},
    }


# ---------------------------------------------------------------- 4. rebuild


async def fill_log(nats_url: str, aggregates: int) -> int:
    """Two member events per new aggregate (RulesAcknowledged, then
    ProfileCompleted), through EventStore.append, many in flight."""
    nc = await nats.connect(nats_url, name="bench-fill")
    await provision(nc)
    vault = await PiiVault.connect(nc)
    es = EventStore(nc, vault, timeout=30.0)
    meta = Meta(actor="bench", correlation_id="bench-fill")
    run = uuid.uuid4().hex[:8]
    ids = [f"{run}-{i}" for i in range(aggregates)]
    seqs: dict[str, int] = {}
    placeholder = [None]  # Stream.version counts events: one is already there for the second append

    async def first(aid: str) -> None:
        seqs[aid] = await es.append(Stream(event_subject("onboarding", "member", aid), [], 0),
                                    [RulesAcknowledged(member_id=aid)], meta)

    async def second(aid: str) -> None:
        await es.append(Stream(event_subject("onboarding", "member", aid), placeholder, seqs[aid]),
                        [ProfileCompleted(member_id=aid)], meta)

    try:
        for step in (first, second):
            for k in range(0, len(ids), 500):
                await asyncio.gather(*(step(a) for a in ids[k:k + 500]))
    finally:
        await vault.close()
        await nc.close()
    return aggregates * 2


async def status(nc, service: str) -> dict:
    return json.loads((await nc.request(f"hr.ctl.{service}.status", b"{}", timeout=10)).data)


async def wait_idle(nc, services: tuple[str, ...], timeout: float) -> float:
    """Until every consumer of every service has nothing pending."""
    t0 = time.perf_counter()
    while True:
        lags = [c["lag"] for s in services for c in (await status(nc, s))["consumers"]]
        if all(lag == 0 for lag in lags):
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError(f"consumers still lagging after {timeout}s: {lags}")
        await asyncio.sleep(0.2)


async def raw_read(js, subjects: list[str], ack: bool = True) -> tuple[int, float]:
    """A bare ephemeral pull consumer reading the filter to the end (``ack``:
    acking each message — the runner acknowledges a batch at once; else ack policy none)."""
    info = await js.add_consumer(EVENTS_STREAM, ConsumerConfig(
        ack_policy=AckPolicy.EXPLICIT if ack else AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL,
        filter_subjects=subjects, inactive_threshold=30.0, max_ack_pending=256 * 4 if ack else None,
    ))
    total = info.num_pending
    sub = await js.pull_subscribe_bind(consumer=info.name, stream=EVENTS_STREAM)
    got = 0
    t0 = time.perf_counter()
    try:
        while got < total:
            msgs = await sub.fetch(256, timeout=5.0)
            for m in msgs:
                _ = stream_seq(m)  # as the runner reads it
                if ack:
                    await m.ack()
            got += len(msgs)
        await js._nc.flush()
        elapsed = time.perf_counter() - t0
    finally:
        await sub.unsubscribe()
        try:
            await js.delete_consumer(EVENTS_STREAM, info.name)
        except Exception:  # noqa: BLE001 - ephemeral: it goes away by itself
            pass
    return got, elapsed


async def ordered_read(js, subject: str, total: int) -> tuple[int, float]:
    """A bare ordered push consumer (nats-py ``ordered_consumer=True``: no
    acks, flow control, server-side push) reading the filter to the end."""
    got = 0
    done = asyncio.Event()

    async def on_msg(m) -> None:
        nonlocal got
        _ = stream_seq(m)
        got += 1
        if got >= total:
            done.set()

    t0 = time.perf_counter()
    sub = await js.subscribe(subject, stream=EVENTS_STREAM, cb=on_msg, ordered_consumer=True,
                             deliver_policy=DeliverPolicy.ALL)
    try:
        await asyncio.wait_for(done.wait(), timeout=300)
        elapsed = time.perf_counter() - t0
    finally:
        await sub.unsubscribe()
    return got, elapsed


async def rebuild_once(nc, projection: str) -> float:
    t0 = time.perf_counter()
    reply = json.loads((await nc.request("hr.ctl.onboarding.rebuild", json.dumps({"projection": projection}).encode(),
                                         timeout=120)).data)
    assert reply.get("ok"), reply
    while True:
        st = await status(nc, "onboarding")
        mine = [c for c in st["consumers"] if c["name"] == projection]
        if mine and "rebuild" not in mine[0] and mine[0]["lag"] == 0:
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > 600:
            raise TimeoutError("rebuild did not finish in 600 s")
        await asyncio.sleep(0.02)  # each status costs the service a consumer_info per runner: don't starve it


async def bench_rebuild(nats_url: str, aggregates: int, rounds: int, sampler: RssSampler) -> dict:
    log(f"rebuild: filling the log with {aggregates * 2:,} member events")
    t0 = time.perf_counter()
    written = await fill_log(nats_url, aggregates)
    fill_s = time.perf_counter() - t0
    nc = await nats.connect(nats_url, name="bench-rebuild")
    js = nc.jetstream(timeout=30.0)
    try:
        settle_s = await wait_idle(nc, DOMAIN, timeout=900)
        log(f"rebuild: log filled in {fill_s:.1f}s ({written / fill_s:,.0f} appends/s in flight), "
            f"consumers caught up {settle_s:.1f}s later")
        subjects = [events_of("onboarding", "member")]
        raw_rates, noack_rates, ordered_rates, our_rates, raw_counts = [], [], [], [], []
        sampler.start()
        for r in range(rounds):
            got, secs = await raw_read(js, subjects)
            raw_counts.append(got)
            raw_rates.append(got / secs)
            log(f"rebuild round {r + 1}: bare pull consumer read {got:,} events in {secs:.2f}s = {got / secs:,.0f}/s")
            n, secs = await raw_read(js, subjects, ack=False)
            noack_rates.append(n / secs)
            log(f"rebuild round {r + 1}: bare pull consumer, no acks, read {n:,} events in {secs:.2f}s = {n / secs:,.0f}/s")
            n, secs = await ordered_read(js, subjects[0], got)
            ordered_rates.append(n / secs)
            log(f"rebuild round {r + 1}: ordered consumer read {n:,} events in {secs:.2f}s = {n / secs:,.0f}/s")
            secs = await rebuild_once(nc, "members")
            our_rates.append(got / secs)
            log(f"rebuild round {r + 1}: members projection rebuilt in {secs:.2f}s = {got / secs:,.0f}/s")
        rss = await sampler.stop()
    finally:
        await nc.close()
    ours_med, raw_med = statistics.median(our_rates), statistics.median(raw_rates)
    readers = {"acked pull": raw_med, "pull, no acks": statistics.median(noack_rates),
               "ordered": statistics.median(ordered_rates)}
    fastest = max(readers, key=readers.__getitem__)
    return {
        "events_in_filter": raw_counts[-1],
        "noack_rates": noack_rates,
        "ordered_rates": ordered_rates,
        "readers_median": readers,
        "fastest_reader": fastest,
        "fastest_median": readers[fastest],
        "ratio_to_fastest": ours_med / readers[fastest],
        "events_written_for_bench": written,
        "fill_seconds": fill_s,
        "settle_seconds": settle_s,
        "rounds": rounds,
        "ours_rates": our_rates,
        "raw_rates": raw_rates,
        "ours_median": ours_med,
        "raw_median": raw_med,
        "ratio": ours_med / raw_med,
        "rss_peak_mib": rss,
    }


# ---------------------------------------------------------------- report


def verdict(ok: bool | None) -> str:
    return "info" if ok is None else ("PASS" if ok else "MISS")


def build_rows(res: dict) -> list[tuple[str, str, str, str, str, str]]:
    rows = []
    a = res.get("append")
    if a:
        rows.append(("append (events/s, median)", f"{a['ours_median']:,.0f}", f"{a['raw_median']:,.0f} js.publish",
                     f"{a['ratio']:.2f}", f"ratio ≥ {TARGETS['append_ratio']}", verdict(a["ratio"] >= TARGETS["append_ratio"])))
        rows.append(("  vs js.publish with our 5 headers", f"{a['ours_median']:,.0f}",
                     f"{a['raw_with_headers_median']:,.0f}", f"{a['ratio_to_raw_with_headers']:.2f}", "", "info"))
    g = res.get("gateway")
    if g:
        o, b = g["ours"], g["baseline_healthz"]
        rate = o["offered_rate"]
        rows.append((f"PUT /v1/me/profile @{rate:.0f}/s p99", f"{o['p99_ms']:.1f} ms", f"{b['p99_ms']:.1f} ms /healthz",
                     f"{g['ratio_p99']:.1f}", f"p99 ≤ {TARGETS['gateway_p99_ms']:.0f} ms",
                     verdict(o["p99_ms"] <= TARGETS["gateway_p99_ms"] and o["errors"] == 0)))
        rows.append((f"PUT /v1/me/profile @{rate:.0f}/s p50", f"{o['p50_ms']:.1f} ms", f"{b['p50_ms']:.1f} ms /healthz",
                     f"{o['p50_ms'] / b['p50_ms']:.1f}", "", "info"))
        rows.append(("  achieved throughput (ok/s)", f"{o['achieved_rate']:.0f} ({o['errors']} err)",
                     f"{b['achieved_rate']:.0f} ({b['errors']} err)", "", "", "info"))
        if g.get("sweep"):
            best = g["highest_rate_meeting_p99"]
            st = next((x for x in g["sweep"] if x["rate"] == best), None)
            rows.append(("  highest offered rate meeting p99 (sweep)",
                         f"{best:.0f}/s (p99 {st['p99_ms']:.1f} ms)" if st else "none of " + ",".join(f"{x['rate']:.0f}" for x in g["sweep"]),
                         "", "", f"p99 ≤ {TARGETS['gateway_p99_ms']:.0f} ms", "info"))
        cpu, bcpu = o.get("cpu_ms_per_request", {}), b.get("cpu_ms_per_request", {})
        if cpu:
            rows.append(("  CPU ms per request, all processes", f"{sum(cpu.values()):.1f}", f"{sum(bcpu.values()):.1f} /healthz",
                         f"{sum(cpu.values()) / max(sum(bcpu.values()), 1e-9):.1f}",
                         f"{os.cpu_count()} cores ⇒ ≤ {os.cpu_count() * 1000 / rate:.1f} at {rate:.0f}/s", "info"))
            short = {"onboarding": "onb", "groups": "grp", "gateway": "gw", "nats-server": "nats", "bench client": "client"}
            rows.append(("    per process", " ".join(f"{short.get(k, k)} {v:.1f}" for k, v in cpu.items()), "", "", "", "info"))
    v = res.get("visible")
    if v:
        w, p = v["with_token"], v["without_token_polling_2ms"]
        rows.append(("command→visible, token, p99", f"{w['p99_ms']:.1f} ms", "", "", f"p99 ≤ {TARGETS['visible_p99_ms']:.0f} ms",
                     verdict(w["p99_ms"] <= TARGETS["visible_p99_ms"])))
        rows.append(("command→visible, token, p50", f"{w['p50_ms']:.1f} ms", "", "", "", "info"))
        rows.append(("command→visible, no token, 2 ms polls p50/p99", f"{p['p50_ms']:.1f} / {p['p99_ms']:.1f} ms", "", "", "",
                     "info"))
    c = res.get("rawcmd")
    if c:
        o, b = c["ours"], c["raw"]
        rows.append((f"rawcmd PUT /v1/me/profile, {o['connections']} conns, cmd/s", f"{o['throughput']:,.0f}",
                     f"{b['throughput']:,.0f} raw path", f"{c['ratio']:.2f}", f"ratio ≥ {TARGETS['rawcmd_ratio']}",
                     verdict(c["ratio"] >= TARGETS["rawcmd_ratio"] and o["errors"] == 0)))
        rows.append(("  p50 / p99", f"{o['p50_ms']:.1f} / {o['p99_ms']:.1f} ms", f"{b['p50_ms']:.1f} / {b['p99_ms']:.1f} ms",
                     f"{o['p99_ms'] / b['p99_ms']:.1f}", "", "info"))
        if o["errors"] or b["errors"]:
            rows.append(("  errors", f"{o['errors']} {o['outcomes']}", f"{b['errors']} {b['outcomes']}", "", "", "info"))
        rows.append(("  CPU ms per command, all processes", f"{o['cpu_ms_per_command_sum']:.2f}",
                     f"{b['cpu_ms_per_command_sum']:.2f} raw path", f"{c['cpu_ratio']:.1f}",
                     f"≤ {TARGETS['rawcmd_cpu_ms']:.0f} ms (ours)",
                     verdict(o["cpu_ms_per_command_sum"] <= TARGETS["rawcmd_cpu_ms"])))
        short = {"onboarding": "onb", "groups": "grp", "gateway": "gw", "nats-server": "nats", "bench client": "client",
                 "notifications": "notif", "calendar": "cal", "feedback": "fb", "raw app": "app",
                 "raw responder": "resp"}
        for side, x in (("ours", o), ("raw", b)):
            rows.append((f"    per process ({side})",
                         " ".join(f"{short.get(k, k)} {v:.2f}" for k, v in x["cpu_ms_per_command"].items()),
                         "", "", "client not in the sum", "info"))
    ov = res.get("overload")
    if ov:
        rows.append((f"overload @{ov['offered_rate']:.0f}/s (2 × {ov['capacity']:.0f}), accepted p99",
                     f"{ov['accepted_p99_ms']:.1f} ms ({ov['accepted']} ok)", "", "",
                     f"p99 ≤ {TARGETS['overload_accepted_p99_ms']:.0f} ms",
                     verdict(ov["accepted_p99_ms"] <= TARGETS["overload_accepted_p99_ms"])))
        rows.append(("  accepted p99 after the first second", f"{ov['accepted_p99_after_1s_ms']:.1f} ms "
                     f"({ov['accepted_rate']:.0f} accepted/s)", "", "", "the bound has learnt the load", "info"))
        rows.append(("  refused 503 overloaded, p99", f"{ov['refused_p99_ms']:.1f} ms ({ov['refused']} refused)", "", "",
                     "", "info"))
        if ov["other"]:
            rows.append(("  other outcomes", str({k: v for k, v in ov["outcomes"].items()
                                                  if k not in ("200", "503 overloaded")}), "", "", "", "info"))
        rows.append(("  accepted commands in the log", f"{ov['events_appended']} events / {ov['accepted']} × 200", "", "",
                     "equal (none lost)", verdict(ov["lost_or_extra"] == 0)))
    dm = res.get("domains")
    if dm:
        raw = c["raw"] if c else None  # the raw path is measured by rawcmd: without it, no ratio to show
        for service, d in dm.items():
            what = f"{service}: {d['command']}, {d['connections']} conns, cmd/s"
            got = f"{d['throughput']:,.0f} ({d['errors']} err)"
            if raw is None:
                rows.append((what, got, "(rawcmd not run)", "", f"ratio ≥ {TARGETS['rawcmd_ratio']}", "info"))
            else:
                ratio = d["throughput"] / max(raw["throughput"], 1e-9)
                rows.append((what, got, f"{raw['throughput']:,.0f} raw path", f"{ratio:.2f}",
                             f"ratio ≥ {TARGETS['rawcmd_ratio']}",
                             verdict(ratio >= TARGETS["rawcmd_ratio"] and d["errors"] == 0)))
            drained = (f"caught up {d['drain_s']:.0f}s after" if d.get("drain_s") is not None
                       else "NOT caught up (CPU so far)")
            rows.append((f"  {service}: p50 / p99, CPU ms per command", f"{d['p50_ms']:.1f} / {d['p99_ms']:.1f} ms, "
                         f"{d['cpu_ms_per_command_sum']:.2f}, {drained}", "", "", f"≤ {TARGETS['rawcmd_cpu_ms']:.0f} ms CPU",
                         verdict(d["cpu_ms_per_command_sum"] <= TARGETS["rawcmd_cpu_ms"] and d.get("drain_s") is not None)))
    r = res.get("rebuild")
    if r:
        ok = r["ratio_to_fastest"] >= TARGETS["rebuild_ratio"] and r["ours_median"] >= TARGETS["rebuild_eps"]
        rows.append((f"rebuild members ({r['events_in_filter']:,} ev), ev/s", f"{r['ours_median']:,.0f}",
                     f"{r['fastest_median']:,.0f} {r['fastest_reader']}", f"{r['ratio_to_fastest']:.2f}",
                     f"ratio ≥ {TARGETS['rebuild_ratio']} & ≥ {TARGETS['rebuild_eps']:,.0f}/s", verdict(ok)))
        for name, rate in r["readers_median"].items():
            rows.append((f"  vs bare reader: {name}", f"{r['ours_median']:,.0f}", f"{rate:,.0f}",
                         f"{r['ours_median'] / rate:.2f}", "", "info"))
    m = res.get("rss")
    if m:
        for name in (*DOMAIN, *(d.name for d in edge_services())):
            idle = m["idle_mib"].get(name)
            load = m.get("load_mib", {}).get(name)
            if idle is not None:
                rows.append((f"RSS {name} idle", f"{idle:.0f} MiB", "", "", f"≤ {TARGETS['rss_mib']:.0f} MiB",
                             verdict(idle <= TARGETS["rss_mib"])))
            if load is not None:
                rows.append((f"RSS {name} under load (max)", f"{load:.0f} MiB", "", "", f"≤ {TARGETS['rss_mib']:.0f} MiB",
                             verdict(load <= TARGETS["rss_mib"])))
        peak = m.get("rebuild_peak_mib", {}).get("onboarding")
        if peak is not None:
            rows.append(("RSS onboarding during rebuild (max)", f"{peak:.0f} MiB", "", "", "", "info"))
    return rows


def render(rows) -> str:
    head = ("metric", "measured", "baseline", "ratio", "target", "result")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)])


def machine() -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "libs", "services"], cwd=ROOT,
                                    capture_output=True, text=True).stdout.strip())
    except OSError:
        commit, dirty = "", False
    return {
        "cpus": os.cpu_count(),
        "loadavg": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
        "uncommitted_changes_in_libs_or_services": dirty,
    }


# ---------------------------------------------------------------- main


async def main(args) -> int:
    res: dict = {"started_at": datetime.now(UTC).isoformat(), "machine_before": machine(), "args": vars(args)}
    plat = BenchPlatform(keep=args.keep, stalls=args.stalls)
    if args.stalls:
        from scripts.stallwatch import sitecustomize as stallwatch

        STALLS["dir"] = args.stalls
        stallwatch.install(args.stalls, name="bench-client")
    try:
        log(f"starting nats-server and services in {plat.tmp}")
        await plat.start()
        await asyncio.sleep(2.0)  # let start-up settle before calling it idle
        idle = {name: rss_mib(pid) for name, pid in plat.pids.items()}
        res["rss"] = {"idle_mib": idle, "pids": plat.pids}
        log("idle RSS: " + ", ".join(f"{k} {v:.0f} MiB" for k, v in idle.items()))
        sampler = RssSampler(plat.pids)
        only = set(args.only.split(",")) if args.only else None

        if not only or "append" in only:
            log(f"append: {args.append_n} events x {args.rounds} rounds, ours vs js.publish")
            res["append"] = await bench_append(plat.nats_url, args.append_n, args.rounds)

        if not only or only & {"gateway", "visible"}:
            log(f"registering {args.newcomers} newcomers (and as many for the rate sweep)")
            people = await newcomers(plat.base_url, args.newcomers)
            sweep_people = await newcomers(plat.base_url, args.newcomers) if args.sweep else []
            if not only or "gateway" in only:
                res["gateway"] = await bench_gateway(plat, people, sweep_people, args.rate, args.duration, args.sweep,
                                                     args.sweep_s, sampler, args.client)
                res["rss"]["load_mib"] = res["gateway"].pop("rss_load_mib")
            if not only or "visible" in only:
                await quiet(plat)
                log(f"command to visible: {args.visible_n} samples")
                res["visible"] = await bench_visible(plat.base_url, people, args.visible_n)

        if not only or only & {"rawcmd", "overload"}:
            conns = args.connections
            log(f"registering {max(conns, args.newcomers)} newcomers for the closed loop and overload")
            load_people = await newcomers(plat.base_url, max(conns, args.newcomers))
            if not only or "rawcmd" in only:
                res["rawcmd"] = await bench_rawcmd(plat, load_people, conns, args.duration)
                capacity = res["rawcmd"]["ours"]["throughput"]
            else:
                log(f"overload: measuring our capacity (closed loop of {conns} for {args.duration:.0f}s)")
                headers = [{"Authorization": f"Bearer {p['token']}"} for p in load_people]
                capacity = (await measure_closed(plat.base_url, conns, args.duration, profile_put(headers), {}))["throughput"]
                await quiet(plat)
            if not only or "overload" in only:
                res["overload"] = await bench_overload(plat, load_people, capacity, args.duration)

        if not only or "rebuild" in only:
            res["rebuild"] = await bench_rebuild(plat.nats_url, args.rebuild_aggregates, args.rebuild_rounds, sampler)
            res["rss"]["rebuild_peak_mib"] = res["rebuild"].pop("rss_peak_mib")

        # last: a chat message's work after its answer (each member of the group told) is the longest to drain
        if not only or "domains" in only:
            conns, secs = args.domain_connections, args.domain_duration
            log(f"domains: one command of each domain service, closed loop of {conns} for {secs:.0f}s each")
            domain_people = await newcomers(plat.base_url, conns)
            res["domains"] = await bench_domains(plat, domain_people, conns, secs)
    finally:
        plat.stop()
        if args.keep:
            log(f"kept {plat.tmp}")
    res["machine_after"] = machine()
    res["finished_at"] = datetime.now(UTC).isoformat()
    rows = build_rows(res)
    res["table"] = [dict(zip(("metric", "measured", "baseline", "ratio", "target", "result"), r)) for r in rows]
    RESULTS.write_text(json.dumps(res, indent=2, ensure_ascii=False, default=str) + "\n")
    print()
    print(render(rows))
    la, lb = res["machine_before"]["loadavg"], res["machine_after"]["loadavg"]
    print(f"\n{res['machine_before']['cpus']} CPUs, load average (1 min) {la[0]:.2f} at start, {lb[0]:.2f} at the end "
          f"(other work on the machine skews every number); details in {RESULTS.relative_to(ROOT)}")
    if args.stalls:
        print(f"long steps and collections of every process in {args.stalls}: python -m scripts.stallwatch {args.stalls}")
    missed = [r[0] for r in rows if r[5] == "MISS"]
    return 1 if (args.strict and missed) else 0


def parse(argv=None):
    p = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a short run: fewer events, shorter load")
    p.add_argument("--append-n", type=int, help="events per append round (5000; quick 1000)")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds of the append measurement")
    p.add_argument("--rate", type=float, default=200.0, help="offered commands per second")
    p.add_argument("--duration", type=float, help="seconds of offered load, of each side of rawcmd and of overload "
                   "(10; quick 4)")
    p.add_argument("--client", choices=("raw", "httpx"), default="raw",
                   help="HTTP client of the open-loop load (raw: lean stdlib HTTP/1.1; httpx costs more CPU)")
    p.add_argument("--sweep", default=None,
                   help="offered rates (comma list) of the informational sweep for the highest rate meeting p99 "
                        "(25,50,75,100,125,150,175; quick: none; 'none' to skip)")
    p.add_argument("--sweep-s", type=float, default=5.0, help="seconds per sweep step")
    p.add_argument("--newcomers", type=int, default=50, help="members sending the commands")
    p.add_argument("--visible-n", type=int, help="command-to-visible samples (200; quick 50)")
    p.add_argument("--rebuild-aggregates", type=int, help="aggregates x 2 events in the log (10000; quick 2500)")
    p.add_argument("--rebuild-rounds", type=int, help="rounds of rebuild vs bare reader (2; quick 1)")
    p.add_argument("--connections", type=int, default=32, help="closed-loop connections of rawcmd (the same for both sides)")
    p.add_argument("--domain-duration", type=float, default=3.0, help="seconds of each domain command's closed loop")
    p.add_argument("--domain-connections", type=int, default=8,
                   help="closed-loop connections of each domain command (8: a chat group of 8, each message told "
                        "to every member with their unread counts)")
    p.add_argument("--only", help="comma list of: append,gateway,visible,rawcmd,overload,domains,rebuild")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    p.add_argument("--stalls", metavar="DIR",
                   help="every process logs its event-loop steps over 8 ms and collections over 3 ms, the open loops "
                        "their latencies, to DIR (read with python -m scripts.stallwatch DIR; docs/adr/0042)")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    a = p.parse_args(argv)
    phases = {"append", "gateway", "visible", "rawcmd", "overload", "domains", "rebuild"}
    if a.only and not set(a.only.split(",")) <= phases:
        p.error(f"--only: unknown {', '.join(sorted(set(a.only.split(',')) - phases))} (known: {', '.join(sorted(phases))})")
    q = a.quick
    a.append_n = a.append_n or (1000 if q else 5000)
    a.duration = a.duration or (4.0 if q else 10.0)
    a.visible_n = a.visible_n or (50 if q else 200)
    a.rebuild_aggregates = a.rebuild_aggregates or (2500 if q else 10_000)
    a.rebuild_rounds = a.rebuild_rounds or (1 if q else 2)
    sweep = a.sweep or ("none" if q else "25,50,75,100,125,150,175")
    a.sweep = [] if sweep == "none" else [float(x) for x in sweep.split(",")]
    return a


if __name__ == "__main__":
    os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)  # measure the code, not a collector's availability
    sys.exit(asyncio.run(main(parse())))
