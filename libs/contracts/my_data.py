"""A member's own data (152-FZ art. 14, GDPR art. 15 and 20; docs/adr/0024): what every service that keeps a
member's data answers a request for it with.

The member asks onboarding (``RequestMyData``: it owns consent and the person); onboarding appends
``MemberDataRequested``; each such service's policy answers with its own event, a subclass of
``MemberDataCollected`` declared in its contracts (``ServiceContracts.member_data``), on its own aggregate
``member_data`` (``hr.evt.<service>.member_data.<member_id>``). The part is JSON, sealed with the member's
key like every personal field: an erasure shreds the key and every part with it, in the log and in every
rebuild. A part larger than one message is split in ``chunks`` appended as one decision.
"""

from __future__ import annotations

from typing import ClassVar

from libs.contracts.base import Event

#: the aggregate every service answers on (and onboarding asks on): hr.evt.<service>.member_data.<member_id>
DATA_AGGREGATE = "member_data"
#: what one chunk of a part holds at most, in UTF-8 bytes of its JSON: escaped again (at worst twice as long),
#: sealed (base64) and in its envelope it stays under what one event may weigh (64 KiB, MAX_EVENT_BYTES)
CHUNK_BYTES = 20 * 1024
#: the most chunks one answer is appended in (one atomic batch, which JetStream bounds): some 10 MB of JSON.
#: A larger part is answered with what it would have weighed instead (``too_large``), never by a consumer
#: stalled on an append that can never succeed
MAX_CHUNKS = 500


class MemberDataCollected(Event):
    """One chunk of one service's part of a member's data, in answer to one request. Not appended as
    such: each service appends its own subclass (its type name is the service's), so that an event type
    names its service across the platform."""

    pii_fields: ClassVar[frozenset[str]] = frozenset({"data"})
    request_id: str
    member_id: str
    chunk: int = 0
    chunks: int = 1
    #: a piece of the part's JSON text (the pieces joined in ``chunk`` order are the part); None once the
    #: member's key is shredded
    data: str | None = None
