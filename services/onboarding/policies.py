"""Onboarding's reactions to its own events."""

from __future__ import annotations

from libs.contracts.onboarding import MemberErased
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Recorded
from libs.kit.service import Service
from services.onboarding import handlers as h


def register_policies(svc: Service, deps: h.Deps) -> None:
    @svc.policy("erasures", [events_of("onboarding", "member")], types=(MemberErased,))
    async def when_member_erased_finish_the_erasure(rec: Recorded) -> None:
        """The erasure command shreds right after recording MemberErased; if its process died in
        between, this finishes the job (both steps are safe to repeat)."""
        if isinstance(rec.event, MemberErased):
            await h.finish_erasure(deps, rec.event.member_id)
