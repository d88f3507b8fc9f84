"""Signed unsubscribe links: ``<member>.<kind>.<signature>``, an HMAC of the member and the kind with the
service's secret. The link works without signing in (a reader of the e-mail is its addressee), turns off
that one kind for that one member, and cannot be forged for another member or kind; it never expires,
as a link in an old e-mail is expected to keep working (RFC 8058)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import cast

from libs.contracts.errors import DomainError
from libs.contracts.notifications import KINDS, Kind
from libs.contracts.types import ID_RE


class LinkInvalid(DomainError):
    kind = "validation"


def _signature(secret: str, member_id: str, kind: str) -> str:
    mac = hmac.new(secret.encode(), f"unsubscribe:{member_id}:{kind}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def unsubscribe_token(secret: str, member_id: str, kind: str) -> str:
    return f"{member_id}.{kind}.{_signature(secret, member_id, kind)}"


def read_token(secret: str, token: str) -> tuple[str, Kind]:
    """(member, kind) of a genuine token; else ``unsubscribe_link_invalid``."""
    member_id, _, rest = token.partition(".")
    kind, _, signature = rest.partition(".")
    if not (ID_RE.match(member_id) and kind in KINDS and signature):
        raise LinkInvalid("unsubscribe_link_invalid")
    if not hmac.compare_digest(signature, _signature(secret, member_id, kind)):
        raise LinkInvalid("unsubscribe_link_invalid")
    return member_id, cast(Kind, kind)
