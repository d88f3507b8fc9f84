"""The AsyncAPI 3.0 document of the bus, generated from the code: `make asyncapi`.

    python -m docgen.asyncapi [OUT]      write it (default docs/asyncapi.json)
    python -m docgen.asyncapi --check    exit 1 when the file on disk is stale

It lives here, not in libs/contracts, because it reads the services
themselves: each service is built with its bootstrap (building connects to
nothing) and the document is made of what the service registered —

- commands and queries (``svc.subjects``), wrapped in the rpc ``Request``
  envelope, answered with a ``Reply`` on the requester's inbox;
- the control subjects every service answers (hr.ctl.<service>.status,
  hr.ctl.<service>.rebuild);
- the event subjects it appends to, one channel per aggregate
  (hr.evt.<service>.<aggregate>.{<aggregate>_id}), found as the ``Decider``
  objects in the service's modules, each carrying its event types;
- its projections and policies: what they receive (their filter subjects
  matched against the event channels) and their dead-letter subject
  hr.dlq.<service>.<consumer>.

Payload schemas come from the pydantic contracts. Output is deterministic
(sorted keys), so tests/ops can compare the committed file with a fresh one.
``undocumented`` and ``subjects_in_use`` check a service against a document.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import pkgutil
import sys
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

import libs.contracts
from libs.contracts.base import Command, Event, Query
from libs.contracts.envelope import CORRELATION_HEADER, EVENT_TYPE_HEADER, SCHEMA_VERSION_HEADER, Envelope
from libs.contracts.registry import EVENT_TYPES
from libs.contracts.rpc import Reply, Request
from libs.contracts.subjects import (
    DEADLETTER_STREAM,
    EVENTS_ROOT,
    EVENTS_STREAM,
    NOTIFY_ROOT,
    NOTIFY_STREAM,
    NOTIFY_WAKE_ROOT,
    command_subject,
    control_subject,
    deadletter_subject,
    query_subject,
)
from libs.kit.consumers import Consumer
from libs.kit.decider import Decider
from libs.kit.service import Service

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "asyncapi.json"
REPLIES = "replies"
NATS_BINDING_VERSION = "0.1.0"


def bootstraps() -> dict[str, Callable[[], Service]]:
    """Every service that runs on the bus, by name (services/registry.py)."""
    from services.registry import domain_services

    return {d.name: d.bootstrap for d in domain_services() if d.bootstrap is not None}


# ---------------------------------------------------------------- subjects


def _tokens(subject: str) -> list[str]:
    # a channel parameter {x} stands for one token, like the wildcard *
    return ["*" if t.startswith("{") and t.endswith("}") else t for t in subject.split(".")]


def overlap(a: str, b: str) -> bool:
    """Whether two NATS subjects (wildcards * and >, or {parameters}) can name one message."""
    ta, tb = _tokens(a), _tokens(b)
    for x, y in zip(ta, tb, strict=False):
        if x == ">" or y == ">":
            return True
        if x != y and "*" not in (x, y):
            return False
    return len(ta) == len(tb)


def subjects_of(svc: Service) -> set[str]:
    """What a service subscribes to, from its registrations alone (no bus needed)."""
    return {s for group in svc.subjects.values() for s in group} | {
        control_subject(svc.name, verb) for verb in ("status", "rebuild", "replay")}


async def subjects_in_use(svc: Service) -> set[str]:
    """What a started service really listens on: its FastStream subscribers and
    the filter subjects of its durable consumers as JetStream holds them."""
    out = set(svc.subjects["commands"]) | set(svc.subjects["queries"]) | set(svc.subjects["consumers"])
    if svc.broker is not None:
        for sub in svc.broker.subscribers:
            address = getattr(sub, "subject", None)
            subject = getattr(address, "broker_address", None) or str(address or "")
            out.update([subject] if subject else list(getattr(sub, "filter_subjects", ()) or ()))
    for sub in getattr(svc, "_control_subs", ()):  # rebuild and replay: plain subscriptions of every replica
        out.add(sub.subject)
    for runner in svc.runners:
        out.update(runner.c.subjects)
        info = await svc.js.consumer_info(EVENTS_STREAM, runner.durable)
        out.update(info.config.filter_subjects or ([info.config.filter_subject] if info.config.filter_subject else []))
    return out


def undocumented(doc: dict, service: str, subjects: Iterable[str]) -> list[str]:
    """Subjects ``service`` listens on that no receive operation of it documents."""
    addresses = []
    for op in doc.get("operations", {}).values():
        if op.get("action") != "receive" or service not in {t["name"] for t in op.get("tags", [])}:
            continue
        channel = doc["channels"][op["channel"]["$ref"].rsplit("/", 1)[1]]
        if channel.get("address"):
            addresses.append(channel["address"])
    return sorted({s for s in subjects if not any(overlap(s, a) for a in addresses)})


# ---------------------------------------------------------------- sources


def contract_modules() -> list[Any]:
    """Every module of libs.contracts that belongs to a service (has SERVICE)."""
    out = []
    for info in sorted(pkgutil.iter_modules(libs.contracts.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"libs.contracts.{info.name}")
        if isinstance(getattr(module, "SERVICE", None), str):
            out.append(module)
    return out


def aggregates_of(service: str) -> list[Decider]:
    """The deciders defined in the modules a service's bootstrap imported."""
    found: dict[str, Decider] = {}
    prefix = f"services.{service}."
    for name, module in sorted(sys.modules.items()):
        if module is None or not name.startswith(prefix):
            continue
        for value in vars(module).values():
            if isinstance(value, Decider) and value.service == service:
                found[value.name] = value
    return [found[k] for k in sorted(found)]


