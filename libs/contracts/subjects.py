"""Subject names: the only place that spells them.

Every token that goes into a subject is checked here again, whatever the
edge already checked: a wildcard or a dot in an id would address other
aggregates (``hr.evt.onboarding.member.*``).
"""

from __future__ import annotations

import re

EVENTS_STREAM = "HR_EVENTS"
EVENTS_ROOT = "hr.evt"
DEADLETTER_STREAM = "HR_DEADLETTER"
DEADLETTER_ROOT = "hr.dlq"
#: per-member keys of personal data: one subject per data subject, erasable in place
PII_KEYS_STREAM = "HR_PII_KEYS"
PII_KEYS_ROOT = "hr.pii.key"
#: broadcast after a key is shredded: every process drops it from its cache
PII_SHREDDED_SUBJECT = "hr.pii.shredded"
#: each member's live stream (chat, and later every notification): one subject per member
NOTIFY_STREAM = "HR_NOTIFY"
NOTIFY_ROOT = "hr.ntf"
#: a core-NATS nudge after an item is stored on a member's stream: whoever serves that stream reads on
NOTIFY_WAKE_ROOT = "hr.ntfw"
#: the key-value bucket of earlier versions (deny_delete: its bytes could not be erased); migrated by provisioning
LEGACY_PII_KEYS_BUCKET = "hr_pii_keys"

_TOKEN = re.compile(r"^[A-Za-z0-9_:=\-]{1,200}$")


class InvalidSubjectToken(ValueError):
    pass


def token(value: str) -> str:
    """``value`` if it is safe as one subject token, else InvalidSubjectToken."""
    if not isinstance(value, str) or not _TOKEN.match(value):
        raise InvalidSubjectToken(f"not a valid subject token: {value!r:.80}")
    return value


def valid_token(value: str) -> bool:
    return bool(isinstance(value, str) and _TOKEN.match(value))


def event_subject(service: str, aggregate: str, aggregate_id: str) -> str:
    return f"{EVENTS_ROOT}.{token(service)}.{token(aggregate)}.{token(aggregate_id)}"


def events_of(service: str, aggregate: str = "*") -> str:
    return f"{EVENTS_ROOT}.{token(service)}.{aggregate if aggregate in ('*', '>') else token(aggregate)}.*"


def events_of_every_service(aggregate: str) -> str:
    """One aggregate's events in every service (the parts of a member's data, docs/adr/0024): the service
    is the subject's second token, which only that service may publish."""
    return f"{EVENTS_ROOT}.*.{token(aggregate)}.*"


def service_of(subject: str) -> str:
    """The service an event's subject belongs to."""
    return subject.split(".")[2]


def command_subject(service: str, command: str) -> str:
    return f"hr.cmd.{token(service)}.{token(command)}"


def query_subject(service: str, query: str) -> str:
    return f"hr.qry.{token(service)}.{token(query)}"


def control_subject(service: str, verb: str) -> str:
    """Operators' requests to a service (status, rebuild, replay)."""
    return f"hr.ctl.{token(service)}.{token(verb)}"


def deadletter_subject(service: str, consumer: str) -> str:
    return f"{DEADLETTER_ROOT}.{token(service)}.{token(consumer)}"


def pii_key_subject(data_subject: str) -> str:
    return f"{PII_KEYS_ROOT}.{token(data_subject)}"


def notify_subject(member_id: str) -> str:
    return f"{NOTIFY_ROOT}.{token(member_id)}"


def notify_wake_subject(member_id: str) -> str:
    return f"{NOTIFY_WAKE_ROOT}.{token(member_id)}"


def inbox_prefix(client: str) -> str:
    """Each process's private reply subjects (`_INBOX_<client>.>`): no one else may subscribe to them."""
    return f"_INBOX_{token(client)}"


def aggregate_id_of(subject: str) -> str:
    return subject.rsplit(".", 1)[1]
