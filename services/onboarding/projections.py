"""Read models of onboarding: members (with the moderation queue) and invitations.

The runner stamps each document with the sequence of the event that wrote it
and skips a redelivered one (libs/kit/projection.py).
"""

from __future__ import annotations

from libs.contracts.onboarding import (
    InvitationIssued,
    InvitationRevoked,
    InvitationUsed,
    MemberErased,
    Profile,
    privileges_of,
)
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Recorded
from libs.kit.projection import View
from libs.kit.service import Service
from services.onboarding import domain

MEMBERS = "members"
INVITATIONS = "invitations"


def _state_of(doc: dict | None) -> domain.Member:
    if doc is None:
        return domain.Member()
    return domain.Member(
        exists=True,
        privileges=tuple(doc["privileges"]) if "privileges" in doc else privileges_of(doc["roles"]),
        consent=doc["consent"],
        rules=doc["rules_acknowledged"],
        profile=Profile(**doc["profile"]),
        decision=doc["decision"],
        resubmitted=doc["resubmitted"],
        moderator_message=doc["moderator_message"],
    )


def _doc_of(member_id: str, state: domain.Member, old: dict | None, rec: Recorded) -> dict:
    status = state.status
    was_queued = old is not None and old["status"] == "pending_review"
    return {
        "member_id": member_id,
        "status": status,
        "roles": list(state.roles),
        "privileges": list(state.privileges),
        "consent": state.consent,
        "rules_acknowledged": state.rules,
        "profile": state.profile.model_dump(mode="json"),
        "missing": state.profile.missing(),
        "decision": state.decision,
        "resubmitted": state.resubmitted,
        "moderator_message": state.moderator_message,
        "registered_at": old["registered_at"] if old else rec.envelope.occurred_at.isoformat(),
        "queued_at": (old["queued_at"] if was_queued else rec.envelope.occurred_at.isoformat())
        if status == "pending_review"
        else None,
        "updated_at": rec.envelope.occurred_at.isoformat(),
    }


def register_projections(svc: Service) -> None:
    @svc.projection("members", [events_of("onboarding", "member")], [MEMBERS])
    async def when_member_event_update_member_view(rec: Recorded, view: View) -> None:
        member_id = rec.envelope.aggregate_id
        old = await view.get(MEMBERS, member_id)
        if isinstance(rec.event, MemberErased):
            # a tombstone without a trace of the person
            await view.put(MEMBERS, member_id, {"member_id": member_id, "status": "erased", "roles": [],
                                                "queued_at": None})
            return
        if old is not None and old["status"] == "erased":
            return
        state = domain.evolve_member(_state_of(old), rec.event)
        await view.put(MEMBERS, member_id, _doc_of(member_id, state, old, rec))

    @svc.projection("invitations", [events_of("onboarding", "invitation")], [INVITATIONS])
    async def when_invitation_event_update_invitation_view(rec: Recorded, view: View) -> None:
        token = rec.envelope.aggregate_id
        doc = await view.get(INVITATIONS, token)
        e = rec.event
        match e:
            case InvitationIssued():
                doc = {
                    "token": token,
                    "max_uses": e.max_uses,
                    "uses": 0,
                    "expires_at": e.expires_at.isoformat(),
                    "revoked": False,
                    "issued_by": e.issued_by,
                    "issued_at": rec.envelope.occurred_at.isoformat(),
                }
            case InvitationUsed():
                doc = {**doc, "uses": doc["uses"] + 1}
            case InvitationRevoked():
                doc = {**doc, "revoked": True, "revoked_at": rec.envelope.occurred_at.isoformat()}
            case _:
                return
        await view.put(INVITATIONS, token, doc)
