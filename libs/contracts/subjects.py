"""Subject names: the only place that spells them."""

from __future__ import annotations

EVENTS_STREAM = "HR_EVENTS"
EVENTS_ROOT = "hr.evt"
DEADLETTER_STREAM = "HR_DEADLETTER"
DEADLETTER_ROOT = "hr.dlq"
PII_KEYS_BUCKET = "hr_pii_keys"


def event_subject(service: str, aggregate: str, aggregate_id: str) -> str:
    return f"{EVENTS_ROOT}.{service}.{aggregate}.{aggregate_id}"


def events_of(service: str, aggregate: str = "*") -> str:
    return f"{EVENTS_ROOT}.{service}.{aggregate}.*"


def command_subject(service: str, command: str) -> str:
    return f"hr.cmd.{service}.{command}"


def query_subject(service: str, query: str) -> str:
    return f"hr.qry.{service}.{query}"


def control_subject(service: str, verb: str) -> str:
    """Operators' requests to a service (status, rebuild)."""
    return f"hr.ctl.{service}.{verb}"


def deadletter_subject(service: str, consumer: str) -> str:
    return f"{DEADLETTER_ROOT}.{service}.{consumer}"


def aggregate_id_of(subject: str) -> str:
    return subject.rsplit(".", 1)[1]


def valid_token(token: str) -> bool:
    """A subject token may not hold separators or wildcards."""
    return bool(token) and not any(c in token for c in ".*> \t\r\n")
