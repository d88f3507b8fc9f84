"""Every string and list a client can send is bounded (issue "The edge and the bus", point 6):
walked over every command and query model, so a field added without a limit fails here."""

from __future__ import annotations

import typing

import annotated_types
import pytest
from pydantic import BaseModel

from libs.contracts import groups, onboarding
from libs.contracts.rpc import Request

MODELS = [*onboarding.COMMANDS, *onboarding.QUERIES, *groups.QUERIES, *groups.COMMANDS, Request]


def _bounded(metadata, kind: str) -> bool:
    for m in metadata:
        if isinstance(m, annotated_types.MaxLen):
            return True
        if kind == "str" and getattr(m, "max_length", None) is not None:
            return True
        if kind == "str" and getattr(m, "pattern", None) and str(m.pattern).endswith("}$"):
            return True  # a pattern with a bounded repetition (ids, UUIDs)
    return False


def unbounded(model: type[BaseModel]) -> list[str]:
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
        walk(field.annotation, list(field.metadata), f"{model.__name__}.{name}")
    return out


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_string_and_list_has_a_limit(model):
    assert unbounded(model) == []
