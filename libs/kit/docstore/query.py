"""What a query may say, checked in one place for both adapters.

Both adapters compile the same parsed conditions, so a query SQLite accepts
MongoDB accepts too, and what one refuses the other refuses with the same
ValueError: a service developed on the embedded store does not break on the
cluster. See docs/adr/0004 for the semantics and why they were chosen.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# the longest cursor: the contracts admit what the stores mint, no more (libs/contracts/types.py)
from libs.contracts.types import MAX_CURSOR

#: the most values one ``$in`` may list (bounded input, docs/adr/0010)
MAX_IN = 1000
#: the longest prefix, in folded characters; MongoDB keeps this much of each folded string
MAX_PREFIX = 64
#: the top-level field MongoDB keeps folded copies in; no document or query may use it
RESERVED = "_fold"

RANGES = frozenset({"$gt", "$gte", "$lt", "$lte"})
OPERATORS = RANGES | {"$in"}
_INT64 = 2**63


def field_name(field: object) -> str:
    """A top-level field; dotted, quoted or ``$`` names are refused because
    MongoDB would read them as paths or operators, which SQLite could not follow."""
    if (
        not isinstance(field, str)
        or not field
        or "." in field
        or '"' in field
        or "\0" in field
        or field.startswith("$")
        or field == RESERVED
    ):
        raise ValueError(f"not a usable top-level field name: {field!r}")
    return field


@dataclass(frozen=True)
class Eq:
    field: str
    value: Any


@dataclass(frozen=True)
class In:
    field: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Range:
    field: str
    op: str  # one of RANGES
    bound: int | float | str


@dataclass(frozen=True)
class Prefix:
    field: str
    folded: str


Condition = Eq | In | Range | Prefix


def matches_missing(cond: Condition) -> bool:
    """As in MongoDB, null also matches a missing field."""
    if isinstance(cond, Eq):
        return cond.value is None
    if isinstance(cond, In):
        return any(v is None for v in cond.values)
    return False


def _plain(value: Any) -> Any:
    """A value to compare for equality: JSON, no ``$`` keys at any depth
    (MongoDB would read them as operators), finite, 64-bit."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if not -_INT64 <= value < _INT64:
            raise ValueError(f"integer out of the 64-bit range: {value}")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        return value
    if isinstance(value, list):
        for item in value:
            _plain(item)
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or key.startswith("$"):
                raise ValueError(f"operator or non-text key inside a value: {key!r}")
            _plain(item)
        return value
    raise TypeError(f"cannot match on a {type(value).__name__}")


def _bound(op: str, value: Any) -> int | float | str:
    """Ranges compare numbers with numbers and text with text (MongoDB's type
    brackets); other bounds would mean different things in the two stores."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{op} takes a number or a string, got {value!r}")
    _plain(value)
    return value


def _operators(field: str, ops: dict[str, Any]) -> list[Condition]:
    unknown = set(ops) - OPERATORS
    if unknown:
        raise ValueError(f"unsupported operator(s) on {field!r}: {sorted(unknown)}")
    found: list[Condition] = []
    for op, arg in ops.items():
        if op == "$in":
            if not isinstance(arg, list | tuple):
                raise ValueError(f"$in on {field!r} takes a list, got {type(arg).__name__}")
            if len(arg) > MAX_IN:
                raise ValueError(f"$in on {field!r} lists {len(arg)} values, at most {MAX_IN}")
            found.append(In(field, tuple(_plain(v) for v in arg)))
        else:
            found.append(Range(field, op, _bound(op, arg)))
    return found


def fold(text: str) -> str:
    """Case-insensitive form for prefix search: Unicode case folding (Cyrillic
    and Latin alike, ß as ss), composed (NFC, so a decomposed й stays й), and
    ё read as е, as Russian text is written both ways."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    return folded.replace("ё", "е")


def _prefix(field: str, text: Any) -> Prefix:
    if not isinstance(text, str):
        raise ValueError(f"prefix for {field!r} must be a string, got {type(text).__name__}")
    if not text:
        # "match everything" would hide a caller's bug; omit the condition instead
        raise ValueError(f"empty prefix for {field!r}")
    if "\0" in text:
        raise ValueError("a prefix must not contain NUL")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a prefix must be valid Unicode text") from None
    folded = fold(text)
    if len(folded) > MAX_PREFIX:
        raise ValueError(f"prefix for {field!r} longer than {MAX_PREFIX} characters")
    return Prefix(field, folded)