def _summary(cls: type) -> str:
    return (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/{kind}/{name}"}


def _channel_message_ref(channel: str, message: str) -> dict:
    return {"$ref": f"#/channels/{channel}/messages/{message}"}


# ---------------------------------------------------------------- the document


def _schemas(models: list[type]) -> dict[str, dict]:
    _, top = models_json_schema([(m, "validation") for m in models], ref_template="#/components/schemas/{model}")
    schemas = top["$defs"]
    for cls in models:
        if issubclass(cls, Event):
            # on the bus the payload lacks the personal data: it rides encrypted in the envelope's `pii`
            s = schemas[cls.__name__]
            for field in cls.pii_fields:
                s.get("properties", {}).pop(field, None)
            if "required" in s:
                s["required"] = [r for r in s["required"] if r not in cls.pii_fields]
            s["x-event-type"] = cls.type_name
            s["x-schema-version"] = cls.schema_version
            s["x-personal-data"] = sorted(cls.pii_fields)
            if cls.pii_fields:
                s["description"] = (
                    (s.get("description", "") + "\n\n").lstrip()
                    + f"Personal data ({', '.join(sorted(cls.pii_fields))}) is not in the payload: it travels"
                    " encrypted in the envelope's `pii` with the data subject's key (crypto-shredding)."
                )
    return schemas


def _string(description: str, **extra: Any) -> dict:
    return {"type": "string", "description": description, **extra}


def _rpc_headers() -> dict:
    return {
        "type": "object",
        "properties": {
            CORRELATION_HEADER: _string("correlation id of the user action"),
            "traceparent": _string("W3C trace context"),
        },
    }


def _event_headers(event: type[Event]) -> dict:
    return {
        "type": "object",
        "properties": {
            "Nats-Msg-Id": _string("= event_id: a re-sent append is stored once", format="uuid"),
            EVENT_TYPE_HEADER: _string("the event type, for routing without parsing", const=event.type_name),
            SCHEMA_VERSION_HEADER: _string("schema version of the payload", const=str(event.schema_version)),
            CORRELATION_HEADER: _string("correlation id of the user action"),
            "Nats-Expected-Last-Subject-Sequence": _string(
                "optimistic concurrency: the aggregate's last sequence (0 = new); on the first message of an append"),
            "Nats-Batch-Id": _string("atomic batch of a command yielding several events"),
            "Nats-Batch-Sequence": _string("position in the atomic batch, from 1"),
            "Nats-Batch-Commit": _string("on the last message of an atomic batch", const="1"),
            "traceparent": _string("W3C trace context"),
        },
        "required": ["Nats-Msg-Id", EVENT_TYPE_HEADER, SCHEMA_VERSION_HEADER, CORRELATION_HEADER],
    }


CONTROL_SCHEMAS: dict[str, dict] = {
    "ControlStatusRequest": {"type": "object", "description": "Empty: ask a service for its consumers' state."},
    "ControlStatusReply": {
        "type": "object",
        "required": ["service", "consumers"],
        "properties": {
            "service": {"type": "string"},
            "replica": {"type": "string", "description": "which process answered"},
            "starting": {"type": "boolean",
                         "description": "true until the start hooks ran and every consumer is up: not ready"},
            "consumers": {"type": "array", "items": {
                "type": "object",
                "required": ["name", "kind", "state", "checkpoint", "lag", "dead_letters"],
                "properties": {
                    "name": {"type": "string"},
                    "kind": {"type": "string", "enum": ["policy", "projection"]},
                    "state": {"type": "string", "enum": ["running", "standby", "stalled", "stopped"],
                              "description": "stalled: held at one event by a passing cause, retried"},
                    "checkpoint": {"type": "integer", "description": "last applied stream sequence"},
                    "lag": {"type": ["integer", "null"], "description": "events pending or unacknowledged"},
                    "dead_letters": {"type": "integer", "description": "messages of this consumer in HR_DEADLETTER"},
                    "stalled": {
                        "type": "object", "description": "present while stalled",
                        "properties": {"reason": {"type": "string"}, "seq": {"type": "integer"},
                                       "since": {"type": "number"}, "attempts": {"type": "integer"},
                                       "for_s": {"type": "number"}},
                    },
                    "rebuild": {
                        "type": "object", "description": "present while a rebuild runs",
                        "properties": {"target_seq": {"type": "integer"},
                                       "progress": {"type": "number", "minimum": 0, "maximum": 1}},
                    },
                },
            }},
        },
    },
    "ControlRebuildRequest": {
        "type": "object",
        "properties": {"projection": {"type": "string", "description": "one projection; all when absent"}},
    },
    "ControlRebuildReply": {
        "type": "object",
        "required": ["ok"],
        "properties": {
            "ok": {"type": "boolean"},
            "error": {"type": "string"},
            "rebuilding": {"type": "array", "items": {
                "type": "object", "properties": {"projection": {"type": "string"}, "target_seq": {"type": "integer"}}}},
        },
    },
    "ControlReplayRequest": {
        "type": "object",
        "properties": {"consumer": {"type": "string", "description": "one consumer; all when absent"}},
    },
    "ControlReplayReply": {
        "type": "object",
        "required": ["ok"],
        "properties": {"ok": {"type": "boolean"}, "error": {"type": "string"},
                       "replayed": {"type": "array", "items": {"type": "object"}}},
    },
    "DeadLetter": {"description": "The message as it arrived on the event subject, unchanged (maybe not JSON)."},
}


def _version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


DESCRIPTION = """The message bus of the HR-mnenie platform (NATS with JetStream), generated from the code by
`make asyncapi` (python -m docgen.asyncapi).

- Commands `hr.cmd.<service>.<Command>` and queries `hr.qry.<service>.<Query>` are NATS request/reply in a
  queue group per service: the body is wrapped in the rpc `Request` (the caller's token, which the service
  verifies, correlation id, deadline, Idempotency-Key, `after_seq` for read-your-writes); the answer on the
  requester's inbox is a `Reply` (`seq` = consistency token, or a typed error, declared per command and query).
- Events live in the stream `HR_EVENTS`, one subject per aggregate instance `hr.evt.<service>.<aggregate>.<id>`;
  each message is an `Envelope` whose `type` names the event. Personal data rides encrypted in `pii`.
  Projections and policies read them through durable pull consumers `<service>_<consumer>`.
- A message a consumer can never apply (undecodable, undecryptable, unknown type, invalid payload) goes,
  unchanged, to `hr.dlq.<service>.<consumer>` (stream `HR_DEADLETTER`); any other failure is retried.
- Personal-data keys live one per subject `hr.pii.key.<member>` in the stream `HR_PII_KEYS` (onboarding writes
  and erases them; every service reads them by direct get); `hr.pii.shredded` tells every process to drop one.
- Operators ask `hr.ctl.<service>.status`, `hr.ctl.<service>.rebuild` and `hr.ctl.<service>.replay` (the `hrm` CLI).

Operations are tagged with the service that performs them."""


def document() -> dict:
    builders = bootstraps()
    services = {name: build() for name, build in builders.items()}
    modules = contract_modules()
    commands: dict[str, type[Command]] = {}
    queries: dict[str, type[Query]] = {}
    for m in modules:
        commands.update({command_subject(m.SERVICE, c.type_name): c for c in getattr(m, "COMMANDS", ())})
        queries.update({query_subject(m.SERVICE, q.type_name): q for q in getattr(m, "QUERIES", ())})
    aggregates = {name: aggregates_of(name) for name in services}
    events = sorted(EVENT_TYPES.values(), key=lambda e: e.type_name)

    channels: dict[str, dict] = {}
    operations: dict[str, dict] = {}
    messages: dict[str, dict] = {}

    # the requester's inbox: every reply
    messages["Reply"] = {
        "name": "Reply",
        "title": "Reply to a command or query",
        "payload": _ref("components/schemas", "Reply"),
    }
    for name, title in (
        ("ControlStatusReply", "A service's consumers"),
        ("ControlRebuildReply", "Rebuild started"),
        ("ControlReplayReply", "Dead letters replayed"),
    ):
        messages[name] = {"name": name, "title": title, "payload": _ref("components/schemas", name)}
    channels[REPLIES] = {
        "address": None,
        "title": "Reply inbox",
        "description": "The requester's own inbox (NATS request/reply `_INBOX.<id>`), named in each request.",
        "messages": {
            k: _ref("components/messages", k)
            for k in ("Reply", "ControlStatusReply", "ControlRebuildReply", "ControlReplayReply")
        },
    }

    def reply(*names: str) -> dict:
        return {"channel": _ref("channels", REPLIES), "messages": [_channel_message_ref(REPLIES, n) for n in names]}

    # event channels: one per aggregate, with every event type its stream carries
    event_channels: dict[str, str] = {}  # channel id -> address
    for service, aggs in aggregates.items():
        for agg in aggs:
            param = f"{agg.name}_id"
            cid = f"{EVENTS_ROOT}.{agg.service}.{agg.name}"
            address = f"{cid}.{{{param}}}"  # a channel parameter, not an id the subject builder would accept
            event_channels[cid] = address
            keys = {}
            for e in sorted(agg.events, key=lambda e: e.type_name):
                key = f"{e.type_name}.v{e.schema_version}"
                keys[e.type_name] = _ref("components/messages", key)
                messages[key] = {
                    "name": e.type_name,
                    "title": e.type_name,
                    "summary": _summary(e) or f"{e.type_name} (event)",
                    "headers": _event_headers(e),
                    "payload": {
                        "allOf": [
                            _ref("components/schemas", "Envelope"),
                            {
                                "type": "object",
                                "properties": {
                                    "type": {"const": e.type_name},
                                    "schema_version": {"const": e.schema_version},
                                    "payload": _ref("components/schemas", e.__name__),
                                },
                            },
                        ]
                    },
                    "x-personal-data": sorted(e.pii_fields),
                }
            channels[cid] = {
                "address": address,
                "title": f"{service}: {agg.name} events",
                "description": f"The event stream of one {agg.name} aggregate of {service} (stream {EVENTS_STREAM}).",
                "parameters": {param: {"description": f"id of the {agg.name}"}},
                "messages": keys,
            }
            operations[f"{service}.append.{agg.name}"] = {
                "action": "send",
                "channel": _ref("channels", cid),
                "title": f"Append {agg.name} events",
                "description": "Load, decide, append with Nats-Expected-Last-Subject-Sequence; several events of one "
                "decision go in one atomic batch.",
                "messages": [_channel_message_ref(cid, k) for k in keys],
                "tags": [{"name": service}],
            }

    for service, svc in services.items():
        # commands and queries
        for kind, subjects, models in (
            ("cmd", svc.subjects["commands"], commands),
            ("qry", svc.subjects["queries"], queries),
        ):
            for subject in sorted(subjects):
                model = models.get(subject)
                if model is None:
                    raise ValueError(f"{service} listens on {subject}, which names no contract in libs/contracts")
                key = f"{service}.{model.type_name}"
                messages[key] = {
                    "name": model.type_name,
                    "title": model.type_name,
                    "summary": _summary(model) or f"{model.type_name} ({'command' if kind == 'cmd' else 'query'})",
                    "headers": _rpc_headers(),
                    "payload": {
                        "allOf": [
                            _ref("components/schemas", "Request"),
                            {"type": "object", "properties": {"body": _ref("components/schemas", model.__name__)}},
                        ]
                    },
                }
                channels[subject] = {
                    "address": subject,
                    "messages": {model.type_name: _ref("components/messages", key)},
                }
                operations[f"{service}.{kind}.{model.type_name}"] = {
                    "action": "receive",
                    "channel": _ref("channels", subject),
                    "messages": [_channel_message_ref(subject, model.type_name)],
                    "reply": reply("Reply"),
                    "bindings": {"nats": {"queue": service, "bindingVersion": NATS_BINDING_VERSION}},
                    "tags": [{"name": service}],
                }

        # operators' control subjects
        for verb, request, answer, queue in (
            ("status", "ControlStatusRequest", "ControlStatusReply", False),
            ("rebuild", "ControlRebuildRequest", "ControlRebuildReply", False),
            ("replay", "ControlReplayRequest", "ControlReplayReply", False),
        ):
            subject = control_subject(service, verb)
            messages[request] = {"name": request, "title": request, "payload": _ref("components/schemas", request)}
            channels[subject] = {"address": subject, "messages": {request: _ref("components/messages", request)}}
            op: dict[str, Any] = {
                "action": "receive",
                "channel": _ref("channels", subject),
                "messages": [_channel_message_ref(subject, request)],
                "reply": reply(answer),
                "summary": {
                    "status": "Every consumer's state, checkpoint, lag, stall, dead letters and rebuild "
                    "progress (every replica answers)",
                    "rebuild": "Drop projections' read models and replay the log into them (every replica "
                    "receives it; the one holding a projection's lease acts and answers)",
                    "replay": "After a fix: apply a consumer's dead letters again (a projection is rebuilt)",
                }[verb],
                "tags": [{"name": service}],
            }
            if queue:
                op["bindings"] = {"nats": {"queue": service, "bindingVersion": NATS_BINDING_VERSION}}
            operations[f"{service}.ctl.{verb}"] = op

        # projections and policies: what they receive, where they dead-letter
        for consumer in sorted(svc.consumers, key=lambda c: c.name):
            _document_consumer(service, consumer, event_channels, channels, operations, messages)

    # members' live streams (docs/adr/0017): what a service tells each member, and the nudge after it
    for service, svc in sorted(services.items()):
        if not svc.tells_members:
            continue
        for subject, name, title, description in (
            (f"{NOTIFY_ROOT}.{{member_id}}", "MemberStreamItem", "An item on a member's live stream",
             f"Stored in {NOTIFY_STREAM} (30 days; purged on the member's erasure), read through the groups "
             "service's ReadStream query and served by the gateway as server-sent events. The JSON object "
             "has `kind` (as StreamItem), `event_id`, the group, thread, message or conversation it concerns "
             "and the member's unread counts after it; a message's text is `sealed` with its author's key. "
             "Nats-Msg-Id `<event_id>:<member_id>`: a redelivered event tells nobody twice."),
            (f"{NOTIFY_WAKE_ROOT}.{{member_id}}", "MemberStreamNudge", "A member's stream has a new item",
             "Core NATS, empty: published after each stored item; the gateway wakes the member's open streams."),
        ):
            messages[name] = {"name": name, "title": title, "description": description,
                              "payload": {"type": "object"} if name == "MemberStreamItem" else {"type": "null"}}
            channels[subject] = {"address": subject, "parameters": {"member_id": {"description": "a member's id"}},
                                 "messages": {name: _ref("components/messages", name)}}
            operations[f"{service}.tell.{name}"] = {
                "action": "send", "channel": _ref("channels", subject), "summary": title,
                "messages": [_channel_message_ref(subject, name)], "tags": [{"name": service}]}

    schema_models = [
        Envelope,
        Request,
        Reply,
        *events,
        *sorted({*commands.values(), *queries.values()}, key=lambda m: m.__name__),
    ]
    schemas = _schemas(schema_models)
    schemas.update(copy.deepcopy(CONTROL_SCHEMAS))

    return {
        "asyncapi": "3.0.0",
        "id": "urn:hr-mnenie:bus",
        "info": {
            "title": "HR-mnenie message bus",
            "version": _version(),
            "description": DESCRIPTION,
            "tags": [{"name": name, "description": f"the {name} service"} for name in sorted(services)],
        },
        "defaultContentType": "application/json",
        "servers": {
            "embedded": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": "`make run`: nats-server with JetStream in ./var",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _document_consumer(
    service: str, consumer: Consumer, event_channels: dict[str, str], channels: dict, operations: dict, messages: dict
) -> None:
    durable = f"{service}_{consumer.name}"  # as libs.kit.consumers.Runner names it
    jetstream = {
        "stream": EVENTS_STREAM,
        "durable": durable,
        "kind": consumer.kind,
        "filter_subjects": sorted(consumer.subjects),
        "ack": "explicit",
    }
    for filter_subject in sorted(consumer.subjects):
        matched = sorted(cid for cid, address in event_channels.items() if overlap(filter_subject, address))
        if not matched:
            raise ValueError(
                f"{service}.{consumer.name} filters on {filter_subject}, which matches no event "
                "channel: give its aggregate a Decider with its events"
            )
        for cid in matched:
            operations[f"{service}.{consumer.name}.receive.{cid}"] = {
                "action": "receive",
                "channel": _ref("channels", cid),
                "title": f"{consumer.kind} {consumer.name}",
                "summary": f"Durable pull consumer {durable} on {filter_subject}",
                "tags": [{"name": service}],
                "x-jetstream": jetstream,
            }
    subject = deadletter_subject(service, consumer.name)
    messages["DeadLetter"] = {
        "name": "DeadLetter",
        "title": "Dead letter",
        "summary": "A message a consumer could not handle, as it arrived, with the reason",
        "headers": {
            "type": "object",
            "properties": {
                "Hr-Dlq-Reason": _string("why: malformed (and how) or the handler's last error"),
                "Hr-Dlq-Subject": _string("the event subject it came from"),
                "Hr-Dlq-Seq": _string("its sequence in HR_EVENTS"),
                "Hr-Dlq-Consumer": _string("the durable consumer that gave up"),
                "Nats-Msg-Id": _string("dlq-<consumer>-<seq>: dead-lettered once"),
            },
            "required": ["Hr-Dlq-Reason", "Hr-Dlq-Subject", "Hr-Dlq-Seq", "Hr-Dlq-Consumer"],
        },
        "payload": _ref("components/schemas", "DeadLetter"),
    }
    channels[subject] = {
        "address": subject,
        "title": f"dead letters of {service}.{consumer.name}",
        "description": f"Stream {DEADLETTER_STREAM}.",
        "messages": {"DeadLetter": _ref("components/messages", "DeadLetter")},
    }
    operations[f"{service}.{consumer.name}.deadletter"] = {
        "action": "send",
        "channel": _ref("channels", subject),
        "messages": [_channel_message_ref(subject, "DeadLetter")],
        "summary": "Malformed, or failed max_deliver times: kept here, then acknowledged",
        "tags": [{"name": service}],
    }


def render(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docgen.asyncapi", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default=str(DEFAULT_OUT), help="where to write (default docs/asyncapi.json)")
    parser.add_argument("--check", action="store_true", help="only compare: exit 1 when the file is stale")
    args = parser.parse_args(argv)
    text = render(document())
    path = Path(args.out)
    if args.check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is stale: run make asyncapi", file=sys.stderr)
            return 1
        print(f"{path} is current")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    doc = json.loads(text)
    print(
        f"wrote {path}: {len(doc['channels'])} channels, {len(doc['operations'])} operations, "
        f"{len(doc['components']['messages'])} messages"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
