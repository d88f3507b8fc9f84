"""Every event type by name, and the upcasters that lift old schema versions."""

from __future__ import annotations

from typing import Any, Callable

from libs.contracts import groups, onboarding
from libs.contracts.base import Event

EVENT_TYPES: dict[str, type[Event]] = {e.type_name: e for e in (*onboarding.EVENTS, *groups.EVENTS)}

#: (type, version) -> function lifting a payload of that version by one
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}


class UnknownEvent(ValueError):
    pass


class UnsupportedVersion(ValueError):
    pass


def decode_payload(type_name: str, version: int, payload: dict[str, Any]) -> Event:
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise UnknownEvent(type_name)
    if version > cls.schema_version or version < 1:
        raise UnsupportedVersion(f"{type_name} v{version}")
    while version < cls.schema_version:
        payload = UPCASTERS[(type_name, version)](payload)
        version += 1
    return cls.model_validate(payload)
