"""Field types with the limits every input must keep (DESIGN.md §5: validated at the edge).

Each string and list that reaches a contract has a bound, and free text may
not carry characters that hide what it says: NUL and other control
characters, or bidirectional overrides and isolates that make a name read
differently on screen than it is stored.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

#: an id that goes into a subject or a key: no separators, no wildcards, no spaces
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
ID_RE = re.compile(ID_PATTERN)
#: a correlation id is a UUID, nothing else (free text would be copied into every envelope)
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
UUID_RE = re.compile(UUID_PATTERN)

_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROL_ONE_LINE = re.compile("[\x00-\x1f\x7f" + _BIDI + "]")
_CONTROL_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f" + _BIDI + "]")


def _clean(pattern: re.Pattern[str]):
    def check(value: str) -> str:
        if pattern.search(value):
            raise PydanticCustomError("forbidden_characters", "control or bidirectional-override characters")
        return value

    return check


#: the character rules of one line of text and of free text, for Annotated fields
ONE_LINE = AfterValidator(_clean(_CONTROL_ONE_LINE))
MULTI_LINE = AfterValidator(_clean(_CONTROL_MULTI_LINE))

#: the bounded text fields of the contracts (a type checker reads these; line()/text() build others)
Name = Annotated[str, StringConstraints(max_length=200), ONE_LINE]
Place = Annotated[str, StringConstraints(max_length=100), ONE_LINE]
ShortText = Annotated[str, StringConstraints(max_length=100), ONE_LINE]
RegisteredName = Annotated[str, StringConstraints(min_length=2, max_length=200), ONE_LINE]
Message = Annotated[str, StringConstraints(max_length=4000), MULTI_LINE]


def line(max_length: int, min_length: int = 0):
    """One line of text: a name, a city, a title."""
    return Annotated[
        str, StringConstraints(min_length=min_length, max_length=max_length), AfterValidator(_clean(_CONTROL_ONE_LINE))
    ]


def text(max_length: int, min_length: int = 0):
    """Free text that may span lines (a message, an 'about')."""
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length),
        AfterValidator(_clean(_CONTROL_MULTI_LINE)),
    ]


Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]

#: the longest cursor the read-model stores mint (libs/kit/docstore/query.py)
MAX_CURSOR = 4096
#: where a page of a list resumes: opaque to clients, URL-safe base64 without padding
Cursor = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CURSOR, pattern=r"^[A-Za-z0-9_-]+$")]
