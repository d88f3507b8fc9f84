"""The operators' CLI against a real platform of its own (its services may be
stopped and started here without disturbing the other tests).

Its nats-server has users: the platform runs as one that may do anything, and
every `hrm` command runs as ``operator`` (or ``provisioner``) with the
permissions deploy/nats/nats-server.conf gives them, read from that file: a
command that asks for more than a deployment allows fails here too."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import re
import sqlite3
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from hrm import cli as hrm
from libs.contracts.subjects import DEADLETTER_STREAM, EVENTS_STREAM
from libs.kit.natsserver import NatsServer
from tests.e2e.helpers import settle
from tests.e2e.journey import admin_token, invite, ready_for_review, register
from tests.e2e.test_calendar import new_season_id, plan
from tests.platform_harness import ADMIN_EMAIL, ADMIN_PASSWORD, Platform

HRM = Path(sys.executable).parent / "hrm"
NATS_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nats" / "nats-server.conf"
USERS = {"platform": None, "operator": "OPERATOR", "provisioner": "PROVISIONER"}


def deployed_permissions(block: str) -> str:
    """A user's permissions block (``OPERATOR = {...}``) as the deployment's config spells it."""
    m = re.search(rf"^  {block} = (\{{.*?^  \}})", NATS_CONF.read_text(encoding="utf-8"), re.M | re.S)
    assert m, f"no {block} block in {NATS_CONF}"
    return m[1]


@dataclass(frozen=True)
class Bus:
    port: int
    passwords: dict[str, str]

    def url(self, user: str) -> str:
        return f"nats://{user}:{self.passwords[user]}@127.0.0.1:{self.port}"

    @property
    def operator(self) -> str:
        return self.url("operator")


@pytest.fixture(scope="module")
def bus(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ops-nats")
    passwords = {user: uuid.uuid4().hex for user in USERS}
    blocks = "\n".join(f"  {block} = {deployed_permissions(block)}" for block in USERS.values() if block)
    users = "\n".join(
        f'    {{ user: {user}, password: "{passwords[user]}"' + (f", permissions: ${block} }}" if block else " }")
        for user, block in USERS.items())
    conf = tmp / "nats-server.conf"
    conf.write_text(f"authorization {{\n{blocks}\n  users = [\n{users}\n  ]\n}}\n", encoding="utf-8")
    server = NatsServer(tmp / "jetstream", config=conf).start()
    yield Bus(server.port, passwords)
    server.stop()


@pytest.fixture(scope="module")
async def ops(bus, tmp_path_factory):
    p = await Platform(bus.url("platform"), tmp_path_factory.mktemp("ops-data")).start()
    yield p
    await p.stop()


@pytest.fixture(scope="module")
async def admin(ops):
    return await admin_token(ops)


COLUMNS = ("state", "kind", "checkpoint", "lag", "consumer_state", "dead_letters")


def rows_of(table: str) -> dict[tuple[str, str], dict[str, str]]:
    """(service, consumer) -> the row's cells by name, ``note`` with its words joined by one space."""
    rows = {}
    for line in table.splitlines():
        cells = line.split()
        if len(cells) >= 8 and cells[1] in ("up", "down"):
            rows[(cells[0], cells[2])] = {**dict(zip(COLUMNS, (cells[1], *cells[3:8]))), "note": " ".join(cells[8:])}
    return rows


async def status_rows(p: Platform, bus: Bus) -> tuple[int, dict, str]:
    out = io.StringIO()
    rc = await hrm.status(bus.operator, out, timeout=1.0)
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


