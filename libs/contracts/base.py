from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Event(Contract):
    """A fact, named in the past tense.

    ``pii_fields`` lists the payload fields that are personal data: they are
    encrypted with the data subject's key before the event reaches the log
    and read back as ``None`` once the key is shredded.
    """

    type_name: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1
    pii_fields: ClassVar[frozenset[str]] = frozenset()
    #: which payload field names the person whose key encrypts the PII
    pii_subject_field: ClassVar[str] = "member_id"
    #: the event erases a person: read models that applied it scrub deleted bytes from their files
    erases: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "type_name" not in cls.__dict__:
            cls.type_name = cls.__name__


class Command(Contract):
    """A request, named in the imperative. Declares the service that handles it and the model of its
    reply: the kit validates every answer against it, and the gateway's OpenAPI shows it."""

    type_name: ClassVar[str] = ""
    service: ClassVar[str] = ""
    reply_model: ClassVar[type[Contract] | None] = None
    #: a repeated request with the same Idempotency-Key gets the first answer, kept by the service;
    #: off for commands whose answer carries credentials (they are never stored)
    replayable: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "type_name" not in cls.__dict__:
            cls.type_name = cls.__name__


class Query(Contract):
    type_name: ClassVar[str] = ""
    service: ClassVar[str] = ""
    reply_model: ClassVar[type[Contract] | None] = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "type_name" not in cls.__dict__:
            cls.type_name = cls.__name__


@dataclass(frozen=True)
class ServiceContracts:
    """One service's part of the contracts: what it appends, what it is asked, what it answers."""

    service: str
    events: tuple[type[Event], ...] = ()
    commands: tuple[type[Command], ...] = ()
    queries: tuple[type[Query], ...] = ()
    replies: tuple[type[Contract], ...] = ()
    #: the event its answer to a member's request for their data is made of (libs/contracts/my_data.py);
    #: None: the service keeps nothing of any member
    member_data: type[Event] | None = None
