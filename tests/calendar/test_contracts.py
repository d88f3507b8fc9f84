"""The calendar's contracts, not registered yet, checked as the registered ones are: bounded strings and
lists, events in the past tense, every command and query with its service and reply, names free across
the platform, times kept in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from libs.contracts import calendar as c
from libs.contracts.registry import EVENT_TYPES
from tests.contracts.test_limits import unbounded


@pytest.mark.parametrize("model", [*c.COMMANDS, *c.QUERIES, c.EventPlan], ids=lambda m: m.__name__)
def test_every_string_and_list_a_client_sends_has_a_limit(model):
    assert unbounded(model) == []


def test_names_and_replies():
    for e in c.EVENTS:
        assert re.search(r"(ed|Given|Left|Withdrawn|Sent|Set)(?=[A-Z]|$)", e.type_name), e
        assert EVENT_TYPES[e.type_name] is e, f"{e.type_name} is another's, or not in the catalog"
        assert e.pii_fields <= set(e.model_fields), e
    for model in (*c.COMMANDS, *c.QUERIES):
        assert model.service == c.SERVICE and model.reply_model in c.REPLIES, model
    assert len({m.type_name for m in (*c.EVENTS, *c.COMMANDS, *c.QUERIES)}) == \
        len(c.EVENTS) + len(c.COMMANDS) + len(c.QUERIES)


def test_times_come_with_their_offset_and_are_kept_in_utc():
    yekt = timezone(timedelta(hours=5))
    plan = c.EventPlan(kind="research", title="Опрос", starts_at=datetime(2027, 3, 1, 10, tzinfo=yekt),
                       ends_at=datetime(2027, 3, 1, 11, tzinfo=yekt), capacity=5, host_id="anna")
    assert plan.starts_at == datetime(2027, 3, 1, 5, tzinfo=UTC) and plan.starts_at.tzinfo == UTC
    with pytest.raises(ValidationError):
        c.EventPlan(kind="research", title="Опрос", starts_at=datetime(2027, 3, 1, 10),
                    ends_at=datetime(2027, 3, 1, 11), capacity=5, host_id="anna")


@pytest.mark.parametrize("fields", [
    {"call_link": "http://meet.example/r"}, {"call_link": "javascript:alert(1)"}, {"capacity": -1},
    {"title": ""}, {"title": "a\u202eb"}, {"host_id": "a.b"}, {"answers": tuple(f"r-{i}" for i in range(51))},
])
def test_a_plan_is_refused_at_the_edge(fields):
    base = {"kind": "online_meeting", "title": "Встреча", "starts_at": datetime(2027, 3, 1, 10, tzinfo=UTC),
            "ends_at": datetime(2027, 3, 1, 11, tzinfo=UTC), "call_link": "https://meet.example/r", "capacity": 5,
            "host_id": "anna"}
    with pytest.raises(ValidationError):
        c.EventPlan(**{**base, **fields})


def test_a_season_zone_must_exist_and_the_defaults_are_the_communitys():
    with pytest.raises(ValidationError):
        c.StartSeasonPlanning(season_id="2027-spring", title="Весна", time_zone="Mars/Olympus")
    assert c.StartSeasonPlanning(season_id="2027-spring", title="Весна").time_zone == "Asia/Yekaterinburg"
    assert c.default_dates("2027-spring") == (datetime(2027, 2, 15).date(), datetime(2027, 7, 1).date())
    assert c.default_dates("2027-autumn") == (datetime(2027, 8, 15).date(), datetime(2027, 12, 15).date())
    assert c.default_dates("spring") is None and c.default_dates("27-spring") is None