async def until(check, timeout: float = 15.0, what: str = ""):
    """Call ``check`` until it returns something true; that value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got = await check()
        if got:
            return got
        assert loop.time() < deadline, what
        await asyncio.sleep(0.1)


def _matches(pattern: str, subject: str) -> bool:
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(p) == len(s)


async def test_status_shows_a_stopped_service_lagging_then_catching_up(ops, bus, admin):
    await settle(ops)
    rc, rows, table = await status_rows(ops, bus)
    assert rc == 0, table
    assert table.splitlines()[-1] == "ok: every service is up and no consumer is stalled"
    members = rows[("onboarding", "members")]
    assert members == {"state": "up", "kind": "projection", "checkpoint": members["checkpoint"], "lag": "0",
                       "consumer_state": "running", "dead_letters": "0", "note": ""}, table
    assert rows[("groups", "base_groups")]["kind"] == "policy"
    assert all(r["lag"] == "0" and r["consumer_state"] == "running" for r in rows.values()), table

    await ops.stop_service("groups")
    try:
        lags = []
        for _ in range(2):
            await newcomer(ops, admin)  # onboarding appends; nobody in groups reads it
            rc, rows, table = await status_rows(ops, bus)
            assert rc == 1, table
            assert "groups is down" in table
            assert table.splitlines()[-1] == "NOT OK: groups is down", table
            assert rows[("onboarding", "members")]["state"] == "up"
            assert rows[("onboarding", "members")]["lag"] == "0" or rows[("onboarding", "members")]["lag"].isdigit()
            # read from JetStream, each durable by the name the service's code registers:
            # the durable consumers outlive their service
            assert {name for svc, name in rows if svc == "groups"} == {"actors", "base_groups", "directory", "groups",
                                                                       "working_groups", "main_announcements",
                                                                       "erased_authors", "chat", "chat_stream",
                                                                       "read_mark_stream", "conversation_stream",
                                                                       "erased_streams", "tasks",
                                                                       "task_assignments_stream", "drive",
                                                                       "drive_objects", "timers_drive_bin",
                                                                       "calendar_announcements", "role_boards",
                                                                       "data_requests"}
            assert rows[("groups", "directory")]["state"] == "down"
            assert rows[("groups", "directory")]["consumer_state"] == "down"
            assert rows[("groups", "directory")]["dead_letters"] == "0"
            assert rows[("groups", "base_groups")]["kind"] == "policy"  # known from the registrations
            lags.append((int(rows[("groups", "directory")]["lag"]), int(rows[("groups", "base_groups")]["lag"])))
        assert 0 < lags[0][0] < lags[1][0] and 0 < lags[0][1] < lags[1][1], lags
    finally:
        await ops.start_service("groups")

    async def caught_up():
        rc, rows, table = await status_rows(ops, bus)
        return rc == 0 and all(r["lag"] == "0" for r in rows.values()) and rows

    rows = await until(caught_up, what="groups did not catch up")
    assert rows[("groups", "directory")]["state"] == "up"
    assert rows[("groups", "directory")]["consumer_state"] == "running"


#: the calendar's durable consumers and their kinds, as its code registers them
CALENDAR_CONSUMERS = {"actors": "projection", "calendar": "projection", "working_groups": "projection",
                      "erased_authors": "policy", "calendar_tells": "policy", "calendar_leavers": "policy",
                      "timers_team_offers": "projection",  # a durable timer keeps its schedule as a projection
                      "season_reports_roles": "projection", "season_reports_feedback": "projection",
                      "data_requests": "policy"}


async def test_status_shows_the_calendar_down_lagging_on_members_then_catching_up(ops, bus, admin):
    """The calendar's consumers by name and kind; stopped, it lags on what onboarding appends (the actors it
    knows, the leavers it takes out of events, erased authors) and not on its own log, which no one writes."""
    await settle(ops)
    rc, rows, table = await status_rows(ops, bus)
    assert rc == 0, table
    assert {name: r["kind"] for (svc, name), r in rows.items() if svc == "calendar"} == CALENDAR_CONSUMERS, table
    assert rows[("groups", "calendar_announcements")]["kind"] == "policy"
    await ops.stop_service("calendar")
    try:
        await newcomer(ops, admin)
        rc, rows, table = await status_rows(ops, bus)
        assert rc == 1 and table.splitlines()[-1] == "NOT OK: calendar is down", table
        assert {name for svc, name in rows if svc == "calendar"} == set(CALENDAR_CONSUMERS), table
        assert all(rows[("calendar", name)]["state"] == "down" for name in CALENDAR_CONSUMERS), table
        for name in ("actors", "calendar_leavers", "erased_authors"):
            assert int(rows[("calendar", name)]["lag"]) > 0, (name, table)
        for name in ("calendar", "calendar_tells"):
            assert rows[("calendar", name)]["lag"] == "0", (name, table)
    finally:
        await ops.start_service("calendar")

    async def caught_up():
        rc, rows, table = await status_rows(ops, bus)
        return rc == 0 and all(r["lag"] == "0" for r in rows.values()) and rows

    rows = await until(caught_up, what="the calendar did not catch up")
    assert all(rows[("calendar", name)]["consumer_state"] == "running" for name in CALENDAR_CONSUMERS)


#: the roles service's durable consumers and their kinds, as its code registers them
ROLES_CONSUMERS = {"actors": "projection", "roles": "projection", "seasons": "projection",
                   "working_groups": "projection", "timers_pick_windows": "projection", "roles_windows": "policy",
                   "roles_reports": "policy", "roles_leavers": "policy", "roles_group_leavers": "policy",
                   "feedback_seen": "projection", "data_requests": "policy"}


async def test_status_shows_the_roles_service_down_lagging_on_a_closed_season_then_opening_its_window(
        ops, bus, admin):
    """Stopped, the roles service lags on what onboarding appends (the actors it knows, the leavers whose picks
    it gives up) and on the season the calendar closes meanwhile (the seasons it shows, the policy that opens
    the pick window), not on its own log; started again it catches up, and the window that closing opens is
    open: a season closed while the service was away is not lost."""
    await settle(ops)
    rc, rows, table = await status_rows(ops, bus)
    assert rc == 0, table
    assert {name: r["kind"] for (svc, name), r in rows.items() if svc == "roles"} == ROLES_CONSUMERS, table
    season_id = new_season_id()
    async with ops.client(admin) as c:
        assert (await c.post("/v1/seasons", json={"season_id": season_id, "title": "Роли"})).status_code == 201
        host = (await c.get("/v1/me")).json()["member_id"]
        assert (await c.post(f"/v1/seasons/{season_id}/events", json=plan(season_id, host))).status_code == 201
        assert (await c.post(f"/v1/seasons/{season_id}/open")).status_code == 200
    await settle(ops)
    await ops.stop_service("roles")
    try:
        await newcomer(ops, admin)
        async with ops.client(admin) as c:
            assert (await c.post(f"/v1/seasons/{season_id}/close")).status_code == 200
        rc, rows, table = await status_rows(ops, bus)
        assert rc == 1 and table.splitlines()[-1] == "NOT OK: roles is down", table
        assert {name for svc, name in rows if svc == "roles"} == set(ROLES_CONSUMERS), table
        assert all(rows[("roles", name)]["state"] == "down" for name in ROLES_CONSUMERS), table
        for name in ("actors", "roles_leavers", "seasons", "roles_windows"):
            assert int(rows[("roles", name)]["lag"]) > 0, (name, table)
        for name in ("roles", "timers_pick_windows", "roles_reports", "working_groups", "roles_group_leavers"):
            assert rows[("roles", name)]["lag"] == "0", (name, table)
    finally:
        await ops.start_service("roles")

    async def caught_up():
        rc, rows, table = await status_rows(ops, bus)
        return rc == 0 and all(r["lag"] == "0" for r in rows.values()) and rows

    rows = await until(caught_up, what="the roles service did not catch up")
    assert all(rows[("roles", name)]["consumer_state"] == "running" for name in ROLES_CONSUMERS)
    await settle(ops)
    async with ops.client(admin) as c:
        window = (await c.get("/v1/roles/window")).json()
    assert (window["status"], window["season_id"]) == ("open", f"{season_id[:4]}-autumn"), window


#: the feedback service's durable consumers and their kinds, as its code registers them
FEEDBACK_CONSUMERS = {"actors": "projection", "feedback": "projection", "working_groups": "projection",
                      "erased_authors": "policy", "feedback_games": "policy", "feedback_publishing": "policy",
                      "feedback_reports": "policy", "data_requests": "policy"}


async def test_status_shows_the_feedback_service_down_lagging_on_the_calendars_game_then_keeping_it(
        ops, bus, admin):
    """Stopped, the feedback service lags on what onboarding appends (the actors it knows, the erased authors
    it forgets) and on what the calendar appends meanwhile (a game scheduled, the games it keeps; its season
    closed, the season it reports), not on its own log; started again it catches up: the game scheduled while
    it was away is kept, and the season closed meanwhile is reported in the calendar's results."""
    await settle(ops)
    rc, rows, table = await status_rows(ops, bus)
    assert rc == 0, table
    assert {name: r["kind"] for (svc, name), r in rows.items() if svc == "feedback"} == FEEDBACK_CONSUMERS, table
    assert rows[("calendar", "season_reports_feedback")]["kind"] == "projection"
    assert rows[("roles", "feedback_seen")]["kind"] == "projection"
    season_id = new_season_id()
    async with ops.client(admin) as c:
        assert (await c.post("/v1/seasons", json={"season_id": season_id, "title": "Игры"})).status_code == 201
        host = (await c.get("/v1/me")).json()["member_id"]
    await ops.stop_service("feedback")
    try:
        await newcomer(ops, admin)
        game = {**plan(season_id, host, title="Игра HR-ВЛИЯНИЕ", capacity=4), "kind": "game",
                "place": "Екатеринбург", "call_link": None}
        async with ops.client(admin) as c:
            added = await c.post(f"/v1/seasons/{season_id}/events", json=game)
            assert added.status_code == 201, added.text
            game_id = added.json()["event_id"]
            assert (await c.post(f"/v1/seasons/{season_id}/open")).status_code == 200
            assert (await c.post(f"/v1/seasons/{season_id}/close")).status_code == 200
        rc, rows, table = await status_rows(ops, bus)
        assert rc == 1 and table.splitlines()[-1] == "NOT OK: feedback is down", table
        assert {name for svc, name in rows if svc == "feedback"} == set(FEEDBACK_CONSUMERS), table
        assert all(rows[("feedback", name)]["state"] == "down" for name in FEEDBACK_CONSUMERS), table
        for name in ("actors", "erased_authors", "feedback_games", "feedback_reports"):
            assert int(rows[("feedback", name)]["lag"]) > 0, (name, table)
        for name in ("feedback", "feedback_publishing", "working_groups"):
            assert rows[("feedback", name)]["lag"] == "0", (name, table)
    finally:
        await ops.start_service("feedback")

    async def caught_up():
        rc, rows, table = await status_rows(ops, bus)
        return rc == 0 and all(r["lag"] == "0" for r in rows.values()) and rows

    rows = await until(caught_up, what="the feedback service did not catch up")
    assert all(rows[("feedback", name)]["consumer_state"] == "running" for name in FEEDBACK_CONSUMERS)
    await settle(ops)
    async with ops.client(admin) as c:
        kept = await c.get(f"/v1/games/{game_id}")
        assert kept.status_code == 200, kept.text
        assert (kept.json()["status"], kept.json()["season_id"]) == ("scheduled", season_id), kept.text
        assert (await c.post(f"/v1/seasons/{season_id}/results")).status_code == 200

        async def published():
            # the publication is a command: the results' read model shows it a moment later (404 until then)
            r = await c.get(f"/v1/seasons/{season_id}/results")
            assert r.status_code in (200, 404), r.text
            return r.json() if r.status_code == 200 else None

        results = await until(published, what="the season's results were not published")
    figures = {line["key"]: line["value"] for line in results["reports"] if line["source"] == "feedback"}
    # the report counts the game the service kept on its return, though its games policy caught up beside
    # the report's (both behind the close): the report waits for it
    assert figures and (figures["games"], figures["rounds"]) == (1, 0), results


