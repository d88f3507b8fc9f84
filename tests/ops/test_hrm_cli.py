"""The operators' CLI against a real platform of its own (its services may be
stopped and started here without disturbing the other tests)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import sys
import uuid
from pathlib import Path

import pytest

from libs.contracts.subjects import EVENTS_STREAM
from libs.kit.natsserver import NatsServer
from scripts import hrm
from tests.e2e.helpers import settle
from tests.e2e.journey import admin_token, invite, register
from tests.platform_harness import ADMIN_EMAIL, ADMIN_PASSWORD, Platform

HRM = Path(sys.executable).parent / "hrm"


@pytest.fixture(scope="module")
async def ops(tmp_path_factory):
    server = NatsServer(tmp_path_factory.mktemp("ops-jetstream")).start()
    p = await Platform(server.url, tmp_path_factory.mktemp("ops-data")).start()
    yield p
    await p.stop()
    server.stop()


@pytest.fixture(scope="module")
async def admin(ops):
    return await admin_token(ops)


def rows_of(table: str) -> dict[tuple[str, str], dict[str, str]]:
    rows = {}
    for line in table.splitlines():
        cells = line.split()
        if len(cells) >= 6 and cells[1] in ("up", "down"):
            rows[(cells[0], cells[2])] = dict(zip(("state", "kind", "checkpoint", "lag"), (cells[1], *cells[3:6])))
    return rows


async def status_rows(p: Platform) -> tuple[int, dict, str]:
    out = io.StringIO()
    rc = await hrm.status(p.nats_url, out, timeout=1.0)
    return rc, rows_of(out.getvalue()), out.getvalue()


async def newcomer(p: Platform, admin: str) -> tuple[str, str]:
    inv = await invite(p, admin)
    member_id, email, _ = await register(p, inv["token"])
    return member_id, email


async def run_hrm(*args: str, env: dict | None = None) -> tuple[int, str, str]:
    """The installed console script, as an operator runs it (the platform keeps serving meanwhile)."""
    assert HRM.exists(), "hrm is not installed: pip install -e ."
    proc = await asyncio.create_subprocess_exec(
        str(HRM), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


async def test_status_shows_a_stopped_service_lagging_then_catching_up(ops, admin):
    await settle(ops)
    rc, rows, table = await status_rows(ops)
    assert rc == 0, table
    assert rows[("onboarding", "members")] == {"state": "up", "kind": "projection",
                                               "checkpoint": rows[("onboarding", "members")]["checkpoint"], "lag": "0"}
    assert rows[("groups", "base_groups")]["kind"] == "policy"
    assert all(r["lag"] == "0" for r in rows.values()), table

    await ops.stop_service("groups")
    try:
        lags = []
        for _ in range(2):
            await newcomer(ops, admin)  # onboarding appends; nobody in groups reads it
            rc, rows, table = await status_rows(ops)
            assert rc == 1, table
            assert "groups is down" in table
            assert rows[("onboarding", "members")]["state"] == "up"
            assert rows[("onboarding", "members")]["lag"] == "0" or rows[("onboarding", "members")]["lag"].isdigit()
            # read from JetStream: the durable consumers outlive their service
            assert {name for svc, name in rows if svc == "groups"} == {"actors", "base_groups", "directory", "groups"}
            assert rows[("groups", "directory")]["state"] == "down"
            lags.append((int(rows[("groups", "directory")]["lag"]), int(rows[("groups", "base_groups")]["lag"])))
        assert 0 < lags[0][0] < lags[1][0] and 0 < lags[0][1] < lags[1][1], lags
    finally:
        await ops.start_service("groups")

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while True:
        rc, rows, table = await status_rows(ops)
        if rc == 0 and all(r["lag"] == "0" for r in rows.values()):
            break
        assert loop.time() < deadline, table
        await asyncio.sleep(0.1)
    assert rows[("groups", "directory")]["state"] == "up"


async def test_rebuild_draws_progress_and_reports_what_it_replayed(ops, admin):
    member_id, _ = await newcomer(ops, admin)
    await settle(ops)
    js = ops.services["onboarding"].js
    info = await js.stream_info(EVENTS_STREAM, subjects_filter="hr.evt.onboarding.>")
    onboarding_events = sum((info.state.subjects or {}).values())

    out = io.StringIO()
    assert await hrm.rebuild(ops.nats_url, "onboarding", out=out) == 0
    text = out.getvalue()
    assert "[" + "#" * 30 + "] 100.0%" in text, text
    m = re.search(r"rebuilt 2 projection\(s\) of onboarding: (\d+) events replayed in \d+\.\d\d s", text)
    assert m, text
    # both projections together read every onboarding event once
    assert int(m[1]) == onboarding_events
    assert re.search(r"onboarding\.members: \d+ events replayed", text)
    rc, rows, _ = await status_rows(ops)
    assert rc == 0 and rows[("onboarding", "members")]["lag"] == "0"
    async with ops.client(admin) as c:
        assert (await c.get(f"/v1/members/{member_id}")).status_code == 200

    out = io.StringIO()
    assert await hrm.rebuild(ops.nats_url, "groups", "directory", out=out) == 0
    assert "rebuilt 1 projection(s) of groups" in out.getvalue()
    with pytest.raises(hrm.CliError, match="no projection named 'nope'"):
        await hrm.rebuild(ops.nats_url, "groups", "nope", out=io.StringIO())


async def test_invite_prints_a_working_link(ops):
    out = io.StringIO()
    assert await hrm.invite(ops.base_url, ADMIN_EMAIL, ADMIN_PASSWORD, max_uses=2, days=3, out=out) == 0
    link, terms = out.getvalue().splitlines()
    token = link.rsplit("/", 1)[1]
    assert "up to 2 use(s)" in terms and token in terms
    await register(ops, token)
    await register(ops, token)  # two uses
    async with ops.client() as c:
        r = await c.post("/v1/registrations", json={
            "invitation_token": token, "email": f"third-{uuid.uuid4().hex[:6]}@example.ru", "password": "s3cret-pass",
            "full_name": "Третий Лишний", "consent_personal_data": True})
    assert r.status_code >= 400


async def test_erase_erases_and_a_refusal_prints_the_problem_title(ops, admin):
    member_id, email = await newcomer(ops, admin)
    out = io.StringIO()
    assert await hrm.erase(ops.base_url, member_id, ADMIN_EMAIL, ADMIN_PASSWORD, out=out) == 0
    assert f"member {member_id} erased" in out.getvalue()
    async with ops.client(admin) as c:
        assert (await c.get(f"/v1/members/{member_id}")).status_code == 404
    async with ops.client() as c:
        assert (await c.post("/v1/auth/token", json={"email": email, "password": "s3cret-pass"})).status_code == 401

    with pytest.raises(hrm.CliError, match="^Member not found.$"):
        await hrm.erase(ops.base_url, "no-such-member", ADMIN_EMAIL, ADMIN_PASSWORD, out=io.StringIO(), lang="en")


async def test_export_log_writes_every_message_as_stored_without_clear_personal_data(ops, admin, tmp_path):
    email = f"export-{uuid.uuid4().hex[:8]}@example.ru"
    inv = await invite(ops, admin)
    member_id, _, _ = await register(ops, inv["token"], email=email,
                                     full_name="Ефросинья Шифрованная")
    await settle(ops)
    path = tmp_path / "log.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        n = await hrm.export_log(ops.nats_url, f)
    info = await ops.services["onboarding"].js.stream_info(EVENTS_STREAM)
    text = path.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert n == len(lines) == info.state.messages
    assert [r["seq"] for r in lines] == sorted({r["seq"] for r in lines})
    assert email not in text and "Ефросинья" not in text
    registered = next(r for r in lines if r["subject"] == f"hr.evt.onboarding.member.{member_id}"
                      and r["envelope"]["type"] == "MemberRegistered")
    assert registered["headers"]["Hr-Event-Type"] == "MemberRegistered"
    assert registered["envelope"]["pii"] and "email" not in registered["envelope"]["payload"]


async def test_the_console_script(ops, admin, tmp_path):
    rc, out, err = await run_hrm("status", "--nats", ops.nats_url)
    assert rc == 0, err
    assert rows_of(out)[("groups", "directory")]["state"] == "up"

    path = tmp_path / "log.jsonl"
    rc, _, err = await run_hrm("export-log", "--out", str(path), env={"HRM_NATS_URL": ops.nats_url})
    assert rc == 0, err
    info = await ops.services["onboarding"].js.stream_info(EVENTS_STREAM)
    assert len(path.read_text(encoding="utf-8").splitlines()) == info.state.messages
    assert f"exported {info.state.messages} messages" in err

    creds = {"HRM_API_URL": ops.base_url, "HRM_ADMIN_EMAIL": ADMIN_EMAIL, "HRM_ADMIN_PASSWORD": ADMIN_PASSWORD}
    rc, out, err = await run_hrm("invite", "--max-uses", "1", env=creds)
    assert rc == 0, err
    await register(ops, out.splitlines()[0].rsplit("/", 1)[1])

    rc, out, err = await run_hrm("invite", "--password", "wrong-password", "--lang", "en", env=creds)
    assert (rc, out, err) == (1, "", "hrm: Wrong e-mail or password.\n")
    rc, _, err = await run_hrm("status", "--nats", "nats://127.0.0.1:1")
    assert rc == 1 and "cannot reach NATS" in err
