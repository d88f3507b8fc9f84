"""What every service that keeps people's words in its read models does when one of them is erased.

The log holds those words sealed with the author's key (DESIGN.md §2); a read model holds them in the
clear. When onboarding erases a member (``MemberErased``, then the key is shredded), the service
appends its own "author erased" event to its own stream — only once the key is gone, so that nothing
read after it opens — and its projections scrub the author's words when they apply it, in log order, so
a rebuild writes what the live run wrote. The projection that applies an event whose type ``erases``
also scrubs the store's files (libs/kit/consumers.py).

Event ids of the reaction are derived from the causing event: a redelivered cause appends the very
same events, which the log stores once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from libs.contracts.onboarding import SERVICE as ONBOARDING
from libs.contracts.onboarding import MemberErased
from libs.contracts.subjects import events_of
from libs.kit.authors import ForgetAuthor
from libs.kit.decider import Decider
from libs.kit.eventstore import Meta, Recorded


class NotYet(RuntimeError):
    """What a policy waits for (its read model to reach the event, an erased member's key to be gone) has
    not happened yet: a passing cause, retried (never skipped) until it has."""


async def view_at(svc: Any, view: str, rec: Recorded) -> None:
    """Wait (bounded) until ``svc``'s read model ``view`` has applied ``rec``; else NotYet (retried): a policy
    that reads its read model sees everything up to the event it reacts to."""
    await consumer_at(svc, view, rec.seq, rec.subject, kind="projection")


async def consumer_at(svc: Any, name: str, seq: int, subject: str | None = None, kind: str | None = None) -> None:
    """Wait (bounded) until ``svc``'s consumer ``name`` has seen ``seq``; else NotYet (retried). For a policy
    that counts what another of its service's policies appends (which may run behind it after a restart)."""
    for runner in svc.runners:
        if runner.c.name == name and kind in (None, runner.c.kind):
            if not await runner.wait_caught_up(seq, svc.settings.consistency_wait_s, subject):
                raise NotYet(f"the {name} consumer has not reached {seq} yet")


def caused_ids(rec: Recorded, step: str) -> Callable[[int], list[uuid.UUID]]:
    """Event ids for what ``rec`` causes at ``step``: the same on every redelivery. Two services reacting to
    one event must not share a step: the log would take the second's events for the first's, redelivered,
    and drop them (JetStream's de-duplication by message id) — a step names its service."""
    return lambda n: [uuid.uuid5(rec.envelope.event_id, f"{step}:{i}") for i in range(n)]


def caused_meta(rec: Recorded) -> Meta:
    return Meta(actor="system", correlation_id=rec.envelope.correlation_id, causation_id=str(rec.envelope.event_id))


async def until_shredded(svc: Any, member_id: str) -> None:
    """The erasure records ``MemberErased``, then shreds: a moment's wait, and only then a stall (retried)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + svc.settings.consistency_wait_s
    while not await svc.vault.is_shredded(member_id):
        if loop.time() > deadline:
            raise NotYet(f"the key of {member_id} is not shredded yet")
        await asyncio.sleep(0.05)


def forget_erased_authors(svc: Any, author: Decider) -> None:
    """Register the policy that appends ``author``'s event for every erased member."""

    # only appends, and may wait a moment for the shred: outside the store's transaction, so the
    # projections go on writing meanwhile
    @svc.policy("erased_authors", [events_of(ONBOARDING, "member")], waits_for_views=True, types=(MemberErased,))
    async def when_member_erased_forget_their_words(rec: Recorded) -> None:
        e = rec.event
        if not isinstance(e, MemberErased):
            return
        await until_shredded(svc, e.member_id)
        # groups, the first to forget, keeps the step it has always used
        step = "forget" if author.service == "groups" else f"{author.service}:forget"
        await svc.decide(author, e.member_id, ForgetAuthor(e.member_id), caused_meta(rec), caused_ids(rec, step))
