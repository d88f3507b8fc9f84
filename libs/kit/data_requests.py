"""What every service that keeps a member's data does when the member asks for it (docs/adr/0024): its
policy hears onboarding's ``MemberDataRequested``, waits until its read models have applied everything
before the request, collects the member's things from them and appends its part (its own event, sealed
with the member's key) on its ``member_data`` aggregate. Onboarding's projection sees the parts arrive.

Each service says only what its part holds (``collect``); the waiting, the chunking and the appending are
here, the same for all. A redelivered request appends nothing new: the event ids derive from the request
and the decider answers each request once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from libs.contracts.my_data import DATA_AGGREGATE
from libs.contracts.onboarding import SERVICE as ONBOARDING
from libs.contracts.onboarding import MemberDataRequested
from libs.contracts.subjects import events_of
from libs.kit.data_parts import AnswerRequest
from libs.kit.decider import Decider
from libs.kit.erasure import NotYet, caused_ids, caused_meta
from libs.kit.eventstore import Recorded

Collect = Callable[[str], Awaitable[dict[str, Any]]]


async def views_at(svc: Any, rec: Recorded) -> None:
    """Every projection of ``svc`` has applied everything up to ``rec`` (else NotYet, retried): the part
    holds what the member did before they asked."""
    for runner in svc.runners:
        if runner.c.kind == "projection" and not await runner.wait_caught_up(
                rec.seq, svc.settings.consistency_wait_s, rec.subject):
            raise NotYet(f"the {runner.c.name} read model has not reached {rec.seq} yet")


def answer_data_requests(svc: Any, parts: Decider, collect: Collect) -> None:
    """Register the policy that answers every ``MemberDataRequested`` with ``collect(member_id)``, appended
    through ``parts`` (libs/kit/data_parts.py ``part_decider``, or a decider that takes its command too)."""

    # only appends, and waits for this service's projections: outside the store's transaction
    @svc.policy("data_requests", [events_of(ONBOARDING, DATA_AGGREGATE)], waits_for_views=True)
    async def when_a_member_asks_for_their_data_answer_with_our_part(rec: Recorded) -> None:
        e = rec.event
        if not isinstance(e, MemberDataRequested):
            return
        if await svc.vault.is_shredded(e.member_id):
            return  # erased since they asked: nothing of them is kept, nothing is sealed for them any more
        await views_at(svc, rec)
        data = await collect(e.member_id)
        await svc.decide(parts, e.member_id, AnswerRequest(e.request_id, e.member_id, data), caused_meta(rec),
                         caused_ids(rec, f"{svc.name}:data"))
