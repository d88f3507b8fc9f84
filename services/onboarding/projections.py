"""Read models of onboarding: members (with the moderation queue), the Colleagues directory, the
decisions taken on each member, and invitations.

The runner stamps each document with the sequence of the event that wrote it
and skips a redelivered one (libs/kit/projection.py).
"""

from __future__ import annotations

from libs.contracts.base import Event
from libs.contracts.onboarding import (
    SEARCHED_FIELDS,
    AccessDeclined,
    AccessGranted,
    AccessRevoked,
    ChangesRequested,
    InvitationIssued,
    InvitationRevoked,
    InvitationUsed,
    MemberErased,
    Profile,
    privileges_of,
)
from libs.contracts.subjects import events_of
from libs.kit.docstore.query import fold
from libs.kit.docstore.search import words
from libs.kit.eventstore import Recorded
from libs.kit.projection import View
from libs.kit.service import Service
from services.onboarding import domain

MEMBERS = "members"
#: the Main group's members as their colleagues see them: only the fields each one shows
DIRECTORY = "directory"
DECISIONS = "decisions"
INVITATIONS = "invitations"
#: 2: members carry their visibility and the words of their name, and the directory is written with them
MEMBERS_VERSION = 2


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
        visible=tuple(doc["visible"]) if doc.get("visible") is not None else None,
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
        "visible": list(state.visible) if state.visible is not None else None,
        "visible_fields": list(state.visible_fields),
        # what the moderators' member list is searched by
        "name_words": words(state.profile.full_name),
        "registered_at": old["registered_at"] if old else rec.envelope.occurred_at.isoformat(),
        "queued_at": (old["queued_at"] if was_queued else rec.envelope.occurred_at.isoformat())
        if status == "pending_review"
        else None,
        "updated_at": rec.envelope.occurred_at.isoformat(),
    }


def _directory_doc(member_id: str, state: domain.Member) -> dict:
    """The card colleagues see, and the words they find it by: the name and the fields the member
    shows, nothing else. A hidden field is never written here, so no search can match on it and no
    answer can carry it."""
    profile = state.profile
    shown = [f for f in state.visible_fields if getattr(profile, f) not in (None, "", ())]
    name = profile.full_name or ""  # a member who cleared their name is listed nameless, not hidden
    searched = [getattr(profile, f) for f in SEARCHED_FIELDS if f in shown]
    texts = [name, *(t for v in searched for t in (v if isinstance(v, tuple) else (v,)))]
    return {
        "member_id": member_id,
        "full_name": name,
        **profile.model_dump(mode="json", include=set(shown)),
        "sort_name": fold(name),
        "search": words(*texts),
    }


def _decision_of(event: Event) -> tuple[str, str, str | None] | None:
    """(decision, decided_by, message) of a moderator's decision; None for any other event."""
    match event:
        case AccessGranted():
            return "grant", event.decided_by, None
        case ChangesRequested():
            return "request_changes", event.decided_by, event.message
        case AccessDeclined():
            return "decline", event.decided_by, event.reason
        case AccessRevoked():
            return "revoke", event.decided_by, event.reason
    return None


def register_projections(svc: Service) -> None:
    @svc.projection("members", [events_of("onboarding", "member")], [MEMBERS, DIRECTORY], version=MEMBERS_VERSION)
    async def when_member_event_update_member_view_and_directory(rec: Recorded, view: View) -> None:
        member_id = rec.envelope.aggregate_id
        old = await view.get(MEMBERS, member_id)
        if isinstance(rec.event, MemberErased):
            # a tombstone without a trace of the person
            await view.put(MEMBERS, member_id, {"member_id": member_id, "status": "erased", "roles": [],
                                                "queued_at": None})
            await view.delete(DIRECTORY, member_id)
            return
        if old is not None and old["status"] == "erased":
            return
        state = domain.evolve_member(_state_of(old), rec.event)
        await view.put(MEMBERS, member_id, _doc_of(member_id, state, old, rec))
        # in the directory while in the Main group: declined, revoked (or never granted) is out of it
        if state.status == "member":
            await view.put(DIRECTORY, member_id, _directory_doc(member_id, state))
        else:
            await view.delete(DIRECTORY, member_id)

    @svc.projection("decisions", [events_of("onboarding", "member")], [DECISIONS],
                    types=(AccessGranted, ChangesRequested, AccessDeclined, AccessRevoked, MemberErased))
    async def when_a_moderator_decides_record_the_decision(rec: Recorded, view: View) -> None:
        """One document per decision. The messages are the member's personal data: their erasure
        takes every decision on them away (a moderator's erasure leaves the decisions, which then name
        nobody: the name is looked up when read)."""
        member_id = rec.envelope.aggregate_id
        if isinstance(rec.event, MemberErased):
            for doc in await view.find(DECISIONS, {"member_id": member_id}):
                await view.delete(DECISIONS, doc["decision_id"])
            return
        decided = _decision_of(rec.event)
        if decided is None:
            return
        decision, decided_by, message = decided
        decision_id = f"{member_id}:{rec.seq}"
        await view.put(DECISIONS, decision_id, {
            "decision_id": decision_id,
            "member_id": member_id,
            "decision": decision,
            "decided_by": decided_by,
            "message": message,
            "at": rec.envelope.occurred_at.isoformat(),
            "seq": rec.seq,
        })

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
