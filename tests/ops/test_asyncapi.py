"""docs/asyncapi.json: current, complete, and served by the gateway."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest

from docgen import asyncapi
from hrm import cli as hrm
from libs.contracts.base import Query
from libs.contracts.registry import EVENT_TYPES
from libs.contracts.subjects import EVENTS_ROOT, control_subject
from services.gateway.app import create_app
from services.gateway.settings import Settings as GatewaySettings
from services.groups.app import bootstrap as groups_bootstrap
from services.groups.settings import Settings as GroupsSettings
from services.registry import domain_services
from tests.e2e.helpers import settle
from tests.e2e.journey import admin_token, invite, ready_for_review

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "asyncapi.json"


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads(COMMITTED.read_text(encoding="utf-8"))


def _resolve(doc: dict, ref: str):
    node = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for v in node.values():
            yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def _event_channels(doc: dict) -> dict[str, set[str]]:
    """address -> event types documented on it"""
    return {
        ch["address"]: {_resolve(doc, m["$ref"])["name"] for m in ch["messages"].values()}
        for ch in doc["channels"].values()
        if (ch.get("address") or "").startswith(EVENTS_ROOT + ".")
    }


def test_committed_document_equals_a_fresh_generation():
    assert COMMITTED.read_text(encoding="utf-8") == asyncapi.render(asyncapi.document()), (
        "docs/asyncapi.json is stale: run make asyncapi"
    )


def test_document_is_consistent(doc):
    assert doc["asyncapi"] == "3.0.0"
    for ref in _refs(doc):
        assert ref.startswith("#/"), ref
        _resolve(doc, ref)  # raises KeyError when dangling
    for op_id, op in doc["operations"].items():
        assert op["action"] in ("send", "receive"), op_id
        assert op["tags"] and op["tags"][0]["name"] in {d.name for d in domain_services()}, op_id
        channel_ref = op["channel"]["$ref"]
        for m in op.get("messages", []):
            assert m["$ref"].startswith(channel_ref + "/messages/"), (op_id, m)
    for cid, ch in doc["channels"].items():
        for param in ch.get("parameters", {}):
            assert "{" + param + "}" in ch["address"], cid


def test_every_event_type_is_on_exactly_one_aggregate_channel(doc):
    channels = _event_channels(doc)
    for type_name in EVENT_TYPES:
        holders = [address for address, types in channels.items() if type_name in types]
        assert len(holders) == 1, (type_name, holders)
    assert set(channels) == {
        "hr.evt.onboarding.invitation.{invitation_id}", "hr.evt.onboarding.member.{member_id}",
        "hr.evt.groups.group.{group_id}", "hr.evt.groups.membership.{membership_id}",
        "hr.evt.groups.working_group.{working_group_id}", "hr.evt.groups.announcement.{announcement_id}",
        "hr.evt.groups.author.{author_id}", "hr.evt.groups.message.{message_id}",
        "hr.evt.groups.read_mark.{read_mark_id}", "hr.evt.groups.conversation.{conversation_id}",
        "hr.evt.groups.blocklist.{blocklist_id}", "hr.evt.groups.task.{task_id}",
        "hr.evt.groups.drive.{drive_id}",
        "hr.evt.calendar.season.{season_id}", "hr.evt.calendar.registration.{registration_id}",
        "hr.evt.calendar.feed.{feed_id}", "hr.evt.calendar.author.{author_id}",
        "hr.evt.calendar.game_teams.{game_teams_id}", "hr.evt.calendar.research.{research_id}",
        "hr.evt.roles.window.{window_id}", "hr.evt.roles.picks.{picks_id}", "hr.evt.roles.vacancy.{vacancy_id}",
        "hr.evt.feedback.game.{game_id}", "hr.evt.feedback.feedback.{feedback_id}",
        "hr.evt.feedback.help_request.{help_request_id}", "hr.evt.feedback.author.{author_id}",
        "hr.evt.feedback.season_report.{season_report_id}",
    }


def test_commands_are_wrapped_in_the_request_envelope_and_personal_data_is_not_in_payloads(doc):
    msg = doc["components"]["messages"]["onboarding.RegisterMember"]
    assert msg["payload"]["allOf"][0] == {"$ref": "#/components/schemas/Request"}
    assert msg["payload"]["allOf"][1]["properties"]["body"] == {"$ref": "#/components/schemas/RegisterMember"}
    registered = doc["components"]["schemas"]["MemberRegistered"]
    assert registered["x-personal-data"] == ["email", "full_name", "password_hash"]
    assert not {"email", "full_name", "password_hash"} & set(registered["properties"])
    assert doc["operations"]["onboarding.cmd.RegisterMember"]["reply"]["messages"] == [
        {"$ref": "#/channels/replies/messages/Reply"}]


async def test_every_subject_a_running_service_listens_on_is_documented(platform, doc):
    assert set(platform.services) == set(asyncapi.bootstraps())
    for name, svc in platform.services.items():
        in_use = await asyncapi.subjects_in_use(svc)
        # what the broker and JetStream really hold, not only the registrations
        assert control_subject(name, "status") in in_use and control_subject(name, "rebuild") in in_use
        assert set(svc.subjects["consumers"]) <= in_use
        assert asyncapi.undocumented(doc, name, in_use) == [], f"{name}: run make asyncapi"


def test_an_undocumented_subscriber_is_reported(doc):
    svc = groups_bootstrap(GroupsSettings())  # built, not started: nothing connects
    assert asyncapi.undocumented(doc, "groups", asyncapi.subjects_of(svc)) == []

    class PingGroups(Query):
        pass

    async def handler(*_args):
        return None

    svc.query(PingGroups)(handler)
    # groups hears the calendar's seasons (it announces their events): documented; their registrations: not
    assert "hr.evt.calendar.season.*" in asyncapi.subjects_of(svc)
    svc.policy("registration_audit", ["hr.evt.calendar.registration.*"])(handler)
    # the channel exists, but groups is not documented as receiving from it
    svc.policy("invitation_watch", ["hr.evt.onboarding.invitation.*"])(handler)
    assert asyncapi.undocumented(doc, "groups", asyncapi.subjects_of(svc)) == [
        "hr.evt.calendar.registration.*", "hr.evt.onboarding.invitation.*", "hr.qry.groups.PingGroups"]


async def test_every_event_in_the_log_is_documented_on_its_channel(platform, doc):
    admin = await admin_token(platform)
    member_id, _ = await ready_for_review(platform, admin)
    async with platform.client(admin) as c:
        assert (await c.post(f"/v1/moderation/{member_id}/decision", json={"decision": "grant"})).status_code == 200
    await invite(platform, admin)
    await settle(platform)
    out = io.StringIO()
    await hrm.export_log(platform.nats_url, out)
    channels = _event_channels(doc)
    services = tuple(f"{EVENTS_ROOT}.{name}." for name in asyncapi.bootstraps())
    seen = set()
    for line in out.getvalue().splitlines():
        record = json.loads(line)
        envelope = record["envelope"]
        if not record["subject"].startswith(services):
            continue  # tests of the event store append to subjects of made-up services
        if not isinstance(envelope, dict) or envelope.get("type") not in EVENT_TYPES:
            continue  # garbage that other tests put on the bus on purpose
        documented = [types for address, types in channels.items() if asyncapi.overlap(record["subject"], address)]
        assert documented and envelope["type"] in documented[0], (record["subject"], envelope["type"])
        seen.add(envelope["type"])
    assert {"InvitationIssued", "InvitationUsed", "MemberRegistered", "AccessGranted", "GroupCreated",
            "MemberJoinedGroup", "MemberLeftGroup"} <= seen


async def test_the_gateway_serves_the_document(platform, doc):
    async with platform.client() as c:
        r = await c.get("/asyncapi.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == doc


async def test_the_gateway_reads_the_path_from_its_settings(tmp_path):
    other = tmp_path / "bus.json"
    other.write_text('{"asyncapi": "3.0.0"}', encoding="utf-8")
    for path, status in ((other, 200), (tmp_path / "missing.json", 404)):
        app = create_app(GatewaySettings(asyncapi_path=path, log_level="WARNING"))
        # no lifespan: this route needs no bus
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
            r = await c.get("/asyncapi.json")
        assert r.status_code == status
        if status == 200:
            assert r.json() == {"asyncapi": "3.0.0"}
        else:
            assert r.headers["content-type"].startswith("application/problem+json")
