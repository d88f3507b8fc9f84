"""Every event type by name, and the upcasters that lift old schema versions.

The catalog lists each service's contracts once; an event type name must be unique across the
platform (it is all a consumer sees of a message's kind), so a duplicate is refused at import.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from typing import Any

import libs.contracts
from libs.contracts.base import Event, ServiceContracts

#: the modules of libs/contracts that belong to no service
SHARED = frozenset({"base", "envelope", "errors", "my_data", "registry", "rpc", "subjects", "types"})


def _catalog() -> tuple[ServiceContracts, ...]:
    """Every contract module that declares a service's CONTRACTS: adding the module adds the service."""
    found = []
    for info in sorted(pkgutil.iter_modules(libs.contracts.__path__), key=lambda i: i.name):
        if info.name in SHARED:
            continue
        module = importlib.import_module(f"libs.contracts.{info.name}")
        contracts = getattr(module, "CONTRACTS", None)
        if isinstance(contracts, ServiceContracts):
            found.append(contracts)
    return tuple(found)


CATALOG: tuple[ServiceContracts, ...] = _catalog()


class DuplicateEventType(TypeError):
    pass


def index_events(catalog: Iterable[ServiceContracts]) -> dict[str, type[Event]]:
    out: dict[str, type[Event]] = {}
    for contracts in catalog:
        for e in contracts.events:
            if e.type_name in out and out[e.type_name] is not e:
                raise DuplicateEventType(f"event type {e.type_name!r} of {contracts.service} is taken by "
                                         f"{out[e.type_name].__module__}.{out[e.type_name].__qualname__}")
            out[e.type_name] = e
    return out


EVENT_TYPES: dict[str, type[Event]] = index_events(CATALOG)

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
