from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from docgen.schemas import render, schemas
from libs.contracts import onboarding
from libs.contracts.registry import EVENT_TYPES, UnknownEvent, UnsupportedVersion, decode_payload
from services.gateway.i18n import MESSAGES

ROOT = Path(__file__).resolve().parents[2]


def test_published_json_schemas_are_current():
    for name, schema in schemas().items():
        path = ROOT / "docs" / "schemas" / name
        assert path.exists(), f"{name} missing: run make schemas"
        assert path.read_text(encoding="utf-8") == render(schema), f"{name} is stale: run make schemas"


def test_events_are_past_tense_and_commands_imperative():
    for e in EVENT_TYPES:
        assert re.search(r"(ed|Given|Left|Withdrawn|Sent|Set|Taken|Written)(?=[A-Z]|$)", e), e
    for c in (*onboarding.COMMANDS,):
        assert not c.type_name.endswith("ed"), c.type_name


def test_contracts_are_frozen():
    e = onboarding.RulesAcknowledged(member_id="m")
    with pytest.raises(ValidationError):
        e.member_id = "other"


def test_personal_data_fields_exist_on_their_events():
    for cls in EVENT_TYPES.values():
        assert cls.pii_fields <= set(cls.model_fields), cls.type_name


def test_decoding_refuses_unknown_types_and_future_versions():
    with pytest.raises(UnknownEvent):
        decode_payload("Nope", 1, {})
    with pytest.raises(UnsupportedVersion):
        decode_payload("RulesAcknowledged", 2, {"member_id": "m"})
    assert decode_payload("RulesAcknowledged", 1, {"member_id": "m"}) == onboarding.RulesAcknowledged(member_id="m")


def test_every_error_code_a_service_raises_has_words_for_people():
    codes = set()
    for path in (ROOT / "services").rglob("*.py"):
        codes |= set(re.findall(r'(?:Invalid|Forbidden|NotFound|Conflict|Unauthorized|RateLimited)\("([a-z_]+)"', path.read_text()))
    codes |= set(re.findall(r'code="([a-z_]+)"', (ROOT / "libs" / "kit" / "rpc.py").read_text()))
    assert codes, "no error codes found: the scan is broken"
    missing = sorted(codes - set(MESSAGES))
    assert not missing, f"no ru/en message for {missing}"
    for ru, en in MESSAGES.values():
        assert re.search("[а-яА-Я]", ru) and en.isascii()


def test_event_type_names_are_unique_across_the_platform():
    from libs.contracts.base import Event, ServiceContracts
    from libs.contracts.registry import CATALOG, DuplicateEventType, index_events

    names = [e.type_name for c in CATALOG for e in c.events]
    assert len(names) == len(set(names))

    class MemberRegistered(Event):  # another service's event of the same name
        member_id: str

    with pytest.raises(DuplicateEventType, match="MemberRegistered"):
        index_events([*CATALOG, ServiceContracts("intruder", events=(MemberRegistered,))])


def test_every_command_and_query_declares_its_service_and_reply():
    from libs.contracts.registry import CATALOG

    for contracts in CATALOG:
        for model in (*contracts.commands, *contracts.queries):
            assert model.service == contracts.service, model
            assert model.reply_model is not None and model.reply_model in contracts.replies, model