#: the notifications service's durable consumers and their kinds, as its code registers them (its two
#: durable timers, the outbox's e-mails and digests, and the reminders' and overdue tasks' keep their
#: schedules as projections)
NOTIFICATIONS_CONSUMERS = {"actors": "projection", "working_groups": "projection", "notifications": "projection",
                           "contacts": "projection", "calendar_facts": "projection", "task_facts": "projection",
                           "feedback_facts": "projection", "timers_emails": "projection",
                           "timers_digests": "projection", "timers_reminders": "projection",
                           "timers_overdue_tasks": "projection", "tell_onboarding": "policy",
                           "tell_groups": "policy", "tell_calendar": "policy", "tell_feedback": "policy",
                           "tell_roles": "policy", "data_requests": "policy"}


async def test_status_shows_the_notifications_service_down_lagging_on_an_applicant_then_telling_the_moderators(
        ops, bus, admin):
    """Up, the notifications service shows its consumers and its mail server's row (kind channel: the
    e-mails waiting as its lag; here no mail server is configured and nothing waits). Stopped, it lags on
    what onboarding appends (the actors it knows, the addresses it keeps, the decisions and applicants it
    tells of), not on its own log (its notifications, its outbox's timers), and no mail server row is read
    from JetStream; started again it catches up, and the applicant whose profile was completed meanwhile is
    in the admin's notifications."""
    await settle(ops)
    rc, rows, table = await status_rows(ops, bus)
    assert rc == 0, table
    assert {name: r["kind"] for (svc, name), r in rows.items() if svc == "notifications"} == {
        **NOTIFICATIONS_CONSUMERS, "mail_server": "channel"}, table
    assert (rows[("notifications", "mail_server")]["lag"], rows[("notifications", "mail_server")]["consumer_state"]) \
        == ("0", "running"), table
    await ops.stop_service("notifications")
    try:
        applicant, _ = await ready_for_review(ops, admin)
        rc, rows, table = await status_rows(ops, bus)
        assert rc == 1 and table.splitlines()[-1] == "NOT OK: notifications is down", table
        assert {name for svc, name in rows if svc == "notifications"} == set(NOTIFICATIONS_CONSUMERS), table
        assert all(rows[("notifications", name)]["state"] == "down" for name in NOTIFICATIONS_CONSUMERS), table
        for name in ("actors", "contacts", "tell_onboarding"):
            assert int(rows[("notifications", name)]["lag"]) > 0, (name, table)
        for name in ("notifications", "timers_emails", "timers_digests"):
            assert rows[("notifications", name)]["lag"] == "0", (name, table)
    finally:
        await ops.start_service("notifications")

    async def caught_up():
        rc, rows, table = await status_rows(ops, bus)
        return rc == 0 and all(r["lag"] == "0" for r in rows.values()) and rows

    rows = await until(caught_up, what="the notifications service did not catch up")
    assert all(rows[("notifications", name)]["consumer_state"] == "running" for name in NOTIFICATIONS_CONSUMERS)

    async def told():
        async with ops.client(admin) as c:
            page = (await c.get("/v1/notifications")).json()
        return [n for n in page["items"] if n["kind"] == "new_applicant" and n["params"].get("member_id") == applicant]

    [notification] = await until(told, what="the admin was not told of the applicant")
    assert notification["read"] is False and notification["email"] is None, notification


