"""nats-py's reading of a message's headers, with the same answers in half the time.

Every message of ours carries five or six headers (the event's id, type, schema version and
correlation, the trace context), and every process reads them on every delivery — a profile
save reaches 18 consumers. nats-py 2.16 (without the optional ``fast_mail_parser``) reads each
header name with ``any(c.isspace() for c in key)``, a generator per header: 6.5 µs a block of six
headers against 2.9 µs here, and in a rebuild of the members projection its reading of headers was
a tenth of the onboarding process's samples (docs/adr/0034).

The rules are nats-py's, line for line: lines split on CRLF, empty and colon-less lines skipped,
the name stripped of ASCII whitespace and decoded as ASCII (else the line is skipped), a name
with whitespace anywhere skipped, the value stripped and decoded as UTF-8 with replacement, the
last of a repeated name kept. Only the whitespace test differs in form: one compiled ``\\s``
search, which for a str pattern matches what ``str.isspace`` does (tests/kit/test_natsheaders.py
compares both on every ASCII character and on random and hostile blocks).
"""

from __future__ import annotations

import re

from nats.aio.client import Client

#: nats-py's own, kept to compare against and to put back
NATS_PY_PARSE = Client.__dict__["_parse_header_lines"]

_WHITESPACE = re.compile(r"\s")


def parse_header_lines(raw: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in raw.split(b"\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        try:
            key = name.strip().decode("ascii")
        except UnicodeDecodeError:
            continue
        if _WHITESPACE.search(key):
            continue
        out[key] = value.strip().decode("utf-8", "replace")
    return out


def read_headers_faster() -> None:
    """Every nats-py client of this process (FastStream's included) reads headers with
    ``parse_header_lines``. Called by the bootstraps, never at import. Should nats-py stop
    reading them through this static method, nothing changes (and the test comparing the two says so)."""
    if isinstance(NATS_PY_PARSE, staticmethod):
        Client._parse_header_lines = staticmethod(parse_header_lines)  # type: ignore[method-assign]
