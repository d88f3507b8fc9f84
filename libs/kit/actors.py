"""Who is calling, as of now: every service resolves the actor of a request itself.

The gateway forwards the caller's token; the service verifies its signature
(libs/kit/auth.py) and looks the member up in a read model of its own,
``actors``, fed by onboarding's member events — so a demoted moderator or an
erased member loses their powers on their next request, not when their
token expires, and a token for a member who does not exist opens nothing.

Before answering, the resolver waits until that read model has applied the
member's last event (one direct get for the member's last sequence): a role
changed a moment ago is already the role used.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from libs.contracts.envelope import Actor
from libs.contracts.errors import Unavailable
from libs.contracts.onboarding import ACTOR_EVENTS, actor_facts, effective_roles
from libs.contracts.onboarding import SERVICE as ONBOARDING
from libs.contracts.subjects import event_subject, events_of
from libs.kit.eventstore import Recorded
from libs.kit.projection import View

ACTORS = "actors"
CONSUMER = "actors"

Resolver = Callable[[str], Awaitable[Actor | None]]


def register_actors(svc) -> Resolver:
    """Add the ``actors`` projection to ``svc`` and return the resolver that reads it."""

    @svc.projection(CONSUMER, [events_of(ONBOARDING, "member")], [ACTORS], types=ACTOR_EVENTS)
    async def when_member_event_update_actor(rec: Recorded, view: View) -> None:
        member_id = rec.envelope.aggregate_id
        facts = actor_facts(await view.get(ACTORS, member_id), rec.event)
        await view.put(ACTORS, member_id, {**facts, "member_id": member_id})

    async def resolve(member_id: str) -> Actor | None:
        last = await svc.events.last_seq_of(event_subject(ONBOARDING, "member", member_id))
        if last == 0:
            return None
        runner = next(r for r in svc.runners if r.c.name == CONSUMER)
        if not await runner.wait_caught_up(last, svc.settings.consistency_wait_s):
            raise Unavailable("service_unavailable")
        facts = await svc.store.get(ACTORS, member_id)
        if facts is None or not facts["exists"] or facts["erased"]:
            return None
        return Actor(id=member_id, roles=effective_roles(facts["member"], facts["privileges"]))

    return resolve
