"""Every string and list a client can send is bounded (issue "The edge and the bus", point 6):
walked over every command and query model of every service in the contracts catalog (and the models they
nest, as the calendar's grid events nest their plan), so a field, or a service, added without a limit fails
here."""

from __future__ import annotations

import typing

import annotated_types
import pytest
from pydantic import BaseModel

from libs.contracts.registry import CATALOG
from libs.contracts.rpc import Request

MODELS = [*(m for contracts in CATALOG for m in (*contracts.commands, *contracts.queries)), Request]


def test_every_service_of_the_catalog_is_walked():
    assert {c.service for c in CATALOG} >= {"onboarding", "groups", "calendar", "roles"}
    assert all(c.commands for c in CATALOG), [c.service for c in CATALOG if not c.commands]


def _bounded(metadata, kind: str) -> bool:
    for m in metadata:
        if isinstance(m, annotated_types.MaxLen):
            return True
        if kind == "str" and getattr(m, "max_length", None) is not None:
            return True
        if kind == "str" and getattr(m, "pattern", None) and str(m.pattern).endswith("}$"):
            return True  # a pattern with a bounded repetition (ids, UUIDs)
    return False


def unbounded(model: type[BaseModel], seen: frozenset[type] = frozenset()) -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        def walk(tp, meta, where):
            origin = typing.get_origin(tp)
            if origin is typing.Annotated:
                inner, *extra = typing.get_args(tp)
                return walk(inner, [*meta, *extra], where)
            if origin in (typing.Union, __import__("types").UnionType):
                for arg in typing.get_args(tp):
                    if arg is not type(None):
                        walk(arg, meta, where)
                return
            if tp is str:
                if not _bounded(meta, "str"):
                    out.append(where)
                return
            if origin in (tuple, list, set, frozenset):
                if not _bounded(meta, "list"):
                    out.append(where)
                for arg in typing.get_args(tp):
                    if arg is not Ellipsis:
                        walk(arg, [], where + "[]")
                return
            if origin is dict:
                return  # Request.body: the gateway's body limit bounds it; its model is checked here too
            if isinstance(tp, type) and issubclass(tp, BaseModel) and tp not in seen:
                # a nested model's fields, named through this field: AddGridEvent.plan.title
                out.extend(f"{where}.{inner.partition('.')[2]}" for inner in unbounded(tp, seen | {model}))
                return
        walk(field.annotation, list(field.metadata), f"{model.__name__}.{name}")
    return out


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_string_and_list_has_a_limit(model):
    assert unbounded(model) == []
