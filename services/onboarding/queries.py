"""Read handlers over onboarding's own read models."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.contracts.errors import Forbidden, NotFound
from libs.contracts.onboarding import (
    GetMember,
    InvitationList,
    InvitationView,
    ListInvitations,
    MemberView,
    ModerationQueue,
    Queue,
)
from libs.kit.rpc import Context
from libs.kit.service import Service
from services.onboarding.projections import INVITATIONS, MEMBERS

MEMBER_FIELDS = frozenset(MemberView.model_fields)
INVITATION_FIELDS = frozenset(InvitationView.model_fields)


def member_view(doc: dict) -> MemberView:
    return MemberView.model_validate({k: v for k, v in doc.items() if k in MEMBER_FIELDS})


def register_queries(svc: Service) -> None:
    @svc.query(GetMember, reads=["members"])
    async def get_member(q: GetMember, ctx: Context) -> MemberView:
        if q.member_id != ctx.actor.id and not ctx.actor.is_moderator:
            raise Forbidden("not_your_profile")
        doc = await svc.store.get(MEMBERS, q.member_id)
        if doc is None or doc["status"] == "erased":
            raise NotFound("member_not_found")
        return member_view(doc)

    @svc.query(ModerationQueue, reads=["members"])
    async def moderation_queue(q: ModerationQueue, ctx: Context) -> Queue:
        if not ctx.actor.is_moderator:
            raise Forbidden("moderator_only")
        docs = await svc.store.find(MEMBERS, {"status": "pending_review"}, sort=[("queued_at", 1)], limit=q.limit)
        total = await svc.store.count(MEMBERS, {"status": "pending_review"})
        return Queue(items=tuple(member_view(d) for d in docs), total=total)

    @svc.query(ListInvitations, reads=["invitations"])
    async def list_invitations(q: ListInvitations, ctx: Context) -> InvitationList:
        if not ctx.actor.is_moderator:
            raise Forbidden("moderator_only")
        now = datetime.now(UTC).isoformat()
        items = []
        for d in await svc.store.find(INVITATIONS, sort=[("issued_at", -1)], limit=1000):
            active = not d["revoked"] and d["uses"] < d["max_uses"] and d["expires_at"] > now
            if active or q.include_inactive:
                items.append(InvitationView.model_validate(
                    {**{k: v for k, v in d.items() if k in INVITATION_FIELDS}, "active": active}))
        return InvitationList(items=tuple(items))