def conditions(where: Mapping[str, Any] | None, prefix: Mapping[str, str] | None = None) -> list[Condition]:
    """Parse ``where`` (equality, or a dict of operators) and ``prefix``."""
    found: list[Condition] = []
    for field, value in (where or {}).items():
        field_name(field)
        if isinstance(value, dict) and any(isinstance(k, str) and k.startswith("$") for k in value):
            if not all(isinstance(k, str) and k.startswith("$") for k in value):
                raise ValueError(f"operators mixed with fields in the value for {field!r}")
            found += _operators(field, value)
        else:
            found.append(Eq(field, _plain(value)))
    for field, text in (prefix or {}).items():
        found.append(_prefix(field_name(field), text))
    return found


def sort_spec(sort: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    spec: list[tuple[str, int]] = []
    for field, direction in sort:
        if isinstance(direction, bool) or direction not in (1, -1):
            raise ValueError(f"sort direction must be 1 or -1, got {direction!r}")
        if any(field == seen for seen, _ in spec):
            raise ValueError(f"sorted twice by {field!r}")
        spec.append((field_name(field), direction))
    return spec


def bracket(value: Any) -> int:
    """MongoDB's order across types (as far as JSON has them): null and
    missing, numbers, text, objects, lists, booleans."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, int | float):
        return 1
    if isinstance(value, str):
        return 2
    if isinstance(value, dict):
        return 3
    return 4


def shadows(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Folded copies of a document's text (strings, and the strings of a list),
    cut to MAX_PREFIX: enough to decide any allowed prefix, for MongoDB, whose
    regex cannot fold ё/е or Cyrillic case by itself."""
    out: dict[str, Any] = {}
    for field, value in doc.items():
        if not isinstance(field, str) or "." in field or field.startswith("$"):
            continue  # never queryable anyway
        if isinstance(value, str):
            out[field] = fold(value)[:MAX_PREFIX]
        elif isinstance(value, list):
            texts = [fold(v)[:MAX_PREFIX] for v in value if isinstance(v, str)]
            if texts:
                out[field] = texts
    return out


def check_document(doc: Mapping[str, Any]) -> None:
    if RESERVED in doc:
        raise ValueError(f"{RESERVED!r} is reserved by the document store")


# --- keyset cursors -----------------------------------------------------------


def _fingerprint(collection: str, sort: list[tuple[str, int]]) -> str:
    """Ties a cursor to its collection and sort: a position in one order means
    nothing in another."""
    raw = json.dumps([collection, sort], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _scalar(value: Any) -> bool:
    if value is None or isinstance(value, bool | str):
        return True
    if isinstance(value, int):
        return -_INT64 <= value < _INT64
    return isinstance(value, float) and math.isfinite(value)


def make_cursor(collection: str, sort: list[tuple[str, int]], doc: Mapping[str, Any], doc_id: str) -> str:
    """The position just after ``doc``: its sort values and id, so a page can be
    resumed whatever was inserted or deleted since."""
    keys = [doc.get(field) for field, _ in sort]
    for (field, _), key in zip(sort, keys, strict=True):
        if not _scalar(key):
            # MongoDB sorts a list by its least or greatest element and compares
            # it element-wise in queries: no keyset means the same in both stores
            raise ValueError(f"cannot page by {field!r}: it holds {type(key).__name__} {key!r:.40}")
    payload = json.dumps(
        {"q": _fingerprint(collection, sort), "k": keys, "id": doc_id},
        ensure_ascii=False, allow_nan=False, separators=(",", ":"),
    )
    token = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode("ascii")
    if len(token) > MAX_CURSOR:
        raise ValueError(f"sort values too long to page by (cursor over {MAX_CURSOR} characters)")
    return token


def _reject_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def read_cursor(collection: str, sort: list[tuple[str, int]], token: Any) -> tuple[list[Any], str]:
    """The sort values and id a cursor holds; anything else is refused. The
    values are bound as parameters, never spliced into a query."""
    if not isinstance(token, str) or not token or len(token) > MAX_CURSOR:
        raise ValueError("malformed cursor")
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, binascii.Error, RecursionError):
        raise ValueError("malformed cursor") from None
    if (
        type(data) is not dict
        or set(data) != {"q", "k", "id"}
        or type(data["k"]) is not list
        or type(data["id"]) is not str
    ):
        raise ValueError("malformed cursor")
    if data["q"] != _fingerprint(collection, sort):
        raise ValueError("cursor belongs to another collection or sort")
    keys = data["k"]
    if len(keys) != len(sort) or not all(_scalar(k) for k in keys):
        raise ValueError("malformed cursor")
    return keys, data["id"]