INJECTED = "database or disk is full (injected by the test)"


def fail_checkpoints_of(db: Path, checkpoint: str) -> None:
    """From now on every commit of that consumer fails inside SQLite (its checkpoint is written
    with each batch), as a full disk would fail it: a passing cause, not the event's fault."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        for op in ("INSERT", "UPDATE"):
            conn.execute(f"CREATE TRIGGER hrm_test_stall_{op.lower()} BEFORE {op} ON checkpoints"
                         f" WHEN NEW.name = '{checkpoint}' BEGIN SELECT RAISE(ABORT, '{INJECTED}'); END")
        conn.commit()
    finally:
        conn.close()


def free_disk(db: Path) -> None:
    conn = sqlite3.connect(db, timeout=10)
    try:
        for op in ("insert", "update"):
            conn.execute(f"DROP TRIGGER IF EXISTS hrm_test_stall_{op}")
        conn.commit()
    finally:
        conn.close()


@pytest.mark.skipif(bool(os.environ.get("HRM_MONGO_URL")), reason="the failure is injected into a SQLite file")
async def test_a_stalled_consumer_fails_status_with_its_reason_until_it_recovers(ops, bus, admin):
    """A read model that cannot be written holds its consumer at one event, retried without end:
    `hrm status` names it, why and for how long, and exits 1; once writes work again the
    consumer carries on from that very event and status is clean again."""
    await settle(ops)
    db = ops.data_dir / "hr_groups.sqlite3"
    assert db.exists(), sorted(p.name for p in ops.data_dir.iterdir())
    fail_checkpoints_of(db, "projection:directory")
    try:
        member_id, _ = await newcomer(ops, admin)  # groups.directory must write the newcomer's name

        async def stalled():
            rc, rows, table = await status_rows(ops, bus)
            return rows[("groups", "directory")]["consumer_state"] == "stalled" and (rc, rows, table)

        rc, rows, table = await until(stalled, what="groups.directory never reported itself stalled")
        await asyncio.sleep(1.2)  # long enough to tell "for how long" apart from a blip
        rc, rows, table = await status_rows(ops, bus)
        assert rc == 1, table
        directory = rows[("groups", "directory")]
        assert directory["consumer_state"] == "stalled" and directory["state"] == "up"
        m = re.search(r"stalled for (\d+\.\d) s at seq (\d+) \((\d+) attempts\): (.*)$", directory["note"])
        assert m, table
        assert float(m[1]) >= 1.0 and int(m[3]) >= 2
        # held at the very event it cannot apply: the newcomer's registration, past its checkpoint
        held = await ops.services["onboarding"].js.get_msg(EVENTS_STREAM, int(m[2]))
        assert held.subject == f"hr.evt.onboarding.member.{member_id}"
        assert int(m[2]) > int(directory["checkpoint"])
        assert INJECTED in m[4] and "MemberRegistered" in m[4]
        lines = table.splitlines()
        assert lines[-1] == "NOT OK: 1 consumer(s) stalled: groups.directory", table
        assert lines[-2].startswith("groups.directory is stalled for ") and INJECTED in lines[-2]
        # the others go on
        assert rows[("onboarding", "members")]["consumer_state"] == "running"
        assert rows[("groups", "base_groups")]["consumer_state"] == "running"
        assert directory["dead_letters"] == "0"  # a passing cause is never dead-lettered

        rc, out, err = await run_hrm("status", "--nats", bus.operator)  # what a monitoring check sees
        assert rc == 1, (out, err)
        assert out.splitlines()[-1] == "NOT OK: 1 consumer(s) stalled: groups.directory"
        assert await ops.services["groups"].store.get("directory", member_id) is None  # not yet in the read model
    finally:
        free_disk(db)

    async def recovered():
        rc, rows, table = await status_rows(ops, bus)
        return rc == 0 and rows[("groups", "directory")]["lag"] == "0" and (rows, table)

    rows, table = await until(recovered, timeout=30, what="groups.directory did not recover")
    assert rows[("groups", "directory")]["consumer_state"] == "running"
    assert rows[("groups", "directory")]["note"] == ""
    assert table.splitlines()[-1] == "ok: every service is up and no consumer is stalled"
    # nothing was skipped: the event it was held at is applied
    assert (await ops.services["groups"].store.get("directory", member_id))["member_id"] == member_id


def test_the_stalled_line_reads_well_for_long_stalls_and_old_services():
    statuses = [
        hrm.ServiceStatus("groups", True, [
            {"name": "directory", "kind": "projection", "state": "stalled", "checkpoint": 41, "lag": 7,
             "dead_letters": 2, "stalled": {"reason": "cannot read the log: nats: timeout", "seq": 42,
                                            "since": time.time() - 4000, "attempts": 400, "for_s": 4000.0}},
            {"name": "groups", "kind": "projection", "state": "running", "checkpoint": 50, "lag": 0,
             "dead_letters": 0, "rebuild": {"target_seq": 100, "progress": 0.5}},
        ]),
        # a service of an earlier version reports neither state nor dead letters
        hrm.ServiceStatus("onboarding", True, [{"name": "members", "kind": "projection", "checkpoint": 9, "lag": 0}]),
    ]
    text = hrm.format_status(statuses)
    rows = rows_of(text)
    assert rows[("groups", "directory")]["note"] == (
        "stalled for 1 h 6 min at seq 42 (400 attempts): cannot read the log: nats: timeout")
    assert rows[("groups", "directory")]["dead_letters"] == "2"
    assert rows[("groups", "groups")]["note"] == "rebuilding 50%"
    assert rows[("onboarding", "members")]["consumer_state"] == "?"
    assert rows[("onboarding", "members")]["dead_letters"] == "?"
    assert text.splitlines()[-1] == "NOT OK: 1 consumer(s) stalled: groups.directory"
    assert [hrm.duration(s) for s in (0.04, 59.9, 61, 7322, 3 * 86400 + 7200)] == [
        "0.0 s", "59.9 s", "1 min 1 s", "2 h 2 min", "3 d 2 h"]


def dead_letter_rows(text: str) -> dict[str, list[tuple[int, str, str]]]:
    """consumer -> [(seq, subject, reason)] as `hrm deadletters` lists them."""
    out: dict[str, list[tuple[int, str, str]]] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^(\S+\.\S+) \((?:projection|policy|no longer registered)\): (\d+|no) dead letters?$", line)
        if m:
            current = out.setdefault(m[1], [])
            continue
        m = re.match(r"^  (\d+)\s+(\S+)\s+(\S+ \S+|\?)\s+(.*)$", line)
        if m and current is not None:
            current.append((int(m[1]), m[2], m[4].strip()))
    return out


async def test_deadletters_lists_what_could_never_be_applied_and_replay_reports(ops, bus, admin):
    await settle(ops)
    out = io.StringIO()
    assert await hrm.deadletters(bus.operator, out=out) == 0
    assert out.getvalue().splitlines()[-1] == "no dead letters"
    assert set(dead_letter_rows(out.getvalue())) >= {"onboarding.members", "groups.directory", "groups.base_groups"}

    subject = f"hr.evt.onboarding.member.garbage-{uuid.uuid4().hex[:8]}"
    ack = await ops.services["onboarding"].js.publish(subject, b"{not json")
    readers = {f"{name}.{r.c.name}" for name, svc in ops.services.items() for r in svc.runners
               if _matches(r.c.subject, subject)}
    assert {"onboarding.members", "groups.directory", "groups.base_groups"} <= readers
    await newcomer(ops, admin)  # the consumers carry on past it
    await settle(ops)

    out = io.StringIO()
    assert await hrm.deadletters(bus.operator, out=out) == len(readers)
    listed = dead_letter_rows(out.getvalue())
    for consumer in readers:
        assert listed[consumer] == [(ack.seq, subject, "invalid JSON")], out.getvalue()
    assert listed["onboarding.invitations"] == []
    assert out.getvalue().splitlines()[-1].startswith(f"{len(readers)} dead letter(s)")

    out = io.StringIO()
    await hrm.deadletters(bus.operator, "groups", out)
    assert {c.split(".")[0] for c in dead_letter_rows(out.getvalue())} == {"groups"}

    # the status table counts them
    rc, rows, table = await status_rows(ops, bus)
    assert rc == 0, table  # a dead letter stops nothing
    assert rows[("groups", "directory")]["dead_letters"] == "1"
    assert rows[("onboarding", "invitations")]["dead_letters"] == "0"

    # a policy re-runs the letter: still malformed, so it stays, and replay exits 1
    out = io.StringIO()
    assert await hrm.replay(bus.operator, "groups", "base_groups", out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == "groups.base_groups (policy): 0 applied, 1 still failing"
    assert lines[1] == f"  seq {ack.seq}: malformed: invalid JSON"
    assert lines[-1].startswith("NOT OK: some dead letters still fail")
    out = io.StringIO()
    await hrm.deadletters(bus.operator, "groups", out)
    assert dead_letter_rows(out.getvalue())["groups.base_groups"] == [(ack.seq, subject, "invalid JSON")]

    # a projection is rebuilt: its letters cleared, the log replayed
    out = io.StringIO()
    assert await hrm.replay(bus.operator, "onboarding", "members", out) == 0
    assert out.getvalue().startswith("onboarding.members (projection): 1 dead letter(s) cleared; rebuilding")

    async def rebuilt():
        rc, rows, table = await status_rows(ops, bus)
        return rc == 0 and rows[("onboarding", "members")]["lag"] == "0" and not rows[("onboarding", "members")]["note"]

    await until(rebuilt, what="onboarding.members did not finish its rebuild")

    with pytest.raises(hrm.CliError, match="no consumer named 'nope'"):
        await hrm.replay(bus.operator, "groups", "nope", io.StringIO())


async def test_a_replayed_projection_lists_again_what_still_cannot_be_applied(ops, bus):
    await settle(ops)
    subject = f"hr.evt.onboarding.member.garbage-{uuid.uuid4().hex[:8]}"
    ack = await ops.services["onboarding"].js.publish(subject, b"{not json")
    await settle(ops)
    assert await hrm.replay(bus.operator, "onboarding", "members", io.StringIO()) == 0

    async def rebuilt():
        rc, rows, table = await status_rows(ops, bus)
        return rows[("onboarding", "members")]["lag"] == "0" and not rows[("onboarding", "members")]["note"]

    await until(rebuilt, what="onboarding.members did not finish its rebuild")
    out = io.StringIO()
    await hrm.deadletters(bus.operator, "onboarding", out)
    assert (ack.seq, subject, "invalid JSON") in dead_letter_rows(out.getvalue())["onboarding.members"]


def test_replay_reports_what_applied():
    text, failing = hrm.format_replay("onboarding", [
        {"consumer": "erasures", "applied": 2, "still_failing": []},
        {"consumer": "members", "cleared": 3, "rebuilding": True},
    ])
    assert not failing
    lines = text.splitlines()
    assert lines[0] == "onboarding.erasures (policy): 2 applied, 0 still failing"
    assert lines[1].startswith("onboarding.members (projection): 3 dead letter(s) cleared; rebuilding from the log")
    text, _ = hrm.format_replay("onboarding", [{"consumer": "erasures", "applied": 0, "still_failing": []}])
    assert text == "onboarding.erasures (policy): no dead letters\n"


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
    # another client than the CLI's, without its consistency token: it reads once the views have the erasure
    # (without this wait the read raced the members projection: seen once as a 200)
    await settle(ops)
    async with ops.client(admin) as c:
        assert (await c.get(f"/v1/members/{member_id}")).status_code == 404
    async with ops.client() as c:
        assert (await c.post("/v1/auth/token", json={"email": email, "password": "s3cret-pass"})).status_code == 401

    with pytest.raises(hrm.CliError, match="^Member not found.$"):
        await hrm.erase(ops.base_url, "no-such-member", ADMIN_EMAIL, ADMIN_PASSWORD, out=io.StringIO(), lang="en")


async def test_export_log_writes_every_message_as_stored_without_clear_personal_data(ops, bus, admin, tmp_path):
    email = f"export-{uuid.uuid4().hex[:8]}@example.ru"
    inv = await invite(ops, admin)
    member_id, _, _ = await register(ops, inv["token"], email=email,
                                     full_name="Ефросинья Шифрованная")
    await settle(ops)
    path = tmp_path / "log.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        n = await hrm.export_log(bus.operator, f)
    info = await ops.services["onboarding"].js.stream_info(EVENTS_STREAM)
    text = path.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert n == len(lines) == info.state.messages
    assert [r["seq"] for r in lines] == sorted({r["seq"] for r in lines})
    assert email not in text and "Ефросинья" not in text
    registered = next(r for r in lines if r["subject"] == f"hr.evt.onboarding.member.{member_id}"
                      and r["envelope"]["type"] == "MemberRegistered")
    assert registered["headers"]["Hr-Event-Type"] == "MemberRegistered"
    # the headers the message was stored with, not those a direct get adds to its reply
    assert not any(k in r["headers"] for r in lines for k in ("Nats-Sequence", "Nats-Stream", "Nats-Time-Stamp"))
    assert registered["envelope"]["pii"] and "email" not in registered["envelope"]["payload"]


async def test_the_console_script(ops, bus, admin, tmp_path):
    rc, out, err = await run_hrm("status", "--nats", bus.operator)
    assert rc == 0, err
    assert rows_of(out)[("groups", "directory")]["state"] == "up"

    path = tmp_path / "log.jsonl"
    rc, _, err = await run_hrm("export-log", "--out", str(path), env={"HRM_NATS_URL": bus.operator})
    assert rc == 0, err
    info = await ops.services["onboarding"].js.stream_info(EVENTS_STREAM)
    assert len(path.read_text(encoding="utf-8").splitlines()) == info.state.messages
    assert f"exported {info.state.messages} messages" in err

    # the operator's environment is not a service's: its production checks do not apply to hrm
    rc, out, err = await run_hrm("deadletters", "onboarding", "--nats", bus.operator,
                                 env={"HRM_ENV": "production", "HRM_TOKEN_PRIVATE_KEY": ""})
    assert rc == 0, err
    assert "onboarding.invitations (projection): no dead letters" in out.splitlines()

    creds = {"HRM_API_URL": ops.base_url, "HRM_ADMIN_EMAIL": ADMIN_EMAIL, "HRM_ADMIN_PASSWORD": ADMIN_PASSWORD}
    rc, out, err = await run_hrm("invite", "--max-uses", "1", env=creds)
    assert rc == 0, err
    await register(ops, out.splitlines()[0].rsplit("/", 1)[1])

    rc, out, err = await run_hrm("invite", "--password", "wrong-password", "--lang", "en", env=creds)
    assert (rc, out, err) == (1, "", "hrm: Wrong e-mail or password.\n")
    rc, _, err = await run_hrm("status", "--nats", "nats://127.0.0.1:1")
    assert rc == 1 and "cannot reach NATS" in err


def provision_report(out: str) -> dict[str, str]:
    return dict(line.split() for line in out.splitlines() if len(line.split()) == 2)


async def test_provision_creates_then_changes_nothing_and_needs_the_provisioner(ops, bus, tmp_path):
    # as compose's provision step runs: production, the key-encryption key from the environment
    env = {"HRM_ENV": "production", "HRM_PII_KEK": base64.b64encode(os.urandom(32)).decode()}
    with NatsServer(tmp_path / "fresh") as fresh:
        rc, out, err = await run_hrm("provision", "--nats", fresh.url, env=env)
        assert rc == 0, err
        first = provision_report(out)
        assert {EVENTS_STREAM, DEADLETTER_STREAM, "HR_PII_KEYS", "hr_onboarding_emails"} <= set(first), out
        assert {v for k, v in first.items() if k != "legacy_keys_migrated"} == {"created"}, out

        rc, out, err = await run_hrm("provision", "--nats", fresh.url, env=env)
        assert rc == 0, err
        again = provision_report(out)
        assert again.keys() == first.keys()
        assert {v for k, v in again.items() if k != "legacy_keys_migrated"} <= {"ok", "updated"}, out
        assert "0 created" in out.splitlines()[-1]

    # the platform's own NATS, as the provisioner user: nothing to create, the log untouched
    js = ops.services["onboarding"].js
    before = (await js.stream_info(EVENTS_STREAM)).state
    rc, out, err = await run_hrm("provision", "--nats", bus.url("provisioner"), env=env)
    assert rc == 0, err
    assert "created" not in provision_report(out).values(), out
    after = (await js.stream_info(EVENTS_STREAM)).state
    assert (after.messages, after.first_seq) == (before.messages, before.first_seq)
    assert (await js.stream_info(EVENTS_STREAM)).config.deny_delete
    rc, _, table = await status_rows(ops, bus)
    assert rc == 0, table

    # the operator may read, not provision: the refusal is named
    rc, out, err = await run_hrm("provision", "--nats", bus.operator, env=env)
    assert rc == 1 and out == ""
    assert "permissions violation" in err and "needs the provisioner user" in err, err

    # production without the key-encryption key: refused before anything is touched
    rc, out, err = await run_hrm("provision", "--nats", bus.url("provisioner"), env={**env, "HRM_PII_KEK": ""})
    assert rc == 1 and out == "" and err.startswith("hrm: configuration refused:") and "HRM_PII_KEK" in err, err
